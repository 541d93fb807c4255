"""Per speaker of a demo corpus: how much training audio it has, and what its flite teacher does.

Tells a speaker the WaveNet saw less of from one whose teacher is harder to learn. Tables:

    corpus     (CORPUS, a demo corpus in the VCTK layout) utterances, seconds as rendered,
               seconds left after the preparation's silence trim (``recipes.vctk.prepare``'s
               defaults), and that as a share of the table's speakers': training windows are
               drawn in proportion to frames (``vocoder.data``), so over all the corpus's
               speakers this is the speaker's share of them
    manifest   (--prep PREP) train/valid/test utterances and train seconds in PREP's manifest,
               and how many of its align files carry flite's phone times (``recipes.demo.relabel``)
    teacher    (--teacher-sentences N) the first N of the speaker's corpus sentences rendered
               again with ``-psdur``: F0 5th/50th/95th percentiles (Hz, two-pass Praat as the
               preparation measures them) of the speaker's source, and of the same flite voice
               with no ``int_f0_target_*`` setting (the pitch its recordings were made at); the
               distance of the medians in semitones; sentences whose phones relabel cannot map
               to ours (they keep forced alignments); and the median and largest distance (ms)
               between a pause flite reports inside the sentence and the silence in its audio
               (0 when flite's times match its audio)

    python benchmarks/speaker_data.py data/demo/vctk
    python benchmarks/speaker_data.py data/demo/vctk --prep data/demo/prep --speakers p225,p233 \\
        --teacher-sentences 20
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ is not an installed package

from benchmarks.intelligibility import short_source  # noqa: E402
from frontend.audio import (  # noqa: E402
    SAMPLE_RATE,
    AudioError,
    load_audio,
    num_frames,
    trim_silence,
)
from frontend.phonemes import PAUSE  # noqa: E402
from frontend.pitch import extract_f0  # noqa: E402
from recipes.demo.flite import FliteError, parse_flite_args, render_with_phone_times  # noqa: E402
from recipes.demo.make_corpus import CorpusError, parse_speaker_info_line  # noqa: E402
from recipes.demo.relabel import LABELS_SOURCE, timed_utterance  # noqa: E402
from recipes.vctk.prepare import PrepareConfig  # noqa: E402
from tts_common.corpus import read_corpus  # noqa: E402

PROG = "speaker_data"
HOP_LENGTH = 80  # the F0 frame of the corpus preparation (5 ms)
F0_TARGET_SETTINGS = ("int_f0_target_mean", "int_f0_target_stddev")
SILENCE_DB = -40.0  # a frame this far below the loudest is silent (the pause check)
MIN_PAUSE_S = 0.05  # pauses shorter than this are not checked against the audio


class BenchmarkError(ValueError):
    """Unusable input; the message says what to change."""


def read_sources(corpus: Path) -> dict[str, str]:
    """{speaker id: its flite command line} from ``corpus/speaker-info.txt``."""
    path = corpus / "speaker-info.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
    except OSError as exc:
        raise BenchmarkError(f"cannot read {path}: {exc}: is {corpus} a demo corpus?") from None
    sources = {}
    for line in lines:
        try:
            info = parse_speaker_info_line(line)
        except CorpusError as exc:
            raise BenchmarkError(f"{path}: {exc}") from None
        if info is not None and info.get("source"):
            sources[info["id"]] = info["source"]
    if not sources:
        raise BenchmarkError(f"{path} names no speaker with a SOURCE= flite command")
    return sources


def corpus_seconds(corpus: Path, speaker: str, limit: int | None) -> dict[str, float]:
    """Utterances, seconds and seconds after the preparation's trim of one speaker."""
    defaults = {f.name: f.default for f in dataclasses.fields(PrepareConfig)}
    margin = int(round(defaults["trim_margin_ms"] * SAMPLE_RATE / 1000))
    files = sorted((corpus / "wav48_silence_trimmed" / speaker).glob("*.flac"))[:limit]
    rendered = trimmed = 0
    for path in files:
        try:
            audio = load_audio(path, SAMPLE_RATE)
        except AudioError as exc:
            raise BenchmarkError(str(exc)) from None
        _, (start, end) = trim_silence(audio, SAMPLE_RATE, top_db=defaults["trim_top_db"])
        rendered += len(audio)
        trimmed += min(len(audio), end + margin) - max(0, start - margin)
    return {"utterances": len(files), "seconds": rendered / SAMPLE_RATE,
            "trimmed_seconds": trimmed / SAMPLE_RATE}


def manifest_counts(prep: Path) -> dict[str, dict[str, float]]:
    """Per speaker: utterances per split, train seconds, align files with flite's times."""
    corpus = read_corpus(prep, BenchmarkError, ("speaker", "split", "num_frames"))
    hop = int(corpus.stats.get("hop_length", HOP_LENGTH))
    rate = int(corpus.stats.get("sample_rate", SAMPLE_RATE))
    counts: dict[str, dict[str, float]] = {}
    for entry in corpus.manifest:
        row = counts.setdefault(entry["speaker"], {"train": 0, "valid": 0, "test": 0,
                                                   "train_seconds": 0.0, "flite_times": 0,
                                                   "align_files": 0})
        row[entry["split"]] += 1
        if entry["split"] == "train":
            row["train_seconds"] += int(entry["num_frames"]) * hop / rate
    for speaker, row in counts.items():
        for path in (prep / "align" / speaker).glob("*.json"):
            row["align_files"] += 1
            # The marker relabel writes; reading the whole record is not needed for it.
            row["flite_times"] += f'"labels_source": "{LABELS_SOURCE}"' in path.read_text(
                encoding="utf-8")
    return counts


def natural_args(flite_args: list[str]) -> list[str]:
    """The same flite voice and rate without the pitch targets: the voice's own F0."""
    kept: list[str] = []
    pairs = iter(flite_args)
    for arg in pairs:
        if arg == "--setf":
            value = next(pairs, "")
            if value.partition("=")[0] not in F0_TARGET_SETTINGS:
                kept += [arg, value]
        else:
            kept.append(arg)
    return kept


def voiced_f0(audio: np.ndarray) -> np.ndarray:
    f0_hz, voiced = extract_f0(audio, SAMPLE_RATE, HOP_LENGTH, method="praat", two_pass=True)
    return f0_hz[voiced]


def pause_offsets_ms(audio: np.ndarray, phone_ends: Sequence[tuple[str, float]]) -> list[float]:
    """For each pause flite reports inside the sentence, the distance (ms) from its centre to
    the centre of the nearest silent stretch of the audio."""
    frame = int(0.005 * SAMPLE_RATE)
    frames = len(audio) // frame
    energy = np.sqrt(np.mean(audio[:frames * frame].reshape(frames, frame) ** 2, axis=1) + 1e-12)
    silent = np.concatenate([[False], 20 * np.log10(energy / energy.max()) < SILENCE_DB, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(int)))  # starts and ends of silent runs
    runs = [(a * 0.005, b * 0.005) for a, b in zip(edges[::2], edges[1::2])
            if (b - a) * 0.005 >= MIN_PAUSE_S * 0.8]
    offsets, start = [], 0.0
    for phone, end in phone_ends:
        if phone == PAUSE and end - start >= MIN_PAUSE_S and runs:
            centre = (start + end) / 2
            offsets.append(1000.0 * min(abs((a + b) / 2 - centre) for a, b in runs))
        start = end
    return offsets


def teacher_figures(corpus: Path, speaker: str, source: str, count: int) -> dict[str, float]:
    """F0 of the source and of its voice's own pitch, relabel failures, pause offsets."""
    from frontend.features import text_to_utterance

    try:
        flite_args = parse_flite_args(source)
    except FliteError as exc:
        raise BenchmarkError(f"speaker {speaker}: {exc}") from None
    texts = [p.read_text(encoding="utf-8").strip()
             for p in sorted((corpus / "txt" / speaker).glob("*.txt"))[:count]]
    if not texts:
        raise BenchmarkError(f"{corpus / 'txt' / speaker} holds no transcripts")
    source_f0, natural_f0, offsets, unmapped = [], [], [], 0
    for text in texts:
        audio, phone_ends = render_with_phone_times(text, flite_args)
        source_f0.append(voiced_f0(audio))
        natural_audio, _ = render_with_phone_times(text, natural_args(flite_args))
        natural_f0.append(voiced_f0(natural_audio))
        offsets += pause_offsets_ms(audio, phone_ends)
        timed = timed_utterance(text_to_utterance(text), phone_ends, 0.0,
                                len(audio) / SAMPLE_RATE, num_frames(len(audio), HOP_LENGTH),
                                HOP_LENGTH / SAMPLE_RATE)
        unmapped += isinstance(timed, str)
    ours, natural = np.concatenate(source_f0), np.concatenate(natural_f0)
    figures = {"sentences": len(texts), "unmapped": unmapped,
               "natural_f0": [float(x) for x in np.percentile(natural, (5, 50, 95))],
               "source_f0": [float(x) for x in np.percentile(ours, (5, 50, 95))],
               "pauses": len(offsets),
               "pause_offset_median_ms": float(np.median(offsets)) if offsets else float("nan"),
               "pause_offset_max_ms": float(np.max(offsets)) if offsets else float("nan")}
    figures["shift_semitones"] = 12.0 * float(np.log2(figures["source_f0"][1]
                                                      / figures["natural_f0"][1]))
    return figures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the demo corpus (data/demo/vctk)")
    parser.add_argument("--prep", type=Path, default=None,
                        help="a prepared corpus of it: its manifest's counts per speaker")
    parser.add_argument("--speakers", default=None, help="comma-separated ids (default: all)")
    parser.add_argument("--max-per-speaker", type=int, default=None,
                        help="read at most N recordings per speaker (default: all)")
    parser.add_argument("--teacher-sentences", type=int, default=0,
                        help="render N of each speaker's sentences again for the teacher table "
                             "(default 0: no teacher table)")
    args = parser.parse_args(argv)
    if args.teacher_sentences < 0:
        parser.error("--teacher-sentences must be >= 0")
    if args.max_per_speaker is not None and args.max_per_speaker < 1:
        parser.error("--max-per-speaker must be >= 1")
    return args


def run(args: argparse.Namespace) -> list[str]:
    """The tables, as markdown lines."""
    sources = read_sources(args.corpus)
    speakers = ([s.strip() for s in args.speakers.split(",") if s.strip()] if args.speakers
                else sorted(sources))
    unknown = [s for s in speakers if s not in sources]
    if unknown or not speakers:
        raise BenchmarkError(f"{args.corpus} has no speaker {', '.join(unknown) or '(none named)'}"
                             f": choose from {', '.join(sorted(sources))}")
    seconds = {s: corpus_seconds(args.corpus, s, args.max_per_speaker) for s in speakers}
    total = sum(row["trimmed_seconds"] for row in seconds.values())
    lines = ["| speaker | source | utterances | seconds | after trim | share of frames % |",
             "|---|---|---|---|---|---|"]
    for s in speakers:
        row = seconds[s]
        lines.append(f"| {s} | {short_source(parse_flite_args(sources[s]))} | "
                     f"{row['utterances']} | {row['seconds']:.0f} | {row['trimmed_seconds']:.0f} | "
                     f"{100.0 * row['trimmed_seconds'] / max(total, 1e-9):.1f} |")
    if args.prep is not None:
        counts = manifest_counts(args.prep)
        lines += ["", f"| speaker | train | valid | test | train seconds | align files with "
                      f"flite's times ({args.prep}) |", "|---|---|---|---|---|---|"]
        for s in speakers:
            row = counts.get(s)
            lines.append("| {} | - | - | - | - | - |".format(s) if row is None else
                         f"| {s} | {row['train']} | {row['valid']} | {row['test']} | "
                         f"{row['train_seconds']:.0f} | {row['flite_times']} of "
                         f"{row['align_files']} |")
    if args.teacher_sentences:
        lines += ["", "| speaker | sentences | voice's own F0 Hz (5/50/95 %) | source F0 Hz "
                      "(5/50/95 %) | shift semitones | unmappable for relabel | pauses checked "
                      "| pause vs audio silence ms (median / max) |",
                  "|---|---|---|---|---|---|---|---|"]
        for s in speakers:
            m = teacher_figures(args.corpus, s, sources[s], args.teacher_sentences)
            lines.append(
                f"| {s} | {m['sentences']} | {'/'.join(f'{x:.0f}' for x in m['natural_f0'])} | "
                f"{'/'.join(f'{x:.0f}' for x in m['source_f0'])} | "
                f"{m['shift_semitones']:+.1f} | {m['unmapped']} | {m['pauses']} | "
                f"{m['pause_offset_median_ms']:.0f} / {m['pause_offset_max_ms']:.0f} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        lines = run(args)
    except (BenchmarkError, FliteError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
