"""What a prosody model reads per phoneme, by its config's ``feature_set``.

* ``"phoneme"``: ``frontend.features.phoneme_features`` (the models before session 11);
* ``"phoneme+intonation"``: those, then ``frontend.intonation.intonation_features`` (flite's
  accents and syllable context);
* ``"phoneme+intonation+flite_durations"``: those, then
  ``frontend.flite_durations.flite_duration_features`` (the clustergen voices' duration trees);
* ``"phoneme+intonation+flite_f0"``: ``phoneme+intonation``, then
  ``frontend.flite_f0.flite_f0_features`` (the same voices' F0 trees, for the pitch model).

Every set starts with the columns of ``phoneme+intonation`` (but ``phoneme``), and
``prosody_phone_features`` builds the rows for any of them, so a model is fed exactly what it
was trained on.
"""

from __future__ import annotations

import numpy as np

from frontend.features import PHONEME_FEATURE_DIM, Utterance, phoneme_features
from frontend.flite_durations import FLITE_DURATION_DIM, flite_duration_features
from frontend.flite_f0 import FLITE_F0_DIM, flite_f0_features
from frontend.intonation import INTONATION_FEATURE_DIM, Syllable, intonation_features, syllables

__all__ = ["FEATURE_SETS", "feature_set_dim", "prosody_phone_features"]

FEATURE_SETS: dict[str, int] = {
    "phoneme": PHONEME_FEATURE_DIM,
    "phoneme+intonation": PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM,
    "phoneme+intonation+flite_durations":
        PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + FLITE_DURATION_DIM,
    "phoneme+intonation+flite_f0": PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + FLITE_F0_DIM,
}
# the blocks a set adds after phoneme+intonation's columns, in order
_PRIORS = {"flite_durations": flite_duration_features, "flite_f0": flite_f0_features}


def feature_set_dim(feature_set: str) -> int:
    """The width of one phoneme's row for a prosody model's ``feature_set``."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature_set {feature_set!r}: use one of "
                         f"{', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[feature_set]


def prosody_phone_features(utt: Utterance, feature_set: str, start: int = 0,
                           end: int | None = None, phone_feats: np.ndarray | None = None,
                           sylls: list[Syllable] | None = None) -> np.ndarray:
    """(N, feature_set_dim(feature_set)) rows for a prosody model that reads ``feature_set``.

    ``phone_feats``: the utterance's ``phoneme_features`` rows [start, end) when the caller
    has them already (they are the first columns of every set); ``sylls``: its
    ``syllables``, likewise.
    """
    feature_set_dim(feature_set)
    if phone_feats is None:
        phone_feats = phoneme_features(utt, start, end)  # (N, PHONEME_FEATURE_DIM)
    if feature_set == "phoneme":
        return phone_feats
    sylls = syllables(utt) if sylls is None else sylls
    blocks = [phone_feats, intonation_features(utt, start, end, sylls)]
    for prior in feature_set.split("+")[2:]:
        blocks.append(_PRIORS[prior](utt, start, end, sylls))  # (N, its width)
    return np.concatenate(blocks, 1)
