"""benchmarks/prosody_vs_teacher.py: a voice's planned prosody against fresh flite renderings."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.prosody_vs_teacher import PhoneProsody, main, pair_phones, score


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


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_voice(tiny_voice, capsys):
    assert main(["--voice", str(tiny_voice), "--count", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].startswith("duration_rmse_ms ") and float(lines[-2].split()[1]) > 0
    assert lines[-1].startswith("f0_rmse_cents ")
    # Our frontend and flite mostly agree on the phones of plain sentences.
    paired = [float(line.split()[1].rstrip("%")) for line in lines if line.startswith("p2")]
    assert paired and min(paired) > 80.0


def test_a_speaker_the_voice_lacks_is_a_one_line_error(tiny_voice, capsys):
    assert main(["--voice", str(tiny_voice), "--speakers", "p999", "--count", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "p999" in err
