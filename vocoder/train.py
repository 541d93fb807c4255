"""WaveNet training: teacher forcing, cross-entropy, Adam, EMA, resumable checkpoints, DDP.

    python -m vocoder.train --prep PREP --out EXP [--config cfg.json ...] [--set key=value ...]
    torchrun --nproc_per_node 2 -m vocoder.train --prep PREP --out EXP ...

Settings are two sections, ``model`` (``WaveNetConfig``) and ``train`` (``WaveNetTrainConfig``),
from config files and ``--set`` (``--set model.layers=30 --set train.lr=3e-4``), as every trainer
takes them (``tts_common.training``). ``EXP`` gets:

* ``checkpoint.pt`` (the harness's layout, kind ``wavenet``): model, EMA, optimizer, step and
  both configs, with the grad scaler, RNG state and the auxiliary head's bands beside them.
  Written atomically every ``ckpt_every`` steps, at the end, and on SIGTERM/SIGINT. A run whose
  ``EXP`` has one resumes from it, with the checkpoint's configs as defaults under the command
  line's; a different model config is refused. Checkpoints of the previous format
  (``wavenet-tts/train-checkpoint/1``) are converted when read.
* ``log.jsonl``: one JSON object per event (``start``, ``train``, ``val``, ``checkpoint``,
  ``stop``), appended across resumes.

The learning rate is a pure function of the step (``tts_common.training.learning_rate``), and
the training windows are a pure function of (seed, rank, step) (see ``vocoder.data``), so
neither needs state in the checkpoint: a resumed run takes the same steps an uninterrupted one
would have taken.

Weights between runs: ``train.init = ["PART:PATH", ...]`` starts a new run (not a resumed one)
with the named parts of other runs' weights, in order (``all`` for every tensor whose name and
shape agree); PATH is a run's checkpoint or a released voice directory (its WaveNet, e.g. to
train the bundled voice on). ``train.freeze = ["PART", ...]`` keeps parts fixed. The parts are
``vocoder.model.WAVENET_PARTS``: conditioning, envelope, speaker_embedding, sample_network.

Auxiliary loss: a 1×1 conv on the frame-rate conditioning network's output predicts each
frame's log-mel spectrogram (L1 or L2, weight ``aux_mel_weight``; 0 disables it). It forces that
network to carry the spectral envelope. The head exists only in training checkpoints; the voice
(``export_ema``) holds the EMA WaveNet alone. In excitation mode (``model.lpc_order > 0``,
``vocoder.lpc``) the head belongs to the WaveNet, which needs it to generate.

DDP: under torchrun (``WORLD_SIZE`` > 1) every rank runs this same loop on its own windows, NCCL on
CUDA and gloo on CPU; only rank 0 writes the log and checkpoints. ``EXP`` must be on a file
system all ranks see.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from tts_common.training import (
    AMP_MODES, CHECKPOINT_FORMAT, CHECKPOINT_NAME, LOG_NAME, Distributed,
    ExponentialMovingAverage, JsonlLog, StopRequest, TrainingError, add_config_arguments,
    all_finite, autocast, check_same_config, check_schedule, checkpoint_state, error_line,
    learning_rate, load_training_checkpoint, make_config, open_run, resolve_amp, resolve_device,
    restore_rng, rng_state, save_training_checkpoint, settings, setup_distributed, torch_threads,
)
from vocoder.data import IGNORE_INDEX, StepBatchSampler, WaveNetDataset, read_corpus_info
from vocoder.lpc import LOG_MEL_FLOOR, LPCSpec, mel_basis, mel_frame_padding
from vocoder.model import WAVENET_PARTS, WaveNet, WaveNetConfig, wavenet_part
from vocoder.mulaw import mulaw_decode

# Re-exported: what callers of this module used before the harness had them.
__all__ = ["CHECKPOINT_NAME", "LOG_NAME", "MelSpectrogram", "TrainingError", "TrainingModel",
           "WaveNetTrainConfig", "build_configs", "conditioning_reach", "corpus_model_defaults",
           "export_ema", "graft_envelope", "load_checkpoint", "lpc_spec", "main",
           "save_checkpoint", "start_from", "train", "transfer_weights"]

logger = logging.getLogger(__name__)

KIND = "wavenet"  # this trainer's checkpoints; vocoder.envelope's are "envelope"
WAVENET_KINDS = ("wavenet", "envelope")  # checkpoints holding a WaveNet's weights
LEGACY_FORMAT = "wavenet-tts/train-checkpoint/1"  # vocoder.train and vocoder.envelope, before
VALID_WINDOW_SEED = 1234  # the validation windows do not depend on the training seed
TRANSFER_ALL = "all"


@dataclass
class WaveNetTrainConfig:
    prep_dir: str = ""  # prepared corpus (see vocoder.data)
    out_dir: str = ""  # experiment directory: checkpoint.pt, log.jsonl
    # A new run starts from other runs' weights, "PART:PATH" in order (PART: a name of
    # vocoder.model.WAVENET_PARTS, or "all": every tensor of the same name and shape, e.g. a
    # waveform model's for an excitation model); ignored when resuming.
    init: list[str] = field(default_factory=list)
    # Parts kept as they are. E.g. ["conditioning", "envelope"] after ``vocoder.envelope``:
    # joint training at the WaveNet's learning rate was measured to undo the pretrained envelope
    # (window L1 0.85 → 1.12 in 350 steps); the aux loss is then reported but trains nothing.
    freeze: list[str] = field(default_factory=list)
    # data
    batch_size: int = 4
    window_frames: int = 100  # 100 frames × 80 = 8000 samples (0.5 s) per window
    context_frames: int = -1  # frames of context each side for the conditioning net; -1: its reach
    num_workers: int = 0  # DataLoader workers (windows are cheap slices of RAM: 0 is usually fine)
    # "SPEAKER:WEIGHT" entries: a frame of that speaker is drawn WEIGHT times as often as one of
    # a speaker left out (weight 1), e.g. ["p232:3", "p233:3"] for the voices furthest behind.
    # Validation windows stay unweighted, so that the loss stays comparable across runs.
    speaker_weights: list[str] = field(default_factory=list)
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
        name = type(self).__name__
        for key in ("batch_size", "window_frames", "max_steps", "log_every", "eval_every",
                    "ckpt_every", "aux_mel_bands", "aux_mel_fft"):
            if getattr(self, key) <= 0:
                raise TrainingError(f"{name}.{key} must be > 0, got {getattr(self, key)}")
        for key in ("num_workers", "val_windows", "num_threads", "grad_clip", "weight_decay",
                    "aux_mel_weight"):
            if getattr(self, key) < 0:
                raise TrainingError(f"{name}.{key} must be >= 0, got {getattr(self, key)}")
        if self.context_frames < -1:
            raise TrainingError(f"{name}.context_frames must be >= 0 (or -1 for automatic), "
                                f"got {self.context_frames}")
        check_schedule(self, name)
        if not 0 <= self.ema_decay < 1:
            raise TrainingError(f"{name} needs 0 <= ema_decay < 1, got {self.ema_decay}")
        choices = {"amp": AMP_MODES, "aux_mel_loss": ("l1", "l2")}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise TrainingError(f"{name}.{key} must be one of {', '.join(allowed)}, "
                                    f"got {getattr(self, key)!r}")
        check_parts(self.init, self.freeze)
        self.speaker_weight_table()

    def speaker_weight_table(self) -> dict[str, float]:
        """``speaker_weights`` as {speaker id: weight}; TrainingError naming a bad entry."""
        table: dict[str, float] = {}
        for entry in self.speaker_weights:
            speaker, _, weight = entry.rpartition(":")
            try:
                value = float(weight)
            except ValueError:
                value = math.nan
            if not speaker or not math.isfinite(value) or value <= 0 or speaker in table:
                raise TrainingError(
                    f"train.speaker_weights: {entry!r} must be SPEAKER:WEIGHT with a weight > 0, "
                    "each speaker once (e.g. p232:3,p233:3)")
            table[speaker] = value
        return table

    @property
    def mel_bands(self) -> int:
        """Bands of the auxiliary head; 0 when there is none (part of the checkpoint's shape)."""
        return self.aux_mel_bands if self.aux_mel_weight > 0 else 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTIONS = {"model": WaveNetConfig, "train": WaveNetTrainConfig}


# ----------------------------------------------------------------------------- model pieces
def conditioning_reach(config: WaveNetConfig) -> int:
    """Frames each side that one frame of the sample-rate conditioning depends on.

    The conditioning network is ``cond_layers + 1`` centred convs of ``cond_kernel`` frames; the
    upsampler mixes each frame with its neighbours (±1 frame). With this much context on each
    side of a window, its conditioning equals that of the whole utterance (tested).
    """
    return (config.cond_kernel // 2) * (config.cond_layers + 1) + 1


def lpc_spec(model_config: WaveNetConfig) -> LPCSpec | None:
    """The filters of an excitation-mode model (``vocoder.lpc``); None for a waveform model.
    The one place a WaveNet's config is turned into its LPC analysis."""
    if not model_config.lpc_order:
        return None
    return LPCSpec(model_config.lpc_order, model_config.mel_bands, model_config.mel_fft,
                   model_config.sample_rate, model_config.hop_length)


class MelSpectrogram(nn.Module):
    """Audio (B, W * hop) → log-mel (B, bands, W): ``vocoder.lpc.log_mel`` in torch (the same
    filterbank, framing and floor; equal to it, tested), for the batches of training."""

    def __init__(self, sample_rate: int, hop_length: int, n_fft: int, bands: int):
        super().__init__()
        self.hop_length, self.n_fft = hop_length, max(n_fft, hop_length)
        basis = mel_basis(sample_rate, self.n_fft, bands)
        # Not persistent: rebuilt from the config, never stored in checkpoints.
        self.register_buffer("mel_basis", torch.from_numpy(basis).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        left, right, mode = mel_frame_padding(audio.shape[1], self.n_fft, self.hop_length)
        padded = F.pad(audio.unsqueeze(1), (left, right), mode=mode).squeeze(1)  # (B, L + n - hop)
        spec = torch.stft(padded, self.n_fft, self.hop_length, window=self.window, center=False,
                          return_complex=True)  # (B, n_fft/2 + 1, W)
        mel = torch.matmul(self.mel_basis, spec.abs().square())  # (B, bands, W)
        return torch.log(mel.clamp(min=LOG_MEL_FLOOR))


class TrainingModel(nn.Module):
    """The WaveNet plus the training-only log-mel head: one module, so DDP syncs both.

    ``forward(inputs (B, L), features (B, W + 2c, C), speaker (B,))`` → logits (B, Q, L) and the
    predicted log-mel (B, bands, W) or None. The conditioning network runs once on the window and
    its ``c`` context frames (``WaveNet.forward``'s ``context_frames``). With
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
                         if mel_bands and not config.lpc_order else None)

    def forward(self, inputs: torch.Tensor, features: torch.Tensor, speaker: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        wavenet, context = self.wavenet, self.context_frames
        hidden = wavenet.conditioning(features)  # (B, H, W + 2c), shared with the mel head
        logits = wavenet(inputs, features, speaker, context_frames=context, conditioning=hidden)
        window = slice(context, features.shape[1] - context)
        mel = None
        if wavenet.config.lpc_order:
            mel = wavenet.envelope(features, hidden, speaker)[:, :, window]
        elif self.mel_head is not None:
            mel = self.mel_head(hidden[:, :, window])  # (B, bands, W)
        return logits, mel


# ----------------------------------------------------------------------------- named parts
def check_parts(init: Sequence[str], freeze: Sequence[str]) -> None:
    """``init`` entries are PART:PATH and ``freeze`` entries PART, PART a named part."""
    names = ", ".join(WAVENET_PARTS)
    for entry in init:
        part, sep, path = entry.partition(":")
        if not sep or not path or part not in (TRANSFER_ALL, *WAVENET_PARTS):
            raise TrainingError(f"init entries are PART:PATH with PART one of {TRANSFER_ALL}, "
                                f"{names}; got {entry!r}")
    for part in freeze:
        if part not in WAVENET_PARTS:
            raise TrainingError(f"freeze entries are parts of the WaveNet ({names}); got "
                                f"{part!r}")


def wavenet_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A TrainingModel state dict under the WaveNet's own tensor names: its tensors without
    ``wavenet.``, and the waveform model's training-only head as ``mel_head.``, the name of its
    counterpart in excitation mode (so that one run's head can start the other's)."""
    prefix = "wavenet."
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


def shipped_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The weights a run hands on (to a voice, or to another run): its EMA where it keeps one."""
    return checkpoint["ema"] if checkpoint.get("ema") is not None else checkpoint["model"]


def _envelope_from_conditioning(source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A model's envelope as a network of its own: for a model whose envelope head reads the
    conditioning network, that network's tensors under the envelope network's names."""
    old, new = "conditioning_network.", "envelope_network."
    return {new + k[len(old):]: v for k, v in source.items() if k.startswith(old)}


def init_source(path: str | Path) -> dict[str, torch.Tensor]:
    """The WaveNet weights (under the WaveNet's own names) that a ``train.init`` PATH hands
    on: a training checkpoint's EMA, or a released voice directory's WaveNet, widened to
    float32, so that a run can go on from a shipped voice whose checkpoints are gone."""
    if Path(path).is_dir():
        from tts.voice import VOICE_JSON, VoiceError, read_voice

        if not (Path(path) / VOICE_JSON).is_file():
            raise TrainingError(f"{path} is a directory without {VOICE_JSON}: give a training "
                                "checkpoint (checkpoint.pt) or a voice directory")
        try:
            tensors = read_voice(path).tensors("wavenet")  # checked, float32
        except VoiceError as exc:
            raise TrainingError(str(exc)) from None
        return {name: torch.from_numpy(array) for name, array in tensors.items()}
    return wavenet_names(shipped_weights(load_checkpoint(path)))


def transfer_weights(model: TrainingModel, entry: str) -> list[str]:
    """Copy a part (``init`` entry ``PART:PATH``) of another run's weights into ``model``;
    returns the names (``wavenet_names``) of the tensors it set.

    ``all`` copies every tensor whose name and shape agree and needs one at least; a named part
    must fit whole. An envelope network of the model's own, taken from a run without one,
    starts as that run's envelope, its conditioning network (blocks beyond it as identities).
    """
    part, _, path = entry.partition(":")
    source = init_source(path)
    actual = {name: key for key, name in zip(model.state_dict(), wavenet_names(
        model.state_dict()))}  # WaveNet name → the model's key
    target = wavenet_names(model.state_dict())
    seeded = (model.wavenet.envelope_network is not None and part in (TRANSFER_ALL, "envelope")
              and not any(k.startswith("envelope_network.") for k in source))
    if seeded:
        source = {**source, **_envelope_from_conditioning(source)}
    wanted = [k for k in target if part == TRANSFER_ALL or wavenet_part(k) == part]
    fits = [k for k in wanted if k in source and source[k].shape == target[k].shape]
    if part == TRANSFER_ALL:
        if not fits:
            raise TrainingError(f"{path} shares no weights with this model; check train.init")
    else:
        # Blocks of a seeded envelope network beyond the source's start as identities; none of
        # the source's tensors of the part may be left behind (a head without its network).
        misfit = [k for k in wanted if k not in fits and not (
            seeded and k.startswith("envelope_network.blocks.") and k not in source)]
        misfit += [k for k in source if k not in target and wavenet_part(k) == part]
        if not wanted or misfit:
            raise TrainingError(
                f"{path} does not fit this model's {part} part ("
                + (f"{len(misfit)} tensors differ, e.g. {misfit[0]}" if misfit else
                   "this model has none") + "): give the model config of that run (e.g. "
                "model.envelope_layers), or train.init=all:PATH")
    model.load_state_dict({actual[k]: source[k] for k in fits}, strict=False)
    identities = []
    if seeded:
        with torch.no_grad():  # blocks beyond the source's as identities (residual blocks)
            for name, parameter in model.wavenet.envelope_network.named_parameters():
                if f"envelope_network.{name}" not in fits:
                    parameter.zero_()
                    identities.append(f"envelope_network.{name}")
    logger.info("%s: %d of %d tensors from %s", part, len(fits), len(target), path)
    return fits + identities


def check_init_corpus(prep_dir: str | Path, init: Sequence[str]) -> None:
    """A voice directory in ``init`` was trained on a corpus numbered and normalized its own way:
    refuse a corpus that numbers the same speakers otherwise (each would train another's
    embedding) or normalizes log-F0 otherwise (the WaveNet would hear every pitch shifted)."""
    from tts.voice import VOICE_JSON, VoiceError, read_voice
    from tts_common.corpus import read_stats

    info = read_corpus_info(prep_dir)
    log_f0 = read_stats(prep_dir, TrainingError).get("log_f0", {})
    for entry in init:
        part, _, path = entry.partition(":")
        if not (Path(path) / VOICE_JSON).is_file():
            continue
        try:
            voice = read_voice(path)
        except VoiceError as exc:
            raise TrainingError(str(exc)) from None
        fix = f"prepare the corpus with --like {path} (python -m recipes.vctk.prepare)"
        ours = {speaker: index for index, speaker in enumerate(info.speaker_ids)}
        moved = [f"{s.id} is {ours[s.id]} here, {s.index} in the voice" for s in voice.speakers
                 if s.id in ours and ours[s.id] != s.index]
        if moved and part in (TRANSFER_ALL, "speaker_embedding"):
            raise TrainingError(f"train.init {path}: {prep_dir} numbers its speakers otherwise "
                                f"({moved[0]}), so each would train another's embedding: {fix}")
        theirs = (voice.conditioning.log_f0_mean, voice.conditioning.log_f0_std)
        here = (log_f0.get("mean"), log_f0.get("std"))
        if not all(isinstance(v, (int, float)) and math.isclose(v, w, rel_tol=1e-9)
                   for v, w in zip(here, theirs)):
            raise TrainingError(
                f"train.init {path}: {prep_dir} normalizes log-F0 with mean/std {here[0]}/"
                f"{here[1]}, the voice with {theirs[0]:.6f}/{theirs[1]:.6f}, so the WaveNet would "
                f"hear every pitch shifted: {fix}")


def start_from(model: TrainingModel, init: Sequence[str], freeze: Sequence[str]) -> None:
    """Every ``init`` entry into ``model``. A tensor of a frozen part that none of them set
    would stay at its random start for the whole run (a source of another shape, e.g. a voice
    with an envelope head per speaker), so that is refused before any step is spent."""
    if not init:
        return
    started = {name for entry in init for name in transfer_weights(model, entry)}
    left = [name for name in wavenet_names(dict(model.named_parameters()))
            if wavenet_part(name) in freeze and name not in started]
    if left:
        raise TrainingError(
            f"train.freeze keeps the {wavenet_part(left[0])} part as it starts, but train.init "
            f"sets {len(left)} of its tensors from nowhere (e.g. {left[0]}: missing or of "
            "another shape in the source), so they would stay random: give the source's model "
            "config (e.g. model.speaker_envelopes=true), or leave the part out of train.freeze")


def freeze_parts(model: TrainingModel, parts: Sequence[str]) -> None:
    """Keep the named parts of ``model`` as they are (no gradient, not in the optimizer)."""
    found = set()
    for name, parameter in zip(wavenet_names(dict(model.named_parameters())),
                               model.parameters()):
        if wavenet_part(name) in parts:
            parameter.requires_grad_(False)
            found.add(wavenet_part(name))
    missing = [part for part in parts if part not in found]
    if missing:
        raise TrainingError(f"train.freeze: this model has no {', '.join(missing)} part (e.g. "
                            "no envelope without lpc_order or the auxiliary head, no "
                            "speaker_embedding without speakers)")


def graft_envelope(wavenet: WaveNet, donor: WaveNet) -> WaveNet:
    """``wavenet`` with the envelope part of ``donor`` (both excitation mode, the same features
    and envelope shape, the donor with an envelope network of its own): a WaveNet trained with
    its envelope frozen, and an envelope network trained on after it."""
    config, donor_config = wavenet.config, donor.config
    if not donor_config.envelope_layers:
        raise TrainingError("the envelope run has no envelope network of its own: train it with "
                            "--set model.envelope_layers=N")
    shared = ("sample_rate", "hop_length", "cond_channels", "cond_hidden", "cond_kernel",
              "lpc_order", "mel_bands", "mel_fft")
    mismatched = [name for name in shared if getattr(config, name) != getattr(donor_config, name)]
    if mismatched:  # lpc_order among them: the donor is in excitation mode
        raise TrainingError("the envelope run does not fit this WaveNet (different "
                            f"{', '.join(mismatched)}); train it from this run")
    grafted = WaveNet(dataclasses.replace(config, envelope_layers=donor_config.envelope_layers))
    state = {k: v for k, v in wavenet.state_dict().items() if wavenet_part(k) != "envelope"}
    state.update({k: v for k, v in donor.state_dict().items() if wavenet_part(k) == "envelope"})
    grafted.load_state_dict(state)
    return grafted.eval()


# ----------------------------------------------------------------------------- losses
def compute_losses(model: nn.Module, mel: MelSpectrogram | None, batch: dict[str, torch.Tensor],
                   config: WaveNetTrainConfig, quantization_channels: int,
                   reduction: str = "mean"
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
    save_training_checkpoint(path, state)


def convert_checkpoint(state: dict, path: Path) -> dict:
    """A checkpoint of ``vocoder.train`` or ``vocoder.envelope`` in the format before the
    harness (``wavenet-tts/train-checkpoint/1``) in today's layout; its one-off transfer flags
    become ``init`` and ``freeze``."""
    if state.get("format") != LEGACY_FORMAT:
        raise TrainingError(f"{path} is not a WaveNet training checkpoint (format "
                            f"{state.get('format')!r}); use another checkpoint or --out")
    train_values = dict(state.get("train_config") or {})
    init_from = train_values.pop("init_from", "")
    envelope_from = train_values.pop("envelope_from", "")
    freeze_conditioning = train_values.pop("freeze_conditioning", False)
    freeze_envelope = train_values.pop("freeze_envelope", False)
    init = [f"{TRANSFER_ALL}:{init_from}"] * bool(init_from) \
        + [f"envelope:{envelope_from}"] * bool(envelope_from)
    freeze = ["conditioning", "envelope"] if freeze_conditioning else \
        ["envelope"] if freeze_envelope else []
    converted = dict(state, format=CHECKPOINT_FORMAT, kind=KIND,
                     train_config=dict(train_values, init=init, freeze=freeze))
    if "envelope_history" in state:  # vocoder.envelope wrote it: weights only, no optimizer
        history = converted.pop("envelope_history")
        converted.update(kind="envelope", step=int(history[-1]["step"]), optimizer=None,
                         history=history, train_config={},
                         elapsed_s=float(history[-1].get("elapsed_s", 0.0)))
    return converted


def load_checkpoint(path: str | Path, kinds: Sequence[str] = WAVENET_KINDS) -> dict:
    """A checkpoint holding a WaveNet (``vocoder.train``'s or ``vocoder.envelope``'s), its
    SHA-256 verified, read without unpickling arbitrary objects; older formats converted."""
    return load_training_checkpoint(path, kinds, convert_checkpoint)


def ema_wavenet_from_checkpoint(checkpoint: dict, path: Path | None = None) -> WaveNet:
    """The WaveNet a checkpoint hands on (its EMA, without the training-only head)."""
    wavenet = WaveNet(WaveNetConfig.from_dict(checkpoint["model_config"]))
    prefix = "wavenet."
    try:
        weights = shipped_weights(checkpoint)
    except KeyError:
        raise TrainingError(f"{path or 'the checkpoint'} holds no weights: it is incomplete; "
                            "use another checkpoint") from None
    wavenet.load_state_dict({key[len(prefix):]: value for key, value in weights.items()
                             if key.startswith(prefix)})
    return wavenet.eval()


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


# ----------------------------------------------------------------------------- data
def corpus_model_defaults(prep_dir: str | Path) -> dict[str, Any]:
    """What the corpus says of the model: the base layer of its settings, so that a setting
    checked against the speaker count (``speaker_envelopes``) sees the corpus's."""
    info = read_corpus_info(prep_dir)
    return {"sample_rate": info.sample_rate, "hop_length": info.hop_length,
            "cond_channels": info.cond_channels, "num_speakers": info.num_speakers}


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


def validation_batches(config: WaveNetTrainConfig, model_config: WaveNetConfig, context: int
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
             batches: list[dict[str, torch.Tensor]], config: WaveNetTrainConfig,
             device: torch.device, amp_dtype: torch.dtype | None,
             distributed: Distributed) -> tuple[float, float]:
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


@dataclass
class TrainResult:
    step: int
    model: WaveNet  # the raw weights
    ema: WaveNet  # the averaged weights (what a voice ships)
    train_loss: float | None  # last logged mean cross-entropy (nats)
    val_loss: float | None  # last validation cross-entropy of the EMA weights
    stopped: bool  # interrupted by SIGINT/SIGTERM before max_steps


# ----------------------------------------------------------------------------- the loop
def train(config: WaveNetTrainConfig, model_config: WaveNetConfig | None = None) -> TrainResult:
    """Train (or resume) into ``config.out_dir``; see the module docstring."""
    if not config.prep_dir or not config.out_dir:
        raise TrainingError("WaveNetTrainConfig needs prep_dir (a prepared corpus) and out_dir")
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")),
                            int(os.environ.get("WORLD_SIZE", "1")))
    distributed = setup_distributed(device)
    try:
        with torch_threads(config.num_threads):
            return _train(config, model_config or WaveNetConfig(), device, distributed)
    finally:
        if distributed.owns_group:
            dist.destroy_process_group()


def _optimizer_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                    scaler: Any, grad_clip: float) -> torch.Tensor:
    """Backward, clip, step (through the fp16 grad scaler where there is one); the grad norm."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
    else:
        loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(model.parameters(),
                                         grad_clip if grad_clip > 0 else float("inf"))
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    return grad_norm


def _resumable_checkpoint(config: WaveNetTrainConfig, model_config: WaveNetConfig,
                          head_bands: int, distributed: Distributed) -> dict | None:
    """The run's checkpoint in ``out_dir`` (None: a new run), checked to fit ``model_config``
    and to be the same one on every rank."""
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    checkpoint = open_run(out_dir, (KIND,), convert_checkpoint, writer=distributed.is_main)
    if checkpoint is not None:
        if checkpoint.get("optimizer") is None or "ema" not in checkpoint:
            raise TrainingError(f"{checkpoint_path} holds weights only (no optimizer state): it "
                                "cannot be resumed; start a new --out from it with "
                                f"--set train.init={TRANSFER_ALL}:{checkpoint_path}")
        # Through WaveNetConfig, so that keys added since the checkpoint read as their defaults.
        saved = WaveNetConfig.from_dict(checkpoint["model_config"]).to_dict()
        check_same_config(checkpoint_path, dict(saved, aux_mel_bands=checkpoint["mel_bands"]),
                          dict(model_config.to_dict(), aux_mel_bands=head_bands))
    start_step = int(checkpoint["step"]) if checkpoint is not None else 0
    if distributed.world_size > 1:
        steps = [None] * distributed.world_size
        dist.all_gather_object(steps, start_step)
        if len(set(steps)) > 1:
            raise TrainingError(f"the ranks found different checkpoints in {out_dir} (steps "
                                f"{steps}): --out must be on a file system all nodes share")
    return checkpoint


@dataclass
class _Learner:
    """What the training steps change, built new or restored from the run's checkpoint."""

    model: TrainingModel
    ema: ExponentialMovingAverage
    optimizer: torch.optim.Optimizer
    scaler: Any  # torch.amp.GradScaler under float16 autocast, else None
    amp_dtype: torch.dtype | None
    start_step: int
    elapsed_before: float  # seconds of training in the runs before this one

    def state(self, step: int, model_config: WaveNetConfig, config: WaveNetTrainConfig,
              device: torch.device, head_bands: int, elapsed_s: float) -> dict:
        return checkpoint_state(
            KIND, step, model_config.to_dict(), config.to_dict(), self.model.state_dict(),
            self.optimizer.state_dict(), self.ema.module.state_dict(),
            scaler=self.scaler.state_dict() if self.scaler is not None else None,
            rng=rng_state(device), mel_bands=head_bands, elapsed_s=elapsed_s)


def _learner(config: WaveNetTrainConfig, model_config: WaveNetConfig, context: int,
             head_bands: int, device: torch.device, checkpoint: dict | None) -> _Learner:
    torch.manual_seed(config.seed)  # the same initial weights on every rank
    model = TrainingModel(WaveNet(model_config), context, head_bands).to(device)
    if checkpoint is None:
        check_init_corpus(config.prep_dir, config.init)
        start_from(model, config.init, config.freeze)
    ema = ExponentialMovingAverage(model, config.ema_decay)
    freeze_parts(model, config.freeze)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                 betas=(config.adam_beta1, config.adam_beta2),
                                 eps=config.adam_eps, weight_decay=config.weight_decay)
    amp_dtype = resolve_amp(config.amp, device)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    learner = _Learner(model, ema, optimizer, scaler, amp_dtype, 0, 0.0)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        ema.module.load_state_dict(checkpoint["ema"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scaler is not None and checkpoint.get("scaler"):
            scaler.load_state_dict(checkpoint["scaler"])
        restore_rng(checkpoint["rng"], device)
        learner.start_step = int(checkpoint["step"])
        learner.elapsed_before = float(checkpoint.get("elapsed_s", 0.0))
        logger.info("resuming %s at step %d", Path(config.out_dir) / CHECKPOINT_NAME,
                    learner.start_step)
    return learner


class _LossMeter:
    """The mean losses and the training throughput since the last "train" log line; the
    seconds spent in validation and checkpoints (``paused``) do not count as training."""

    def __init__(self, device: torch.device, samples_per_step: int):
        self.samples_per_step = samples_per_step
        self.sums = torch.zeros(3, device=device)  # ce, aux, steps
        self.reset(time.perf_counter())

    def reset(self, now: float) -> None:
        self.sums.zero_()
        self.start, self.steps, self.paused_s = now, 0, 0.0

    def add(self, ce: torch.Tensor, aux: torch.Tensor) -> None:
        self.steps += 1
        self.sums += torch.stack([ce.detach().float(), aux.detach().float(),
                                  torch.ones((), device=self.sums.device)])

    def means(self, distributed: Distributed) -> tuple[float, float]:
        if distributed.world_size > 1:
            dist.all_reduce(self.sums)
        ce, aux, count = self.sums.tolist()
        return ce / count, aux / count

    def samples_per_s(self, now: float) -> float:
        return self.samples_per_step * self.steps / max(now - self.start - self.paused_s, 1e-9)


def _stop_everywhere(requested: bool, device: torch.device, distributed: Distributed) -> bool:
    """Whether any rank was asked to stop, so that every rank stops at the same step."""
    if distributed.world_size == 1:
        return requested
    flag = torch.tensor([float(requested)], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def _train(config: WaveNetTrainConfig, model_config: WaveNetConfig, device: torch.device,
           distributed: Distributed) -> TrainResult:
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    model_config = corpus_model_config(model_config, config.prep_dir)
    context = conditioning_reach(model_config) if config.context_frames < 0 else \
        config.context_frames
    if model_config.lpc_order and not config.aux_mel_weight > 0:
        raise TrainingError("an excitation model (lpc_order > 0) learns its envelope through the "
                            "auxiliary mel loss: set train.aux_mel_weight > 0")
    # Excitation mode: the model's own head, with its bands and window, predicts the envelope.
    head_bands = 0 if model_config.lpc_order else config.mel_bands
    mel_bands = model_config.mel_bands if model_config.lpc_order else config.mel_bands
    mel_fft = model_config.mel_fft if model_config.lpc_order else config.aux_mel_fft
    checkpoint = _resumable_checkpoint(config, model_config, head_bands, distributed)
    learner = _learner(config, model_config, context, head_bands, device, checkpoint)
    del checkpoint
    model, ema, optimizer, start_step = (learner.model, learner.ema, learner.optimizer,
                                         learner.start_step)
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
                               lpc=lpc_spec(model_config),
                               speaker_weights=config.speaker_weight_table())
    if not train_set.utterances:
        raise TrainingError(f"{config.prep_dir} has no 'train' utterances; check manifest.jsonl")
    val_batches = validation_batches(config, model_config, context)
    loader = torch.utils.data.DataLoader(
        train_set, batch_sampler=StepBatchSampler(start_step, config.max_steps, config.batch_size,
                                                  distributed.rank, distributed.world_size),
        num_workers=config.num_workers, pin_memory=device.type == "cuda")

    def save(step: int) -> None:
        # Every rank checks (their weights are identical), so all of them stop together.
        if not all_finite(model):
            raise TrainingError(f"the weights are no longer finite at step {step}; kept the last "
                                f"good checkpoint {checkpoint_path}: lower lr or grad_clip")
        if not distributed.is_main:
            return
        elapsed_s = learner.elapsed_before + time.perf_counter() - run_start
        save_checkpoint(checkpoint_path, learner.state(step, model_config, config, device,
                                                       head_bands, elapsed_s))
        log.write("checkpoint", step=step, path=str(checkpoint_path))

    stop = StopRequest()
    amp_dtype = learner.amp_dtype
    # Installed before the "start" event: whoever sees it may already send SIGTERM.
    with stop.installed():
        log = JsonlLog(out_dir / LOG_NAME if distributed.is_main else None)
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
        meter = _LossMeter(device, config.batch_size * config.window_frames
                           * model_config.hop_length * distributed.world_size)
        step, train_loss, val_loss, stopped = start_step, None, None, False
        model.train()
        try:
            for batch in loader:
                lr = learning_rate(config, step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                batch = {key: value.to(device, non_blocking=True) for key, value in batch.items()}
                with autocast(device, amp_dtype):
                    ce, aux, _, _ = compute_losses(ddp_model, mel, batch, config,
                                                   model_config.quantization_channels)
                grad_norm = _optimizer_step(model, optimizer, ce + config.aux_mel_weight * aux,
                                            learner.scaler, config.grad_clip)
                ema.update(model, step)
                step += 1
                meter.add(ce, aux)
                progress.update(1)
                stopped = _stop_everywhere(stop.requested, device, distributed)
                last = step >= config.max_steps or stopped

                if step % config.log_every == 0 or last:
                    ce_mean, aux_mean = meter.means(distributed)
                    if not math.isfinite(ce_mean + aux_mean):
                        raise TrainingError(
                            f"the training loss is {ce_mean} at step {step}; the last good "
                            f"checkpoint is {checkpoint_path}: lower lr or grad_clip and resume")
                    now = time.perf_counter()
                    samples_per_s = meter.samples_per_s(now)
                    train_loss = ce_mean
                    log.write("train", step=step, loss=round(ce_mean, 5),
                              aux_loss=round(aux_mean, 5), lr=lr,
                              grad_norm=round(float(grad_norm), 4),
                              samples_per_s=round(samples_per_s, 1),
                              elapsed_s=round(learner.elapsed_before + now - run_start, 2))
                    progress.set_postfix(loss=f"{ce_mean:.3f}", aux=f"{aux_mean:.3f}")
                    if progress.disable and distributed.is_main:
                        logger.info("step %d: loss %.4f, aux %.4f, lr %.2e, %.0f samples/s",
                                    step, ce_mean, aux_mean, lr, samples_per_s)
                    meter.reset(now)

                pause_start = time.perf_counter()  # samples/s is about training steps alone
                if val_batches and (step % config.eval_every == 0 or last):
                    val_loss, val_aux = evaluate(ema.module, mel, val_batches, config, device,
                                                 amp_dtype, distributed)
                    log.write("val", step=step, val_loss=round(val_loss, 5),
                              val_aux_loss=round(val_aux, 5), windows=config.val_windows)
                    if distributed.is_main:
                        logger.info("step %d: validation loss (EMA) %.4f, aux %.4f", step,
                                    val_loss, val_aux)

                if step % config.ckpt_every == 0 or last:
                    save(step)
                meter.paused_s += time.perf_counter() - pause_start
                if stopped:
                    log.write("stop", step=step, reason="signal")
                    break
        finally:
            progress.close()
    if step >= config.max_steps and start_step >= config.max_steps:
        logger.info("%s is already at step %d (max_steps %d): nothing to do", checkpoint_path,
                    step, config.max_steps)
    return TrainResult(step=step, model=model.wavenet, ema=ema.module.wavenet,
                       train_loss=train_loss, val_loss=val_loss, stopped=stopped)


# ----------------------------------------------------------------------------- command line
def build_configs(prep_dir: str, out_dir: str, config_files: Sequence[str] = (),
                  overrides: Sequence[str] = ()) -> tuple[WaveNetTrainConfig, WaveNetConfig]:
    """Defaults ← the checkpoint's configs (when resuming) ← each config file ← ``--set``."""
    checkpoint_path = Path(out_dir) / CHECKPOINT_NAME
    checkpoint = load_checkpoint(checkpoint_path, (KIND,)) if checkpoint_path.exists() else None
    values = settings(SECTIONS, checkpoint, config_files, overrides,
                      base={"model": corpus_model_defaults(prep_dir)}, where=str(checkpoint_path))
    values["train"].update(prep_dir=str(prep_dir), out_dir=str(out_dir))
    return (make_config(WaveNetTrainConfig, values["train"], "train config"),
            make_config(WaveNetConfig, values["model"], "model config"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vocoder.train",
        description="Train the WaveNet vocoder on a prepared corpus (resumes EXP/checkpoint.pt).")
    parser.add_argument("--prep", required=True, help="prepared corpus directory")
    parser.add_argument("--out", required=True, help="experiment directory (checkpoint, log)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s")
    try:
        train_config, model_config = build_configs(args.prep, args.out, args.config_files,
                                                   args.overrides)
        result = train(train_config, model_config)
    except (ValueError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"vocoder.train: error: {error_line(exc)}", file=sys.stderr)
        return 1
    if rank == 0:
        logger.info("stopped at step %d" if result.stopped else "done at step %d", result.step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
