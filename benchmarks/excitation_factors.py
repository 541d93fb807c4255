"""Which half of an excitation voice loses the words: the sampled excitation or the envelope?

Copy synthesis of test-split recordings (ground-truth durations and F0, as in
``intelligibility.py --prep``), with the two halves of excitation mode swapped one at a time for
the recording's own:

    recording       the corpus recording itself
    voice           the WaveNet's sampled residual through the predicted envelope's filters
                    (what copy synthesis gives)
    true envelope   the same sampled residual through the filters of the recording's own log-mel
    true residual   the recording's residual (under its own filters, μ-law quantized as in
                    training) through the predicted envelope's filters

Per speaker, pocketsphinx WER of each (%); ``envelope L1``: the mean absolute difference
(nats) between the predicted log-mel envelope and the recording's own, the envelope training's
validation loss, per speaker; the RMS level (dBFS, over whole utterances) of the recordings and
of their residuals, what the WaveNet learns to draw in μ-law classes (a quiet residual uses
few of them); and the floor (dB) of the recording and of the voice: their level over the frames
where the recording is silent (40 dB below its loudest) relative to the other frames, how far
the sampled excitation's noise sits below the speech. The last line is ``excitation_gap X``:
the overall WER of "voice" minus that of "true residual", the words the sampled excitation
costs.

    python benchmarks/excitation_factors.py --prep data/demo/prep --speakers p225,p227,p232,p233 \\
        --utterances 6
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ and recipes/ are not installed packages

from benchmarks.intelligibility import (  # noqa: E402
    BenchmarkError,
    check_conditioning_compatible,
    copy_conditioning,
    copy_entries,
    read_prepared,
    select_speakers,
)
from frontend.audio import AudioError, load_audio  # noqa: E402
from tts.evaluation import Recognizer, transcript_words, word_errors  # noqa: E402
from tts.synthesizer import SynthesisError, Synthesizer  # noqa: E402
from tts.voice import VoiceError  # noqa: E402
from vocoder.lpc import inverse_filter, log_mel, mel_to_lpc, synthesis_filter  # noqa: E402
from vocoder.mulaw import mulaw_decode, mulaw_encode  # noqa: E402

PROG = "excitation_factors"
COLUMNS = ("recording", "voice", "true envelope", "true residual")
ENVELOPE_L1 = "envelope L1"
RECORDING_LEVEL, RESIDUAL_LEVEL = "recording dBFS", "residual dBFS"
EXTRA_COLUMNS = (ENVELOPE_L1, RECORDING_LEVEL, RESIDUAL_LEVEL)  # [sum, count] each
# The level of a signal where the recording is silent, relative to where it speaks:
# [power summed over silent frames, their count, the same over speech frames, their count].
FLOORS = ("recording floor dB", "voice floor dB")
SILENT_DB = 40.0  # a recording's frame this far below its loudest is silent (prepare's trim)


def floor_powers(signal: np.ndarray, recording: np.ndarray, hop: int) -> list[float]:
    """``signal``'s power summed over the recording's silent frames, their count, and the same
    over its other frames (both signals have whole frames of ``hop`` samples)."""
    frames = len(recording) // hop

    def power(x: np.ndarray) -> np.ndarray:
        return np.mean(np.square(x[:frames * hop].reshape(frames, hop), dtype=np.float64), 1)
    reference = power(recording)
    silent = reference < reference.max() * 10.0 ** (-SILENT_DB / 10.0)
    own = power(signal)
    return [float(own[silent].sum()), float(silent.sum()),
            float(own[~silent].sum()), float((~silent).sum())]


def own_residual(synth: Synthesizer, recording: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The recording's own LPC filters (F, order + 1) and its residual under them, float32 in
    [-1, 1] before μ-law, as training derives them (``LPCSpec.residual``)."""
    generator = synth.generator
    config, basis, hop = generator.config, generator.mel_basis, generator.config.hop_length
    own = mel_to_lpc(log_mel(recording, basis, hop), basis, config.lpc_order, config.sample_rate)
    return own, np.clip(inverse_filter(recording, own, hop), -1.0, 1.0).astype(np.float32)


def variants(synth: Synthesizer, conditioning: np.ndarray, speaker_index: int,
             recording: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The four signals of one utterance (float32, the conditioning's length)."""
    generator = synth.generator
    config = generator.config
    if not config.lpc_order:
        raise BenchmarkError("this voice's WaveNet models the waveform, not an excitation: "
                             "the benchmark needs an excitation voice (lpc_order > 0)")
    prepared = generator.prepare([conditioning], [speaker_index])
    length = int(prepared.num_samples[0])
    recording = np.pad(recording, (0, max(0, length - len(recording))))[:length]
    state = generator.init_state(1, [seed])
    drawn, _ = generator.run(state, prepared, length, synth.temperature)
    sampled = mulaw_decode(drawn[0], config.quantization_channels)  # (N,)
    predicted = prepared.filters[0]  # (F, order + 1)
    hop = config.hop_length
    own, residual = own_residual(synth, recording)
    residual = mulaw_decode(mulaw_encode(residual, config.quantization_channels),
                            config.quantization_channels)
    signals = {"recording": recording,
               "voice": synthesis_filter(sampled, predicted, hop),
               "true envelope": synthesis_filter(sampled, own[:len(predicted)], hop),
               "true residual": synthesis_filter(residual, predicted, hop)}
    return {k: np.clip(np.asarray(v, np.float32), -1.0, 1.0) for k, v in signals.items()}


def envelope_error(synth: Synthesizer, conditioning: np.ndarray, speaker_index: int,
                   recording: np.ndarray) -> tuple[float, int]:
    """Sum over frames and bands of |predicted log-mel − the recording's|, and the count."""
    generator = synth.generator
    hop = generator.config.hop_length
    predicted = generator.envelope(conditioning, speaker=speaker_index)  # (bands, F)
    frames = predicted.shape[1]
    own = log_mel(np.pad(recording, (0, max(0, frames * hop - len(recording))))[:frames * hop],
                  generator.mel_basis, hop)  # (bands, F)
    return float(np.abs(predicted - own).sum()), predicted.size


def run(args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    """{speaker: {column: [errors, words]}} over the speakers' test utterances; the column
    ``envelope L1`` holds [sum of absolute errors, frames × bands], the levels [sum of squared
    samples, samples]."""
    synth = Synthesizer.from_pretrained(args.voice, threads=1)
    speakers = select_speakers(synth, args.speakers)
    corpus = read_prepared(args.prep)
    check_conditioning_compatible(synth, corpus)
    recognizer = Recognizer()
    counts: dict[str, dict[str, list[float]]] = {}
    for speaker in speakers:
        entries = copy_entries(corpus, speaker.id, args.utterances)
        if not entries:
            raise BenchmarkError(f"{speaker.id} has no test-split utterance in {corpus.directory}")
        counts[speaker.id] = {column: [0, 0] for column in COLUMNS + EXTRA_COLUMNS}
        counts[speaker.id].update({column: [0, 0, 0, 0] for column in FLOORS})
        for k, entry in enumerate(entries):
            try:
                recording = load_audio(corpus.directory / entry["wav"])
            except AudioError as exc:
                raise BenchmarkError(str(exc)) from None
            conditioning = copy_conditioning(synth, corpus, entry)
            signals = variants(synth, conditioning, speaker.index, recording, args.seed + k)
            error, cells = envelope_error(synth, conditioning, speaker.index, recording)
            counts[speaker.id][ENVELOPE_L1][0] += error
            counts[speaker.id][ENVELOPE_L1][1] += cells
            hop = synth.generator.config.hop_length
            for column, signal in zip(FLOORS, (signals["recording"], signals["voice"])):
                sums = floor_powers(signal, signals["recording"], hop)
                counts[speaker.id][column] = [a + b for a, b in
                                              zip(counts[speaker.id][column], sums)]
            length = len(signals["recording"])
            for column, signal in ((RECORDING_LEVEL, signals["recording"]),
                                   (RESIDUAL_LEVEL, own_residual(synth, signals["recording"])[1])):
                counts[speaker.id][column][0] += float(np.sum(np.square(signal, dtype=np.float64)))
                counts[speaker.id][column][1] += length
            reference = transcript_words(entry["text"])
            for column in COLUMNS:
                errors = word_errors(reference, recognizer.words(signals[column]))
                counts[speaker.id][column][0] += errors
                counts[speaker.id][column][1] += len(reference)
    return counts


def format_table(counts: dict[str, dict[str, list[float]]]) -> tuple[str, dict[str, float]]:
    total = {column: [0.0, 0.0] for column in COLUMNS + EXTRA_COLUMNS}
    total.update({column: [0.0, 0.0, 0.0, 0.0] for column in FLOORS})
    lines = ["| speaker | " + " | ".join(f"{c} WER %" for c in COLUMNS) + " | "
             + " | ".join(EXTRA_COLUMNS + FLOORS) + " |",
             "|---" * (len(COLUMNS) + len(EXTRA_COLUMNS) + len(FLOORS) + 1) + "|"]

    def decibels(value: float) -> float:
        return 10.0 * float(np.log10(max(value, 1e-20)))

    def cells(row: dict[str, list[float]]) -> str:
        wers = [f"{100.0 * e / w:.1f}" for e, w in (row[c] for c in COLUMNS)]
        levels = [f"{decibels(row[c][0] / row[c][1]):.1f}"
                  for c in (RECORDING_LEVEL, RESIDUAL_LEVEL)]
        floors = [f"{decibels(row[c][0] / max(row[c][1], 1)) - decibels(row[c][2] / row[c][3]):.1f}"
                  for c in FLOORS]
        return " | ".join(wers + [f"{row[ENVELOPE_L1][0] / row[ENVELOPE_L1][1]:.3f}"] + levels
                          + floors)

    for speaker, row in counts.items():
        lines.append(f"| {speaker} | {cells(row)} |")
        for column in total:
            total[column] = [a + b for a, b in zip(total[column], row[column])]
    lines.append(f"| all | {cells(total)} |")
    overall = {c: 100.0 * total[c][0] / total[c][1] for c in COLUMNS}
    return "\n".join(lines), overall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default=None, help="voice directory (default: the bundled one)")
    parser.add_argument("--prep", required=True, help="the prepared corpus the voice learnt from")
    parser.add_argument("--speakers", default=None,
                        help="comma-separated speaker ids (default: all of the voice's)")
    parser.add_argument("--utterances", type=int, default=6,
                        help="test-split utterances per speaker (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed of the WaveNet")
    args = parser.parse_args(argv)
    if args.utterances < 1:
        parser.error("--utterances must be >= 1")
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s: %(message)s")
    try:
        counts = run(args)
    except (BenchmarkError, VoiceError, SynthesisError, OSError) as exc:
        if os.environ.get("TTS_DEBUG"):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    table, overall = format_table(counts)
    print(table)
    print(f"excitation_gap {overall['voice'] - overall['true residual']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
