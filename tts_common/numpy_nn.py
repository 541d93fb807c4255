"""The few neural-network layers that synthesis runs in numpy, so that it needs no torch.

The prosody models (``frontend.prosody``) and the WaveNet's frame-rate half
(``vocoder.generate``) are trained as torch modules in float32 and run here at inference; each
user tests its numpy forward against its torch module.

The matrix products go to the BLAS, whose summation order depends on how many threads it
splits a product over, so results could differ in their last bits between one and two threads
(and the WaveNet's sampling then drifts apart). Synthesis therefore runs them on one BLAS thread
(``tts_common.threads.single_threaded_blas``, which every caller holds). The prosody networks
compute in float64, which costs them nothing at their size; the WaveNet's frame-rate half, 17
convolutions 256 channels wide over every frame, computes in float32, its training precision,
at half the cost.
"""

from __future__ import annotations

import numpy as np


def conv1d_taps(weight: np.ndarray) -> np.ndarray:
    """An ``nn.Conv1d`` weight (C_out, C_in, k) laid out for :func:`conv1d_same`: (k, C_in,
    C_out), stored float32 (half the memory; widened one tap at a time when used)."""
    return np.ascontiguousarray(np.asarray(weight, np.float32).transpose(2, 1, 0))


def conv1d_same(x: np.ndarray, taps: np.ndarray, bias: np.ndarray,
                dtype: type = np.float64) -> np.ndarray:
    """A centred ``nn.Conv1d`` over time (odd kernel k, zero padding k // 2):
    x (T, C_in), taps (k, C_in, C_out) from :func:`conv1d_taps`, bias (C_out,) → (T, C_out)
    in ``dtype``, as a sum of k shifted matrix products."""
    kernel = taps.shape[0]
    pad = kernel // 2
    length = x.shape[0]
    padded = np.zeros((length + 2 * pad, x.shape[1]), dtype)  # (T + 2 pad, C_in)
    padded[pad:pad + length] = x
    out = np.empty((length, taps.shape[2]), dtype)  # (T, C_out)
    out[:] = bias
    for k in range(kernel):
        out += padded[k:k + length] @ taps[k].astype(dtype, copy=False)
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
