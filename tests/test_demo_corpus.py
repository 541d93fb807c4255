"""The flite demo corpus recipe: sentences, flite calls, and a tiny corpus rendered end to end."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from frontend.g2p import FUNCTION_WORDS
from frontend.lexicon import cmudict
from frontend.phonemes import ARPABET, VOWELS, split_stress
from recipes.demo.flite import (FliteError, at_tempo, parse_flite_args, render,
                                render_with_phone_times)
from recipes.demo.make_corpus import (
    DEFAULT_SENTENCES_PER_SPEAKER,
    DEFAULT_SPEAKERS,
    SHARED_EVERY,
    SPEAKER_INFO_HEADER,
    SPEAKERS,
    CorpusError,
    main,
    make_corpus,
    parse_speaker_info_line,
    plan_utterances,
)
from recipes.demo.sentences import (
    HARVARD_SENTENCES,
    HELDOUT_EVERYDAY,
    MAX_WORDS,
    MIN_WORDS,
    content_syllable_shares,
    count_words,
    heldout_sentences,
    lexical_sentences,
    lexical_word_pool,
    phoneme_stats,
    short_sentences,
    training_sentences,
    training_vocabulary,
    varied_sentences,
    varied_vocabulary,
    words_of,
)
from recipes.demo import sentences as sentence_lists

# Genders of the first VCTK 0.92 speakers, from VCTK's speaker-info.txt (p235 and p242 do not
# exist in VCTK).
VCTK_GENDERS = {
    "p225": "F", "p226": "M", "p227": "M", "p228": "F", "p229": "F", "p230": "F", "p231": "F",
    "p232": "M", "p233": "F", "p234": "F", "p236": "F", "p237": "M", "p238": "F", "p239": "F",
    "p240": "F", "p241": "M", "p243": "M", "p244": "F", "p245": "M",
}


def _median_f0(audio: np.ndarray, sample_rate: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyworld imports the deprecated pkg_resources
        import pyworld
    x = audio.astype(np.float64)
    f0, times = pyworld.dio(x, sample_rate, f0_floor=60, f0_ceil=450)
    f0 = pyworld.stonemask(x, f0, times, sample_rate)
    return float(np.median(f0[f0 > 0]))


def _snapshot(corpus: Path) -> dict[str, int]:
    return {str(p.relative_to(corpus)): p.stat().st_mtime_ns for p in corpus.rglob("*")
            if p.is_file()}


# ----------------------------------------------------------------------------- sentences


@pytest.fixture(scope="module")
def training() -> list[str]:
    return training_sentences(6000)


def test_training_sentences_are_many_distinct_and_of_the_right_length(training):
    assert len(set(training)) == len(training) == 6000
    lengths = [count_words(s) for s in training]
    assert min(lengths) >= MIN_WORDS and max(lengths) <= MAX_WORDS
    # a spread of lengths, not one template length
    assert min(lengths) <= 6 and max(lengths) >= 18


def test_training_sentences_are_deterministic_and_prefix_stable(training):
    assert training_sentences(300) == training[:300]
    assert training_sentences(300, seed=1) != training[:300]


def test_training_sentences_cover_every_phoneme_many_times(training):
    counts, words_with, contexts, _ = phoneme_stats(training[:1000])
    for phone in ARPABET:
        assert counts[phone] >= 100, f"{phone} occurs only {counts[phone]} times"
        assert len(words_with[phone]) >= 10, f"{phone} occurs in {len(words_with[phone])} words"
        assert len(contexts[phone]) >= 15, f"{phone} has {len(contexts[phone])} contexts"


def test_training_sentences_have_numbers_names_and_punctuation(training):
    sample = training[:1000]

    def share(pattern: str) -> float:
        return sum(bool(re.search(pattern, s)) for s in sample) / len(sample)

    assert share(r"\d") > 0.1  # numbers, years, times
    assert share(r"\$\d") > 0.02  # prices
    assert share(r"\d+(st|nd|rd|th)\b") > 0.01  # dates
    assert share(r"\?$") > 0.1 and share(r"!$") > 0.05
    assert share(r",") > 0.15
    assert share(r"\b(Dr|Mr|Mrs)\. [A-Z]") > 0.01
    assert all(s[0].isupper() and s[-1] in ".?!" for s in sample)


def test_heldout_sentences_are_plain_and_disjoint_from_training(training):
    heldout = heldout_sentences()
    assert len(heldout) == len(set(heldout)) >= 100
    assert not set(heldout) & set(training_sentences(20000))
    vocabulary = training_vocabulary()
    lexicon = cmudict()
    for sentence in heldout:
        assert MIN_WORDS <= count_words(sentence) <= MAX_WORDS
        assert re.fullmatch(r"[A-Z][a-z ]+\.", sentence), sentence  # no digits, abbreviations
        words = words_of(sentence)
        assert all(w in lexicon for w in words), sentence
        # a word that no training sentence can contain: the sets can never overlap
        assert set(words) - vocabulary, sentence


def test_everyday_heldout_sentences_are_plain_and_disjoint_from_training():
    everyday = heldout_sentences(len(HELDOUT_EVERYDAY), sentence_set="everyday")
    assert len(everyday) == len(set(everyday)) >= 40
    assert heldout_sentences(3, seed=7, sentence_set="everyday") == everyday[:3]  # a fixed list
    assert not set(everyday) & set(training_sentences(20000))
    assert not set(everyday) & set(heldout_sentences())
    lexicon = cmudict()
    for sentence in everyday:
        assert MIN_WORDS <= count_words(sentence) <= MAX_WORDS
        assert re.fullmatch(r"[A-Z][A-Za-z' ]+[.?]", sentence), sentence  # no digits, abbreviations
        assert all(w in lexicon for w in words_of(sentence)), sentence
    for count, kind, message in ((0, "everyday", "has 40 sentences"),
                                 (41, "everyday", "1 to 40"),
                                 (3, "poems", "unknown sentence set 'poems'")):
        with pytest.raises(ValueError, match=message):
            heldout_sentences(count, sentence_set=kind)


def test_training_vocabulary_covers_what_the_generator_writes(training):
    used = {w for s in training for w in words_of(s)}
    assert used <= training_vocabulary()


# ----------------------------------------------------------------------------- varied set


@pytest.fixture(scope="module")
def varied() -> list[str]:
    return varied_sentences(5000)


def test_varied_sentences_are_many_distinct_deterministic_and_prefix_stable(varied):
    assert len(set(varied)) == len(varied) == 5000
    assert varied_sentences(300) == varied[:300]
    assert varied_sentences(301)[:300] == varied[:300]
    assert varied_sentences(300, seed=1) != varied[:300]
    lengths = [count_words(s) for s in varied]
    assert min(lengths) == MIN_WORDS and max(lengths) == MAX_WORDS
    assert all(s[0].isupper() and s[-1] in ".?!" for s in varied)
    with pytest.raises(ValueError, match="count must be >= 0"):
        varied_sentences(-1)


def test_varied_sentences_have_other_rhythms_than_the_templates(varied):
    def share(pattern: str) -> float:
        return sum(bool(re.search(pattern, s)) for s in varied) / len(varied)

    assert share(r"\?$") > 0.1 and share(r"!$") > 0.03 and share(r",") > 0.25
    assert share(r"\d") == 0  # numbers are the templates' job
    assert share(r"^(When|Because|Although|Before|After|Until|While|If|Since|Unless) ") > 0.05
    used = {w for s in varied for w in words_of(s)}
    assert len(used) >= 1000 and used <= varied_vocabulary()
    assert len(used - training_vocabulary()) >= 800  # mostly words the templates never say
    finals = {words_of(s)[-1] for s in varied}
    for kind in (sentence_lists.V_ADVERBS, sentence_lists.V_ADJECTIVES,
                 [plural for _, plural in sentence_lists.V_THINGS], ["them", "it", "her"],
                 sentence_lists.V_PARTICLE_ENDINGS, [past for _, past, _ in
                                                     sentence_lists.V_INTRANSITIVE]):
        assert len(finals & set(kind)) >= min(3, len(kind)), kind


def test_varied_words_are_all_in_cmudict():
    lexicon = cmudict()
    missing = sorted(w for w in varied_vocabulary()
                     if sentence_lists._pronounce(w, lexicon) is None)
    assert not missing
    counts, _, _, unknown = phoneme_stats(varied_sentences(500))
    assert not unknown and all(counts[phone] > 0 for phone in ARPABET)


def test_varied_sentences_never_are_heldout_or_harvard_sentences(varied):
    everything = set(varied_sentences(20000))
    assert not everything & set(HELDOUT_EVERYDAY)
    assert not everything & set(heldout_sentences())
    assert not everything & set(HARVARD_SENTENCES)
    assert not everything & set(training_sentences(6000))
    # nor a content word that only the held-out templates have
    heldout_words = {w for name in dir(sentence_lists) if name.startswith("HELDOUT_")
                     and name != "HELDOUT_EVERYDAY" and name != "HELDOUT_TEMPLATES"
                     for entry in getattr(sentence_lists, name)
                     for w in words_of(str(entry))}
    assert not (heldout_words - training_vocabulary()) & varied_vocabulary()


def test_lexical_sentences_keep_the_phrasing_and_change_the_words(varied):
    lexical = lexical_sentences(300)
    assert lexical == lexical_sentences(301)[:300] and lexical != lexical_sentences(300, seed=1)
    pool = {w for words in lexical_word_pool().values() for w in words}
    assert len(pool) > 3000
    lexicon = cmudict()
    swapped = 0
    for old, new in zip(varied[:300], lexical):
        assert re.sub(r"[A-Za-z']+", "w", old) == re.sub(r"[A-Za-z']+", "w", new)  # punctuation
        for a, b in zip(words_of(old), words_of(new)):
            if a in FUNCTION_WORDS:
                assert a == b
            elif a != b:
                swapped += 1
                assert b in pool and len(lexicon[b]) == 1
                syllables = [sum(split_stress(p)[1] is not None for p in lexicon[w][0])
                             for w in (a, b)]
                assert syllables[0] == syllables[1]
    assert swapped > 1000
    held_out = {w for text in (*HARVARD_SENTENCES, *HELDOUT_EVERYDAY, *heldout_sentences())
                for w in words_of(text)}
    assert not pool & held_out
    with pytest.raises(ValueError, match="count must be >= 0"):
        lexical_sentences(-1)


def test_short_sentences_have_the_rhythm_of_plain_text():
    short = short_sentences(1000)
    assert short == short_sentences(1001)[:1000] and short[:50] != short_sentences(50, seed=1)
    assert len(set(short)) == len(short)
    assert not set(short) & (set(HARVARD_SENTENCES) | set(HELDOUT_EVERYDAY)
                             | set(heldout_sentences()) | set(varied_sentences(2000)))
    pool = {w for words in lexical_word_pool().values() for w in words}
    lexicon = cmudict()
    skeleton = {w for name in dir(sentence_lists) if name.startswith("_S_")
                for w in getattr(sentence_lists, name)} | {"an", "to"}
    syllables = []
    for sentence in short:
        assert 4 <= count_words(sentence) <= 12 and sentence[0].isupper()
        assert sentence[-1] in ".?!"
        words = words_of(sentence)
        for article, following in zip(words, words[1:]):
            if article in ("a", "an"):  # by the sound: "an ox", "a unit"
                vowel = split_stress(lexicon[following][0][0])[0] in VOWELS
                assert article == ("an" if vowel else "a"), sentence
        for word in words:
            if word not in skeleton:
                assert word in pool, (word, sentence)
                syllables.append(sum(split_stress(p)[1] is not None for p in lexicon[word][0]))
    # what the set is for: three content words in four of one syllable, as in plain text
    one = syllables.count(1) / len(syllables)
    assert 0.7 <= one <= 0.8 and syllables.count(2) > syllables.count(3) > 0
    share = lambda pattern: sum(bool(re.search(pattern, s)) for s in short) / len(short)  # noqa
    assert share(r"\?$") > 0.15 and share(r"!$") > 0 and share(",") > 0.03
    with pytest.raises(ValueError, match="count must be >= 0"):
        short_sentences(-1)
    # ... which the shares say of each set: plain text's rhythm, not the varied set's
    harvard = content_syllable_shares(HARVARD_SENTENCES)
    assert harvard[1] > 0.75 and content_syllable_shares(short)[1] > 0.7
    assert content_syllable_shares(varied_sentences(500))[1] < 0.3
    assert sum(harvard.values()) == pytest.approx(1.0)


def test_sentences_command_prints_a_sets_rhythm(capsys):
    assert sentence_lists.main(["--set", "harvard", "--stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(HARVARD_SENTENCES)} sentences")
    share = round(100 * content_syllable_shares(HARVARD_SENTENCES)[1])
    assert f"content words of 1 / 2 / 3 / 4+ syllables: {share}%" in out
    assert sentence_lists.main(["--set", "short", "--count", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == short_sentences(3)
    assert sentence_lists.main(["--set", "templates", "--count", "-1"]) == 2
    assert "count must be >= 0" in capsys.readouterr().err


# ----------------------------------------------------------------------------- plan / speakers


def test_speaker_table_follows_vctk_ids_and_genders():
    ids = [s.speaker_id for s in SPEAKERS]
    assert ids == list(VCTK_GENDERS)  # consecutive existing VCTK ids from p225
    assert DEFAULT_SPEAKERS >= 8
    for speaker in SPEAKERS:
        assert speaker.gender == VCTK_GENDERS[speaker.speaker_id]
        if speaker.gender == "M":
            assert speaker.voice in ("awb", "rms", "kal16")
            assert speaker.f0_mean is None or speaker.f0_mean < 160
        else:
            assert speaker.voice == "slt" or (speaker.f0_mean or 0) >= 180  # raised pitch
    assert len({s.source for s in SPEAKERS}) == len(SPEAKERS)
    default = SPEAKERS[:DEFAULT_SPEAKERS]
    assert {"F", "M"} <= {s.gender for s in default}
    assert len({s.voice for s in default}) == 4


def test_default_plan_gives_speakers_mostly_their_own_sentences():
    utterances = plan_utterances(DEFAULT_SPEAKERS, DEFAULT_SENTENCES_PER_SPEAKER)
    assert len(utterances) == DEFAULT_SPEAKERS * DEFAULT_SENTENCES_PER_SPEAKER
    assert len({u.text for u in utterances}) >= 1000
    by_speaker: dict[str, list[str]] = {}
    for u in utterances:
        by_speaker.setdefault(u.speaker.speaker_id, []).append(u.text)
    shared = set.intersection(*(set(texts) for texts in by_speaker.values()))
    assert len(shared) == -(-DEFAULT_SENTENCES_PER_SPEAKER // SHARED_EVERY)
    for texts in by_speaker.values():
        assert len(set(texts)) == len(texts)
        assert texts[0] in shared and texts[1] not in shared
    own = [set(texts) - shared for texts in by_speaker.values()]
    assert sum(map(len, own)) == len(set.union(*own))  # no own sentence read twice
    # growing the corpus only appends
    small = plan_utterances(2, 30)
    assert [u.text for u in small[:30]] == by_speaker["p225"][:30]


def test_bad_sizes_are_refused():
    with pytest.raises(CorpusError, match="--speakers"):
        plan_utterances(len(SPEAKERS) + 1, 3)
    with pytest.raises(CorpusError, match="--sentences-per-speaker"):
        plan_utterances(2, 0)


# ----------------------------------------------------------------------------- flite


def test_render_with_phone_times_reads_flites_segmentation():
    audio, phones = render_with_phone_times("Hello, world.", "flite -voice slt")
    assert audio.dtype == np.float32 and audio.ndim == 1 and len(audio) > 8000
    names = [p for p, _ in phones]
    assert names == ["sil", "HH", "AH", "L", "OW", "sp", "W", "ER", "L", "D", "sil"]
    ends = [t for _, t in phones]
    assert all(a < b for a, b in zip(ends, ends[1:]))
    assert ends[-1] == pytest.approx(len(audio) / 16000)
    # the segmentation matches the audio: the speech lies between the edge silences
    energy = np.convolve(audio**2, np.ones(160) / 160, mode="same")
    loud = np.nonzero(energy > 0.01 * energy.max())[0] / 16000
    assert ends[0] - 0.1 < loud[0] and loud[-1] < ends[-2] + 0.1


def test_kal16_phone_times_end_with_the_audio():
    audio, phones = render_with_phone_times("The garage was beige.", ["-voice", "kal16"])
    assert phones[-1][1] == pytest.approx(len(audio) / 16000)
    assert all(t <= len(audio) / 16000 + 1e-9 for _, t in phones)


def test_flite_settings_change_pitch_and_rate():
    text = "Seven boys measured the treasure near the harbor."
    low = render(text, "-voice slt --setf int_f0_target_mean=150")
    high = render(text, "-voice slt --setf int_f0_target_mean=240 --setf duration_stretch=1.2")
    assert _median_f0(high, 16000) > 1.4 * _median_f0(low, 16000)
    assert len(high) > 1.15 * len(low)


def test_a_speaker_at_another_tempo_keeps_its_voice_and_changes_its_rate():
    text = "Seven boys measured the treasure near the harbor."
    speaker = parse_flite_args("-voice slt --setf int_f0_target_mean=150 --setf "
                               "duration_stretch=1.1")
    faster = at_tempo(speaker, 1.25)
    assert faster[:len(speaker)] == speaker and faster[-2:] == ["--setf", "duration_stretch=0.88"]
    assert at_tempo(["-voice", "awb"], 0.5)[-1] == "duration_stretch=2"  # unset: 1
    own, fast = render(text, speaker), render(text, faster)
    assert len(fast) == pytest.approx(len(own) / 1.25, rel=0.05)
    assert _median_f0(fast, 16000) == pytest.approx(_median_f0(own, 16000), rel=0.05)
    with pytest.raises(FliteError, match="tempo must be a number > 0"):
        at_tempo(speaker, 0.0)


def test_bad_flite_options_are_refused():
    with pytest.raises(FliteError, match="no voice 'nosuch'"):
        parse_flite_args("flite -voice nosuch")
    with pytest.raises(FliteError, match="-o"):
        parse_flite_args(["-voice", "slt", "-o", "x.wav"])
    with pytest.raises(FliteError, match="empty"):
        render("  ", "-voice slt")


# ----------------------------------------------------------------------------- tiny corpus


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("demo") / "vctk")  # 2 speakers x 3 sentences


def test_tiny_corpus_has_the_vctk_layout(tiny_corpus):
    plan = plan_utterances(2, 3)
    txts = sorted(p.relative_to(tiny_corpus).as_posix() for p in tiny_corpus.glob("txt/*/*"))
    flacs = sorted(p.relative_to(tiny_corpus).as_posix()
                   for p in tiny_corpus.glob("wav48_silence_trimmed/*/*"))
    assert txts == [f"txt/{u.speaker.speaker_id}/{u.utterance_id}.txt" for u in plan]
    assert flacs == [f"wav48_silence_trimmed/{u.speaker.speaker_id}/{u.utterance_id}_mic1.flac"
                     for u in plan]
    assert txts[0] == "txt/p225/p225_001.txt" and txts[-1] == "txt/p226/p226_003.txt"
    for utterance in plan:
        assert utterance.txt_path(tiny_corpus).read_text(encoding="utf-8") == utterance.text + "\n"
        info = sf.info(str(utterance.audio_path(tiny_corpus)))
        assert (info.format, info.subtype, info.samplerate, info.channels) == (
            "FLAC", "PCM_16", 48000, 1)
        assert 1.0 < info.duration < 12.0


def test_tiny_corpus_audio_is_flites_rendering_of_the_transcript(tiny_corpus):
    utterance = plan_utterances(2, 3)[4]  # p226_002
    audio48k, _ = sf.read(utterance.audio_path(tiny_corpus), dtype="float32")
    reference = render(utterance.text, utterance.speaker.flite_args)
    back = soxr.resample(audio48k, 48000, 16000)
    assert abs(len(back) - len(reference)) <= 2
    n = min(len(back), len(reference))
    assert np.corrcoef(back[:n], reference[:n])[0, 1] > 0.99


def test_tiny_corpus_speakers_differ_in_pitch(tiny_corpus):
    f0 = {}
    for speaker_id in ("p225", "p226"):
        audio, rate = sf.read(tiny_corpus / f"wav48_silence_trimmed/{speaker_id}/"
                              f"{speaker_id}_002_mic1.flac")
        f0[speaker_id] = _median_f0(audio, rate)
    assert f0["p225"] > 1.25 * f0["p226"]  # slt at 175 Hz vs awb at 125 Hz


def test_tiny_corpus_speaker_info_parses_like_vctk_and_records_sources(tiny_corpus):
    lines = (tiny_corpus / "speaker-info.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == SPEAKER_INFO_HEADER
    rows = [parse_speaker_info_line(line) for line in lines[1:]]
    assert [r["id"] for r in rows] == ["p225", "p226"]
    for row, speaker, line in zip(rows, SPEAKERS, lines[1:]):
        # what a VCTK reader takes: ID AGE GENDER ACCENTS REGION... as whitespace columns
        fields = line.split()
        assert fields[:3] == [speaker.speaker_id, str(speaker.age), speaker.gender]
        assert int(fields[1]) > 0 and fields[2] in ("F", "M")
        assert row["gender"] == VCTK_GENDERS[row["id"]]
        assert row["region"] == "Synthetic"
        assert row["source"].startswith("flite -voice ")
        assert parse_flite_args(row["source"]) == speaker.flite_args


def test_rerun_is_a_no_op_and_resumes_missing_files(tiny_corpus):
    before = _snapshot(tiny_corpus)
    make_corpus(tiny_corpus)
    assert _snapshot(tiny_corpus) == before

    lost = tiny_corpus / "wav48_silence_trimmed/p226/p226_003_mic1.flac"
    lost_audio, _ = sf.read(lost)
    lost.unlink()
    (lost.parent / "p226_001_mic1.flac.partial").write_bytes(b"interrupted")
    make_corpus(tiny_corpus)
    after = _snapshot(tiny_corpus)
    assert set(after) == set(before)  # the stale partial file is gone
    changed = {path for path in after if after[path] != before[path]}
    assert changed == {"wav48_silence_trimmed/p226/p226_003_mic1.flac"}
    np.testing.assert_array_equal(sf.read(lost)[0], lost_audio)  # flite is deterministic


def test_other_settings_are_refused_without_touching_the_corpus(tiny_corpus):
    before = _snapshot(tiny_corpus)
    with pytest.raises(CorpusError, match="other settings"):
        make_corpus(tiny_corpus, seed=1)
    assert _snapshot(tiny_corpus) == before


def test_varied_corpus_is_its_own_and_prepares_for_prosody_only(tiny_corpus, tmp_path):
    from recipes.vctk.prepare import PrepareConfig, prepare
    from tts_common.corpus import read_corpus

    corpus = make_corpus(tmp_path / "varied", speakers=2, sentences_per_speaker=2,
                         sentences="varied")
    plan = plan_utterances(2, 2, sentences="varied")
    assert [u.utterance_id for u in plan] == ["p225_v001", "p225_v002", "p226_v001", "p226_v002"]
    pool = varied_sentences(len(SPEAKERS) + 1)  # the shared sentence, then p225's own
    assert [u.text for u in plan[:2]] == [pool[len(SPEAKERS)], pool[0]]
    for utterance in plan:
        assert utterance.txt_path(corpus).read_text(encoding="utf-8") == utterance.text + "\n"
        assert utterance.audio_path(corpus).is_file()
    assert ((corpus / "speaker-info.txt").read_text(encoding="utf-8")
            == (tiny_corpus / "speaker-info.txt").read_text(encoding="utf-8"))  # same speakers
    # one sentence source per directory
    with pytest.raises(CorpusError, match="another sentence source"):
        make_corpus(corpus, speakers=2, sentences_per_speaker=2)
    with pytest.raises(CorpusError, match="another sentence source"):
        make_corpus(tiny_corpus, sentences="varied")
    with pytest.raises(CorpusError, match="unknown sentence source"):
        plan_utterances(1, 1, sentences="poems")
    lexical = plan_utterances(2, 2, sentences="lexical")
    assert [u.utterance_id for u in lexical] == ["p225_x001", "p225_x002", "p226_x001",
                                                 "p226_x002"]
    assert [u.text for u in lexical[:2]] == [lexical_sentences(len(SPEAKERS) + 1)[i]
                                             for i in (len(SPEAKERS), 0)]
    assert [u.utterance_id for u in plan_utterances(1, 2, sentences="short")] == ["p225_s001",
                                                                                 "p225_s002"]

    # stages 1-5 without the WaveNet conditioning, everything in the training split
    prep = tmp_path / "prep"
    prepare(PrepareConfig(corpus_dir=corpus, prep_dir=prep, jobs=1, progress=False,
                          labels="flite", cond=False, valid=0, test=0))
    prepared = read_corpus(prep)
    assert prepared.speaker_ids == ["p225", "p226"]
    assert [e["utt_id"] for e in prepared.manifest] == [u.utterance_id for u in plan]
    assert {e["split"] for e in prepared.manifest} == {"train"}
    assert all("cond" not in e for e in prepared.manifest) and not (prep / "cond").exists()
    for entry in prepared.manifest:
        assert prepared.load(entry, "phone_feats").shape[0] == len(
            prepared.load(entry, "align")["durations"])
        assert prepared.load(entry, "f0").shape == (entry["num_frames"], 2)


def test_cli_errors_are_one_line(tmp_path, capsys):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert main([str(not_a_dir), "--speakers", "1", "--sentences-per-speaker", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("make_corpus: error:") and "is a file, not a directory" in err
    assert "\n" not in err

    result = subprocess.run(
        [sys.executable, "-m", "recipes.demo.make_corpus", str(tmp_path / "c"), "--speakers", "40"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"make_corpus: error: --speakers must be between 1 and {len(SPEAKERS)}, got 40"
    ]
    assert not (tmp_path / "c").exists()
