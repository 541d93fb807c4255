"""A voice's predicted durations and F0 against fresh renderings of each speaker's teacher.

The prosody models are evaluated on the corpus's held-out split by ``frontend.prosody_train
eval``. This benchmark asks the harder question a user would: on sentences that are not in the
corpus at all, does the voice plan each phoneme as long, and as high, as the speaker's own
source voice (the flite command line in the speaker's ``source``) says it?

Per speaker, every sentence is planned by the public ``Synthesizer.plan`` (frontend + duration
and F0 models, no WaveNet) and rendered by the teacher with ``flite -psdur``, which prints the
end time of every phone it speaks. The two phone sequences are paired where they agree (they
differ where flite's lexicon or letter-to-sound rules differ from ours); over the paired
non-pause phones the table gives:

    paired      % of our non-pause phones that have a teacher phone
    dur RMSE    ms, predicted against flite's phone durations, and Pearson r
    length      total predicted speech time / the teacher's (pauses excluded)
    F0 RMSE     cents, per-phone mean F0 over voiced frames, phones voiced in both
                (the teacher's F0 measured by Praat in two passes, as the corpus
                preparation does)
    voicing     % of paired phones whose voiced/unvoiced call differs
    median F0   Hz, predicted / teacher, over the phones voiced in both

The last lines are ``duration_rmse_ms X`` and ``f0_rmse_cents Y``, the worst speaker's.

    python benchmarks/prosody_vs_teacher.py                  # bundled voice, Harvard sentences
    python benchmarks/prosody_vs_teacher.py --voice my-voice --sentences heldout --count 20
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # recipes/ and benchmarks/ are not installed packages

from frontend.phonemes import SILENCES, split_stress  # noqa: E402
from frontend.pitch import extract_f0  # noqa: E402
from recipes.demo.flite import FliteError, parse_flite_args, render_with_phone_times  # noqa: E402
from recipes.demo.sentences import heldout_sentences  # noqa: E402

logger = logging.getLogger("prosody_vs_teacher")


class BenchmarkError(ValueError):
    """Bad arguments or a voice this benchmark cannot judge."""


@dataclass
class PhoneProsody:
    """One phone's duration and mean F0 (0: no voiced frame), ours or the teacher's."""

    phone: str  # ARPAbet without stress, or a silence symbol
    duration_ms: float
    f0_hz: float


def harvard_sentences() -> list[str]:
    from benchmarks.alignment_accuracy import TEST_SENTENCES

    return list(TEST_SENTENCES)


def phone_f0(f0_hz: np.ndarray, voiced: np.ndarray, start: int, end: int) -> float:
    """Mean F0 over the voiced frames in [start, end); 0 when none is voiced."""
    frames = slice(start, max(end, start + 1))
    mask = voiced[frames]
    return float(f0_hz[frames][mask].mean()) if mask.any() else 0.0


def predicted_prosody(synth, text: str, speaker_index: int) -> list[PhoneProsody]:
    """The voice's plan for ``text`` (all its sentences), one entry per phoneme."""
    frame_ms = 1000.0 * synth.voice.hop_length / synth.sample_rate
    phones: list[PhoneProsody] = []
    for utterance in synth.phonemize(text):
        plan = synth.plan(utterance, speaker_index)
        ends = np.cumsum(plan.durations)
        for phone, start, end in zip(utterance.phonemes, ends - plan.durations, ends):
            phones.append(PhoneProsody(split_stress(phone)[0], float(end - start) * frame_ms,
                                       phone_f0(plan.f0_hz, plan.voiced, int(start), int(end))))
    return phones


def teacher_prosody(text: str, flite_args: Sequence[str], sample_rate: int,
                    hop_length: int) -> list[PhoneProsody]:
    """flite's own phone durations, and its F0 per phone measured on its audio."""
    audio, phone_ends = render_with_phone_times(text, list(flite_args))
    f0_hz, voiced = extract_f0(audio, sample_rate, hop_length, method="praat", two_pass=True)
    frame_s = hop_length / sample_rate
    phones: list[PhoneProsody] = []
    start_s = 0.0
    for phone, end_s in phone_ends:
        start, end = int(round(start_s / frame_s)), int(round(end_s / frame_s))
        phones.append(PhoneProsody(phone, 1000.0 * (end_s - start_s),
                                   phone_f0(f0_hz, voiced, start, end)))
        start_s = end_s
    return phones


def pair_phones(ours: list[PhoneProsody], teacher: list[PhoneProsody]
                ) -> list[tuple[PhoneProsody, PhoneProsody]]:
    """Non-pause phones in the longest common runs of the two sequences."""
    matcher = difflib.SequenceMatcher(None, [p.phone for p in ours], [p.phone for p in teacher],
                                      autojunk=False)
    pairs = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mine, theirs = ours[block.a + k], teacher[block.b + k]
            if mine.phone not in SILENCES:
                pairs.append((mine, theirs))
    return pairs


def cents(a_hz: np.ndarray, b_hz: np.ndarray) -> np.ndarray:
    return 1200.0 * np.log2(a_hz / b_hz)


def score(pairs: list[tuple[PhoneProsody, PhoneProsody]], ours_speech: int) -> dict[str, float]:
    """The table's figures for one speaker, from all its sentences' paired phones."""
    if not pairs:
        raise BenchmarkError("no phone of the voice matched the teacher's: is its source a "
                             "flite US English voice?")
    predicted = np.array([p.duration_ms for p, _ in pairs])
    reference = np.array([t.duration_ms for _, t in pairs])
    f0_ours = np.array([p.f0_hz for p, _ in pairs])
    f0_teacher = np.array([t.f0_hz for _, t in pairs])
    both = (f0_ours > 0) & (f0_teacher > 0)
    result = {
        "paired_percent": 100.0 * len(pairs) / max(ours_speech, 1),
        "duration_rmse_ms": float(np.sqrt(np.mean((predicted - reference) ** 2))),
        "duration_r": float(np.corrcoef(predicted, reference)[0, 1]) if len(pairs) > 2 else 0.0,
        "length_ratio": float(predicted.sum() / max(reference.sum(), 1e-9)),
        "voicing_error_percent": 100.0 * float(np.mean((f0_ours > 0) != (f0_teacher > 0))),
        "f0_rmse_cents": float("nan"),
        "median_f0_hz": float("nan"),
        "teacher_median_f0_hz": float("nan"),
    }
    if both.any():
        result["f0_rmse_cents"] = float(np.sqrt(np.mean(cents(f0_ours[both],
                                                              f0_teacher[both]) ** 2)))
        result["median_f0_hz"] = float(np.median(f0_ours[both]))
        result["teacher_median_f0_hz"] = float(np.median(f0_teacher[both]))
    return result


def evaluate_speaker(synth, speaker, sentences: Sequence[str]) -> dict[str, float]:
    if not speaker.source.strip().startswith("flite"):
        raise BenchmarkError(f"speaker {speaker.id} has no flite source ({speaker.source!r}): "
                             "this benchmark needs the teacher's command line")
    try:
        flite_args = parse_flite_args(speaker.source)
    except FliteError as exc:
        raise BenchmarkError(f"speaker {speaker.id}: {exc}") from None
    pairs: list[tuple[PhoneProsody, PhoneProsody]] = []
    ours_speech = 0
    for text in sentences:
        ours = predicted_prosody(synth, text, speaker.index)
        teacher = teacher_prosody(text, flite_args, synth.sample_rate, synth.voice.hop_length)
        ours_speech += sum(p.phone not in SILENCES for p in ours)
        pairs.extend(pair_phones(ours, teacher))
    return score(pairs, ours_speech)


def format_table(rows: list[tuple[str, dict[str, float]]]) -> str:
    header = (f"{'speaker':<8} {'paired':>7} {'dur RMSE':>9} {'r':>6} {'length':>7} "
              f"{'F0 RMSE':>8} {'voicing':>8} {'median F0':>14}")
    lines = [header, "-" * len(header)]
    for name, m in rows:
        lines.append(
            f"{name:<8} {m['paired_percent']:6.1f}% {m['duration_rmse_ms']:6.1f} ms "
            f"{m['duration_r']:6.3f} {m['length_ratio']:7.3f} {m['f0_rmse_cents']:8.1f} "
            f"{m['voicing_error_percent']:7.1f}% "
            f"{m['median_f0_hz']:6.1f}/{m['teacher_median_f0_hz']:<6.1f}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voice", default=None, help="voice directory (default: the bundled one)")
    parser.add_argument("--speakers", default=None, help="comma-separated ids (default: all)")
    parser.add_argument("--sentences", choices=("harvard", "heldout"), default="harvard",
                        help="IEEE Harvard sentences (lists 1-4), or the project's held-out "
                             "template sentences")
    parser.add_argument("--count", type=int, default=20, help="sentences per speaker")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    from tts import Synthesizer
    from tts.synthesizer import SynthesisError
    from tts.voice import VoiceError

    try:
        if args.count < 1:
            raise BenchmarkError("--count must be at least 1")
        synth = Synthesizer.from_pretrained(args.voice, threads=1)
        wanted = [s.strip() for s in (args.speakers or "").split(",") if s.strip()]
        by_index = {s.index: s for s in synth.speaker_info}
        speakers = ([by_index[synth.speaker_index(name)] for name in wanted] if wanted
                    else synth.speaker_info)
        pool = harvard_sentences() if args.sentences == "harvard" else heldout_sentences()
        sentences = pool[:args.count]
        rows = [(s.id, evaluate_speaker(synth, s, sentences)) for s in speakers]
    except (BenchmarkError, SynthesisError, VoiceError, FliteError) as exc:
        print(f"prosody_vs_teacher: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(sentences)} {args.sentences} sentences per speaker, voice "
          f"{synth.voice.directory}")
    print(format_table(rows))
    print(f"duration_rmse_ms {max(m['duration_rmse_ms'] for _, m in rows):.1f}")
    print(f"f0_rmse_cents {np.nanmax([m['f0_rmse_cents'] for _, m in rows]):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
