"""recipes.demo.relabel: flite's own phone times replace the forced alignment of the demo corpus."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import soxr

from recipes.demo.relabel import (
    find_offset,
    map_phone_times,
    relabel,
    render_timed,
    segments_to_durations,
)


def test_find_offset_recovers_where_a_resampled_trimmed_copy_starts():
    rng = np.random.default_rng(0)
    render = rng.standard_normal(16000).astype(np.float32) * np.hanning(16000).astype(np.float32)
    round_trip = soxr.resample(soxr.resample(render, 16000, 48000), 48000, 16000)
    assert find_offset(render, round_trip[1234:1234 + 9000]) == 1234


def test_matching_phones_take_flite_times_and_flite_pauses_become_sp():
    flite = [("sil", 0.0, 0.10), ("HH", 0.10, 0.15), ("AH", 0.15, 0.22), ("sp", 0.22, 0.40),
             ("L", 0.40, 0.47), ("OW", 0.47, 0.60), ("sil", 0.60, 0.70)]
    segments = map_phone_times(["HH", "AH0", "L", "OW1"], flite, 0.70)
    assert [s[0] for s in segments] == ["sil", "HH", "AH0", "sp", "L", "OW1", "sil"]
    assert [(s[1], s[2]) for s in segments] == [(a, b) for _, a, b in flite]


def test_a_lexicon_disagreement_shares_its_span_and_extra_flite_phones_join_a_neighbour():
    # ours: T AH0 M EY1 T OW2 ; flite: t ax m aa t ow (EY vs AA) and an extra Z at the end
    flite = [("sil", 0.0, 0.1), ("T", 0.1, 0.2), ("AH", 0.2, 0.3), ("M", 0.3, 0.4),
             ("AA", 0.4, 0.6), ("T", 0.6, 0.7), ("OW", 0.7, 0.8), ("Z", 0.8, 0.9),
             ("sil", 0.9, 1.0)]
    segments = map_phone_times(["T", "AH0", "M", "EY1", "T", "OW2"], flite, 1.0)
    timed = {label: (start, end) for label, start, end in segments}
    assert timed["EY1"] == pytest.approx((0.4, 0.6))
    assert timed["OW2"] == pytest.approx((0.7, 0.9))  # took flite's extra Z
    assert segments[-1] == ("sil", 0.9, 1.0)


def test_phonemes_flite_never_says_keep_the_forced_alignment():
    flite = [("sil", 0.0, 0.1), ("K", 0.1, 0.2), ("AE", 0.2, 0.3), ("sil", 0.3, 0.4)]
    reason = map_phone_times(["K", "AE1", "T", "S"], flite, 0.4)
    assert isinstance(reason, str) and "T S" in reason


def test_render_timed_gives_flites_own_phone_boundaries_and_pauses():
    from frontend.audio import num_frames
    from frontend.features import text_to_utterance
    from frontend.phonemes import SILENCES
    from recipes.demo.flite import render_with_phone_times

    text = "The doctor waited, and then he smiled."
    audio, utt, durations = render_timed(text, "-voice slt", 80)
    _, phone_ends = render_with_phone_times(text, "-voice slt")
    assert durations.sum() == num_frames(len(audio), 80) and durations.min() >= 1
    speech = [p for p in utt.phonemes if p not in SILENCES]
    assert speech == [p for p in text_to_utterance(text).phonemes if p not in SILENCES]
    assert utt.phonemes[0] == utt.phonemes[-1] == "sil" and "sp" in utt.phonemes  # the comma
    # Every speech phoneme ends within a frame of where flite ended the same phone.
    flite_speech_ends = [end for phone, end in phone_ends if phone not in SILENCES]
    our_ends = [e * 0.005 for p, e in zip(utt.phonemes, np.cumsum(durations))
                if p not in SILENCES]
    assert len(our_ends) == len(flite_speech_ends)
    assert np.abs(np.array(our_ends) - flite_speech_ends).max() <= 0.0051


def test_durations_cover_every_frame_and_give_each_segment_one():
    segments = [("sil", 0.0, 0.0), ("K", 0.0, 0.052), ("AE1", 0.052, 0.053),
                ("T", 0.053, 0.2), ("sil", 0.2, 0.2)]
    durations = segments_to_durations(segments, 40, 0.005)
    assert durations.sum() == 40 and durations.min() >= 1
    # The empty silences borrow a frame from their neighbours; the rest keep flite's boundaries.
    assert list(durations) == [1, 9, 1, 28, 1]


@pytest.mark.slow
def test_relabel_a_prepared_flite_corpus_then_rebuild_its_features(tiny_corpus, tiny_prepared,
                                                                    tmp_path):
    from recipes.vctk.prepare import PrepareConfig, prepare

    prep = tmp_path / "prep"
    shutil.copytree(tiny_prepared, prep)
    summary = relabel(prep, jobs=1)
    assert summary["relabeled"] == summary["utterances"] >= 4
    # Two independent labelings of the same audio: forced alignment mostly agrees with flite.
    assert summary["boundary_shift_ms"]["median"] <= 10.0
    records = {}
    for path in sorted((prep / "align").glob("*/*.json")):
        record = json.loads(path.read_text())
        assert record["labels_source"] == "flite -psdur"
        assert sum(record["durations"]) == record["num_frames"]
        assert min(record["durations"]) >= 1
        assert len(record["phonemes"]) == len(record["durations"])
        assert record["phonemes"][0] == record["phonemes"][-1] == "sil"
        records[record["utt_id"]] = record
    # Relabeling twice changes nothing.
    before = {p: p.read_text() for p in (prep / "align").glob("*/*.json")}
    relabel(prep, jobs=1)
    assert before == {p: p.read_text() for p in (prep / "align").glob("*/*.json")}
    # The prepared features and conditioning follow the new durations.
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep, stage=4, progress=False))
    for line in (prep / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        phone_feats = np.load(prep / row["phone_feats"])
        assert phone_feats.shape[0] == len(records[row["utt_id"]]["durations"])
        assert np.load(prep / row["cond"]).shape[0] == row["num_frames"]


@pytest.mark.slow
def test_preparing_with_flite_labels_gives_what_relabelling_gives(tiny_corpus, tiny_prepared,
                                                                  tmp_path):
    """``--labels flite`` skips forced alignment: the same records as alignment + relabel."""
    from recipes.vctk.prepare import PrepareConfig, prepare

    relabeled = tmp_path / "relabeled"
    shutil.copytree(tiny_prepared, relabeled)
    relabel(relabeled, jobs=1)
    direct = tmp_path / "direct"
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=direct, labels="flite",
                          progress=False))
    paths = sorted((relabeled / "align").glob("*/*.json"))
    assert len(paths) >= 4
    for path in paths:
        expected = json.loads(path.read_text())
        got = json.loads((direct / path.relative_to(relabeled)).read_text())
        assert "forced_durations" not in got
        for key in ("utterance", "phonemes", "durations", "alignment", "labels_source",
                    "num_frames"):
            assert got[key] == expected[key], (path.name, key)
    # relabelling a corpus labelled this way leaves it as it is
    before = {p: p.read_text() for p in (direct / "align").glob("*/*.json")}
    summary = relabel(direct, jobs=1)
    assert summary["relabeled"] == len(before)
    assert before == {p: p.read_text() for p in (direct / "align").glob("*/*.json")}


def test_flite_labels_need_a_flite_corpus(tmp_path):
    from recipes.vctk.prepare import PrepareConfig, PrepareError, prepare

    corpus = tmp_path / "corpus"
    (corpus / "me").mkdir(parents=True)
    sf.write(corpus / "me" / "a.wav", np.zeros(16000, np.float32), 16000)
    (corpus / "me" / "a.txt").write_text("Hello there.\n")
    with pytest.raises(PrepareError, match="--labels flite needs every speaker rendered by flite"):
        prepare(PrepareConfig(corpus_dir=corpus, prep_dir=tmp_path / "prep", labels="flite",
                              progress=False))
