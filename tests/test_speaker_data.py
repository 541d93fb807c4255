"""benchmarks/speaker_data.py: each demo speaker's share of the training audio, and its teacher."""

from __future__ import annotations

import math

from benchmarks.speaker_data import main, natural_args


def test_the_voice_s_own_pitch_is_the_source_without_its_pitch_targets():
    args = ["-voice", "kal16", "--setf", "int_f0_target_mean=195", "--setf",
            "int_f0_target_stddev=30", "--setf", "duration_stretch=1.05"]
    assert natural_args(args) == ["-voice", "kal16", "--setf", "duration_stretch=1.05"]


def _table(lines: list[str], header: str) -> list[list[str]]:
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_tables_of_a_tiny_corpus(tiny_corpus, tiny_prepared, capsys):
    assert main([str(tiny_corpus), "--prep", str(tiny_prepared), "--teacher-sentences", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    corpus = _table(lines, "| speaker | source | utterances")
    assert [row[0] for row in corpus] == ["p225", "p226"]
    assert [row[1] for row in corpus] == ["slt f0=175 dur=1", "awb f0=125 dur=1"]
    assert all(row[2] == "3" for row in corpus)
    assert all(0 < float(row[4]) <= float(row[3]) for row in corpus)  # trimmed ≤ rendered
    assert math.isclose(sum(float(row[5]) for row in corpus), 100.0, abs_tol=0.15)
    manifest = _table(lines, "| speaker | train | valid | test")
    assert all(sum(int(row[k]) for k in (1, 2, 3)) == 3 for row in manifest)
    assert all(row[5] == "0 of 3" for row in manifest)  # not relabeled
    teacher = _table(lines, "| speaker | sentences | voice's own F0")
    for row, target in zip(teacher, (175.0, 125.0)):
        median = float(row[3].split("/")[1])
        assert abs(12 * math.log2(median / target)) < 1.5  # flite honours the pitch target
        assert row[5] == "0"  # our phones map onto flite's


def test_an_unknown_speaker_is_one_line(tiny_corpus, capsys):
    assert main([str(tiny_corpus), "--speakers", "p999"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "p999" in err and "p225" in err
