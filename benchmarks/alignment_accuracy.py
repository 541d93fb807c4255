"""Forced-alignment accuracy against flite's own phone boundaries.

flite prints the end time of every phone it renders (``-psdur``), so its output is speech with
exactly known boundaries. Each sentence is rendered by several flite voice variants and aligned
with ``frontend.align.align`` given flite's phone sequence (grouped into flite's words); a
boundary counts as correct when it lies within 20 ms of flite's. Printed for raw pocketsphinx
(``refine=False``) and the refined aligner; the last line is ``within_20ms X`` (refined, %).

The test set (Harvard sentences, lists 1-4, and flite's slt, awb, rms and kal16 voices at their
default settings) was never used while tuning the refinement; ``--tuning`` scores the separate
tuning set (other sentences, other voice variants: slowed, sped up, 8 kHz kal) instead.

    python benchmarks/alignment_accuracy.py            # about 2-3 minutes
    python benchmarks/alignment_accuracy.py --tuning
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.align import Aligner, AlignerConfig, Alignment
from frontend.audio import SAMPLE_RATE, load_audio
from frontend.lexicon import cmudict
from frontend.phonemes import PAUSE, SILENCE, SILENCES, split_stress
from recipes.demo.sentences import HARVARD_SENTENCES

logger = logging.getLogger("alignment_accuracy")

# IEEE "Harvard" sentences, lists 1-4: the held-out test set of the alignment and prosody
# benchmarks, defined with the corpus sentences it must stay apart from.
TEST_SENTENCES = HARVARD_SENTENCES
TEST_VARIANTS: dict[str, list[str]] = {
    "slt": ["-voice", "slt"],
    "awb": ["-voice", "awb"],
    "rms": ["-voice", "rms"],
    "kal16": ["-voice", "kal16"],
}

# Written for tuning only; no overlap with the test sentences or variants.
TUNING_SENTENCES = (
    "My neighbour keeps three noisy geese behind the garage.",
    "Yesterday, after lunch, we walked along the river to the old mill.",
    "Please bring a thick wool sweater; the mountain nights are cold.",
    "Shiny zinc buckets hung from every hook in the shed.",
    "Jack thought the measure was unusual, but he voted for it anyway.",
    "Several owls hooted while the choir rehearsed its vespers.",
    "The judge asked both witnesses to speak more slowly.",
    "Fresh bread and yellow cheese make a fine evening meal.",
    "A thousand voices echoed through the vast marble hall.",
    "Quietly, the young fox slipped under the wooden fence.",
    "Our train leaves at seven, so we should pack tonight.",
    "Violet ink stained the edge of the map.",
    "Nobody knew why the orchestra stopped playing.",
    "She measured the azure fabric twice before cutting.",
    "Hot soup, warm gloves, and a good book got us through winter.",
    "The engineer checked each valve with a small torch.",
    "Wild ponies graze on the hills above the village.",
    "Whose umbrella is leaning against the door?",
    "He paused, then laughed at his own joke.",
    "Bright lanterns lit the narrow street at dusk.",
)
TUNING_VARIANTS: dict[str, list[str]] = {
    "slt-slow": ["-voice", "slt", "--setf", "duration_stretch=1.3"],
    "awb-fast": ["-voice", "awb", "--setf", "duration_stretch=0.85"],
    "rms-slow": ["-voice", "rms", "--setf", "duration_stretch=1.15"],
    "kal-8k": ["-voice", "kal"],
}

# flite's US English phones that are not simply ARPAbet in lower case (as in recipes/demo).
FLITE_TO_ARPABET = {"ax": "AH", "axr": "ER", "el": "L", "em": "M", "en": "N"}

TOLERANCE_S = 0.020


@dataclass
class Rendering:
    """One flite rendering with its true phone boundaries."""

    name: str
    audio: np.ndarray  # (N,) float32 at SAMPLE_RATE
    phones: list[tuple[str, float, float]]  # (our phone or "sil", start_s, end_s)
    words_phonemes: list[list[str]]  # flite's non-silent phones grouped into flite's words


def _run_flite(args: list[str]) -> str:
    try:
        result = subprocess.run(["flite", *args], capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise SystemExit("alignment_accuracy: flite is not installed (apt-get install flite)")
    return result.stdout


def _flite_render(text: str, flite_args: list[str]) -> tuple[np.ndarray, list[tuple[str, float]]]:
    """(audio, [(phone, end seconds), ...]) from ``flite -psdur``: ARPAbet, sil, sp.

    Uses the demo recipe's renderer when it is there, so that the two never disagree.
    """
    try:
        from recipes.demo.flite import render_with_phone_times
    except ImportError:
        render_with_phone_times = None
    if render_with_phone_times is not None:
        return render_with_phone_times(text, flite_args)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "flite.wav"
        stdout = _run_flite([*flite_args, "-psdur", "-t", text, "-o", str(wav)])
        audio = load_audio(wav, SAMPLE_RATE)
    tokens = [token.rpartition(":") for token in stdout.split()]
    duration = len(audio) / SAMPLE_RATE
    ends = []
    for index, (name, _, end) in enumerate(tokens):
        if name == "pau":
            phone = SILENCE if index in (0, len(tokens) - 1) else PAUSE
        else:
            phone = FLITE_TO_ARPABET.get(name, name.upper())
        ends.append((phone, min(float(end), duration)))
    ends[-1] = (ends[-1][0], duration)
    return audio, ends


def _group_into_words(phones: list[str], words: list[str]) -> list[list[str]]:
    """Split flite's phone string into its words.

    flite does not print which phone belongs to which word, so the phones are aligned
    (edit distance) to the words' CMUdict pronunciations and each phone takes the word of the
    dictionary phone it matched; flite's own pronunciation is kept either way.
    """
    lexicon = cmudict()
    dict_phones: list[str] = []
    dict_word: list[int] = []
    for index, word in enumerate(words):
        for phone in lexicon.get(word.lower(), [[]])[0]:
            dict_phones.append(split_stress(phone)[0])
            dict_word.append(index)
    n, m = len(phones), len(dict_phones)
    cost = np.zeros((n + 1, m + 1), dtype=np.int64)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + (phones[i - 1] != dict_phones[j - 1]),
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
            )
    word_of = [-1] * n
    i, j = n, m
    while i > 0 and j > 0:
        if cost[i, j] == cost[i - 1, j - 1] + (phones[i - 1] != dict_phones[j - 1]):
            word_of[i - 1] = dict_word[j - 1]
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    # Phones flite added beyond the dictionary join the word before them.
    previous = 0
    for k in range(n):
        if word_of[k] < 0:
            word_of[k] = previous
        previous = word_of[k]
    groups: list[list[str]] = []
    for k, phone in enumerate(phones):
        if k == 0 or word_of[k] != word_of[k - 1]:
            groups.append([])
        groups[-1].append(phone)
    return groups


def render(name: str, text: str, flite_args: list[str]) -> Rendering:
    audio, ends = _flite_render(text, flite_args)
    phones: list[tuple[str, float, float]] = []
    start = 0.0
    for phone, end in ends:
        phones.append((phone, start, end))
        start = end
    words = _run_flite([*flite_args, "-pw", "-t", text, "-o", "none"]).split()
    speech = [phone for phone, _, _ in phones if phone not in SILENCES]
    # Word boundaries: the dictionary's, plus every pause flite made (a pause ends a word).
    cuts, position = set(), 0
    for group in _group_into_words(speech, words):
        position += len(group)
        cuts.add(position)
    position = 0
    for phone, _, _ in phones:
        if phone in SILENCES:
            cuts.add(position)
        else:
            position += 1
    words_phonemes: list[list[str]] = []
    for k, phone in enumerate(speech):
        if k == 0 or k in cuts:
            words_phonemes.append([])
        words_phonemes[-1].append(phone)
    return Rendering(name, audio, phones, words_phonemes)


def boundary_errors(reference: list[tuple[str, float, float]], alignment: Alignment) -> np.ndarray:
    """Absolute error in seconds of every reference boundary next to a speech phone.

    Each boundary is counted once: the end of every speech phone, and the start of a speech
    phone that follows a pause (the reference's start of speech after silence).
    """
    ref_speech = [(k, seg) for k, seg in enumerate(reference) if seg[0] not in SILENCES]
    hyp_speech = [seg for seg in alignment.phones if seg.phone not in SILENCES]
    if [split_stress(seg.phone)[0] for seg in hyp_speech] != [s[0] for _, s in ref_speech]:
        raise ValueError("the alignment's phones differ from the reference phones")
    errors = []
    for (k, (_, ref_start, ref_end)), hyp in zip(ref_speech, hyp_speech):
        errors.append(abs(hyp.end_s - ref_end))
        if k > 0 and reference[k - 1][0] in SILENCES:
            errors.append(abs(hyp.start_s - ref_start))
    return np.asarray(errors)


def evaluate(renderings: list[Rendering], refine: bool) -> dict[str, float]:
    errors = []
    # One Aligner for the whole set: what align() does, without rebuilding decoders each call.
    aligner = Aligner(AlignerConfig(refine=refine))
    started = time.perf_counter()
    for rendering in renderings:
        alignment = aligner.align(rendering.audio, rendering.words_phonemes)
        errors.append(boundary_errors(rendering.phones, alignment))
    all_errors = np.concatenate(errors)
    return {
        "boundaries": len(all_errors),
        "within_20ms": 100.0 * float(np.mean(all_errors <= TOLERANCE_S + 1e-9)),
        "within_10ms": 100.0 * float(np.mean(all_errors <= 0.010 + 1e-9)),
        "mean_ms": 1000.0 * float(all_errors.mean()),
        "median_ms": 1000.0 * float(np.median(all_errors)),
        "seconds": time.perf_counter() - started,
    }


def load_set(tuning: bool, limit: int | None = None) -> list[Rendering]:
    sentences = TUNING_SENTENCES if tuning else TEST_SENTENCES
    variants = TUNING_VARIANTS if tuning else TEST_VARIANTS
    return [
        render(f"{variant}/{index:02d}", text, args)
        for variant, args in variants.items()
        for index, text in enumerate(sentences[:limit])
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning", action="store_true", help="score the tuning set instead")
    parser.add_argument("--limit", type=int, default=None, help="first N sentences per variant")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    renderings = load_set(args.tuning, args.limit)
    name = "tuning" if args.tuning else "test"
    print(f"{name} set: {len(renderings)} utterances "
          f"({len(renderings) // len(TUNING_VARIANTS if args.tuning else TEST_VARIANTS)} sentences"
          f" x {', '.join(TUNING_VARIANTS if args.tuning else TEST_VARIANTS)})")
    results = {}
    for label, refine in (("raw pocketsphinx", False), ("refined", True)):
        results[label] = result = evaluate(renderings, refine)
        print(f"{label:17s} boundaries {result['boundaries']}  within 20 ms "
              f"{result['within_20ms']:.1f}%  within 10 ms {result['within_10ms']:.1f}%  "
              f"mean {result['mean_ms']:.1f} ms  median {result['median_ms']:.1f} ms  "
              f"({result['seconds']:.1f} s)")
    print(f"within_20ms {results['refined']['within_20ms']:.1f}")


if __name__ == "__main__":
    sys.exit(main())
