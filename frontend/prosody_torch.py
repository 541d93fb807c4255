"""The duration and F0 models as torch modules: what ``frontend.prosody_train`` trains.

Synthesis runs the same networks in numpy from their safetensors weights
(``frontend.prosody.DurationNetwork`` / ``PitchNetwork``, tested equal to these), so that it
never imports torch; ``frontend.prosody`` still exports ``DurationModel`` and ``PitchModel``
(imported from here on first use) for the code that trains or inspects them.

Padding never changes the outputs at real positions: every convolution's input is zeroed outside
the mask (exactly what a lone sequence sees at its edges) and the GRUs run on packed sequences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from frontend.prosody import DurationConfig, PitchConfig, ProsodyError

# ---------------------------------------------------------------------------------------------
# building blocks


class ConvBlock(nn.Module):
    """Residual conv → ReLU → LayerNorm → dropout over (B, T, C); padding stays zero."""

    def __init__(self, channels: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.norm = nn.LayerNorm(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x (B, T, C) zero outside mask (B, T, 1)
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, T, C)
        y = self.dropout(self.norm(F.relu(y)))
        return (x + y) * mask


def _run_bigru(gru: nn.GRU, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """A bidirectional GRU over the real part of each sequence only; (B, T, C) → (B, T, C)."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = gru(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out


def _mask_and_lengths(mask: torch.Tensor | None, batch: int, length: int,
                      device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if mask is None:
        mask = torch.ones(batch, length, dtype=torch.bool, device=device)
    mask = mask.bool()
    lengths = mask.sum(dim=1)  # (B,)
    if bool((lengths == 0).any()):
        raise ProsodyError("a sequence in the batch is empty (length 0)")
    return mask, lengths


class _SpeakerNormalized(nn.Module):
    """Shared parts: feature normalization, speaker embedding, per-speaker target statistics."""

    config: DurationConfig | PitchConfig

    def _init_common(self, input_dim: int, num_speakers: int, speaker_dim: int) -> None:
        self.speaker_embedding = nn.Embedding(num_speakers, speaker_dim)
        # Filled in by the trainer from the training split; saved with the weights.
        self.register_buffer("feature_mean", torch.zeros(input_dim))
        self.register_buffer("feature_std", torch.ones(input_dim))
        self.register_buffer("target_mean", torch.zeros(num_speakers))  # per speaker
        self.register_buffer("target_std", torch.ones(num_speakers))

    def set_normalization(self, feature_mean: np.ndarray, feature_std: np.ndarray,
                          target_mean: np.ndarray, target_std: np.ndarray) -> None:
        """Store training-set statistics: input features, and the target per speaker."""
        for name, value in (("feature_mean", feature_mean), ("feature_std", feature_std),
                            ("target_mean", target_mean), ("target_std", target_std)):
            buffer = getattr(self, name)
            value = torch.as_tensor(np.asarray(value, dtype=np.float32))
            if value.shape != buffer.shape:
                raise ProsodyError(f"{name} must have shape {tuple(buffer.shape)}, "
                                   f"got {tuple(value.shape)}")
            if name.endswith("std"):
                value = value.clamp_min(1e-5)
            buffer.copy_(value)

    def _inputs(self, features: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        # features (B, T, D), speaker (B,) → (B, T, D + speaker_dim)
        if features.shape[-1] != self.config.input_dim:
            raise ProsodyError(f"expected features with {self.config.input_dim} columns, got "
                               f"{features.shape[-1]} (were they built by another frontend "
                               "version?)")
        normalized = (features - self.feature_mean) / self.feature_std
        embedding = self.speaker_embedding(speaker)  # (B, speaker_dim)
        return torch.cat([normalized, embedding[:, None, :].expand(-1, features.shape[1], -1)], -1)

    def denormalize(self, normalized: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        """Normalized target (B, T) → the target in its own units, with each speaker's stats."""
        return normalized * self.target_std[speaker][:, None] + self.target_mean[speaker][:, None]

    def normalize(self, target: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return (target - self.target_mean[speaker][:, None]) / self.target_std[speaker][:, None]


# ---------------------------------------------------------------------------------------------
# the models


class DurationModel(_SpeakerNormalized):
    """Phoneme features + speaker → normalized log(1 + frames) of every phoneme.

    input proj ─► conv blocks (local context: neighbours, syllable) ─► BiGRU (phrase) ─► linear
    """

    def __init__(self, config: DurationConfig) -> None:
        super().__init__()
        self.config = config
        self._init_common(config.input_dim, config.num_speakers, config.speaker_dim)
        self.input_proj = nn.Linear(config.input_dim + config.speaker_dim, config.hidden)
        self.convs = nn.ModuleList(
            ConvBlock(config.hidden, config.kernel, config.dropout)
            for _ in range(config.conv_layers)
        )
        self.gru = (nn.GRU(config.hidden, config.hidden // 2, num_layers=config.gru_layers,
                           batch_first=True, bidirectional=True)
                    if config.gru_layers else None)
        self.output = nn.Linear(config.hidden, 1)

    def forward(self, phone_feats: torch.Tensor, speaker: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """phone_feats (B, N, D), speaker (B,) long, mask (B, N) bool → (B, N), 0 where masked."""
        batch, length, _ = phone_feats.shape
        mask, lengths = _mask_and_lengths(mask, batch, length, phone_feats.device)
        m = mask[..., None].to(phone_feats.dtype)  # (B, N, 1)
        x = self.input_proj(self._inputs(phone_feats, speaker)) * m  # (B, N, H)
        for block in self.convs:
            x = block(x, m)
        if self.gru is not None:
            x = x + _run_bigru(self.gru, x, lengths)  # (B, N, H)
        return self.output(x).squeeze(-1) * mask  # (B, N)


class PitchModel(_SpeakerNormalized):
    """Frame features + speaker → (normalized continuous log-F0, voicing logit) per frame.

    frame rate (5 ms)      input proj ─► conv blocks ──────────────────────────┐
    downsampled (40 ms)        └► strided conv ─► conv blocks ─► BiGRU ─► repeat ┴► concat
    frame rate (5 ms)      ─► proj ─► conv blocks (smooth the steps) ─► linear (2)
    The recurrent part, which is slow and sequential, runs at an eighth of the frame rate.
    """

    def __init__(self, config: PitchConfig) -> None:
        super().__init__()
        self.config = config
        self._init_common(config.input_dim, config.num_speakers, config.speaker_dim)
        frame, hidden, k, p = config.frame_hidden, config.hidden, config.kernel, config.dropout
        self.input_proj = nn.Linear(config.input_dim + config.speaker_dim, frame)
        self.frame_convs = nn.ModuleList(ConvBlock(frame, k, p) for _ in range(config.frame_layers))
        self.down = nn.Conv1d(frame, hidden, config.downsample, stride=config.downsample)
        self.convs = nn.ModuleList(ConvBlock(hidden, k, p) for _ in range(config.conv_layers))
        self.gru = (nn.GRU(hidden, hidden // 2, num_layers=config.gru_layers, batch_first=True,
                           bidirectional=True)
                    if config.gru_layers else None)
        self.up_proj = nn.Linear(frame + hidden, frame)
        self.out_convs = nn.ModuleList(ConvBlock(frame, k, p) for _ in range(config.frame_layers))
        self.output = nn.Linear(frame, 2)

    def forward(self, frame_feats: torch.Tensor, speaker: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """frame_feats (B, T, D+4), speaker (B,), mask (B, T) → (B, T, 2), 0 where masked."""
        batch, length, _ = frame_feats.shape
        mask, lengths = _mask_and_lengths(mask, batch, length, frame_feats.device)
        m = mask[..., None].to(frame_feats.dtype)  # (B, T, 1)
        x = self.input_proj(self._inputs(frame_feats, speaker)) * m  # (B, T, Hf)
        for block in self.frame_convs:
            x = block(x, m)

        step = self.config.downsample
        padded = -(-length // step) * step
        # Zeros past the end: a lone sequence is padded the same way, so batching is invisible.
        xp = F.pad(x, (0, 0, 0, padded - length))  # (B, Tp, Hf)
        h = self.down(xp.transpose(1, 2)).transpose(1, 2)  # (B, Tp/step, H)
        lengths_down = -(-lengths // step)  # (B,)
        steps = torch.arange(h.shape[1], device=h.device)
        m_down = (steps[None, :] < lengths_down[:, None])[..., None].to(h.dtype)  # (B, Tp/step, 1)
        h = h * m_down
        for block in self.convs:
            h = block(h, m_down)
        if self.gru is not None:
            h = h + _run_bigru(self.gru, h, lengths_down)
        h = h.repeat_interleave(step, dim=1)[:, :length]  # (B, T, H)

        y = F.relu(self.up_proj(torch.cat([x, h], dim=-1))) * m  # (B, T, Hf)
        for block in self.out_convs:
            y = block(y, m)
        return self.output(y) * m  # (B, T, 2)


def module_from_tensors(config: DurationConfig | PitchConfig, tensors: dict[str, Any],
                        mismatch: str) -> DurationModel | PitchModel:
    """The torch model of ``config`` with these weights (numpy arrays or tensors under their
    state-dict names), in eval mode; ``mismatch`` starts the error if they do not fit."""
    model = DurationModel(config) if isinstance(config, DurationConfig) else PitchModel(config)
    try:
        model.load_state_dict({name: torch.as_tensor(np.asarray(value))
                               for name, value in tensors.items()}, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ProsodyError(f"{mismatch}: {first}") from None
    return model.eval()
