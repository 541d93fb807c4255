"""Shared fixtures: a tiny demo corpus and its prepared form, built once per test session.

``tiny_corpus``   2 speakers x 3 sentences rendered with flite in the VCTK 0.92 layout
                  (p225: female, slt voice; p226: male, awb voice).
``tiny_prepared`` that corpus through ``recipes.vctk.prepare`` (all 5 stages, 2 jobs): a
                  prepared-corpus directory as described in recipes/vctk/README.md.
``tiny_voice``    a voice directory trained on ``tiny_prepared`` for a few steps (tiny prosody
                  models and WaveNet) and exported with ``tts.voice.export_voice``; it speaks
                  noise, but through every real code path.

Both are shared by every test file: treat them as read-only (copy with ``shutil.copytree``
into ``tmp_path`` before changing anything).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

# No sys.path edits: recipes/ and tts_common/ (the prepared-corpus format) are installed, and
# setup.cfg's pythonpath puts the repository root (for benchmarks/) on the path of plain pytest.


def wait_for_idle_generation(timeout: float = 30.0) -> None:
    """Until no streaming-generation loop ("wavenet-stream") runs in the process."""
    deadline = time.monotonic() + timeout
    while any(t.name == "wavenet-stream" for t in threading.enumerate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"a wavenet-stream thread still runs after {timeout:g} s")
        time.sleep(0.05)


@pytest.fixture
def traced_memory():
    """A context manager that traces Python allocations (``tracemalloc``) inside its block,
    started and stopped only while no generation thread runs, so that an earlier test's stream
    neither counts in the block nor allocates as tracing stops. Stop the block's own streams
    inside it. (CPython's tracemalloc crashes, a NULL traceback in traceback_new, when it stops
    during an allocation made without the GIL; the numba kernels make none, as
    tests/test_kernel_allocations.py checks.)"""

    @contextlib.contextmanager
    def traced():
        wait_for_idle_generation()
        tracemalloc.start()
        try:
            yield
        finally:
            wait_for_idle_generation()
            tracemalloc.stop()

    return traced


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipes.demo.make_corpus import make_corpus

    return make_corpus(tmp_path_factory.mktemp("tiny_corpus") / "vctk", speakers=2,
                       sentences_per_speaker=3, jobs=1, seed=0)


@pytest.fixture(scope="session")
def tiny_prepared(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipes.vctk.prepare import PrepareConfig, prepare

    prep_dir = tmp_path_factory.mktemp("tiny_prepared") / "prep"
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep_dir, jobs=2, progress=False))
    return prep_dir


@pytest.fixture(scope="session")
def tiny_voice(tiny_prepared, tmp_path_factory) -> Path:
    from frontend.prosody_train import ProsodyTrainConfig
    from frontend.prosody_train import train as train_prosody
    from tts.voice import export_voice
    from vocoder.model import WaveNetConfig
    from vocoder.train import WaveNetTrainConfig, train

    root = tmp_path_factory.mktemp("tiny_voice")
    prosody_exp, wavenet_exp = root / "prosody", root / "wavenet"
    small = ProsodyTrainConfig(max_steps=8, batch_size=2, warmup_steps=1, eval_every=4,
                               log_every=4)
    train_prosody("duration", tiny_prepared, prosody_exp, small,
                  ["hidden=16", "conv_layers=1", "speaker_dim=4"])
    train_prosody("pitch", tiny_prepared, prosody_exp, small,
                  ["hidden=16", "frame_hidden=8", "conv_layers=1", "speaker_dim=4"])
    train(WaveNetTrainConfig(prep_dir=str(tiny_prepared), out_dir=str(wavenet_exp), batch_size=2,
                             window_frames=8, max_steps=4, warmup_steps=1, eval_every=4,
                             ckpt_every=4, log_every=2, val_windows=2, aux_mel_bands=16,
                             num_threads=1),
          WaveNetConfig(layers=4, stacks=2, residual_channels=8, gate_channels=16,
                        skip_channels=16, cond_hidden=16, cond_layers=1, speaker_dim=4))
    return export_voice(tiny_prepared, prosody_exp, wavenet_exp, root / "voice", name="tiny")


@pytest.fixture(scope="session")
def tiny_excitation_voice(tiny_prepared, tiny_voice, tmp_path_factory) -> Path:
    """``tiny_voice``'s prosody models with a tiny WaveNet in excitation mode (LPC order 12)."""
    from tts.voice import export_voice
    from vocoder.model import WaveNetConfig
    from vocoder.train import WaveNetTrainConfig, train

    root = tmp_path_factory.mktemp("tiny_excitation_voice")
    train(WaveNetTrainConfig(prep_dir=str(tiny_prepared), out_dir=str(root / "wavenet"),
                             batch_size=2, window_frames=8, max_steps=2, warmup_steps=1,
                             eval_every=2, ckpt_every=2, log_every=1, val_windows=2,
                             num_threads=1),
          WaveNetConfig(layers=4, stacks=2, residual_channels=8, gate_channels=16,
                        skip_channels=16, cond_hidden=16, cond_layers=1, speaker_dim=4,
                        lpc_order=12, mel_bands=20))
    return export_voice(tiny_prepared, tiny_voice.parent / "prosody", root / "wavenet",
                        root / "voice", name="tiny-excitation")


@pytest.fixture
def umask_022():
    """Run the test under umask 022 (what most systems use), whatever the session's is."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)
