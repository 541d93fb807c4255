"""A speaker the voice has never heard, added with `tts adapt` from ten minutes of its speech.

The unseen speaker is Debian's festival with ``festvox-kdlpc16k`` (the KED diphone voice, an
American male; none of the demo corpus's flite voices): training sentences without digits
(``recipes.demo.sentences.training_sentences``, so festival and our frontend read the same
words) are rendered until ``--audio-minutes`` of speech, into a plain NAME.wav + NAME.txt
folder, and the first ``--heldout`` everyday held-out sentences are rendered as the reference.
The voice (the bundled one by default) is adapted to the folder (``tts.adapt.adapt``, budget
``--minutes``), and for the held-out sentences it prints:

    new speaker     WER of the adapted voice and of the recordings themselves (pocketsphinx),
                    MCD (dB) from the recordings and the median-F0 difference (semitones)
    nearest         the same two distances for the pre-existing speaker closest in MCD, and
                    how many pre-existing speakers are closer than the new one in each
    existing        each pre-existing speaker's WER before and after adaptation (the same
                    sentences and seeds through the base voice and the adapted one)

The last line is ``adapted_mcd_db X``. Everything lands in ``--work`` and is reused by a
rerun (rendering and adaptation resume).

    apt-get install festival festvox-kdlpc16k
    python benchmarks/adaptation.py                         # 10 minutes of audio, 30 min budget
    python benchmarks/adaptation.py --minutes 10 --existing-sentences 5 --threads 1
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[1]

from recipes.demo.sentences import heldout_sentences, training_sentences
from tts.adapt import AdaptConfig, AdaptError, adapt
from tts.evaluation import (
    Recognizer, SpeechFeatures, analyze, compare, mean_mcd, transcript_words, word_errors,
)
from tts.synthesizer import Synthesizer
from tts.voice import VoiceError, bundled_voice_dir, read_voice

logger = logging.getLogger("adaptation")

PROG = "adaptation"
FESTIVAL_VOICE = "voice_ked_diphone"  # what Debian's festvox-kdlpc16k installs
FESTIVAL_RATE = 16000
RENDER_BATCH = 25  # sentences per festival process
NEW_SPEAKER = "ked"
TRAINING_SEED = 17  # a sentence stream of its own
MAX_TRAINING_SENTENCES = 1000  # ~55 minutes of festival's speech


class BenchmarkError(ValueError):
    """Unusable benchmark input or environment; the message says what to do."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python benchmarks/{PROG}.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--voice", default=None, help="base voice (default: the bundled one)")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "data" / "bench_adaptation",
                        help="renders, the adapted voice and its work directory")
    parser.add_argument("--audio-minutes", type=float, default=10.0,
                        help="speech to adapt from (default 10)")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="tts adapt's wall-time budget (default 30)")
    parser.add_argument("--heldout", type=int, default=20, help="held-out sentences (default 20)")
    parser.add_argument("--existing-sentences", type=int, default=20,
                        help="held-out sentences for the existing speakers' WER before/after "
                             "(default 20)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="the WaveNet's sampling seed")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    return parser.parse_args(argv)


# -- the unseen speaker -------------------------------------------------------------------------
def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_festival(jobs: list[tuple[str, Path]]) -> None:
    """Each (text, wav path) spoken by festival's KED voice; one festival process per batch,
    every file written beside its target and renamed into place."""
    if shutil.which("festival") is None:
        raise BenchmarkError("festival not found: apt-get install festival festvox-kdlpc16k")
    for start in range(0, len(jobs), RENDER_BATCH):
        batch = jobs[start:start + RENDER_BATCH]
        with tempfile.TemporaryDirectory(prefix="festival-") as tmp:
            lines = [f"({FESTIVAL_VOICE})"]
            temporaries = []
            for k, (text, _) in enumerate(batch):
                temporary = Path(tmp) / f"{k}.wav"
                temporaries.append(temporary)
                lines.append(f"(utt.save.wave (SynthText {_scheme_string(text)}) "
                             f"{_scheme_string(str(temporary))} 'riff)")
            script = Path(tmp) / "render.scm"
            script.write_text("\n".join(lines) + "\n", encoding="utf-8")
            result = subprocess.run(["festival", "-b", str(script)], capture_output=True,
                                    text=True, check=False)
            if "unbound variable" in result.stderr and FESTIVAL_VOICE in result.stderr:
                raise BenchmarkError(f"festival has no {FESTIVAL_VOICE}: apt-get install "
                                     "festvox-kdlpc16k")
            for temporary, (text, target) in zip(temporaries, batch):
                if not temporary.is_file():
                    raise BenchmarkError(f"festival wrote nothing for {text!r}: "
                                         f"{result.stderr.strip()[:200] or 'no message'}")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(temporary, target)


def plain_sentences(count: int) -> list[str]:
    """Training sentences festival and our frontend read alike: no digits or symbols."""
    pool = training_sentences(6 * count + 50, seed=TRAINING_SEED)
    plain = [s for s in pool if not any(c.isdigit() or c in "%$&@#" for c in s)]
    return plain[:count]


def render_training(folder: Path, minutes: float) -> float:
    """NAME.wav + NAME.txt until ``minutes`` of speech; returns the seconds rendered."""
    sentences = plain_sentences(MAX_TRAINING_SENTENCES)
    seconds, kept = 0.0, 0
    while seconds < 60.0 * minutes:
        if kept >= len(sentences):
            raise BenchmarkError(f"{len(sentences)} sentences give only {seconds / 60:.1f} "
                                 "minutes: ask for fewer --audio-minutes")
        batch = [(text, folder / f"{NEW_SPEAKER}_{i:04d}.wav")
                 for i, text in enumerate(sentences[kept:kept + RENDER_BATCH], kept)]
        render_festival([(text, path) for text, path in batch if not path.is_file()])
        for text, path in batch:
            if seconds >= 60.0 * minutes:
                break
            transcript = path.with_suffix(".txt")
            if not transcript.is_file() or transcript.read_text(encoding="utf-8") != text + "\n":
                # Rewritten only when it changes: a newer transcript makes prepare realign.
                transcript.write_text(text + "\n", encoding="utf-8")
            info = sf.info(str(path))
            seconds += info.frames / info.samplerate
            kept += 1
    # A rerun with fewer minutes: what lies beyond is not part of this corpus.
    names = {f"{NEW_SPEAKER}_{i:04d}" for i in range(kept)}
    for path in folder.iterdir():
        if path.stem not in names:
            path.unlink()
    return seconds


def render_heldout(folder: Path, sentences: list[str]) -> list[np.ndarray]:
    paths = [folder / f"heldout_{i:03d}.wav" for i in range(len(sentences))]
    render_festival([(t, p) for t, p in zip(sentences, paths) if not p.is_file()])
    return [sf.read(str(p), dtype="float32")[0] for p in paths]


# -- measuring -----------------------------------------------------------------------------------
def median_f0(features: list[SpeechFeatures]) -> float:
    voiced = np.concatenate([f.f0_hz[f.voiced] for f in features])
    return float(np.median(voiced)) if voiced.size else math.nan


def wer(recognizer: Recognizer, sentences: list[str], audio: list[np.ndarray]) -> float:
    errors = words = 0
    for text, clip in zip(sentences, audio):
        reference = transcript_words(text)
        errors += word_errors(reference, recognizer.words(clip))
        words += len(reference)
    return 100.0 * errors / max(words, 1)


def distances(reference: list[SpeechFeatures], audio: list[np.ndarray]) -> dict[str, float]:
    """MCD from the recordings and the median-F0 difference in semitones."""
    features = [analyze(clip) for clip in audio]
    mcd = mean_mcd([compare(r, f) for r, f in zip(reference, features)])
    semitones = 12.0 * math.log2(median_f0(features) / median_f0(reference))
    return {"mcd_db": mcd, "f0_semitones": semitones}


def speak(synth: Synthesizer, speaker: str, sentences: list[str], seed: int) -> list[np.ndarray]:
    return [synth.synthesize(text, speaker, seed=seed + k) for k, text in enumerate(sentences)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    base_dir = Path(args.voice) if args.voice else bundled_voice_dir()
    base = Synthesizer(read_voice(base_dir), threads=args.threads)
    if not 1 <= args.existing_sentences <= args.heldout:
        raise BenchmarkError(f"--existing-sentences must be 1 .. --heldout ({args.heldout})")
    heldout = heldout_sentences(args.heldout, sentence_set="everyday")
    work = Path(args.work)
    started = time.monotonic()
    seconds = render_training(work / "corpus" / NEW_SPEAKER, args.audio_minutes)
    recordings = render_heldout(work / "heldout", heldout)
    logger.info("rendered %.1f minutes to adapt from and %d held-out sentences (%.0f s)",
                seconds / 60, len(heldout), time.monotonic() - started)

    started = time.monotonic()
    adapted_dir = adapt(AdaptConfig(data=work / "corpus" / NEW_SPEAKER, speaker=NEW_SPEAKER,
                                    output=work / "voice", voice=base_dir, minutes=args.minutes,
                                    gender="M", accent="American", threads=args.threads,
                                    jobs=args.threads))
    adapt_minutes = (time.monotonic() - started) / 60
    adapted = Synthesizer(read_voice(adapted_dir), threads=args.threads)

    recognizer = Recognizer()
    reference = [analyze(clip) for clip in recordings]
    new_audio = speak(adapted, NEW_SPEAKER, heldout, args.seed)
    result: dict[str, Any] = {
        "audio_minutes": seconds / 60, "adapt_minutes": adapt_minutes,
        "budget_minutes": args.minutes, "heldout": len(heldout),
        "recordings_wer": wer(recognizer, heldout, recordings),
        "adapted": {"wer": wer(recognizer, heldout, new_audio),
                    **distances(reference, new_audio)},
        "existing": {},
    }
    subset = heldout[:args.existing_sentences]
    for speaker in base.speakers:
        before = speak(base, speaker, heldout, args.seed)
        after = speak(adapted, speaker, subset, args.seed)
        result["existing"][speaker] = {
            **distances(reference, before),
            "wer_before": wer(recognizer, subset, before[:len(subset)]),
            "wer_after": wer(recognizer, subset, after),
            "identical_audio": all(np.array_equal(a, b) for a, b in zip(before, after)),
        }
        logger.info("%s: %s", speaker, result["existing"][speaker])
    return result


def report(result: dict[str, Any]) -> list[str]:
    new, existing = result["adapted"], result["existing"]
    nearest = min(existing, key=lambda s: existing[s]["mcd_db"])
    closer_mcd = sum(e["mcd_db"] <= new["mcd_db"] for e in existing.values())
    closer_f0 = sum(abs(e["f0_semitones"]) <= abs(new["f0_semitones"]) for e in existing.values())
    worst = max(e["wer_after"] - e["wer_before"] for e in existing.values())
    lines = [
        f"adapted from {result['audio_minutes']:.1f} min of speech in "
        f"{result['adapt_minutes']:.1f} min (budget {result['budget_minutes']:g} min); "
        f"{result['heldout']} held-out sentences",
        "| speaker | WER % | MCD dB | median F0 diff (semitones) |",
        "|---|---|---|---|",
        f"| recordings ({NEW_SPEAKER}) | {result['recordings_wer']:.1f} | - | - |",
        f"| adapted {NEW_SPEAKER} | {new['wer']:.1f} | {new['mcd_db']:.2f} | "
        f"{new['f0_semitones']:+.2f} |",
        f"| nearest existing ({nearest}) | - | {existing[nearest]['mcd_db']:.2f} | "
        f"{existing[nearest]['f0_semitones']:+.2f} |",
        f"existing speakers closer to the recordings than the adapted one: {closer_mcd} in MCD, "
        f"{closer_f0} in median F0 (of {len(existing)})",
        "| existing speaker | MCD dB | F0 diff | WER before % | WER after % | same audio |",
        "|---|---|---|---|---|---|",
    ]
    for speaker, e in existing.items():
        lines.append(f"| {speaker} | {e['mcd_db']:.2f} | {e['f0_semitones']:+.2f} | "
                     f"{e['wer_before']:.1f} | {e['wer_after']:.1f} | {e['identical_audio']} |")
    lines.append(f"worst existing-speaker WER change: {worst:+.1f} points")
    lines.append(f"adapted_mcd_db {new['mcd_db']:.2f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s: %(message)s")
    for name in (PROG, "tts.adapt", "recipes.vctk.prepare"):
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        result = run(args)
    except (BenchmarkError, AdaptError, VoiceError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n".join(report(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
