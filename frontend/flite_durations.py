"""flite's clustergen duration model, run on our own ``Utterance``: a duration prior per phoneme.

Three of the demo corpus's four teacher voices (slt, awb, rms) are flite clustergen voices. Each
predicts a phone's length as the sum of its three HMM states' lengths, and a state's length as
``z * stddev + mean`` of that state, with ``z`` from one CART tree over about a hundred features
of the state, its phone, the neighbouring phones (``ph_vc``, ``ph_vlng``, ``ph_ctype``, ...), its
syllable (stress, accents, position in the phrase) and its word (``src/cg/cst_cg.c``,
``cg_state_duration``). Sessions 10 to 12 of ``recipes/demo/RESULTS.md`` found that our
duration model, from the same kind of features, learns the corpus's sentences but only part of
the rule that makes them: on new text it regresses to the median. The trees are the rule, and
they are small (2,600 leaves a voice), so they are run here, with flite's definitions of every
feature they ask (``src/synth/cst_ffeatures.c``), over the syllables and accents of
``frontend.intonation``:

* ``flite_durations(utt)`` → (N, 3) float64 seconds, one row per phoneme, a column per voice of
  ``CLUSTERGEN_VOICES``, at flite's default speed (``duration_stretch`` 1);
* ``flite_duration_features(utt)`` → (N, 3) float32 ``log(1 + frames)`` of the same, the input
  columns of ``feature_set = "phoneme+intonation+flite_durations"``.

A duration model that reads them still learns each speaker's own speed and the corrections the
trees need for our frontend's phones. For speakers that are not flite's, the columns are one
more feature: three trained voices' idea of how long a phone in this context lasts.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.features import Utterance
from frontend.intonation import Syllable, _Context, cart_walk, syllables
from frontend.phonemes import SILENCES, split_stress

__all__ = ["CLUSTERGEN_VOICES", "FLITE_DURATION_DIM", "flite_duration_features",
           "flite_durations", "flite_phone_name"]

# The voices whose tables recipes/demo/extract_flite_carts.py writes, in the columns' order.
CLUSTERGEN_VOICES = ("slt", "awb", "rms")
TABLES = Path(__file__).resolve().parent / "data" / "flite_durations.json"
FLITE_DURATION_DIM = len(CLUSTERGEN_VOICES)
FRAME_SECONDS = 0.005  # clustergen's frame_advance: no state is shorter than one frame
_PAUSE = "pau"
_ARPABET_TO_FLITE = {"AH0": "ax"}  # flite's lexicon writes an unstressed AH as schwa
_STEPS = (("pp.", -2), ("nn.", 2), ("p.", -1), ("n.", 1))  # flite's moves along a relation
# lisp_onset_* / lisp_coda_*: the ph_ctype values each asks for (glide: r or l)
_CONSONANT_TYPES = {"fric": ("f",), "stop": ("s",), "nasal": ("n",), "glide": ("r", "l")}


def flite_phone_name(phoneme: str) -> str:
    """Our phoneme (``AH0``, ``sil``, ``sp``) as flite's US phone name (``ax``, ``pau``)."""
    if phoneme in SILENCES:
        return _PAUSE
    if phoneme in _ARPABET_TO_FLITE:
        return _ARPABET_TO_FLITE[phoneme]
    return split_stress(phoneme)[0].lower()


@dataclass(frozen=True)
class _Tables:
    """``frontend/data/flite_durations.json`` (see ``recipes/demo/extract_flite_carts.py``)."""

    PHONE_FEATURES: list[str]
    PHONESET: dict[str, list[str]]
    DURATION_CARTS: dict[str, list]  # voice → [features, nodes]
    DURATION_STATS: dict[str, dict[str, list[float]]]
    PHONE_STATES: dict[str, dict[str, list[str]]]


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    """The tables, loaded on first use: only the models reading these features need them."""
    data = json.loads(TABLES.read_text(encoding="utf-8"))
    return _Tables(**{f.name: data[f.name] for f in dataclasses.fields(_Tables)})


@functools.lru_cache(maxsize=None)
def _phone_feature(phone: str, name: str) -> str:
    tables = _tables()
    # flite's phone_id answers 0 (the first phone) for a name it lacks
    row = tables.PHONESET.get(phone) or next(iter(tables.PHONESET.values()))
    return row[tables.PHONE_FEATURES.index(name)]


def _is_vowel(phone: str) -> bool:
    return _phone_feature(phone, "ph_vc") == "+"


class Segments:
    """flite's view of one utterance: its Segment, Syllable and Word relations, and the value
    of every feature a duration tree asks of a segment, as flite's strings (memoized)."""

    @classmethod
    def of(cls, utt: Utterance, sylls: list[Syllable] | None = None) -> Segments:
        """The utterance's segments, made once for all its windows when ``sylls`` is its
        ``syllables`` (kept in their memo)."""
        memo = getattr(sylls, "memo", None)
        if memo is None:
            return cls(utt, sylls)
        if "segments" not in memo:
            memo["segments"] = cls(utt, sylls)
        return memo["segments"]

    def __init__(self, utt: Utterance, sylls: list[Syllable] | None = None) -> None:
        self.sylls = syllables(utt) if sylls is None else sylls
        self.context = _Context(utt, self.sylls)
        self.names = [flite_phone_name(p) for p in utt.phonemes]
        self.syllable_of = [-1] * len(self.names)  # (N,) index into sylls; -1 for pauses
        self.syll_names: list[list[str]] = []  # each syllable's phones, as flite names them
        self.word_sylls: dict[int, list[int]] = {}  # word → its syllables' indices
        for k, syl in enumerate(self.sylls):
            first, last = syl.first_phone, syl.first_phone + len(syl.phones)
            self.syllable_of[first:last] = [k] * len(syl.phones)
            self.syll_names.append(self.names[first:last])
            self.word_sylls.setdefault(syl.word, []).append(k)
        self.word_phrase = {s.word: s.phrase for s in self.sylls}
        self.phrase_words: dict[int, list[int]] = {}  # phrase → its words in order
        for word, phrase in self.word_phrase.items():
            self.phrase_words.setdefault(phrase, []).append(word)
        self.last_word = max(self.word_sylls, default=-1)
        self.cache: dict[tuple[int, str], str] = {}
        self.syllable_cache: dict[tuple[int, str, str], str] = {}

    def feature(self, i: int, name: str) -> str:
        key = (i, name)
        if key not in self.cache:
            self.cache[key] = self._feature(i, name)
        return self.cache[key]

    def _feature(self, i: int, name: str) -> str:
        offset, to_syllable, rest = _segment_step(name)
        if offset:
            i += offset
            return self.feature(i, rest) if 0 <= i < len(self.names) else "0"
        if to_syllable:
            k = self.syllable_of[i]
            return "0" if k < 0 else self.syllable_feature(k, rest, "SylStructure")
        phone, k = self.names[i], self.syllable_of[i]
        if name == "name":
            return phone
        if name == "lisp_is_pau":
            return "1" if phone == _PAUSE else "0"
        if name == "lisp_cg_content_words_in_phrase":  # of its word, before and after it
            if k < 0:
                return "0"
            word = self.sylls[k].word
            return str(int(self.word_feature(word, "R:Word.content_words_in"))
                       + int(self.word_feature(word, "R:Word.content_words_out")))
        if name.startswith("ph_"):
            return _phone_feature(phone, name)
        position = i - self.sylls[k].first_phone if k >= 0 else -1
        in_syllable = self.syll_names[k] if k >= 0 else []
        if name == "seg_onsetcoda":  # a vowel after it in its syllable: it is in the onset
            return "onset" if any(map(_is_vowel, in_syllable[position + 1:])) else "coda"
        if name == "pos_in_syl":
            return str(position)
        if name == "syl_final":
            return "1" if k < 0 or position == len(in_syllable) - 1 else "0"
        for side in ("onset", "coda"):
            prefix = f"lisp_{side}_"
            if name.startswith(prefix):
                phones = in_syllable if side == "onset" else in_syllable[::-1]
                ctypes = _CONSONANT_TYPES[name[len(prefix):]]
                return "1" if any(_has_ctype(phones, c) for c in ctypes) else "0"
        raise KeyError(f"flite segment feature {name!r} is not implemented")

    def syllable_feature(self, k: int, name: str, relation: str = "Syllable") -> str:
        """A feature of syllable ``k`` as its item in ``relation`` answers it: ``stress``,
        ``p.p.lisp_cg_break``, ``R:SylStructure.parent.gpos`` (its word's), ..."""
        key = (k, name, relation)
        if key not in self.syllable_cache:
            self.syllable_cache[key] = self._syllable_feature(k, name, relation)
        return self.syllable_cache[key]

    def _syllable_feature(self, k: int, name: str, relation: str) -> str:
        for other in ("SylStructure", "Syllable"):
            if name.startswith(f"R:{other}."):
                relation, name = other, name[len(other) + 3:]
        # The Syllable relation runs through the whole utterance; in SylStructure a step
        # stays in the word, which no tree asks (the steps below would be wrong there).
        moved = relation == "Syllable"
        while moved:
            moved = False
            for step, offset in _STEPS:
                if name.startswith(step):
                    k, name, moved = k + offset, name[len(step):], True
                    break
            if not 0 <= k < len(self.sylls):
                return "0"
        syl = self.sylls[k]
        word = self.word_sylls[syl.word]
        if name == "parent.word_numsyls":
            return str(len(word))
        if name.startswith("parent."):  # its word: gpos, R:Word.n.gpos, ...
            return self.word_feature(syl.word, name[len("parent."):])
        if name == "accented":
            return "1" if syl.accented else "0"
        if name == "position_type":
            if len(word) == 1:
                return "single"
            return "initial" if k == word[0] else "final" if k == word[-1] else "mid"
        if name == "pos_in_word":
            return str(k - word[0])
        if name == "lisp_cg_syl_ratio":
            before, after = (int(self.context.syllable_feature(f, k))
                             for f in ("syl_in", "syl_out"))
            return str(np.float32(1 + before) / np.float32(1 + before + after))
        phones = self.syll_names[k]
        if name == "syl_numphones":
            return str(len(phones))
        vowel = next((j for j, p in enumerate(phones) if _is_vowel(p)), len(phones))
        if name == "syl_vowel":  # flite's answer for a syllable without a vowel is none
            return phones[vowel] if vowel < len(phones) else "0"
        if name == "syl_onsetsize":
            return str(vowel)
        if name == "syl_codasize":  # flite counts the vowel too
            return str(len(phones) - vowel if vowel < len(phones) else len(phones) + 1)
        if name == "lisp_cg_break":  # after this syllable: 0 in a word, 1, 3 phrase, 4 the end
            if k != word[-1]:
                return "0"
            if syl.word == self.last_word:
                return "4"
            return "3" if self.word_phrase.get(syl.word + 1) != syl.phrase else "1"
        return str(self.context.syllable_feature(name, k))


    def word_feature(self, word: int, name: str) -> str:
        """A feature of word ``word`` (an index of ``utt.words``) as flite answers it: its
        place and its content words' count in its phrase, its phrase's, ``gpos``, ..."""
        phrase = self.word_phrase[word]
        if name.startswith("R:Phrase.parent."):
            return self.phrase_feature(phrase, name[len("R:Phrase.parent."):])
        words = self.phrase_words[phrase]
        bare = name[len("R:Word."):] if name.startswith("R:Word.") else name
        if bare == "pos_in_phrase":
            return str(words.index(word))
        if bare in ("content_words_in", "content_words_out"):
            place = words.index(word)
            others = words[:place] if bare == "content_words_in" else words[place + 1:]
            return str(sum(self.context.word_gpos[w] == "content" for w in others))
        return self.context.word_feature(name, word)

    def phrase_feature(self, phrase: int, name: str) -> str:
        """A feature of a phrase (``phrase_index``) as flite's Phrase item answers it."""
        rank = self.context.phrase_rank
        if name == "lisp_cg_find_phrase_number":
            return str(rank[phrase])
        if name == "lisp_cg_phrase_ratio":
            return str(np.float32(1 + rank[phrase]) / np.float32(1 + max(rank.values())))
        if name == "lisp_cg_syls_in_phrase":  # 1 + syl_out of its first syllable
            first, _ = self.context.phrase_bounds[phrase]
            return str(1 + int(self.context.syllable_feature("syl_out", first)))
        raise KeyError(f"flite phrase feature {name!r} is not implemented")


@functools.lru_cache(maxsize=None)
def _segment_step(name: str) -> tuple[int, bool, str]:
    """A segment feature's first step, parsed once: (offset, False, the rest) for a move along
    the Segment relation, (0, True, the rest) for ``R:SylStructure.parent.``, else
    (0, False, name)."""
    for step, offset in _STEPS:
        if name.startswith(step):
            return offset, False, name[len(step):]
    sylpath = "R:SylStructure.parent."
    if name.startswith(sylpath):
        return 0, True, name[len(sylpath):]
    return 0, False, name


def _has_ctype(phones: list[str], ctype: str) -> bool:
    """flite's seg_onset_ctype / seg_coda_ctype: from the syllable's edge up to its vowel."""
    for phone in phones:
        if _is_vowel(phone):
            return False
        if _phone_feature(phone, "ph_ctype") == ctype:
            return True
    return False



@functools.lru_cache(maxsize=None)
def _state_feature(name: str) -> tuple[str, int, str]:
    """A tree's feature of a state, parsed once: ("segment", 0, the path from its phone),
    ("state", offset, "name") or ("none", 0, "") for a path no state has."""
    segment_path = "R:segstate.parent."
    if name.startswith(segment_path):
        return "segment", 0, name[len(segment_path):]
    offset = 0
    for step, move in _STEPS:
        if name.startswith(step):
            offset, name = move, name[len(step):]
            break
    if name == "name":
        return "state", offset, name
    if name.startswith("R:"):  # a state is in no relation but HMMstate and segstate
        return "none", 0, ""
    raise KeyError(f"flite state feature {name!r} is not implemented")


@functools.lru_cache(maxsize=None)
def _duration_tree(voice: str) -> tuple[tuple, list[tuple[str, int, str]]]:
    """The voice's duration tree and its features parsed (``_state_feature``)."""
    tree = _tables().DURATION_CARTS[voice]
    return tree, [_state_feature(name) for name in tree[0]]


def _state_value(segments: Segments, states: list[tuple[int, str]], s: int,
                 parsed: list[tuple[str, int, str]]) -> Callable[[int], str]:
    """The value of a tree's feature (by its index in ``parsed``) for state ``s``."""
    i, cache, count = states[s][0], segments.cache, len(states)

    def value_at(feature: int) -> str:
        kind, offset, rest = parsed[feature]
        if kind == "segment":
            found = cache.get((i, rest))
            return found if found is not None else segments.feature(i, rest)
        if kind == "state" and 0 <= s + offset < count:
            return states[s + offset][1]
        return "0"

    return value_at


def states_of(segments: Segments, voice: str) -> list[tuple[int, str]]:
    """The voice's HMM states of the utterance in order: (phoneme index, state name); a phone
    the voice lacks gets its first phone's states, as flite's ``cg_make_hmmstates`` does."""
    phone_states = _tables().PHONE_STATES[voice]
    unknown = next(iter(phone_states.values()))
    return [(i, state) for i, phone in enumerate(segments.names)
            for state in phone_states.get(phone, unknown)]


def state_seconds(segments: Segments, voice: str, states: list[tuple[int, str]], s: int
                  ) -> float:
    """The length flite gives state ``s`` of ``states``: its tree's z-score un-normalized by the
    state's statistics, at least one frame (``cg_state_duration``, ``cg_make_params``)."""
    tables = _tables()
    stats = tables.DURATION_STATS[voice]
    tree, parsed = _duration_tree(voice)
    z = cart_walk(tree, _state_value(segments, states, s, parsed))
    mean, std = stats.get(states[s][1], next(iter(stats.values())))
    return max(z * std + mean, FRAME_SECONDS)


def flite_durations(utt: Utterance, sylls: list[Syllable] | None = None, start: int = 0,
                    end: int | None = None) -> np.ndarray:
    """(end - start, len(CLUSTERGEN_VOICES)) float64: the length in seconds of each phoneme of
    [start, end) by each voice's duration tree, at ``duration_stretch`` 1. The trees read
    the whole utterance's context, but only the window's states are walked, so windows cost
    what they hold. ``sylls``: ``syllables(utt)`` if computed."""
    segments = Segments.of(utt, sylls)
    end = len(segments.names) if end is None else end
    out = np.zeros((end - start, len(CLUSTERGEN_VOICES)), dtype=np.float64)
    for v, voice in enumerate(CLUSTERGEN_VOICES):
        states = states_of(segments, voice)
        for s, (i, _) in enumerate(states):
            if start <= i < end:
                out[i - start, v] += state_seconds(segments, voice, states, s)
    return out


def flite_duration_features(utt: Utterance, start: int = 0, end: int | None = None,
                            sylls: list[Syllable] | None = None) -> np.ndarray:
    """(end - start, FLITE_DURATION_DIM) float32: log(1 + 5 ms frames) of ``flite_durations``
    for the phonemes [start, end)."""
    seconds = flite_durations(utt, sylls, start, end)
    return np.log1p(seconds / FRAME_SECONDS).astype(np.float32)
