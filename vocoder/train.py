"""WaveNet training: teacher forcing, cross-entropy, Adam, EMA, resumable checkpoints, DDP.

    python -m vocoder.train --prep PREP --out EXP [--config cfg.json] [--set key=value ...]
    torchrun --nproc_per_node 2 -m vocoder.train --prep PREP --out EXP ...

``cfg.json`` holds TrainConfig fields at the top level and WaveNetConfig fields under ``"model"``;
``--set lr=3e-4 --set model.layers=30`` overrides single fields (values are parsed as JSON, else
taken as strings). ``EXP`` gets:

* ``checkpoint.pt``: model, EMA, optimizer, grad scaler, step, RNG state and both configs as plain
  dicts (``torch.load(weights_only=True)`` reads it). Written atomically every ``ckpt_every``
  steps, at the end, and on SIGTERM/SIGINT. A run whose ``EXP`` has one resumes from it, with the
  checkpoint's configs as defaults under the command line's; a different model shape is refused.
* ``log.jsonl``: one JSON object per event (``start``, ``train``, ``val``, ``checkpoint``,
  ``stop``), appended across resumes.

The learning rate is a pure function of the step (linear warmup, then cosine or exponential decay
to ``min_lr`` at ``max_steps``), and the training windows are a pure function of (seed, rank,
step) (see ``vocoder.data``), so neither needs state in the checkpoint: a resumed run takes the
same steps an uninterrupted one would have taken.

Auxiliary loss: a 1×1 conv on the frame-rate conditioning network's output predicts each
frame's log-mel spectrogram (L1 or L2, weight ``aux_mel_weight``; 0 disables it). It forces that
network to carry the spectral envelope. The head exists only in training checkpoints; the voice
(``export_ema``) holds the EMA WaveNet alone.

DDP: under torchrun (``WORLD_SIZE`` > 1) every rank runs this same loop on its own windows, NCCL on
CUDA and gloo on CPU; only rank 0 writes the log and checkpoints. ``EXP`` must be on a file
system all ranks see.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from tts_common.checkpoints import CheckpointError, read_checkpoint, write_checkpoint
from vocoder.data import IGNORE_INDEX, StepBatchSampler, WaveNetDataset, read_corpus_info
from vocoder.model import WaveNet, WaveNetConfig
from vocoder.lpc import LPCSpec, mel_basis
from vocoder.mulaw import mulaw_decode

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.jsonl"
CHECKPOINT_FORMAT = "wavenet-tts/train-checkpoint/1"
VALID_WINDOW_SEED = 1234  # the validation windows do not depend on the training seed
LR_SCHEDULES = ("cosine", "exponential", "constant")
AMP_MODES = ("auto", "bf16", "fp16", "off")


class TrainingError(ValueError):
    """A training run that cannot start or continue; the message says why and what to do."""


@dataclass
class TrainConfig:
    prep_dir: str = ""  # prepared corpus (see vocoder.data)
    out_dir: str = ""  # experiment directory: checkpoint.pt, log.jsonl
    # A new run may start from another run's EMA weights (every tensor of the same name and
    # shape, e.g. a waveform model's for an excitation model); ignored when resuming.
    init_from: str = ""
    # Keep the frame-rate conditioning network and envelope head as they are (e.g. after
    # ``vocoder.envelope``): joint training at the WaveNet's learning rate was measured to undo
    # the pretrained envelope (window L1 0.85 → 1.12 in 350 steps). The aux loss is then
    # reported but trains nothing.
    freeze_conditioning: bool = False
    # Excitation mode with a separate envelope network (``model.envelope_layers``): start that
    # network and its head from a ``vocoder.envelope`` run (after ``init_from``), and keep them
    # fixed, while the conditioning network goes on learning for the WaveNet alone.
    envelope_from: str = ""
    freeze_envelope: bool = False
    # data
    batch_size: int = 4
    window_frames: int = 100  # 100 frames × 80 = 8000 samples (0.5 s) per window
    context_frames: int = -1  # frames of context each side for the conditioning net; -1: its reach
    num_workers: int = 0  # DataLoader workers (windows are cheap slices of RAM: 0 is usually fine)
    # optimization
    lr: float = 1e-3
    min_lr: float = 1e-5
    warmup_steps: int = 1000
    lr_schedule: str = "cosine"  # cosine | exponential (both reach min_lr at max_steps) | constant
    max_steps: int = 100000
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    weight_decay: float = 0.0
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    ema_decay: float = 0.999  # ramps up as (1 + step) / (10 + step) until it reaches this
    # auxiliary log-mel loss on the conditioning network (training only)
    aux_mel_weight: float = 1.0  # 0 disables the head
    aux_mel_bands: int = 80
    aux_mel_fft: int = 400  # 25 ms analysis window, centred on each frame
    aux_mel_loss: str = "l1"  # l1 | l2
    # bookkeeping
    log_every: int = 50
    eval_every: int = 500
    val_windows: int = 64  # fixed validation windows (the "valid" split), evaluated with the EMA
    ckpt_every: int = 500
    seed: int = 0
    # hardware
    device: str = "auto"  # auto → cuda if available, else cpu; or cpu, cuda, cuda:1
    amp: str = "auto"  # auto → bf16 (fp16 where bf16 is unsupported) on CUDA; ignored on CPU
    num_threads: int = 0  # torch.set_num_threads; 0 keeps torch's default

    def __post_init__(self) -> None:
        for name in ("batch_size", "window_frames", "max_steps", "log_every", "eval_every",
                     "ckpt_every", "aux_mel_bands", "aux_mel_fft"):
            if getattr(self, name) <= 0:
                raise TrainingError(f"TrainConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("num_workers", "warmup_steps", "val_windows", "num_threads", "grad_clip",
                     "weight_decay", "aux_mel_weight", "min_lr"):
            if getattr(self, name) < 0:
                raise TrainingError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.context_frames < -1:
            raise TrainingError(f"TrainConfig.context_frames must be >= 0 (or -1 for automatic), "
                                f"got {self.context_frames}")
        if not self.lr > 0 or not 0 <= self.ema_decay < 1:
            raise TrainingError(f"TrainConfig needs lr > 0 and 0 <= ema_decay < 1, got lr="
                                f"{self.lr}, ema_decay={self.ema_decay}")
        choices = {"lr_schedule": LR_SCHEDULES, "amp": AMP_MODES, "aux_mel_loss": ("l1", "l2")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TrainingError(f"TrainConfig.{name} must be one of {', '.join(allowed)}, "
                                    f"got {getattr(self, name)!r}")

    @property
    def mel_bands(self) -> int:
        """Bands of the auxiliary head; 0 when there is none (part of the checkpoint's shape)."""
        return self.aux_mel_bands if self.aux_mel_weight > 0 else 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def train_config_from_dict(values: dict[str, Any], where: str) -> TrainConfig:
    """A TrainConfig from a dict (JSON), checking the names and types of its values."""
    defaults = TrainConfig().to_dict()
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise TrainingError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: "
                            f"{', '.join(sorted(defaults))}")
    coerced = {}
    for name, value in values.items():
        kind = type(defaults[name])
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # JSON writes 1.0 as 1 sometimes; accept it
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise TrainingError(f"{where}: {name} must be of type {kind.__name__}, "
                                f"got {value!r}")
        coerced[name] = value
    return TrainConfig(**coerced)


# ----------------------------------------------------------------------------- model pieces
def conditioning_reach(config: WaveNetConfig) -> int:
    """Frames each side that one frame of the sample-rate conditioning depends on.

    The conditioning network is ``cond_layers + 1`` centred convs of ``cond_kernel`` frames; the
    upsampler mixes each frame with its neighbours (±1 frame). With this much context on each
    side of a window, its conditioning equals that of the whole utterance (tested).
    """
    return (config.cond_kernel // 2) * (config.cond_layers + 1) + 1


class MelSpectrogram(nn.Module):
    """Audio (B, W * hop) → log-mel (B, bands, W), one analysis window centred on each frame."""

    def __init__(self, sample_rate: int, hop_length: int, n_fft: int, bands: int):
        super().__init__()
        self.hop_length, self.n_fft = hop_length, max(n_fft, hop_length)
        # librosa.filters.mel's filterbank, computed without librosa (equal to it, tested)
        basis = mel_basis(sample_rate, self.n_fft, bands)
        # Not persistent: rebuilt from the config, never stored in checkpoints.
        self.register_buffer("mel_basis", torch.from_numpy(basis).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        # Frame f covers samples [f * hop, (f + 1) * hop): pad so its window is centred there.
        left = (self.n_fft - self.hop_length) // 2
        right = self.n_fft - self.hop_length - left
        mode = "reflect" if audio.shape[1] > max(left, right) else "constant"
        padded = F.pad(audio.unsqueeze(1), (left, right), mode=mode).squeeze(1)  # (B, L + n - hop)
        spec = torch.stft(padded, self.n_fft, self.hop_length, window=self.window, center=False,
                          return_complex=True)  # (B, n_fft/2 + 1, W)
        mel = torch.matmul(self.mel_basis, spec.abs().square())  # (B, bands, W)
        return torch.log(mel.clamp(min=1e-5))


class TrainingModel(nn.Module):
    """The WaveNet plus the training-only log-mel head: one module, so DDP syncs both.

    ``forward(inputs (B, L), features (B, W + 2c, C), speaker (B,))`` → logits (B, Q, L) and the
    predicted log-mel (B, bands, W) or None. The conditioning network runs once on the window and
    its ``c`` context frames; the sample-rate conditioning is then cropped to the window. With
    ``c >= conditioning_reach(config)`` a window's conditioning equals the whole utterance's,
    except within ``c`` frames of the utterance's ends: there the window sees zero feature frames
    where ``WaveNet.forward`` on the whole utterance zero-pads each conv's input instead.
    """

    def __init__(self, wavenet: WaveNet, context_frames: int, mel_bands: int):
        super().__init__()
        self.wavenet = wavenet
        self.context_frames = context_frames
        config = wavenet.config
        # In excitation mode the head belongs to the WaveNet (generation needs it); else here.
        self.mel_head = (nn.Conv1d(config.cond_hidden, mel_bands, 1)
                         if mel_bands and wavenet.mel_head is None else None)

    def forward(self, inputs: torch.Tensor, features: torch.Tensor, speaker: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        wavenet, context = self.wavenet, self.context_frames
        hop = wavenet.config.hop_length
        num_samples = inputs.shape[1]
        num_frames = features.shape[1] - 2 * context
        if num_frames * hop != num_samples:
            raise TrainingError(f"features {tuple(features.shape)} with {context} context frames "
                                f"each side do not match inputs {tuple(inputs.shape)}")
        hidden = wavenet.conditioning(features)  # (B, H, W + 2c)
        # The upsampler mixes each frame with its neighbours only: one context frame is enough.
        margin = min(context, 1)
        near = hidden[:, :, context - margin:context + num_frames + margin]  # (B, H, W + 2m)
        upsampler = wavenet.upsampler
        taps = upsampler.phase_taps() if upsampler is not None else None  # (3, hop)
        # The rest is WaveNet.forward after its conditioning network (it cannot take
        # precomputed conditioning); tests check the two agree.
        speaker_vector = (wavenet.speaker_embedding(speaker)
                          if wavenet.speaker_embedding is not None else None)  # (B, D)
        x = wavenet.input_embedding(inputs).transpose(1, 2)  # (B, R, L)
        skip_sum = torch.zeros(inputs.shape[0], wavenet.config.skip_channels, num_samples,
                               device=x.device, dtype=x.dtype)  # (B, S, L)
        for layer in wavenet.layers:
            x, skip = layer(x, near, speaker_vector, upsampler, taps, margin)
            skip_sum = skip_sum + skip
        logits = wavenet.head_out(F.relu(wavenet.head_hidden(F.relu(skip_sum))))  # (B, Q, L)
        mel = None
        if wavenet.mel_head is not None:
            mel = wavenet.envelope(features, hidden)[:, :, context:context + num_frames]
        elif self.mel_head is not None:
            mel = self.mel_head(hidden[:, :, context:context + num_frames])  # (B, bands, W)
        return logits, mel


class ExponentialMovingAverage:
    """EMA of a module's floating-point parameters and buffers (the weights a voice ships)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        # Early on the average would mostly remember the random init: ramp the decay up.
        decay = min(self.decay, (1 + step) / (10 + step))
        for ema_value, value in zip(self.module.state_dict().values(),
                                    model.state_dict().values()):
            if ema_value.is_floating_point():
                ema_value.lerp_(value.detach(), 1.0 - decay)
            else:
                ema_value.copy_(value)


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warmup over ``warmup_steps``, then decay to ``min_lr`` at ``max_steps``."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant" or config.max_steps <= config.warmup_steps:
        return config.lr
    progress = min(1.0, (step - config.warmup_steps) / (config.max_steps - config.warmup_steps))
    min_lr = min(config.min_lr, config.lr)
    if config.lr_schedule == "cosine":
        return min_lr + 0.5 * (config.lr - min_lr) * (1.0 + math.cos(math.pi * progress))
    return config.lr * (max(min_lr, 1e-12) / config.lr) ** progress


def compute_losses(model: nn.Module, mel: MelSpectrogram | None, batch: dict[str, torch.Tensor],
                   config: TrainConfig, quantization_channels: int, reduction: str = "mean"
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cross-entropy and auxiliary mel loss of one batch, and how many elements each covers.

    ``reduction="sum"`` returns sums (validation adds them up across batches and ranks).
    """
    targets = batch["targets"]  # (B, L)
    logits, mel_pred = model(batch["inputs"], batch["features"], batch["speaker"])
    ce = F.cross_entropy(logits.float(), targets, ignore_index=IGNORE_INDEX, reduction=reduction)
    ce_count = (targets != IGNORE_INDEX).sum()
    aux = torch.zeros((), device=targets.device)
    aux_count = torch.zeros((), device=targets.device, dtype=torch.long)
    if mel_pred is not None and mel is not None:
        with torch.no_grad(), torch.autocast(targets.device.type, enabled=False):
            # Padding (ignored targets) becomes the silence class, which decodes to ~0.
            # (Excitation mode: the targets are the residual; the recording comes beside it.)
            heard = batch["waveform"] if "waveform" in batch else targets.clamp(min=0)
            audio = mulaw_decode(heard, quantization_channels)  # (B, L)
            mel_target = mel(audio.float())  # (B, bands, W), in float32 even under AMP
            frame_valid = (targets[:, ::mel.hop_length] != IGNORE_INDEX).unsqueeze(1)  # (B, 1, W)
        error = mel_pred.float() - mel_target  # (B, bands, W)
        error = error.abs() if config.aux_mel_loss == "l1" else error.square()
        aux = (error * frame_valid).sum()
        aux_count = frame_valid.sum() * mel_pred.shape[1]
        if reduction == "mean":
            aux = aux / aux_count.clamp(min=1)
    return ce, aux, ce_count, aux_count


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(path: str | Path, state: dict) -> None:
    """``torch.save`` with a SHA-256 of the contents, atomically: ``path`` is always complete."""
    write_checkpoint(path, state)


# What exporting (or initializing from) a checkpoint reads, and what resuming it reads.
_EMA_KEYS = ("ema", "model_config")
_RESUME_KEYS = ("model", "ema", "optimizer", "step", "rng", "mel_bands", "model_config")


def _require_keys(checkpoint: dict, path: Path, keys: tuple[str, ...]) -> None:
    missing = [key for key in keys if key not in checkpoint]
    if missing:
        raise TrainingError(f"{path} has no {', '.join(repr(k) for k in missing)}: it is "
                            "incomplete or was not written by vocoder.train; use another "
                            "checkpoint or --out directory")


def load_checkpoint(path: str | Path) -> dict:
    """A training checkpoint, its SHA-256 verified, read without unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no training checkpoint at {path}: train first (python -m "
                            "vocoder.train --prep PREP --out EXP)")
    try:
        state = read_checkpoint(path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from None
    if state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(f"{path} is not a WaveNet training checkpoint (format "
                            f"{CHECKPOINT_FORMAT}); use another --out directory")
    return state


def check_same_shape(checkpoint: dict, model_config: WaveNetConfig, mel_bands: int,
                     path: Path) -> None:
    """Refuse to resume a checkpoint into a model of another shape."""
    # Through WaveNetConfig, so that keys added since the checkpoint read as their defaults.
    saved = dict(WaveNetConfig.from_dict(checkpoint["model_config"]).to_dict(),
                 aux_mel_bands=checkpoint["mel_bands"])
    current = dict(model_config.to_dict(), aux_mel_bands=mel_bands)
    differences = [f"{key} {saved.get(key)!r} in the checkpoint, {current.get(key)!r} now"
                   for key in sorted(set(saved) | set(current))
                   if saved.get(key) != current.get(key)]
    if differences:
        raise TrainingError(
            f"{path} was trained with another model shape ({'; '.join(differences)}): resume it "
            "with its own settings, or train into a new --out directory")


def ema_wavenet_from_checkpoint(checkpoint: dict, path: Path | None = None) -> WaveNet:
    """The EMA WaveNet of a training checkpoint (without the training-only head)."""
    _require_keys(checkpoint, path or Path("the checkpoint"), _EMA_KEYS)
    wavenet = WaveNet(WaveNetConfig.from_dict(checkpoint["model_config"]))
    prefix = "wavenet."
    wavenet.load_state_dict({key[len(prefix):]: value for key, value in checkpoint["ema"].items()
                             if key.startswith(prefix)})
    return wavenet.eval()


# What an envelope network must share with the WaveNet it is grafted onto.
_ENVELOPE_SHAPE = ("sample_rate", "hop_length", "cond_channels", "cond_hidden", "cond_kernel",
                   "lpc_order", "mel_bands", "mel_fft")
# The WaveNet's tensors that make its envelope (a separate envelope network and the mel head).
_ENVELOPE_PREFIXES = ("envelope_network.", "mel_head.")


def graft_envelope(wavenet: WaveNet, donor: WaveNet) -> WaveNet:
    """``wavenet`` with the separate envelope network and head of ``donor`` (both excitation
    mode, same features and envelope shape): a WaveNet trained with its envelope frozen, and an
    envelope network trained on after it (``vocoder.envelope --set envelope_layers=N``)."""
    config, donor_config = wavenet.config, donor.config
    if not donor_config.envelope_layers:
        raise TrainingError("the envelope run has no envelope network of its own: train it with "
                            "--set envelope_layers=N")
    mismatched = [name for name in _ENVELOPE_SHAPE
                  if getattr(config, name) != getattr(donor_config, name)]
    if mismatched:  # lpc_order among them: the donor is in excitation mode
        raise TrainingError("the envelope run does not fit this WaveNet (different "
                            f"{', '.join(mismatched)}); train it from this run")
    grafted = WaveNet(dataclasses.replace(config, envelope_layers=donor_config.envelope_layers))
    donor_state = donor.state_dict()
    state = {key: value for key, value in wavenet.state_dict().items()
             if not key.startswith(_ENVELOPE_PREFIXES)}
    state.update({key: value for key, value in donor_state.items()
                  if key.startswith(_ENVELOPE_PREFIXES)})
    grafted.load_state_dict(state)
    return grafted.eval()


def export_ema(exp_dir: str | Path, out_dir: str | Path,
               storage_dtype: torch.dtype = torch.float32,
               envelope_exp: str | Path | None = None) -> WaveNet:
    """Write the EMA weights of ``exp_dir/checkpoint.pt`` as a WaveNet (safetensors + JSON);
    with ``envelope_exp``, its envelope network replaces the WaveNet's (``graft_envelope``)."""
    from vocoder.io import save_wavenet

    def finite_ema(exp: str | Path) -> WaveNet:
        path = Path(exp) / CHECKPOINT_NAME
        wavenet = ema_wavenet_from_checkpoint(load_checkpoint(path), path)
        bad = [name for name, value in wavenet.state_dict().items()
               if value.is_floating_point() and not bool(torch.isfinite(value).all())]
        if bad:
            raise TrainingError(f"{path}: the EMA weights are not finite (NaN or inf in "
                                f"{len(bad)} tensors, e.g. {bad[0]}): export an earlier "
                                "checkpoint, or retrain with a lower lr")
        return wavenet

    wavenet = finite_ema(exp_dir)
    if envelope_exp is not None:
        wavenet = graft_envelope(wavenet, finite_ema(envelope_exp))
    save_wavenet(wavenet, out_dir, storage_dtype)
    return wavenet


# ----------------------------------------------------------------------------- run plumbing
@dataclass
class Distributed:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # we initialized the process group, so we tear it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(request: str, local_rank: int, world_size: int) -> torch.device:
    if request == "auto":
        request = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(request)
    except RuntimeError:
        raise TrainingError(f"unknown device {request!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError("device cuda was asked for, but CUDA is not available; use "
                                "--set device=cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank if world_size > 1 else 0)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise TrainingError(f"unsupported device {request!r}: use auto, cpu, cuda or cuda:N")
    return device


def setup_distributed(device: torch.device) -> Distributed:
    """Join the torchrun process group (env://) when ``WORLD_SIZE`` > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(rank=dist.get_rank(), local_rank=int(os.environ.get("LOCAL_RANK", "0")),
                       world_size=dist.get_world_size(), owns_group=owns_group)


def resolve_amp(mode: str, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda":
        if mode in ("bf16", "fp16"):
            logger.warning("amp=%s applies to CUDA only; training in float32 on %s", mode, device)
        return None
    if mode == "off":
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[mode]


class StopRequest:
    """SIGINT/SIGTERM → finish the step, save a checkpoint, exit; a 2nd Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("%s received: stopping after this step with a checkpoint",
                       signal.Signals(signum).name)


class JsonlLog:
    """Appends one JSON object per event to ``log.jsonl`` (rank 0 only; ``path=None`` elsewhere)."""

    def __init__(self, path: Path | None):
        self.path = path

    def write(self, event: str, **fields: Any) -> None:
        if self.path is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")


def corpus_model_config(model_config: WaveNetConfig, prep_dir: str) -> WaveNetConfig:
    """The model config with the corpus's rate, hop, feature size and speaker count filled in."""
    info = read_corpus_info(prep_dir)
    values = model_config.to_dict()
    if values["cond_channels"] not in (0, info.cond_channels):
        raise TrainingError(f"model.cond_channels is {values['cond_channels']}, but the corpus "
                            f"{prep_dir} has {info.cond_channels} feature channels; leave it 0")
    if 0 < values["num_speakers"] < info.num_speakers:
        raise TrainingError(f"model.num_speakers is {values['num_speakers']}, but the corpus "
                            f"{prep_dir} has {info.num_speakers} speakers; leave it 0")
    values.update(sample_rate=info.sample_rate, hop_length=info.hop_length,
                  cond_channels=info.cond_channels,
                  num_speakers=values["num_speakers"] or info.num_speakers)
    return WaveNetConfig.from_dict(values)


def lpc_spec(model_config: WaveNetConfig) -> LPCSpec | None:
    """The filters of an excitation-mode model (``vocoder.lpc``); None for a waveform model."""
    if not model_config.lpc_order:
        return None
    return LPCSpec(model_config.lpc_order, model_config.mel_bands, model_config.mel_fft,
                   model_config.sample_rate, model_config.hop_length)


def copy_matching_weights(model: TrainingModel, source: dict[str, torch.Tensor]) -> int:
    """Copy a training state dict into ``model`` wherever name and shape agree; returns how
    many tensors were copied."""
    # A waveform run keeps its mel head outside the WaveNet; an excitation run inside.
    if "mel_head.weight" in source and model.wavenet.mel_head is not None:
        source = {("wavenet." + k if k.startswith("mel_head.") else k): v
                  for k, v in source.items()}
    target = model.state_dict()
    seed_envelope = (model.wavenet.envelope_network is not None
                     and not any(".envelope_network." in k for k in source))
    if seed_envelope:
        # A separate envelope network starts as the source's conditioning network (and its
        # head): the envelope the source predicted, free to go on learning on its own.
        source = {**source, **{k.replace(".conditioning_network.", ".envelope_network."): v
                               for k, v in source.items() if ".conditioning_network." in k}}
    copied = {k: v for k, v in source.items() if k in target and target[k].shape == v.shape}
    model.load_state_dict(copied, strict=False)
    if seed_envelope:
        with torch.no_grad():  # blocks beyond the source's start as identities (residual)
            for name, parameter in model.wavenet.envelope_network.named_parameters():
                if f"wavenet.envelope_network.{name}" not in copied:
                    parameter.zero_()
    return len(copied)


def initialize_from(model: TrainingModel, path: str | Path) -> None:
    """Copy another run's EMA weights into ``model`` wherever name and shape agree."""
    copied = copy_matching_weights(model, load_checkpoint(Path(path))["ema"])
    if not copied:
        raise TrainingError(f"{path} shares no weights with this model; check init_from")
    logger.info("initialized %d of %d tensors from %s", copied, len(model.state_dict()), path)


def initialize_envelope_from(model: TrainingModel, path: str | Path) -> None:
    """Copy the separate envelope network and envelope head of a ``vocoder.envelope`` run
    (its EMA weights) into ``model``; every one of those tensors must fit."""
    prefixes = tuple("wavenet." + prefix for prefix in _ENVELOPE_PREFIXES)
    source = {k: v for k, v in load_checkpoint(Path(path))["ema"].items()
              if k.startswith(prefixes)}
    target = model.state_dict()
    wanted = [k for k in target if k.startswith(prefixes)]
    if not any(k.startswith(prefixes[0]) for k in wanted):
        raise TrainingError("envelope_from needs a model with an envelope network of its own: "
                            "--set model.envelope_layers=N (N as in the envelope run)")
    misfit = [k for k in wanted if k not in source or source[k].shape != target[k].shape]
    if misfit:
        raise TrainingError(f"{path} does not fit this model's envelope network ({len(misfit)} "
                            f"tensors differ, e.g. {misfit[0]}): give model.envelope_layers and "
                            "the feature shapes of the envelope run")
    model.load_state_dict({k: source[k] for k in wanted}, strict=False)
    logger.info("envelope network and head (%d tensors) from %s", len(wanted), path)


def validation_batches(config: TrainConfig, model_config: WaveNetConfig, context: int
                       ) -> list[dict[str, torch.Tensor]]:
    """Fixed windows of the "valid" split, batched; empty when the split is."""
    if config.val_windows == 0:
        return []
    valid = WaveNetDataset(config.prep_dir, "valid", config.window_frames, context,
                           seed=VALID_WINDOW_SEED,
                           quantization_channels=model_config.quantization_channels,
                           lpc=lpc_spec(model_config))
    if not valid.utterances:
        logger.warning("%s has no 'valid' utterances: no validation loss", config.prep_dir)
        return []
    windows = [valid[index] for index in range(config.val_windows)]
    return [torch.utils.data.default_collate(windows[i:i + config.batch_size])
            for i in range(0, len(windows), config.batch_size)]


@torch.no_grad()
def evaluate(model: TrainingModel, mel: MelSpectrogram | None,
             batches: list[dict[str, torch.Tensor]], config: TrainConfig, device: torch.device,
             amp_dtype: torch.dtype | None, distributed: Distributed) -> tuple[float, float]:
    """Mean cross-entropy (nats) and mel loss over the validation windows, across all ranks."""
    totals = torch.zeros(4, dtype=torch.float64, device=device)  # ce, ce count, aux, aux count
    quantization_channels = model.wavenet.config.quantization_channels
    for batch in batches[distributed.rank::distributed.world_size]:
        batch = {key: value.to(device) for key, value in batch.items()}
        with autocast(device, amp_dtype):
            ce, aux, ce_count, aux_count = compute_losses(model, mel, batch, config,
                                                          quantization_channels, "sum")
        totals += torch.stack([ce, ce_count, aux, aux_count]).double()
    if distributed.world_size > 1:
        dist.all_reduce(totals)
    ce, ce_count, aux, aux_count = totals.tolist()
    return ce / max(ce_count, 1.0), aux / max(aux_count, 1.0)


def autocast(device: torch.device, amp_dtype: torch.dtype | None):
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype)


def all_finite(module: nn.Module) -> bool:
    return all(bool(torch.isfinite(value).all()) for value in module.state_dict().values()
               if value.is_floating_point())


@dataclass
class TrainResult:
    step: int
    model: WaveNet  # the raw weights
    ema: WaveNet  # the averaged weights (what a voice ships)
    train_loss: float | None  # last logged mean cross-entropy (nats)
    val_loss: float | None  # last validation cross-entropy of the EMA weights
    stopped: bool  # interrupted by SIGINT/SIGTERM before max_steps


# ----------------------------------------------------------------------------- the loop
def train(config: TrainConfig, model_config: WaveNetConfig | None = None) -> TrainResult:
    """Train (or resume) into ``config.out_dir``; see the module docstring."""
    if not config.prep_dir or not config.out_dir:
        raise TrainingError("TrainConfig needs prep_dir (a prepared corpus) and out_dir")
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")),
                            int(os.environ.get("WORLD_SIZE", "1")))
    distributed = setup_distributed(device)
    try:
        return _train(config, model_config or WaveNetConfig(), device, distributed)
    finally:
        if distributed.owns_group:
            dist.destroy_process_group()


def _train(config: TrainConfig, model_config: WaveNetConfig, device: torch.device,
           distributed: Distributed) -> TrainResult:
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    if distributed.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob(f".{CHECKPOINT_NAME}.*.tmp"):  # left by a killed write
            stale.unlink(missing_ok=True)
    model_config = corpus_model_config(model_config, config.prep_dir)
    context = conditioning_reach(model_config) if config.context_frames < 0 else \
        config.context_frames
    if model_config.lpc_order and not config.aux_mel_weight > 0:
        raise TrainingError("an excitation model (lpc_order > 0) learns its envelope through the "
                            "auxiliary mel loss: set aux_mel_weight > 0")
    # Excitation mode: the model's own head, with its bands and window, predicts the envelope.
    head_bands = 0 if model_config.lpc_order else config.mel_bands
    mel_bands = model_config.mel_bands if model_config.lpc_order else config.mel_bands
    mel_fft = model_config.mel_fft if model_config.lpc_order else config.aux_mel_fft
    checkpoint = load_checkpoint(checkpoint_path) if checkpoint_path.exists() else None
    if checkpoint is not None:
        _require_keys(checkpoint, checkpoint_path, _RESUME_KEYS)
        check_same_shape(checkpoint, model_config, head_bands, checkpoint_path)
    start_step = int(checkpoint["step"]) if checkpoint is not None else 0
    if distributed.world_size > 1:
        steps = [None] * distributed.world_size
        dist.all_gather_object(steps, start_step)
        if len(set(steps)) > 1:
            raise TrainingError(f"the ranks found different checkpoints in {out_dir} (steps "
                                f"{steps}): --out must be on a file system all nodes share")

    torch.manual_seed(config.seed)  # the same initial weights on every rank
    model = TrainingModel(WaveNet(model_config), context, head_bands).to(device)
    if checkpoint is None and config.init_from:
        initialize_from(model, config.init_from)
    if checkpoint is None and config.envelope_from:
        initialize_envelope_from(model, config.envelope_from)
    ema = ExponentialMovingAverage(model, config.ema_decay)
    frozen = []
    if config.freeze_conditioning:
        frozen += [model.wavenet.conditioning_network, model.wavenet.mel_head, model.mel_head,
                   model.wavenet.envelope_network]
    if config.freeze_envelope:
        if model.wavenet.envelope_network is None:
            raise TrainingError("freeze_envelope is for a model with an envelope network of its "
                                "own: --set model.envelope_layers=N, or freeze_conditioning=true")
        frozen += [model.wavenet.envelope_network, model.wavenet.mel_head]
    for module in frozen:
        for parameter in module.parameters() if module is not None else ():
            parameter.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                 betas=(config.adam_beta1, config.adam_beta2),
                                 eps=config.adam_eps, weight_decay=config.weight_decay)
    amp_dtype = resolve_amp(config.amp, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    elapsed_before = 0.0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        ema.module.load_state_dict(checkpoint["ema"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scaler is not None and checkpoint.get("scaler"):
            scaler.load_state_dict(checkpoint["scaler"])
        torch.set_rng_state(checkpoint["rng"]["torch"])
        if device.type == "cuda" and checkpoint["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(checkpoint["rng"]["cuda"], device)
        elapsed_before = float(checkpoint.get("elapsed_s", 0.0))
        logger.info("resuming %s at step %d", checkpoint_path, start_step)
    del checkpoint
    mel = (MelSpectrogram(model_config.sample_rate, model_config.hop_length, mel_fft,
                          mel_bands).to(device) if mel_bands else None)
    if distributed.world_size > 1:
        ddp_model: nn.Module = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    else:
        ddp_model = model
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed window shapes: pick the fastest kernels

    train_set = WaveNetDataset(config.prep_dir, "train", config.window_frames, context,
                               seed=config.seed,
                               quantization_channels=model_config.quantization_channels,
                               lpc=lpc_spec(model_config))
    if not train_set.utterances:
        raise TrainingError(f"{config.prep_dir} has no 'train' utterances; check manifest.jsonl")
    val_batches = validation_batches(config, model_config, context)
    loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=StepBatchSampler(start_step, config.max_steps, config.batch_size,
                                                  distributed.rank, distributed.world_size),
        num_workers=config.num_workers, pin_memory=device.type == "cuda")

    def checkpoint_state(step: int) -> dict:
        return {"format": CHECKPOINT_FORMAT, "step": step, "model": model.state_dict(),
                "ema": ema.module.state_dict(), "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "rng": {"torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda"
                        else None},
                "mel_bands": head_bands,
                "model_config": model_config.to_dict(), "train_config": config.to_dict(),
                "elapsed_s": elapsed_before + time.perf_counter() - run_start}

    def save(step: int) -> None:
        # Every rank checks (their weights are identical), so all of them stop together.
        if not all_finite(model):
            raise TrainingError(f"the weights are no longer finite at step {step}; kept the last "
                                f"good checkpoint {checkpoint_path}: lower lr or grad_clip")
        if not distributed.is_main:
            return
        save_checkpoint(checkpoint_path, checkpoint_state(step))
        log.write("checkpoint", step=step, path=str(checkpoint_path))

    stop = StopRequest()
    stop.install()  # before the "start" event: whoever sees it may already send SIGTERM
    progress = None
    try:
        log = JsonlLog(out_dir / LOG_NAME if distributed.is_main else None)
        samples_per_step = config.batch_size * config.window_frames * model_config.hop_length \
            * distributed.world_size
        log.write("start", step=start_step, resumed=start_step > 0,
                  world_size=distributed.world_size, device=str(device),
                  amp=str(amp_dtype).replace("torch.", "") if amp_dtype else "off",
                  num_threads=torch.get_num_threads(), parameters=model.wavenet.num_parameters(),
                  context_frames=context, train_utterances=len(train_set.utterances),
                  train_hours=round(train_set.total_frames * model_config.hop_length
                                    / model_config.sample_rate / 3600, 4),
                  train_config=config.to_dict(), model_config=model_config.to_dict())
        logger.info("WaveNet with %d parameters, %d training utterances, %d context frames, %s%s, "
                    "world size %d", model.wavenet.num_parameters(), len(train_set.utterances),
                    context, device, f" ({amp_dtype})" if amp_dtype else "", distributed.world_size)

        progress = tqdm(total=config.max_steps, initial=start_step, file=sys.stderr, unit="step",
                        disable=not (distributed.is_main and sys.stderr.isatty()))
        run_start = time.perf_counter()
        interval_start, interval_steps, paused_s = run_start, 0, 0.0
        loss_sums = torch.zeros(3, device=device)  # ce, aux, steps since the last log
        quantization_channels = model_config.quantization_channels
        step, train_loss, val_loss, stopped = start_step, None, None, False
        model.train()
        for batch in loader:
            lr = learning_rate(config, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = {key: value.to(device, non_blocking=True) for key, value in batch.items()}
            with autocast(device, amp_dtype):
                ce, aux, _, _ = compute_losses(ddp_model, mel, batch, config,
                                               quantization_channels)
            loss = ce + config.aux_mel_weight * aux
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            max_norm = config.grad_clip if config.grad_clip > 0 else float("inf")
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            ema.update(model, step)
            step += 1
            interval_steps += 1
            loss_sums += torch.stack([ce.detach().float(), aux.detach().float(),
                                      torch.ones((), device=device)])
            progress.update(1)

            stopped = stop.requested
            if distributed.world_size > 1:  # every rank stops at the same step
                flag = torch.tensor([float(stopped)], device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                stopped = bool(flag.item())
            last = step >= config.max_steps or stopped

            if step % config.log_every == 0 or last:
                if distributed.world_size > 1:
                    dist.all_reduce(loss_sums)
                ce_mean, aux_mean, count = loss_sums.tolist()
                ce_mean, aux_mean = ce_mean / count, aux_mean / count
                if not math.isfinite(ce_mean + aux_mean):
                    raise TrainingError(
                        f"the training loss is {ce_mean} at step {step}; the last good "
                        f"checkpoint is {checkpoint_path}: lower lr or grad_clip and resume")
                now = time.perf_counter()
                samples_per_s = samples_per_step * interval_steps / max(
                    now - interval_start - paused_s, 1e-9)
                train_loss = ce_mean
                log.write("train", step=step, loss=round(ce_mean, 5), aux_loss=round(aux_mean, 5),
                          lr=lr, grad_norm=round(float(grad_norm), 4),
                          samples_per_s=round(samples_per_s, 1),
                          elapsed_s=round(elapsed_before + now - run_start, 2))
                progress.set_postfix(loss=f"{ce_mean:.3f}", aux=f"{aux_mean:.3f}")
                if progress.disable and distributed.is_main:
                    logger.info("step %d: loss %.4f, aux %.4f, lr %.2e, %.0f samples/s", step,
                                ce_mean, aux_mean, lr, samples_per_s)
                loss_sums.zero_()
                interval_start, interval_steps, paused_s = now, 0, 0.0

            pause_start = time.perf_counter()  # samples/s is about training steps alone
            if val_batches and (step % config.eval_every == 0 or last):
                val_loss, val_aux = evaluate(ema.module, mel, val_batches, config, device,
                                             amp_dtype, distributed)
                log.write("val", step=step, val_loss=round(val_loss, 5),
                          val_aux_loss=round(val_aux, 5), windows=config.val_windows)
                if distributed.is_main:
                    logger.info("step %d: validation loss (EMA) %.4f, aux %.4f", step, val_loss,
                                val_aux)

            if step % config.ckpt_every == 0 or last:
                save(step)
            paused_s += time.perf_counter() - pause_start
            if stopped:
                log.write("stop", step=step, reason="signal")
                break
    finally:
        stop.restore()
        if progress is not None:
            progress.close()
    if step >= config.max_steps and start_step >= config.max_steps:
        logger.info("%s is already at step %d (max_steps %d): nothing to do", checkpoint_path,
                    step, config.max_steps)
    return TrainResult(step=step, model=model.wavenet, ema=ema.module.wavenet,
                       train_loss=train_loss, val_loss=val_loss, stopped=stopped)


# ----------------------------------------------------------------------------- command line
def parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def build_configs(prep_dir: str, out_dir: str, config_file: str | None = None,
                  overrides: list[str] | tuple[str, ...] = ()
                  ) -> tuple[TrainConfig, WaveNetConfig]:
    """Defaults ← the checkpoint's configs (when resuming) ← ``config_file`` ← ``--set``."""
    train_values: dict[str, Any] = {}
    model_values: dict[str, Any] = {}
    checkpoint_path = Path(out_dir) / CHECKPOINT_NAME
    if checkpoint_path.exists():
        saved = load_checkpoint(checkpoint_path)
        train_values.update(saved["train_config"])
        model_values.update(saved["model_config"])
    if config_file:
        try:
            values = json.loads(Path(config_file).read_text())
        except json.JSONDecodeError as exc:
            raise TrainingError(f"{config_file} is not valid JSON: {exc}") from None
        if not isinstance(values, dict) or not isinstance(values.get("model", {}), dict):
            raise TrainingError(f"{config_file} must hold a JSON object of TrainConfig fields, "
                                "with WaveNetConfig fields in an object under \"model\"")
        model_values.update(values.pop("model", {}))
        train_values.update(values)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise TrainingError(f"--set expects key=value (e.g. lr=3e-4 or model.layers=30), "
                                f"got {item!r}")
        if key.startswith("model."):
            model_values[key[len("model."):]] = parse_value(raw)
        else:
            train_values[key] = parse_value(raw)
    train_values.update(prep_dir=str(prep_dir), out_dir=str(out_dir))
    train_config = train_config_from_dict(train_values, "training config")
    try:
        model_config = WaveNetConfig.from_dict(model_values)
    except TypeError as exc:
        raise TrainingError(f"model config: {exc}") from None
    return train_config, model_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vocoder.train",
        description="Train the WaveNet vocoder on a prepared corpus (resumes EXP/checkpoint.pt).")
    parser.add_argument("--prep", required=True, help="prepared corpus directory")
    parser.add_argument("--out", required=True, help="experiment directory (checkpoint, log)")
    parser.add_argument("--config", help="JSON file: TrainConfig fields, WaveNetConfig under "
                                         "\"model\"")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override one field (model.KEY for the model)")
    args = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s")
    try:
        train_config, model_config = build_configs(args.prep, args.out, args.config,
                                                   args.overrides)
        result = train(train_config, model_config)
    except (ValueError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"vocoder.train: error: {message}", file=sys.stderr)
        return 1
    if rank == 0:
        logger.info("stopped at step %d" if result.stopped else "done at step %d", result.step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
