"""The few neural-network layers that synthesis runs in numpy, so that it needs no torch.

The prosody models (``frontend.prosody``) and the WaveNet's frame-rate half
(``vocoder.generate``) are trained as torch modules in float32 and run here at inference; each
user tests its numpy forward against its torch module.

The arithmetic is float64, and callers round their outputs to float32 once at the end. That is
not for precision: the matrix products go to the BLAS, whose summation order depends on how many
threads it splits a product over, so float32 results differ in their last bits between one and
two threads (and the WaveNet's sampling then drifts apart). In float64 those differences are
~1e-16 relative, and rounding to float32 removes them except for the ~1e-7 of values that land
next to a rounding boundary: the audio for a seed no longer depends on the thread count in
practice (tested), at a cost of a few milliseconds per sentence.
"""

from __future__ import annotations

import numpy as np


def conv1d_taps(weight: np.ndarray) -> np.ndarray:
    """An ``nn.Conv1d`` weight (C_out, C_in, k) laid out for :func:`conv1d_same`: (k, C_in,
    C_out), stored float32 (half the memory; widened one tap at a time when used)."""
    return np.ascontiguousarray(np.asarray(weight, np.float32).transpose(2, 1, 0))


def conv1d_same(x: np.ndarray, taps: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A centred ``nn.Conv1d`` over time (odd kernel k, zero padding k // 2):
    x (T, C_in), taps (k, C_in, C_out) from :func:`conv1d_taps`, bias (C_out,) → (T, C_out)
    float64, as a sum of k shifted matrix products."""
    kernel = taps.shape[0]
    pad = kernel // 2
    length = x.shape[0]
    padded = np.zeros((length + 2 * pad, x.shape[1]), np.float64)  # (T + 2 pad, C_in)
    padded[pad:pad + length] = x
    out = np.empty((length, taps.shape[2]), np.float64)  # (T, C_out)
    out[:] = bias
    for k in range(kernel):
        out += padded[k:k + length] @ taps[k].astype(np.float64)
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
