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

``--breakdown`` adds two tables that say where those errors sit: the paired phones grouped by
phone class, by position (the utterance's last syllable, the last syllable before a pause, other
word-final syllables, the rest), by the word's length in syllables, by word kind (function
word, one-syllable or longer content word) and by vowel stress; per speaker, duration RMSE and
bias (ours − teacher, ms), then F0 RMSE and bias (cents). Then, per speaker, what the RMSEs are
made of (``error_anatomy``: the duration RMSE after the best uniform stretch, and the F0 errors
of over half an octave, a pitch tracker's jumps), the words that carry the most
squared duration error, over all speakers, and a table of the pauses inside sentences (where
flite paused, where we did).

    python benchmarks/prosody_vs_teacher.py                  # bundled voice, Harvard sentences
    python benchmarks/prosody_vs_teacher.py --voice my-voice --sentences heldout --count 20
    python benchmarks/prosody_vs_teacher.py --speakers p225,p232 --breakdown
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # recipes/ and benchmarks/ are not installed packages

from frontend.phonemes import PAUSE, PHONE_CLASS, SILENCES, VOWELS, split_stress  # noqa: E402
from frontend.pitch import extract_f0  # noqa: E402
from recipes.demo.flite import FliteError, parse_flite_args, render_with_phone_times  # noqa: E402
from recipes.demo.sentences import (  # noqa: E402
    HARVARD_SENTENCES,
    HELDOUT_EVERYDAY,
    heldout_sentences,
)

logger = logging.getLogger("prosody_vs_teacher")


class BenchmarkError(ValueError):
    """Bad arguments or a voice this benchmark cannot judge."""


@dataclass
class PhoneProsody:
    """One phone's duration and mean F0 (0: no voiced frame), ours or the teacher's."""

    phone: str  # ARPAbet without stress, or a silence symbol
    duration_ms: float
    f0_hz: float
    # Ours only: the group of each breakdown dimension this phone falls in (see phone_context).
    context: dict[str, str] = field(default_factory=dict)


BREAKDOWN_DIMENSIONS = ("class", "position", "word length", "word kind", "stress")
WORDS_LISTED = 12  # the words with the most squared duration error, in --breakdown


def phone_context(utterance, k: int) -> dict[str, str]:
    """Phone ``k`` of ``utterance`` (a ``frontend.features.Utterance``) by breakdown dimension:
    class (``PHONE_CLASS``), position of its syllable, syllables of its word, content or
    function word (content ones by syllables), vowel stress; and its word (``"word"``)."""
    base, _ = split_stress(utterance.phonemes[k])
    if base in SILENCES:
        return {}
    last_syllable = utterance.syllable_index[k] == utterance.syllable_count[k] - 1
    after_word = k + 1  # the first phoneme after this word
    while (after_word < len(utterance.phonemes)
           and utterance.word_index[after_word] == utterance.word_index[k]):
        after_word += 1
    if last_syllable and utterance.word_index[k] == len(utterance.words) - 1:
        position = "utterance-final syllable"
    elif last_syllable and utterance.phonemes[after_word:after_word + 1] == [PAUSE]:
        position = "syllable before a pause"
    elif last_syllable:
        position = "other word-final syllable"
    else:
        position = "other syllable"
    syllables = utterance.syllable_count[k]
    context = {"class": PHONE_CLASS[base], "position": position,
               "word length": f"{syllables} syllable{'s' if syllables > 1 else ''}"
               if syllables < 3 else "3+ syllables",
               "word kind": ("function word" if not utterance.is_content_word[k]
                             else "content word, 1 syllable" if syllables == 1
                             else "content word, 2+ syllables"),
               "word": utterance.words[utterance.word_index[k]].lower()}
    if base in VOWELS:
        context["stress"] = "stressed vowel" if utterance.stress[k] else "unstressed vowel"
    return context


def harvard_sentences() -> list[str]:
    return list(HARVARD_SENTENCES)


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
        for k, (phone, start, end) in enumerate(zip(utterance.phonemes, ends - plan.durations,
                                                    ends)):
            phones.append(PhoneProsody(split_stress(phone)[0], float(end - start) * frame_ms,
                                       phone_f0(plan.f0_hz, plan.voiced, int(start), int(end)),
                                       phone_context(utterance, k)))
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


GROSS_F0_CENTS = 600.0  # half an octave: a pitch tracker's jump, not a contour's error
LENGTH_SCALES = np.linspace(0.9, 1.2, 31)  # the uniform stretches error_anatomy tries


def error_anatomy(pairs: list[tuple[PhoneProsody, PhoneProsody]]) -> dict[str, float]:
    """What one speaker's RMSEs are made of: the duration RMSE left after the best uniform
    stretch of our durations (what a global speed fix could gain: the rest is per phone), and
    the F0 errors of over ``GROSS_F0_CENTS`` (octave jumps of the tracker on either side,
    usually on a stop or at a creaky end) with the F0 RMSE without them."""
    predicted = np.array([p.duration_ms for p, _ in pairs])
    reference = np.array([t.duration_ms for _, t in pairs])
    rmse = [float(np.sqrt(np.mean((k * predicted - reference) ** 2))) for k in LENGTH_SCALES]
    best = int(np.argmin(rmse))
    f0 = np.array([(p.f0_hz, t.f0_hz) for p, t in pairs if p.f0_hz > 0 and t.f0_hz > 0])
    error = cents(f0[:, 0], f0[:, 1]) if len(f0) else np.zeros(0)
    gross = np.abs(error) > GROSS_F0_CENTS
    return {
        "best_scale": float(LENGTH_SCALES[best]),
        "scaled_duration_rmse_ms": rmse[best],
        "gross_f0_errors": int(gross.sum()),
        "f0_phones": len(error),
        "f0_rmse_cents_without_gross": (float(np.sqrt(np.mean(error[~gross] ** 2)))
                                        if (~gross).any() else float("nan")),
        "gross_share_of_f0_squared_error": (float(np.sum(error[gross] ** 2) / np.sum(error ** 2))
                                            if np.any(error) else 0.0),
    }


@dataclass
class SpeakerPhones:
    """One speaker's phones over all its sentences, paired with the teacher's."""

    pairs: list[tuple[PhoneProsody, PhoneProsody]]  # non-pause phones (pair_phones)
    ours_speech: int  # our non-pause phones, paired or not
    pauses: list[tuple[float | None, float | None]]  # (ours, teacher) ms; None: no pause there


def pair_pauses(ours: list[PhoneProsody], teacher: list[PhoneProsody]
                ) -> list[tuple[float | None, float | None]]:
    """Pauses inside the sentence, (our ms, the teacher's ms), where the two phone sequences
    agree around them; a pause only one side makes has None on the other."""
    matcher = difflib.SequenceMatcher(None, [p.phone for p in ours], [p.phone for p in teacher],
                                      autojunk=False)
    pauses: list[tuple[float | None, float | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pauses += [(ours[i1 + k].duration_ms, teacher[j1 + k].duration_ms)
                       for k in range(i2 - i1) if ours[i1 + k].phone == PAUSE]
        else:
            pauses += [(p.duration_ms, None) for p in ours[i1:i2] if p.phone == PAUSE]
            pauses += [(None, p.duration_ms) for p in teacher[j1:j2] if p.phone == PAUSE]
    return pauses


def collect_speaker(synth, speaker, sentences: Sequence[str]) -> SpeakerPhones:
    if not speaker.source.strip().startswith("flite"):
        raise BenchmarkError(f"speaker {speaker.id} has no flite source ({speaker.source!r}): "
                             "this benchmark needs the teacher's command line")
    try:
        flite_args = parse_flite_args(speaker.source)
    except FliteError as exc:
        raise BenchmarkError(f"speaker {speaker.id}: {exc}") from None
    collected = SpeakerPhones([], 0, [])
    for text in sentences:
        ours = predicted_prosody(synth, text, speaker.index)
        teacher = teacher_prosody(text, flite_args, synth.sample_rate, synth.voice.hop_length)
        collected.ours_speech += sum(p.phone not in SILENCES for p in ours)
        collected.pairs.extend(pair_phones(ours, teacher))
        collected.pauses.extend(pair_pauses(ours, teacher))
    return collected


def breakdown(pairs: list[tuple[PhoneProsody, PhoneProsody]]
              ) -> dict[tuple[str, str], dict[str, float]]:
    """{(dimension, group): figures} over the paired phones in each group of each
    ``BREAKDOWN_DIMENSIONS``: phones, duration RMSE and bias (ours − teacher, ms), F0 RMSE and
    bias (cents, phones voiced in both; nan if none)."""
    groups: dict[tuple[str, str], list[tuple[PhoneProsody, PhoneProsody]]] = {}
    for mine, theirs in pairs:
        for dimension in BREAKDOWN_DIMENSIONS:
            if dimension in mine.context:
                groups.setdefault((dimension, mine.context[dimension]), []).append((mine, theirs))
    result = {}
    for key, members in groups.items():
        error = np.array([m.duration_ms - t.duration_ms for m, t in members])
        voiced = [(m.f0_hz, t.f0_hz) for m, t in members if m.f0_hz > 0 and t.f0_hz > 0]
        f0_error = cents(*map(np.array, zip(*voiced))) if voiced else np.array([np.nan])
        result[key] = {"phones": float(len(members)),
                       "duration_rmse_ms": float(np.sqrt(np.mean(error ** 2))),
                       "duration_bias_ms": float(error.mean()),
                       "f0_rmse_cents": float(np.sqrt(np.mean(f0_error ** 2))),
                       "f0_bias_cents": float(f0_error.mean())}
    return result


def word_errors(pairs: list[tuple[PhoneProsody, PhoneProsody]]
                ) -> list[tuple[str, int, float, float, float]]:
    """(word, phones, duration RMSE ms, bias ms, share of all the squared duration error) per
    word of the paired phones, the largest share first."""
    by_word: dict[str, list[float]] = {}
    for mine, theirs in pairs:
        by_word.setdefault(mine.context.get("word", ""), []).append(
            mine.duration_ms - theirs.duration_ms)
    total = sum(e * e for errors in by_word.values() for e in errors) or 1.0
    rows = [(word, len(errors), float(np.sqrt(np.mean(np.square(errors)))),
             float(np.mean(errors)), float(np.sum(np.square(errors)) / total))
            for word, errors in by_word.items()]
    return sorted(rows, key=lambda row: -row[4])


def pause_summary(pauses: list[tuple[float | None, float | None]]) -> dict[str, float]:
    """Counts of the teacher's pauses, ours, those both make, and the error of those."""
    both = np.array([(a, b) for a, b in pauses if a is not None and b is not None]).reshape(-1, 2)
    error = both[:, 0] - both[:, 1]
    return {"teacher": float(sum(b is not None for _, b in pauses)),
            "ours": float(sum(a is not None for a, _ in pauses)),
            "both": float(len(both)),
            "rmse_ms": float(np.sqrt(np.mean(error ** 2))) if len(both) else float("nan"),
            "bias_ms": float(error.mean()) if len(both) else float("nan")}


def format_breakdown(collected: list[tuple[str, SpeakerPhones]]) -> str:
    """The --breakdown tables: groups × speakers (and all), "RMSE (bias)" in each cell."""
    tables = {name: breakdown(c.pairs) for name, c in collected}
    everyone = breakdown([pair for _, c in collected for pair in c.pairs])
    keys = sorted(everyone, key=lambda k: (BREAKDOWN_DIMENSIONS.index(k[0]), k[1]))
    names = [name for name, _ in collected]
    lines = []
    for title, rmse, bias, digits in (("duration RMSE (bias) ms", "duration_rmse_ms",
                                       "duration_bias_ms", 1),
                                      ("F0 RMSE (bias) cents", "f0_rmse_cents", "f0_bias_cents",
                                       0)):
        lines += ["", f"| {title} | phones | " + " | ".join(names) + " | all |",
                  "|---|---|" + "---|" * (len(names) + 1)]
        for key in keys:
            cells = []
            for table in [tables[name] for name in names] + [everyone]:
                m = table.get(key)
                cells.append("-" if m is None or np.isnan(m[rmse])
                             else f"{m[rmse]:.{digits}f} ({m[bias]:+.{digits}f})")
            lines.append(f"| {key[0]}: {key[1]} | {everyone[key]['phones']:.0f} | "
                         + " | ".join(cells) + " |")
    lines += ["", "| what the RMSE is made of | duration RMSE after the best uniform stretch "
              f"(stretch) | F0 errors over {GROSS_F0_CENTS:.0f} cents | F0 RMSE without them "
              "| their share of the squared F0 error |", "|---|---|---|---|---|"]
    for name, c in collected:
        m = error_anatomy(c.pairs)
        lines.append(f"| {name} | {m['scaled_duration_rmse_ms']:.1f} ms ({m['best_scale']:.2f}) "
                     f"| {m['gross_f0_errors']} of {m['f0_phones']} | "
                     f"{m['f0_rmse_cents_without_gross']:.0f} | "
                     f"{100 * m['gross_share_of_f0_squared_error']:.0f}% |")
    lines += ["", f"| the {WORDS_LISTED} words with the most duration error (all speakers) | "
              "phones | RMSE (bias) ms | share of the squared error |", "|---|---|---|---|"]
    for word, phones, rmse, bias, share in word_errors(
            [pair for _, c in collected for pair in c.pairs])[:WORDS_LISTED]:
        lines.append(f"| {word} | {phones} | {rmse:.1f} ({bias:+.1f}) | {100 * share:.1f}% |")
    lines += ["", "| pauses inside sentences | teacher | ours | both | RMSE (bias) ms |",
              "|---|---|---|---|---|"]
    for name, c in collected + [("all", SpeakerPhones([], 0, [p for _, c in collected
                                                              for p in c.pauses]))]:
        m = pause_summary(c.pauses)
        error = "-" if np.isnan(m["rmse_ms"]) else f"{m['rmse_ms']:.0f} ({m['bias_ms']:+.0f})"
        lines.append(f"| {name} | {m['teacher']:.0f} | {m['ours']:.0f} | {m['both']:.0f} | "
                     f"{error} |")
    return "\n".join(lines)


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
    parser.add_argument("--sentences", choices=("harvard", "heldout", "everyday"),
                        default="harvard",
                        help="IEEE Harvard sentences (lists 1-4), the project's held-out "
                             "template sentences, or its held-out everyday ones (those of "
                             "benchmarks/intelligibility.py)")
    parser.add_argument("--count", type=int, default=20, help="sentences per speaker")
    parser.add_argument("--breakdown", action="store_true",
                        help="also the errors by phone class, position, word length, word kind "
                             "and stress, the words with the most error, and the pauses (see "
                             "the module docstring)")
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
        if args.sentences == "harvard":
            pool = harvard_sentences()
        elif args.sentences == "everyday":
            pool = heldout_sentences(len(HELDOUT_EVERYDAY), sentence_set="everyday")
        else:
            pool = heldout_sentences()
        sentences = pool[:args.count]
        collected = [(s.id, collect_speaker(synth, s, sentences)) for s in speakers]
        rows = [(name, score(c.pairs, c.ours_speech)) for name, c in collected]
    except (BenchmarkError, SynthesisError, VoiceError, FliteError) as exc:
        print(f"prosody_vs_teacher: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(sentences)} {args.sentences} sentences per speaker, voice "
          f"{synth.voice.directory}")
    print(format_table(rows))
    if args.breakdown:
        print(format_breakdown(collected))
    print(f"duration_rmse_ms {max(m['duration_rmse_ms'] for _, m in rows):.1f}")
    print(f"f0_rmse_cents {np.nanmax([m['f0_rmse_cents'] for _, m in rows]):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
