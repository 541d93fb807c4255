"""Pretrain the frame-rate half of a WaveNet: conditioning network + envelope (log-mel) head.

Why: the WaveNet's training windows show the conditioning network 4 × 100 frames per step, at
the cost of 32,000 samples of the sample-rate network. On two CPU cores that is about 1.5 M
frames an hour, under half an epoch of a 6 h corpus. The envelope, which in excitation mode
(``vocoder/lpc.py``) sets the formants and so decides intelligibility, only needs the frame rate:
trained alone on whole utterances it sees ~30× more frames per second of compute. The result is
a training checkpoint (kind ``envelope``) whose weights ``vocoder.train`` takes with
``--set train.init=all:EXP/checkpoint.pt`` (or ``envelope:...`` for the envelope part alone).

    python -m vocoder.envelope --prep data/demo/prep --out exp/envelope \\
        --config recipes/demo/wavenet_shape.json --set train.minutes=15

Settings as every trainer takes them (``tts_common.training``): ``model`` (``WaveNetConfig``,
excitation mode) and ``train`` (``EnvelopeTrainConfig``), whose ``init`` starts the model from
other runs' named parts (``vocoder.train.transfer_weights``). What trains is the envelope: the
envelope part, and the conditioning network where the envelope head reads it (no envelope
network of its own). Loss: L1 between the predicted and the recording's log-mel
(``vocoder.lpc.log_mel``, as the training's auxiliary loss computes it), over the frames of each
utterance. The run stops at its time budget (``minutes``) or ``max_steps``, whichever comes
first, checkpoints every ``ckpt_every`` steps and on SIGTERM, and resumes like the others.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf
import torch

from tts_common.training import (
    CHECKPOINT_NAME, LOG_NAME, JsonlLog, StopRequest, TrainingError, add_config_arguments,
    check_same_config, check_schedule, checkpoint_state, error_line, learning_rate, make_config,
    open_run, save_training_checkpoint, settings, torch_threads,
)
from vocoder.data import DatasetError, read_manifest
from vocoder.lpc import log_mel
from vocoder.model import WaveNet, WaveNetConfig, wavenet_part
from vocoder.train import (TrainingModel, check_parts, convert_checkpoint, corpus_model_config,
                           corpus_model_defaults, lpc_spec, start_from, wavenet_names)

logger = logging.getLogger(__name__)

KIND = "envelope"


@dataclass
class EnvelopeTrainConfig:
    # Start from other runs' weights, "PART:PATH" in order (as vocoder.train's init).
    init: list[str] = field(default_factory=list)
    minutes: float = 15.0  # time budget; the schedule runs over it (over max_steps if given)
    max_steps: int = 0  # stop after this many steps too; 0: the time budget alone
    batch_size: int = 16  # utterances per step
    lr: float = 1e-3
    min_lr: float = 2e-5
    warmup_steps: int = 0
    lr_schedule: str = "cosine"
    grad_clip: float = 1.0
    eval_every: int = 100
    ckpt_every: int = 100
    seed: int = 0
    num_threads: int = 0  # torch.set_num_threads; 0 keeps torch's default

    def __post_init__(self) -> None:
        name = type(self).__name__
        if not self.minutes > 0 or self.max_steps < 0:
            raise TrainingError(f"{name} needs minutes > 0 and max_steps >= 0, got "
                                f"{self.minutes}, {self.max_steps}")
        for key in ("batch_size", "eval_every", "ckpt_every"):
            if getattr(self, key) <= 0:
                raise TrainingError(f"{name}.{key} must be > 0, got {getattr(self, key)}")
        if self.grad_clip < 0 or self.num_threads < 0:
            raise TrainingError(f"{name} needs grad_clip >= 0 and num_threads >= 0")
        check_schedule(self, name)
        check_parts(self.init, ())


SECTIONS = {"model": WaveNetConfig, "train": EnvelopeTrainConfig}


@dataclass
class EnvelopeData:
    """One split in RAM: per utterance (features (T, C) float16, log-mel (bands, T) float16)."""
    features: list[np.ndarray]
    mels: list[np.ndarray]

    @classmethod
    def load(cls, prep_dir: Path, split: str, config: WaveNetConfig) -> "EnvelopeData":
        basis = lpc_spec(config).basis()
        features, mels = [], []
        for entry in read_manifest(prep_dir):
            if entry["split"] != split:
                continue
            cond = np.load(prep_dir / entry["cond"], allow_pickle=False)
            audio, rate = sf.read(str(prep_dir / entry["wav"]), dtype="float32")
            if rate != config.sample_rate or cond.shape[1] != config.cond_channels:
                raise DatasetError(f"{entry['utt_id']}: {rate} Hz audio and {cond.shape[1]} "
                                   f"feature channels do not fit the model ({config.sample_rate}"
                                   f" Hz, {config.cond_channels}); check --prep")
            padded = np.zeros(len(cond) * config.hop_length, np.float32)
            padded[:min(len(audio), len(padded))] = audio[:len(padded)]
            features.append(cond.astype(np.float16))
            mels.append(log_mel(padded, basis, config.hop_length).astype(np.float16))
        return cls(features, mels)

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Zero-padded features (B, T, C), mel targets (B, bands, T), frame mask (B, 1, T)."""
        longest = max(len(self.features[i]) for i in indices)
        channels, bands = self.features[0].shape[1], self.mels[0].shape[0]
        features = torch.zeros(len(indices), longest, channels)
        targets = torch.zeros(len(indices), bands, longest)
        mask = torch.zeros(len(indices), 1, longest)
        for row, i in enumerate(indices):
            frames = len(self.features[i])
            features[row, :frames] = torch.from_numpy(self.features[i].astype(np.float32))
            targets[row, :, :frames] = torch.from_numpy(self.mels[i].astype(np.float32))
            mask[row, :, :frames] = 1.0
        return features, targets, mask


def envelope_loss(model: WaveNet, features, targets, mask) -> torch.Tensor:
    predicted = model.envelope(features)  # (B, bands, T)
    return ((predicted - targets).abs() * mask).sum() / (mask.sum() * targets.shape[1])


def envelope_parts(config: WaveNetConfig) -> tuple[str, ...]:
    """The parts the envelope is computed from: its own network and head, or the conditioning
    network and the head that reads it."""
    return ("envelope",) if config.envelope_layers else ("conditioning", "envelope")


def pretrain(prep_dir: str | Path, out_dir: str | Path,
             config: EnvelopeTrainConfig | None = None,
             model_config: WaveNetConfig | None = None) -> dict:
    """Train (or resume) the envelope into ``out_dir``; returns the summary (steps, history)."""
    config = config or EnvelopeTrainConfig()
    with torch_threads(config.num_threads):
        return _pretrain(Path(prep_dir), Path(out_dir), config, model_config or WaveNetConfig())


def _pretrain(prep_dir: Path, out_dir: Path, config: EnvelopeTrainConfig,
              model_config: WaveNetConfig) -> dict:
    model_config = corpus_model_config(model_config, str(prep_dir))  # features, speakers
    if not model_config.lpc_order:
        raise TrainingError("the envelope head exists in excitation mode only: "
                            "--set model.lpc_order=N (e.g. 24)")
    checkpoint_path = out_dir / CHECKPOINT_NAME
    checkpoint = open_run(out_dir, (KIND,), convert_checkpoint)
    budget_s = config.minutes * 60.0
    if checkpoint is not None:
        check_same_config(checkpoint_path, checkpoint["model_config"], model_config.to_dict())
        step, elapsed_s = int(checkpoint["step"]), float(checkpoint.get("elapsed_s", 0.0))
        history = list(checkpoint.get("history", []))
        done = elapsed_s >= budget_s or 0 < config.max_steps <= step
        if done:
            logger.info("%s is done (step %d, %.1f of %.1f minutes)", checkpoint_path, step,
                        elapsed_s / 60, config.minutes)
            return {"steps": step, "history": history}
        if checkpoint.get("optimizer") is None:
            raise TrainingError(f"{checkpoint_path} was written by an older vocoder.envelope, "
                                "without its optimizer state: it cannot train on; start a new "
                                f"--out from it with --set train.init=all:{checkpoint_path}")
    torch.manual_seed(config.seed)
    model = TrainingModel(WaveNet(model_config), 0, 0)
    if checkpoint is None:
        start_from(model, config.init, ())
    wavenet = model.wavenet
    parts = envelope_parts(model_config)
    for name, parameter in zip(wavenet_names(dict(model.named_parameters())),
                               model.parameters()):
        parameter.requires_grad_(wavenet_part(name) in parts)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=config.lr)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        logger.info("resuming %s at step %d", checkpoint_path, step)
    else:
        step, elapsed_s, history = 0, 0.0, []
    del checkpoint

    loading = time.perf_counter()
    train_set = EnvelopeData.load(prep_dir, "train", model_config)
    valid_set = EnvelopeData.load(prep_dir, "valid", model_config)
    if not train_set.features:
        raise TrainingError(f"{prep_dir} has no 'train' utterances")
    logger.info("loaded %d train and %d valid utterances in %.0f s", len(train_set.features),
                len(valid_set.features), time.perf_counter() - loading)
    batch_size = min(config.batch_size, len(train_set.features))
    log = JsonlLog(out_dir / LOG_NAME)

    def validate() -> float:
        if not valid_set.features:
            return math.nan
        with torch.no_grad():
            losses = [envelope_loss(wavenet, *valid_set.batch(range(i, min(
                i + batch_size, len(valid_set.features)))))
                for i in range(0, len(valid_set.features), batch_size)]
        return round(float(torch.stack(losses).mean()), 5)

    def record(**fields) -> None:
        history.append(fields)
        log.write("val", **fields)
        logger.info("step %d: valid L1 %.4f", fields["step"], fields["valid_l1"])

    def save() -> None:
        save_training_checkpoint(checkpoint_path, checkpoint_state(
            KIND, step, model_config.to_dict(), dataclasses.asdict(config), model.state_dict(),
            optimizer.state_dict(), history=history, elapsed_s=elapsed_s))
        log.write("checkpoint", step=step, path=str(checkpoint_path))

    if not history:
        record(step=0, valid_l1=validate())
    log.write("start", step=step, resumed=step > 0, train_config=dataclasses.asdict(config),
              model_config=model_config.to_dict())
    started = time.perf_counter() - elapsed_s
    stopped = False
    with StopRequest().installed() as stop:
        while not stopped:
            elapsed_s = time.perf_counter() - started
            if elapsed_s >= budget_s or 0 < config.max_steps <= step:
                break
            progress = None if config.max_steps else elapsed_s / budget_s
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step, progress)
            rng = np.random.default_rng([config.seed, step])  # resumes to the same batches
            indices = rng.choice(len(train_set.features), batch_size, replace=False)
            loss = envelope_loss(wavenet, *train_set.batch(indices))
            optimizer.zero_grad()
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
            optimizer.step()
            step += 1
            stopped = stop.requested
            if step % config.eval_every == 0:
                record(step=step, train_l1=round(loss.item(), 5), valid_l1=validate(),
                       elapsed_s=round(time.perf_counter() - started, 1))
            if step % config.ckpt_every == 0 or stopped:
                elapsed_s = time.perf_counter() - started
                save()
    elapsed_s = time.perf_counter() - started
    if stopped:
        log.write("stop", step=step, reason="signal")
    else:
        record(step=step, valid_l1=validate(), elapsed_s=round(elapsed_s, 1))
    save()
    logger.info("wrote %s: valid L1 %.4f after %d steps", checkpoint_path,
                history[-1]["valid_l1"], step)
    return {"steps": step, "history": history}


def build_configs(prep_dir: str | Path, out_dir: str | Path, config_files: Sequence[str] = (),
                  overrides: Sequence[str] = ()) -> tuple[EnvelopeTrainConfig, WaveNetConfig]:
    """The corpus ← the checkpoint's configs (when resuming) ← each config file ← ``--set``."""
    checkpoint = open_run(out_dir, (KIND,), convert_checkpoint, writer=False)
    values = settings(SECTIONS, checkpoint, config_files, overrides,
                      base={"model": corpus_model_defaults(prep_dir)},
                      where=str(Path(out_dir) / CHECKPOINT_NAME))
    return (make_config(EnvelopeTrainConfig, values["train"], "train config"),
            make_config(WaveNetConfig, values["model"], "model config"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vocoder.envelope",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--prep", required=True, help="prepared corpus directory")
    parser.add_argument("--out", required=True, help="directory for checkpoint.pt, log.jsonl")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config, model_config = build_configs(args.prep, args.out, args.config_files,
                                             args.overrides)
        pretrain(args.prep, args.out, config, model_config)
    except (ValueError, OSError) as exc:
        print(f"vocoder.envelope: error: {error_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
