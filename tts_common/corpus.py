"""The prepared corpus: what corpus preparation writes and every trainer, exporter and benchmark
reads. This module is its one description, its one writer and its one reader.

    PREP/
      manifest.jsonl            one JSON object per utterance (``MANIFEST_FIELDS``), written last:
                                a corpus without it is still being prepared, or failed
      stats.json                normalization statistics of the training split:
                                sample_rate, hop_length, cond_channels, log_f0 {mean, std, count,
                                per_speaker}, log_duration {...}, phone_feats {mean, std},
                                num_utterances, hours, splits, f0_method
      speakers.json             {"speakers": [{id, index, gender, age, accent, region, source}]}
      wav/SPK/UTT.wav           16 kHz trimmed audio                              (stage 1)
      align/SPK/UTT.json        phonemes and their durations in frames            (stage 2)
      f0/SPK/UTT.npy            (T, 2) float32: F0 in Hz, voiced flag              (stage 3)
      phone_feats/SPK/UTT.npy   (N, D) float32 phoneme features                   (stage 4)
      cond/SPK/UTT.npy          (T, C) float32 WaveNet conditioning, log-F0 normalized with
                                stats.json's log_f0 mean/std                      (stage 5)

Paths in the manifest are relative to PREP. Of the statistics, the log-F0 mean and std are the
ones read downstream (they normalize the conditioning, and a voice stores them). Feature
statistics follow one rule, ``ColumnMoments.mean_std``: the prosody trainers normalize with it
(computed from their training split, stored in the models' weights), and stats.json's
``phone_feats`` block is computed with it too (before, stats.json used another rule, without
the 0/1-column case, and ``log_duration`` was log(frames) of non-zero durations where the
duration model's target is log(1 + frames); nothing read either).

Imports nothing of tts, frontend, vocoder or recipes, so that every package may read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tts_common.files import atomic_open

MANIFEST_NAME = "manifest.jsonl"
STATS_NAME = "stats.json"
SPEAKERS_NAME = "speakers.json"
# The per-utterance outputs, in the order of the stages that write them.
OUTPUT_KINDS = ("wav", "align", "f0", "phone_feats", "cond")
_EXTENSIONS = {"wav": ".wav", "align": ".json"}  # the others are .npy
# What preparation writes for each utterance; readers require ``REQUIRED_FIELDS`` and the
# fields they use.
MANIFEST_FIELDS = ("utt_id", "speaker", "speaker_index", "split", "text", "num_samples",
                   "num_frames", "duration_s", *OUTPUT_KINDS)
REQUIRED_FIELDS = ("utt_id", "speaker_index", "split", "num_frames")
SPLITS = ("train", "valid", "test")
_RERUN = "re-run the corpus preparation"


class CorpusError(ValueError):
    """A prepared corpus that cannot be used; the message names the file and the fix."""


def output_path(prep_dir: Path, kind: str, speaker: str, utt_id: str) -> Path:
    """``PREP/<kind>/<speaker>/<utt_id>.<ext>`` for one of ``OUTPUT_KINDS``."""
    return Path(prep_dir) / kind / speaker / f"{utt_id}{_EXTENSIONS.get(kind, '.npy')}"


@dataclass(frozen=True)
class PreparedCorpus:
    """A prepared corpus as read: its statistics, speakers (by index) and manifest."""

    directory: Path
    stats: dict[str, Any]
    speakers: list[dict[str, Any]]
    manifest: list[dict[str, Any]]

    @property
    def speaker_ids(self) -> list[str]:
        return [str(s["id"]) for s in self.speakers]

    def entries(self, split: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.manifest if split is None or e["split"] == split]

    def path(self, entry: dict[str, Any], kind: str) -> Path:
        return self.directory / entry[kind]

    def log_f0_normalization(self, error: type[Exception] = CorpusError) -> tuple[float, float]:
        """(mean, std) of log-F0 that the conditioning files are normalized with."""
        log_f0 = self.stats.get("log_f0")
        if not (isinstance(log_f0, dict)
                and all(isinstance(log_f0.get(k), (int, float))
                        and not isinstance(log_f0[k], bool) for k in ("mean", "std"))
                and log_f0["std"] > 0):
            raise error(f"{self.directory / STATS_NAME}: 'log_f0' must hold a mean and a "
                        f"positive std; {_RERUN}")
        return float(log_f0["mean"]), float(log_f0["std"])

    def load(self, entry: dict[str, Any], kind: str) -> np.ndarray | dict[str, Any]:
        """One utterance's output: an array (never unpickled), or the alignment's JSON."""
        path = self.path(entry, kind)
        if kind == "align":
            return json.loads(path.read_text(encoding="utf-8"))
        return np.load(path, allow_pickle=False)


def _read_json(path: Path, error: type[Exception]) -> Any:
    if not path.is_file():
        raise error(f"{path} not found: is {path.parent} a prepared corpus directory? Run the "
                    "corpus preparation first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path} is not valid JSON ({exc}); {_RERUN}") from None


def read_manifest(directory: str | Path, error: type[Exception] = CorpusError,
                  fields: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every entry of ``PREP/manifest.jsonl``, each with ``REQUIRED_FIELDS`` and ``fields``."""
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise error(f"{path} not found: is {directory} a prepared corpus directory? Run the "
                    f"corpus preparation first (it writes {MANIFEST_NAME} last)")
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{line_number}: not valid JSON ({exc}); {_RERUN}") from None
            missing = ([key for key in (*REQUIRED_FIELDS, *fields) if key not in entry]
                       if isinstance(entry, dict) else ["all"])
            if missing:
                raise error(f"{path}:{line_number}: missing field(s) {', '.join(missing)}; "
                            f"{_RERUN}")
            if (not isinstance(entry["num_frames"], int) or isinstance(entry["num_frames"], bool)
                    or entry["num_frames"] <= 0):
                raise error(f"{path}:{line_number}: num_frames must be a positive integer, got "
                            f"{entry['num_frames']!r}; {_RERUN}")
            if entry["split"] not in SPLITS:
                raise error(f"{path}:{line_number}: split must be one of {', '.join(SPLITS)}, "
                            f"got {entry['split']!r}; {_RERUN}")
            entries.append(entry)
    return entries


def read_speakers(directory: str | Path, error: type[Exception] = CorpusError
                  ) -> list[dict[str, Any]]:
    """``speakers.json``'s speakers ordered by index, the indices checked to be 0..n-1."""
    path = Path(directory) / SPEAKERS_NAME
    data = _read_json(path, error)
    speakers = data.get("speakers") if isinstance(data, dict) else None
    if (not isinstance(speakers, list) or not speakers
            or not all(isinstance(s, dict) and "id" in s and isinstance(s.get("index"), int)
                       for s in speakers)):
        raise error(f"{path} lists no speakers (each needs an id and an index); {_RERUN}")
    speakers = sorted(speakers, key=lambda s: s["index"])
    if [s["index"] for s in speakers] != list(range(len(speakers))):
        raise error(f"{path}: speaker indices must be 0..{len(speakers) - 1}; {_RERUN}")
    return speakers


def read_stats(directory: str | Path, error: type[Exception] = CorpusError) -> dict[str, Any]:
    """``stats.json``, with the fields every reader relies on checked."""
    path = Path(directory) / STATS_NAME
    stats = _read_json(path, error)
    if not isinstance(stats, dict):
        raise error(f"{path} must hold a JSON object; {_RERUN}")
    for key in ("sample_rate", "hop_length", "cond_channels"):
        value = stats.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise error(f"{path}: {key!r} must be a positive integer, got {value!r}; {_RERUN}")
    return stats


def read_corpus(directory: str | Path, error: type[Exception] = CorpusError,
                fields: tuple[str, ...] = (), stats: bool = True) -> PreparedCorpus:
    """The prepared corpus but its per-utterance files (read with ``PreparedCorpus.load``).

    ``error``: the exception class to raise (a caller's own, e.g. the trainer's), with the
    message naming the file and the fix. ``fields``: the manifest fields the caller uses
    beyond ``REQUIRED_FIELDS``. ``stats=False``: for a reader that needs no statistics.
    """
    directory = Path(directory)
    statistics = read_stats(directory, error) if stats else {}
    speakers = read_speakers(directory, error)
    manifest = read_manifest(directory, error, fields)
    return PreparedCorpus(directory, statistics, speakers, manifest)


@dataclass
class ColumnMoments:
    """Per-column sums of feature rows, streamed (a corpus's frame features do not fit in
    memory) and mergeable (preparation sums each utterance in a worker), and the one rule that
    turns them into normalization statistics (``mean_std``)."""

    count: int = 0
    total: Any = 0.0  # (D,) once rows are added
    total_sq: Any = 0.0
    binary: Any = True  # (D,) bool: every value so far 0 or 1

    def add(self, rows: np.ndarray) -> "ColumnMoments":
        x = np.asarray(rows).astype(np.float64)  # (T, D)
        self.count += len(x)
        self.total = self.total + x.sum(0)
        self.total_sq = self.total_sq + (x * x).sum(0)
        self.binary = self.binary & ((x == 0) | (x == 1)).all(0)
        return self

    def merge(self, other: "ColumnMoments") -> "ColumnMoments":
        self.count += other.count
        self.total = self.total + other.total
        self.total_sq = self.total_sq + other.total_sq
        self.binary = self.binary & other.binary
        return self

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) per column, float32. Constant columns (std < 1e-3) keep their scale, and
        0/1 columns are left as they are (mean 0, std 1): a one-hot column that is rare in
        training would otherwise be divided by a tiny std and explode where it does occur.
        The prosody models are trained with these (``frontend.prosody_train``)."""
        mean = self.total / max(self.count, 1)
        std = np.sqrt(np.maximum(self.total_sq / max(self.count, 1) - mean * mean, 0.0))
        std = np.where(std < 1e-3, 1.0, std)
        mean = np.where(self.binary, 0.0, mean)
        std = np.where(self.binary, 1.0, std)
        return np.asarray(mean, np.float32), np.asarray(std, np.float32)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return  # an unchanged file keeps its time stamp (stages are make-style)
    except (OSError, UnicodeDecodeError):
        pass
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_corpus_index(directory: str | Path, stats: dict[str, Any],
                       speakers: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    """Write stats.json, speakers.json and, last, manifest.jsonl (each atomically, and only if
    changed): a reader that finds the manifest finds a complete corpus. The per-utterance
    files must be in place first."""
    directory = Path(directory)
    _write_if_changed(directory / STATS_NAME, json.dumps(stats, indent=1) + "\n")
    _write_if_changed(directory / SPEAKERS_NAME, json.dumps({"speakers": speakers}, indent=1)
                      + "\n")
    _write_if_changed(directory / MANIFEST_NAME,
                      "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
