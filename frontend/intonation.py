"""Accent placement and syllable context for the prosody models, the way flite predicts them.

The demo corpus's teachers are flite voices, and their duration and F0 trees read features of
the *syllable* that the phoneme features (``frontend.features``) do not carry: whether the
syllable bears a pitch accent or an end tone, how many stressed and accented syllables lie
between it and the phrase edges, how far the last and the next accent are, the break level
after it, and the word's "guessed part of speech" (``gpos``, a closed list of function-word
classes). Accents come from flite's own accent and end-tone trees (``cart_intonation``), which
decide which content words of a phrase carry one: without them a network must learn accent
placement from the corpus's vocabulary, word by word, and a new word gets an average length.

This module computes those features from an ``Utterance`` with flite's definitions
(``src/synth/cst_ffeatures.c``, ``lang/usenglish/us_ffeatures.c``), running the two trees of
``frontend.flite_intonation_carts`` on every syllable:

* ``syllables(utt)`` → the utterance's syllables with their accent and end tone;
* ``intonation_features(utt)`` → (N, INTONATION_FEATURE_DIM) float32, one row per phoneme, in
  the order of ``INTONATION_FEATURE_LAYOUT``; ``sil``/``sp`` rows are all zero.

A prosody model that reads them says so with ``feature_set = "phoneme+intonation"`` in its
config (``frontend.prosody_features``). The WaveNet's conditioning does not change: it reads the
phoneme features only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from frontend.features import Utterance
from frontend.flite_intonation_carts import ACCENT_CART, TONE_CART
from frontend.phonemes import VOWELS, split_stress

__all__ = [
    "ACCENTS", "END_TONES", "GPOS_CLASSES", "INTONATION_FEATURE_DIM",
    "INTONATION_FEATURE_LAYOUT", "Syllable", "cart_interpret", "cart_walk", "gpos",
    "intonation_features", "syllables",
]

# flite's us_gpos lists, in its order: a word takes the class of the first list holding it.
_GPOS_LISTS: tuple[tuple[str, str], ...] = (
    ("in", "of for in on that with by at from as if that against about before because under "
           "after over into while without through new between among until per up down"),
    ("to", "to"),
    ("det", "the a an no some this each another those every all any these both neither no many"),
    ("md", "will may would can could should must ought might"),
    ("cc", "and but or plus yet nor"),
    ("wp", "who what where how when"),
    ("pps", "her his their its our mine"),
    ("aux", "is am are was were has have had be"),
)
_GPOS: dict[str, str] = {}
for _name, _words in _GPOS_LISTS:
    for _word in _words.split():
        _GPOS.setdefault(_word, _name)
GPOS_CLASSES: tuple[str, ...] = ("content",) + tuple(name for name, _ in _GPOS_LISTS)
# One-syllable words whose stress in flite's lexicon differs from our frontend's (CMUdict):
# the most frequent disagreements over 1,280 corpus and held-out sentences (374 of 816).
_FLITE_STRESSED: dict[str, bool] = {"and": True, "her": False, "were": False, "to": False}
ACCENTS: tuple[str, ...] = ("H*", "!H*", "L+H*")
END_TONES: tuple[str, ...] = ("H-", "H-H%", "L-H%", "L-L%")
# flite counts syllables only this far (CST_CONST_INT_MAX): "19" means 19 or more.
MAX_COUNT = 19

INTONATION_FEATURE_LAYOUT: list[tuple[str, int]] = [
    ("accent", len(ACCENTS)),  # one-hot; all zero when the syllable has none
    ("end_tone", len(END_TONES)),
    ("accented_context", 5),  # accented: two syllables back, one back, this, one on, two on
    ("stressed_context", 4),  # stressed (lexical 1 or 2): two back, one back, one on, two on
    # log(1 + n) of: syllables since / until the phrase edge, stressed ones, accented ones,
    # syllables since the last accent and until the next, phrases before this one
    ("syllable_counts", 9),
    ("syllable_shape", 2),  # log(1 + consonants) before and after the vowel
    ("break_level", 4),  # one-hot after this syllable: in word, word end, phrase end, utt end
    ("prev_break_level", 4),
    ("next_break_level", 4),
    ("word_gpos", len(GPOS_CLASSES)),
    ("prev_word_gpos", len(GPOS_CLASSES)),
    ("next_word_gpos", len(GPOS_CLASSES)),
]
INTONATION_FEATURE_DIM = sum(width for _, width in INTONATION_FEATURE_LAYOUT)
_BREAK_LEVELS = ("0", "1", "3", "4")


def gpos(word: str) -> str:
    """flite's guessed part of speech of one word: a function-word class or "content"."""
    return _GPOS.get(word.lower(), "content")


@dataclass
class Syllable:
    word: int  # index into Utterance.words
    phrase: int  # Utterance.phrase_index of its phonemes
    first_phone: int  # index of its first phoneme in the utterance
    phones: list[str]
    stressed: bool  # lexical stress 1 or 2 (flite's lexicon marks both "1")
    # after it: "0" in its word, "1" word end, "3" phrase end, "4" the end of the last of
    # several phrases (flite's syl_break)
    break_level: str
    accent: str | None = None  # H*, !H* or L+H*
    end_tone: str | None = None  # H-, H-H%, L-H% or L-L%

    @property
    def accented(self) -> bool:
        return self.accent is not None or self.end_tone is not None


class Syllables(list):
    """One utterance's syllables (a list of ``Syllable``), and in ``memo`` what the feature
    functions derive from them once for all the utterance's windows (flite's frame layouts,
    which a window's F0 needs from the start of its phrase to the end)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self.memo: dict[str, Any] = {}


def syllables(utt: Utterance) -> Syllables:
    """The utterance's syllables in order, each with flite's accent and end-tone prediction."""
    sylls = Syllables()
    key_of_last = None
    for i, phone in enumerate(utt.phonemes):
        if utt.word_index[i] < 0:
            key_of_last = None
            continue
        key = (utt.word_index[i], utt.syllable_index[i])
        if key != key_of_last:
            stressed = _FLITE_STRESSED.get(utt.words[key[0]].lower(), utt.stress[i] > 0)
            sylls.append(Syllable(word=key[0], phrase=utt.phrase_index[i], first_phone=i,
                                  phones=[], stressed=stressed, break_level="0"))
            key_of_last = key
        sylls[-1].phones.append(phone)
    phrases = sorted({s.phrase for s in sylls})
    # flite names every phrase "B" (break level 3) but the last of several, "BB" (4).
    final_level = "4" if len(phrases) > 1 else "3"
    for k, syl in enumerate(sylls):
        word_end = k + 1 == len(sylls) or sylls[k + 1].word != syl.word
        if not word_end:
            syl.break_level = "0"
        elif k + 1 < len(sylls) and sylls[k + 1].phrase == syl.phrase:
            syl.break_level = "1"
        else:
            syl.break_level = final_level if syl.phrase == phrases[-1] else "3"
    context = _Context(utt, sylls)
    for k, syl in enumerate(sylls):
        syl.accent = _answer(_interpret(ACCENT_CART, context, k))
        syl.end_tone = _answer(_interpret(TONE_CART, context, k))
    return sylls


def _answer(value: str) -> str | None:
    return None if value == "NONE" else value


def cart_interpret(tree: tuple, value_of: Callable[[str], object]) -> Any:
    """flite's ``cart_interpret`` over a tree of ``frontend.flite_*_carts``: ``value_of(name)``
    gives a feature's value as flite's string."""
    features = tree[0]
    return cart_walk(tree, lambda feature: value_of(features[feature]))


def cart_walk(tree: tuple, value_at: Callable[[int], object]) -> Any:
    """``cart_interpret`` with each feature given by its index in the tree's feature list, for
    callers that parse a tree's features once (the F0 prior walks thousands of nodes a
    sentence). "is" compares strings, "less" numbers (flite's ``val_less``: a string that is
    not a number counts as 0). Yes → the next node, no → the node's "no" index."""
    nodes = tree[1]
    node = 0
    while True:
        feature, op, value, no = nodes[node]
        if feature is None:
            return value
        found = value_at(feature)
        if op == "is":
            yes = found == value
        else:
            try:
                yes = float(found) < value
            except ValueError:
                yes = 0.0 < value
        node = node + 1 if yes else no


def _interpret(tree: tuple, context: _Context, k: int) -> str:
    return cart_interpret(tree, lambda name: context.feature(name, k))


class _Context:
    """flite's feature functions over one utterance's syllables, as strings like flite's.

    Counts come from prefix sums, so a whole utterance costs time linear in its syllables.
    """

    def __init__(self, utt: Utterance, sylls: list[Syllable]) -> None:
        self.sylls = sylls
        self.word_gpos = [gpos(w) for w in utt.words]
        self.phrase_bounds: dict[int, tuple[int, int]] = {}
        for k, syl in enumerate(sylls):
            first, _ = self.phrase_bounds.get(syl.phrase, (k, k))
            self.phrase_bounds[syl.phrase] = (first, k)
        self.phrase_rank = {phrase: rank for rank, phrase in enumerate(sorted(self.phrase_bounds))}
        self.stressed_before = np.concatenate([[0], np.cumsum([s.stressed for s in sylls])])
        self.accented_before = np.concatenate([[0], np.cumsum([s.accented for s in sylls])])
        accented = [k for k, s in enumerate(sylls) if s.accented]
        # (S,) the index of the nearest accented syllable at or before / after each one
        self.last_accented = np.full(len(sylls), -1)
        self.next_accented = np.full(len(sylls), len(sylls))
        for k in accented:
            self.last_accented[k] = k
            self.next_accented[k] = k
        self.last_accented = np.maximum.accumulate(self.last_accented)
        self.next_accented = np.minimum.accumulate(self.next_accented[::-1])[::-1]

    def _count(self, before: np.ndarray, lo: int, hi: int) -> int:
        """How many of syllables [lo, hi) are marked, at most MAX_COUNT."""
        return min(int(before[max(hi, lo)] - before[lo]), MAX_COUNT)

    def feature(self, name: str, k: int) -> str:
        # A leading "p." / "n." moves along the utterance's syllables; outside it flite's
        # ffeature answers "0".
        while name.startswith(("p.", "n.")):
            k += -1 if name[0] == "p" else 1
            name = name[2:]
        if not 0 <= k < len(self.sylls):
            return "0"
        word_path = "R:SylStructure.parent."
        if name.startswith(word_path):
            return self.word_feature(name[len(word_path):], self.sylls[k].word)
        return str(self.syllable_feature(name, k))

    def word_feature(self, name: str, word: int) -> str:
        if name.endswith("EMPH"):  # emphasis comes from SSML, which our text never has
            return "0"
        if name.startswith("R:Word."):
            name = name[len("R:Word."):]
            while name.startswith(("p.", "n.")):
                word += -1 if name[0] == "p" else 1
                name = name[2:]
        if name != "gpos":
            raise KeyError(f"flite word feature {name!r} is not implemented")
        return self.word_gpos[word] if 0 <= word < len(self.word_gpos) else "0"

    def syllable_feature(self, name: str, k: int) -> int | str:
        syl = self.sylls[k]
        first, last = self.phrase_bounds[syl.phrase]
        if name == "stress":
            return "1" if syl.stressed else "0"
        if name in ("syl_break", "old_syl_break"):
            return syl.break_level
        if name == "syl_in":
            return min(k - first, MAX_COUNT)
        if name == "syl_out":
            return min(last - k, MAX_COUNT)
        if name == "ssyl_in":  # flite (like Festival) leaves out the phrase's first syllable
            return self._count(self.stressed_before, first + 1, k)
        if name == "ssyl_out":
            return self._count(self.stressed_before, k + 1, last + 1)
        if name == "asyl_in":
            return self._count(self.accented_before, first, k)
        if name == "asyl_out":
            return self._count(self.accented_before, k + 1, last + 1)
        if name == "last_accent":  # 0 when this syllable is accented; k + 1 when none was
            back = k - int(self.last_accented[k]) if self.last_accented[k] >= 0 else k + 1
            return min(back, MAX_COUNT)
        if name == "next_accent":  # 0 when the next syllable is accented
            return min(int(self.next_accented[k + 1]) - k - 1 if k + 1 < len(self.sylls) else 0,
                       MAX_COUNT)
        if name == "sub_phrases":
            return min(self.phrase_rank[syl.phrase], MAX_COUNT)
        if name == "lisp_syl_yn_question":  # a Festival (Lisp) feature flite does not define
            return "0"
        raise KeyError(f"flite syllable feature {name!r} is not implemented")


def _one_hot(values: list[str | None], classes: tuple[str, ...]) -> np.ndarray:
    out = np.zeros((len(values), len(classes)), dtype=np.float32)
    for row, value in enumerate(values):
        if value is not None:
            out[row, classes.index(value)] = 1.0
    return out


def intonation_features(utt: Utterance, start: int = 0, end: int | None = None,
                        sylls: list[Syllable] | None = None) -> np.ndarray:
    """(N, INTONATION_FEATURE_DIM) float32, columns as in ``INTONATION_FEATURE_LAYOUT``.

    ``start``/``end``: only the rows of phonemes [start, end), as ``phoneme_features`` takes
    them. Accents depend on the whole phrase, so the syllables are always the whole
    utterance's: ``sylls``, ``syllables(utt)`` computed once, saves redoing them per window.
    """
    end = len(utt.phonemes) if end is None else end
    sylls = syllables(utt) if sylls is None else sylls
    context = _Context(utt, sylls)
    counts = ("syl_in", "syl_out", "ssyl_in", "ssyl_out", "asyl_in", "asyl_out",
              "last_accent", "next_accent", "sub_phrases")

    def near(k: int, offset: int) -> Syllable | None:
        return sylls[k + offset] if 0 <= k + offset < len(sylls) else None

    def word_class(word: int) -> str | None:
        return context.word_gpos[word] if 0 <= word < len(utt.words) else None

    features = np.zeros((end - start, INTONATION_FEATURE_DIM), dtype=np.float32)
    for k, syl in enumerate(sylls):
        first, last = syl.first_phone, syl.first_phone + len(syl.phones)
        lo, hi = max(first, start), min(last, end)
        if lo >= hi:
            continue
        vowel = next((j for j, p in enumerate(syl.phones) if split_stress(p)[0] in VOWELS), None)
        onset = len(syl.phones) if vowel is None else vowel
        coda = 0 if vowel is None else len(syl.phones) - vowel - 1
        before, after = near(k, -1), near(k, 1)
        blocks = [
            _one_hot([syl.accent], ACCENTS)[0],
            _one_hot([syl.end_tone], END_TONES)[0],
            [float(bool(s and s.accented)) for s in (near(k, -2), before, syl, after,
                                                     near(k, 2))],
            [float(bool(s and s.stressed)) for s in (near(k, -2), before, after, near(k, 2))],
            [math.log1p(int(context.syllable_feature(name, k))) for name in counts],
            [math.log1p(onset), math.log1p(coda)],
            _one_hot([syl.break_level], _BREAK_LEVELS)[0],
            _one_hot([before.break_level if before else None], _BREAK_LEVELS)[0],
            _one_hot([after.break_level if after else None], _BREAK_LEVELS)[0],
            _one_hot([word_class(syl.word)], GPOS_CLASSES)[0],
            _one_hot([word_class(syl.word - 1)], GPOS_CLASSES)[0],
            _one_hot([word_class(syl.word + 1)], GPOS_CLASSES)[0],
        ]
        features[lo - start:hi - start] = np.concatenate(
            [np.asarray(b, dtype=np.float32) for b in blocks])
    return features
