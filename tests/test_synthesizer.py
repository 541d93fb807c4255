"""The Synthesizer API, `tts say` and `tts speakers`, on a tiny voice trained in the test from a
tiny real corpus (flite, 2 speakers × 3 sentences) through the project's own recipes
(the ``tiny_voice`` fixture of conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tts.cli import main
from tts.synthesizer import SynthesisError, Synthesizer
from tts.voice import VoiceError, read_voice


@pytest.fixture(scope="session")
def synth(tiny_voice) -> Synthesizer:
    return Synthesizer.from_pretrained(tiny_voice)


def test_voice_directory_holds_json_and_safetensors_only(tiny_voice):
    names = sorted(p.name for p in tiny_voice.iterdir())
    assert names == ["duration.safetensors", "pitch.safetensors", "voice.json",
                     "wavenet.safetensors"]
    data = json.loads((tiny_voice / "voice.json").read_text())
    assert data["sample_rate"] == 16000 and data["hop_length"] == 80
    assert [s["id"] for s in data["speakers"]] == ["p225", "p226"]
    assert all(s["source"].startswith("flite -voice") for s in data["speakers"])
    assert set(data["models"]) == {"duration", "pitch", "wavenet"}


def test_public_import_and_float16_voice_weights(tiny_voice):
    import tts
    from safetensors import safe_open

    assert tts.Synthesizer is Synthesizer
    with safe_open(str(tiny_voice / "wavenet.safetensors"), "pt") as handle:
        assert {str(handle.get_tensor(name).dtype) for name in handle.keys()} == {"torch.float16"}


def test_synthesize_returns_float_audio_of_the_predicted_length(synth):
    assert synth.speakers == ["p225", "p226"]
    assert synth.sample_rate == 16000
    plan = synth.plan(next(synth.phonemize("Hello there.")), synth.speaker_index("p225"))
    audio = synth.synthesize("Hello there.", speaker="p225", seed=0)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.abs(audio).max() <= 1.0
    assert len(audio) == plan.num_frames * 80
    assert plan.conditioning.shape == (plan.num_frames, synth.voice.conditioning.channels)


def test_same_seed_same_audio_different_seed_different_audio(synth):
    first = synth.synthesize("The cat sat down.", speaker="p226", seed=7)
    again = synth.synthesize("The cat sat down.", speaker="p226", seed=7)
    other = synth.synthesize("The cat sat down.", speaker="p226", seed=8)
    np.testing.assert_array_equal(first, again)
    assert len(other) == len(first) and not np.array_equal(first, other)


@pytest.mark.parametrize("chunk_seconds", [0.01, 0.25, 2.0])
def test_stream_chunks_are_bounded_and_join_to_synthesize(synth, chunk_seconds):
    text = "One sentence here. Another one follows! And a third?"
    chunks = list(synth.stream(text, speaker="p225", seed=3, chunk_seconds=chunk_seconds))
    limit = int(chunk_seconds * synth.sample_rate)
    assert all(0 < len(c) <= limit and c.dtype == np.float32 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks),
                                  synth.synthesize(text, speaker="p225", seed=3))


def test_long_text_streams_sentence_by_sentence_in_bounded_memory(synth, traced_memory):
    """100,000 characters are about two hours of speech (~450 MB of float32 audio): the first
    chunks must come out without the rest being phonemized, planned or vocoded."""
    import itertools
    import tracemalloc

    sentence = "The quick brown fox jumps over the lazy dog near the old mill. "
    text = sentence * (100_000 // len(sentence) + 1)
    assert len(text) >= 100_000
    with traced_memory():
        stream = synth.stream(text, speaker="p225", seed=0)
        try:
            chunks = list(itertools.islice(stream, 3))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            stream.close()  # stops the phrases still generating, before tracing stops
    assert len(chunks) == 3 and all(len(c) > 0 for c in chunks)
    assert peak < 50 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB while streaming 3 sentences"


def test_speed_and_pitch_controls_change_the_plan(synth):
    utterance = next(synth.phonemize("A fairly long sentence to time."))
    normal = synth.plan(utterance, 0)
    fast = synth.plan(utterance, 0, speed=2.0)
    high = synth.plan(utterance, 0, pitch=12.0)
    assert fast.num_frames < normal.num_frames * 0.7
    voiced = normal.voiced & high.voiced
    assert voiced.any()
    ratio = np.median(high.f0_hz[voiced] / normal.f0_hz[voiced])
    assert ratio == pytest.approx(2.0, rel=0.02)


def test_given_durations_replace_the_duration_models_and_the_pitch_follows(synth):
    utterance = next(synth.phonemize("A fairly long sentence to time."))
    normal = synth.plan(utterance, 0)
    slow = normal.durations * 2
    given = synth.plan(utterance, 0, durations=slow)
    np.testing.assert_array_equal(given.durations, slow)
    assert given.num_frames == 2 * normal.num_frames
    assert given.f0_hz.shape == given.voiced.shape == (given.num_frames,)
    assert given.conditioning.shape == (given.num_frames, normal.conditioning.shape[1])
    same = synth.plan(utterance, 0, durations=normal.durations)
    np.testing.assert_array_equal(same.conditioning, normal.conditioning)
    for bad, problem in ((normal.durations[:-1], "give one frame count per phoneme"),
                         (normal.durations * 0.5, "whole frame counts"),
                         (-normal.durations, "whole frame counts"),
                         (normal.durations * 0, "not all 0")):
        with pytest.raises(SynthesisError, match=problem):
            synth.plan(utterance, 0, durations=bad)
    with pytest.raises(SynthesisError, match="leave speed at 1"):
        synth.plan(utterance, 0, durations=normal.durations, speed=1.5)


def test_vctk_alias_and_unknown_speaker(synth):
    assert synth.speaker_index("VCTK_p226") == synth.speaker_index("p226")
    with pytest.raises(SynthesisError, match="p225, p226"):
        synth.synthesize("Hello.", speaker="p999")


@pytest.mark.parametrize("text", ["", "   \n\t", "\U0001F600\U0001F600"])
def test_nothing_to_say_is_a_clear_error(synth, text):
    with pytest.raises(SynthesisError):
        synth.synthesize(text, speaker="p225")


def test_concurrent_calls_give_the_same_audio_as_sequential(synth):
    expected = synth.synthesize("Threads share one voice.", speaker="p225", seed=1)
    results: list[np.ndarray] = []
    workers = [threading.Thread(target=lambda: results.append(
        synth.synthesize("Threads share one voice.", speaker="p225", seed=1))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(results) == 3
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_missing_and_corrupt_voice_directories(tmp_path, tiny_voice):
    with pytest.raises(VoiceError, match="not found"):
        Synthesizer.from_pretrained(tmp_path / "nope")
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in tiny_voice.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / "voice.json").write_text("{not json")
    with pytest.raises(VoiceError, match="corrupt"):
        read_voice(broken)
    (broken / "voice.json").write_text((tiny_voice / "voice.json").read_text())
    (broken / "wavenet.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="wavenet.safetensors"):
        Synthesizer.from_pretrained(broken)


# -- command line ----------------------------------------------------------------------------
def run_cli(args, capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def test_say_writes_a_wav_file(tiny_voice, tmp_path, capsys):
    out = tmp_path / "hello.wav"
    code, _, err = run_cli(["say", "Hello there.", "--speaker", "p225", "-o", str(out),
                            "--voice", str(tiny_voice), "--seed", "2"], capsys)
    assert code == 0, err
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 16000 and len(audio) > 1600
    expected = Synthesizer.from_pretrained(tiny_voice).synthesize("Hello there.", "p225", seed=2)
    np.testing.assert_allclose(audio, expected, atol=1.0 / 32767 + 1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_say_default_output_name_and_file_input(tiny_voice, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.txt").write_text("Read me from a file.\n")
    code, _, err = run_cli(["say", "-f", "text.txt", "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    assert (tmp_path / "tts_output.wav").is_file()


@pytest.mark.parametrize("args, message", [
    (["say", "Hi.", "--speaker", "p999"], "unknown speaker"),
    (["say", "   "], "empty"),
    (["say", "Hi.", "-o", "/nonexistent-dir/x.wav"], "does not exist"),
    (["say", "Hi.", "-o", "out.mp3"], ".wav or .flac"),
])
def test_say_bad_input_is_one_line_and_leaves_no_file(args, message, tiny_voice, tmp_path,
                                                      capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args + ["--voice", str(tiny_voice)], capsys)
    assert code != 0
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_say_binary_file_is_refused(tiny_voice, tmp_path, capsys):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = run_cli(["say", "-f", str(binary), "-o", str(tmp_path / "x.wav"),
                            "--voice", str(tiny_voice)], capsys)
    assert code != 0 and "binary" in err and not (tmp_path / "x.wav").exists()


def test_say_raw_stdout_streams_pcm(tiny_voice):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-m", "tts", "say", "First one. Second one.", "--speaker", "p226",
         "-o", "-", "--raw", "--voice", str(tiny_voice)],
        capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    pcm = np.frombuffer(result.stdout, dtype="<i2")
    expected = Synthesizer.from_pretrained(tiny_voice).synthesize(
        "First one. Second one.", "p226", seed=0)
    assert len(pcm) == len(expected)
    np.testing.assert_allclose(pcm / 32767.0, expected, atol=1.5 / 32767)


def test_speakers_json_lists_ids_and_sources(tiny_voice, capsys):
    code, out, err = run_cli(["speakers", "--voice", str(tiny_voice), "--json"], capsys)
    assert code == 0, err
    speakers = json.loads(out)
    assert [s["id"] for s in speakers] == ["p225", "p226"]
    assert all(s["source"].startswith("flite") for s in speakers)


def test_analyze_with_speaker_adds_durations_and_f0(tiny_voice, synth, capsys):
    code, out, err = run_cli(["analyze", "Hello there.", "--json", "--speaker", "p225",
                              "--voice", str(tiny_voice)], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert len(data["durations_ms"]) == len(data["phonemes"]) == len(data["f0_hz"])
    plan = synth.plan(next(synth.phonemize("Hello there.")), 0)
    assert sum(data["durations_ms"]) == pytest.approx(plan.num_frames * 5.0)
    assert all(d >= 0 for d in data["durations_ms"])
    vowels = [f for p, f in zip(data["phonemes"], data["f0_hz"]) if p[-1] in "012"]
    assert all(f == 0.0 or 40.0 < f < 800.0 for f in data["f0_hz"]) and vowels


def test_analyze_unknown_speaker_is_one_line(tiny_voice, capsys):
    code, _, err = run_cli(["analyze", "Hello.", "--speaker", "nobody", "--voice",
                            str(tiny_voice)], capsys)
    assert code != 0 and "unknown speaker" in err and len(err.strip().splitlines()) == 1


def test_export_voice_command_writes_an_identical_voice(tiny_voice, tiny_prepared, tmp_path,
                                                        capsys):
    out = tmp_path / "exported"
    code, _, err = run_cli(["export-voice", "--prep", str(tiny_prepared), "--prosody",
                            str(tiny_voice.parent / "prosody"), "--wavenet",
                            str(tiny_voice.parent / "wavenet"), "-o", str(out)], capsys)
    assert code == 0, err
    from safetensors.numpy import load_file

    # Compare tensors, not bytes: safetensors writes its metadata map in hash order.
    for name in ("duration.safetensors", "pitch.safetensors", "wavenet.safetensors"):
        exported, original = load_file(out / name), load_file(tiny_voice / name)
        assert exported.keys() == original.keys()
        for key, value in original.items():
            np.testing.assert_array_equal(exported[key], value)
    assert read_voice(out).speakers == read_voice(tiny_voice).speakers
