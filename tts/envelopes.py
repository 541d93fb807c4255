"""Envelope heads per speaker, fitted in closed form to a speaker's recordings.

An excitation voice's envelope network sees the linguistic features and F0, not the speaker:
one head turns what it computes into a log-mel for every speaker, so the speakers' timbres are
blended at their pitch. With ``WaveNetConfig.speaker_envelopes`` each speaker has a head of its
own. The head is linear, so its least-squares fit to a speaker's recordings is exact and takes
seconds: ridge regression from the envelope network's output (frozen) to the recordings' log-mel,
drawn towards a starting head (``ridge`` per frame of data) so that a few minutes of speech do
not over-fit it. ``tts adapt`` fits the row of a new speaker this way; ``fit_voice`` every
speaker of a voice from a prepared corpus:

    python -m tts.envelopes --voice VOICE --prep PREP -o NEW_VOICE [--max-utterances 150]

The prepared corpus's conditioning is rebuilt with the voice's log-F0 statistics (the WaveNet
was trained with those), so any preparation of the speakers' recordings will do.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tts.voice import VoiceError, VoiceSpec, WEIGHT_FILES, read_voice, write_voice

logger = logging.getLogger(__name__)

DEFAULT_RIDGE = 0.01  # per frame; 1e-3 ... 1e-1 gave the same held-out L1 within 1% (KED voice)
DEFAULT_HOLDOUT = 0.1  # share of the utterances the reported held-out L1 is measured on


class EnvelopeFitError(ValueError):
    """The heads cannot be fitted; the message names the problem and the fix."""


@dataclass(frozen=True)
class HeadFit:
    weight: np.ndarray  # (bands, H) float32
    bias: np.ndarray  # (bands,) float32
    frames: int
    base_l1: float | None  # held-out log-mel L1 of the starting head (None: too few utterances)
    fitted_l1: float | None  # of the head fitted on the other utterances


def voice_conditioning(prep: Path, entry: dict[str, Any], voice: VoiceSpec) -> np.ndarray:
    """One prepared utterance's WaveNet conditioning (T, C) float32, normalized with the voice's
    log-F0 statistics rather than the corpus's."""
    import json

    from frontend.conditioning import wavenet_conditioning
    from frontend.features import frame_features

    align = json.loads((prep / entry["align"]).read_text(encoding="utf-8"))
    durations = np.asarray(align["durations"], dtype=np.int64)
    phone_feats = np.load(prep / entry["phone_feats"], allow_pickle=False)  # (N, D)
    f0 = np.load(prep / entry["f0"], allow_pickle=False)  # (T, 2)
    return np.asarray(wavenet_conditioning(
        frame_features(phone_feats, durations), f0[:, 0], f0[:, 1],
        voice.conditioning.log_f0_mean, voice.conditioning.log_f0_std), np.float32)


def fit_head(generator: Any, utterances: Iterable[tuple[np.ndarray, np.ndarray]],
             start: tuple[np.ndarray, np.ndarray], ridge: float = DEFAULT_RIDGE,
             holdout: float = DEFAULT_HOLDOUT) -> HeadFit:
    """A head for ``utterances`` ((T, C) conditioning, their audio) of one speaker.

    ``generator``: the voice's ``vocoder.generate.Generator``; ``start``: the head (weight
    (bands, H), bias (bands,)) the ridge pulls towards. Every ``1 / holdout``-th utterance is
    also held out of a second fit, whose L1 on them (the measure the envelope is trained with)
    is reported beside the starting head's.
    """
    from vocoder.lpc import log_mel

    hop = generator.config.hop_length
    prior = np.concatenate([start[0].T, start[1][None]]).astype(np.float64)  # (H + 1, M)
    every = max(1, round(1 / holdout)) if holdout > 0 else 0
    moments = {"fit": [0.0, 0.0, 0], "all": [0.0, 0.0, 0]}  # X'X, X'Y, frames
    held_out = []
    for k, (features, audio) in enumerate(utterances):
        padded = np.zeros(len(features) * hop, np.float32)
        padded[:min(len(audio), len(padded))] = audio[:len(padded)]
        hidden = generator.envelope_hidden(features).astype(np.float64)  # (F, H)
        inputs = np.hstack([hidden, np.ones((len(hidden), 1))])  # (F, H + 1)
        targets = log_mel(padded, generator.mel_basis, hop).T  # (F, M)
        held = bool(every) and k % every == 0
        for part in ("all",) if held else ("fit", "all"):
            moments[part][0] = moments[part][0] + inputs.T @ inputs
            moments[part][1] = moments[part][1] + inputs.T @ targets
            moments[part][2] += len(inputs)
        if held:
            held_out.append((inputs, targets))
    if not moments["all"][2]:
        raise EnvelopeFitError("no frames to fit an envelope head to")

    def solve(part: str) -> np.ndarray:
        gram, cross, frames = moments[part]
        pull = np.full(len(gram), ridge * frames)
        pull[-1] = 0.0  # the bias is free
        return np.linalg.solve(gram + np.diag(pull), cross + pull[:, None] * prior)

    def held_out_l1(head: np.ndarray) -> float:
        errors = [np.abs(x @ head - y).sum() for x, y in held_out]
        return float(sum(errors) / sum(y.size for _, y in held_out))

    base_l1 = fitted_l1 = None
    if held_out and moments["fit"][2]:
        base_l1, fitted_l1 = held_out_l1(prior), held_out_l1(solve("fit"))
    head = solve("all")
    return HeadFit(np.ascontiguousarray(head[:-1].T, np.float32), head[-1].astype(np.float32),
                   int(moments["all"][2]), base_l1, fitted_l1)


def speaker_heads(tensors: dict[str, np.ndarray], speakers: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A WaveNet's envelope heads as tables (N, bands, H), (N, bands): its own, or its shared
    head repeated, in the stored dtype."""
    if "speaker_mel_head.weight" in tensors:
        return tensors["speaker_mel_head.weight"], tensors["speaker_mel_head.bias"]
    return (np.repeat(tensors["mel_head.weight"][None, :, :, 0], speakers, 0),
            np.repeat(tensors["mel_head.bias"][None], speakers, 0))


def fit_voice(voice_dir: str | Path, prep_dir: str | Path, output: str | Path, *,
              max_utterances: int = 150, ridge: float = DEFAULT_RIDGE, threads: int = 2
              ) -> dict[str, HeadFit]:
    """Every speaker of the voice at ``voice_dir`` that ``prep_dir`` has training utterances of
    gets its own envelope head (at most ``max_utterances`` each); the voice is written to
    ``output`` with every speaker's level measured again. Returns the fits by speaker id."""
    import soundfile
    from safetensors.numpy import load_file, save_file

    from tts.level import measure_speaker_levels
    from tts.synthesizer import Synthesizer
    from tts_common.corpus import read_manifest
    from vocoder.config import WaveNetConfig
    from vocoder.generate import Generator

    voice_dir, prep, output = Path(voice_dir), Path(prep_dir), Path(output)
    voice = read_voice(voice_dir)
    if not voice.models["wavenet"].lpc_order:
        raise EnvelopeFitError(f"{voice_dir} models the waveform (lpc_order 0): it has no "
                               "envelope to fit; use an excitation voice")
    if output.resolve() == voice_dir.resolve():
        raise EnvelopeFitError(f"-o {output} is the voice itself: write the new voice elsewhere")
    generator = Generator.from_tensors(WaveNetConfig.from_dict(voice.model_config("wavenet")),
                                       voice.tensors("wavenet"))
    stored = load_file(str(voice.weights_path("wavenet")))
    weights, biases = (np.array(t) for t in speaker_heads(stored, len(voice.speakers)))
    entries = [e for e in read_manifest(prep, EnvelopeFitError) if e.get("split") == "train"]
    fits = {}
    for speaker in voice.speakers:
        own = [e for e in entries if e["speaker"] == speaker.id][:max_utterances]
        if not own:
            logger.warning("%s: no training utterance in %s; its head stays", speaker.id, prep)
            continue
        utterances = ((voice_conditioning(prep, e, voice),
                       soundfile.read(str(prep / e["wav"]), dtype="float32")[0]) for e in own)
        row = speaker.index if generator.config.speaker_envelopes else 0
        start = (generator.mel_head_weight[row], generator.mel_head_bias[row])
        fit = fit_head(generator, utterances, start, ridge)
        fits[speaker.id] = fit
        weights[speaker.index], biases[speaker.index] = fit.weight, fit.bias
        logger.info("%s: envelope head from %d utterances (%.0f s), held-out log-mel L1 %.3f "
                    "(before: %.3f)", speaker.id, len(own),
                    fit.frames * voice.hop_length / voice.sample_rate,
                    fit.fitted_l1 or float("nan"), fit.base_l1 or float("nan"))
    if not fits:
        raise EnvelopeFitError(f"{prep} has no training utterances of this voice's speakers "
                               f"({', '.join(s.id for s in voice.speakers[:8])})")
    tensors = {k: v for k, v in stored.items() if not k.startswith("mel_head.")}
    tensors.update({"speaker_mel_head.weight": weights, "speaker_mel_head.bias": biases})
    data = voice.to_json()
    data["models"]["wavenet"]["speaker_envelopes"] = True
    for speaker in data["speakers"]:  # measured again: the envelope sets the loudness too
        speaker["level_dbfs"] = speaker["peak_dbfs"] = None
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as scratch:
        files = {kind: voice.weights_path(kind) for kind in WEIGHT_FILES}
        files["wavenet"] = Path(scratch) / WEIGHT_FILES["wavenet"]
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(files["wavenet"]))
        unmeasured = write_voice(Path(scratch) / "unmeasured", data, files)
        levels = measure_speaker_levels(Synthesizer(read_voice(unmeasured), threads=threads))
        for speaker, (level, peak) in zip(data["speakers"], levels):
            speaker.update(level_dbfs=level, peak_dbfs=peak)
        write_voice(output, data, files)
    return fits


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tts.envelopes",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--voice", required=True, help="an excitation voice directory")
    parser.add_argument("--prep", required=True, help="a prepared corpus of its speakers")
    parser.add_argument("-o", "--output", required=True, help="the new voice directory")
    parser.add_argument("--max-utterances", type=int, default=150,
                        help="training utterances per speaker (default 150)")
    parser.add_argument("--ridge", type=float, default=DEFAULT_RIDGE,
                        help=f"pull towards the current head, per frame (default {DEFAULT_RIDGE})")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.max_utterances < 2 or not args.ridge > 0:
        parser.error("--max-utterances must be >= 2 and --ridge > 0")
    try:
        fits = fit_voice(args.voice, args.prep, args.output, max_utterances=args.max_utterances,
                         ridge=args.ridge, threads=args.threads)
    except (EnvelopeFitError, VoiceError, OSError) as exc:
        print(f"tts.envelopes: error: {exc}", file=sys.stderr)
        return 1
    for speaker, fit in fits.items():
        print(f"{speaker}\theld-out L1 {fit.base_l1 or float('nan'):.3f} -> "
              f"{fit.fitted_l1 or float('nan'):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
