"""Pretrain the frame-rate half of a WaveNet: conditioning network + envelope (log-mel) head.

Why: the WaveNet's training windows show the conditioning network 4 × 100 frames per step, at
the cost of 32,000 samples of the sample-rate network. On two CPU cores that is about 1.5 M
frames an hour, under half an epoch of a 6 h corpus. The envelope, which in excitation mode
(``vocoder/lpc.py``) sets the formants and so decides intelligibility, only needs the frame rate:
trained alone on whole utterances it sees ~30× more frames per second of compute. The result is
a training checkpoint whose EMA weights ``vocoder.train`` takes with ``--set init_from=...``.

    python -m vocoder.envelope --prep data/demo/prep --out exp/envelope \\
        --init-from exp/wavenet_demo/checkpoint.pt --set lpc_order=24 --minutes 15

The model's shape comes from ``--init-from`` (a WaveNet training checkpoint, whose EMA weights
start every tensor; without it, a fresh model of WaveNetConfig's defaults) with ``--set``
overrides of WaveNetConfig fields. Loss: L1 between the
predicted and the recording's log-mel (``vocoder.lpc.log_mel``, as the training's auxiliary
loss computes it), over the frames of each utterance.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vocoder.data import DatasetError, read_manifest
from vocoder.lpc import log_mel, mel_basis
from vocoder.model import VocoderError, WaveNet, WaveNetConfig
from vocoder.train import (CHECKPOINT_FORMAT, CHECKPOINT_NAME, TrainingError, TrainingModel,
                           copy_matching_weights, corpus_model_config, load_checkpoint,
                           save_checkpoint)

logger = logging.getLogger(__name__)


@dataclass
class EnvelopeData:
    """One split in RAM: per utterance (features (T, C) float16, log-mel (bands, T) float16)."""
    features: list[np.ndarray]
    mels: list[np.ndarray]

    @classmethod
    def load(cls, prep_dir: Path, split: str, config: WaveNetConfig) -> "EnvelopeData":
        basis = mel_basis(config.sample_rate, config.mel_fft, config.mel_bands)
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


def pretrain(prep_dir: str | Path, out_dir: str | Path, init_from: str | Path | None = None,
             overrides: dict | None = None, minutes: float = 15.0, batch_utterances: int = 16,
             lr: float = 1e-3, min_lr: float = 2e-5, seed: int = 0, threads: int = 0,
             eval_every: int = 100) -> dict:
    """Train the conditioning network and envelope head for ``minutes``; returns the summary."""
    prep_dir, out_dir = Path(prep_dir), Path(out_dir)
    if threads:
        torch.set_num_threads(threads)
    source = load_checkpoint(Path(init_from)) if init_from else None
    try:
        config = WaveNetConfig.from_dict({**(source["model_config"] if source else {}),
                                          **(overrides or {})})
    except (TypeError, VocoderError) as exc:
        raise TrainingError(f"model config: {exc}") from None
    config = corpus_model_config(config, str(prep_dir))  # cond_channels, speakers from the corpus
    if not config.lpc_order:
        raise TrainingError("the envelope head exists in excitation mode only: "
                            "--set lpc_order=N (e.g. 24)")
    torch.manual_seed(seed)
    model = TrainingModel(WaveNet(config), 0, 0)
    if source is not None:
        copy_matching_weights(model, source["ema"])
    wavenet = model.wavenet
    start = time.perf_counter()
    train_set = EnvelopeData.load(prep_dir, "train", config)
    valid_set = EnvelopeData.load(prep_dir, "valid", config)
    if not train_set.features:
        raise TrainingError(f"{prep_dir} has no 'train' utterances")
    logger.info("loaded %d train and %d valid utterances in %.0f s", len(train_set.features),
                len(valid_set.features), time.perf_counter() - start)
    # The network the envelope comes from: its own if it has one, else the conditioning's.
    trunk = (wavenet.envelope_network if wavenet.envelope_network is not None
             else wavenet.conditioning_network)
    parameters = list(trunk.parameters()) + list(wavenet.mel_head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr)
    rng = np.random.default_rng(seed)
    batch_utterances = min(batch_utterances, len(train_set.features))

    def validate() -> float:
        if not valid_set.features:
            return math.nan
        with torch.no_grad():
            losses = [envelope_loss(wavenet, *valid_set.batch(range(i, min(
                i + batch_utterances, len(valid_set.features)))))
                for i in range(0, len(valid_set.features), batch_utterances)]
        return float(torch.stack(losses).mean())

    history = [{"step": 0, "valid_l1": validate()}]
    logger.info("step 0: valid L1 %.4f", history[0]["valid_l1"])
    step, budget, train_start = 0, minutes * 60.0, time.perf_counter()
    while (elapsed := time.perf_counter() - train_start) < budget:
        for group in optimizer.param_groups:  # cosine over the time budget
            group["lr"] = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * elapsed / budget))
        indices = rng.choice(len(train_set.features), batch_utterances, replace=False)
        loss = envelope_loss(wavenet, *train_set.batch(indices))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        step += 1
        if step % eval_every == 0:
            history.append({"step": step, "train_l1": round(loss.item(), 5),
                            "valid_l1": round(validate(), 5), "elapsed_s": round(elapsed, 1)})
            logger.info("step %d: train L1 %.4f, valid L1 %.4f", step, loss.item(),
                        history[-1]["valid_l1"])
    history.append({"step": step, "valid_l1": round(validate(), 5),
                    "elapsed_s": round(time.perf_counter() - train_start, 1)})
    full = model.state_dict()
    save_checkpoint(out_dir / CHECKPOINT_NAME, {
        # Only what ``init_from`` reads: no optimizer, nothing to resume.
        "format": CHECKPOINT_FORMAT, "step": 0, "ema": full, "model": full,
        "model_config": config.to_dict(), "mel_bands": 0, "envelope_history": history})
    (out_dir / "envelope.json").write_text(json.dumps(history, indent=1) + "\n")
    logger.info("wrote %s: valid L1 %.4f after %d steps", out_dir / CHECKPOINT_NAME,
                history[-1]["valid_l1"], step)
    return {"steps": step, "history": history}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vocoder.envelope",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--prep", required=True, help="prepared corpus directory")
    parser.add_argument("--out", required=True, help="directory for checkpoint.pt")
    parser.add_argument("--init-from", default=None,
                        help="a WaveNet training checkpoint: its shape and EMA weights")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a WaveNetConfig field")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--batch", type=int, default=16, help="utterances per step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    overrides = {}
    for item in args.overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            parser.error(f"--set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    try:
        pretrain(args.prep, args.out, args.init_from, overrides, args.minutes, args.batch,
                 args.lr, threads=args.threads)
    except (TrainingError, DatasetError) as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
