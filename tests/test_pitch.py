"""F0 and voicing (frontend.pitch): framing shared with the aligner, plausible values on
flite voices and synthetic signals, continuous log-F0, and the pyworld import shim."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from frontend.audio import HOP_LENGTH, SAMPLE_RATE, load_audio, num_frames
from frontend.pitch import METHODS, continuous_log_f0, extract_f0

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite")

SENTENCE = "Later, five hungry geese followed the farmer home."


def pulse_train(f0: float, seconds: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A glottal-like pulse train (rich in harmonics, unlike a sine) through a formant."""
    n = int(round(seconds * sr))
    phase = np.cumsum(np.full(n, f0 / sr))
    pulses = np.diff(np.floor(phase), prepend=0.0)  # 1 at each period start
    kernel = np.exp(-np.arange(200) / 30.0) * np.sin(2 * np.pi * 700 * np.arange(200) / sr)
    return (0.5 * np.convolve(pulses, kernel)[:n] / np.abs(kernel).sum() * 8).astype(np.float32)


@pytest.fixture(scope="module")
def flite_audio(tmp_path_factory):
    if shutil.which("flite") is None:
        pytest.skip("needs flite")
    out = {}
    for voice in ("slt", "awb"):
        wav = tmp_path_factory.mktemp(voice) / f"{voice}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", SENTENCE, "-o", str(wav)], check=True)
        out[voice] = load_audio(wav)
    return out


@needs_flite
def test_female_voice_is_higher_than_male_and_both_plausible(flite_audio):
    medians = {}
    for voice, audio in flite_audio.items():
        f0, voiced = extract_f0(audio)  # harvest, the default
        assert f0.dtype == np.float32 and voiced.dtype == bool
        assert np.all((f0 > 0) == voiced)
        assert 0.3 < voiced.mean() < 0.9, voiced.mean()
        assert np.all((f0[voiced] > 70) & (f0[voiced] < 450))
        medians[voice] = float(np.median(f0[voiced]))
        assert 80 < medians[voice] < 400
    assert medians["slt"] > 1.15 * medians["awb"], medians


@needs_flite
def test_frame_count_matches_the_aligner(flite_audio):
    from frontend.align import Aligner
    from frontend.lexicon import cmudict

    audio = flite_audio["slt"]
    lexicon = cmudict()
    words = [lexicon[w.strip(".,").lower()][0] for w in SENTENCE.split()]
    alignment = Aligner().align(audio, words)
    for method in METHODS:
        f0, voiced = extract_f0(audio, method=method)
        assert len(f0) == len(voiced) == alignment.num_frames == int(alignment.durations.sum())
    # Voiced frames sit in vowels, not in silences.
    f0, voiced = extract_f0(audio, method="dio")
    frame_is = np.repeat(alignment.labels, alignment.durations)  # (T,)
    vowel = np.array([label[-1] in "012" for label in frame_is])
    silence = np.isin(frame_is, ["sil", "sp"])
    assert voiced[vowel].mean() > 0.9 and voiced[silence].mean() < 0.1


@pytest.mark.parametrize("length", [8000, 8001, 8079, 8080, 12345])
def test_frame_count_is_ceil_of_samples_over_hop(length):
    audio = pulse_train(150.0, length / SAMPLE_RATE)
    for method in METHODS:
        f0, voiced = extract_f0(audio, method=method)
        assert len(f0) == len(voiced) == num_frames(length, HOP_LENGTH) == math.ceil(length / 80)


@pytest.mark.parametrize("method", METHODS)
def test_pulse_train_f0_and_voicing_onset_line_up_with_frame_centres(method):
    silence = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    audio = np.concatenate([silence, pulse_train(120.0, 0.4), silence])
    f0, voiced = extract_f0(audio, method=method)
    onset, offset = int(0.3 / 0.005), int(0.7 / 0.005)  # frames 60 and 140
    assert np.median(f0[onset + 10: offset - 10]) == pytest.approx(120.0, rel=0.03)
    assert voiced[onset + 10: offset - 10].mean() > 0.95
    assert not voiced[: onset - 10].any() and not voiced[offset + 10:].any()
    # Voicing starts at the first frame whose centre is past the onset (frame 60) and ends at
    # the last one before the offset (frame 139), give or take the analysis window.
    first, last = int(np.flatnonzero(voiced)[0]), int(np.flatnonzero(voiced)[-1])
    assert abs(first - onset) <= 2 and abs(last - (offset - 1)) <= 3, (first, last)


def test_other_sample_rates_and_hops():
    audio = pulse_train(200.0, 0.5, sr=22050)
    f0, voiced = extract_f0(audio, sr=22050, hop_length=256, method="dio")
    assert len(f0) == math.ceil(len(audio) / 256)
    assert np.median(f0[voiced]) == pytest.approx(200.0, rel=0.03)


def test_bad_arguments_are_refused():
    audio = pulse_train(150.0, 0.5)
    with pytest.raises(ValueError, match="unknown F0 method"):
        extract_f0(audio, method="crepe")
    with pytest.raises(ValueError, match="too short"):
        extract_f0(audio[:400])
    with pytest.raises(ValueError, match="mono"):
        extract_f0(np.stack([audio, audio]))
    with pytest.raises(ValueError, match="f0_floor"):
        extract_f0(audio, f0_floor=500, f0_ceil=100)


def test_continuous_log_f0_interpolates_in_log_and_holds_edges():
    f0 = np.array([0, 0, 100, 0, 0, 0, 400, 0], dtype=np.float32)
    voiced = f0 > 0
    log_f0 = continuous_log_f0(f0, voiced)
    assert log_f0.dtype == np.float32 and log_f0.shape == (8,)
    assert np.allclose(np.exp(log_f0[:3]), 100, rtol=1e-5)
    assert np.allclose(np.exp(log_f0[6:]), 400, rtol=1e-5)
    # Linear in log F0: 100 → 400 over 4 frames doubles every 2 frames.
    assert np.exp(log_f0[4]) == pytest.approx(200, rel=1e-4)
    assert np.all(np.diff(log_f0[2:7]) > 0)
    # A frame flagged voiced with F0 0 is not trusted.
    assert np.allclose(continuous_log_f0(f0, np.ones(8, bool)), log_f0)


def test_continuous_log_f0_refuses_nothing_to_interpolate():
    with pytest.raises(ValueError, match="no voiced frame"):
        continuous_log_f0(np.zeros(5), np.zeros(5, bool))
    with pytest.raises(ValueError, match=r"\(T,\)"):
        continuous_log_f0(np.ones(5), np.ones(4, bool))


def test_pyworld_without_pkg_resources_is_one_clear_error():
    # setuptools >= 81 has no pkg_resources: simulate that in a fresh interpreter.
    code = (
        "import sys\n"
        "sys.modules['pkg_resources'] = None\n"
        "from frontend.pitch import import_pyworld\n"
        "try:\n"
        "    import_pyworld()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
        "print('pkg_resources' in sys.modules and sys.modules['pkg_resources'] is None)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    message, untouched = result.stdout.strip().splitlines()
    assert "pip install 'setuptools<81'" in message
    assert untouched == "True"  # no stand-in module left in sys.modules


@needs_flite
def test_two_pass_removes_the_octave_jumps_of_a_low_voice(tmp_path):
    """kal16 at about 100 Hz: a 60-600 Hz search lets some frames jump up an octave or more;
    the second pass inside the utterance's own range keeps the voicing and drops the jumps."""
    from benchmarks.alignment_accuracy import TEST_SENTENCES

    one_pass_jumps = two_pass_jumps = one_pass_voiced = two_pass_voiced = 0
    for number, text in enumerate(TEST_SENTENCES[:6]):
        wav = tmp_path / f"{number}.wav"
        subprocess.run(["flite", "-voice", "kal16", "-t", text, "-o", str(wav)], check=True)
        audio = load_audio(wav)
        f0, voiced = extract_f0(audio, method="praat")
        f0_2, voiced_2 = extract_f0(audio, method="praat", two_pass=True)
        median = float(np.median(f0[voiced]))
        one_pass_jumps += int(np.sum(voiced & (f0 > 1.6 * median)))
        two_pass_jumps += int(np.sum(voiced_2 & (f0_2 > 1.6 * median)))
        one_pass_voiced += int(voiced.sum())
        two_pass_voiced += int(voiced_2.sum())
    assert one_pass_jumps >= 5  # the problem is real on this voice ...
    assert two_pass_jumps == 0  # ... and gone
    assert two_pass_voiced > 0.9 * one_pass_voiced


def test_two_pass_keeps_a_clean_signal_and_tolerates_little_voicing():
    tone = pulse_train(120.0, 1.0)
    f0, voiced = extract_f0(tone, method="praat", two_pass=True)
    assert voiced.mean() > 0.8 and abs(float(np.median(f0[voiced])) - 120.0) < 3.0
    short = pulse_train(150.0, 0.05)  # under 20 voiced frames: the first pass stands
    np.testing.assert_array_equal(extract_f0(short, method="praat", two_pass=True)[0],
                                  extract_f0(short, method="praat")[0])
