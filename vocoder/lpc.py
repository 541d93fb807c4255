"""Linear prediction from a log-mel spectrogram, and the per-frame LPC filters of excitation mode.

In excitation mode (``WaveNetConfig.lpc_order > 0``, the ExcitNet idea: Song et al., 2019) the
WaveNet does not model the waveform but its linear-prediction residual: the waveform passed
through the inverse filter ``A(z) = 1 + a_1 z^-1 + ... + a_p z^-p`` of its own spectral
envelope. Generation draws the residual sample by sample and passes it through the synthesis
filter ``1 / A(z)``. The formants then come from the envelope, which the frame-rate
conditioning network predicts as a log-mel spectrogram (its training-time auxiliary head, kept
in the model in this mode), and the sample-rate network only has to learn the excitation:
pulses and noise, a far easier distribution to learn from a few hours of training.

Filters are derived from a log-mel spectrogram in both directions, so that training (the
recording's own mel) and generation (the predicted mel) go through the same function:

    log-mel (bands, T) → power spectrum per linear bin → autocorrelation (inverse real FFT)
    → lag window → Levinson-Durbin → (T, order + 1) coefficients, a_0 = 1

Frame ``f``'s filter applies to samples ``f * hop ... (f + 1) * hop - 1``, the framing of the
rest of the package. Both filters are exact inverses of each other (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

# Bandwidth expansion: a Gaussian lag window of 60 Hz keeps the poles off the unit circle, so
# that the synthesis filter of a predicted (and thus imperfect) envelope never rings.
LAG_WINDOW_HZ = 60.0
# White-noise correction: -40 dB of flat floor under the envelope, for the same reason.
NOISE_FLOOR = 1e-4


class LPCError(ValueError):
    """Unusable input to the LPC functions; the message names the problem."""


@dataclass(frozen=True)
class LPCSpec:
    """How a model derives its filters: ``WaveNetConfig``'s lpc_order, mel_bands, mel_fft."""
    order: int
    bands: int
    n_fft: int
    sample_rate: int
    hop_length: int

    def basis(self) -> np.ndarray:
        return mel_basis(self.sample_rate, self.n_fft, self.bands)

    def residual(self, audio: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
        """A recording (frames * hop,) → its residual under the filters of its own log-mel."""
        basis = self.basis() if basis is None else basis
        coefficients = mel_to_lpc(log_mel(audio, basis, self.hop_length), basis, self.order,
                                  self.sample_rate)
        return inverse_filter(audio, coefficients, self.hop_length)


def mel_basis(sample_rate: int, n_fft: int, bands: int) -> np.ndarray:
    """The mel filterbank (bands, n_fft // 2 + 1) of ``log_mel`` and its torch twin
    ``vocoder.train.MelSpectrogram``: the one definition of both.

    ``librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=bands)`` (Slaney mel scale, Slaney
    area normalization, 0 Hz to Nyquist) computed here in numpy, so that synthesis does not
    import librosa (seconds of start-up). It rounds to float32 where librosa does (its default
    dtype), so the two agree to the last bit (tested).
    """
    mel_edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0),
                                       bands + 2))  # (bands + 2,) Hz
    bins = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)  # (n_fft // 2 + 1,) Hz
    widths = np.diff(mel_edges)  # (bands + 1,)
    ramps = np.subtract.outer(mel_edges, bins)  # (bands + 2, bins)
    rising = -ramps[:-2] / widths[:-1, None]  # (bands, bins)
    falling = ramps[2:] / widths[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    area_norm = 2.0 / (mel_edges[2:] - mel_edges[:-2])  # (bands,)
    return (triangles * area_norm[:, None]).astype(np.float32).astype(np.float64)


# The Slaney mel scale (Auditory Toolbox): linear below 1 kHz, logarithmic above.
_MEL_LINEAR_HZ = 200.0 / 3.0  # Hz per mel below 1 kHz
_MEL_BREAK_HZ = 1000.0
_MEL_BREAK = _MEL_BREAK_HZ / _MEL_LINEAR_HZ
_MEL_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    if hz < _MEL_BREAK_HZ:
        return hz / _MEL_LINEAR_HZ
    return _MEL_BREAK + float(np.log(hz / _MEL_BREAK_HZ)) / _MEL_LOG_STEP


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = _MEL_LINEAR_HZ * mels
    log_region = mels >= _MEL_BREAK
    hz[log_region] = _MEL_BREAK_HZ * np.exp(_MEL_LOG_STEP * (mels[log_region] - _MEL_BREAK))
    return hz


# The power a log-mel band is floored at before the log (digital silence: log(1e-5)).
LOG_MEL_FLOOR = 1e-5


def mel_frame_padding(num_samples: int, n_fft: int, hop: int) -> tuple[int, int, str]:
    """Samples of padding (left, right) and the pad mode that centre one ``n_fft`` window on
    each frame: frame f covers samples [f * hop, (f + 1) * hop). Reflect padding, unless the
    audio is too short to reflect (then zeros)."""
    left = (n_fft - hop) // 2
    right = n_fft - hop - left
    return left, right, "reflect" if num_samples > max(left, right) else "constant"


def log_mel(audio: np.ndarray, basis: np.ndarray, hop: int) -> np.ndarray:
    """Audio (frames * hop,) → log-mel (bands, frames), the envelope of excitation mode and the
    auxiliary target of training (``vocoder.train.MelSpectrogram`` is this in torch, tested):
    one periodic Hann window of ``n_fft`` samples centred on each frame (``mel_frame_padding``),
    natural log of the power floored at ``LOG_MEL_FLOOR``."""
    n_fft = 2 * (basis.shape[1] - 1)
    audio = np.asarray(audio, np.float64)
    if audio.ndim != 1 or len(audio) % hop:
        raise LPCError(f"audio must be 1-D with a whole number of {hop}-sample frames, "
                       f"got shape {audio.shape}")
    left, right, mode = mel_frame_padding(len(audio), n_fft, hop)
    padded = np.pad(audio, (left, right), mode=mode)
    frames = len(audio) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]  # (T, n_fft)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2  # (T, bins)
    return np.log(np.maximum(basis @ power.T, LOG_MEL_FLOOR))  # (bands, T)


def mel_to_power(log_mel: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Log-mel (bands, T) → a smooth power spectrum (n_fft // 2 + 1, T).

    A band's energy is the weighted sum of the power under its triangle; if the power is flat
    there, it equals the band's energy over the triangle's area. Each linear bin then takes the
    overlap-weighted mean of the bands that cover it (the nearest band where none does).
    """
    basis = np.asarray(basis, np.float64)
    if log_mel.ndim != 2 or log_mel.shape[0] != basis.shape[0]:
        raise LPCError(f"log-mel must be ({basis.shape[0]}, frames), got {log_mel.shape}")
    area = basis.sum(axis=1, keepdims=True)  # (bands, 1)
    level = np.exp(np.asarray(log_mel, np.float64)) / np.maximum(area, 1e-12)  # (bands, T)
    weights = basis.T.copy()  # (bins, bands)
    coverage = weights.sum(axis=1)
    centres = np.argmax(basis, axis=1)  # (bands,)
    for bin_index in np.flatnonzero(coverage <= 0):
        weights[bin_index, np.argmin(np.abs(centres - bin_index))] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ level  # (bins, T)


def power_to_lpc(power: np.ndarray, order: int, sample_rate: int) -> np.ndarray:
    """Power spectrum (n_fft // 2 + 1, T) → LPC coefficients (T, order + 1), a_0 = 1."""
    if order < 1:
        raise LPCError(f"order must be >= 1, got {order}")
    n_fft = 2 * (power.shape[0] - 1)
    if order >= n_fft // 2:
        raise LPCError(f"order {order} is too high for a {n_fft}-point spectrum")
    autocorrelation = np.fft.irfft(power, n=n_fft, axis=0)[:order + 1].T  # (T, order + 1)
    lags = np.arange(order + 1)
    sigma = 2.0 * np.pi * LAG_WINDOW_HZ / sample_rate
    autocorrelation = autocorrelation * np.exp(-0.5 * (sigma * lags) ** 2)
    autocorrelation[:, 0] *= 1.0 + NOISE_FLOOR
    coefficients = np.zeros((len(autocorrelation), order + 1))  # (T, order + 1)
    _levinson(np.ascontiguousarray(autocorrelation), order, coefficients, np.zeros(order + 1))
    return coefficients


def mel_to_lpc(log_mel: np.ndarray, basis: np.ndarray, order: int,
               sample_rate: int) -> np.ndarray:
    """Log-mel (bands, T) → (T, order + 1) float64 LPC coefficients, a_0 = 1."""
    return power_to_lpc(mel_to_power(log_mel, basis), order, sample_rate)


# The kernels below run without the GIL and write into arrays their callers allocate: an
# allocation in a nogil kernel races a Python allocator hook such as tracemalloc's.
@numba.njit(cache=True, nogil=True)
def _levinson(autocorrelation, order, coefficients, previous):
    """Levinson-Durbin per frame into ``coefficients`` (T, order + 1), zeros on entry;
    ``previous`` (order + 1,) is scratch."""
    frames = autocorrelation.shape[0]
    for f in range(frames):
        a = coefficients[f]
        a[0] = 1.0
        error = autocorrelation[f, 0]
        if error <= 0.0:
            continue  # silence: the identity filter
        for i in range(1, order + 1):
            acc = autocorrelation[f, i]
            for j in range(1, i):
                acc += a[j] * autocorrelation[f, i - j]
            reflection = -acc / error
            # Numerically unstable step (|k| >= 1): keep the stable lower-order filter.
            if not abs(reflection) < 1.0:
                break
            previous[:i] = a[:i]
            for j in range(1, i):
                a[j] = previous[j] + reflection * previous[i - j]
            a[i] = reflection
            error *= 1.0 - reflection * reflection


@numba.njit(cache=True, nogil=True)
def _filter(signal, coefficients, hop, output):
    """The FIR inverse filter A(z) into ``output``: e[t] = sum_k a_k[frame(t)] x[t - k]."""
    order = coefficients.shape[1] - 1
    for t in range(signal.shape[0]):
        frame = min(t // hop, coefficients.shape[0] - 1)
        acc = float(signal[t])
        for k in range(1, min(order, t) + 1):
            acc += coefficients[frame, k] * signal[t - k]
        output[t] = acc


@numba.njit(cache=True, nogil=True)
def _synthesize(excitation, coefficients, hop, start, history, output):
    """The all-pole 1/A(z) on samples ``start ...`` of an utterance, into ``output``.

    ``history`` (order,) holds the outputs just before ``start`` (oldest first) and is updated
    in place, so that consecutive chunks give exactly the samples of one call on the whole.
    """
    order = coefficients.shape[1] - 1
    for t in range(excitation.shape[0]):
        now = start + t
        frame = min(now // hop, coefficients.shape[0] - 1)
        acc = float(excitation[t])
        for k in range(1, min(order, now) + 1):
            past = output[t - k] if t >= k else history[order + t - k]
            acc += -1.0 * coefficients[frame, k] * past
        output[t] = acc
    count = excitation.shape[0]
    if count >= order:
        history[:] = output[count - order:]
    elif count > 0:
        for k in range(order - count):  # shift the kept outputs down (forward: no overlap hazard)
            history[k] = history[k + count]
        history[order - count:] = output


def _check(signal: np.ndarray, coefficients: np.ndarray, hop: int) -> None:
    if signal.ndim != 1 or coefficients.ndim != 2 or coefficients.shape[1] < 2:
        raise LPCError(f"expected a 1-D signal and (frames, order + 1) coefficients, got "
                       f"{signal.shape} and {coefficients.shape}")
    if len(signal) and len(coefficients) * hop < len(signal):
        raise LPCError(f"{len(coefficients)} frames of coefficients cover "
                       f"{len(coefficients) * hop} samples, fewer than the signal's {len(signal)}")


def inverse_filter(audio: np.ndarray, coefficients: np.ndarray, hop: int) -> np.ndarray:
    """Residual e[t] = sum_k a_k[frame(t)] x[t - k] (float64), zero history before t = 0."""
    audio = np.asarray(audio, np.float64)
    _check(audio, coefficients, hop)
    output = np.empty(len(audio))
    _filter(audio, np.ascontiguousarray(coefficients, np.float64), hop, output)
    return output


class SynthesisFilter:
    """``synthesis_filter`` one chunk at a time: the filter's memory is explicit state here."""

    def __init__(self, coefficients: np.ndarray, hop: int):
        self.coefficients = np.ascontiguousarray(coefficients, np.float64)  # (frames, order + 1)
        if self.coefficients.ndim != 2 or self.coefficients.shape[1] < 2:
            raise LPCError(f"expected (frames, order + 1) coefficients, got "
                           f"{self.coefficients.shape}")
        self.hop = hop
        self.position = 0  # samples filtered so far
        self.history = np.zeros(self.coefficients.shape[1] - 1)  # (order,) last outputs

    def __call__(self, excitation: np.ndarray) -> np.ndarray:
        excitation = np.asarray(excitation, np.float64)
        end = self.position + len(excitation)
        if excitation.ndim != 1 or len(self.coefficients) * self.hop < end:
            raise LPCError(f"{len(self.coefficients)} frames of coefficients cover "
                           f"{len(self.coefficients) * self.hop} samples, fewer than {end}")
        output = np.empty(len(excitation))
        _synthesize(excitation, self.coefficients, self.hop, self.position, self.history, output)
        self.position = end
        return output


def synthesis_filter(excitation: np.ndarray, coefficients: np.ndarray, hop: int) -> np.ndarray:
    """x[t] = e[t] - sum_{k>=1} a_k[frame(t)] x[t - k]: the inverse of ``inverse_filter``."""
    excitation = np.asarray(excitation, np.float64)
    _check(excitation, coefficients, hop)
    return SynthesisFilter(coefficients, hop)(excitation)
