"""Render the synthetic demo corpus with flite, in the VCTK 0.92 layout.

    python -m recipes.demo.make_corpus OUT_DIR [--speakers N] [--sentences-per-speaker N]
                                               [--jobs N] [--seed S] [--sentences SET]

writes
    OUT_DIR/speaker-info.txt                                  VCTK columns + SOURCE= flite options
    OUT_DIR/txt/pNNN/pNNN_SSS.txt                             the sentence, one line
    OUT_DIR/wav48_silence_trimmed/pNNN/pNNN_SSS_mic1.flac     48 kHz mono 16-bit FLAC

Speakers are flite voices (slt, awb, rms, kal16) with their own pitch and speaking-rate
settings, named with VCTK ids from p225 on, genders as in VCTK's speaker-info (female ids are
slt, or awb/kal16 with the pitch raised). Every 20th sentence of a speaker (001, 021, ...) is
shared by all speakers, the rest are the speaker's own; more sentences per speaker only append,
so a bigger corpus extends a smaller one. Rendering resumes: finished utterances are skipped,
and files appear atomically, so an interrupted run leaves no half-written audio.

``--sentences varied`` renders ``recipes.demo.sentences.varied_sentences`` instead of the
training templates (extra text for the duration and F0 models; same speakers and settings),
into a corpus of its own: its utterances are numbered pNNN_v001, ... so that they never share
an id with the main corpus's pNNN_001, ... when both are trained on. ``--sentences lexical``
renders ``lexical_sentences`` (the varied sentences with their content words swapped for other
CMUdict words of as many syllables: the teachers' timing of words never seen before), numbered
pNNN_x001, ...; ``--sentences short`` renders ``short_sentences`` (4-12 words, mostly of one
syllable: the rhythm of plain text), numbered pNNN_s001, ...
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

from recipes.demo.flite import SAMPLE_RATE as FLITE_SAMPLE_RATE
from recipes.demo.flite import parse_flite_args, render
from recipes.demo.sentences import (
    lexical_sentences, short_sentences, training_sentences, varied_sentences,
)
from tts_common.files import atomic_file

logger = logging.getLogger(__name__)

SAMPLE_RATE = 48000
SPEAKER_INFO_HEADER = "ID  AGE  GENDER  ACCENTS  REGION COMMENTS "
SOURCE_MARKER = "SOURCE="
REGION = "Synthetic"
SHARED_EVERY = 20  # VCTK speakers share a few sentences; here 001, 021, 041, ...
MAX_SENTENCES_PER_SPEAKER = 999  # VCTK numbers utterances with three digits
TARGET_MINUTES_PER_SPEAKER = 30.0
# Measured over each speaker's first 60 sentences (silences included): mean utterance length
# 3.26 s for the fastest speaker (p244), 3.31 s for the fastest default one (p232), 3.9 s on
# average. 580 sentences give every speaker of the table >= 31 minutes.
DEFAULT_SENTENCES_PER_SPEAKER = 580
DEFAULT_SPEAKERS = 10
# sentence source -> (generator, utterance number prefix)
SENTENCE_SOURCES: dict[str, tuple[Callable[[int, int], list[str]], str]] = {
    "templates": (training_sentences, ""),
    "varied": (varied_sentences, "v"),
    "lexical": (lexical_sentences, "x"),
    "short": (short_sentences, "s"),
}


class CorpusError(ValueError):
    """A corpus directory or setting that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class DemoSpeaker:
    """One synthetic speaker: a flite voice and the settings that make it distinct."""

    speaker_id: str  # VCTK id, e.g. "p225"
    age: int  # VCTK's age for the id, kept so that the file reads like VCTK's
    gender: str  # "F" or "M", as VCTK lists the id
    accent: str  # the accent of the flite voice's original speaker
    voice: str  # flite -voice
    duration_stretch: float  # > 1 speaks slower
    f0_mean: float | None = None  # Hz; None for rms, whose F0 model ignores it (measured)
    f0_stddev: float | None = None  # Hz; None keeps the voice's own

    @property
    def flite_args(self) -> list[str]:
        args = ["-voice", self.voice]
        if self.f0_mean is not None:
            args += ["--setf", f"int_f0_target_mean={self.f0_mean:g}"]
        if self.f0_stddev is not None:
            args += ["--setf", f"int_f0_target_stddev={self.f0_stddev:g}"]
        return args + ["--setf", f"duration_stretch={self.duration_stretch:g}"]

    @property
    def source(self) -> str:
        """The exact flite command line (without -t/-o) that renders this speaker."""
        return " ".join(["flite", *self.flite_args])

    def speaker_info_line(self) -> str:
        return (f"{self.speaker_id}  {self.age}  {self.gender}    {self.accent}    {REGION}  "
                f"{SOURCE_MARKER}{self.source}")


# Measured with pyworld on 10 sentences (median F0): slt follows int_f0_target_mean closely
# (150 -> 148 Hz, 235 -> 228 Hz) but hardly int_f0_target_stddev; awb and kal16 follow both
# (awb 200 -> 190 Hz, kal16 190 -> 189 Hz); rms ignores both and stays at ~102 Hz. All four
# follow duration_stretch. kal16's own default stretch is 1.1, so it is always set explicitly.
SPEAKERS: tuple[DemoSpeaker, ...] = (
    DemoSpeaker("p225", 23, "F", "American", "slt", 1.0, f0_mean=175),
    DemoSpeaker("p226", 22, "M", "Scottish", "awb", 1.0, f0_mean=125),
    DemoSpeaker("p227", 38, "M", "American", "rms", 1.0),
    DemoSpeaker("p228", 22, "F", "American", "slt", 0.9, f0_mean=210),
    DemoSpeaker("p229", 23, "F", "American", "slt", 1.1, f0_mean=150),
    DemoSpeaker("p230", 22, "F", "Scottish", "awb", 1.0, f0_mean=205, f0_stddev=30),
    DemoSpeaker("p231", 23, "F", "American", "slt", 1.05, f0_mean=240),
    DemoSpeaker("p232", 23, "M", "American", "kal16", 1.0, f0_mean=105),
    DemoSpeaker("p233", 23, "F", "American", "kal16", 1.05, f0_mean=195, f0_stddev=30),
    DemoSpeaker("p234", 22, "F", "American", "slt", 1.15, f0_mean=190),
    DemoSpeaker("p236", 23, "F", "American", "slt", 0.92, f0_mean=160),
    DemoSpeaker("p237", 22, "M", "Scottish", "awb", 1.12, f0_mean=105),
    DemoSpeaker("p238", 22, "F", "Scottish", "awb", 0.95, f0_mean=225),
    DemoSpeaker("p239", 22, "F", "American", "slt", 1.0, f0_mean=255),
    DemoSpeaker("p240", 21, "F", "American", "slt", 0.95, f0_mean=140),
    DemoSpeaker("p241", 21, "M", "American", "rms", 0.9),
    DemoSpeaker("p243", 22, "M", "American", "kal16", 1.12, f0_mean=125, f0_stddev=25),
    DemoSpeaker("p244", 22, "F", "American", "kal16", 0.95, f0_mean=215),
    DemoSpeaker("p245", 25, "M", "Scottish", "awb", 0.92, f0_mean=150),
)
_SLOTS_PER_BLOCK = len(SPEAKERS) + 1  # one pool slot per speaker, plus one for shared sentences


@dataclass(frozen=True)
class PlannedRecording:
    """One sentence that a demo speaker is to be rendered saying."""

    speaker: DemoSpeaker
    utterance_id: str  # "p225_001"
    text: str

    def txt_path(self, corpus: Path) -> Path:
        return corpus / "txt" / self.speaker.speaker_id / f"{self.utterance_id}.txt"

    def audio_path(self, corpus: Path) -> Path:
        return (corpus / "wav48_silence_trimmed" / self.speaker.speaker_id
                / f"{self.utterance_id}_mic1.flac")


def _pool_index(speaker_index: int, position: int) -> int:
    """Index into the sentence pool of a speaker's sentence at ``position`` (0-based).

    The pool is laid out in blocks of one slot per table speaker plus one shared slot, so a
    speaker's k-th own sentence never depends on how many speakers or sentences were asked for.
    """
    shared_so_far = position // SHARED_EVERY + 1
    if position % SHARED_EVERY == 0:
        return (shared_so_far - 1) * _SLOTS_PER_BLOCK + len(SPEAKERS)
    own = position - shared_so_far
    return own * _SLOTS_PER_BLOCK + speaker_index


def plan_utterances(speakers: int, sentences_per_speaker: int, seed: int = 0,
                    sentences: str = "templates") -> list[PlannedRecording]:
    """Every utterance of a corpus, speaker by speaker, in reading order."""
    if sentences not in SENTENCE_SOURCES:
        raise CorpusError(f"unknown sentence source {sentences!r}: use one of "
                          f"{', '.join(SENTENCE_SOURCES)}")
    generate, prefix = SENTENCE_SOURCES[sentences]
    if not 1 <= speakers <= len(SPEAKERS):
        raise CorpusError(f"--speakers must be between 1 and {len(SPEAKERS)}, got {speakers}")
    if not 1 <= sentences_per_speaker <= MAX_SENTENCES_PER_SPEAKER:
        raise CorpusError(
            f"--sentences-per-speaker must be between 1 and {MAX_SENTENCES_PER_SPEAKER} "
            f"(VCTK's three-digit numbering), got {sentences_per_speaker}"
        )
    indexes = [[_pool_index(k, i) for i in range(sentences_per_speaker)] for k in range(speakers)]
    pool = generate(max(max(row) for row in indexes) + 1, seed)
    return [
        PlannedRecording(SPEAKERS[k], f"{SPEAKERS[k].speaker_id}_{prefix}{i + 1:03d}",
                         pool[index])
        for k, row in enumerate(indexes)
        for i, index in enumerate(row)
    ]


def parse_speaker_info_line(line: str) -> dict[str, str] | None:
    """One speaker-info.txt row as a dict (id, age, gender, accent, region, source).

    The rule (documented in README.md): whitespace-separated, the first four fields are ID,
    AGE, GENDER and ACCENTS; the source is everything after ``SOURCE=``, and REGION is what is
    left between ACCENTS and ``SOURCE=``. Returns None for the header and blank lines.
    """
    body, _, source = line.partition(SOURCE_MARKER)
    fields = body.split()
    if not fields or fields[0] == "ID":
        return None
    if len(fields) < 4:
        raise CorpusError(f"speaker-info line has fewer than 4 columns: {line.strip()!r}")
    return {"id": fields[0], "age": fields[1], "gender": fields[2], "accent": fields[3],
            "region": " ".join(fields[4:]), "source": source.strip()}


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp_path)`` then rename, so that ``path`` is either absent or complete."""
    with atomic_file(path, suffix=".partial") as tmp:  # a killed run's are removed on rerun
        write(tmp)


def _write_text(path: Path, text: str) -> None:
    _write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _prepare_directory(corpus: Path,
                       utterances: Sequence[PlannedRecording]) -> list[PlannedRecording]:
    """Check ``corpus`` against the plan and return the utterances still to render.

    Refuses (before touching anything) a directory whose existing transcripts or speaker-info
    differ from what this run would write: mixing two settings would corrupt both.
    """
    if corpus.exists() and not corpus.is_dir():
        raise CorpusError(f"{corpus} is a file, not a directory: give a directory for the corpus")
    info_path = corpus / "speaker-info.txt"
    table = {s.speaker_id: s for s in SPEAKERS}
    listed: set[str] = set()
    if info_path.is_file():
        for line in info_path.read_text(encoding="utf-8").splitlines():
            row = parse_speaker_info_line(line)
            if row is None:
                continue
            if row["id"] not in table or line.strip() != table[row["id"]].speaker_info_line():
                raise CorpusError(
                    f"{info_path} lists {row['id']} differently from this version of the recipe: "
                    f"render into a new directory"
                )
            listed.add(row["id"])
    todo = []
    for utterance in utterances:
        txt_path = utterance.txt_path(corpus)
        if txt_path.is_file():
            if txt_path.read_text(encoding="utf-8").strip() != utterance.text:
                raise CorpusError(
                    f"{txt_path} holds a different sentence than this run would write: the "
                    f"directory was made with other settings (--seed?); use a new directory"
                )
            if utterance.audio_path(corpus).is_file():
                continue
        todo.append(utterance)

    try:
        corpus.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CorpusError(
            f"cannot create the corpus directory {corpus}: {exc.strerror}; choose a writable path"
        ) from None
    speaker_ids = listed | {u.speaker.speaker_id for u in utterances}
    for speaker_id in speaker_ids:
        for kind in ("txt", "wav48_silence_trimmed"):
            directory = corpus / kind / speaker_id
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.partial"):  # left by an interrupted run
                stale.unlink()
    lines = [SPEAKER_INFO_HEADER] + [s.speaker_info_line() for s in SPEAKERS
                                     if s.speaker_id in speaker_ids]
    info_text = "\n".join(lines) + "\n"
    if not info_path.is_file() or info_path.read_text(encoding="utf-8") != info_text:
        _write_text(info_path, info_text)
    return todo


def _refuse_other_sentences(corpus: Path, sentences: str) -> None:
    """A corpus holds one sentence source: refuse to add another's utterances to it."""
    prefix = SENTENCE_SOURCES[sentences][1]
    for path in corpus.glob("txt/*/*.txt"):
        number = path.stem.rpartition("_")[2]
        if not (number.startswith(prefix) and number[len(prefix):].isdigit()):
            raise CorpusError(f"{corpus} holds utterances of another sentence source "
                              f"({path.name}), not --sentences {sentences}: render into a new "
                              "directory")


def render_utterance(utterance: PlannedRecording, corpus: Path) -> float:
    """Render one utterance into the corpus; returns its duration in seconds."""
    audio16k = render(utterance.text, utterance.speaker.flite_args)  # (T,)
    audio48k = soxr.resample(audio16k, FLITE_SAMPLE_RATE, SAMPLE_RATE, quality="HQ")  # (3T,)
    # The resampler can overshoot full scale slightly; clip rather than wrap around.
    pcm = np.round(np.clip(audio48k, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    _write_atomically(
        utterance.audio_path(corpus),
        lambda tmp: sf.write(tmp, pcm, SAMPLE_RATE, format="FLAC", subtype="PCM_16"),
    )
    # The transcript goes last: an utterance counts as done only when both files exist. One
    # already there holds this text (checked before rendering) and is left alone.
    if not utterance.txt_path(corpus).is_file():
        _write_text(utterance.txt_path(corpus), utterance.text + "\n")
    return len(pcm) / SAMPLE_RATE


def make_corpus(
    out_dir: str | Path,
    speakers: int = 2,
    sentences_per_speaker: int = 3,
    jobs: int = 1,
    seed: int = 0,
    sentences: str = "templates",
) -> Path:
    """Render (or finish rendering) a demo corpus into ``out_dir``; returns its path.

    The small defaults make the tiny corpus tests use (2 speakers x 3 sentences, ~1 s); the
    command line defaults to the full corpus.
    """
    if jobs < 1:
        raise CorpusError(f"--jobs must be at least 1, got {jobs}")
    corpus = Path(out_dir)
    utterances = plan_utterances(speakers, sentences_per_speaker, seed, sentences)
    for speaker in SPEAKERS[:speakers]:
        parse_flite_args(speaker.flite_args)  # fails now, not after an hour, if flite lacks a voice
    _refuse_other_sentences(corpus, sentences)
    todo = _prepare_directory(corpus, utterances)
    logger.info("%s: %d utterances planned, %d already done, rendering %d with %d job(s)",
                corpus, len(utterances), len(utterances) - len(todo), len(todo), jobs)
    progress = tqdm(total=len(todo), unit="utt", desc="rendering", file=sys.stderr,
                    mininterval=2.0, disable=not todo)
    with progress:
        if jobs == 1:
            for utterance in todo:
                render_utterance(utterance, corpus)
                progress.update()
        else:
            # flite runs as a subprocess, so threads render in parallel.
            with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(render_utterance, u, corpus) for u in todo]
                for future in concurrent.futures.as_completed(futures):
                    future.result()
                    progress.update()
    if todo:
        _log_summary(corpus, utterances)
    return corpus


def _log_summary(corpus: Path, utterances: Sequence[PlannedRecording]) -> None:
    seconds: dict[str, float] = {}
    for utterance in utterances:
        info = sf.info(str(utterance.audio_path(corpus)))
        speaker_id = utterance.speaker.speaker_id
        seconds[speaker_id] = seconds.get(speaker_id, 0.0) + info.frames / info.samplerate
    for speaker_id, total in seconds.items():
        logger.info("%s: %.1f minutes", speaker_id, total / 60)
    logger.info("total: %.2f hours in %d utterances", sum(seconds.values()) / 3600, len(utterances))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recipes.demo.make_corpus",
        description="Render the synthetic flite demo corpus in the VCTK 0.92 layout.",
    )
    parser.add_argument("out_dir", type=Path, help="corpus directory (created if missing)")
    parser.add_argument("--speakers", type=int, default=DEFAULT_SPEAKERS,
                        help=f"number of speakers, 1-{len(SPEAKERS)} (default {DEFAULT_SPEAKERS})")
    parser.add_argument("--sentences-per-speaker", type=int, default=DEFAULT_SENTENCES_PER_SPEAKER,
                        help=f"default {DEFAULT_SENTENCES_PER_SPEAKER}: at least "
                             f"{TARGET_MINUTES_PER_SPEAKER:g} minutes per speaker")
    parser.add_argument("--jobs", type=int, default=1, help="parallel flite processes")
    parser.add_argument("--seed", type=int, default=0, help="sentence generator seed")
    parser.add_argument("--sentences", choices=tuple(SENTENCE_SOURCES), default="templates",
                        help="the training templates (default), or extra text for the duration "
                             "and F0 models into a corpus of its own: the varied set, the "
                             "lexical set (the varied one with other words), or the short set "
                             "(plain sentences of mostly one-syllable words)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        make_corpus(args.out_dir, args.speakers, args.sentences_per_speaker, args.jobs, args.seed,
                    args.sentences)
    except (ValueError, OSError) as exc:
        print(f"make_corpus: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
