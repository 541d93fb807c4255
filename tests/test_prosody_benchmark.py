"""benchmarks/prosody_vs_teacher.py: a voice's planned prosody against fresh flite renderings."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.prosody_vs_teacher import (
    PhoneProsody,
    breakdown,
    error_anatomy,
    main,
    pair_pauses,
    pair_phones,
    phone_context,
    score,
    word_errors,
)


def test_phones_pair_where_the_sequences_agree_and_pauses_are_left_out():
    ours = [PhoneProsody(p, 50.0, 0.0) for p in ["sil", "HH", "AH", "sp", "L", "OW", "sil"]]
    teacher = [PhoneProsody(p, 60.0, 0.0) for p in ["sil", "HH", "EH", "L", "OW", "sil"]]
    pairs = pair_phones(ours, teacher)
    assert [(a.phone, b.phone) for a, b in pairs] == [("HH", "HH"), ("L", "L"), ("OW", "OW")]


def test_score_measures_duration_and_pitch_errors():
    pairs = [(PhoneProsody("AA", 100.0, 200.0), PhoneProsody("AA", 90.0, 100.0)),
             (PhoneProsody("S", 50.0, 0.0), PhoneProsody("S", 60.0, 0.0)),
             (PhoneProsody("IY", 80.0, 150.0), PhoneProsody("IY", 80.0, 0.0))]
    result = score(pairs, ours_speech=4)
    assert result["paired_percent"] == 75.0
    assert result["duration_rmse_ms"] == pytest.approx(np.sqrt((100 + 100 + 0) / 3))
    assert result["f0_rmse_cents"] == pytest.approx(1200.0)  # 1 octave: the one voiced pair
    assert result["voicing_error_percent"] == pytest.approx(100 / 3)
    assert result["length_ratio"] == pytest.approx(230 / 230)


def test_phones_are_grouped_by_class_position_word_length_and_stress():
    from frontend.features import text_to_utterance

    utt = text_to_utterance("Yesterday, it rained.")
    contexts = [(p, phone_context(utt, k)) for k, p in enumerate(utt.phonemes)]
    by_phone = [(p, c.get("position"), c.get("word length")) for p, c in contexts if c]
    assert utt.phonemes[0] == "sil" and contexts[0][1] == {}
    # "yesterday" (3 syllables) ends before the comma's pause, "rained" ends the sentence
    assert ("EY2", "syllable before a pause", "3+ syllables") in by_phone
    assert ("Y", "other syllable", "3+ syllables") in by_phone
    assert ("IH1", "other word-final syllable", "1 syllable") in by_phone
    assert ("D", "utterance-final syllable", "1 syllable") in by_phone
    vowel = dict(contexts)["EY1"]
    assert vowel["class"] == "vowel" and vowel["stress"] == "stressed vowel"
    assert "stress" not in dict(contexts)["D"]
    kinds = {(c["word"], c["word kind"]) for _, c in contexts if c}
    assert kinds == {("yesterday", "content word, 2+ syllables"), ("it", "function word"),
                     ("rained", "content word, 1 syllable")}


def test_breakdown_and_pauses_say_where_the_error_is():
    final = {"class": "vowel", "position": "utterance-final syllable"}
    inner = {"class": "stop", "position": "other syllable"}
    pairs = [(PhoneProsody("AA", 100.0, 200.0, final), PhoneProsody("AA", 140.0, 100.0)),
             (PhoneProsody("T", 50.0, 0.0, inner), PhoneProsody("T", 50.0, 0.0)),
             (PhoneProsody("K", 60.0, 0.0, inner), PhoneProsody("K", 50.0, 0.0))]
    groups = breakdown(pairs)
    assert set(groups) == {("class", "vowel"), ("class", "stop"),
                           ("position", "utterance-final syllable"),
                           ("position", "other syllable")}
    vowel = groups[("position", "utterance-final syllable")]
    assert vowel["duration_bias_ms"] == -40.0 and vowel["f0_bias_cents"] == pytest.approx(1200)
    stops = groups[("class", "stop")]
    assert stops["phones"] == 2 and stops["duration_rmse_ms"] == pytest.approx(np.sqrt(50))
    assert np.isnan(stops["f0_rmse_cents"])  # no voiced phone

    ours = [PhoneProsody(p, d, 0.0) for p, d in
            [("sil", 90), ("HH", 50), ("sp", 120), ("AY", 80), ("sp", 30), ("S", 60),
             ("EH", 50), ("N", 40), ("sil", 90)]]
    teacher = [PhoneProsody(p, d, 0.0) for p, d in
               [("sil", 80), ("HH", 50), ("sp", 200), ("AY", 80), ("S", 60), ("EH", 50),
                ("sp", 40), ("N", 40), ("sil", 80)]]
    assert sorted(pair_pauses(ours, teacher), key=str) == sorted(
        [(120.0, 200.0), (30.0, None), (None, 40.0)], key=str)


def test_words_are_ranked_by_their_share_of_the_squared_error():
    pairs = [(PhoneProsody("S", 70.0, 0.0, {"word": "salt"}), PhoneProsody("S", 100.0, 0.0)),
             (PhoneProsody("AO", 90.0, 0.0, {"word": "salt"}), PhoneProsody("AO", 100.0, 0.0)),
             (PhoneProsody("DH", 40.0, 0.0, {"word": "the"}), PhoneProsody("DH", 20.0, 0.0))]
    rows = word_errors(pairs)
    assert [row[:2] for row in rows] == [("salt", 2), ("the", 1)]
    assert rows[0][2] == pytest.approx(np.sqrt((900 + 100) / 2)) and rows[0][3] == -20.0
    assert rows[0][4] == pytest.approx(1000 / 1400) and rows[1][4] == pytest.approx(400 / 1400)


def test_error_anatomy_separates_a_uniform_stretch_and_tracker_jumps():
    # ours are uniformly 10% short, and one F0 pair is an octave apart (a tracker's jump)
    pairs = [(PhoneProsody("AA", 0.9 * d, 100.0), PhoneProsody("AA", d, f0))
             for d, f0 in [(100.0, 100.0), (50.0, 200.0), (80.0, 100.0), (120.0, 105.0)]]
    m = error_anatomy(pairs)
    assert m["best_scale"] == pytest.approx(1.11) and m["scaled_duration_rmse_ms"] < 1.0
    assert score(pairs, 4)["duration_rmse_ms"] > 8.0
    assert m["gross_f0_errors"] == 1 and m["f0_phones"] == 4
    assert m["f0_rmse_cents_without_gross"] == pytest.approx(
        np.sqrt((0 + 0 + (1200 * np.log2(100 / 105)) ** 2) / 3))
    assert 0.99 < m["gross_share_of_f0_squared_error"] < 1.0


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_voice(tiny_voice, capsys):
    assert main(["--voice", str(tiny_voice), "--count", "2", "--breakdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("| class: vowel |") for line in lines)
    assert any(line.startswith("| pauses inside sentences |") for line in lines)
    assert any(line.startswith("| word kind: function word |") for line in lines)
    assert any(line.startswith("| the 12 words with the most duration error") for line in lines)
    assert lines[-2].startswith("duration_rmse_ms ") and float(lines[-2].split()[1]) > 0
    assert lines[-1].startswith("f0_rmse_cents ")
    # Our frontend and flite mostly agree on the phones of plain sentences.
    paired = [float(line.split()[1].rstrip("%")) for line in lines if line.startswith("p2")]
    assert paired and min(paired) > 80.0


def test_a_speaker_the_voice_lacks_is_a_one_line_error(tiny_voice, capsys):
    assert main(["--voice", str(tiny_voice), "--speakers", "p999", "--count", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "p999" in err
