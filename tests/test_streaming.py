"""Sample-level streaming: the shared running batch (vocoder.stream) against the batch generator,
and Synthesizer.stream against synthesize, for several chunk sizes, texts and batchings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from frontend.features import Frontend, FrontendError, split_phrases
from tts.synthesizer import SynthesisError, Synthesizer
from vocoder.generate import Generator
from vocoder.model import WaveNet, WaveNetConfig
from vocoder.stream import StreamingGenerator


def random_generator(lpc_order: int = 0, seed: int = 0) -> Generator:
    config = WaveNetConfig(layers=6, stacks=2, residual_channels=8, gate_channels=12,
                           skip_channels=10, output_channels=9, hop_length=10, cond_channels=5,
                           cond_hidden=7, cond_layers=2, cond_kernel=3, num_speakers=3,
                           speaker_dim=4, lpc_order=lpc_order, mel_bands=8 if lpc_order else 0,
                           mel_fft=64)
    torch.manual_seed(seed)
    model = WaveNet(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    return Generator(model)


def features(frames: list[int], channels: int = 5, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, channels)).astype(np.float32) for n in frames]


@pytest.mark.parametrize("lpc_order", [0, 8])
@pytest.mark.parametrize("tick_samples,threads", [(1, 1), (37, 2), (800, 2)])
def test_streamed_pieces_join_to_the_batch_generators_audio(lpc_order, tick_samples, threads):
    generator = random_generator(lpc_order)
    feats = features([30, 7, 52, 19])
    speakers, seeds = [0, 2, 1, 2], [5, 6, 7, 8]
    expected = generator.generate(feats, speakers, seed=seeds, threads=1)
    engine = StreamingGenerator(generator, threads=threads, tick_samples=tick_samples)
    # Utterances join while others are half done, so the batch changes under every one.
    streams = [engine.submit(feats[0], speakers[0], seed=seeds[0], temperature=1.0)]
    first_piece = next(streams[0])
    streams += [engine.submit(f, s, seed=z, temperature=1.0)
                for f, s, z in zip(feats[1:], speakers[1:], seeds[1:])]
    pieces = [[first_piece, *streams[0]]] + [list(stream) for stream in streams[1:]]
    assert all(0 < len(piece) <= tick_samples for parts in pieces for piece in parts)
    for parts, want in zip(pieces, expected):
        np.testing.assert_array_equal(np.concatenate(parts), want)


def test_utterances_of_other_temperatures_share_the_engine():
    generator = random_generator()
    feats = features([20, 20])
    engine = StreamingGenerator(generator, threads=1, tick_samples=50)
    hot = engine.submit(feats[0], 0, seed=1, temperature=1.0)
    cold = engine.submit(feats[1], 1, seed=2, temperature=0.5)
    np.testing.assert_array_equal(np.concatenate(list(cold)),
                                  generator.generate(feats[1:], [1], temperature=0.5,
                                                     seed=[2])[0])
    np.testing.assert_array_equal(np.concatenate(list(hot)),
                                  generator.generate(feats[:1], [0], seed=[1])[0])


def test_a_closed_stream_stops_generating():
    generator = random_generator()
    engine = StreamingGenerator(generator, threads=1, tick_samples=10, idle_seconds=0.2)
    long = engine.submit(features([5000])[0], 0, seed=1, temperature=1.0)
    next(long)
    long.close()
    deadline = time.monotonic() + 5.0
    while engine._worker is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine._worker is None, "the loop kept running after its only stream was closed"
    produced = long._job.state.time[0]
    assert produced < 5000 * 10


EXIT_WHILE_STREAMING = """
import atexit, sys, time
import numpy as np, torch
from vocoder.generate import Generator
from vocoder.model import WaveNet, WaveNetConfig
from vocoder.stream import StreamingGenerator
config = WaveNetConfig(layers=4, stacks=1, residual_channels=8, gate_channels=12, skip_channels=10,
                       output_channels=9, hop_length=10, cond_channels=5, cond_hidden=7,
                       cond_layers=2, cond_kernel=3, num_speakers=3, speaker_dim=4)
engine = StreamingGenerator(Generator(WaveNet(config).eval()), threads=2, tick_samples=20)
stream = engine.submit(np.zeros((100000, 5), np.float32), 0, seed=1, temperature=1.0)
next(stream)
# atexit runs after concurrent.futures has shut its pools: the loop thread ticks on meanwhile
atexit.register(time.sleep, 1.0)
sys.exit(0)
"""


def test_exiting_mid_stream_is_quiet():
    """``tts say ... | head -c 100`` exits while the loop thread is between ticks."""
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", EXIT_WHILE_STREAMING], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)
    assert done.returncode == 0 and done.stderr == b""


# -- the Synthesizer ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synth(tiny_voice) -> Synthesizer:
    return Synthesizer.from_pretrained(tiny_voice)


LONG_SENTENCE = " ".join(["the old man walked slowly to the market with his dog"] * 7)
TEXTS = [
    "Hello there.",
    "One sentence here. Another one follows! And a third? Then a fourth, and a fifth.",
    LONG_SENTENCE,  # 77 words without a full stop: spoken as phrases
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("chunk_seconds", [0.003, 0.05, 0.25, 5.0])
def test_joined_chunks_equal_synthesize(synth, text, chunk_seconds):
    expected = synth.synthesize(text, speaker="p226", seed=11)
    chunks = list(synth.stream(text, speaker="p226", seed=11, chunk_seconds=chunk_seconds))
    assert max(len(c) for c in chunks) <= int(chunk_seconds * synth.sample_rate)
    np.testing.assert_array_equal(np.concatenate(chunks), expected)


def test_streamed_audio_is_the_per_utterance_vocoding_with_pauses(synth, tiny_voice):
    """An independent rebuild: utterance i vocoded alone with seed + i, sentence pauses between."""
    text = "One sentence here. Another one follows!"
    speaker = synth.speaker_index("p225")
    plans = [synth.plan(u, speaker) for u in synth.phonemize(text)]
    audio = [synth.vocode([p], seeds=[4 + i])[0] for i, p in enumerate(plans)]
    pause = np.zeros(int(round(synth.sentence_pause_s * synth.sample_rate)), np.float32)
    np.testing.assert_array_equal(synth.synthesize(text, speaker="p225", seed=4),
                                  np.concatenate([audio[0], pause, audio[1]]))
    single_thread = Synthesizer.from_pretrained(tiny_voice, threads=1)
    np.testing.assert_array_equal(single_thread.synthesize(text, speaker="p225", seed=4),
                                  synth.synthesize(text, speaker="p225", seed=4))


def test_a_long_sentence_breathes_between_phrases(synth):
    phrases = synth.parse(LONG_SENTENCE)
    assert len(phrases) == 3 and not phrases[0].sentence_end and phrases[-1].sentence_end
    assert all(len(p.normalized.split()) <= 30 for p in phrases)


def test_bad_input_fails_when_stream_is_called_not_when_iterated(synth):
    lines = "\n".join(f"Line number {i} is fine." for i in range(1, 40)) + "\nBut {HH AH0 here."
    with pytest.raises(SynthesisError, match=r"^line 40: unbalanced '\{'"):
        synth.stream(lines, speaker="p225")
    for controls in ({"speed": 0}, {"pitch": 99}, {"temperature": 0}, {"temperature": 5},
                     {"pitch_range": -1}, {"chunk_seconds": 0}):
        with pytest.raises(SynthesisError):
            synth.stream("Hello.", speaker="p225", **controls)
    with pytest.raises(SynthesisError, match="unknown speaker"):
        synth.stream("Hello.", speaker="nobody")


def test_the_error_line_stays_short_for_a_huge_sentence(synth):
    with pytest.raises(SynthesisError) as error:
        synth.stream("word " * 5000 + "{ broken", speaker="p225")
    assert len(str(error.value)) < 300 and "\n" not in str(error.value)


@pytest.mark.parametrize("max_words", [1, 5, 30])
def test_split_phrases_bounds_every_piece_and_keeps_every_word(max_words):
    text = ("so we went down to the river, and then, because it rained, we came back home "
            "while the others stayed; nobody minded at all ") * 5
    pieces = split_phrases(text.strip(), max_words)
    assert all(len([w for w in p.split() if any(c.isalpha() for c in w)]) <= max_words
               for p in pieces)
    words = lambda s: [w.strip(",;") for w in s.split() if w.strip(",;")]  # noqa: E731
    assert [w for p in pieces for w in words(p)] == words(text)


def test_short_sentences_are_not_split_and_phrases_know_their_line():
    frontend = Frontend()
    phrases = frontend.phrases("First line, with a comma.\n\nThird line here.")
    assert [(p.text, p.line, p.sentence_end) for p in phrases] == [
        ("First line, with a comma.", 1, True), ("Third line here.", 3, True)]
    with pytest.raises(FrontendError):
        frontend.phrases("\U0001F600 \u6771\u4eac")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_stream_stops_at_once_and_leaves_no_file(tiny_voice, tmp_path, sig):
    out_dir, text_file = tmp_path / "out", tmp_path / "long.txt"
    out_dir.mkdir()
    text_file.write_text("This is a long text that keeps the vocoder busy for a while. " * 2000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tts", "say", "-f", str(text_file), "--voice", str(tiny_voice),
         "-o", str(out_dir / "out.wav")], stderr=subprocess.PIPE, env=env, cwd=out_dir)
    try:
        deadline = time.monotonic() + 60
        while not list(out_dir.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the hidden temporary appears once audio is being written
        time.sleep(1.0)
        assert process.poll() is None, process.stderr.read().decode()
        sent = time.monotonic()
        process.send_signal(sig)
        process.wait(timeout=10)
        stopped = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == (130 if sig == signal.SIGINT else 143)
    assert stopped < 2.0, f"took {stopped:.2f} s to stop"  # generous for a loaded CI machine
    assert list(out_dir.iterdir()) == [], "a file was left behind"


@pytest.mark.parametrize("lpc_order", [0, 8])
def test_conditioning_blocks_equal_the_whole_utterance(lpc_order):
    """A block computed from the frames within reach is what the whole utterance gives there
    (to float rounding), so computing the conditioning block by block changes nothing."""
    from vocoder.generate import frame_blocks

    generator = random_generator(lpc_order)
    utterance = features([300])[0]
    whole = generator.conditioning_hidden(utterance) @ generator.frame_projection  # (F, L*G)
    blocks = frame_blocks(len(utterance))
    assert blocks[0] == (0, 16) and blocks[-1][1] == 300
    assert all(a == b for (_, a), (b, _) in zip(blocks, blocks[1:]))
    for start, end in blocks:
        projections, filters = generator.frame_block(utterance, start, end)
        np.testing.assert_allclose(projections.reshape(end - start, -1), whole[start:end],
                                   rtol=1e-5, atol=1e-5)
        assert (filters is None) == (lpc_order == 0)


def test_say_reports_a_bad_last_line_before_any_audio(tiny_voice, tmp_path):
    text = "\n".join(f"Sentence number {i} reads well." for i in range(1, 400))
    (tmp_path / "story.txt").write_text(text + "\nThe end {HH AH0.\n")
    result = subprocess.run(
        [sys.executable, "-m", "tts", "say", "-f", "story.txt", "--voice", str(tiny_voice),
         "-o", "story.wav"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tts: error: line 400: unbalanced '{'")
    assert "The end {HH AH0." in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story.txt"]


@pytest.mark.parametrize("option", [["--speed", "0"], ["--temperature", "0"],
                                    ["--pitch", "30"]])
def test_say_rejects_bad_controls_before_loading_the_voice(tmp_path, option):
    result = subprocess.run(
        [sys.executable, "-m", "tts", "say", "Hello.", "--voice", str(tmp_path / "missing"),
         *option], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "must be between" in result.stderr and "voice" not in result.stderr
