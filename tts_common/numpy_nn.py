"""The few neural-network layers that synthesis runs in numpy (float32), so that it needs no torch.

The prosody models (``frontend.prosody``) and the WaveNet's frame-rate half
(``vocoder.generate``) are trained as torch modules and run here at inference; each user tests
its numpy forward against its torch module.
"""

from __future__ import annotations

import numpy as np


def conv1d_taps(weight: np.ndarray) -> np.ndarray:
    """An ``nn.Conv1d`` weight (C_out, C_in, k) laid out for :func:`conv1d_same`: (k, C_in, C_out)."""
    return np.ascontiguousarray(np.asarray(weight, np.float32).transpose(2, 1, 0))


def conv1d_same(x: np.ndarray, taps: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A centred ``nn.Conv1d`` over time (odd kernel k, zero padding k // 2):
    x (T, C_in), taps (k, C_in, C_out) from :func:`conv1d_taps`, bias (C_out,) → (T, C_out)
    float32, as a sum of k shifted matrix products."""
    kernel = taps.shape[0]
    pad = kernel // 2
    length = x.shape[0]
    padded = np.zeros((length + 2 * pad, x.shape[1]), np.float32)  # (T + 2 pad, C_in)
    padded[pad:pad + length] = x
    out = np.empty((length, taps.shape[2]), np.float32)  # (T, C_out)
    out[:] = bias
    for k in range(kernel):
        out += padded[k:k + length] @ taps[k]
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))
