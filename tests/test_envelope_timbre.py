"""benchmarks/envelope_timbre.py: whose timbre a predicted envelope has."""

from __future__ import annotations

import numpy as np

from benchmarks.envelope_timbre import distance, main, shape, split_end, with_voice


def test_another_voice_keeps_the_speaker_s_pitch_and_rate():
    args = ["-voice", "kal16", "--setf", "int_f0_target_mean=195", "--setf", "duration_stretch=1"]
    assert with_voice(args, "slt") == ["-voice", "slt", "--setf", "int_f0_target_mean=195",
                                       "--setf", "duration_stretch=1"]
    assert with_voice(["--setf", "duration_stretch=1"], "awb")[:2] == ["-voice", "awb"]


def test_distance_is_of_spectral_shape_along_the_best_alignment():
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(80, 30))  # (bands, F) log-mel
    a = shape(frames)
    assert distance(a, shape(frames + 3.0)) < 1e-12  # louder: the same shape
    assert distance(a, shape(np.repeat(frames, 2, axis=1))) == 0.0  # slower: DTW aligns it
    other = shape(rng.normal(size=(80, 30)))
    assert distance(a, other) > 0.5


def test_the_end_of_the_speech_is_its_last_half_second():
    errors = np.concatenate([np.full(300, 0.5), np.full(100, 2.0)])  # 100 frames of 5 ms
    assert split_end(errors, hop=80) == (2.0, 0.5)
    assert split_end(np.array([1.0, 3.0]), hop=80) == (3.0, 1.0)  # shorter: one frame each


def test_a_waveform_voice_is_one_line(tiny_voice, tiny_prepared, capsys):
    assert main(["--voice", str(tiny_voice), "--prep", str(tiny_prepared),
                 "--utterances", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "excitation voice" in err
