"""Prepare a VCTK download (0.92 or 0.80 layout) or the demo corpus for training.

    python -m recipes.vctk.prepare CORPUS_DIR PREP_DIR [--jobs 2] [--stage 1 --stop-stage 5]

Stages (each skips what it already wrote, so a rerun or a resumed run redoes nothing):

    1 audio     load (any rate, bit depth, channel count), resample to 16 kHz, trim leading and
                trailing silence (keeping a short margin)           → wav/SPK/UTT.wav
    2 align     our frontend's phonemes for the transcript, forced alignment with pocketsphinx,
                pauses re-annotated to match the audio             → align/SPK/UTT.json
    3 f0        F0 and voicing at the 5 ms hop (praat, or pyworld harvest/dio)  → f0/SPK/UTT.npy
    4 features  linguistic features per phoneme                     → phone_feats/SPK/UTT.npy
    5 manifest  train/valid/test split per speaker, normalization statistics of the training
                split, WaveNet conditioning per frame, speakers and the manifest
                → stats.json, cond/SPK/UTT.npy, speakers.json, manifest.jsonl
                (--no-cond: no conditioning, and no cond field in the manifest: a corpus that
                only trains the duration and F0 models, e.g. the demo's varied text)

Every file is written atomically (a temporary file renamed into place), so an existing output is
always complete and is trusted; an output older than its input is rebuilt. A file that cannot be
prepared is skipped with its reason in ``skipped.jsonl`` and never stops the run; only a corpus
that cannot be used at all (missing directory, no speaker-info.txt, nothing to prepare) ends the
run, with one line on stderr and exit status 1. See recipes/vctk/README.md for the output layout.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import fcntl
import functools
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from tts_common.corpus import (MANIFEST_NAME, OUTPUT_KINDS, STATS_NAME, ColumnMoments,
                               write_corpus_index)
from tts_common.corpus import output_path as corpus_output_path
from tts_common.files import atomic_open

logger = logging.getLogger("recipes.vctk.prepare")

STAGES: dict[int, str] = {1: "audio", 2: "align", 3: "f0", 4: "features", 5: "manifest"}
F0_METHODS = ("harvest", "dio", "praat")
SPLITS = ("train", "valid", "test")
LAYOUT_092 = "0.92"
LAYOUT_080 = "0.80"
_AUDIO_DIRS = {LAYOUT_092: "wav48_silence_trimmed", LAYOUT_080: "wav48"}
SOURCE_MARKER = "SOURCE="  # the demo corpus's speaker-info column (recipes/demo/make_corpus.py)


class PrepareError(Exception):
    """The corpus cannot be prepared at all; the message says what is wrong and how to fix it."""


@dataclass
class PrepareConfig:
    corpus_dir: Path
    prep_dir: Path
    stage: int = 1
    stop_stage: int = 5
    jobs: int = 1
    mic: str = "mic1"  # VCTK 0.92 only: which of the two microphones
    # praat by default: measured on the demo corpus it is ~20x faster than harvest and ~2x
    # faster than dio, agrees with harvest's F0 within 5 cents (median), and its voicing is
    # right where harvest's is not (harvest calls 74% of unvoiced-consonant frames voiced).
    f0_method: str = "praat"
    # A second F0 pass inside each utterance's own range (see frontend.pitch.extract_f0): the
    # fixed 60-600 Hz search let octave jumps into 3% of the low kal16 speakers' voiced frames.
    f0_two_pass: bool = True
    speakers: tuple[str, ...] = ()  # empty: every speaker
    max_per_speaker: int = 0  # 0: every utterance
    valid: float = 0.05  # per speaker: a fraction (< 1) or a count (>= 1)
    test: float = 0.05
    seed: int = 0
    trim_top_db: float = 40.0  # silence = frames this far below the loudest one
    # Silence kept at each end. pocketsphinx finds no leading sil in 50 ms and gives it to the
    # first phoneme instead; with 150 ms it did on every demo utterance tried.
    trim_margin_ms: float = 150.0
    min_seconds: float = 0.3  # after trimming
    max_seconds: float = 30.0
    min_english_fraction: float = 0.5  # of transcript words that CMUdict knows
    # Samples at or above 0.99 of full scale: flite's renders have none, a clipped recording's
    # flat tops leave a run of them even after resampling.
    max_clipped_fraction: float = 0.001
    progress: bool = True  # tqdm bars on stderr
    # Where the phone durations come from: "forced" (pocketsphinx forced alignment, any
    # recording) or "flite" (the demo corpus only: flite's own phone times, re-rendered from
    # each speaker's SOURCE command line, see recipes/demo/relabel.py; an utterance whose phones
    # cannot be mapped to ours is force-aligned). flite is ~30x faster and exact.
    labels: str = "forced"
    cond: bool = True  # stage 5 writes the WaveNet conditioning (False: prosody-only corpus)
    # A voice directory whose WaveNet will be trained on with this corpus (``train.init=all:
    # VOICE``): stage 5 numbers the speakers as the voice does and normalizes the conditioning's
    # log-F0 with the voice's statistics, not the corpus's (a subset's differ), so that the
    # WaveNet hears the pitch it was trained with. None: the corpus's own.
    like_voice: Path | None = None


@dataclass(frozen=True)
class SpeakerInfo:
    id: str
    age: str = ""
    gender: str = ""
    accent: str = ""
    region: str = ""
    source: str = ""  # demo corpus: the flite command line that rendered the speaker
    comment: str = ""  # VCTK's parenthesized remarks, e.g. "(mic2 files unavailable)"

    def to_json(self, index: int) -> dict[str, Any]:
        return {"id": self.id, "index": index, "gender": self.gender, "age": self.age,
                "accent": self.accent, "region": self.region, "source": self.source}


@dataclass(frozen=True)
class Item:
    """One utterance of the corpus: where its recording and transcript are."""

    utt_id: str
    speaker: str
    audio: str
    transcript: str


@dataclass
class Corpus:
    layout: str
    root: Path
    speakers: dict[str, SpeakerInfo]
    items: list[Item]
    skipped: list[dict[str, str]]  # found while scanning: no transcript, no audio, ...


# ---------------------------------------------------------------------------------------------
# Paths and atomic writes


def output_path(prep_dir: Path, kind: str, item_or_utt: Item | str, speaker: str = "") -> Path:
    """``PREP/<kind>/<speaker>/<utt_id>.<ext>`` (``tts_common.corpus``); kind is one of
    ``OUTPUT_KINDS``: wav, align, f0, phone_feats or cond."""
    if isinstance(item_or_utt, Item):
        return corpus_output_path(prep_dir, kind, item_or_utt.speaker, item_or_utt.utt_id)
    return corpus_output_path(prep_dir, kind, speaker, item_or_utt)


# Which earlier outputs each output is computed from, and the stage that writes it.
DEPENDS_ON = {"align": ("wav",), "f0": ("wav",), "phone_feats": ("align",)}
WRITTEN_BY = {"wav": 1, "align": 2, "f0": 3, "phone_feats": 4, "cond": 5}


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Any]:
    """A binary handle on a hidden temporary file that replaces ``path`` only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as handle:  # .NAME.XXXXXXXX.tmp: what _remove_stale_temporaries finds
        yield handle


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    with _atomic(path) as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def write_text_atomic(path: Path, text: str, *, only_if_changed: bool = False) -> bool:
    """Write ``text``; with ``only_if_changed`` leave an identical file untouched.
    True if written."""
    if only_if_changed and path.exists():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if path.read_text(encoding="utf-8") == text:
                return False
    with _atomic(path) as handle:
        handle.write(text.encode("utf-8"))
    return True


def write_json_atomic(path: Path, data: Any, *, only_if_changed: bool = False) -> bool:
    return write_text_atomic(path, json.dumps(data, indent=1) + "\n",
                             only_if_changed=only_if_changed)


def write_jsonl_atomic(path: Path, rows: list[dict[str, Any]]) -> bool:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write_text_atomic(path, text, only_if_changed=True)


def load_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def _is_fresh(output: Path, *inputs: Path) -> bool:
    """The output exists and is not older than any input (a make-style rule)."""
    try:
        built = output.stat().st_mtime_ns
    except FileNotFoundError:
        return False
    return all(built >= source.stat().st_mtime_ns for source in inputs if source.exists())


def _remove_stale_temporaries(prep_dir: Path) -> int:
    """Delete temporary files that a killed run left behind (ours only: ``.NAME.XXXX.tmp``)."""
    removed = 0
    for kind in (*OUTPUT_KINDS, ""):
        base = prep_dir / kind
        if not base.is_dir():
            continue
        paths = base.glob(".*.tmp") if kind == "" else base.glob("*/.*.tmp")
        for path in paths:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def _exclusive_lock(prep_dir: Path) -> Iterator[None]:
    """Two runs writing into one PREP would race on stats and the manifest: refuse the second."""
    prep_dir.mkdir(parents=True, exist_ok=True)
    with open(prep_dir / ".prepare.lock", "a") as lock:  # "a": a rerun leaves its mtime alone
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PrepareError(
                f"another prepare run is writing into {prep_dir}: wait for it to finish "
                "(or choose another PREP_DIR)"
            ) from None
        yield


# ---------------------------------------------------------------------------------------------
# The corpus: layout, speakers, utterances


def _speaker_id(token: str) -> str:
    """VCTK 0.80's speaker-info.txt says ``225`` where its directories say ``p225``."""
    return f"p{token}" if token.isdigit() else token


def parse_speaker_info(path: Path) -> dict[str, SpeakerInfo]:
    """Read VCTK's ``speaker-info.txt`` (either release) or the demo corpus's.

    VCTK: ``ID AGE GENDER ACCENTS REGION [COMMENTS]``, whitespace separated; REGION may hold
    several words and a parenthesized comment such as ``(mic2 files unavailable)``. The demo
    corpus ends a row with ``SOURCE=`` and the flite command line that rendered the speaker
    (recipes/demo/README.md). The header and lines starting with ``#`` or ``;`` are ignored.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise PrepareError(
            f"speaker-info.txt not found: {path} (every VCTK release has one at the top of the "
            "corpus; pass the directory that contains it)"
        ) from None
    except OSError as exc:
        raise PrepareError(f"cannot read {path}: {exc.strerror}") from None
    speakers: dict[str, SpeakerInfo] = {}
    for line in text.splitlines():
        body, _, source = line.partition(SOURCE_MARKER)
        fields = body.split()
        if not fields or fields[0].startswith(("#", ";")) or fields[0].upper() == "ID":
            continue
        rest = " ".join(fields[4:])
        speaker = _speaker_id(fields[0])
        speakers[speaker] = SpeakerInfo(
            id=speaker,
            age=fields[1] if len(fields) > 1 else "",
            gender=fields[2].upper() if len(fields) > 2 else "",
            accent=fields[3] if len(fields) > 3 else "",
            region=" ".join(re.sub(r"\([^)]*\)", " ", rest).split()),
            source=source.strip(),
            comment=" ".join(re.findall(r"\([^)]*\)", rest)),
        )
    if not speakers:
        raise PrepareError(f"{path} lists no speakers: expected rows like 'p225 23 F English ...'")
    return speakers


def _find_root(corpus_dir: Path) -> tuple[Path, str]:
    """The directory holding the audio, and the layout. Accepts the release's own top directory
    (e.g. VCTK-Corpus/) one level down."""
    if not corpus_dir.exists():
        raise PrepareError(f"corpus directory not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise PrepareError(f"corpus path is not a directory: {corpus_dir}")
    candidates = [corpus_dir] + sorted(p for p in corpus_dir.iterdir() if p.is_dir())
    for root in candidates:
        for layout, audio_dir in _AUDIO_DIRS.items():
            if (root / audio_dir).is_dir():
                return root, layout
    raise PrepareError(
        f"no audio in {corpus_dir}: expected NAME.wav + NAME.txt pairs (or one sub-folder of "
        "them per speaker), LJSpeech's metadata.csv + wavs/, or a VCTK release "
        "(wav48_silence_trimmed/ or wav48/ next to txt/ and speaker-info.txt)"
    )


def _audio_files(speaker_dir: Path, layout: str, mic: str) -> tuple[dict[str, Path], set[str]]:
    """``{utt_id: path}`` of the chosen microphone, and the utt_ids that only have the other."""
    if layout == LAYOUT_080:
        return {p.stem: p for p in sorted(speaker_dir.glob("*.wav"))}, set()
    chosen: dict[str, Path] = {}
    other: set[str] = set()
    for path in sorted(speaker_dir.glob("*.flac")):
        utt_id, _, this_mic = path.stem.rpartition("_")
        if not utt_id or not this_mic.startswith("mic"):
            continue
        if this_mic == mic:
            chosen[utt_id] = path
        else:
            other.add(utt_id)
    return chosen, other - set(chosen)


def scan_corpus(config: PrepareConfig) -> Corpus:
    """Find the layout, the speakers and every (recording, transcript) pair to prepare.

    VCTK (0.92, 0.80, the demo corpus), LJSpeech (metadata.csv + wavs/) or a plain folder of
    NAME.wav + NAME.txt (optionally one sub-folder per speaker): see recipes/corpora.py.
    """
    from recipes.corpora import detect_layout, scan_layout

    corpus_dir = Path(config.corpus_dir)
    try:
        root, layout = _find_root(corpus_dir)
    except PrepareError:
        other = detect_layout(corpus_dir) if corpus_dir.is_dir() else None
        if other is None:
            raise
        return scan_layout(other, corpus_dir, config)
    speakers = parse_speaker_info(root / "speaker-info.txt")
    audio_root, text_root = root / _AUDIO_DIRS[layout], root / "txt"
    if not text_root.is_dir():
        raise PrepareError(f"transcript directory not found: {text_root} (VCTK keeps them in txt/)")
    speaker_dirs = {p.name: p for p in sorted(audio_root.iterdir()) if p.is_dir()}
    wanted = sorted(speaker_dirs)
    if config.speakers:
        wanted = [_speaker_id(s) for s in config.speakers]
        unknown = [s for s in wanted if s not in speaker_dirs]
        if unknown:
            raise PrepareError(
                f"speaker(s) {', '.join(unknown)} have no audio in {audio_root}: "
                f"choose from {', '.join(sorted(speaker_dirs)[:8])}"
                f"{' ...' if len(speaker_dirs) > 8 else ''}"
            )
    items: list[Item] = []
    skipped: list[dict[str, str]] = []

    def skip(utt_id: str, reason: str) -> None:
        skipped.append({"utt_id": utt_id, "stage": "scan", "reason": reason})

    for speaker in wanted:
        audio, other_mic = _audio_files(speaker_dirs[speaker], layout, config.mic)
        text_dir = text_root / speaker
        if not text_dir.is_dir():
            skip(speaker, f"speaker {speaker} has no transcripts ({text_dir} missing): "
                          f"its {len(audio)} recordings are skipped")
            continue
        if speaker not in speakers:
            logger.warning("speaker %s is not in speaker-info.txt: preparing it with unknown "
                           "gender/age/accent", speaker)
            speakers[speaker] = SpeakerInfo(id=speaker)
        texts = {p.stem: p for p in sorted(text_dir.glob("*.txt"))}
        pairs = []
        for utt_id in sorted(set(audio) | set(texts)):
            if utt_id not in texts:
                skip(utt_id, f"recording without transcript: {audio[utt_id]} has no "
                             f"{text_dir / (utt_id + '.txt')}")
            elif utt_id not in audio:
                if utt_id in other_mic:
                    skip(utt_id, f"no {config.mic} recording (only the other microphone's)")
                else:
                    skip(utt_id, f"transcript without audio: {texts[utt_id]}")
            else:
                pairs.append(Item(utt_id, speaker, str(audio[utt_id]), str(texts[utt_id])))
        if config.max_per_speaker > 0:
            pairs = pairs[: config.max_per_speaker]
        items.extend(pairs)
    if not items:
        raise PrepareError(
            f"nothing to prepare in {root}: no recording there has a transcript"
            + (f" (speakers {', '.join(config.speakers)})" if config.speakers else "")
        )
    return Corpus(layout, root, speakers, items, skipped)


# ---------------------------------------------------------------------------------------------
# Stage 1: audio


def prepare_audio(item: Item, config: PrepareConfig) -> str | None:
    """Load, resample, trim and write the 16 kHz wav. Returns a skip reason or None."""
    from frontend.audio import SAMPLE_RATE, load_audio, trim_silence, write_wav_atomic

    audio = load_audio(item.audio, SAMPLE_RATE)  # (N,) mono float32 at 16 kHz
    _, (start, end) = trim_silence(audio, SAMPLE_RATE, top_db=config.trim_top_db)
    margin = int(round(config.trim_margin_ms * SAMPLE_RATE / 1000))
    audio = audio[max(0, start - margin): min(len(audio), end + margin)]
    seconds = len(audio) / SAMPLE_RATE
    if seconds < config.min_seconds:
        return f"only {seconds:.2f} s of sound after trimming silence (need {config.min_seconds} s)"
    if seconds > config.max_seconds:
        return f"{seconds:.1f} s long after trimming (limit {config.max_seconds} s): split it"
    if float(np.abs(audio).max()) < 1e-3:
        return "the recording is silent (peak below -60 dBFS)"
    clipped = float(np.mean(np.abs(audio) >= 0.99))
    if clipped > config.max_clipped_fraction:
        return (f"the recording is clipped ({100 * clipped:.2f}% of samples at full scale): "
                "record it again at a lower level")
    write_wav_atomic(output_path(config.prep_dir, "wav", item), audio, SAMPLE_RATE)
    return None


# ---------------------------------------------------------------------------------------------
# Stage 2: alignment


def read_transcript(path: str | Path) -> str:
    """The transcript as one line; raises ValueError naming the problem."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # not UTF-8: every byte is a Latin-1 letter, never an error
    text = " ".join(text.split())
    if not text:
        raise ValueError("the transcript is empty")
    return text


def check_english(text: str, min_known_fraction: float) -> str | None:
    """A reason to skip a transcript that is not English text, or None."""
    from frontend.lexicon import cmudict

    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "the transcript has no words"
    foreign = [c for c in letters if not unicodedata.name(c, "").startswith("LATIN")]
    if len(foreign) > len(letters) // 10:
        script = unicodedata.name(foreign[0], "UNKNOWN").split()[0]
        return f"the transcript is not English ({script} script): {text[:60]!r}"
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", text.lower())
    if len(words) >= 3:
        lexicon = cmudict()
        known = sum(1 for w in words if w in lexicon)
        if known < min_known_fraction * len(words):
            return (f"the transcript looks like another language (only {known} of {len(words)} "
                    f"words are English dictionary words): {text[:60]!r}")
    return None


@functools.lru_cache(maxsize=2)
def _aligner(hop_length: int):
    """One pocketsphinx decoder per worker process (building one takes a fraction of a second)."""
    from frontend.align import Aligner, AlignerConfig

    return Aligner(AlignerConfig(hop_length=hop_length))


def reannotate_pauses(utt: Any, labels: list[str]) -> Any:
    """The Utterance with the pauses the aligner found instead of those punctuation suggested.

    ``labels`` is the aligned sequence: sil, the words' phonemes in order with ``sp`` wherever
    the speaker paused, sil. A text pause the speaker did not make is dropped (a 0-frame phoneme
    would give the duration model a log(0) target); a pause the speaker made without punctuation
    is inserted, belonging to the phrase it follows. Phrase structure (phrase_index,
    punctuation) stays as the text says: it describes the words, not the audio.
    """
    from frontend.features import PER_PHONEME_FIELDS, Utterance
    from frontend.phonemes import PAUSE, SILENCE, SILENCES

    n = len(utt.phonemes)
    rows = [{name: getattr(utt, name)[i] for name in PER_PHONEME_FIELDS} for i in range(n)]
    speech = [row for row in rows if row["phonemes"] not in SILENCES]
    # Text pauses keyed by the number of speech phonemes before them.
    text_pauses: dict[int, dict[str, Any]] = {}
    count = 0
    for row in rows:
        if row["phonemes"] in SILENCES:
            text_pauses.setdefault(count, row)
        else:
            count += 1
    aligned_speech = [label for label in labels if label not in SILENCES]
    if [row["phonemes"] for row in speech] != aligned_speech:
        raise ValueError("the alignment's phonemes differ from the utterance's")
    new_rows: list[dict[str, Any]] = []
    count = 0
    for position, label in enumerate(labels):
        if label not in SILENCES:
            new_rows.append(speech[count])
            count += 1
            continue
        if position == 0:
            row = dict(rows[0])
        elif position == len(labels) - 1:
            row = dict(rows[-1])
        elif count in text_pauses:
            row = dict(text_pauses[count])
        else:
            # An unpunctuated pause: it ends nothing, so it takes the context of the word before.
            before = speech[count - 1]
            row = {**rows[0], "phrase_index": before["phrase_index"],
                   "phrase_word_count": before["phrase_word_count"],
                   "phrase_punctuation": before["phrase_punctuation"],
                   "is_question": before["is_question"]}
        row["phonemes"] = SILENCE if position in (0, len(labels) - 1) else PAUSE
        new_rows.append(row)
    columns = {name: [row[name] for row in new_rows] for name in PER_PHONEME_FIELDS}
    others = {f.name: getattr(utt, f.name) for f in dataclasses.fields(utt)
              if f.name not in PER_PHONEME_FIELDS}
    return Utterance(**others, **columns)


def prepare_alignment(item: Item, config: PrepareConfig,
                      flite_sources: dict[str, str] | None = None) -> str | None:
    """Transcript → our phonemes → forced alignment → align/SPK/UTT.json. With
    ``flite_sources`` (speaker → the flite command line that rendered it), flite's own phone
    times where they map onto our phonemes (``recipes.demo.relabel.flite_labels``)."""
    import soundfile as sf

    from frontend.audio import HOP_LENGTH, SAMPLE_RATE, num_frames
    from frontend.features import text_to_utterance

    text = read_transcript(item.transcript)
    reason = check_english(text, config.min_english_fraction)
    if reason:
        return reason
    utt = text_to_utterance(text)
    audio, sr = sf.read(output_path(config.prep_dir, "wav", item), dtype="float32")
    if sr != SAMPLE_RATE:
        return f"wav/ holds a {sr} Hz file (expected {SAMPLE_RATE}): delete it and rerun stage 1"
    total = num_frames(len(audio), HOP_LENGTH)
    record = {"utt_id": item.utt_id, "text": text, "hop_length": HOP_LENGTH,
              "sample_rate": SAMPLE_RATE, "num_samples": len(audio), "num_frames": total}
    if flite_sources is not None:
        from recipes.demo.relabel import flite_labels

        labels = flite_labels(text, audio, flite_sources[item.speaker], total)
        if not isinstance(labels, str):
            write_json_atomic(output_path(config.prep_dir, "align", item), {**record, **labels})
            return None
        logger.debug("%s: %s; force-aligned instead", item.utt_id, labels)
    words = [phones for phones in utt.word_phonemes() if phones]
    alignment = _aligner(HOP_LENGTH).align(audio, words)
    durations = alignment.durations
    if int(durations.sum()) != total:
        raise ValueError(f"the aligner returned {int(durations.sum())} frames for {total}")
    reason = check_alignment(alignment.labels, durations)
    if reason:
        return reason
    utt = reannotate_pauses(utt, alignment.labels)
    write_json_atomic(output_path(config.prep_dir, "align", item), {
        **record,
        "utterance": utt.to_dict(),
        "phonemes": list(utt.phonemes),
        "durations": [int(d) for d in durations],
        "alignment": alignment.to_json()["phones"],
    })
    return None


def check_alignment(labels: list[str], durations: np.ndarray) -> str | None:
    """A reason to distrust an alignment (transcript and audio disagree), or None.

    Forced alignment always produces *some* answer; a phoneme held for a second, or speech
    phonemes averaging under 15 ms, mean the transcript does not match what was said.
    """
    from frontend.audio import HOP_LENGTH, SAMPLE_RATE
    from frontend.phonemes import SILENCES

    ms_per_frame = 1000.0 * HOP_LENGTH / SAMPLE_RATE
    speech = np.array([d for label, d in zip(labels, durations) if label not in SILENCES])
    if speech.size == 0:
        return "the alignment has no speech phonemes"
    longest = float(speech.max()) * ms_per_frame
    mean = float(speech.mean()) * ms_per_frame
    if longest > 1000.0:
        return ("the aligner could not fit the transcript: "
                f"one phoneme would last {longest:.0f} ms "
                "(does the transcript match the recording?)")
    if mean < 15.0:
        return (f"the aligner could not fit the transcript: phonemes would average {mean:.0f} ms "
                "(the recording is too short for the transcript)")
    return None


# ---------------------------------------------------------------------------------------------
# Stage 3: F0


def corpus_f0(audio: np.ndarray, sr: int, hop_length: int,
              method: str = PrepareConfig.f0_method,
              two_pass: bool = PrepareConfig.f0_two_pass) -> np.ndarray:
    """(T, 2) float32 as the corpus stores it: F0 in Hz (0 where unvoiced) and voicing (0/1)
    for each of the ``ceil(len(audio) / hop)`` frames."""
    from frontend.audio import num_frames
    from frontend.pitch import extract_f0

    f0_hz, voiced = extract_f0(audio, sr, hop_length, method=method, two_pass=two_pass)
    total = num_frames(len(audio), hop_length)
    if len(f0_hz) != total:
        raise ValueError(f"extract_f0 gave {len(f0_hz)} frames for {total}")
    voiced = (np.asarray(voiced) > 0.5) & (np.asarray(f0_hz) > 0)
    return np.stack([np.where(voiced, f0_hz, 0.0), voiced], axis=1).astype(np.float32)


def prepare_f0(item: Item, config: PrepareConfig) -> str | None:
    """F0 (0 where unvoiced) and voicing at the frame hop → f0/SPK/UTT.npy (T, 2)."""
    import soundfile as sf

    from frontend.audio import HOP_LENGTH

    audio, sr = sf.read(output_path(config.prep_dir, "wav", item), dtype="float32")
    f0 = corpus_f0(audio, sr, HOP_LENGTH, config.f0_method, config.f0_two_pass)  # (T, 2)
    if not f0[:, 1].any():
        return "no voiced frame found: is this speech?"
    save_npy_atomic(output_path(config.prep_dir, "f0", item), f0)
    return None


# ---------------------------------------------------------------------------------------------
# Stage 4: phoneme features


def _read_alignment(item: Item, prep_dir: Path) -> dict[str, Any]:
    return json.loads(output_path(prep_dir, "align", item).read_text(encoding="utf-8"))


def prepare_phone_features(item: Item, config: PrepareConfig) -> str | None:
    """(N, PHONEME_FEATURE_DIM) rows of the aligned phonemes → phone_feats/SPK/UTT.npy."""
    from frontend.features import Utterance, phoneme_features

    record = _read_alignment(item, config.prep_dir)
    utt = Utterance.from_dict(record["utterance"])
    phone_feats = phoneme_features(utt)  # (N, D)
    if phone_feats.shape[0] != len(record["durations"]):
        raise ValueError(f"{phone_feats.shape[0]} feature rows for {len(record['durations'])} "
                         "durations: delete its align/ file and rerun stage 2")
    save_npy_atomic(output_path(config.prep_dir, "phone_feats", item), phone_feats)
    return None


# ---------------------------------------------------------------------------------------------
# Stage 5: split, statistics, conditioning, manifest


def summarize(item: Item, config: PrepareConfig) -> dict[str, Any]:
    """What stage 5 needs of one prepared utterance; raises ValueError if its files disagree."""
    import soundfile as sf

    from frontend.audio import HOP_LENGTH, num_frames

    prep = config.prep_dir
    for kind, inputs in DEPENDS_ON.items():
        if not _is_fresh(output_path(prep, kind, item),
                         *(output_path(prep, k, item) for k in inputs)):
            raise ValueError(f"its {kind} file is older than its {inputs[0]} file: rerun "
                             f"stage {WRITTEN_BY[kind]} (--stage {WRITTEN_BY[kind]})")
    record = _read_alignment(item, prep)
    num_samples = sf.info(str(output_path(prep, "wav", item))).frames
    total = num_frames(num_samples, HOP_LENGTH)
    durations = np.asarray(record["durations"], dtype=np.int64)
    f0 = load_npy(output_path(prep, "f0", item))
    phone_feats = load_npy(output_path(prep, "phone_feats", item))
    stale = "delete its files under PREP and rerun"
    if int(durations.sum()) != total or record["num_samples"] != num_samples:
        raise ValueError(f"alignment ({int(durations.sum())} frames) does not fit the wav "
                         f"({total} frames): {stale}")
    if f0.shape != (total, 2):
        raise ValueError(f"f0 has shape {f0.shape}, expected ({total}, 2): {stale}")
    if phone_feats.shape[0] != len(durations):
        raise ValueError(f"phone_feats has {phone_feats.shape[0]} rows for {len(durations)} "
                         f"phonemes: {stale}")
    voiced_f0 = f0[f0[:, 1] > 0.5, 0].astype(np.float64)
    log_f0 = np.log(voiced_f0[voiced_f0 > 0])
    log_dur = np.log1p(durations.astype(np.float64))  # the duration model's target
    return {
        "utt_id": item.utt_id,
        "speaker": item.speaker,
        "text": record["text"],
        "num_samples": int(num_samples),
        "num_frames": int(total),
        "log_f0": [float(log_f0.sum()), float((log_f0 ** 2).sum()), int(log_f0.size)],
        "log_duration": [float(log_dur.sum()), float((log_dur ** 2).sum()), int(log_dur.size)],
        "phone_feats": ColumnMoments().add(phone_feats),
    }


def split_counts(n: int, valid: float, test: float) -> tuple[int, int]:
    """Held-out utterances of a speaker with ``n``: fractions (< 1) or counts (>= 1); at least
    one of each when asked for and the speaker has 3 or more, and always one left to train on."""

    def count(value: float) -> int:
        if value <= 0:
            return 0
        wanted = int(value) if value >= 1 else int(round(value * n))
        return max(wanted, 1 if n >= 3 else 0)

    n_valid, n_test = count(valid), count(test)
    while n_valid + n_test > n - 1 and (n_valid or n_test):
        if n_test >= n_valid and n_test:
            n_test -= 1
        else:
            n_valid -= 1
    return n_valid, n_test


def assign_splits(utt_ids_by_speaker: dict[str, list[str]],
                  config: PrepareConfig) -> dict[str, str]:
    """Deterministic for a seed, and stable: an utterance keeps its split when others are
    added or skipped, as far as the counts allow (utterances are ranked by a seeded hash)."""
    splits: dict[str, str] = {}
    for speaker, utt_ids in utt_ids_by_speaker.items():
        ranked = sorted(utt_ids, key=lambda u: (zlib.crc32(f"{config.seed}/{u}".encode()), u))
        n_valid, n_test = split_counts(len(ranked), config.valid, config.test)
        for rank, utt_id in enumerate(ranked):
            splits[utt_id] = ("valid" if rank < n_valid
                              else "test" if rank < n_valid + n_test else "train")
    return splits


def _mean_std(sums: list[float], sq_sums: list[float], count: int) -> tuple[Any, Any]:
    s, q = np.asarray(sums, dtype=np.float64), np.asarray(sq_sums, dtype=np.float64)
    mean = s / max(count, 1)
    std = np.sqrt(np.maximum(q / max(count, 1) - mean ** 2, 0.0))
    return mean, std


def compute_stats(summaries: list[dict[str, Any]], splits: dict[str, str]) -> dict[str, Any]:
    """Normalization statistics from the training split only (held-out data stays unseen)."""
    from frontend.audio import HOP_LENGTH, SAMPLE_RATE
    from frontend.conditioning import conditioning_channels

    train = [s for s in summaries if splits[s["utt_id"]] == "train"]

    def scalar(key: str, rows: list[dict[str, Any]]) -> dict[str, float]:
        total, squares, count = (sum(r[key][i] for r in rows) for i in range(3))
        mean, std = _mean_std([total], [squares], count)
        return {"mean": float(mean[0]), "std": float(max(std[0], 1e-3)), "count": int(count)}

    def with_speakers(key: str) -> dict[str, Any]:
        result = scalar(key, train)
        speakers = sorted({r["speaker"] for r in train})
        result["per_speaker"] = {
            speaker: scalar(key, [r for r in train if r["speaker"] == speaker])
            for speaker in speakers
        }
        return result

    feats = ColumnMoments()
    for row in train:
        feats.merge(row["phone_feats"])
    feats_mean, feats_std = feats.mean_std()  # the prosody trainers' rule
    num_samples = sum(r["num_samples"] for r in summaries)
    return {
        "hop_length": HOP_LENGTH,
        "sample_rate": SAMPLE_RATE,
        "cond_channels": conditioning_channels(),
        "log_f0": with_speakers("log_f0"),
        "log_duration": with_speakers("log_duration"),
        "phone_feats": {"mean": [round(float(v), 6) for v in feats_mean],
                        "std": [round(float(v), 6) for v in feats_std]},
        "num_utterances": len(summaries),
        "hours": round(num_samples / SAMPLE_RATE / 3600.0, 6),
        "splits": {split: sum(1 for s in summaries if splits[s["utt_id"]] == split)
                   for split in SPLITS},
    }


def prepare_conditioning(item: Item, config: PrepareConfig, log_f0_mean: float,
                         log_f0_std: float) -> str | None:
    """(T, C) WaveNet conditioning from phone_feats, durations and F0 → cond/SPK/UTT.npy."""
    from frontend.conditioning import wavenet_conditioning
    from frontend.features import frame_features

    prep = config.prep_dir
    durations = np.asarray(_read_alignment(item, prep)["durations"], dtype=np.int64)
    phone_feats = load_npy(output_path(prep, "phone_feats", item))  # (N, D)
    f0 = load_npy(output_path(prep, "f0", item))  # (T, 2)
    frame_feats = frame_features(phone_feats, durations)  # (T, D + 4)
    cond = wavenet_conditioning(frame_feats, f0[:, 0], f0[:, 1], log_f0_mean, log_f0_std)
    save_npy_atomic(output_path(prep, "cond", item), cond)
    return None


# ---------------------------------------------------------------------------------------------
# Running stages over many files


def _guarded(function: Callable[..., Any], item: Item, *args: Any) -> tuple[Item, Any, str | None]:
    """Run one file's work; any failure becomes a skip reason instead of ending the run."""
    try:
        result = function(item, *args)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the corpus
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, ValueError):  # ours say what went wrong; others need their name
            message = f"{type(exc).__name__}: {message}"
        return item, None, message
    if isinstance(result, str):
        return item, None, result
    return item, result, None


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: the kernel kills this worker when the run that started it dies.

    A worker of a run killed with ``kill -9`` would otherwise wait forever for more work while
    holding (a copy of) the run's descriptor of ``.prepare.lock``, so no rerun could start.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if multiprocessing.get_start_method() == "fork" and os.getppid() != parent_pid:
        os._exit(1)  # the run died before the line above took effect


def run_parallel(
    description: str, function: Callable[..., Any], items: list[Item], config: PrepareConfig,
    *args: Any,
) -> tuple[dict[str, Any], dict[str, str]]:
    """``function(item, *args)`` for every item on ``config.jobs`` processes.

    Returns ``{utt_id: result}`` of the successes and ``{utt_id: reason}`` of the failures. A
    worker process that dies (out of memory, a crash in a C library) breaks the pool; the files
    still pending then are retried one process each, so only the culprit is reported.
    """
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    if not items:
        return results, failures
    bar = tqdm(total=len(items), desc=description, unit="utt", file=sys.stderr,
               disable=not config.progress, mininterval=1.0, dynamic_ncols=True)

    def record(item: Item, result: Any, reason: str | None) -> None:
        if reason is None:
            results[item.utt_id] = result
        else:
            failures[item.utt_id] = reason
        bar.update(1)

    try:
        if config.jobs <= 1:
            for item in items:
                record(*_guarded(function, item, *args))
            return results, failures
        crashed: list[Item] = []
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=config.jobs, initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            futures = {pool.submit(_guarded, function, item, *args): item for item in items}
            for future in concurrent.futures.as_completed(futures):
                try:
                    record(*future.result())
                except concurrent.futures.process.BrokenProcessPool:
                    crashed.append(futures[future])
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: do not finish the queue
            raise
        pool.shutdown()
        if crashed:
            logger.warning("a worker process died; retrying the %d file(s) it took down, one "
                           "process each", len(crashed))
        for item in crashed:
            # A fresh process per suspect finds the file that kills it and spares the others.
            with concurrent.futures.ProcessPoolExecutor(
                    max_workers=1, initializer=_die_with_parent,
                    initargs=(os.getpid(),)) as single:
                try:
                    record(*single.submit(_guarded, function, item, *args).result())
                except concurrent.futures.process.BrokenProcessPool:
                    record(item, None, "the worker process preparing it died (out of memory, "
                                       "or a crash in a native library)")
    finally:
        bar.close()
    return results, failures


def _skip_records(stage: str, failures: dict[str, str]) -> list[dict[str, str]]:
    return [{"utt_id": utt_id, "stage": stage, "reason": reason}
            for utt_id, reason in sorted(failures.items())]


def _stale_or_missing(items: list[Item], prep: Path, kind: str, *inputs: str) -> list[Item]:
    return [item for item in items
            if not _is_fresh(output_path(prep, kind, item),
                             *(output_path(prep, k, item) for k in inputs))]


def _have(items: list[Item], prep: Path, *kinds: str) -> list[Item]:
    return [item for item in items
            if all(output_path(prep, kind, item).exists() for kind in kinds)]


def _f0_method_file(prep: Path) -> Path:
    return prep / "f0" / "method.txt"


def f0_label(config: PrepareConfig) -> str:
    """How the F0 files are made, as recorded in f0/method.txt: ``praat`` or ``praat+two-pass``."""
    return config.f0_method + ("+two-pass" if config.f0_two_pass else "")


def recorded_f0_method(prep: Path) -> str | None:
    """The F0 method the files under f0/ were computed with (None before stage 3 ran)."""
    try:
        return _f0_method_file(prep).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _forget_f0_of_another_method(prep: Path, method: str) -> None:
    """A different --f0-method than the files under f0/ were made with supersedes them all.

    They are deleted before the marker changes, so an interrupted switch never leaves files of
    two methods that both look up to date.
    """
    previous = recorded_f0_method(prep)
    if previous == method:
        return
    if previous is not None:
        old = list((prep / "f0").glob("*/*.npy"))
        logger.warning("F0 was computed with %s, now %s is asked for: replacing %d F0 files",
                       previous, method, len(old))
        for path in old:
            path.unlink()
    write_text_atomic(_f0_method_file(prep), method + "\n")


def _flite_sources(corpus: Corpus) -> dict[str, str]:
    """Speaker → the flite command line of its SOURCE column, for ``labels="flite"``."""
    missing = [s.id for s in corpus.speakers.values() if not s.source.startswith("flite")]
    if missing:
        raise PrepareError(f"--labels flite needs every speaker rendered by flite (a SOURCE=flite "
                           f"... column in speaker-info.txt), but {', '.join(missing[:5])} "
                           "have none: use --labels forced")
    return {s.id: s.source for s in corpus.speakers.values()}


def _run_file_stage(stage: int, items: list[Item], config: PrepareConfig,
                    skipped: list[dict[str, str]], extra: tuple[Any, ...] = ()) -> None:
    """Stages 1-4: one output per utterance, from the previous stages' outputs."""
    prep = config.prep_dir
    name = STAGES[stage]
    kind, needs, function = {
        1: ("wav", (), prepare_audio),
        2: ("align", ("wav",), prepare_alignment),
        3: ("f0", ("wav",), prepare_f0),
        4: ("phone_feats", ("align",), prepare_phone_features),
    }[stage]
    ready = _have(items, prep, *needs)

    def sources(item: Item) -> list[Path]:
        paths = [output_path(prep, k, item) for k in needs]
        if stage == 1:
            paths.append(Path(item.audio))
        if stage == 2:
            paths.append(Path(item.transcript))
        return paths

    if stage == 3:
        _forget_f0_of_another_method(prep, f0_label(config))
    todo = [item for item in ready if not _is_fresh(output_path(prep, kind, item), *sources(item))]
    logger.info("stage %d (%s): %d to do, %d already done, %d lack earlier stages",
                stage, name, len(todo), len(ready) - len(todo), len(items) - len(ready))
    _, failures = run_parallel(f"stage {stage} {name}", function, todo, config, config, *extra)
    for item in todo:
        if item.utt_id in failures:
            # An output older than its changed input must not outlive a failed rebuild.
            output_path(prep, kind, item).unlink(missing_ok=True)
    skipped.extend(_skip_records(name, failures))


def _run_manifest_stage(corpus: Corpus, config: PrepareConfig,
                        skipped: list[dict[str, str]]) -> int:
    """Stage 5. Returns the number of utterances in the manifest."""
    from frontend.audio import SAMPLE_RATE

    prep = config.prep_dir
    ready = _have(corpus.items, prep, "wav", "align", "f0", "phone_feats")
    summaries, failures = run_parallel("stage 5 summarize", summarize, ready, config, config)
    skipped.extend(_skip_records("manifest", failures))
    if not summaries:
        raise PrepareError(
            "no utterance made it through stages 1-4: see skipped.jsonl in "
            f"{prep} for the reasons"
        )
    items = [item for item in ready if item.utt_id in summaries]
    by_speaker: dict[str, list[str]] = {}
    for item in items:
        by_speaker.setdefault(item.speaker, []).append(item.utt_id)
    splits = assign_splits(by_speaker, config)
    ordered = [summaries[item.utt_id] for item in items]
    stats = compute_stats(ordered, splits)
    stats["f0_method"] = recorded_f0_method(prep) or f0_label(config)
    voice_speakers = (_like_voice(config.like_voice, stats, {item.speaker for item in items})
                      if config.like_voice is not None else None)
    mean, std = stats["log_f0"]["mean"], stats["log_f0"]["std"]

    # cond depends on the global log-F0 statistics: when they moved, every cond file is stale.
    stats_path = prep / STATS_NAME
    previous: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        previous = json.loads(stats_path.read_text(encoding="utf-8"))
    old = previous.get("log_f0", {})
    moved = (old.get("mean") != mean or old.get("std") != std
             or previous.get("cond_channels") != stats["cond_channels"])
    todo = items if moved else _stale_or_missing(items, prep, "cond", "align", "f0", "phone_feats")
    if not config.cond:
        todo = []  # a prosody-only corpus: the manifest names no cond file
    elif moved and previous:
        logger.info("log-F0 statistics changed: rebuilding all conditioning files")
    _, failures = run_parallel("stage 5 conditioning", prepare_conditioning, todo, config,
                               config, mean, std)
    skipped.extend(_skip_records("manifest", failures))
    items = [item for item in items if item.utt_id not in failures]

    speaker_table = [corpus.speakers[s].to_json(i)
                     for i, s in enumerate(sorted({item.speaker for item in items}))]
    if voice_speakers is not None:
        ours = {speaker["id"]: speaker for speaker in speaker_table}
        speaker_table = [{**speaker, **ours.get(speaker["id"], {}), "index": speaker["index"]}
                         for speaker in voice_speakers]
    speaker_index = {speaker["id"]: speaker["index"] for speaker in speaker_table}
    rows = []
    for item in items:
        summary = summaries[item.utt_id]
        rows.append({
            "utt_id": item.utt_id,
            "speaker": item.speaker,
            "speaker_index": speaker_index[item.speaker],
            "split": splits[item.utt_id],
            "text": summary["text"],
            "num_samples": summary["num_samples"],
            "num_frames": summary["num_frames"],
            "duration_s": round(summary["num_samples"] / SAMPLE_RATE, 4),
            **{kind: output_path(Path(""), kind, item).as_posix() for kind in OUTPUT_KINDS
               if kind != "cond" or config.cond},
        })
    # A cond rebuild must land before the statistics that describe it, and the manifest last.
    write_corpus_index(prep, stats, speaker_table, rows)
    return len(rows)


def _like_voice(voice_dir: Path, stats: dict[str, Any], speakers: set[str]
                ) -> list[dict[str, Any]]:
    """The voice's speaker table and, in ``stats``, its log-F0 normalization
    (``PrepareConfig.like_voice``); every one of the corpus's ``speakers`` must be the voice's."""
    from tts.voice import VoiceError, read_voice

    try:
        voice = read_voice(voice_dir)
    except VoiceError as exc:
        raise PrepareError(f"--like {voice_dir}: {exc}") from None
    theirs = [speaker.id for speaker in voice.speakers]
    strangers = sorted(speakers - set(theirs))
    if strangers:
        raise PrepareError(
            f"--like {voice_dir}: the voice has no speaker {', '.join(strangers)} (it has "
            f"{', '.join(theirs)}); leave them out with --speakers, or prepare without --like "
            "(a new speaker joins a voice through tts adapt)")
    measured = stats["log_f0"]
    stats["log_f0"] = {**measured, "mean": voice.conditioning.log_f0_mean,
                       "std": voice.conditioning.log_f0_std, "like_voice": str(voice_dir),
                       "measured_mean": measured["mean"], "measured_std": measured["std"]}
    fields = ("id", "index", "gender", "age", "accent", "region", "source")
    return [{key: getattr(speaker, key) for key in fields} for speaker in voice.speakers]


def _merge_skipped(prep: Path, stages_run: set[str], new: list[dict[str, str]]) -> list[dict]:
    """Records of the stages that ran now replace theirs; other stages' records are kept."""
    kept: list[dict[str, str]] = []
    path = prep / "skipped.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("stage") not in stages_run:
                    kept.append(record)
    order = {name: i for i, name in enumerate(("scan", *STAGES.values()))}
    merged = kept + new
    merged.sort(key=lambda r: (order.get(r.get("stage"), 99), r.get("utt_id", "")))
    return merged


def prepare(config: PrepareConfig) -> dict[str, Any]:
    """Run stages ``config.stage``..``config.stop_stage``; returns a summary of the run."""
    _check_config(config)
    config.prep_dir = Path(config.prep_dir)
    corpus = scan_corpus(config)
    logger.info("%s layout in %s: %d utterances of %d speakers",
                f"VCTK {corpus.layout}" if corpus.layout[0].isdigit() else corpus.layout,
                corpus.root,
                len(corpus.items), len({i.speaker for i in corpus.items}))
    skipped: list[dict[str, str]] = list(corpus.skipped)
    stages_run = {"scan"}
    manifest_rows = None
    with _exclusive_lock(config.prep_dir):
        removed = _remove_stale_temporaries(config.prep_dir)
        if removed:
            logger.info("removed %d temporary file(s) of an interrupted run", removed)
        try:
            for stage in range(config.stage, config.stop_stage + 1):
                stages_run.add(STAGES[stage])
                if stage == 2 and config.labels == "flite":
                    _run_file_stage(stage, corpus.items, config, skipped,
                                    (_flite_sources(corpus),))
                elif stage < 5:
                    _run_file_stage(stage, corpus.items, config, skipped)
                else:
                    manifest_rows = _run_manifest_stage(corpus, config, skipped)
        finally:
            # Even an interrupted run reports what it skipped so far.
            records = _merge_skipped(config.prep_dir, stages_run, skipped)
            write_jsonl_atomic(config.prep_dir / "skipped.jsonl", records)
    new_skips = [r for r in records if r["stage"] in stages_run]
    if new_skips:
        logger.warning("skipped %d file(s); reasons in %s", len(new_skips),
                       config.prep_dir / "skipped.jsonl")
    return {"layout": corpus.layout, "utterances": len(corpus.items),
            "manifest_rows": manifest_rows, "skipped": len(new_skips)}


def _check_config(config: PrepareConfig) -> None:
    if not (1 <= config.stage <= config.stop_stage <= max(STAGES)):
        raise PrepareError(f"need 1 <= --stage <= --stop-stage <= {max(STAGES)}, got "
                           f"{config.stage} and {config.stop_stage}")
    if config.jobs < 1:
        raise PrepareError(f"--jobs must be >= 1, got {config.jobs}")
    if config.mic not in ("mic1", "mic2"):
        raise PrepareError(f"--mic must be mic1 or mic2, got {config.mic!r}")
    if config.f0_method not in F0_METHODS:
        raise PrepareError(f"--f0-method must be one of {', '.join(F0_METHODS)}, "
                           f"got {config.f0_method!r}")
    if config.valid < 0 or config.test < 0:
        raise PrepareError("--valid and --test must be >= 0 (a fraction below 1, or a count)")
    if config.labels not in ("forced", "flite"):
        raise PrepareError(f"--labels must be forced or flite, got {config.labels!r}")


# ---------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recipes.vctk.prepare",
        description="Prepare a VCTK corpus (0.92 or 0.80 layout, or the demo corpus) for "
                    "training. Stages: " + ", ".join(f"{k} {v}" for k, v in STAGES.items()),
    )
    parser.add_argument("corpus_dir", type=Path, help="the VCTK download (or the demo corpus)")
    parser.add_argument("prep_dir", type=Path, help="where the prepared corpus goes")
    parser.add_argument("--stage", type=int, default=1, help="first stage to run (default 1)")
    parser.add_argument("--stop-stage", type=int, default=5, help="last stage to run (default 5)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--mic", default="mic1", choices=("mic1", "mic2"),
                        help="VCTK 0.92 microphone (default mic1)")
    parser.add_argument("--f0-method", default="praat", choices=F0_METHODS,
                        help="praat (default: fast, reliable voicing), harvest or dio (pyworld)")
    parser.add_argument("--f0-single-pass", action="store_true",
                        help="one F0 search over 60-600 Hz instead of a second pass inside each "
                             "utterance's own range (the default; removes octave jumps)")
    parser.add_argument("--speakers", default="",
                        help="comma-separated speaker ids, e.g. p225,p226 (default: all)")
    parser.add_argument("--max-per-speaker", type=int, default=0,
                        help="prepare at most N utterances per speaker (default: all)")
    parser.add_argument("--valid", type=float, default=0.05,
                        help="validation utterances per speaker: a fraction < 1 or a count")
    parser.add_argument("--test", type=float, default=0.05,
                        help="test utterances per speaker: a fraction < 1 or a count")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--labels", default="forced", choices=("forced", "flite"),
                        help="phone durations from forced alignment (default), or, for the "
                             "demo corpus, from flite's own phone times")
    parser.add_argument("--no-cond", action="store_true",
                        help="stage 5 without the WaveNet conditioning: split, statistics and "
                             "a manifest without cond, for a corpus that only trains the "
                             "duration and F0 models")
    parser.add_argument("--like", metavar="VOICE", type=Path, default=None,
                        help="number the speakers as VOICE does and normalize the WaveNet "
                             "conditioning with its log-F0 statistics, for training VOICE's "
                             "WaveNet on (train.init=all:VOICE) with this corpus or a subset")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Our own progress at INFO; the libraries' per-file chatter (resampling, ...) stays quiet.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logger.setLevel(logging.WARNING if args.quiet else logging.INFO)
    # pyworld 0.3.5 warns about pkg_resources once per worker process at import.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    config = PrepareConfig(
        corpus_dir=args.corpus_dir, prep_dir=args.prep_dir, stage=args.stage,
        stop_stage=args.stop_stage, jobs=args.jobs, mic=args.mic, f0_method=args.f0_method,
        f0_two_pass=not args.f0_single_pass,
        speakers=tuple(s.strip() for s in args.speakers.split(",") if s.strip()),
        max_per_speaker=args.max_per_speaker, valid=args.valid, test=args.test, seed=args.seed,
        progress=not args.no_progress, labels=args.labels, cond=not args.no_cond,
        like_voice=args.like,
    )
    try:
        summary = prepare(config)
    except PrepareError as exc:
        print(f"prepare: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("prepare: interrupted; what was written is complete, rerun to continue",
              file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"prepare: error: {exc}", file=sys.stderr)
        return 1
    if summary["manifest_rows"] is not None:
        logger.info("manifest: %d utterances in %s", summary["manifest_rows"],
                    config.prep_dir / MANIFEST_NAME)
    return 0


if __name__ == "__main__":
    # Through the package, so that worker processes find the functions under their real name.
    from recipes.vctk.prepare import main as _main

    sys.exit(_main())
