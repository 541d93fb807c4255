"""Forced alignment (frontend.align), audio I/O (frontend.audio) and ``tts align``.

The reference is flite: it prints the end time of every phone it renders (``-psdur``), so an
alignment of its audio can be checked against the truth.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from frontend.align import Aligner, AlignerConfig, AlignmentError, align
from frontend.audio import (
    HOP_LENGTH, SAMPLE_RATE, AudioError, load_audio, num_frames, trim_silence, write_wav_atomic,
)
from frontend.lexicon import cmudict
from frontend.phonemes import SILENCES, split_stress
from tts.cli import main

pytestmark = pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite")

SENTENCE = "After lunch, the boys walked home slowly."
FLITE_NAMES = {"ax": "AH", "axr": "ER", "el": "L", "em": "M", "en": "N", "pau": "sil"}


def render(text: str, wav: Path, voice: str = "slt") -> list[tuple[str, float, float]]:
    """Render with flite; returns its segments as (phone, start_s, end_s)."""
    stdout = subprocess.run(
        ["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(wav)],
        capture_output=True, text=True, check=True,
    ).stdout
    segments, start = [], 0.0
    for token in stdout.split():
        name, _, end = token.rpartition(":")
        segments.append((FLITE_NAMES.get(name, name.upper()), start, float(end)))
        start = float(end)
    return segments


def words_of(text: str) -> list[list[str]]:
    lexicon = cmudict()
    return [lexicon[word.strip(".,").lower()][0] for word in text.split()]


@pytest.fixture(scope="module")
def rendering(tmp_path_factory):
    wav = tmp_path_factory.mktemp("flite") / "slt.wav"
    segments = render(SENTENCE, wav)
    audio = load_audio(wav)
    words = words_of(SENTENCE)
    # The check below is only meaningful if flite said exactly our phonemes.
    flite_speech = [phone for phone, _, _ in segments if phone not in SILENCES]
    assert flite_speech == [split_stress(p)[0] for word in words for p in word]
    return wav, audio, words, segments


@pytest.fixture(scope="module")
def aligner():
    return Aligner()


@pytest.fixture(scope="module")
def refined(rendering, aligner):
    _, audio, words, _ = rendering
    return aligner.align(audio, words)


def boundary_errors(segments, alignment) -> np.ndarray:
    """|error| in seconds of the end of every speech phone."""
    reference = [end for phone, _, end in segments if phone not in SILENCES]
    aligned = [p.end_s for p in alignment.phones if p.phone not in SILENCES]
    assert len(reference) == len(aligned)
    return np.abs(np.asarray(aligned) - np.asarray(reference))


# ---------------------------------------------------------------------------------------------
# align()


def test_alignment_has_our_phonemes_in_order_and_covers_every_frame(rendering, refined):
    _, audio, words, _ = rendering
    labels = refined.labels
    assert labels[0] == "sil" and labels[-1] == "sil"
    assert [label for label in labels if label not in SILENCES] == [p for w in words for p in w]
    assert set(labels[1:-1]) - {p for w in words for p in w} <= {"sp"}
    durations = refined.durations
    assert durations.min() >= 1
    assert int(durations.sum()) == refined.num_frames == math.ceil(len(audio) / HOP_LENGTH)
    for before, after in zip(refined.phones, refined.phones[1:]):
        assert before.end == after.start
    assert refined.phones[0].start == 0
    for phone in refined.phones:
        assert phone.start_s == pytest.approx(phone.start * HOP_LENGTH / SAMPLE_RATE)
        assert phone.end_s == pytest.approx(phone.end * HOP_LENGTH / SAMPLE_RATE)
    # Speech phones know their word, silences do not.
    word_of = [p.word_index for p in refined.phones if p.phone not in SILENCES]
    assert word_of == [i for i, w in enumerate(words) for _ in w]


def test_boundaries_agree_with_flite(rendering, refined):
    _, _, _, segments = rendering
    errors = boundary_errors(segments, refined)
    assert np.mean(errors <= 0.025) >= 0.75, np.round(errors * 1000)
    assert np.median(errors) <= 0.015
    # The comma's pause (flite: 'pau' after "lunch") is found as sp: most of it, not much more.
    _, pause_start, pause_end = next(seg for seg in segments[1:-1] if seg[0] == "sil")
    found = [(p.start_s, p.end_s) for p in refined.phones if p.phone == "sp"]
    assert len(found) == 1, found
    start, end = found[0]
    overlap = min(end, pause_end) - max(start, pause_start)
    assert overlap >= 0.7 * (pause_end - pause_start), (found, pause_start, pause_end)
    assert end - start <= pause_end - pause_start + 0.06


def test_raw_pocketsphinx_is_valid_and_no_better_than_refined(rendering, refined):
    _, audio, words, segments = rendering
    raw = align(audio, words, refine=False)
    assert [p for p in raw.labels if p not in SILENCES] == [p for w in words for p in w]
    assert int(raw.durations.sum()) == raw.num_frames
    # Refinement exists to beat this (benchmarks/alignment_accuracy.py measures by how much).
    assert np.median(boundary_errors(segments, refined)) < np.median(boundary_errors(segments, raw))


def test_other_hop_lengths_keep_the_frame_contract(rendering):
    _, audio, words, _ = rendering
    alignment = Aligner(AlignerConfig(hop_length=256)).align(audio, words)
    assert alignment.num_frames == math.ceil(len(audio) / 256) == int(alignment.durations.sum())
    assert alignment.durations.min() >= 1


def test_to_json_shape(refined):
    data = refined.to_json()
    assert list(data) == ["phones"]
    phones = data["phones"]
    assert phones[0] == {"phone": "SIL", "start": 0.0, "end": phones[0]["end"]}
    for entry in phones:
        assert set(entry) == {"phone", "start", "end"}
        assert entry["phone"] == "SIL" or split_stress(entry["phone"])
        assert entry["end"] > entry["start"]
    assert all(a["end"] == b["start"] for a, b in zip(phones, phones[1:]))


@pytest.mark.parametrize("words, message", [
    ([], "no words"),
    ([["HH", "AH0"], []], "without phonemes"),
    ([["HH", "sp", "AH0"]], "silences"),
    ([["HH", "XX"]], "unknown phoneme"),
    (["HH AH0"], "one list of phonemes per word"),
])
def test_bad_transcripts_are_refused(rendering, aligner, words, message):
    _, audio, _, _ = rendering
    with pytest.raises(ValueError, match=message):
        aligner.align(audio, words)


def test_audio_the_aligner_cannot_fit(rendering, aligner):
    _, audio, words, _ = rendering
    with pytest.raises(ValueError, match="mono"):
        aligner.align(np.stack([audio, audio]), words)
    with pytest.raises(AlignmentError, match="too short"):
        aligner.align(audio[:800], words)
    with pytest.raises(AlignmentError, match="silent"):
        aligner.align(np.zeros(SAMPLE_RATE, np.float32), words)
    # 0.5 s cannot hold ~100 phonemes (pocketsphinx needs >= 3 frames per phoneme).
    with pytest.raises(AlignmentError):
        aligner.align(audio[:SAMPLE_RATE // 2], words * 8)


# ---------------------------------------------------------------------------------------------
# frontend.audio


def test_num_frames_is_ceil():
    assert [num_frames(n, 80) for n in (0, 1, 79, 80, 81, 160)] == [0, 1, 1, 1, 2, 2]


def test_stereo_44k_8bit_wav_loads_as_mono_16k(tmp_path):
    rate, seconds = 44100, 0.5
    t = np.arange(int(rate * seconds)) / rate
    left = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, left], axis=1), rate, subtype="PCM_U8")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - seconds * SAMPLE_RATE) <= 2
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)[spectrum.argmax()]
    assert peak_hz == pytest.approx(440, abs=3)
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.03)  # 8-bit is coarse


def test_broken_files_raise_audio_error_naming_the_file(tmp_path, rendering):
    wav, audio, _, _ = rendering
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AudioError, match="empty.wav"):
        load_audio(empty)
    flac = tmp_path / "speech.flac"
    sf.write(flac, audio, SAMPLE_RATE)
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    with pytest.raises(AudioError, match="truncated.flac"):
        load_audio(truncated)
    cut_wav = tmp_path / "cut.wav"
    cut_wav.write_bytes(wav.read_bytes()[:20000])
    with pytest.raises(AudioError, match="truncated"):
        load_audio(cut_wav)
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    with pytest.raises(AudioError, match="notes.wav"):
        load_audio(text)
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "missing.wav")


def test_write_wav_atomic_roundtrip_and_replace(tmp_path):
    path = tmp_path / "out.wav"
    path.write_bytes(b"old")
    signal = (0.25 * np.sin(np.linspace(0, 200, 8000))).astype(np.float32)
    write_wav_atomic(path, signal, SAMPLE_RATE)
    back, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE and np.max(np.abs(back - signal)) < 1e-4
    write_wav_atomic(path, signal * 8, SAMPLE_RATE)  # clipped, not wrapped around
    assert np.abs(sf.read(path)[0]).max() <= 1.0 and sf.read(path)[0].max() > 0.99
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temporary file left
    with pytest.raises(ValueError, match="NaN"):
        write_wav_atomic(path, np.full(10, np.nan, np.float32), SAMPLE_RATE)
    assert sf.read(path)[0].shape == (8000,)  # the old file survives a failed write


def test_trim_silence_finds_the_sound():
    tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(8000) / SAMPLE_RATE)
    audio = np.concatenate([np.zeros(4000), tone, np.zeros(6000)]).astype(np.float32)
    trimmed, (start, end) = trim_silence(audio, SAMPLE_RATE, top_db=40)
    assert abs(start - 4000) <= 160 and abs(end - 12000) <= 160
    assert len(trimmed) == end - start


# ---------------------------------------------------------------------------------------------
# tts align


def run_cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["align", *map(str, args)])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_cli_json(capsys, rendering):
    wav, audio, words, _ = rendering
    code, out, err = run_cli(capsys, wav, SENTENCE, "--json")
    assert code == 0, err
    data = json.loads(out)
    phones = data["phones"]
    assert [p["phone"] for p in phones if p["phone"] != "SIL"] == [p for w in words for p in w]
    assert phones[0]["start"] == 0.0
    assert phones[-1]["end"] == pytest.approx(math.ceil(len(audio) / HOP_LENGTH) * 0.005)
    assert [w["word"] for w in data["words"]] == ["after", "lunch", "the", "boys", "walked",
                                                 "home", "slowly"]


def test_cli_converts_stereo_44k_8bit_and_plots(capsys, tmp_path, rendering):
    _, audio, _, _ = rendering
    import soxr

    stereo = tmp_path / "stereo.wav"
    resampled = soxr.resample(audio, SAMPLE_RATE, 44100)
    sf.write(stereo, np.stack([resampled, resampled], axis=1), 44100, subtype="PCM_U8")
    transcript = tmp_path / "transcript.txt"
    transcript.write_text(SENTENCE + "\n", encoding="utf-8")
    plot = tmp_path / "alignment.png"
    code, out, err = run_cli(capsys, stereo, "-t", transcript, "--plot", plot)
    assert code == 0, err
    assert "lunch" in out and "SIL" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 20000


@pytest.mark.parametrize("make, args, message", [
    ("wav", ["Привет, как дела?"], "no speakable words"),
    ("wav", ["   "], "no speakable words"),
    ("empty", ["hello"], "empty"),
    ("truncated", ["hello"], "truncated.flac"),
    ("wav", ["hello", "--plot", "out.jpg"], ".png"),
    ("wav", [], "transcript"),
])
def test_cli_bad_input_is_one_line(capsys, tmp_path, rendering, make, args, message):
    wav, audio, _, _ = rendering
    path = wav
    if make == "empty":
        path = tmp_path / "empty.wav"
        path.touch()
    elif make == "truncated":
        flac = tmp_path / "full.flac"
        sf.write(flac, audio, SAMPLE_RATE)
        path = tmp_path / "truncated.flac"
        path.write_bytes(flac.read_bytes()[:3000])
    code, out, err = run_cli(capsys, path, *args)
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tts: error:"), err
    assert message in lines[0]
    assert "Traceback" not in err
