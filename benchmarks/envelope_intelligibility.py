"""How intelligible is an excitation voice's predicted envelope, with an ideal excitation?

For an excitation-mode voice (``lpc_order > 0``, see ``vocoder/lpc.py``) this replaces the
WaveNet's sampled residual with a textbook one: a pulse train at the planned F0 in voiced frames,
white noise elsewhere, each frame scaled to the envelope's prediction-error power, and passes it
through the same synthesis filters the voice uses. pocketsphinx's word error rate on held-out
sentences then bounds what the frame-rate half of the model allows: if this is high, more WaveNet
training cannot help; if it is low and ``benchmarks/intelligibility.py`` is high, the excitation
is what is missing.

    python benchmarks/envelope_intelligibility.py --voice VOICE --speakers p225,p226,p232

The last line is ``worst_envelope_wer X`` (%).
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from frontend.pitch import extract_f0
from recipes.demo.flite import render
from recipes.demo.sentences import heldout_sentences
from tts.evaluation import Recognizer, transcript_words, word_errors
from tts.synthesizer import SynthesisError, Synthesizer
from tts.voice import VoiceError
from vocoder.lpc import (log_mel, mel_basis, mel_to_lpc, mel_to_power,
                         synthesis_filter)


def ideal_excitation(f0_hz: np.ndarray, voiced: np.ndarray, error_power: np.ndarray, hop: int,
                     sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power pulses at F0 (voiced frames) or white noise, scaled per frame."""
    excitation = np.zeros(len(f0_hz) * hop)
    phase = 0.0
    for frame, (hz, is_voiced) in enumerate(zip(f0_hz, voiced)):
        span = slice(frame * hop, (frame + 1) * hop)
        if is_voiced and hz > 0:
            for t in range(span.start, span.stop):
                phase += hz / sample_rate
                if phase >= 1.0:
                    phase -= 1.0
                    excitation[t] = np.sqrt(sample_rate / hz)
        else:
            excitation[span] = rng.standard_normal(hop)
        excitation[span] *= np.sqrt(error_power[frame])
    return excitation


def excited(envelope: np.ndarray, f0_hz: np.ndarray, voiced: np.ndarray, config,
            rng: np.random.Generator) -> np.ndarray:
    """Log-mel envelope (bands, T) + F0 → audio through the envelope's synthesis filters."""
    basis = mel_basis(config.sample_rate, config.mel_fft, config.mel_bands)
    power = mel_to_power(envelope, basis)  # (bins, T)
    filters = mel_to_lpc(envelope, basis, config.lpc_order, config.sample_rate)
    autocorrelation = np.fft.irfft(power, axis=0)[:config.lpc_order + 1].T  # (T, p + 1)
    error_power = np.maximum((filters * autocorrelation).sum(axis=1), 1e-12)
    excitation = ideal_excitation(f0_hz, voiced, error_power, config.hop_length,
                                  config.sample_rate, rng)
    return synthesis_filter(excitation, filters, config.hop_length)


def normalized(audio: np.ndarray) -> np.ndarray:
    return (0.5 * audio / max(np.abs(audio).max(), 1e-9)).astype(np.float32)


def envelope_speech(synth: Synthesizer, text: str, speaker: int, seed: int) -> np.ndarray:
    """The voice's predicted envelope and planned F0, ideally excited."""
    generator, config = synth.generator, synth.generator.config
    rng = np.random.default_rng(seed)
    pieces = []
    for utterance in synth.phonemize(text):
        plan = synth.plan(utterance, speaker)
        envelope = generator.envelope(plan.conditioning, speaker=speaker)  # (bands, F)
        pieces.append(excited(envelope, plan.f0_hz, plan.voiced, config, rng))
    return normalized(np.concatenate(pieces))


def teacher_envelope_speech(source: str, text: str, config, seed: int) -> np.ndarray:
    """The same vocoder on the teacher's own rendering: its log-mel and two-pass Praat F0.
    The ceiling of this diagnostic: what ideal pulses and noise allow at best."""
    audio = render(text, source)
    audio = np.pad(audio, (0, -len(audio) % config.hop_length))
    envelope = log_mel(audio, mel_basis(config.sample_rate, config.mel_fft, config.mel_bands),
                       config.hop_length)
    f0_hz, voiced = extract_f0(audio, config.sample_rate, config.hop_length, method="praat",
                               two_pass=True)
    return normalized(excited(envelope, f0_hz, voiced, config, np.random.default_rng(seed)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="envelope_intelligibility",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--voice", required=True, help="an excitation-mode voice directory")
    parser.add_argument("--speakers", default=None, help="comma-separated ids (default: all)")
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        synth = Synthesizer.from_pretrained(args.voice)
        if not synth.generator.config.lpc_order:
            parser.exit(2, f"error: {args.voice} models the waveform (lpc_order 0); this "
                           "benchmark needs an excitation voice\n")
        speakers = args.speakers.split(",") if args.speakers else synth.speakers
        indices = [synth.speaker_index(s) for s in speakers]
    except (SynthesisError, VoiceError) as exc:
        parser.exit(2, f"error: {exc}\n")
    recognizer = Recognizer()
    sentences = heldout_sentences()[:args.sentences]
    by_id = {s.id: s for s in synth.speaker_info}
    config = synth.generator.config
    print("| speaker | envelope WER % | teacher's own envelope, same excitation, WER % |\n"
          "|---|---|---|")
    worst = 0.0
    for name, index in zip(speakers, indices):
        errors = teacher_errors = words = 0
        source = by_id[name].source
        for sentence in sentences:
            reference = transcript_words(sentence)
            heard = recognizer.transcribe(envelope_speech(synth, sentence, index, args.seed))
            errors += word_errors(reference, heard.split())
            if source.startswith("flite"):
                heard = recognizer.transcribe(
                    teacher_envelope_speech(source, sentence, config, args.seed))
                teacher_errors += word_errors(reference, heard.split())
            words += len(reference)
        wer = 100.0 * errors / max(words, 1)
        teacher = f"{100.0 * teacher_errors / max(words, 1):.1f}" if source.startswith(
            "flite") else "-"
        worst = max(worst, wer)
        print(f"| {name} | {wer:.1f} | {teacher} |", flush=True)
    print(f"worst_envelope_wer {worst:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
