"""Linguistic features: text → ``Utterance`` (phonemes with their context) → feature matrices.

An ``Utterance`` is one stretch of speech: ``sil``, phrases separated by ``sp``, ``sil``. A
phrase ends at punctuation (``, ; :`` dashes ``. ? !``) or at the end of the text. Every phoneme
carries its place in the hierarchy utterance > phrase > word > syllable. Syllables: each vowel
is a nucleus; consonants between two vowels start the second syllable as far as they form a
legal English onset (maximal onset principle), the rest close the first one.

Feature matrices (all float32):

* ``phoneme_features(utt)`` → (N, PHONEME_FEATURE_DIM), one row per phoneme, for the duration
  model. Columns in the order of ``PHONEME_FEATURE_LAYOUT`` (name, width):
    prev_prev_phone, prev_phone, phone, next_phone, next_next_phone
                            one-hot over the 42 symbols of ``frontend.phonemes.SYMBOLS``; beyond
                            either end of the utterance the <pad> column is set
    phone_class             one-hot over ``PHONE_CLASSES`` (vowel, stop, ..., silence)
    voiced                  1 for voiced phonemes
    syllable_stress         one-hot 0/1/2 of the syllable's vowel; all zero for sil/sp
    is_content_word         1 unless the word is a function word ("the", "of", "is", ...)
    phone_in_syllable, syllable_in_word, word_in_phrase, phrase_in_utterance
                            2 columns each: the position as a fraction in [0, 1] (first 0, last
                            1, 0 when alone) and log(1 + count); all zero where not applicable
                            (sil/sp have no word or syllable)
    words_in_utterance      log(1 + word count)
    phrase_punctuation      one-hot over , . ? ! : the mark that ends this phoneme's phrase
    is_question             1 when the sentence of this phoneme ends with "?"
    pause_flags             3 columns: this phoneme is a pause; its word starts a phrase; its
                            word ends a phrase (both 0 for the pauses themselves)
* ``frame_features(phone_feats, durations)`` → (T, FRAME_FEATURE_DIM), one row per 5 ms frame,
  for the F0 model and the WaveNet: each phoneme's row repeated over its frames, then
  ``FRAME_POSITION_LAYOUT``: the fraction of the phoneme elapsed at the frame's centre, the
  fraction left, log(phoneme duration in frames), and the frame's centre as a fraction of the
  utterance.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frontend.g2p import (
    FUNCTION_WORDS,
    SENTENCE_END,
    Backend,
    FrontendError,
    G2P,
    Token,
    tokenize,
)
from frontend.lexicon import Lexicon
from frontend.normalize import normalize_text, split_sentences
from frontend.phonemes import PAUSE, PHONE_CLASS, SILENCE, SYMBOLS, VOICED, VOWELS
from frontend.phonemes import phoneme_id, split_stress

__all__ = [
    "FRAME_FEATURE_DIM", "FRAME_POSITION_LAYOUT", "Frontend", "FrontendError",
    "PHONEME_FEATURE_DIM", "PHONEME_FEATURE_LAYOUT", "Utterance", "frame_features",
    "phoneme_features", "phoneme_ids", "syllabify", "text_to_utterance",
]

logger = logging.getLogger(__name__)

# A sentence longer than this is spoken as several phrases (split at commas, semicolons and
# conjunctions where possible), so that text without punctuation still breathes and every
# stretch the vocoder generates has bounded length and memory.
MAX_PHRASE_WORDS = 30

# Callers add how their users reach other scripts (the API: Frontend("espeak", language=...);
# `tts analyze`: --backend espeak); `tts say` speaks the voice's language only.
NO_SPEAKABLE_WORDS = (
    "text contains no speakable words: give at least one word in Latin letters"
)

# Word-initial consonant clusters of English: the onsets a syllable may start with.
LEGAL_ONSETS: frozenset[tuple[str, ...]] = frozenset(
    [(c,) for c in SYMBOLS[3:] if c not in VOWELS and c != "NG"]
    + [tuple(o.split()) for o in (
        "P R", "P L", "P Y", "B R", "B L", "B Y", "T R", "T W", "D R", "D W", "K R", "K L",
        "K W", "K Y", "G R", "G L", "G W", "G Y", "F R", "F L", "F Y", "TH R", "TH W", "SH R",
        "HH Y", "HH W", "V Y", "M Y", "S P", "S T", "S K", "S M", "S N", "S L", "S W", "S F",
        "S P R", "S P L", "S P Y", "S T R", "S K R", "S K W", "S K L", "S K Y",
    )]
)

PHONE_CLASSES: tuple[str, ...] = (
    "vowel", "stop", "affricate", "fricative", "nasal", "liquid", "glide", "silence",
)
PUNCTUATION_MARKS: tuple[str, ...] = (",", ".", "?", "!")

PHONEME_FEATURE_LAYOUT: list[tuple[str, int]] = [
    ("prev_prev_phone", len(SYMBOLS)),
    ("prev_phone", len(SYMBOLS)),
    ("phone", len(SYMBOLS)),
    ("next_phone", len(SYMBOLS)),
    ("next_next_phone", len(SYMBOLS)),
    ("phone_class", len(PHONE_CLASSES)),
    ("voiced", 1),
    ("syllable_stress", 3),
    ("is_content_word", 1),
    ("phone_in_syllable", 2),
    ("syllable_in_word", 2),
    ("word_in_phrase", 2),
    ("phrase_in_utterance", 2),
    ("words_in_utterance", 1),
    ("phrase_punctuation", len(PUNCTUATION_MARKS)),
    ("is_question", 1),
    ("pause_flags", 3),
]
PHONEME_FEATURE_DIM = sum(width for _, width in PHONEME_FEATURE_LAYOUT)
FRAME_POSITION_LAYOUT: list[tuple[str, int]] = [
    ("fraction_of_phone_elapsed", 1),
    ("fraction_of_phone_left", 1),
    ("log_phone_frames", 1),
    ("fraction_of_utterance", 1),
]
FRAME_FEATURE_DIM = PHONEME_FEATURE_DIM + sum(width for _, width in FRAME_POSITION_LAYOUT)


def feature_columns(name: str) -> slice:
    """The columns of one block of ``PHONEME_FEATURE_LAYOUT``, e.g. ``feature_columns("phone")``."""
    start = 0
    for block, width in PHONEME_FEATURE_LAYOUT + FRAME_POSITION_LAYOUT:
        if block == name:
            return slice(start, start + width)
        start += width
    raise KeyError(f"no feature block named {name!r}")


def syllabify(phones: list[str]) -> list[list[str]]:
    """One word's phonemes → its syllables (maximal onset); a word without vowels is one."""
    bases = [split_stress(p)[0] for p in phones]
    nuclei = [i for i, base in enumerate(bases) if base in VOWELS]
    if not nuclei:
        return [list(phones)] if phones else []
    starts = [0]
    for left, right in zip(nuclei, nuclei[1:]):
        boundary = right  # the longest legal onset before the right nucleus
        while boundary - 1 > left and tuple(bases[boundary - 1:right]) in LEGAL_ONSETS:
            boundary -= 1
        starts.append(boundary)
    ends = starts[1:] + [len(phones)]
    return [list(phones[s:e]) for s, e in zip(starts, ends)]


# The Utterance fields that hold one entry per phoneme.
PER_PHONEME_FIELDS: tuple[str, ...] = (
    "phonemes", "word_index", "syllable_index", "syllable_count", "phone_in_syllable",
    "syllable_size", "stress", "is_content_word", "word_in_phrase", "phrase_word_count",
    "phrase_index", "phrase_punctuation", "is_question",
)


@dataclass
class Utterance:
    """Words and phonemes of one utterance, with per-phoneme linguistic context.

    Per-phoneme lists all have one entry per phoneme (N). For ``sil``/``sp``: word_index,
    syllable_index, phone_in_syllable and word_in_phrase are -1, counts and stress 0.
    """

    text: str  # as given
    normalized: str  # after text normalization
    words: list[str]  # W spoken words; an inline {...} block is one word
    word_sources: list[str]  # (W,) where each pronunciation came from (see frontend.g2p)
    word_ipa: list[str]  # (W,) espeak's IPA of the word, "" for other sources
    phonemes: list[str]  # (N,) ARPAbet with stress digits, sil at both ends, sp between phrases
    word_index: list[int]  # (N,) index into words
    syllable_index: list[int]  # (N,) the syllable's index in its word
    syllable_count: list[int]  # (N,) syllables in the word
    phone_in_syllable: list[int]  # (N,) the phoneme's index in its syllable
    syllable_size: list[int]  # (N,) phonemes in the syllable
    stress: list[int]  # (N,) stress of the syllable's vowel: 0, 1 or 2
    is_content_word: list[bool]  # (N,)
    word_in_phrase: list[int]  # (N,) the word's index in its phrase
    phrase_word_count: list[int]  # (N,) words in the phrase
    phrase_index: list[int]  # (N,) leading sil: 0; an sp belongs to the phrase it ends
    phrase_punctuation: list[str]  # (N,) the mark ending the phrase: , . ? !
    is_question: list[bool]  # (N,) the sentence ends with "?"
    phrase_count: int = 0

    def __post_init__(self) -> None:
        n = len(self.phonemes)
        for name in PER_PHONEME_FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"Utterance.{name} has {len(getattr(self, name))} entries, "
                                 f"expected one per phoneme ({n})")
        if not (len(self.words) == len(self.word_sources) == len(self.word_ipa)):
            raise ValueError("Utterance.words, word_sources and word_ipa differ in length")
        for phone in self.phonemes:
            split_stress(phone)

    @property
    def word_count(self) -> int:
        return len(self.words)

    def word_phonemes(self) -> list[list[str]]:
        """Each word's phonemes, in word order."""
        grouped: list[list[str]] = [[] for _ in self.words]
        for phone, word in zip(self.phonemes, self.word_index):
            if word >= 0:
                grouped[word].append(phone)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable dict; ``Utterance.from_dict`` reads it back."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Utterance:
        names = {f.name for f in dataclasses.fields(cls)}
        missing, unknown = names - set(data), set(data) - names
        if missing or unknown:
            raise ValueError(
                f"not an Utterance dict: missing {sorted(missing)}, unknown {sorted(unknown)}; "
                "it must come from Utterance.to_dict()"
            )
        return cls(**{name: data[name] for name in names})

    def to_table(self) -> str:
        """A compact human-readable listing: the words, then one line per phoneme."""
        question = "yes" if any(self.is_question) else "no"
        lines = [f"text: {self.text}", f"normalized: {self.normalized}",
                 f"words: {self.word_count}  phrases: {self.phrase_count}  "
                 f"phonemes: {len(self.phonemes)}  question: {question}",
                 "", f"{'word':<16} {'source':<9} phonemes (syllables split by |)"]
        for word, source, phones in zip(self.words, self.word_sources, self.word_phonemes()):
            syllables = " | ".join(" ".join(s) for s in syllabify(phones))
            lines.append(f"{word:<16} {source:<9} {syllables}")
        lines += ["", "  #  phone  id  word             syl  pos  stress  content  "
                      "phrase  word-in-phrase  punct"]
        for i, phone in enumerate(self.phonemes):
            w = self.word_index[i]
            if w < 0:
                word = syl = pos = stress = content = wip = "-"
            else:
                word = self.words[w]
                syl = f"{self.syllable_index[i] + 1}/{self.syllable_count[i]}"
                pos = f"{self.phone_in_syllable[i] + 1}/{self.syllable_size[i]}"
                stress = str(self.stress[i])
                content = "yes" if self.is_content_word[i] else "no"
                wip = f"{self.word_in_phrase[i] + 1}/{self.phrase_word_count[i]}"
            phrase = f"{self.phrase_index[i] + 1}/{self.phrase_count}"
            lines.append(
                f"{i:>3}  {phone:<5} {phoneme_id(phone):>3}  {word[:16]:<16} {syl:>4} {pos:>4}  "
                f"{stress:>6}  {content:>7}  {phrase:>6}  {wip:>14}  "
                f"{self.phrase_punctuation[i]:>5}"
            )
        return "\n".join(lines)


def build_utterance(tokens: list[Token], *, text: str, normalized: str) -> Utterance:
    """Group G2P tokens into phrases and annotate every phoneme. Raises FrontendError if empty."""
    priority = {",": 0, ".": 1, "!": 2, "?": 3}  # "?!" is still a question
    phrases: list[tuple[list[Token], str]] = []
    current: list[Token] = []
    for token in tokens:
        if token.is_word:
            current.append(token)
        elif current:
            phrases.append((current, token.text))
            current = []
        elif phrases and priority[token.text] > priority[phrases[-1][1]]:
            phrases[-1] = (phrases[-1][0], token.text)
    if current:
        phrases.append((current, "."))  # no final punctuation reads as a statement
    if not phrases:
        raise NothingToSayError()

    # A phrase is a question when the first sentence-final mark at or after it is "?".
    questions, sentence_mark = [False] * len(phrases), phrases[-1][1]
    for p in range(len(phrases) - 1, -1, -1):
        if phrases[p][1] in SENTENCE_END:
            sentence_mark = phrases[p][1]
        questions[p] = sentence_mark == "?"

    columns: dict[str, list] = {name: [] for name in PER_PHONEME_FIELDS}

    def add(phone: str, **context: Any) -> None:
        columns["phonemes"].append(phone)
        for name in PER_PHONEME_FIELDS[1:]:
            columns[name].append(context[name])

    def add_pause(phone: str, p: int) -> None:
        add(phone, word_index=-1, syllable_index=-1, syllable_count=0, phone_in_syllable=-1,
            syllable_size=0, stress=0, is_content_word=False, word_in_phrase=-1,
            phrase_word_count=len(phrases[p][0]), phrase_index=p,
            phrase_punctuation=phrases[p][1], is_question=questions[p])

    words: list[Token] = []
    add_pause(SILENCE, 0)
    for p, (phrase_words, mark) in enumerate(phrases):
        for w, token in enumerate(phrase_words):
            syllables = syllabify(token.phonemes)
            content = (token.source in ("letter", "inline")
                       or token.text.lower() not in FUNCTION_WORDS)
            for s, syllable in enumerate(syllables):
                stress = max((split_stress(ph)[1] or 0 for ph in syllable), default=0)
                for position, phone in enumerate(syllable):
                    add(phone, word_index=len(words), syllable_index=s,
                        syllable_count=len(syllables), phone_in_syllable=position,
                        syllable_size=len(syllable), stress=stress, is_content_word=content,
                        word_in_phrase=w, phrase_word_count=len(phrase_words), phrase_index=p,
                        phrase_punctuation=mark, is_question=questions[p])
            words.append(token)
        add_pause(PAUSE if p < len(phrases) - 1 else SILENCE, p)
    return Utterance(
        text=text, normalized=normalized, words=[t.text for t in words],
        word_sources=[t.source for t in words], word_ipa=[t.ipa for t in words],
        phrase_count=len(phrases), **columns,
    )


# --------------------------------------------------------------------------------------------
# Feature matrices

def phoneme_ids(utt: Utterance) -> np.ndarray:
    """(N,) int64 ids of ``frontend.phonemes.SYMBOLS`` (stress dropped)."""
    return np.array([phoneme_id(p) for p in utt.phonemes], dtype=np.int64)


def _position(index: np.ndarray, count: np.ndarray) -> np.ndarray:
    """(N,) index/count → (N, 2): fraction in [0, 1] and log(1 + count); zeros where index < 0."""
    valid = index >= 0
    fraction = np.where(count > 1, index / np.maximum(count - 1, 1), 0.0)
    return np.stack([np.where(valid, fraction, 0.0), np.where(valid, np.log1p(count), 0.0)], 1)


def phoneme_features(utt: Utterance, start: int = 0, end: int | None = None) -> np.ndarray:
    """(N, PHONEME_FEATURE_DIM) float32, columns as in ``PHONEME_FEATURE_LAYOUT``.

    ``start``/``end``: only the rows of phonemes [start, end) (the same rows as of the whole),
    so that a very long utterance can be processed in bounded memory.
    """
    end = len(utt.phonemes) if end is None else end
    rows = slice(start, end)
    n = end - start

    def column(values: list) -> np.ndarray:
        return np.array(values[rows])

    ids = phoneme_ids(utt)  # (N,)
    padded = np.concatenate([[0, 0], ids, [0, 0]])  # <pad> (id 0) beyond both ends
    bases = [split_stress(p)[0] for p in utt.phonemes[rows]]
    word_index = column(utt.word_index)
    is_pause = word_index < 0
    is_word = ~is_pause
    word_in_phrase = column(utt.word_in_phrase)
    phrase_word_count = column(utt.phrase_word_count)

    blocks: list[np.ndarray] = []
    eye = np.eye(len(SYMBOLS), dtype=np.float32)
    for offset in range(5):  # prev-prev, prev, current, next, next-next
        blocks.append(eye[padded[start + offset:start + offset + n]])
    blocks.append(np.eye(len(PHONE_CLASSES))[[PHONE_CLASSES.index(PHONE_CLASS[b]) for b in bases]])
    blocks.append(np.array([[b in VOICED] for b in bases]))
    blocks.append(np.eye(3)[column(utt.stress)] * is_word[:, None])
    blocks.append(column(utt.is_content_word)[:, None])
    blocks.append(_position(column(utt.phone_in_syllable), column(utt.syllable_size)))
    blocks.append(_position(column(utt.syllable_index), column(utt.syllable_count)))
    blocks.append(_position(word_in_phrase, phrase_word_count))
    blocks.append(_position(column(utt.phrase_index), np.full(n, utt.phrase_count)))
    blocks.append(np.full((n, 1), np.log1p(utt.word_count)))
    blocks.append(np.eye(len(PUNCTUATION_MARKS))[
        [PUNCTUATION_MARKS.index(m) for m in utt.phrase_punctuation[rows]]])
    blocks.append(column(utt.is_question)[:, None])
    blocks.append(np.stack([
        is_pause,
        is_word & (word_in_phrase == 0),
        is_word & (word_in_phrase == phrase_word_count - 1),
    ], 1))
    features = np.concatenate([b.astype(np.float32).reshape(n, -1) for b in blocks], 1)
    assert features.shape == (n, PHONEME_FEATURE_DIM), features.shape
    return features


def frame_features(phone_feats: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Per-phoneme rows (N, D) and durations in frames (N,) → (T, D + 4) float32, T = sum.

    Each phoneme's row is repeated over its frames; the 4 appended columns are, for frame j of a
    phoneme lasting n frames and frame t of T in the utterance: (j + 0.5) / n, (n - j - 0.5) / n,
    log(n), (t + 0.5) / T. Phonemes with 0 frames contribute no rows.
    """
    phone_feats = np.asarray(phone_feats, dtype=np.float32)
    durations = np.asarray(durations)
    if phone_feats.ndim != 2:
        raise ValueError(f"phone_feats must be (N, D), got shape {phone_feats.shape}")
    if durations.shape != (phone_feats.shape[0],):
        raise ValueError(f"durations must be (N,) = ({phone_feats.shape[0]},) to match "
                         f"phone_feats, got shape {durations.shape}")
    if durations.size and not np.issubdtype(durations.dtype, np.integer):
        if not np.all(np.isfinite(durations)) or np.any(durations != np.round(durations)):
            raise ValueError("durations must be whole frames: round them first, "
                             "e.g. np.rint(durations).astype(int)")
    durations = durations.astype(np.int64)
    if np.any(durations < 0):
        raise ValueError("durations must be >= 0 frames")
    total = int(durations.sum())
    starts = np.cumsum(durations) - durations  # (N,) first frame of each phoneme
    frames_per_row = np.repeat(durations, durations).astype(np.float32)  # (T,) n of its phoneme
    j = np.arange(total) - np.repeat(starts, durations)  # (T,) frame index inside the phoneme
    positions = np.stack([
        (j + 0.5) / np.maximum(frames_per_row, 1),
        (frames_per_row - j - 0.5) / np.maximum(frames_per_row, 1),
        np.log(np.maximum(frames_per_row, 1)),
        (np.arange(total) + 0.5) / max(total, 1),
    ], 1).astype(np.float32)  # (T, 4)
    repeated = np.repeat(phone_feats, durations, axis=0)  # (T, D)
    return np.concatenate([repeated, positions], 1)


class NothingToSayError(FrontendError):
    """Text (or one sentence of it) without a single speakable word."""

    def __init__(self, message: str = NO_SPEAKABLE_WORDS):
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Text → Utterance

@functools.lru_cache(maxsize=1)
def default_g2p() -> G2P:
    """The CMUdict + neural G2P, built once per process (CMUdict takes a second to parse)."""
    return G2P()


def _normalize(text: str, g2p: G2P) -> str:
    if not g2p.is_english:
        return text  # normalize_text expands English; espeak reads other languages' numbers
    try:
        return normalize_text(text)
    except FrontendError:
        raise
    except ValueError as exc:
        raise FrontendError(str(exc)) from None


def text_to_utterance(text: str, *, g2p: G2P | None = None) -> Utterance:
    """Normalize, pronounce and annotate ``text`` as one utterance (several sentences → phrases).

    Raises FrontendError for text without speakable words or with bad inline phonemes.
    """
    if not isinstance(text, str):
        raise FrontendError(f"text must be a string, got {type(text).__name__}")
    g2p = g2p if g2p is not None else default_g2p()
    if not text.strip():
        raise NothingToSayError()
    normalized = _normalize(text, g2p)
    return build_utterance(g2p(normalized), text=text, normalized=normalized)


class Frontend:
    """A configured G2P and the text → utterances pipeline of the synthesizer."""

    def __init__(
        self,
        backend: Backend = "cmudict",
        *,
        language: str = "en-us",
        lexicon: str | Path | Lexicon | None = None,
    ) -> None:
        self.g2p = G2P(backend, language=language, lexicon=lexicon)

    def utterance(self, text: str) -> Utterance:
        """All of ``text`` as one utterance."""
        return text_to_utterance(text, g2p=self.g2p)

    def utterances(self, text: str) -> Iterator[Utterance]:
        """One utterance per phrase (see ``phrases``); phrases with nothing to say are skipped.

        The whole text is checked first: FrontendError before anything is yielded.
        """
        produced = 0
        for phrase in self.phrases(text):
            utterance = self.phrase_utterance(phrase)
            if utterance is not None:
                produced += 1
                yield utterance
        if not produced:
            raise NothingToSayError()

    def phrases(self, text: str, *, max_words: int = MAX_PHRASE_WORDS) -> list[Phrase]:
        """Split, normalize and check all of ``text``: one Phrase per sentence, or several for a
        sentence of more than ``max_words`` words.

        Cheap next to pronouncing it (no G2P), so a bad inline phoneme block in the last line
        is reported before any audio is made. Raises FrontendError naming the line; raises
        NothingToSayError when no sentence has anything speakable.
        """
        if not isinstance(text, str) or not text.strip():
            raise NothingToSayError()
        phrases: list[Phrase] = []
        line, scanned = 1, 0
        for sentence in split_sentences(text):
            found = text.find(sentence, scanned)
            if found >= 0:
                line += text.count("\n", scanned, found)
                scanned = found
            try:
                normalized = _normalize(sentence, self.g2p)
                pieces = split_phrases(normalized, max_words)
            except FrontendError as exc:
                raise FrontendError(f"line {line}: {exc} (in {_excerpt(sentence)})") from None
            for index, piece in enumerate(pieces):
                phrases.append(Phrase(text=sentence if len(pieces) == 1 else piece,
                                      normalized=piece, line=line,
                                      sentence_end=index == len(pieces) - 1))
        if not any(kind != "punct" for phrase in phrases
                   for kind, _ in tokenize(phrase.normalized)):
            raise NothingToSayError()
        return phrases

    def phrase_utterance(self, phrase: Phrase) -> Utterance | None:
        """The Utterance of a checked phrase; None if it has nothing speakable."""
        try:
            return build_utterance(self.g2p(phrase.normalized), text=phrase.text,
                                   normalized=phrase.normalized)
        except NothingToSayError:
            logger.info("skipping a sentence without speakable words: %r", phrase.text)
            return None


@dataclass(frozen=True)
class Phrase:
    """A stretch of text spoken as one utterance: a sentence, or a part of a long one."""

    text: str  # the original sentence (its normalized part when a long sentence was split)
    normalized: str  # what is spoken
    line: int  # 1-based line of the input where its sentence starts
    sentence_end: bool  # a sentence pause follows (else a shorter phrase pause)


# Where a long sentence may break, best first: after these marks, then before these words.
_PHRASE_MARKS = frozenset({",", ";", ":", "--", "–", "—", "…"})
_CONJUNCTIONS = frozenset(
    "and but or nor so yet because although though while whereas which who whom whose that "
    "when where if unless until then".split())


def split_phrases(normalized: str, max_words: int = MAX_PHRASE_WORDS) -> list[str]:
    """Normalized text → pieces of at most ``max_words`` words (the text itself when it fits).

    A piece ends at the last comma-like mark of its window, else before the last conjunction,
    else after ``max_words`` words; a break never leaves a piece under a third of the window.
    Raises FrontendError on unbalanced braces (from ``tokenize``).
    """
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")
    tokens = tokenize(normalized)
    is_word = [kind != "punct" for kind, _ in tokens]
    if sum(is_word) <= max_words:
        return [normalized]
    shortest = max(1, max_words // 3)
    pieces: list[str] = []
    start = 0
    while sum(is_word[start:]) > max_words:
        words, end, after_mark, before_conjunction = 0, start, None, None
        while words < max_words:  # the window: up to and including the max_words-th word
            if is_word[end]:
                words += 1
                if words > shortest and tokens[end][1].lower() in _CONJUNCTIONS:
                    before_conjunction = end
            elif words >= shortest and tokens[end][1] in _PHRASE_MARKS:
                after_mark = end + 1
            end += 1
        while end < len(tokens) and not is_word[end]:  # marks right after the window
            if tokens[end][1] in _PHRASE_MARKS:
                after_mark = end + 1
            end += 1
        cut = after_mark or before_conjunction or end
        pieces.append(_join_tokens(tokens[start:cut]))
        start = cut
    pieces.append(_join_tokens(tokens[start:]))
    return [piece for piece in pieces if piece]


def _join_tokens(tokens: list[tuple[str, str]]) -> str:
    text = ""
    for kind, token in tokens:
        text += token if (kind == "punct" and token not in ("--",)) or not text else " " + token
    return text.strip()


def _excerpt(text: str, limit: int = 60) -> str:
    """A short quotation of the user's text for an error line."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")
