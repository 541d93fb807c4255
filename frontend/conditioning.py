"""The WaveNet's local conditioning: one row per 5 ms frame, built the same way for training
(from a prepared corpus) and for synthesis (from predicted durations and F0).

Column layout of ``wavenet_conditioning`` (C = ``conditioning_channels()`` columns, float32):

    [0, FRAME_FEATURE_DIM)   ``frontend.features.frame_features``: the phoneme's linguistic
                             features repeated over its frames, then its 4 position columns
    FRAME_FEATURE_DIM        normalized continuous log-F0: ``(log F0 - mean) / std``, with log F0
                             interpolated through unvoiced frames and held before the first
                             and after the last voiced one (``frontend.pitch.continuous_log_f0``);
                             0 throughout an utterance without a voiced frame
    FRAME_FEATURE_DIM + 1    voiced flag, 0 or 1

``mean``/``std`` are the corpus-wide log-F0 statistics of the training split (``stats.json``
``log_f0.mean``/``std``), not per-speaker ones: the vocoder should hear absolute pitch, so that a
pitch contour means the same to it whichever speaker embedding it is combined with.
"""

from __future__ import annotations

import numpy as np

from frontend.features import FRAME_FEATURE_DIM
from frontend.pitch import continuous_log_f0

LOG_F0_COLUMN = FRAME_FEATURE_DIM
VOICED_COLUMN = FRAME_FEATURE_DIM + 1


def conditioning_channels() -> int:
    """C, the number of conditioning columns per frame."""
    return FRAME_FEATURE_DIM + 2


def wavenet_conditioning(
    frame_feats: np.ndarray,
    f0_hz: np.ndarray,
    voiced: np.ndarray,
    log_f0_mean: float,
    log_f0_std: float,
) -> np.ndarray:
    """Frame features (T, FRAME_FEATURE_DIM), F0 in Hz (T,) and voicing (T,) → (T, C) float32.

    ``f0_hz`` may be 0 (or anything) where ``voiced`` is 0; only voiced frames' F0 is used.
    """
    frame_feats = np.asarray(frame_feats, dtype=np.float32)
    f0_hz = np.asarray(f0_hz, dtype=np.float32).reshape(-1)
    voiced = np.asarray(voiced, dtype=np.float32).reshape(-1)
    if frame_feats.ndim != 2 or frame_feats.shape[1] != FRAME_FEATURE_DIM:
        raise ValueError(
            f"frame_feats must be (T, {FRAME_FEATURE_DIM}) from frontend.features.frame_features, "
            f"got shape {frame_feats.shape}"
        )
    num_frames = frame_feats.shape[0]
    if f0_hz.shape != (num_frames,) or voiced.shape != (num_frames,):
        raise ValueError(
            f"f0_hz and voiced must have one value per frame ({num_frames}), got "
            f"{f0_hz.shape[0]} and {voiced.shape[0]}: build them at the same hop as the durations"
        )
    if not np.isfinite(f0_hz).all() or (f0_hz < 0).any():
        raise ValueError("f0_hz must be finite and >= 0 (0 where unvoiced)")
    if not (np.isfinite(log_f0_mean) and np.isfinite(log_f0_std) and log_f0_std > 0):
        raise ValueError(
            f"log-F0 statistics must be finite with std > 0, got mean={log_f0_mean} "
            f"std={log_f0_std}: take them from the prepared corpus's stats.json"
        )
    is_voiced = (voiced > 0.5) & (f0_hz > 0)  # (T,)
    if is_voiced.any():
        normalized = (continuous_log_f0(f0_hz, is_voiced) - log_f0_mean) / log_f0_std  # (T,)
    else:
        # A fully unvoiced utterance (a whisper, a single fricative) sits at the average pitch.
        normalized = np.zeros(num_frames, dtype=np.float32)
    return np.concatenate(
        [frame_feats, normalized[:, None].astype(np.float32),
         is_voiced[:, None].astype(np.float32)],
        axis=1,
    )  # (T, C)


def renormalize_log_f0(conditioning: np.ndarray, from_mean: float, from_std: float,
                       to_mean: float, to_std: float) -> np.ndarray:
    """Conditioning built with one set of log-F0 statistics, re-expressed in another.

    Only the log-F0 column changes (``(log F0 - to_mean) / to_std``); returns a new (T, C)
    float32 array. For driving a voice with a prepared corpus whose ``stats.json`` differs
    from the one the voice was trained with.
    """
    conditioning = np.array(conditioning, dtype=np.float32)  # a copy
    if conditioning.ndim != 2 or conditioning.shape[1] != conditioning_channels():
        raise ValueError(f"conditioning must be (T, {conditioning_channels()}), got "
                         f"{conditioning.shape}")
    for value in (from_mean, from_std, to_mean, to_std):
        if not np.isfinite(value):
            raise ValueError("log-F0 statistics must be finite")
    if from_std <= 0 or to_std <= 0:
        raise ValueError(f"log-F0 std must be > 0, got {from_std} and {to_std}")
    log_f0 = conditioning[:, LOG_F0_COLUMN].astype(np.float64) * from_std + from_mean  # (T,)
    conditioning[:, LOG_F0_COLUMN] = (log_f0 - to_mean) / to_std
    return conditioning


__all__ = [
    "LOG_F0_COLUMN", "VOICED_COLUMN", "conditioning_channels", "renormalize_log_f0",
    "wavenet_conditioning",
]
