"""Training and evaluation of the duration and F0 models on a prepared corpus.

    python -m frontend.prosody_train duration --prep PREP --out EXP [--steps N] [--set key=value]
    python -m frontend.prosody_train pitch    --prep PREP --out EXP
    python -m frontend.prosody_train eval     --prep PREP --out EXP [--export DIR]

``duration`` and ``pitch`` train on the manifest's "train" split and validate on "valid";
``EXP/<kind>/`` holds ``checkpoint.pt`` (resumable: run the same command again to continue, or
with a larger ``--steps`` to train longer), ``best.{safetensors,json}`` (the weights with the
lowest validation loss) and ``log.jsonl``. ``eval`` exports the best models to ``EXP/export``
(or ``--export DIR``) and prints the metrics on the "test" and "valid" splits.

Metrics (see :func:`evaluate`):
- duration RMSE (ms) and Pearson r at the phoneme level, using the rounded durations the
  synthesizer would use. The headline figures exclude ``sil``/``sp``: the edge silences of
  trimmed recordings and pause lengths measure the trimming and the aligner more than the model.
  The ``_all`` figures include them.
- F0 RMSE in cents on the frames voiced in both prediction and reference, with F0 predicted from
  the ground-truth durations so that duration errors do not show up as F0 errors.
- voicing error: the percentage of frames whose voiced/unvoiced decision differs.

Normalization statistics (feature mean/std, per-speaker target mean/std) are measured here on the
training split with the exact target definitions the models use, and stored in the models.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from frontend.audio import HOP_LENGTH, SAMPLE_RATE
from frontend.phonemes import SILENCES
from frontend.prosody import (
    DurationConfig, DurationModel, PitchConfig, PitchModel, ProsodyError, expected_feature_dim,
    load_duration_model, load_pitch_model, predict_durations, predict_f0, save_prosody,
)
from tts_common import corpus
from tts_common.checkpoints import CheckpointError, read_checkpoint, write_checkpoint

logger = logging.getLogger(__name__)

FRAME_MS = 1000.0 * HOP_LENGTH / SAMPLE_RATE  # 5 ms


@dataclass
class TrainConfig:
    steps: int = 4000
    batch_size: int = 16
    lr: float = 2e-3
    min_lr_ratio: float = 0.05  # cosine decay to lr * this
    warmup_steps: int = 200
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    unvoiced_weight: float = 0.3  # weight of interpolated (unvoiced) frames in the log-F0 loss
    valid_every: int = 250
    log_every: int = 50
    seed: int = 0
    threads: int = 1


# ---------------------------------------------------------------------------------------------
# the prepared corpus


@dataclass
class ProsodyExample:
    """What the prosody models need of one prepared utterance."""

    utt_id: str
    speaker_index: int
    phonemes: list[str]
    phone_feats: np.ndarray  # (N, D) float32
    durations: np.ndarray  # (N,) int64 frames, sum == T
    f0_hz: np.ndarray  # (T,) float32, 0 where unvoiced
    voiced: np.ndarray  # (T,) bool

    @property
    def pauses(self) -> np.ndarray:
        return np.array([p in SILENCES for p in self.phonemes], dtype=bool)  # (N,)


def _frame_features(phone_feats: np.ndarray, durations: np.ndarray) -> np.ndarray:
    from frontend.features import frame_features

    return np.asarray(frame_features(phone_feats, durations), dtype=np.float32)  # (T, D+4)


def _continuous_log_f0(f0_hz: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    from frontend.pitch import continuous_log_f0

    return np.asarray(continuous_log_f0(f0_hz, voiced), dtype=np.float32)  # (T,)


def read_speakers(prep_dir: str | Path) -> list[str]:
    """Speaker ids by index, from ``speakers.json`` (``tts_common.corpus``)."""
    return [str(s["id"]) for s in corpus.read_speakers(prep_dir, ProsodyError)]


def load_split(prep_dir: str | Path, split: str) -> list[ProsodyExample]:
    """The utterances of one split; inconsistent entries are skipped with a warning."""
    prep = Path(prep_dir)
    utterances: list[ProsodyExample] = []
    skipped = 0
    for entry in corpus.read_manifest(prep, ProsodyError, ("align", "phone_feats", "f0")):
        if entry["split"] != split:
            continue
        try:
            utterance = _load_utterance(prep, entry)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("skipping %s: %s", entry["utt_id"], exc)
            skipped += 1
            continue
        utterances.append(utterance)
    if skipped:
        logger.warning("%s split %r: skipped %d inconsistent utterances", prep, split, skipped)
    return utterances


def _load_utterance(prep: Path, entry: dict[str, Any]) -> ProsodyExample:
    align = json.loads((prep / entry["align"]).read_text())
    durations = np.asarray(align["durations"], dtype=np.int64)
    phonemes = [str(p) for p in align["phonemes"]]
    phone_feats = np.load(prep / entry["phone_feats"], allow_pickle=False).astype(np.float32)
    f0 = np.load(prep / entry["f0"], allow_pickle=False).astype(np.float32)
    if phone_feats.ndim != 2 or not len(phone_feats) == len(durations) == len(phonemes):
        raise ValueError(f"{len(phonemes)} phonemes, {len(durations)} durations and "
                         f"phone_feats of shape {phone_feats.shape} do not agree")
    if f0.ndim != 2 or f0.shape[1] != 2 or len(f0) != int(durations.sum()):
        raise ValueError(f"f0 of shape {f0.shape} does not match sum(durations) = "
                         f"{int(durations.sum())}")
    if (durations < 0).any() or not np.isfinite(phone_feats).all() or not np.isfinite(f0).all():
        raise ValueError("negative durations or non-finite features")
    return ProsodyExample(
        utt_id=str(entry["utt_id"]), speaker_index=int(entry["speaker_index"]), phonemes=phonemes,
        phone_feats=phone_feats, durations=durations,
        f0_hz=f0[:, 0], voiced=(f0[:, 1] > 0.5) & (f0[:, 0] > 0),
    )


# ---------------------------------------------------------------------------------------------
# normalization statistics


def feature_stats(matrices: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std per column over the rows of all matrices, by the corpus's one rule
    (``tts_common.corpus.ColumnMoments.mean_std``: 0/1 columns stay as they are)."""
    moments = corpus.ColumnMoments()
    for x in matrices:
        moments.add(x)  # (T, D)
    if not moments.count:
        raise ProsodyError("no feature rows to compute statistics from")
    return moments.mean_std()


def speaker_stats(values: list[np.ndarray], speakers: list[int],
                  num_speakers: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-speaker mean/std of a target; speakers without data get the global figures."""
    everything = np.concatenate(values) if values else np.zeros(1)
    global_mean, global_std = float(everything.mean()), float(everything.std()) or 1.0
    mean = np.full(num_speakers, global_mean, dtype=np.float64)
    std = np.full(num_speakers, global_std, dtype=np.float64)
    for s in range(num_speakers):
        mine = [v for v, k in zip(values, speakers) if k == s]
        if mine and sum(len(v) for v in mine) >= 2:
            joined = np.concatenate(mine)
            mean[s], std[s] = joined.mean(), max(joined.std(), 1e-3)
    return mean.astype(np.float32), std.astype(np.float32)


def log_durations(durations: np.ndarray) -> np.ndarray:
    """The duration model's target: log(1 + frames) (a pause may last 0 frames)."""
    return np.log1p(durations.astype(np.float64)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# batches and losses


def _pad(arrays: list[np.ndarray], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    length = max(len(a) for a in arrays)
    out = np.zeros((len(arrays), length) + arrays[0].shape[1:], dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return torch.as_tensor(out, dtype=dtype)


def _mask(lengths: list[int]) -> torch.Tensor:
    lengths_t = torch.tensor(lengths)
    return torch.arange(int(lengths_t.max()))[None, :] < lengths_t[:, None]  # (B, T)


def duration_loss(model: DurationModel, batch: list[ProsodyExample]) -> torch.Tensor:
    feats = _pad([u.phone_feats for u in batch])  # (B, N, D)
    target = _pad([log_durations(u.durations) for u in batch])  # (B, N)
    speaker = torch.tensor([u.speaker_index for u in batch])  # (B,)
    mask = _mask([len(u.durations) for u in batch])  # (B, N)
    predicted = model(feats, speaker, mask)  # (B, N)
    error = (predicted - model.normalize(target, speaker)) ** 2
    return error[mask].mean()


def pitch_loss(model: PitchModel, batch: list[ProsodyExample], log_f0: dict[str, np.ndarray],
               unvoiced_weight: float) -> torch.Tensor:
    feats = _pad([_frame_features(u.phone_feats, u.durations) for u in batch])  # (B, T, D+4)
    target = _pad([log_f0[u.utt_id] for u in batch])  # (B, T)
    voiced = _pad([u.voiced for u in batch])  # (B, T) float
    speaker = torch.tensor([u.speaker_index for u in batch])
    mask = _mask([len(u.f0_hz) for u in batch])  # (B, T)
    out = model(feats, speaker, mask)  # (B, T, 2)
    weight = (voiced + unvoiced_weight * (1.0 - voiced)) * mask  # (B, T)
    f0_error = weight * (out[..., 0] - model.normalize(target, speaker)) ** 2
    vuv = F.binary_cross_entropy_with_logits(out[..., 1], voiced, reduction="none")
    return f0_error.sum() / weight.sum() + vuv[mask].mean()


# ---------------------------------------------------------------------------------------------
# metrics


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def duration_metrics(model: DurationModel, utterances: list[ProsodyExample]) -> dict[str, float]:
    predicted, reference, pause = [], [], []
    for u in utterances:
        predicted.append(predict_durations(model, u.phone_feats, u.speaker_index, pauses=u.pauses))
        reference.append(u.durations)
        pause.append(u.pauses)
    p = np.concatenate(predicted).astype(np.float64) * FRAME_MS
    r = np.concatenate(reference).astype(np.float64) * FRAME_MS
    speech = ~np.concatenate(pause)
    return {
        "duration_rmse_ms": float(np.sqrt(np.mean((p[speech] - r[speech]) ** 2))),
        "duration_pearson_r": _pearson(p[speech], r[speech]),
        "duration_rmse_ms_all": float(np.sqrt(np.mean((p - r) ** 2))),
        "duration_pearson_r_all": _pearson(p, r),
        "phonemes": int(speech.sum()),
    }


def pitch_metrics(model: PitchModel, utterances: list[ProsodyExample]) -> dict[str, float]:
    cents, mismatched, frames = [], 0, 0
    for u in utterances:
        feats = _frame_features(u.phone_feats, u.durations)
        f0_hz, voiced = predict_f0(model, feats, u.speaker_index)
        both = voiced & u.voiced
        cents.append(1200.0 * np.log2(f0_hz[both].astype(np.float64) / u.f0_hz[both]))
        mismatched += int((voiced != u.voiced).sum())
        frames += len(voiced)
    all_cents = np.concatenate(cents) if cents else np.zeros(0)
    return {
        "f0_rmse_cents": (float(np.sqrt(np.mean(all_cents ** 2))) if len(all_cents)
                          else float("nan")),
        "voicing_error_percent": 100.0 * mismatched / max(frames, 1),
        "voiced_frames_both": int(len(all_cents)),
        "frames": frames,
    }


def evaluate(prep_dir: str | Path, duration_dir: str | Path | None,
             pitch_dir: str | Path | None, split: str = "test", threads: int = 1) -> dict[str, Any]:
    """Metrics of exported models on one split of a prepared corpus (see the module docstring).

    ``duration_dir`` / ``pitch_dir``: a directory holding ``duration.*`` / ``pitch.*`` (or a
    prefix); None skips that model.
    """
    utterances = load_split(prep_dir, split)
    if not utterances:
        raise ProsodyError(f"{prep_dir}: the {split!r} split is empty")
    metrics: dict[str, Any] = {"split": split, "utterances": len(utterances)}
    with torch_threads(threads):
        if duration_dir is not None:
            metrics.update(duration_metrics(load_duration_model(duration_dir), utterances))
        if pitch_dir is not None:
            metrics.update(pitch_metrics(load_pitch_model(pitch_dir), utterances))
    return metrics


# ---------------------------------------------------------------------------------------------
# training


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` intra-op threads, then restore the previous setting.

    These models are tiny: more threads than free cores makes them many times slower (on two
    busy cores two threads were 30x slower than one), so training and evaluation default to 1.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_CHECKPOINT_KEYS = ("model", "optimizer", "step", "best", "model_config")


def _lr_at(step: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    ratio = config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine
    return config.lr * ratio


def apply_overrides(configs: list[Any], overrides: list[str]) -> None:
    """``key=value`` strings onto whichever dataclass has the field (typed like its default)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        target = next((c for c in configs if key in {f.name for f in dataclasses.fields(c)}), None)
        if not sep or target is None:
            known = sorted({f.name for c in configs for f in dataclasses.fields(c)} - {"speakers"})
            raise ProsodyError(f"--set {item!r}: expected key=value with key one of "
                               f"{', '.join(known)}")
        current = getattr(target, key)
        try:
            if isinstance(current, bool):
                value: Any = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(current, int):
                value = int(raw)
            elif isinstance(current, float):
                value = float(raw)
            else:
                value = raw
        except ValueError:
            raise ProsodyError(f"--set {item!r}: {key} needs a {type(current).__name__}") from None
        setattr(target, key, value)
    for config in configs:
        if hasattr(config, "__post_init__"):
            config.__post_init__()


def train(kind: str, prep_dir: str | Path, exp_dir: str | Path,
          train_config: TrainConfig | None = None,
          overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Train (or resume training) the ``kind`` ("duration" or "pitch") model; returns the best
    validation record. Runs until ``train_config.steps``; a finished run returns at once."""
    if kind not in ("duration", "pitch"):
        raise ProsodyError(f"unknown model kind {kind!r}: use 'duration' or 'pitch'")
    train_config = dataclasses.replace(train_config) if train_config else TrainConfig()
    run_dir = Path(exp_dir) / kind
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = run_dir / "checkpoint.pt"

    speakers = read_speakers(prep_dir)
    train_set = load_split(prep_dir, "train")
    valid_set = load_split(prep_dir, "valid")
    if not train_set:
        raise ProsodyError(f"{prep_dir}: the 'train' split is empty")
    if not valid_set:
        logger.warning("no 'valid' split: validating on the training set")
        valid_set = train_set

    phone_dim = train_set[0].phone_feats.shape[1]
    if phone_dim != expected_feature_dim("duration"):
        raise ProsodyError(f"{prep_dir}: phone_feats have {phone_dim} columns but this frontend "
                           f"makes {expected_feature_dim('duration')}: rerun the features stage "
                           "of corpus preparation")
    if kind == "duration":
        model_config: DurationConfig | PitchConfig = DurationConfig(
            input_dim=phone_dim, num_speakers=len(speakers), speakers=speakers)
    else:
        frame_dim = _frame_features(train_set[0].phone_feats, train_set[0].durations).shape[1]
        model_config = PitchConfig(input_dim=frame_dim, num_speakers=len(speakers),
                                   speakers=speakers)

    checkpoint = None
    if checkpoint_path.is_file():
        try:
            checkpoint = read_checkpoint(checkpoint_path)  # its SHA-256 verified
        except CheckpointError as exc:
            raise ProsodyError(f"cannot resume: {exc}; delete it to start over") from None
        missing = [key for key in _CHECKPOINT_KEYS if key not in checkpoint]
        if missing:
            raise ProsodyError(f"cannot resume from {checkpoint_path}: it has no "
                               f"{', '.join(repr(k) for k in missing)}; delete it to start over")
        try:
            model_config = type(model_config)(**checkpoint["model_config"])
        except TypeError as exc:
            raise ProsodyError(f"cannot resume from {checkpoint_path} ({exc}): delete it to "
                               "start over") from None
        logger.info("resuming %s from step %d", checkpoint_path, checkpoint["step"])
    apply_overrides([model_config, train_config], list(overrides))
    if checkpoint is not None and dataclasses.asdict(model_config) != checkpoint["model_config"]:
        raise ProsodyError(f"{checkpoint_path} was trained with another model config: use a new "
                           "--out directory to change the architecture")
    if model_config.speakers != speakers:
        raise ProsodyError(f"{checkpoint_path} was trained with speakers "
                           f"{model_config.speakers[:5]}... but {prep_dir} has {speakers[:5]}...: "
                           "use a new --out directory")

    torch.manual_seed(train_config.seed)
    if kind == "duration":
        model: DurationModel | PitchModel = DurationModel(model_config)
        feats_mean, feats_std = feature_stats(u.phone_feats for u in train_set)
        target_mean, target_std = speaker_stats([log_durations(u.durations) for u in train_set],
                                                [u.speaker_index for u in train_set], len(speakers))
        log_f0: dict[str, np.ndarray] = {}
    else:
        model = PitchModel(model_config)
        usable = [u for u in train_set if u.voiced.any()]
        if len(usable) < len(train_set):
            logger.warning("%d training utterances have no voiced frame: not used for F0",
                           len(train_set) - len(usable))
        train_set = usable
        valid_set = [u for u in valid_set if u.voiced.any()] or train_set
        log_f0 = {u.utt_id: _continuous_log_f0(u.f0_hz, u.voiced) for u in train_set + valid_set}
        feats_mean, feats_std = feature_stats(
            _frame_features(u.phone_feats, u.durations) for u in train_set)
        target_mean, target_std = speaker_stats([np.log(u.f0_hz[u.voiced]) for u in train_set],
                                                [u.speaker_index for u in train_set], len(speakers))
    model.set_normalization(feats_mean, feats_std, target_mean, target_std)
    with torch_threads(train_config.threads):
        return _fit(kind, model, model_config, train_config, train_set, valid_set, log_f0,
                    run_dir, checkpoint)


def _fit(kind: str, model: DurationModel | PitchModel, model_config: DurationConfig | PitchConfig,
         train_config: TrainConfig, train_set: list[ProsodyExample], valid_set: list[ProsodyExample],
         log_f0: dict[str, np.ndarray], run_dir: Path,
         checkpoint: dict[str, Any] | None) -> dict[str, Any]:
    """The optimization loop of :func:`train`, from ``checkpoint`` when there is one."""
    checkpoint_path = run_dir / "checkpoint.pt"
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_config.lr,
                                  weight_decay=train_config.weight_decay)
    step, best = 0, {"valid_loss": float("inf")}
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step, best = int(checkpoint["step"]), dict(checkpoint["best"])

    def loss_of(batch: list[ProsodyExample]) -> torch.Tensor:
        if kind == "duration":
            return duration_loss(model, batch)
        return pitch_loss(model, batch, log_f0, train_config.unvoiced_weight)

    log_path = run_dir / "log.jsonl"
    started = time.time()
    running = []
    while step < train_config.steps:
        model.train()
        rng = np.random.default_rng([train_config.seed, step])  # resumes to the same batches
        picks = rng.choice(len(train_set), size=min(train_config.batch_size, len(train_set)),
                           replace=False)
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, train_config)
        loss = loss_of([train_set[i] for i in picks])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train_config.grad_clip)
        optimizer.step()
        step += 1
        running.append(float(loss.detach()))
        if step % train_config.log_every == 0:
            _append_log(log_path, {"step": step, "split": "train", "loss": float(np.mean(running)),
                                   "lr": _lr_at(step - 1, train_config),
                                   "seconds": round(time.time() - started, 1)})
            running = []
        if step % train_config.valid_every == 0 or step == train_config.steps:
            record = _validate(kind, model, valid_set, loss_of, train_config.batch_size)
            record = {"step": step, "split": "valid", **record}
            _append_log(log_path, record)
            logger.info("%s step %d: %s", kind, step, _format(record))
            if record["valid_loss"] < best["valid_loss"]:
                best = record
                save_prosody(model, run_dir / "best")
            write_checkpoint(checkpoint_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "best": best, "model_config": dataclasses.asdict(model_config),
                "train_config": dataclasses.asdict(train_config),
            })
    model.eval()
    return best


def _validate(kind: str, model: DurationModel | PitchModel, valid_set: list[ProsodyExample],
              loss_of: Callable[[list[ProsodyExample]], torch.Tensor],
              batch_size: int) -> dict[str, Any]:
    model.eval()
    with torch.no_grad():
        losses = [float(loss_of(valid_set[i: i + batch_size])) * len(valid_set[i: i + batch_size])
                  for i in range(0, len(valid_set), batch_size)]
    record: dict[str, Any] = {"valid_loss": sum(losses) / len(valid_set)}
    if kind == "duration":
        record.update(duration_metrics(model, valid_set))
    else:
        record.update(pitch_metrics(model, valid_set))
    return record


def _append_log(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _format(record: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in record.items() if k not in ("step", "split"))


def export_prosody(exp_dir: str | Path, out_dir: str | Path) -> tuple[Path, Path]:
    """Copy the best duration and F0 models of ``exp_dir`` into ``out_dir`` as
    ``duration.{safetensors,json}`` and ``pitch.{safetensors,json}`` (checked by loading)."""
    exp, out = Path(exp_dir), Path(out_dir)
    written = []
    for kind, load in (("duration", load_duration_model), ("pitch", load_pitch_model)):
        best = exp / kind / "best"
        if not best.with_name("best.json").is_file():
            raise ProsodyError(f"no trained {kind} model in {exp / kind}: run "
                               f"`python -m frontend.prosody_train {kind} --out {exp}` first")
        save_prosody(load(best), out / kind)
        written.append(out / kind)
    return written[0], written[1]


# ---------------------------------------------------------------------------------------------
# command line

TARGETS = {"duration_rmse_ms": ("<=", 20.0), "duration_pearson_r": (">=", 0.8),
           "f0_rmse_cents": ("<=", 100.0), "voicing_error_percent": ("<=", 6.0)}


def _print_metrics(metrics: dict[str, Any]) -> None:
    print(f"{metrics['split']}: {metrics['utterances']} utterances")
    for key, value in metrics.items():
        if key in ("split", "utterances"):
            continue
        target = TARGETS.get(key)
        note = ""
        if target and isinstance(value, float):
            ok = value <= target[1] if target[0] == "<=" else value >= target[1]
            note = f"   (target {target[0]} {target[1]:g}: {'ok' if ok else 'MISSED'})"
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:26s} {shown}{note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m frontend.prosody_train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("duration", "pitch", "eval"))
    parser.add_argument("--prep", required=True, help="prepared corpus directory")
    parser.add_argument("--out", required=True, help="experiment directory")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default 1)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a model or training config field (repeatable)")
    parser.add_argument("--export", help="eval: where to export the models (default OUT/export)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose or args.command != "eval"
                        else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        train_config = TrainConfig()
        for name in ("steps", "batch_size", "lr", "threads"):
            if getattr(args, name) is not None:
                setattr(train_config, name, getattr(args, name))
        torch.set_num_threads(max(1, train_config.threads))
        if args.command in ("duration", "pitch"):
            best = train(args.command, args.prep, args.out, train_config, args.set)
            print(f"{args.command}: best validation at step {best.get('step')}: {_format(best)}")
            return 0
        export_dir = Path(args.export) if args.export else Path(args.out) / "export"
        export_prosody(args.out, export_dir)
        results = []
        for split in ("test", "valid"):
            try:
                metrics = evaluate(args.prep, export_dir, export_dir, split)
            except ProsodyError as exc:
                logger.warning("%s", exc)
                continue
            _print_metrics(metrics)
            results.append(metrics)
        (Path(args.out) / "eval.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"models exported to {export_dir}")
        return 0
    except (ProsodyError, OSError) as exc:
        print(f"prosody_train: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
