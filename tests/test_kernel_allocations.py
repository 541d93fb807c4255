"""The numba kernels allocate nothing while they run without the GIL.

They are compiled ``nogil``, and an allocation inside one goes through Python's raw allocator
without the GIL: with tracemalloc tracing, that races ``tracemalloc.stop()`` and crashes
CPython (``traceback_new``). So every buffer a kernel writes is allocated by its caller. The
numba runtime counts its allocations; a call's only ones are the wrapper's, one per array
argument it unboxes (with the GIL held), so a kernel that allocated would exceed that.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vocoder.generate
import vocoder.lpc
from vocoder.generate import Generator
from vocoder.lpc import inverse_filter, power_to_lpc, synthesis_filter
from vocoder.model import WaveNet, WaveNetConfig

from numba.core.runtime import _nrt_python, rtsys  # isort: skip


def counting(monkeypatch, module, name: str) -> list[tuple[int, int]]:
    """Wrap kernel ``module.name`` so that each call records (runtime allocations during the
    call, array arguments); the real kernel runs."""
    kernel, calls = getattr(module, name), []

    def counted(*args):
        def copied():
            return [a.copy() if isinstance(a, np.ndarray) else a for a in args]

        kernel(*copied())  # compiled (or loaded from the cache) before counting
        arrays = sum(isinstance(a, np.ndarray) for a in args)
        copies = copied()
        enabled = _nrt_python.memsys_stats_enabled()
        _nrt_python.memsys_enable_stats()
        try:
            before = rtsys.get_allocation_stats().alloc
            result = kernel(*copies)
            calls.append((rtsys.get_allocation_stats().alloc - before, arrays))
        finally:
            if not enabled:
                _nrt_python.memsys_disable_stats()
        for original, copy in zip(args, copies):  # the counted call's results are the ones
            if isinstance(original, np.ndarray):
                original[...] = copy
        return result

    monkeypatch.setattr(module, name, counted)
    return calls


def test_lpc_kernels_allocate_nothing(monkeypatch):
    calls = {name: counting(monkeypatch, vocoder.lpc, name)
             for name in ("_levinson", "_filter", "_synthesize")}
    rng = np.random.default_rng(0)
    power = np.abs(rng.standard_normal((257, 6))) + 1.0  # (bins, T)
    coefficients = power_to_lpc(power, 8, 16000)  # (T, 9)
    audio = rng.standard_normal(6 * 40)
    residual = inverse_filter(audio, coefficients, 40)
    chunks = [residual[:3], residual[3:100], residual[100:]]  # one shorter than the order
    filter_ = vocoder.lpc.SynthesisFilter(coefficients, 40)
    np.testing.assert_allclose(np.concatenate([filter_(c) for c in chunks]), audio, atol=1e-9)
    np.testing.assert_allclose(synthesis_filter(residual, coefficients, 40), audio, atol=1e-9)
    for name, made in calls.items():
        assert made, f"{name} was not called"
        for allocations, arrays in made:
            assert allocations <= arrays, f"{name} allocated {allocations - arrays} time(s)"


@pytest.mark.parametrize("lpc_order", [0, 4])
def test_the_sample_loop_allocates_nothing(monkeypatch, lpc_order):
    calls = counting(monkeypatch, vocoder.generate, "_run")
    torch.manual_seed(0)
    config = WaveNetConfig(layers=4, stacks=2, residual_channels=8, gate_channels=12,
                           skip_channels=10, output_channels=9, hop_length=10, cond_channels=3,
                           cond_hidden=5, cond_layers=1, cond_kernel=3, num_speakers=2,
                           speaker_dim=4, lpc_order=lpc_order)
    generator = Generator(WaveNet(config).eval())
    features = [np.zeros((frames, 3), np.float32) for frames in (5, 8, 3)]
    audio = generator.generate(features, speakers=[0, 1, 1], seed=0, threads=1)
    assert [len(a) for a in audio] == [50, 80, 30]
    assert calls
    for allocations, arrays in calls:
        assert allocations <= arrays, f"the sample loop allocated {allocations - arrays} time(s)"


def test_the_loop_buffers_are_cache_line_aligned_and_shaped_for_the_model():
    config = WaveNetConfig(layers=4, stacks=2, residual_channels=8, gate_channels=12,
                           skip_channels=10, output_channels=9, num_speakers=0, cond_channels=0)
    generator = Generator(WaveNet(config).eval())
    buffers = generator.loop_buffers(3)
    assert all(b.ctypes.data % 64 == 0 and b.flags.c_contiguous for b in buffers)
    assert buffers.gate_in.shape == (3, 16) and buffers.gated.shape == (3, 6)
    assert buffers.skip.shape == (3, 10) and buffers.unfinished.shape == (3,)
    assert buffers.gate.shape[1] % 64 == 0 and buffers.gate.shape[1] >= 12  # whole tiles
