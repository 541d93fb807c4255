"""The project's one phoneme inventory, with stable integer ids.

Ids never change once released: a voice stores the inventory it was trained with, and a
checkpoint with a different inventory is refused. New symbols may only be appended.

Layout:
    0       <pad>   padding in batches, never produced by the frontend
    1       sil     silence at the start and end of an utterance
    2       sp      a pause inside an utterance (from punctuation: , ; : — etc.)
    3..41   the 39 ARPAbet phonemes of CMUdict, without stress
Stress (0 unstressed, 1 primary, 2 secondary) is a separate feature of vowels, so ``AH0`` and
``AH1`` share the id of ``AH``.
"""

from __future__ import annotations

PAD = "<pad>"
SILENCE = "sil"
PAUSE = "sp"

VOWELS = (
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
)
CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
    "T", "TH", "V", "W", "Y", "Z", "ZH",
)
ARPABET = tuple(sorted(VOWELS + CONSONANTS))  # the 39 CMUdict phonemes, alphabetical

SYMBOLS: tuple[str, ...] = (PAD, SILENCE, PAUSE) + ARPABET
SYMBOL_TO_ID: dict[str, int] = {s: i for i, s in enumerate(SYMBOLS)}
SILENCES = frozenset({SILENCE, PAUSE})

# Articulatory classes: shared across phonemes so that rare phonemes borrow from common ones.
PHONE_CLASS: dict[str, str] = {
    **{v: "vowel" for v in VOWELS},
    **{p: "stop" for p in ("B", "D", "G", "K", "P", "T")},
    **{p: "affricate" for p in ("CH", "JH")},
    **{p: "fricative" for p in ("DH", "F", "HH", "S", "SH", "TH", "V", "Z", "ZH")},
    **{p: "nasal" for p in ("M", "N", "NG")},
    **{p: "liquid" for p in ("L", "R")},
    **{p: "glide" for p in ("W", "Y")},
    SILENCE: "silence",
    PAUSE: "silence",
}
VOICED = frozenset(VOWELS) | frozenset(
    ("B", "D", "G", "JH", "DH", "V", "Z", "ZH", "M", "N", "NG", "L", "R", "W", "Y")
)


def split_stress(phone: str) -> tuple[str, int | None]:
    """``"AH0"`` → ``("AH", 0)``; ``"K"`` → ``("K", None)``.
    Raises ValueError on unknown symbols."""
    base, stress = phone, None
    if phone and phone[-1] in "012":
        base, stress = phone[:-1], int(phone[-1])
    if base not in SYMBOL_TO_ID or base == PAD:
        raise ValueError(f"unknown phoneme {phone!r}: use ARPAbet symbols such as AH0, K, sil, sp")
    if stress is not None and base not in VOWELS:
        raise ValueError(f"phoneme {phone!r} carries stress but is not a vowel")
    return base, stress


def phoneme_id(phone: str) -> int:
    """Stable id of a phoneme with or without its stress digit."""
    return SYMBOL_TO_ID[split_stress(phone)[0]]


def inventory() -> list[str]:
    """The inventory as stored in a voice's ``voice.json``."""
    return list(SYMBOLS)
