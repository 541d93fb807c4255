"""μ-law companding and quantization to ``quantization_channels`` classes (256 by default).

The same functions work on numpy arrays and torch tensors (the result has the input's kind).
Class ``quantization_channels // 2`` is (almost) zero amplitude: it is the "silence" input that
starts generation and that precedes the first sample in teacher forcing.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

ArrayLike = TypeVar("ArrayLike", np.ndarray, "torch.Tensor")


def torch_if_tensor(value):
    """torch if ``value`` is a tensor, else None; never imports torch (synthesis runs without)."""
    torch = sys.modules.get("torch")  # a tensor can only exist once torch is imported
    return torch if torch is not None and isinstance(value, torch.Tensor) else None


def silence_class(quantization_channels: int = 256) -> int:
    """The class of a zero sample (what ``mulaw_encode(0.0)`` returns)."""
    return quantization_channels // 2


def mulaw_encode(audio: ArrayLike, quantization_channels: int = 256) -> ArrayLike:
    """Float audio in [-1, 1] → integer classes in [0, quantization_channels).

    Values outside [-1, 1] are clipped. numpy in → int64 numpy out; torch in → int64 tensor out.
    """
    mu = quantization_channels - 1
    torch = torch_if_tensor(audio)
    if torch is not None:
        x = audio.float().clamp(-1.0, 1.0)
        y = torch.sign(x) * torch.log1p(mu * x.abs()) / np.log1p(mu)
        return torch.floor((y + 1.0) / 2.0 * mu + 0.5).long()
    x = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    if not np.isfinite(x).all():
        raise ValueError("mulaw_encode: audio contains NaN; clean the signal before encoding")
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.floor((y + 1.0) / 2.0 * mu + 0.5).astype(np.int64)


def mulaw_decode(classes: ArrayLike, quantization_channels: int = 256) -> ArrayLike:
    """Integer classes → float audio in [-1, 1] (float32), the inverse of :func:`mulaw_encode`."""
    mu = quantization_channels - 1
    torch = torch_if_tensor(classes)
    if torch is not None:
        y = 2.0 * classes.float() / mu - 1.0
        return torch.sign(y) * ((1.0 + mu) ** y.abs() - 1.0) / mu
    c = np.asarray(classes)
    if c.size and (c.min() < 0 or c.max() > mu):
        raise ValueError(
            f"mulaw_decode: classes must lie in [0, {mu}], got [{c.min()}, {c.max()}]"
        )
    y = 2.0 * c.astype(np.float64) / mu - 1.0
    return (np.sign(y) * ((1.0 + mu) ** np.abs(y) - 1.0) / mu).astype(np.float32)
