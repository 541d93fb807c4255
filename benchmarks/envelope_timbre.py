"""Whose timbre does an excitation voice's predicted envelope have: its speaker's, or another
flite voice's at the same pitch?

The envelope network reads the frame features (phonemes, timing, F0) and no speaker identity,
so two speakers at one pitch get one envelope (unless the voice has ``speaker_envelopes``, a
head per speaker on the same network). This benchmark takes test-split utterances of a
prepared demo corpus, predicts their envelope from the ground-truth conditioning (as copy
synthesis does), and measures its distance from the recording and from the same sentence
rendered by every flite voice (slt, awb, rms, kal16) with the speaker's own pitch and rate
options. The distance: 80-band log-mel frames with each frame's mean removed (so loudness does
not count, only spectral shape), mean absolute difference in nats over the bands, averaged along
the DTW path (``tts.evaluation.dtw_path``); silence at the ends is trimmed first.

    predicted ↔ X   the predicted envelope against voice X's rendering (X = the speaker's own
                    voice: its recording)
    recording ↔ X   the recording against X's rendering: how far apart the timbres are
    last 0.5 s      the predicted envelope against the recording (same timing, frame by frame)
                    over the last half second of speech, and over the rest: where the pitch
                    falls at the end of a sentence, a speaker-blind envelope may drift further

A predicted envelope nearer another voice than its own speaker's recording is the majority
timbre of that pitch range leaking into a speaker the envelope cannot tell apart.

    python benchmarks/envelope_timbre.py --prep data/demo/prep_diag --speakers p225,p232,p233 \\
        --utterances 4
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ is not an installed package

from benchmarks.intelligibility import (  # noqa: E402
    BenchmarkError,
    check_conditioning_compatible,
    copy_conditioning,
    copy_entries,
    read_prepared,
    select_speakers,
    short_source,
    teacher_args,
)
from frontend.audio import SAMPLE_RATE, AudioError, load_audio, trim_silence  # noqa: E402
from recipes.demo.flite import FliteError, render  # noqa: E402
from tts.evaluation import dtw_path  # noqa: E402
from tts.synthesizer import SynthesisError, Synthesizer  # noqa: E402
from tts.voice import VoiceError  # noqa: E402
from vocoder.lpc import log_mel  # noqa: E402

PROG = "envelope_timbre"
FLITE_VOICES = ("slt", "awb", "rms", "kal16")
END_SECONDS = 0.5  # "the end of the sentence": its last half second of speech
END, REST = "predicted ↔ recording, last 0.5 s", "predicted ↔ recording, the rest"


def with_voice(flite_args: list[str], voice: str) -> list[str]:
    """The same flite options with ``-voice`` set to ``voice``."""
    args = list(flite_args)
    if "-voice" in args:
        args[args.index("-voice") + 1] = voice
    else:
        args = ["-voice", voice, *args]
    return args


def voice_of(flite_args: list[str]) -> str:
    return flite_args[flite_args.index("-voice") + 1] if "-voice" in flite_args else ""


def shape(log_mel_frames: np.ndarray) -> np.ndarray:
    """(bands, F) log-mel → (F, bands) with each frame's mean removed: spectral shape only."""
    frames = np.asarray(log_mel_frames, np.float64).T
    return frames - frames.mean(axis=1, keepdims=True)


def split_end(frame_errors: np.ndarray, hop: int) -> tuple[float, float]:
    """Mean of per-frame errors over the last ``END_SECONDS`` of speech, and over the rest."""
    last = max(1, min(len(frame_errors) - 1, int(round(END_SECONDS * SAMPLE_RATE / hop))))
    return float(frame_errors[-last:].mean()), float(frame_errors[:-last].mean())


def speech_frames(audio: np.ndarray, hop: int) -> slice:
    """The frames between the leading and trailing silence of ``audio``."""
    _, (start, end) = trim_silence(audio)
    return slice(start // hop, -(-end // hop))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a − b| over bands along the DTW path of two (frames, bands) shape sequences."""
    cost = np.stack([np.abs(a[i][None, :] - b).mean(axis=1) for i in range(len(a))])  # (N, M)
    path = dtw_path(cost)
    return float(cost[path[:, 0], path[:, 1]].mean())


def log_mel_of(audio: np.ndarray, basis: np.ndarray, hop: int) -> np.ndarray:
    audio = np.pad(audio, (0, (-len(audio)) % hop))
    return log_mel(audio, basis, hop)


def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, list[float]]], dict[str, str]]:
    """{speaker: {"predicted ↔ X" or "recording ↔ X": [distance per utterance]}}, and each
    speaker's source as a short label."""
    synth = Synthesizer.from_pretrained(args.voice, threads=1)
    generator = synth.generator
    if not generator.config.lpc_order:
        raise BenchmarkError("this voice's WaveNet models the waveform: it predicts no envelope "
                             "(the benchmark needs an excitation voice, lpc_order > 0)")
    hop, basis = generator.config.hop_length, generator.mel_basis
    corpus = read_prepared(args.prep)
    check_conditioning_compatible(synth, corpus)
    results: dict[str, dict[str, list[float]]] = {}
    sources: dict[str, str] = {}
    for speaker in select_speakers(synth, args.speakers):
        flite_args = teacher_args(speaker)
        if flite_args is None:
            raise BenchmarkError(f"speaker {speaker.id} has no flite source: the benchmark "
                                 "renders its sentences with other flite voices")
        sources[speaker.id] = short_source(flite_args)
        entries = copy_entries(corpus, speaker.id, args.utterances)
        if not entries:
            raise BenchmarkError(f"{speaker.id} has no test-split utterance in {corpus.directory}")
        row = results.setdefault(speaker.id, {})
        for entry in entries:
            try:
                recording = load_audio(corpus.directory / entry["wav"])
            except AudioError as exc:
                raise BenchmarkError(str(exc)) from None
            conditioning = copy_conditioning(synth, corpus, entry)
            predicted = generator.envelope(conditioning, speaker=speaker.index)  # (bands, F)
            recorded = log_mel_of(recording, basis, hop)[:, :predicted.shape[1]]
            inside = speech_frames(recording, hop)
            predicted_shape = shape(predicted[:, inside])
            recorded_shape = shape(recorded[:, inside])
            # The same timing: frame by frame, the end of the speech apart from the rest.
            end, rest = split_end(np.abs(predicted_shape - recorded_shape).mean(axis=1), hop)
            row.setdefault(END, []).append(end)
            row.setdefault(REST, []).append(rest)
            for voice in FLITE_VOICES:
                if voice == voice_of(flite_args):
                    other = recorded_shape
                else:
                    audio = render(entry["text"], with_voice(flite_args, voice))
                    other = shape(log_mel_of(audio, basis, hop)[:, speech_frames(audio, hop)])
                    row.setdefault(f"recording ↔ {voice}", []).append(
                        distance(recorded_shape, other))
                row.setdefault(f"predicted ↔ {voice}", []).append(
                    distance(predicted_shape, other))
    return results, sources


def format_table(results: dict[str, dict[str, list[float]]], sources: dict[str, str]) -> str:
    lines = ["| speaker | source | " + " | ".join(f"predicted ↔ {v}" for v in FLITE_VOICES)
             + " | " + " | ".join(f"recording ↔ {v}" for v in FLITE_VOICES)
             + f" | {END} | {REST} |", "|---|---|" + "---|" * (2 * len(FLITE_VOICES) + 2)]
    for speaker, row in results.items():
        cells = []
        for kind in ("predicted", "recording"):
            for voice in FLITE_VOICES:
                values = row.get(f"{kind} ↔ {voice}")
                cells.append("(own)" if values is None else f"{np.mean(values):.3f}")
        cells += [f"{np.mean(row[END]):.3f}", f"{np.mean(row[REST]):.3f}"]
        lines.append(f"| {speaker} | {sources[speaker]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=" ".join(
        __doc__.split("\n\n")[0].split()))
    parser.add_argument("--voice", default=None, help="voice directory (default: the bundled one)")
    parser.add_argument("--prep", required=True, help="the prepared demo corpus (its test split)")
    parser.add_argument("--speakers", default=None,
                        help="comma-separated speaker ids (default: all of the voice's)")
    parser.add_argument("--utterances", type=int, default=4,
                        help="test-split utterances per speaker (default 4)")
    args = parser.parse_args(argv)
    if args.utterances < 1:
        parser.error("--utterances must be >= 1")
    try:
        results, sources = run(args)
    except (BenchmarkError, VoiceError, SynthesisError, FliteError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(format_table(results, sources))
    return 0


if __name__ == "__main__":
    sys.exit(main())
