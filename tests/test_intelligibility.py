"""The intelligibility benchmark and its metrics (tts.evaluation): WER, pocketsphinx ASR, MCD
with DTW, F0 RMSE in cents, copy synthesis through ``Synthesizer.vocode_conditioning``, and
``benchmarks/intelligibility.py`` end to end on the tiny voice of conftest.py. Speech comes
from the real flite binary."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from benchmarks.intelligibility import main as benchmark_main
from benchmarks.intelligibility import reshaped_timing
from frontend.conditioning import LOG_F0_COLUMN, renormalize_log_f0
from recipes.demo import flite
from recipes.demo.flite import render
from recipes.demo.relabel import render_timed
from recipes.demo.sentences import heldout_sentences
from tts.evaluation import (
    Comparison,
    EvaluationError,
    Recognizer,
    analyze,
    compare,
    dtw_path,
    mean_mcd,
    mel_cepstrum,
    pooled_f0_rmse,
    transcript_words,
    word_error_rate,
    word_errors,
)
from tts.synthesizer import SynthesisError, Synthesizer

SENTENCE = "The waiter and the grandmother mended the fence in the summer."


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def slt_170():
    """One sentence by flite's slt at a fixed F0 mean, analysed once for several tests."""
    return render(SENTENCE, "-voice slt --setf int_f0_target_mean=170")


# -- WER -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reference, hypothesis, edits", [
    ("the cat sat down", "the cat sat down", 0),
    ("the cat sat down", "the bat sat down", 1),  # substitution
    ("the cat sat down", "the cat sat right down", 1),  # insertion
    ("the cat sat down", "the sat down", 1),  # deletion
    ("the cat sat down", "", 4),  # nothing recognized: every word deleted
    ("a b c d", "x a c d e", 3),  # insertion, deletion, insertion
    ("a b c", "c b a", 2),  # two substitutions, not a move
])
def test_word_errors_counts_levenshtein_edits(reference, hypothesis, edits):
    assert word_errors(reference.split(), hypothesis.split()) == edits
    assert word_error_rate(reference, hypothesis) == pytest.approx(edits / len(reference.split()))


def test_reference_is_normalized_like_asr_output():
    assert transcript_words("Dr. Smith paid $3.50 for 2 coffees!") == [
        "doctor", "smith", "paid", "three", "dollars", "and", "fifty", "cents", "for", "two",
        "coffees"]
    # Recognizer markup, dictionary variants and case are not words.
    hypothesis = "<s> IT'S ten(2) thirty [NOISE] isn't it </s>"
    assert word_error_rate("It's 10:30, isn't it?", hypothesis) == 0
    assert word_error_rate("Prices rose by 7%.", "prices rose by seven") == pytest.approx(1 / 5)
    with pytest.raises(EvaluationError, match="no words"):
        word_error_rate("?!", "anything")


# -- ASR -------------------------------------------------------------------------------------------
def test_pocketsphinx_understands_flite(recognizer):
    audio = render(SENTENCE, "-voice rms")
    hypothesis = recognizer.transcribe(audio)
    assert word_error_rate(SENTENCE, hypothesis) < 0.5, hypothesis


def test_transcription_does_not_depend_on_what_came_before(recognizer, slt_170):
    first = recognizer.transcribe(slt_170)
    recognizer.transcribe(0.3 * np.random.default_rng(0).standard_normal(48000).astype(np.float32))
    assert recognizer.transcribe(slt_170) == first  # without a reset, "waiter" became "later"


def test_pocketsphinx_hears_no_words_in_noise(recognizer):
    noise = 0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    assert word_error_rate(SENTENCE, recognizer.transcribe(noise)) >= 0.9
    with pytest.raises(EvaluationError, match="16000 Hz"):
        recognizer.transcribe(noise, sample_rate=22050)


# -- MCD, DTW and F0 ---------------------------------------------------------------------------
def test_dtw_path_is_the_cheapest_monotonic_path():
    rng = np.random.default_rng(1)
    for rows, cols in ((1, 1), (1, 5), (6, 1), (7, 9), (12, 8)):
        cost = rng.random((rows, cols))
        path = dtw_path(cost)
        assert path[0].tolist() == [0, 0] and path[-1].tolist() == [rows - 1, cols - 1]
        steps = np.diff(path, axis=0)
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(1) >= 1).all()
        best = np.full((rows, cols), np.inf)  # the textbook recurrence, cell by cell
        for i in range(rows):
            for j in range(cols):
                before = [best[a, b] for a, b in ((i - 1, j), (i, j - 1), (i - 1, j - 1))
                          if a >= 0 and b >= 0]
                best[i, j] = cost[i, j] + (min(before) if before else 0.0)
        assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(best[-1, -1])


def test_mel_cepstrum_of_a_flat_envelope_is_its_level_only():
    envelope = np.full((3, 513), 4.0)  # power 4 → amplitude 2 at every frequency
    cepstrum = mel_cepstrum(envelope)
    assert cepstrum.shape == (3, 25)
    np.testing.assert_allclose(cepstrum[:, 0], math.log(2.0), atol=1e-9)
    np.testing.assert_allclose(cepstrum[:, 1:], 0.0, atol=1e-9)


def test_identical_audio_has_zero_distance(slt_170):
    features = analyze(slt_170)
    result = compare(features, features)
    assert result.mcd_db == pytest.approx(0.0, abs=1e-3)
    assert result.f0_rmse_cents == pytest.approx(0.0, abs=1e-6) and result.f0_frames > 100
    assert result.frames == features.num_frames


def test_another_voice_is_much_further_than_the_same_voice_slower(slt_170):
    reference = analyze(slt_170)
    slower = analyze(render(SENTENCE, "-voice slt --setf int_f0_target_mean=170 "
                                      "--setf duration_stretch=1.05"))
    other_voice = analyze(render(SENTENCE, "-voice awb"))
    near, far = compare(reference, slower).mcd_db, compare(reference, other_voice).mcd_db
    assert 0.5 < near < 4.0 and far > 7.0 and far > 2.5 * near, (near, far)


def test_f0_rmse_measures_a_pitch_shift_in_cents(slt_170):
    higher = render(SENTENCE, "-voice slt --setf int_f0_target_mean=200")
    result = compare(analyze(slt_170), analyze(higher))
    expected = 1200 * math.log2(200 / 170)  # 281 cents
    assert result.f0_rmse_cents == pytest.approx(expected, abs=40)
    assert result.mcd_db < 4.0  # the same voice: the spectrum hardly changes


def test_per_speaker_figures_weight_frames():
    first = Comparison(mcd_db=2.0, frames=100, f0_rmse_cents=30.0, f0_frames=10)
    second = Comparison(mcd_db=5.0, frames=300, f0_rmse_cents=math.nan, f0_frames=0)
    third = Comparison(mcd_db=4.0, frames=100, f0_rmse_cents=60.0, f0_frames=30)
    assert mean_mcd([first, second, third]) == pytest.approx((200 + 1500 + 400) / 500)
    assert pooled_f0_rmse([first, second, third]) == pytest.approx(
        math.sqrt((900 * 10 + 3600 * 30) / 40))
    assert math.isnan(mean_mcd([])) and math.isnan(pooled_f0_rmse([second]))


# -- copy synthesis ------------------------------------------------------------------------------
def test_renormalize_log_f0_changes_only_that_column():
    rng = np.random.default_rng(2)
    conditioning = rng.standard_normal((5, LOG_F0_COLUMN + 2)).astype(np.float32)
    moved = renormalize_log_f0(conditioning, 5.0, 0.3, 5.1, 0.25)
    np.testing.assert_array_equal(np.delete(moved, LOG_F0_COLUMN, 1),
                                  np.delete(conditioning, LOG_F0_COLUMN, 1))
    np.testing.assert_allclose(moved[:, LOG_F0_COLUMN] * 0.25 + 5.1,
                               conditioning[:, LOG_F0_COLUMN] * 0.3 + 5.0, atol=1e-5)
    np.testing.assert_allclose(renormalize_log_f0(moved, 5.1, 0.25, 5.0, 0.3), conditioning,
                               atol=1e-5)


def test_vocode_conditioning_is_vocode_without_a_plan(tiny_voice):
    synth = Synthesizer.from_pretrained(tiny_voice, threads=1)
    plan = synth.plan(next(synth.phonemize("Hello there.")), synth.speaker_index("p226"))
    expected = synth.vocode([plan], seeds=[4])[0]
    audio = synth.vocode_conditioning([plan.conditioning], [plan.speaker_index], seeds=[4])[0]
    np.testing.assert_array_equal(audio, expected)
    assert len(audio) == plan.num_frames * synth.voice.hop_length
    with pytest.raises(SynthesisError, match="conditioning must be"):
        synth.vocode_conditioning([plan.conditioning[:, :10]], [0], seeds=[0])
    with pytest.raises(SynthesisError, match="out of range"):
        synth.vocode_conditioning([plan.conditioning], [7], seeds=[0])


# -- the benchmark end to end ------------------------------------------------------------------
def test_benchmark_prints_a_row_per_speaker_and_the_worst_wer(tiny_voice, tiny_prepared,
                                                              tmp_path, capsys):
    results_path = tmp_path / "results.json"
    code = benchmark_main(["--voice", str(tiny_voice), "--sentences", "2", "--speakers", "p225",
                           "--prep", str(tiny_prepared), "--copy-utterances", "1",
                           "--teacher-prosody", "--teacher-timing", "--threads", "1",
                           "--json", str(results_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0].startswith("| speaker | source voice | WER % | teacher WER % | MCD dB |")
    assert [row.split("|")[1].strip() for row in table[2:]] == ["p225", "all"]
    assert "slt f0=175 dur=1" in table[2]
    worst = lines[-1].split()
    assert worst[0] == "worst_wer" and math.isfinite(float(worst[1]))

    results = json.loads(results_path.read_text())
    summary = results["speakers"][0]
    assert summary["speaker"] == "p225" and summary["sentences"] == 2
    assert summary["copy_utterances"] == 1
    for key in ("wer", "teacher_wer", "mcd_db", "copy_wer", "recording_wer", "copy_mcd_db",
                "prosody_wer", "prosody_mcd_db", "timing_wer"):
        assert math.isfinite(summary[key]), key
    assert float(worst[1]) == pytest.approx(summary["wer"], abs=0.05)
    # The tiny voice speaks noise: its WER is high; flite, the teacher, is understood.
    assert summary["teacher_wer"] < 50.0 < summary["wer"]
    assert summary["f0_rmse_cents"] is None or math.isfinite(summary["f0_rmse_cents"])
    kinds = [r["kind"] for r in results["results"]]
    assert kinds == ["synth", "synth", "prosody", "prosody", "timing", "timing", "copy"]
    assert results["sentences"] == heldout_sentences(2, sentence_set="everyday")
    assert results["results"][6]["utt_id"].startswith("p225_")
    # teacher prosody: the teacher's timing gives exactly the teacher rendering's length
    synth_record, prosody_record = results["results"][0], results["results"][2]
    assert prosody_record["text"] == synth_record["text"] and "teacher" not in prosody_record
    source = Synthesizer.from_pretrained(tiny_voice).speaker_info[0].source
    teacher_audio = render(synth_record["text"], flite.parse_flite_args(source))
    assert prosody_record["seconds"] == pytest.approx(len(teacher_audio) / 16000, abs=0.005)
    # teacher timing: the same length, the same seed, and other audio (the voice's own F0)
    timing_record = results["results"][4]
    assert (timing_record["text"], timing_record["seed"]) == (prosody_record["text"],
                                                               prosody_record["seed"])
    assert timing_record["seconds"] == prosody_record["seconds"]


def run_tiny(tiny_voice, tmp_path, capsys, *args: str) -> tuple[str, dict]:
    """The benchmark on the tiny voice's p225, one thread: its header line and its JSON."""
    results_path = tmp_path / "results.json"
    code = benchmark_main(["--voice", str(tiny_voice), "--speakers", "p225", "--threads", "1",
                           *args, "--json", str(results_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out.splitlines()[0], json.loads(results_path.read_text())


def test_benchmark_speaks_the_template_sentences_when_asked(tiny_voice, tmp_path, capsys):
    header, results = run_tiny(tiny_voice, tmp_path, capsys, "--sentences", "1",
                               "--sentence-set", "templates")
    assert "(templates)" in header
    assert results["sentence_set"] == "templates"
    assert results["sentences"] == heldout_sentences(1, sentence_set="templates")
    assert results["results"][0]["text"] == results["sentences"][0]
    assert results["sentences"] != heldout_sentences(1, sentence_set="everyday")


def test_draws_speak_every_sentence_again_with_seeds_of_their_own(tiny_voice, tmp_path,
                                                                   capsys):
    header, results = run_tiny(tiny_voice, tmp_path, capsys, "--sentences", "2", "--draws", "2",
                               "--seed", "5")
    assert "2 draw(s) each" in header
    records = [r for r in results["results"] if r["kind"] == "synth"]
    assert [(r["text"], r["seed"]) for r in records] == [
        (results["sentences"][0], 5), (results["sentences"][1], 6),
        (results["sentences"][0], 7), (results["sentences"][1], 8)]
    assert results["speakers"][0]["sentences"] == 4


def test_speed_changes_the_voices_timing_and_is_recorded(tiny_voice, tmp_path, capsys):
    seconds = {}
    for speed in ("1", "2"):
        header, results = run_tiny(tiny_voice, tmp_path, capsys, "--sentences", "1",
                                   "--speed", speed)
        assert f"speed {speed}, teacher tempos 1" in header
        assert results["speed"] == float(speed)
        seconds[speed] = results["results"][0]["seconds"]
    assert seconds["2"] < 0.75 * seconds["1"]


def test_teacher_tempos_pool_the_teachers_renderings_once_for_all_draws(tiny_voice, tmp_path,
                                                                        capsys):
    header, results = run_tiny(tiny_voice, tmp_path, capsys, "--sentences", "2", "--draws", "2",
                               "--teacher-tempos", "0.9,1,1.1")
    assert header.endswith("teacher tempos 0.9,1,1.1")
    assert results["teacher_tempos"] == [0.9, 1.0, 1.1]
    records = results["results"]
    source = Synthesizer.from_pretrained(tiny_voice).speaker_info[0].source
    teacher = flite.parse_flite_args(source)
    recognizer = Recognizer()
    for record in records[:2]:
        words = transcript_words(record["text"])
        heard = [recognizer.words(render(record["text"], flite.at_tempo(teacher, tempo)))
                 for tempo in (0.9, 1.0, 1.1)]
        assert record["teacher"]["words"] == 3 * len(words)
        assert record["teacher"]["errors"] == sum(word_errors(words, h) for h in heard)
        assert [(r["tempo"], r["hypothesis"], r["errors"])
                for r in record["teacher"]["renderings"]] == [
            (tempo, " ".join(h), word_errors(words, h)) for tempo, h in zip((0.9, 1.0, 1.1), heard)]
    # the second draw of a sentence is judged against the same pooled teacher
    assert records[2]["teacher"] == records[0]["teacher"]
    pooled = sum(r["teacher"]["errors"] for r in records) / sum(
        r["teacher"]["words"] for r in records)
    assert results["speakers"][0]["teacher_wer"] == pytest.approx(100 * pooled)
    code, err = run_benchmark(["--voice", str(tiny_voice), "--teacher-tempos", "1,x"], capsys)
    assert code == 2 and "give tempos between 0.5 and 2" in err


def run_benchmark(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = benchmark_main(args)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_bad_input_is_one_error_line(tiny_voice, tmp_path, capsys):
    code, err = run_benchmark(["--voice", str(tiny_voice), "--speakers", "p999"], capsys)
    assert code == 2 and "unknown speaker 'p999'" in err and "p225, p226" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, err = run_benchmark(["--voice", str(tmp_path / "nope")], capsys)
    assert code == 2 and "not found" in err and len(err.strip().splitlines()) == 1
    code, err = run_benchmark(["--voice", str(tiny_voice), "--speed", "0"], capsys)
    assert code == 2 and "speed must be between" in err and len(err.strip().splitlines()) == 1


def test_missing_flite_is_one_error_line(tiny_voice, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "")
    flite._flite_binary.cache_clear()
    flite.available_voices.cache_clear()
    try:
        code, err = run_benchmark(["--voice", str(tiny_voice), "--sentences", "1"], capsys)
    finally:
        flite._flite_binary.cache_clear()
        flite.available_voices.cache_clear()
    assert code == 2 and "flite not found" in err and len(err.strip().splitlines()) == 1


def test_heldout_sentence_in_the_corpus_is_refused(tiny_voice, tiny_prepared, tmp_path, capsys):
    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    entries = [json.loads(line) for line in (prep / "manifest.jsonl").read_text().splitlines()]
    entries[0]["text"] = heldout_sentences(1, sentence_set="everyday")[0].lower().rstrip(".")
    (prep / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    code, err = run_benchmark(["--voice", str(tiny_voice), "--sentences", "3", "--prep",
                               str(prep)], capsys)
    assert code == 2 and "held-out sentence" in err and entries[0]["utt_id"] in err


def test_reshaped_timing_smooths_speech_and_keeps_its_total_and_the_pauses():
    durations = np.array([12, 2, 20, 5, 0, 9, 30])  # (N,) frames
    pauses = np.array([True, False, False, False, True, False, True])
    same = reshaped_timing(durations, pauses, 1.0)
    assert same.tolist() == durations.tolist()
    smooth = reshaped_timing(durations, pauses, 0.5)
    speech = ~pauses
    assert smooth[pauses].tolist() == durations[pauses].tolist()
    assert abs(smooth[speech].sum() - durations[speech].sum()) <= 1
    assert smooth[1] > durations[1] and smooth[2] < durations[2]  # toward the mean
    assert np.ptp(reshaped_timing(durations, pauses, 0.0)[speech]) <= 1  # all alike
    assert np.all(np.diff(np.log(smooth[speech])[np.argsort(durations[speech])]) >= 0)


def test_teacher_timing_can_be_smoothed_and_take_the_voices_pauses_or_phones(tiny_voice,
                                                                             tmp_path, capsys):
    options = {"plain": (), "smoothed": ("--timing-contrast", "0.5"),
               "own pauses": ("--timing-pauses", "voice"),
               "own phones": ("--timing-phones", "voice"),
               "own both": ("--timing-phones", "voice", "--timing-pauses", "voice"),
               "own vowels": ("--timing-phones", "voice", "--timing-classes", "vowel")}
    runs = {}
    for name, extra in options.items():
        header, results = run_tiny(tiny_voice, tmp_path, capsys, "--sentences", "1",
                                   "--teacher-timing", *extra)
        assert "teacher timing at contrast" in header
        runs[name] = results
        assert results["results"][1]["kind"] == "timing"
    timing = {name: results["results"][1] for name, results in runs.items()}
    assert runs["smoothed"]["timing_contrast"] == 0.5
    assert (runs["own both"]["timing_phones"], runs["own both"]["timing_pauses"]) == (
        "voice", "voice")
    # smoothing keeps the speech total (within a frame); the voice's pauses change the length
    assert timing["smoothed"]["seconds"] == pytest.approx(timing["plain"]["seconds"], abs=0.006)
    assert timing["own pauses"]["seconds"] != timing["plain"]["seconds"]
    # the same seed over other timing: other audio, so another distance from the teacher
    assert timing["smoothed"]["comparison"]["mcd_db"] != timing["plain"]["comparison"]["mcd_db"]
    # the voice's phones and pauses over the teacher's phrasing: the voice's own plan of it
    synth = Synthesizer.from_pretrained(tiny_voice)
    source = synth.speaker_info[0].source
    utterance = render_timed(timing["plain"]["text"], flite.parse_flite_args(source),
                             synth.voice.hop_length)[1]
    own_plan = synth.plan(utterance, 0)
    assert timing["own both"]["seconds"] == pytest.approx(
        own_plan.num_frames * synth.voice.hop_length / 16000, abs=1e-6)
    assert timing["own phones"]["seconds"] != timing["own both"]["seconds"]
    # the voice's vowels among the teacher's consonants: between the two timings
    assert runs["own vowels"]["timing_classes"] == ["vowel"]
    assert timing["own vowels"]["seconds"] not in (timing["plain"]["seconds"],
                                                   timing["own phones"]["seconds"])
    code, err = run_benchmark(["--voice", str(tiny_voice), "--timing-phones", "voice"], capsys)
    assert code == 2 and "add it" in err
    code, err = run_benchmark(["--voice", str(tiny_voice), "--teacher-timing",
                               "--timing-classes", "vowel"], capsys)
    assert code == 2 and "--timing-phones voice" in err
    code, err = run_benchmark(["--voice", str(tiny_voice), "--teacher-timing", "--timing-phones",
                               "voice", "--timing-classes", "vowels"], capsys)
    assert code == 2 and "give phone classes from" in err
