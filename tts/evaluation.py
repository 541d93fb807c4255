"""Objective measures of synthesized speech: ASR word error rate, MCD and F0 RMSE.

Used by ``benchmarks/intelligibility.py``; each piece also works alone.

* **WER**: pocketsphinx (its bundled en-us acoustic model, language model and dictionary; no
  downloads) transcribes 16 kHz audio. ``transcript_words`` puts a reference text into the
  form pocketsphinx writes (lower case, numbers spelled out by ``frontend.normalize``,
  punctuation dropped); ``word_errors`` counts word-level Levenshtein edits, and a speaker's
  WER is the sum of edits over the sum of reference words.
* **MCD** (mel-cepstral distortion, dB): ``10 / ln 10 * sqrt(2 * sum_d (c_d - c'_d)^2)`` over
  mel-cepstral coefficients d = 1..24, averaged over the frame pairs of a DTW path. The
  mel-cepstrum is SPTK's (all-pass warping, alpha 0.42 at 16 kHz, log-amplitude convention, as
  ``pysptk.sp2mc`` computes it) of WORLD's CheapTrick spectral envelope, so the values are on
  the scale that published MCD figures use.
* **F0 RMSE** in cents, ``1200 * log2(f / f_ref)``, on the frame pairs of the same DTW path that
  are voiced in both; F0 from ``frontend.pitch`` (Praat's method).

Both signals are analysed on the project's frame grid (5 ms hop, frame ``i`` centred at
``(i + 0.5) * hop``) after trimming leading and trailing silence (``frontend.audio``), so that
differing amounts of edge silence do not count as distortion.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from frontend.audio import HOP_LENGTH, SAMPLE_RATE, trim_silence
from frontend.normalize import normalize_text
from frontend.pitch import extract_f0, import_pyworld

logger = logging.getLogger(__name__)

MCEP_ORDER = 24  # coefficients 1..24 enter the MCD; c0 (energy) does not
MCEP_ALPHA = 0.42  # all-pass constant approximating the mel scale at 16 kHz (SPTK's value)
F0_METHOD = "praat"
_MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)
_TRANSCRIPT_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_DECODER_VARIANT = re.compile(r"\(\d+\)$")  # "and(2)": a dictionary variant of "and"


class EvaluationError(ValueError):
    """Audio that cannot be measured (wrong rate, too short, not finite)."""


# -- word error rate ----------------------------------------------------------------------------
def transcript_words(text: str) -> list[str]:
    """``text`` as the words a recognizer writes: normalized, lower case, no punctuation.

    "Dr. Smith paid $3.50." → ["doctor", "smith", "paid", "three", "dollars", "fifty", "cents"].
    """
    spoken = normalize_text(text).lower().replace("-", " ")
    return _TRANSCRIPT_WORD.findall(spoken)


def _hypothesis_words(hypothesis: str) -> list[str]:
    words = []
    for token in hypothesis.split():
        if token.startswith(("<", "[", "+")):  # <s>, <sil>, [NOISE], +breath+: not words
            continue
        words.extend(_TRANSCRIPT_WORD.findall(_DECODER_VARIANT.sub("", token.lower())))
    return words


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1,  # deletion
                               current[j - 1] + 1,  # insertion
                               previous[j - 1] + (ref_word != hyp_word)))  # substitution
        previous = current
    return previous[-1]


def word_error_rate(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Edits / reference words; strings are split into words the way ``transcript_words`` and
    the recognizer's output are. Raises EvaluationError for an empty reference."""
    ref = transcript_words(reference) if isinstance(reference, str) else list(reference)
    hyp = _hypothesis_words(hypothesis) if isinstance(hypothesis, str) else list(hypothesis)
    if not ref:
        raise EvaluationError("the reference has no words: WER is undefined")
    return word_errors(ref, hyp) / len(ref)


class Recognizer:
    """Pocketsphinx large-vocabulary decoding with its bundled en-us models.

    Building one takes about half a second; reuse it. Not thread-safe (one per thread).
    Transcriptions do not depend on what the recognizer heard before.
    """

    sample_rate = SAMPLE_RATE

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(loglevel="FATAL")

    def transcribe(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
        """The words heard in ``audio`` (float in [-1, 1], mono), lower case, space-separated;
        "" when nothing is recognized."""
        audio = _check_audio(audio, sample_rate)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        decoder = self._decoder
        # Feature extraction keeps state (cepstral mean) from one utterance to the next, so a
        # transcription would depend on what was decoded before (measured: one word of a flite
        # sentence changed after a second of noise). Each utterance starts afresh instead.
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return " ".join(_hypothesis_words(hypothesis.hypstr)) if hypothesis is not None else ""

    def words(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[str]:
        return self.transcribe(audio, sample_rate).split()


# -- spectral and F0 analysis ---------------------------------------------------------------------
@dataclass(frozen=True)
class SpeechFeatures:
    """Frame-level analysis of one utterance at the project's hop (edge silence trimmed)."""

    f0_hz: np.ndarray  # (T,) 0 where unvoiced
    voiced: np.ndarray  # (T,) bool
    mcep: np.ndarray  # (T, MCEP_ORDER + 1) mel-cepstrum, c0 first

    @property
    def num_frames(self) -> int:
        return len(self.f0_hz)


def _check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    audio = np.asarray(audio)
    if sample_rate != SAMPLE_RATE:
        raise EvaluationError(f"expected {SAMPLE_RATE} Hz audio (pocketsphinx's en-us model and "
                              f"the frame grid need it), got {sample_rate} Hz: resample first")
    if audio.ndim != 1:
        raise EvaluationError(f"expected mono audio of shape (N,), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise EvaluationError("the audio contains NaN or infinite samples")
    return audio.astype(np.float32)


def mel_cepstrum(spectral_envelope: np.ndarray, order: int = MCEP_ORDER,
                 alpha: float = MCEP_ALPHA) -> np.ndarray:
    """Power spectral envelope (T, fft/2 + 1) → mel-cepstrum (T, order + 1), SPTK convention.

    The log-amplitude spectrum is resampled onto the all-pass-warped frequency axis and
    turned into a cepstrum; ``ln|H(w)| = c0 + sum_m c_m cos(m * warp(w))``. This equals
    ``pysptk.sp2mc`` up to the aliasing of the truncated cepstrum.
    """
    envelope = np.asarray(spectral_envelope, dtype=np.float64)
    bins = envelope.shape[1]
    grid = np.linspace(0.0, np.pi, bins)  # (F,) warped frequencies, evenly spaced
    # The linear frequency that the all-pass warp sends to each warped one (warp by -alpha).
    linear = np.arctan2((1 - alpha ** 2) * np.sin(grid),
                        (1 + alpha ** 2) * np.cos(grid) + 2 * alpha)
    log_amplitude = 0.5 * np.log(np.maximum(envelope, 1e-20))  # (T, F)
    warped = np.stack([np.interp(linear, grid, row) for row in log_amplitude])  # (T, F)
    cepstrum = np.fft.irfft(warped, n=2 * (bins - 1), axis=1)[:, :order + 1]  # (T, order + 1)
    cepstrum[:, 1:] *= 2.0  # one-sided: the cos terms carry both halves of the even cepstrum
    return cepstrum


def analyze(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, *, trim: bool = True,
            hop_length: int = HOP_LENGTH) -> SpeechFeatures:
    """F0, voicing and mel-cepstrum per frame of ``audio`` (16 kHz float, mono)."""
    audio = _check_audio(audio, sample_rate)
    if trim:
        audio, _ = trim_silence(audio, sample_rate)
    try:
        f0_hz, voiced = extract_f0(audio, sample_rate, hop_length, method=F0_METHOD,
                                   two_pass=True)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    pyworld = import_pyworld()
    times = (np.arange(len(f0_hz)) + 0.5) * hop_length / sample_rate  # (T,) frame centres
    envelope = pyworld.cheaptrick(audio.astype(np.float64), f0_hz.astype(np.float64), times,
                                  sample_rate)  # (T, fft/2 + 1)
    return SpeechFeatures(f0_hz=f0_hz, voiced=voiced, mcep=mel_cepstrum(envelope))


def dtw_path(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost monotonic alignment of a (N, M) cost matrix, steps (1,0), (0,1), (1,1).

    Returns (P, 2) index pairs from (0, 0) to (N - 1, M - 1). Vectorized along anti-diagonals.
    """
    cost = np.asarray(cost, dtype=np.float64)
    rows, cols = cost.shape
    if rows == 0 or cols == 0:
        raise EvaluationError("cannot align an empty sequence")
    total = np.full((rows + 1, cols + 1), np.inf)  # total[i + 1, j + 1]: best cost to (i, j)
    total[0, 0] = 0.0
    for diagonal in range(rows + cols - 1):
        i = np.arange(max(0, diagonal - cols + 1), min(rows, diagonal + 1))
        j = diagonal - i
        best = np.minimum(np.minimum(total[i, j], total[i, j + 1]), total[i + 1, j])
        total[i + 1, j + 1] = cost[i, j] + best
    path = [(rows - 1, cols - 1)]
    i, j = rows - 1, cols - 1
    while i > 0 or j > 0:
        moves = ((total[i, j], i - 1, j - 1), (total[i, j + 1], i - 1, j),
                 (total[i + 1, j], i, j - 1))
        _, i, j = min(moves, key=lambda move: move[0])
        path.append((i, j))
    return np.asarray(path[::-1], dtype=np.int64)


@dataclass(frozen=True)
class Comparison:
    """Distances of one test utterance from its reference along their DTW path."""

    mcd_db: float  # mean over the path's frame pairs
    frames: int  # frame pairs on the path
    f0_rmse_cents: float  # NaN when no frame pair is voiced in both
    f0_frames: int  # frame pairs voiced in both

    def to_dict(self) -> dict[str, float | int | None]:
        return {"mcd_db": self.mcd_db, "frames": self.frames,
                "f0_rmse_cents": None if math.isnan(self.f0_rmse_cents) else self.f0_rmse_cents,
                "f0_frames": self.f0_frames}


def compare(reference: SpeechFeatures, test: SpeechFeatures) -> Comparison:
    """MCD (dB) and F0 RMSE (cents) of ``test`` against ``reference`` after DTW on mel-cepstra."""
    ref_c, test_c = reference.mcep[:, 1:], test.mcep[:, 1:]  # (N, D), (M, D)
    squared = (np.sum(ref_c ** 2, 1)[:, None] + np.sum(test_c ** 2, 1)[None, :]
               - 2.0 * ref_c @ test_c.T)  # (N, M)
    frame_mcd = _MCD_SCALE * np.sqrt(np.maximum(squared, 0.0))  # (N, M)
    path = dtw_path(frame_mcd)  # (P, 2)
    mcd = float(frame_mcd[path[:, 0], path[:, 1]].mean())
    both = reference.voiced[path[:, 0]] & test.voiced[path[:, 1]]  # (P,)
    if both.any():
        ratio = test.f0_hz[path[both, 1]].astype(np.float64) / reference.f0_hz[path[both, 0]]
        f0_rmse = float(np.sqrt(np.mean((1200.0 * np.log2(ratio)) ** 2)))
    else:
        f0_rmse = math.nan
    return Comparison(mcd_db=mcd, frames=len(path), f0_rmse_cents=f0_rmse,
                      f0_frames=int(both.sum()))


def mean_mcd(comparisons: Sequence[Comparison]) -> float:
    """Frame-weighted mean MCD of several utterances (NaN for none)."""
    frames = sum(c.frames for c in comparisons)
    if frames == 0:
        return math.nan
    return sum(c.mcd_db * c.frames for c in comparisons) / frames


def pooled_f0_rmse(comparisons: Sequence[Comparison]) -> float:
    """F0 RMSE in cents over all voiced frame pairs of several utterances (NaN for none)."""
    frames = sum(c.f0_frames for c in comparisons)
    if frames == 0:
        return math.nan
    return math.sqrt(sum(c.f0_rmse_cents ** 2 * c.f0_frames for c in comparisons
                         if c.f0_frames) / frames)


__all__ = [
    "Comparison", "EvaluationError", "MCEP_ALPHA", "MCEP_ORDER", "Recognizer", "SpeechFeatures",
    "analyze", "compare", "dtw_path", "mean_mcd", "mel_cepstrum", "pooled_f0_rmse",
    "transcript_words", "word_error_rate", "word_errors",
]
