"""The default voice shipped inside the package: what issue 6 promises of it.

These run the real bundled WaveNet on short sentences (a second or two of audio each), so they
also catch a voice that loads but renders silence, noise of the wrong length, or one pitch for
every speaker.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from frontend.pitch import extract_f0
from tts.synthesizer import Synthesizer
from tts.voice import bundled_voice_dir, read_voice

MAX_VOICE_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def default_synth() -> Synthesizer:
    return Synthesizer.from_pretrained()


def test_bundled_voice_is_in_the_package_small_and_pickle_free():
    directory = bundled_voice_dir()
    spec = read_voice(directory)  # validates voice.json and that every weights file exists
    files = sorted(p.name for p in directory.iterdir())
    assert files == ["duration.safetensors", "pitch.safetensors", "voice.json",
                     "wavenet.safetensors"]
    assert sum(p.stat().st_size for p in directory.iterdir()) <= MAX_VOICE_BYTES
    ids = [s.id for s in spec.speakers]
    assert len(ids) >= 8 and "p225" in ids
    assert all(s.source.startswith("flite -voice") for s in spec.speakers)
    assert spec.sample_rate == 16000


def test_default_voice_speaks_with_the_planned_length_and_quiet_pauses(default_synth):
    text = "Hello there, this is the default voice."
    utterance = next(default_synth.phonemize(text))
    plan = default_synth.plan(utterance, default_synth.speaker_index("p225"))
    audio = default_synth.synthesize(text, speaker="p225", seed=0)
    hop = default_synth.voice.hop_length
    assert audio.dtype == np.float32 and np.isfinite(audio).all()
    assert len(audio) == plan.num_frames * hop
    # Speech-like: clearly audible, and much quieter in the planned pauses than in the phonemes.
    ends = np.cumsum(plan.durations) * hop
    starts = ends - plan.durations * hop
    pause = np.isin(np.asarray(plan.utterance.phonemes), ["sil", "sp"])
    assert pause.any() and (~pause).any()
    in_pause = np.concatenate([audio[a:b] for a, b, p in zip(starts, ends, pause) if p])
    in_speech = np.concatenate([audio[a:b] for a, b, p in zip(starts, ends, pause) if not p])
    speech_rms = np.sqrt(np.mean(in_speech ** 2))
    pause_rms = np.sqrt(np.mean(in_pause ** 2))
    assert speech_rms > 0.02
    assert pause_rms < 0.3 * speech_rms, (pause_rms, speech_rms)


def test_default_voice_speakers_differ_in_pitch(default_synth):
    """p225 is rendered from a female flite voice, p226 from a male one: the WaveNet's output
    pitch must follow (measured on the audio, not read from the plan)."""
    info = {s.id: s for s in default_synth.speaker_info}
    female = next(s.id for s in default_synth.speaker_info if s.gender == "F")
    male = next(s.id for s in default_synth.speaker_info if s.gender == "M")
    medians = {}
    for speaker in (female, male):
        audio = default_synth.synthesize("We were away a year ago.", speaker=speaker, seed=0)
        f0, voiced_flags = extract_f0(audio, default_synth.sample_rate, method="praat")
        voiced = f0[voiced_flags]
        assert voiced.size > 20, f"{speaker} ({info[speaker].source}) came out unvoiced"
        medians[speaker] = float(np.median(voiced))
    assert medians[female] > 1.2 * medians[male], medians


def test_tts_say_writes_speech_from_the_default_voice(tmp_path):
    out = tmp_path / "hello.wav"
    result = subprocess.run(
        [sys.executable, "-m", "tts", "say", "Hello there.", "--speaker", "p225", "-o", str(out)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(out)
    assert rate == 16000 and len(audio) > 0.4 * rate
    listed = subprocess.run([sys.executable, "-m", "tts", "speakers", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    ids = [entry["id"] for entry in json.loads(listed.stdout)]
    assert "p225" in ids and len(ids) >= 8
