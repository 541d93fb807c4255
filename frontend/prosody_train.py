"""Training and evaluation of the duration and F0 models on a prepared corpus.

    python -m frontend.prosody_train duration --prep PREP [--prep EXTRA ...] --out EXP
                                              [--config F] [--set key=value]
    python -m frontend.prosody_train pitch    --prep PREP [--prep EXTRA ...] --out EXP
    python -m frontend.prosody_train eval     --prep PREP --out EXP [--export DIR]

``duration`` and ``pitch`` train on the manifest's "train" split and validate on "valid";
with more than one ``--prep``, they train on the union of the corpora's "train" splits and
validate on the first one's "valid" (the extra corpora, e.g. the demo's varied text prepared
with ``--no-cond --valid 0 --test 0``, only add training text; their speakers must be the
first one's, in the same order, and their utterance ids others than its);
settings as every trainer takes them (``tts_common.training``): ``model`` (``DurationConfig`` or
``PitchConfig``) and ``train`` (``ProsodyTrainConfig``), e.g. ``--set train.max_steps=8000
--set model.hidden=64``. ``EXP/<kind>/`` holds ``checkpoint.pt`` (the harness's layout, kind
``duration`` or ``pitch``; resumable: run the same command again to continue, or with a larger
``train.max_steps`` to train longer), ``best.{safetensors,json}`` (the weights with the lowest
validation loss) and ``log.jsonl``. ``eval`` exports the best models to ``EXP/export``
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
import dataclasses
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

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
from tts_common.training import (
    CHECKPOINT_NAME, LOG_NAME, JsonlLog, TrainingError, add_config_arguments, check_same_config,
    check_schedule, checkpoint_state, error_line, learning_rate, make_config, open_run,
    restore_rng, rng_state, save_training_checkpoint, settings, torch_threads,
)

# torch_threads is imported from here by tts.adapt; it is the harness's.
__all__ = ["ProsodyTrainConfig", "duration_loss", "evaluate", "export_prosody", "load_split",
           "load_training_set", "log_durations", "pitch_loss", "speaker_stats", "torch_threads",
           "train"]

logger = logging.getLogger(__name__)

FRAME_MS = 1000.0 * HOP_LENGTH / SAMPLE_RATE  # 5 ms


@dataclass
class ProsodyTrainConfig:
    max_steps: int = 4000
    batch_size: int = 16
    lr: float = 2e-3
    min_lr: float = 1e-4
    warmup_steps: int = 200
    lr_schedule: str = "cosine"
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    unvoiced_weight: float = 0.3  # weight of interpolated (unvoiced) frames in the log-F0 loss
    eval_every: int = 250  # validation, best model and checkpoint
    log_every: int = 50
    seed: int = 0
    # These models are tiny: more threads than free cores makes them many times slower.
    num_threads: int = 1

    def __post_init__(self) -> None:
        name = type(self).__name__
        for key in ("max_steps", "batch_size", "eval_every", "log_every", "num_threads"):
            if getattr(self, key) <= 0:
                raise ProsodyError(f"{name}.{key} must be > 0, got {getattr(self, key)}")
        try:
            check_schedule(self, name)
        except TrainingError as exc:
            raise ProsodyError(str(exc)) from None


MODEL_CONFIGS = {"duration": DurationConfig, "pitch": PitchConfig}
# What a prosody checkpoint before the harness called its train_config fields.
_RENAMED = {"steps": "max_steps", "valid_every": "eval_every", "threads": "num_threads"}


# ---------------------------------------------------------------------------------------------
# the prepared corpus


@dataclass
class ProsodyExample:
    """What the prosody models need of one prepared utterance."""

    utt_id: str
    speaker_index: int
    phonemes: list[str]
    phone_feats: np.ndarray  # (N, D) float32: the model's input rows (see with_feature_set)
    durations: np.ndarray  # (N,) int64 frames, sum == T
    f0_hz: np.ndarray  # (T,) float32, 0 where unvoiced
    voiced: np.ndarray  # (T,) bool
    utterance: dict[str, Any] = dataclasses.field(default_factory=dict)  # Utterance.to_dict()

    @property
    def pauses(self) -> np.ndarray:
        return np.array([p in SILENCES for p in self.phonemes], dtype=bool)  # (N,)


def _feature_rows(utterance: dict[str, Any], feature_set: str, phone_feats: np.ndarray
                  ) -> np.ndarray:
    from frontend.features import Utterance
    from frontend.prosody_features import prosody_phone_features

    return prosody_phone_features(Utterance.from_dict(utterance), feature_set,
                                  phone_feats=phone_feats)


def with_feature_set(examples: list[ProsodyExample], feature_set: str, jobs: int = 1
                     ) -> list[ProsodyExample]:
    """The examples with the input rows a model reading ``feature_set`` takes (the corpus
    stores the "phoneme" rows; the others are computed from each utterance's record, in
    ``jobs`` processes: flite's trees cost 0.1-0.2 s an utterance in Python)."""
    if feature_set == "phoneme":
        return examples
    args = ([u.utterance for u in examples], [feature_set] * len(examples),
            [u.phone_feats for u in examples])
    if jobs > 1 and len(examples) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: the trainer's torch threads are not forked into the workers
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            all_rows = list(pool.map(_feature_rows, *args, chunksize=64))
    else:
        all_rows = list(map(_feature_rows, *args))
    converted = []
    for u, rows in zip(examples, all_rows):
        if len(rows) != len(u.durations):
            raise ProsodyError(f"{u.utt_id}: {len(rows)} feature rows for {len(u.durations)} "
                               "durations: rerun the corpus preparation's features stage")
        converted.append(dataclasses.replace(u, phone_feats=rows))
    return converted


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


def load_training_set(prep_dir: str | Path, extra_prep: Sequence[str | Path] = ()
                      ) -> tuple[list[str], list[ProsodyExample], list[ProsodyExample]]:
    """Speakers, the training utterances (``prep_dir``'s "train" split and every extra
    corpus's) and the validation ones (``prep_dir``'s "valid"). The extra corpora must list the
    same speakers in the same order, and no utterance id twice."""
    speakers = read_speakers(prep_dir)
    train_set = load_split(prep_dir, "train")
    owner = {u.utt_id: Path(prep_dir) for u in train_set}
    for extra in extra_prep:
        extra_speakers = read_speakers(extra)
        if extra_speakers != speakers:
            raise ProsodyError(
                f"{extra} has speakers {' '.join(extra_speakers)} but {prep_dir} has "
                f"{' '.join(speakers)}: prepare the extra corpus from a corpus of the same "
                "speakers in the same order (make_corpus with the same --speakers)")
        extra_set = load_split(extra, "train")
        if extra_set and train_set and (extra_set[0].phone_feats.shape[1]
                                        != train_set[0].phone_feats.shape[1]):
            raise ProsodyError(f"{extra}: phone_feats have {extra_set[0].phone_feats.shape[1]} "
                               f"columns, {prep_dir}'s {train_set[0].phone_feats.shape[1]}: "
                               "rerun the features stage of the corpus preparation of both")
        clash = next((u.utt_id for u in extra_set if u.utt_id in owner), None)
        if clash is not None:
            raise ProsodyError(
                f"utterance {clash} is in both {owner[clash]} and {extra}: the corpora need "
                "distinct utterance ids (render the extra text with make_corpus --sentences "
                "varied, whose ids are pNNN_vNNN)")
        owner.update((u.utt_id, Path(extra)) for u in extra_set)
        logger.info("%s: %d more training utterances", extra, len(extra_set))
        train_set += extra_set
    return speakers, train_set, load_split(prep_dir, "valid")


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
        utterance=align["utterance"],
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
            model = load_duration_model(duration_dir)
            metrics.update(duration_metrics(
                model, with_feature_set(utterances, model.config.feature_set)))
        if pitch_dir is not None:
            model = load_pitch_model(pitch_dir)
            metrics.update(pitch_metrics(
                model, with_feature_set(utterances, model.config.feature_set)))
    return metrics


# ---------------------------------------------------------------------------------------------
# training


def convert_checkpoint(kind: str) -> Callable[[dict, Path], dict]:
    """A ``kind`` checkpoint in the format before the harness (no ``format`` key) in today's
    layout: its train_config renamed (``steps`` → ``max_steps``, ``min_lr_ratio`` → ``min_lr``,
    ``valid_every`` → ``eval_every``, ``threads`` → ``num_threads``)."""

    def convert(state: dict, path: Path) -> dict:
        if "format" in state or not {"model", "optimizer", "step", "best"} <= set(state):
            raise TrainingError(f"{path} is not a {kind} model checkpoint; use a new --out "
                                "directory")
        old = dict(state.get("train_config") or {})
        ratio = old.pop("min_lr_ratio", None)
        values = {_RENAMED.get(k, k): v for k, v in old.items()}
        if ratio is not None:
            values["min_lr"] = values.get("lr", ProsodyTrainConfig.lr) * ratio
        return checkpoint_state(kind, state["step"], state["model_config"], values,
                                state["model"], state["optimizer"], best=state["best"])

    return convert


def build_configs(kind: str, prep_dir: str | Path, exp_dir: str | Path,
                  train_config: ProsodyTrainConfig | None = None,
                  config_files: Sequence[str] = (), overrides: Sequence[str] = (),
                  base: dict[str, Any] | None = None
                  ) -> tuple[ProsodyTrainConfig, DurationConfig | PitchConfig, dict | None]:
    """Defaults (the corpus's facts, ``base``, for the model) ← the checkpoint's configs when
    resuming ← ``train_config`` (a caller's explicit settings) ← each config file ← ``--set``;
    and the checkpoint."""
    sections = {"model": MODEL_CONFIGS[kind], "train": ProsodyTrainConfig}
    try:
        checkpoint = open_run(Path(exp_dir) / kind, (kind,), convert_checkpoint(kind))
        values = settings(sections, checkpoint, config_files, overrides,
                          base={"model": dict(base or {})},
                          explicit={"train": dataclasses.asdict(train_config)}
                          if train_config is not None else None,
                          where=str(Path(exp_dir) / kind / CHECKPOINT_NAME))
        return (make_config(ProsodyTrainConfig, values["train"], "train config"),
                make_config(sections["model"], values["model"], "model config"), checkpoint)
    except TrainingError as exc:
        raise ProsodyError(str(exc)) from None


def train(kind: str, prep_dir: str | Path, exp_dir: str | Path,
          train_config: ProsodyTrainConfig | None = None,
          overrides: Sequence[str] = (), config_files: Sequence[str] = (),
          extra_prep: Sequence[str | Path] = ()) -> dict[str, Any]:
    """Train (or resume training) the ``kind`` ("duration" or "pitch") model; returns the best
    validation record. Runs until ``train_config.max_steps``; a finished run returns at once.
    ``overrides``: ``--set`` items, over ``config_files`` over ``train_config``. ``extra_prep``:
    more prepared corpora whose "train" splits are trained on too (``load_training_set``)."""
    if kind not in MODEL_CONFIGS:
        raise ProsodyError(f"unknown model kind {kind!r}: use 'duration' or 'pitch'")
    run_dir = Path(exp_dir) / kind
    checkpoint_path = run_dir / CHECKPOINT_NAME

    speakers, train_set, valid_set = load_training_set(prep_dir, extra_prep)
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
    input_dim = phone_dim if kind == "duration" else _frame_features(
        train_set[0].phone_feats, train_set[0].durations).shape[1]
    corpus_facts = {"input_dim": input_dim, "num_speakers": len(speakers), "speakers": speakers}
    train_config, model_config, checkpoint = build_configs(
        kind, prep_dir, exp_dir, train_config, config_files, overrides, corpus_facts)
    # The input width follows from the feature set the settings chose.
    model_config = dataclasses.replace(
        model_config, input_dim=expected_feature_dim(kind, model_config.feature_set))
    train_set = with_feature_set(train_set, model_config.feature_set, train_config.num_threads)
    valid_set = with_feature_set(valid_set, model_config.feature_set, train_config.num_threads)
    if checkpoint is not None:
        try:
            check_same_config(checkpoint_path, checkpoint["model_config"],
                              dataclasses.asdict(model_config))
        except TrainingError as exc:
            raise ProsodyError(str(exc)) from None
        logger.info("resuming %s from step %d", checkpoint_path, checkpoint["step"])
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
    with torch_threads(train_config.num_threads):
        return _fit(kind, model, model_config, train_config, train_set, valid_set, log_f0,
                    run_dir, checkpoint)


def _fit(kind: str, model: DurationModel | PitchModel, model_config: DurationConfig | PitchConfig,
         train_config: ProsodyTrainConfig, train_set: list[ProsodyExample],
         valid_set: list[ProsodyExample], log_f0: dict[str, np.ndarray], run_dir: Path,
         checkpoint: dict[str, Any] | None) -> dict[str, Any]:
    """The optimization loop of :func:`train`, from ``checkpoint`` when there is one."""
    checkpoint_path = run_dir / CHECKPOINT_NAME
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_config.lr,
                                  weight_decay=train_config.weight_decay)
    step, best = 0, {"valid_loss": float("inf")}
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step, best = int(checkpoint["step"]), dict(checkpoint["best"])
        if checkpoint.get("rng") is not None:  # (checkpoints before the harness have none)
            restore_rng(checkpoint["rng"])

    def loss_of(batch: list[ProsodyExample]) -> torch.Tensor:
        if kind == "duration":
            return duration_loss(model, batch)
        return pitch_loss(model, batch, log_f0, train_config.unvoiced_weight)

    log = JsonlLog(run_dir / LOG_NAME)
    started = time.time()
    running = []
    while step < train_config.max_steps:
        model.train()
        rng = np.random.default_rng([train_config.seed, step])  # resumes to the same batches
        picks = rng.choice(len(train_set), size=min(train_config.batch_size, len(train_set)),
                           replace=False)
        lr = learning_rate(train_config, step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = loss_of([train_set[i] for i in picks])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train_config.grad_clip)
        optimizer.step()
        step += 1
        running.append(float(loss.detach()))
        if step % train_config.log_every == 0:
            log.write("train", step=step, loss=float(np.mean(running)), lr=lr,
                      elapsed_s=round(time.time() - started, 1))
            running = []
        if step % train_config.eval_every == 0 or step == train_config.max_steps:
            record = {"step": step, **_validate(kind, model, valid_set, loss_of,
                                                train_config.batch_size)}
            log.write("val", **record)
            logger.info("%s step %d: %s", kind, step, _format(record))
            if record["valid_loss"] < best["valid_loss"]:
                best = record
                save_prosody(model, run_dir / "best")
            save_training_checkpoint(checkpoint_path, checkpoint_state(
                kind, step, dataclasses.asdict(model_config), dataclasses.asdict(train_config),
                model.state_dict(), optimizer.state_dict(), best=best, rng=rng_state()))
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
    parser.add_argument("--prep", required=True, action="append",
                        help="prepared corpus directory; duration/pitch: repeat it to train on "
                             "more corpora too (validation on the first)")
    parser.add_argument("--out", required=True, help="experiment directory")
    add_config_arguments(parser)
    parser.add_argument("--export", help="eval: where to export the models (default OUT/export)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose or args.command != "eval"
                        else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in ("duration", "pitch"):
            best = train(args.command, args.prep[0], args.out, overrides=args.overrides,
                         config_files=args.config_files, extra_prep=args.prep[1:])
            print(f"{args.command}: best validation at step {best.get('step')}: {_format(best)}")
            return 0
        if len(args.prep) > 1:
            raise ProsodyError("eval takes one --prep (the corpus whose held-out splits to "
                               "measure on): drop the others")
        export_dir = Path(args.export) if args.export else Path(args.out) / "export"
        export_prosody(args.out, export_dir)
        results = []
        for split in ("test", "valid"):
            try:
                metrics = evaluate(args.prep[0], export_dir, export_dir, split)
            except ProsodyError as exc:
                logger.warning("%s", exc)
                continue
            _print_metrics(metrics)
            results.append(metrics)
        (Path(args.out) / "eval.json").write_text(json.dumps(results, indent=2) + "\n")
        print(f"models exported to {export_dir}")
        return 0
    except (ProsodyError, OSError) as exc:
        print(f"prosody_train: error: {error_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
