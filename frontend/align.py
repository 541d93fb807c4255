"""Forced alignment of speech to a known phoneme sequence (pocketsphinx), at the frame hop.

The transcript's phonemes are OURS (from the frontend or a lexicon): every word is added to
pocketsphinx's dictionary under a name made of its phonemes, so that the phones it aligns are
exactly the ones we asked for (no homograph or dictionary-variant surprises). Optional
silences between words become ``sp``; the utterance always starts and ends with ``sil``.

Frames follow ``frontend.audio``'s convention: frame ``i`` covers samples
``[i * hop, (i + 1) * hop)`` and an utterance of ``n`` samples has ``ceil(n / hop)`` frames;
the phones' frame durations are all >= 1 and sum to exactly that.

Pocketsphinx works on 10 ms frames and its boundaries lag by about half an analysis window.
``refine=True`` (the default) improves on one plain pass, each step kept because it helped on
the tuning set of ``benchmarks/alignment_accuracy.py`` (boundaries within 20 ms of flite's
true ones; tuning set 79.7% raw → 86.3%):

1. two passes, at 200 and 100 frames/s, lag-corrected and averaged (a 5 ms grid; the two
   err differently), scored with 16 Gaussians per frame instead of 4;
2. pauses: a long silent stretch that pocketsphinx buried in a word-edge phone becomes
   ``sp``; a short ``sp`` before a stop is its closure and goes back to the stop;
3. abrupt boundaries (into and out of silence, fricatives, stop closures, vowel-nasal) move
   by up to 12 ms to the best split of a 1 ms log-mel spectrogram.

On the benchmark's held-out test set (other sentences, other voices) this gives 89.7% within
20 ms and a mean error of 9.3 ms, against 82.2% and 13.6 ms for raw pocketsphinx. It costs
about 0.2 s of CPU per second of audio (raw pocketsphinx: 0.03 s).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frontend.audio import HOP_LENGTH, SAMPLE_RATE, num_frames
from frontend.phonemes import PAUSE, PHONE_CLASS, SILENCE, SILENCES, split_stress
from tts_common.files import atomic_file

logger = logging.getLogger(__name__)

_PS_FRAME_RATE = 100  # the en-us acoustic model's frame rate (10 ms)


class AlignmentError(ValueError):
    """The aligner could not fit the transcript to the audio."""


@dataclass(frozen=True)
class AlignedPhone:
    phone: str  # as given (ARPAbet, stress digit kept), or "sil" / "sp"
    start: int  # first frame
    end: int  # one past the last frame
    start_s: float
    end_s: float
    word_index: int | None  # index into the aligned words; None for sil / sp

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass
class Alignment:
    phones: list[AlignedPhone]
    num_frames: int  # ceil(num_samples / hop_length) == sum of the durations
    hop_length: int
    sample_rate: int

    @property
    def labels(self) -> list[str]:
        return [p.phone for p in self.phones]

    @property
    def durations(self) -> np.ndarray:
        """Frames per phone, (P,) int64; sums to ``num_frames``."""
        return np.asarray([p.duration for p in self.phones], dtype=np.int64)

    def to_json(self) -> dict:
        """``{"phones": [{"phone": "DH", "start": 0.15, "end": 0.28}, ...]}``, silences as SIL."""
        return {
            "phones": [
                {
                    "phone": "SIL" if p.phone in SILENCES else p.phone,
                    "start": round(p.start_s, 4),
                    "end": round(p.end_s, 4),
                }
                for p in self.phones
            ]
        }


@dataclass
class AlignerConfig:
    sample_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH
    # False: one plain pocketsphinx pass at its native 10 ms frames, nothing else (the
    # benchmark's baseline).
    refine: bool = True
    # Pocketsphinx passes as (frames per second, time offset in ms); their boundaries are
    # averaged. The model was trained at 100 frames/s but also aligns well at 200 (a 5 ms
    # grid), and the two err differently. The offsets undo the lag of a frame's analysis
    # window (25.6 ms long, starting at the frame's start) and were measured on the
    # benchmark's tuning set: the mean signed error of each pass alone.
    passes: tuple[tuple[int, float], ...] = ((200, 10.0), (100, 5.0))
    top_gaussians: int = 16  # pocketsphinx -topn (4 by default): finer acoustic scores
    beam: float = 1e-60  # wider than decoding's 1e-48: the transcript is known
    # Pauses: silence is `pause_db` below the utterance's loud frames (95th percentile);
    # pocketsphinx sometimes buries a pause inside a word-edge phone, so a silent stretch of
    # at least `min_pause_ms` at a word boundary becomes sp, and an sp shorter than that
    # before a stop is taken to be the stop's closure.
    pause_db: float = 40.0
    min_pause_ms: float = 80.0
    # Spectral refinement: abrupt boundaries (see `_is_abrupt`) move by up to this much to
    # where the log-mel spectrum best splits into "like the left phone" / "like the right".
    spectral_window_ms: float = 12.0
    analysis_hop: int = 16  # 1 ms at 16 kHz: the refinement's time resolution
    analysis_window: int = 160  # 10 ms
    mel_bands: int = 30


class Aligner:
    """Forced aligner holding its pocketsphinx decoders, for many utterances in a row.

    Building a decoder takes ~0.2 s, so reuse one ``Aligner`` per process (it is not
    thread-safe). Each word is added to the decoder's dictionary once per pronunciation.
    """

    def __init__(self, config: AlignerConfig | None = None) -> None:
        self.config = config or AlignerConfig()
        if self.config.sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"the pocketsphinx en-us model needs {SAMPLE_RATE} Hz audio, not "
                f"{self.config.sample_rate} Hz: resample first (frontend.audio.load_audio)"
            )
        self._decoders: dict[tuple[int, int], Any] = {}

    def _decoder(self, frame_rate: int, top_gaussians: int) -> Any:
        """The decoder for these settings, its feature extraction reset as if new.

        pocketsphinx adapts its cepstral mean to every utterance it decodes; carried over, that
        made an alignment depend on which utterances the process had aligned before (2 of 33
        boundaries moved on aligning one utterance twice), so `prepare --jobs N` changed the
        results. Resetting costs nothing measurable; a new decoder per utterance costs 0.24 s.
        """
        key = (frame_rate, top_gaussians)
        if key not in self._decoders:
            from pocketsphinx import Decoder

            self._decoders[key] = Decoder(
                lm=None, bestpath=False, loglevel="FATAL", frate=frame_rate,
                topn=top_gaussians, beam=self.config.beam, pbeam=self.config.beam,
            )
        decoder = self._decoders[key]
        decoder.reinit_feat()
        return decoder

    def _pocketsphinx(
        self, audio_i16: np.ndarray, words: list[list[str]], frame_rate: int, top_gaussians: int
    ) -> list[tuple[str, float, float]] | None:
        """(pocketsphinx phone, start_s, end_s) per aligned phone incl. SIL; None if no fit."""
        decoder = self._decoder(frame_rate, top_gaussians)
        names = []
        for bases in words:
            # Named after its pronunciation: unique, and reused by later utterances.
            name = "_" + "_".join(bases).lower()
            if decoder.lookup_word(name) is None:
                decoder.add_word(name, " ".join(bases), True)
            names.append(name)
        try:
            decoder.set_align_text(" ".join(names))
        except RuntimeError as exc:
            raise AlignmentError(f"pocketsphinx refused the transcript: {exc}") from None
        buffer = audio_i16.tobytes()
        decoder.start_utt()
        decoder.process_raw(buffer, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return None
        # Second pass: phone (and state) level alignment within the words found above.
        decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(buffer, full_utt=True)
        decoder.end_utt()
        alignment = decoder.get_alignment()
        if alignment is None:
            return None
        return [
            (p.name, p.start / frame_rate, (p.start + p.duration) / frame_rate)
            for p in alignment.phones()
        ]

    def align(self, audio: np.ndarray, words_phonemes: list[list[str]]) -> Alignment:
        """See :func:`align`."""
        config = self.config
        audio = _check_audio(audio, config.sample_rate)
        words = _check_words(words_phonemes)
        speech = [phone for word in words_phonemes for phone in word]  # as given, with stress
        word_of = [index for index, word in enumerate(words) for _ in word]
        n_frames = num_frames(len(audio), config.hop_length)
        duration = len(audio) / config.sample_rate
        if n_frames < len(speech) + 2:
            raise AlignmentError(
                f"the audio ({duration:.2f} s) is too short for {len(speech)} phonemes"
            )
        audio_i16 = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        if config.refine:
            passes, top_gaussians = config.passes, config.top_gaussians
        else:
            passes, top_gaussians = ((_PS_FRAME_RATE, 0.0),), 4
        bases = [base for word in words for base in word]
        starts, ends, layouts = [], [], []
        for frame_rate, offset_ms in passes:
            segments = self._pocketsphinx(audio_i16, words, frame_rate, top_gaussians)
            if segments is None:
                logger.debug("pocketsphinx at %d frames/s found no alignment", frame_rate)
                continue
            speech_segments = [s for s in segments if s[0] != "SIL" and not s[0].startswith("+")]
            if [name for name, _, _ in speech_segments] != bases:
                raise AlignmentError("pocketsphinx aligned other phones than requested")
            layouts.append([name for name, _, _ in segments])
            starts.append([start + offset_ms / 1000.0 for _, start, _ in speech_segments])
            ends.append([end + offset_ms / 1000.0 for _, _, end in speech_segments])
        if not starts:
            raise AlignmentError(
                "the transcript could not be fitted to the audio: is it what is said, and is "
                "the recording long enough for it?"
            )
        # Passes always agree on the phones, not always on the pauses; averaging a pause with
        # its absence puts both of its edges half-way wrong, so the first pass decides then.
        if any(layout != layouts[0] for layout in layouts):
            starts, ends = starts[:1], ends[:1]
        start_s = np.clip(np.mean(starts, axis=0), 0.0, duration)  # (P,)
        end_s = np.clip(np.mean(ends, axis=0), 0.0, duration)  # (P,)

        labels, word_index, bounds = [SILENCE], [None], [0.0]
        for k, phone in enumerate(speech):
            if k > 0 and start_s[k] > end_s[k - 1]:
                labels.append(PAUSE)
                word_index.append(None)
                bounds.append(end_s[k - 1])
            labels.append(phone)
            word_index.append(word_of[k])
            bounds.append(start_s[k] if k == 0 else max(start_s[k], end_s[k - 1]))
        labels.append(SILENCE)
        word_index.append(None)
        bounds += [end_s[-1], duration]
        bounds_s = np.maximum.accumulate(np.asarray(bounds))  # (S + 1,)

        if config.refine:
            refiner = _Refiner(audio, config)
            labels, word_index, bounds_s = refiner.settle_pauses(labels, word_index, bounds_s)
            bounds_s = refiner.spectral(labels, bounds_s)
        return _to_frames(labels, word_index, bounds_s, n_frames, config)


def _phone_class(label: str) -> str:
    return PHONE_CLASS[split_stress(label)[0]]


_STOPS = ("stop", "affricate")


def _is_abrupt(left: str, right: str) -> bool:
    """Boundaries with one sharp spectral change, the only ones spectral refinement moves.

    Not: stop/affricate releases (closure, burst and aspiration are three changes, not one),
    silence before a stop (the closure is silent too), and sonorant-to-sonorant glides other
    than vowel-nasal (formants move gradually). Measured on the tuning set: refining every
    boundary helps the abrupt kinds and hurts exactly these.
    """
    a, b = _phone_class(left), _phone_class(right)
    if a in _STOPS or a == b:
        return False
    if "silence" in (a, b):
        return b not in _STOPS
    if b in _STOPS or "fricative" in (a, b):
        return True
    return {a, b} == {"vowel", "nasal"}


class _Refiner:
    """Acoustic refinement of pocketsphinx's boundaries on a 1 ms grid."""

    def __init__(self, audio: np.ndarray, config: AlignerConfig) -> None:
        self.config = config
        self.rate = config.sample_rate / config.analysis_hop  # analysis frames per second
        frames = _frames(audio, config.analysis_hop, config.analysis_window)  # (T, W)
        self.frames = frames
        energy_db = 10.0 * np.log10((frames**2).mean(axis=1) + 1e-12)  # (T,)
        self.silent = energy_db < np.percentile(energy_db, 95) - config.pause_db  # (T,)
        self._log_mel: np.ndarray | None = None

    def _index(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def settle_pauses(self, labels, word_index, bounds_s):
        """Recover pauses hidden in word-edge phones; give short ones before stops to the stop."""
        config = self.config
        labels, word_index = list(labels), list(word_index)
        bounds = list(np.asarray(bounds_s, dtype=np.float64))
        min_pause = config.min_pause_ms / 1000.0
        keep = 0.015  # a phone keeps at least this much of itself
        i = 1
        while i < len(labels) - 1:
            left, right = labels[i - 1], labels[i]
            if left in SILENCES or right in SILENCES or word_index[i - 1] == word_index[i]:
                i += 1
                continue
            start, edge, end = bounds[i - 1], bounds[i], bounds[i + 1]
            lo, hi = self._index(start), self._index(end)
            best = None
            for run_start, run_end in _runs(self.silent[lo:hi]):
                run_start_s, run_end_s = (lo + run_start) / self.rate, (lo + run_end) / self.rate
                # A stop's closure is silent: the silence inside a stop stays the stop's.
                if _phone_class(left) in _STOPS:
                    run_start_s = max(run_start_s, edge)
                if _phone_class(right) in _STOPS:
                    run_end_s = min(run_end_s, edge)
                run_start_s, run_end_s = max(run_start_s, start + keep), min(run_end_s, end - keep)
                if run_end_s - run_start_s >= min_pause and (
                    best is None or run_end_s - run_start_s > best[1] - best[0]
                ):
                    best = (run_start_s, run_end_s)
            if best is not None:
                labels.insert(i, PAUSE)
                word_index.insert(i, None)
                bounds[i:i + 1] = [best[0], best[1]]
                i += 2
                continue
            i += 1
        i = 1
        while i < len(labels) - 1:
            if (labels[i] == PAUSE and bounds[i + 1] - bounds[i] < min_pause
                    and _phone_class(labels[i + 1]) in _STOPS):
                del labels[i], word_index[i], bounds[i + 1]
                continue
            i += 1
        return labels, word_index, np.asarray(bounds)

    def spectral(self, labels, bounds_s) -> np.ndarray:
        """Move abrupt boundaries by up to ``spectral_window_ms`` to the best two-way split.

        For a boundary between phones A and B, the split point t minimises the summed squared
        distance of the log-mel frames before t to A's core (its middle half) and after t to
        B's core: a boundary where the sound stops being A-like and starts being B-like.
        """
        config = self.config
        if self._log_mel is None:
            self._log_mel = _log_mel(self.frames, config)
        features = self._log_mel  # (T, M)
        position = np.rint(np.asarray(bounds_s) * self.rate).astype(np.int64)
        position = np.clip(position, 0, len(features))
        refined = position.copy()
        window = self._index(config.spectral_window_ms / 1000.0)
        margin = self._index(0.005)
        for i in range(1, len(position) - 1):
            if not _is_abrupt(labels[i - 1], labels[i]):
                continue
            left_start, boundary, right_end = refined[i - 1], position[i], position[i + 1]
            left_len, right_len = boundary - left_start, right_end - boundary
            if left_len < 2 * margin or right_len < 2 * margin:
                continue
            left_core = features[left_start + left_len // 4: boundary - left_len // 4]
            right_core = features[boundary + right_len // 4: right_end - right_len // 4]
            low = max(left_start + margin, boundary - window)
            high = min(right_end - margin, boundary + window)
            if high <= low or len(left_core) == 0 or len(right_core) == 0:
                continue
            span = features[low:high]  # (L, M)
            to_left = ((span - left_core.mean(0)) ** 2).sum(1)  # (L,)
            to_right = ((span - right_core.mean(0)) ** 2).sum(1)  # (L,)
            # cost[j]: frames low..low+j-1 are A, low+j..high-1 are B.
            cost = np.concatenate([[0.0], np.cumsum(to_left)]) + np.concatenate(
                [np.cumsum(to_right[::-1])[::-1], [0.0]]
            )
            refined[i] = low + int(np.argmin(cost))
        return refined / self.rate


def _frames(audio: np.ndarray, hop: int, window: int) -> np.ndarray:
    """Frames centred on samples 0, hop, 2 hop, ...: (len(audio) // hop + 1, window)."""
    padded = np.pad(audio.astype(np.float64), (window // 2, window - window // 2))
    count = len(audio) // hop + 1
    index = np.arange(count)[:, None] * hop + np.arange(window)[None, :]
    return padded[index]


def _mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float):
    def hz_to_mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    mel_points = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz_points = 700.0 * (10 ** (mel_points / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)  # (F,)
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))  # (n_mels, F)


def _log_mel(frames: np.ndarray, config: AlignerConfig) -> np.ndarray:
    n_fft = 2 << (config.analysis_window - 1).bit_length()
    windowed = frames * np.hanning(frames.shape[1])[None, :]  # (T, W)
    power = np.abs(np.fft.rfft(windowed, n_fft, axis=1)) ** 2  # (T, F)
    mel = _mel_filterbank(config.sample_rate, n_fft, config.mel_bands, 60.0,
                          min(7600.0, config.sample_rate / 2))
    return np.log10(power @ mel.T + 1e-8)  # (T, M)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True values."""
    padded = np.concatenate([[False], mask, [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(change[::2].tolist(), change[1::2].tolist()))


def _to_frames(labels, word_index, bounds_s, n_frames: int, config: AlignerConfig) -> Alignment:
    """Snap boundaries to the hop grid: every phone >= 1 frame, the total exactly n_frames."""
    count = len(labels)
    if count > n_frames:
        raise AlignmentError(
            f"the audio is too short for the transcript: {count} phones in {n_frames} frames"
        )
    frames_per_s = config.sample_rate / config.hop_length
    bounds = np.rint(np.asarray(bounds_s) * frames_per_s).astype(np.int64)  # (count + 1,)
    bounds[0], bounds[-1] = 0, n_frames
    for i in range(1, count):
        bounds[i] = max(bounds[i], bounds[i - 1] + 1)
    for i in range(count - 1, 0, -1):
        bounds[i] = min(bounds[i], bounds[i + 1] - 1)
    seconds = config.hop_length / config.sample_rate
    phones = [
        AlignedPhone(labels[i], int(bounds[i]), int(bounds[i + 1]),
                     float(bounds[i] * seconds), float(bounds[i + 1] * seconds), word_index[i])
        for i in range(count)
    ]
    return Alignment(phones, n_frames, config.hop_length, config.sample_rate)


def _check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"align: expected mono audio of shape (N,), got shape {audio.shape}")
    if audio.size < sample_rate // 10:
        raise AlignmentError(
            f"the audio is too short to align ({audio.size / sample_rate:.3f} s): "
            "give at least 0.1 s"
        )
    audio = audio.astype(np.float32, copy=False)
    if not np.isfinite(audio).all():
        raise ValueError("align: the audio contains NaN or infinite samples")
    if float(np.abs(audio).max()) < 1e-4:
        raise AlignmentError("the audio is silent (peak below -80 dBFS): nothing to align")
    return audio


def _check_words(words_phonemes: list[list[str]]) -> list[list[str]]:
    """Stress-free base phones per word; ValueError on anything the aligner cannot use."""
    if not words_phonemes or not any(words_phonemes):
        raise ValueError("align: the transcript has no words to align")
    words = []
    for word in words_phonemes:
        if isinstance(word, str):
            raise ValueError(
                f"align: expected one list of phonemes per word, got the string {word!r}"
            )
        if not word:
            raise ValueError("align: a word without phonemes (drop empty words)")
        bases = []
        for phone in word:
            base, _ = split_stress(phone)
            if base in SILENCES:
                raise ValueError(
                    f"align: {phone!r} in the transcript; give the words' phonemes only, the "
                    "aligner finds the silences itself"
                )
            bases.append(base)
        words.append(bases)
    return words


def align(
    audio: np.ndarray,
    words_phonemes: list[list[str]],
    *,
    hop_length: int = HOP_LENGTH,
    refine: bool = True,
) -> Alignment:
    """Align 16 kHz float32 mono ``audio`` to ``words_phonemes`` (one ARPAbet list per word).

    Returns ``sil``, the words' phonemes as given (stress digits kept) with ``sp`` wherever
    the speaker paused between words, then ``sil``; each phone >= 1 frame of ``hop_length``
    samples and the durations summing to ``ceil(len(audio) / hop_length)``. ``refine=False``
    gives raw pocketsphinx (10 ms frames, no refinement). Raises :class:`AlignmentError` when
    the transcript cannot be fitted, ValueError on malformed input. For many utterances,
    reuse one :class:`Aligner` instead (this builds new decoders on every call).
    """
    return Aligner(AlignerConfig(hop_length=hop_length, refine=refine)).align(
        audio, words_phonemes
    )


def plot_alignment(
    path: str | Path,
    audio: np.ndarray,
    alignment: Alignment,
    words: list[str] | None = None,
    f0_method: str = "harvest",
) -> None:
    """Draw the waveform, the spectrogram with phone boundaries and labels, and the F0 contour
    (on a second axis), to ``path`` (png, pdf or svg; written atomically)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none opened
    import matplotlib.pyplot as plt

    from frontend.pitch import extract_f0

    sr = alignment.sample_rate
    duration = len(audio) / sr
    times = np.arange(len(audio)) / sr
    try:
        f0_hz, voiced = extract_f0(audio, sr, alignment.hop_length, method=f0_method)
    except ValueError as exc:  # too short for F0 analysis: draw the rest anyway
        logger.warning("no F0 contour in the plot: %s", exc)
        f0_hz = np.zeros(alignment.num_frames, np.float32)
        voiced = np.zeros(alignment.num_frames, bool)
    centres = (np.arange(len(f0_hz)) + 0.5) * alignment.hop_length / sr

    width = float(np.clip(2.5 * duration + 2.0, 6.0, 40.0))
    figure, (wave_axis, spec_axis) = plt.subplots(
        2, 1, figsize=(width, 6.0), sharex=True, gridspec_kw={"height_ratios": [1, 3]}
    )
    wave_axis.plot(times, audio, linewidth=0.4, color="0.3")
    wave_axis.set_ylabel("amplitude")
    wave_axis.set_xlim(0.0, duration)
    n_fft = 512
    spec_axis.specgram(audio, NFFT=n_fft, Fs=sr, noverlap=n_fft - alignment.hop_length,
                       cmap="magma", scale="dB", vmin=None)
    spec_axis.set_ylim(0, sr / 2)
    spec_axis.set_ylabel("frequency (Hz)")
    spec_axis.set_xlabel("time (s)")
    for index, phone in enumerate(alignment.phones):
        for axis in (wave_axis, spec_axis):
            axis.axvline(phone.start_s, color="cyan", linewidth=0.6, alpha=0.8)
        label = "" if phone.phone in SILENCES else phone.phone
        height = 0.97 if index % 2 else 0.91  # alternate rows: short phones' labels collide
        spec_axis.text((phone.start_s + phone.end_s) / 2, sr / 2 * height, label, ha="center",
                       va="top", fontsize=8, color="white", clip_on=True)
    if words:
        for index, word in enumerate(words):
            spans = [p for p in alignment.phones if p.word_index == index]
            if spans:
                wave_axis.text((spans[0].start_s + spans[-1].end_s) / 2, 1.02, word,
                               transform=wave_axis.get_xaxis_transform(), ha="center",
                               va="bottom", fontsize=9)
    f0_axis = spec_axis.twinx()
    f0_axis.plot(centres, np.where(voiced, f0_hz, np.nan), color="lime", linewidth=1.5)
    f0_axis.set_ylabel("F0 (Hz)", color="lime")
    top = float(f0_hz[voiced].max()) * 1.3 if voiced.any() else 400.0
    f0_axis.set_ylim(0, max(top, 100.0))
    figure.tight_layout()
    path = Path(path)
    try:
        with atomic_file(path, suffix=path.suffix) as tmp:  # savefig reads the format from it
            figure.savefig(tmp, dpi=100)
    finally:
        plt.close(figure)
