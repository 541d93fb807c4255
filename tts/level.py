"""Output level: every speaker of a voice speaks at the voice's one level, and never clips.

The teachers of the bundled voice spoke 16 dB apart (p232 about -30 dBFS, p234 -14 dBFS) and
the WaveNet learned that. At export each speaker's raw output is measured on a few sentences
(active-speech RMS and peak, stored in ``voice.json``); the Synthesizer multiplies by the gain
that brings the level to the voice's ``synthesis.level_dbfs`` unless that would take the
measured peak above ``PEAK_CEILING_DBFS`` (``VoiceSpec.output_gain``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tts.synthesizer import Synthesizer

# Varied phonemes, plain words (about 15 s of speech per speaker). Six, not three: a speaker's
# level varies by sentence (±1.5 dB for p233 of the bundled voice), and with three the
# speakers of the bundled voice came out up to 4 dB apart on other text, with six 1.3 dB.
LEVEL_SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "We were away a year ago, but now we are home.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese.",
    "The rainbow is a division of white light into many beautiful colors.",
    "A large size in stockings is hard to sell.",
)
FRAME_SECONDS = 0.02
# Frames within this many dB of the loudest frame are speech; the rest is pause or silence.
ACTIVE_RANGE_DB = 35.0


def dbfs(amplitude: float) -> float:
    """An amplitude (RMS or peak, full scale 1.0) in dB relative to full scale."""
    return 20.0 * math.log10(max(float(amplitude), 1e-6))


def active_speech_rms(audio: np.ndarray, sample_rate: int) -> float:
    """RMS over the 20 ms frames that carry speech (within ``ACTIVE_RANGE_DB`` of the loudest),
    so that pauses do not lower the level of a slow speaker."""
    frame = max(1, int(round(FRAME_SECONDS * sample_rate)))
    count = len(audio) // frame
    if count == 0:
        return 0.0
    energy = np.mean(np.square(audio[:count * frame].astype(np.float64).reshape(count, frame)),
                     axis=1)  # (frames,)
    active = energy >= energy.max() * 10.0 ** (-ACTIVE_RANGE_DB / 10.0)
    return float(np.sqrt(energy[active].mean()))


def measure_speaker_levels(synth: Synthesizer, sentences: tuple[str, ...] = LEVEL_SENTENCES,
                           seed: int = 0, speakers: list[str] | None = None
                           ) -> list[tuple[float, float]]:
    """(active-speech level, peak) in dBFS of each speaker of ``synth`` (or of ``speakers``),
    in index order.

    ``synth`` must speak at its raw level (a voice without measured levels, or those speakers
    unmeasured), so that what is measured is what the gain will be applied to.
    """
    text = " ".join(sentences)
    levels = []
    for speaker in synth.speakers if speakers is None else speakers:
        audio = synth.synthesize(text, speaker=speaker, seed=seed)
        levels.append((round(dbfs(active_speech_rms(audio, synth.sample_rate)), 2),
                       round(dbfs(np.max(np.abs(audio), initial=0.0)), 2)))
    return levels
