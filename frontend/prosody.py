"""Duration and F0 models: the two small networks between the phonemes and the vocoder.

    phoneme features (N, D) + speaker ─► DurationModel ─► log(1 + frames) per phoneme
    frame features (T, D+4) + speaker ─► PitchModel    ─► continuous log-F0 and a voicing logit

Both predict *normalized* targets: the per-speaker mean and standard deviation of the target,
measured on the training split, live in the model's buffers and so travel in its safetensors
file. Normalizing per speaker leaves the networks to learn the shape of durations and intonation
(which speakers share), while the speaker embedding still adds what differs.

Durations are modelled as ``log(1 + frames)`` rather than ``log(frames)`` because a pause may be
zero frames long. F0 is modelled as a *continuous* log-F0 (interpolated through unvoiced regions,
see ``frontend.pitch.continuous_log_f0``) with the voicing decision as a separate logit, so the
regression target has no jumps to 0 that the network would have to learn.

Padding never changes the outputs at real positions: every convolution's input is zeroed outside
the mask (exactly what a lone sequence sees at its edges) and the GRUs run on packed sequences.

The inference helpers (:func:`predict_durations`, :func:`predict_f0`) take and return numpy, run
under ``torch.inference_mode()`` and mutate nothing, so one loaded model can serve many threads.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from frontend.phonemes import inventory

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
LN2 = math.log(2.0)


class ProsodyError(ValueError):
    """Bad input to a duration/F0 model, or a model file that does not fit; says how to fix it."""


# ---------------------------------------------------------------------------------------------
# configs


@dataclass
class DurationConfig:
    input_dim: int = 0  # phoneme feature dimension (frontend.features.PHONEME_FEATURE_DIM)
    num_speakers: int = 1
    speaker_dim: int = 16
    hidden: int = 128
    conv_layers: int = 3  # residual conv blocks over the phoneme sequence
    kernel: int = 5  # odd, in phonemes
    gru_layers: int = 1  # bidirectional, hidden/2 per direction
    dropout: float = 0.2
    speakers: list[str] = field(default_factory=list)  # speaker ids by index, for messages

    def __post_init__(self) -> None:
        _check_config(self, ("input_dim", "num_speakers", "speaker_dim", "hidden", "kernel"),
                      ("conv_layers", "gru_layers"))


@dataclass
class PitchConfig:
    input_dim: int = 0  # frame feature dimension (frontend.features.FRAME_FEATURE_DIM)
    num_speakers: int = 1
    speaker_dim: int = 16
    frame_hidden: int = 48  # width at the frame rate (5 ms), kept small: sequences are long
    hidden: int = 128  # width at the downsampled rate, where the context is gathered
    frame_layers: int = 1  # residual conv blocks at the frame rate, before and after
    conv_layers: int = 2  # residual conv blocks at the downsampled rate
    kernel: int = 5  # odd
    # Frames per downsampled step (8 → 40 ms): the GRU dominates the cost of a training step
    # on CPU, and intonation moves slower than that; the frame-rate layers add the detail.
    downsample: int = 8
    gru_layers: int = 1  # bidirectional, hidden/2 per direction, at the downsampled rate
    dropout: float = 0.2
    speakers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_config(self, ("input_dim", "num_speakers", "speaker_dim", "frame_hidden", "hidden",
                             "kernel", "downsample"), ("frame_layers", "conv_layers", "gru_layers"))


def _check_config(config: Any, positive: tuple[str, ...], non_negative: tuple[str, ...]) -> None:
    name = type(config).__name__
    for key in positive + non_negative:
        value = getattr(config, key)
        low = 1 if key in positive else 0
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ProsodyError(f"{name}.{key} must be an integer >= {low}, got {value!r}")
    if config.kernel % 2 == 0:
        raise ProsodyError(f"{name}.kernel must be odd (centred convolutions), got {config.kernel}")
    if config.hidden % 2:
        raise ProsodyError(f"{name}.hidden must be even (split across two GRU directions), "
                           f"got {config.hidden}")
    if not 0.0 <= float(config.dropout) < 1.0:
        raise ProsodyError(f"{name}.dropout must be in [0, 1), got {config.dropout!r}")
    if config.speakers and len(config.speakers) != config.num_speakers:
        raise ProsodyError(f"{name}.speakers lists {len(config.speakers)} ids but num_speakers is "
                           f"{config.num_speakers}")


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


# ---------------------------------------------------------------------------------------------
# inference helpers: numpy in, numpy out


def _check_ready(model: nn.Module, speaker_index: int) -> torch.Tensor:
    if model.training:
        raise ProsodyError(f"{type(model).__name__} is in training mode: call model.eval() "
                           "before predicting (dropout would make predictions random)")
    config = model.config
    if isinstance(speaker_index, (bool, np.bool_)) or not isinstance(speaker_index,
                                                                     (int, np.integer)):
        raise ProsodyError(f"speaker index must be an integer, got {speaker_index!r}")
    if not 0 <= int(speaker_index) < config.num_speakers:
        known = (", ".join(f"{i}={s}" for i, s in enumerate(config.speakers[:20]))
                 if config.speakers else f"0..{config.num_speakers - 1}")
        more = " ..." if len(config.speakers) > 20 else ""
        raise ProsodyError(f"unknown speaker index {int(speaker_index)}: this model knows "
                           f"{config.num_speakers} speaker(s) ({known}{more})")
    return torch.tensor([int(speaker_index)], dtype=torch.long)


def _check_features(features: np.ndarray, expected_dim: int, what: str) -> torch.Tensor:
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2:
        raise ProsodyError(f"{what} must be a 2-D array (length, {expected_dim}), "
                           f"got shape {features.shape}")
    if features.shape[0] == 0:
        raise ProsodyError(f"no {what} to predict from: the text yielded no phonemes "
                           "(give it words, or inline phonemes such as {HH AH0 L OW1})")
    if features.shape[1] != expected_dim:
        raise ProsodyError(f"{what} have {features.shape[1]} columns but the model expects "
                           f"{expected_dim}: the model was trained with another feature layout")
    if not np.isfinite(features).all():
        raise ProsodyError(f"{what} contain NaN or infinite values")
    return torch.from_numpy(features)[None]  # (1, T, D)


def round_durations(frames: np.ndarray, pauses: np.ndarray | None = None) -> np.ndarray:
    """Float frame counts (N,) → integers (N,) whose running sum tracks the float running sum.

    Rounding each phoneme alone can drift by up to N/2 frames over an utterance; rounding the
    cumulative sum keeps every phoneme boundary within half a frame of where the model put it.
    Non-pause phonemes get at least 1 frame (they are raised to 1 *before* the cumulative sum,
    so the guarantee survives the rounding); pauses (``pauses[i]`` True) may get 0.
    """
    frames = np.maximum(np.asarray(frames, dtype=np.float64), 0.0)  # (N,)
    floor = np.ones_like(frames) if pauses is None else np.where(pauses, 0.0, 1.0)
    frames = np.maximum(frames, floor)
    # floor(x + 0.5) is monotone and shifts by exactly 1 when x does: a gap >= 1 stays >= 1.
    boundaries = np.floor(np.cumsum(frames) + 0.5).astype(np.int64)  # (N,)
    return np.diff(boundaries, prepend=0)


def _pause_column(phone_feats: np.ndarray) -> np.ndarray | None:
    from frontend.features import PHONEME_FEATURE_DIM, feature_columns

    if phone_feats.shape[1] != PHONEME_FEATURE_DIM:
        return None
    return phone_feats[:, feature_columns("pause_flags").start] > 0.5  # (N,)


def predict_durations(model: DurationModel, phone_feats: np.ndarray, speaker_index: int,
                      speed: float = 1.0, pauses: np.ndarray | None = None) -> np.ndarray:
    """Frames (N,) int64 for each phoneme of one utterance.

    ``speed`` > 1 speaks faster: every duration is divided by it. ``pauses`` (N,) bool marks the
    phonemes allowed to get 0 frames (``sil``/``sp``); by default they are read from the
    features' ``pause_flags`` column when the features have the frontend's layout, else every
    phoneme gets >= 1 frame.
    """
    if not (isinstance(speed, (int, float, np.floating)) and math.isfinite(speed)
            and 0.1 <= speed <= 10.0):
        raise ProsodyError(f"speed must be a number between 0.1 and 10 (1 = normal), got {speed!r}")
    speaker = _check_ready(model, speaker_index)
    features = _check_features(phone_feats, model.config.input_dim, "phoneme features")
    if pauses is None:
        pauses = _pause_column(np.asarray(phone_feats))
    if pauses is not None:
        pauses = np.asarray(pauses, dtype=bool)
        if pauses.shape != (features.shape[1],):
            raise ProsodyError(f"pauses must have shape ({features.shape[1]},), got {pauses.shape}")
    with torch.inference_mode():
        normalized = model(features, speaker)  # (1, N)
        log_frames = model.denormalize(normalized, speaker)[0].double().numpy()  # (N,)
    frames = np.expm1(log_frames) / float(speed)
    return round_durations(frames, pauses)


def predict_f0(model: PitchModel, frame_feats: np.ndarray, speaker_index: int,
               pitch_shift_semitones: float = 0.0,
               pitch_range: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(f0_hz (T,) float32, 0 where unvoiced; voiced (T,) bool) for one utterance.

    ``pitch_range`` scales log-F0 around the speaker's mean (0 = monotone at the mean, 2 = twice
    as expressive); ``pitch_shift_semitones`` then moves everything (+12 = an octave up).
    """
    for name, value, low, high in (("pitch_shift_semitones", pitch_shift_semitones, -48.0, 48.0),
                                   ("pitch_range", pitch_range, 0.0, 10.0)):
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value)
                and low <= value <= high):
            raise ProsodyError(f"{name} must be a number between {low:g} and {high:g}, "
                               f"got {value!r}")
    speaker = _check_ready(model, speaker_index)
    features = _check_features(frame_feats, model.config.input_dim, "frame features")
    with torch.inference_mode():
        out = model(features, speaker)[0]  # (T, 2)
        log_f0 = model.denormalize(out[None, :, 0], speaker)[0].double().numpy()  # (T,)
        voiced = (out[:, 1] > 0).numpy()
        speaker_mean = float(model.target_mean[speaker].item())
    log_f0 = speaker_mean + float(pitch_range) * (log_f0 - speaker_mean)
    log_f0 = log_f0 + float(pitch_shift_semitones) / 12.0 * LN2
    f0_hz = np.where(voiced, np.exp(log_f0), 0.0).astype(np.float32)
    return f0_hz, voiced


# ---------------------------------------------------------------------------------------------
# saving and loading: safetensors weights + a JSON config, never pickle

_KINDS: dict[str, tuple[type, type]] = {
    "duration": (DurationModel, DurationConfig),
    "pitch": (PitchModel, PitchConfig),
}


def _kind_of(model: nn.Module) -> str:
    for kind, (model_class, _) in _KINDS.items():
        if isinstance(model, model_class):
            return kind
    raise ProsodyError(f"save_prosody: expected a DurationModel or PitchModel, "
                       f"got {type(model).__name__}")


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def expected_feature_dim(kind: str) -> int:
    """The input width the current frontend produces for a "duration" or "pitch" model."""
    from frontend.features import FRAME_FEATURE_DIM, PHONEME_FEATURE_DIM

    return int(FRAME_FEATURE_DIM if kind == "pitch" else PHONEME_FEATURE_DIM)


def save_prosody(model: DurationModel | PitchModel, path_prefix: str | Path) -> tuple[Path, Path]:
    """Write ``<prefix>.safetensors`` (weights and statistics) and ``<prefix>.json`` (config).

    The JSON also records the phoneme inventory and feature width, which loading checks.
    """
    from safetensors.torch import save_file

    kind = _kind_of(model)
    prefix = Path(path_prefix)
    weights_path = prefix.with_name(prefix.name + ".safetensors")
    config_path = prefix.with_name(prefix.name + ".json")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "inventory": inventory(),
        "feature_dim": model.config.input_dim,
        "config": dataclasses.asdict(model.config),
    }
    _atomic_write(weights_path, lambda tmp: save_file(tensors, tmp, metadata={"kind": kind}))
    _atomic_write(config_path,
                  lambda tmp: Path(tmp).write_text(json.dumps(metadata, indent=2) + "\n"))
    return weights_path, config_path


def _resolve_prefix(path: str | Path, kind: str) -> Path:
    """A voice/export directory (→ ``dir/<kind>``) or an explicit prefix / .json / .safetensors."""
    path = Path(path)
    if path.is_dir():
        return path / kind
    if path.suffix in (".json", ".safetensors"):
        return path.with_suffix("")
    return path


def _load(path: str | Path, kind: str) -> DurationModel | PitchModel:
    prefix = _resolve_prefix(path, kind)
    config_path = prefix.with_name(prefix.name + ".json")
    weights_path = prefix.with_name(prefix.name + ".safetensors")
    for file in (config_path, weights_path):
        if not file.is_file():
            raise ProsodyError(f"{kind} model file not found: {file}")
    try:
        metadata = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProsodyError(f"{config_path} is not valid JSON ({exc}): re-export the model") from None
    return prosody_from_config(kind, metadata, weights_path, source=str(config_path))


def prosody_from_config(kind: str, metadata: Any, weights_path: str | Path,
                        source: str | None = None) -> DurationModel | PitchModel:
    """Build a ``kind`` ("duration"/"pitch") model from its JSON metadata (what
    :func:`save_prosody` writes, also embedded in a voice's ``voice.json``) and its weights.

    ``source`` names where the metadata came from, for error messages.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights_path = Path(weights_path)
    source = source or f"{kind} config"
    if not isinstance(metadata, dict) or metadata.get("kind") != kind:
        found = metadata.get("kind") if isinstance(metadata, dict) else None
        raise ProsodyError(f"{source} holds a {found!r} model, not a {kind!r} model")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ProsodyError(f"{source} has format_version {metadata.get('format_version')!r}; "
                           f"this version reads {FORMAT_VERSION}")
    if metadata.get("inventory") != inventory():
        raise ProsodyError(f"{source} was trained with a different phoneme inventory "
                           f"({len(metadata.get('inventory') or [])} symbols, this frontend has "
                           f"{len(inventory())}): retrain the {kind} model with this version")
    expected = expected_feature_dim(kind)
    if metadata.get("feature_dim") != expected:
        raise ProsodyError(f"{source} expects {metadata.get('feature_dim')} input features "
                           f"but this frontend produces {expected}: retrain the {kind} model "
                           "with this version")
    model_class, config_class = _KINDS[kind]
    config_fields = {f.name for f in dataclasses.fields(config_class)}
    raw_config = metadata.get("config")
    if not isinstance(raw_config, dict) or set(raw_config) - config_fields:
        unknown = sorted(set(raw_config) - config_fields) if isinstance(raw_config, dict) else []
        raise ProsodyError(f"{source}: config is missing or has unknown keys {unknown} "
                           "(written by a newer version?)")
    try:
        model = model_class(config_class(**raw_config))
    except TypeError as exc:
        raise ProsodyError(f"{source}: bad config ({exc})") from None
    if not weights_path.is_file():
        raise ProsodyError(f"{kind} model file not found: {weights_path}")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ProsodyError(f"cannot read {weights_path}: {exc} (corrupt or truncated file?)") from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ProsodyError(f"{weights_path} does not match {source}: {first}") from None
    model.eval()
    return model


def load_duration_model(path: str | Path) -> DurationModel:
    """Load ``<dir>/duration.{json,safetensors}`` (or an explicit prefix), in eval mode."""
    return _load(path, "duration")


def load_pitch_model(path: str | Path) -> PitchModel:
    """Load ``<dir>/pitch.{json,safetensors}`` (or an explicit prefix), in eval mode."""
    return _load(path, "pitch")


__all__ = [
    "ProsodyError", "DurationConfig", "PitchConfig", "DurationModel", "PitchModel",
    "round_durations", "predict_durations", "predict_f0", "save_prosody",
    "load_duration_model", "load_pitch_model", "expected_feature_dim",
    "prosody_from_config",
]
