"""benchmarks/word_positions.py: words lost at the ends of sentences, and elsewhere."""

from __future__ import annotations

import json

from benchmarks.word_positions import main, missed_words


def test_unmatched_reference_words_are_the_missed_ones():
    reference = "he went out".split()
    assert missed_words(reference, "he went up".split()) == [False, False, True]
    assert missed_words(reference, "the he went out now".split()) == [False, False, False]
    assert missed_words(reference, []) == [True, True, True]


def test_the_table_counts_sentence_ends_apart(tmp_path, capsys):
    results = {"results": [
        {"kind": "synth", "speaker": "p232", "reference": "we went home",
         "voice": {"hypothesis": "we went how"}, "teacher": {"hypothesis": "we went home"}},
        {"kind": "copy", "speaker": "p232", "reference": "a red fox ran",
         "voice": {"hypothesis": "the red fox ran"}, "recording": {"hypothesis": "a red fox ran"}},
    ]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    assert main([str(path), "--last", "1"]) == 0
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line
            for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows[("p232", "voice")].endswith("| 100.0 (1) | 0.0 (2) |")
    assert rows[("p232", "teacher")].endswith("| 0.0 (1) | 0.0 (2) |")
    assert rows[("p232", "copy synthesis")].endswith("| 0.0 (1) | 33.3 (3) |")
    assert ("p232", "teacher-prosody voice") not in rows


def test_a_teacher_at_several_tempos_counts_each_rendering(tmp_path, capsys):
    renderings = [{"tempo": 0.98, "hypothesis": "we went how"},
                  {"tempo": 1.0, "hypothesis": "we went home"}]
    results = {"results": [
        {"kind": "synth", "speaker": "p225", "reference": "we went home",
         "voice": {"hypothesis": "we went home"}, "teacher": {"renderings": renderings}},
        {"kind": "timing", "speaker": "p225", "reference": "we went home",
         "voice": {"hypothesis": "we home"}},
    ]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    assert main([str(path), "--last", "1"]) == 0
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line
            for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows[("p225", "teacher")].endswith("| 50.0 (2) | 0.0 (4) |")
    assert rows[("p225", "teacher-timing voice")].endswith("| 0.0 (1) | 50.0 (2) |")


def test_a_file_that_is_not_benchmark_output_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"speakers": []}')
    assert main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.json" in err
