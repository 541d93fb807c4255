"""The Synthesizer: text → 16 kHz speech through the frontend, the prosody models and the WaveNet.

Layered like Piper's API, each layer usable alone:

    utterances = list(synth.phonemize(text))             # frontend: one Utterance per phrase
    speaker = synth.speaker_index("p225")
    plans = [synth.plan(u, speaker) for u in utterances]  # durations, F0, WaveNet conditioning
    audio = synth.vocode(plans, seeds=[0, 1, ...])        # WaveNet: one waveform per plan

``stream`` chains the three for a whole text and hands out the audio in chunks while the
WaveNet makes it (``vocoder.stream``: every stream of a Synthesizer shares one running batch);
``synthesize`` joins those chunks. ``vocode_conditioning`` is layer 3 for conditioning that did
not come from ``plan`` (copy synthesis from a prepared corpus's ground truth).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.conditioning import wavenet_conditioning
from frontend.features import (
    FrontendError,
    Frontend,
    Phrase,
    Utterance,
    frame_features,
    phoneme_features,
)
from frontend.intonation import Syllable, syllables
from frontend.prosody_features import prosody_phone_features
from frontend.lexicon import Lexicon
from frontend.phonemes import PAUSE, SILENCE
from frontend.prosody import (
    PITCH_LIMITS,
    PITCH_RANGE_LIMITS,
    SPEED_LIMITS,
    out_of_range,
    predict_durations,
    predict_f0,
    prosody_from_tensors,
)
from tts_common.threads import single_threaded_blas
from tts.voice import Speaker, VoiceError, VoiceSpec, bundled_voice_dir, read_voice
from vocoder.generate import Generator, kernels_cached
from vocoder.stream import StreamingGenerator, UtteranceStream
from vocoder.config import WaveNetConfig

logger = logging.getLogger(__name__)

_VCTK_ALIAS = re.compile(r"^VCTK_", re.IGNORECASE)

# The limits of the synthesis controls, for every layer of the API (plan, vocode, stream, the
# CLI); the prosody controls' (SPEED_LIMITS, PITCH_LIMITS, PITCH_RANGE_LIMITS) are the prosody
# models' own.
# A WaveNet sampled at low temperature falls silent (always the likeliest sample), and above
# ~1.2 the noise floor rises until it clips.
TEMPERATURE_LIMITS = (0.1, 1.2)
DEFAULT_CHUNK_SECONDS = 0.25  # stream(): the largest piece handed out at once
CHUNK_SECONDS_LIMITS = (0.001, 60.0)
PHRASE_PAUSE_S = 0.08  # between the phrases of a long sentence (sentences: the voice's pause)
# How many utterances stream() keeps planned and generating ahead of the one it is playing:
# enough for every core, few enough that memory stays bounded for any length of text.
LOOKAHEAD_PER_THREAD = 2
ANALYSIS_WINDOW_PHONEMES = 400  # phoneme_prosody: longer utterances go in windows of this size


class SynthesisError(ValueError):
    """Bad input to the synthesizer (unknown speaker, nothing to say, bad control values)."""


@dataclass(frozen=True)
class SentencePlan:
    """Everything the WaveNet needs for one sentence, plus what produced it."""

    utterance: Utterance
    speaker_index: int
    durations: np.ndarray   # (N,) frames per phoneme
    f0_hz: np.ndarray       # (T,) 0 where unvoiced
    voiced: np.ndarray      # (T,) bool
    conditioning: np.ndarray  # (T, C) float32

    @property
    def num_frames(self) -> int:
        return int(self.durations.sum())


def _thread_count() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class Synthesizer:
    """A loaded voice, ready to speak. Safe to share between threads: calls keep no state."""

    def __init__(self, voice: VoiceSpec, *, threads: int | None = None,
                 lexicon: str | Path | Lexicon | None = None):
        self.voice = voice
        self.threads = threads or _thread_count()
        # read_voice has checked that this version can run the voice (inventory, channels).
        self.frontend = Frontend(voice.frontend.backend, language=voice.frontend.language,
                                 lexicon=lexicon)  # a user lexicon overrides the voice's G2P
        self.log_f0_mean = voice.conditioning.log_f0_mean
        self.log_f0_std = voice.conditioning.log_f0_std
        # numpy networks from the safetensors weights: synthesis never imports torch.
        self.duration_model = prosody_from_tensors(
            "duration", voice.model_config("duration"), voice.tensors("duration"))
        self.pitch_model = prosody_from_tensors(
            "pitch", voice.model_config("pitch"), voice.tensors("pitch"))
        wavenet_config = WaveNetConfig.from_dict(voice.model_config("wavenet"))
        self.generator = Generator.from_tensors(
            wavenet_config, voice.tensors("wavenet"), weights_dtype=voice.synthesis.weights_dtype)
        if not kernels_cached():  # info, not a warning: stderr stays as the CLI tests pin it
            logger.info("the first synthesis compiles the WaveNet's sample loop for this "
                        "machine (10-30 s, once); `python -m tts.warmup` does it ahead")
        self.temperature = voice.synthesis.temperature
        self.sentence_pause_s = voice.synthesis.sentence_pause_s
        self._speakers = voice.speakers
        self._speaker_index = {s.id: s.index for s in self._speakers}
        self._engine: StreamingGenerator | None = None  # made on the first stream()
        self._engine_lock = threading.Lock()

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, voice: str | Path | None = None, **kwargs) -> "Synthesizer":
        """Load a voice directory; with no argument, the default voice bundled in the package."""
        directory = bundled_voice_dir() if voice is None else Path(voice)
        if voice is None and not directory.exists():
            raise VoiceError("the bundled default voice is not installed in this copy of tts; "
                             "pass a voice directory (--voice DIR)")
        return cls(read_voice(directory), **kwargs)

    # -- what the voice offers -----------------------------------------------------------
    @property
    def speakers(self) -> list[str]:
        return [s.id for s in self._speakers]

    @property
    def speaker_info(self) -> list[Speaker]:
        return list(self._speakers)

    @property
    def sample_rate(self) -> int:
        return self.voice.sample_rate

    def speaker_index(self, speaker: str | None) -> int:
        """Index of a speaker id (``VCTK_p225`` is accepted for ``p225``); None → the first."""
        if speaker is None:
            return self._speakers[0].index
        name = _VCTK_ALIAS.sub("", str(speaker).strip())
        if name not in self._speaker_index:
            raise SynthesisError(
                f"unknown speaker {speaker!r}; this voice has: {', '.join(self.speakers)}")
        return self._speaker_index[name]

    # -- layer 1: text → utterances --------------------------------------------------------
    def phonemize(self, text: str) -> Iterator[Utterance]:
        """One Utterance per sentence of ``text``. Raises SynthesisError if nothing is speakable."""
        if not isinstance(text, str) or not text.strip():
            raise SynthesisError("text is empty: give some words to say")
        try:
            yield from self.frontend.utterances(text)
        except FrontendError as exc:
            raise SynthesisError(str(exc)) from None

    # -- layer 2: utterances → prosody and conditioning --------------------------------------
    def plan(self, utterance: Utterance, speaker_index: int, *, speed: float = 1.0,
             pitch: float = 0.0, pitch_range: float = 1.0,
             durations: np.ndarray | None = None) -> SentencePlan:
        """Predict durations and F0 for one sentence and build the WaveNet's conditioning.

        ``durations``: frames per phoneme to use instead of the duration model's (a reference
        rendering's timing, say); the F0 model then predicts pitch over them, and ``speed``
        must be 1."""
        check_controls(speed=speed, pitch=pitch, pitch_range=pitch_range)
        if durations is not None:
            durations = _given_durations(durations, len(utterance.phonemes), speed)
        with single_threaded_blas():
            phone_feats = phoneme_features(utterance)  # (N, D)
            duration_rows, pitch_rows = self._prosody_rows(utterance, phone_feats)
            if durations is None:
                durations = predict_durations(self.duration_model, duration_rows, speaker_index,
                                              speed=speed)  # (N,)
            frame_feats = frame_features(phone_feats, durations)  # (T, D + 4)
            pitch_feats = (frame_feats if pitch_rows is phone_feats
                           else frame_features(pitch_rows, durations))  # (T, D' + 4)
            f0_hz, voiced = predict_f0(self.pitch_model, pitch_feats, speaker_index,
                                       pitch_shift_semitones=pitch, pitch_range=pitch_range)
            conditioning = wavenet_conditioning(frame_feats, f0_hz, voiced,
                                                self.log_f0_mean, self.log_f0_std)  # (T, C)
        return SentencePlan(utterance, speaker_index, durations, f0_hz, voiced, conditioning)

    def _prosody_rows(self, utterance: Utterance, phone_feats: np.ndarray, start: int = 0,
                      end: int | None = None, sylls: list[Syllable] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The duration and F0 models' input rows for phonemes [start, end), each model's
        ``feature_set`` (``phone_feats`` itself for "phoneme"; the rest is built once).
        ``sylls``: the utterance's ``syllables`` when the caller has them."""
        rows = {"phoneme": phone_feats}
        sets = (self.duration_model.config.feature_set, self.pitch_model.config.feature_set)
        sylls = self._syllables(utterance) if sylls is None else sylls  # once for both models
        for feature_set in sets:
            if feature_set not in rows:
                rows[feature_set] = prosody_phone_features(
                    utterance, feature_set, start, end, phone_feats=phone_feats, sylls=sylls)
        return rows[sets[0]], rows[sets[1]]

    def _syllables(self, utterance: Utterance) -> list[Syllable] | None:
        """The utterance's ``syllables`` if either prosody model reads more than phonemes."""
        sets = {self.duration_model.config.feature_set, self.pitch_model.config.feature_set}
        return syllables(utterance) if sets != {"phoneme"} else None

    def phoneme_prosody(self, utterance: Utterance, speaker_index: int, *, speed: float = 1.0,
                        pitch: float = 0.0, pitch_range: float = 1.0
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Per phoneme: predicted duration (frames) and mean F0 over its voiced frames (Hz, 0
        when unvoiced), what ``tts analyze --speaker`` shows.

        The same as ``plan`` for a sentence; a longer utterance goes in windows of at most
        ``ANALYSIS_WINDOW_PHONEMES`` cut at pauses, so memory stays bounded for any length.
        """
        check_controls(speed=speed, pitch=pitch, pitch_range=pitch_range)
        with single_threaded_blas():
            return self._phoneme_prosody(utterance, speaker_index, speed, pitch, pitch_range)

    def _phoneme_prosody(self, utterance: Utterance, speaker_index: int, speed: float,
                         pitch: float, pitch_range: float) -> tuple[np.ndarray, np.ndarray]:
        durations, f0_means = [], []
        # Accents depend on whole phrases: the syllables are found once, for every window.
        sylls = self._syllables(utterance)
        for start, end in _windows(utterance.phonemes, ANALYSIS_WINDOW_PHONEMES):
            window = phoneme_features(utterance, start, end)  # (n, D)
            duration_rows, pitch_rows = self._prosody_rows(utterance, window, start, end, sylls)
            frames = predict_durations(self.duration_model, duration_rows, speaker_index,
                                       speed=speed)
            f0_hz, voiced = predict_f0(self.pitch_model, frame_features(pitch_rows, frames),
                                       speaker_index, pitch_shift_semitones=pitch,
                                       pitch_range=pitch_range)  # (T,), (T,)
            ends = np.cumsum(frames)
            for first, last in zip(ends - frames, ends):
                mask = voiced[first:last]
                f0_means.append(float(f0_hz[first:last][mask].mean()) if mask.any() else 0.0)
            durations.append(frames)
        return np.concatenate(durations), np.asarray(f0_means)

    # -- layer 3: conditioning → audio -------------------------------------------------------
    def vocode(self, plans: list[SentencePlan], *, seeds: list[int],
               temperature: float | None = None) -> list[np.ndarray]:
        """One float32 waveform per plan, generated as one batch across ``self.threads``."""
        if not plans:
            return []
        return self.vocode_conditioning([p.conditioning for p in plans],
                                        [p.speaker_index for p in plans], seeds=seeds,
                                        temperature=temperature)

    def vocode_conditioning(self, conditioning: list[np.ndarray], speaker_indices: list[int],
                            *, seeds: list[int],
                            temperature: float | None = None) -> list[np.ndarray]:
        """``vocode`` for conditioning that did not come from ``plan``: one waveform per (T, C)
        array, ``hop_length`` samples per frame.

        The arrays must be built like ``plan``'s (``frontend.conditioning``), with log-F0
        normalized by this voice's ``conditioning`` statistics; for example a prepared
        corpus's ground-truth ``cond`` files (copy synthesis), after renormalizing if the
        corpus's ``stats.json`` differs from the voice's.
        """
        if len(conditioning) != len(speaker_indices) or len(conditioning) != len(seeds):
            raise SynthesisError(
                f"give one speaker index and one seed per conditioning array: got "
                f"{len(conditioning)} arrays, {len(speaker_indices)} speakers, {len(seeds)} seeds")
        if not conditioning:
            return []
        channels = self.voice.conditioning.channels
        conditioning = [np.asarray(f, np.float32) for f in conditioning]
        for features in conditioning:
            if features.ndim != 2 or features.shape[1] != channels:
                raise SynthesisError(f"conditioning must be (frames, {channels}) arrays for this "
                                     f"voice, got shape {features.shape}")
        for index in speaker_indices:
            if not 0 <= int(index) < len(self._speakers):
                raise SynthesisError(f"speaker index {index} is out of range: this voice has "
                                     f"{len(self._speakers)} speakers")
        check_controls(temperature=temperature)
        with single_threaded_blas():
            audio = self.generator.generate(
                conditioning, [int(i) for i in speaker_indices],
                temperature=self.temperature if temperature is None else temperature,
                seed=list(seeds), threads=min(self.threads, len(conditioning)))
        return [np.clip(a * self._output_gain(i), -1.0, 1.0).astype(np.float32)
                for a, i in zip(audio, speaker_indices)]

    def _output_gain(self, speaker_index: int) -> float:
        """The factor every sample of this speaker is multiplied by before the clip: the
        voice's one output level (``tts.level``); 1.0 for a voice without measured levels."""
        return self.voice.output_gain(int(speaker_index))

    # -- whole pipeline ----------------------------------------------------------------------
    def parse(self, text: str) -> list[Phrase]:
        """Normalize and check all of ``text`` (no pronunciation yet): one Phrase per sentence,
        several for a long one. Raises SynthesisError naming the line of the first problem."""
        if not isinstance(text, str) or not text.strip():
            raise SynthesisError("text is empty: give some words to say")
        try:
            return self.frontend.phrases(text)
        except FrontendError as exc:
            raise SynthesisError(str(exc)) from None

    def stream(self, text: str | list[Phrase], speaker: str | None = None, *, seed: int = 0,
               speed: float = 1.0, pitch: float = 0.0, pitch_range: float = 1.0,
               temperature: float | None = None, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
               progress: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
        """Yield float32 chunks of at most ``chunk_seconds`` while the WaveNet makes them.

        Everything is checked when this is called, before any audio: the controls, the speaker
        and the whole text (``parse``; ``text`` may also be what ``parse`` returned). The
        chunks, joined, are exactly ``synthesize``'s audio: utterance ``i`` (a sentence, or a
        phrase of a long one) is sampled with seed ``seed + i``, whatever else is generated at
        the same time, and pauses are chunks of zeros. A few utterances are planned ahead and
        generated at once on every core (``StreamingGenerator``, shared with concurrent calls),
        so memory stays bounded for any length of text. ``progress`` is called with 1 per
        phrase done. Closing the iterator stops the generation.
        """
        check_controls(speed=speed, pitch=pitch, pitch_range=pitch_range,
                       temperature=temperature, chunk_seconds=chunk_seconds)
        speaker_index = self.speaker_index(speaker)
        phrases = text if isinstance(text, list) else self.parse(text)
        return self._stream(phrases, speaker_index, seed=seed, speed=speed, pitch=pitch,
                            pitch_range=pitch_range,
                            temperature=self.temperature if temperature is None else temperature,
                            chunk_samples=max(1, int(chunk_seconds * self.sample_rate)),
                            progress=progress)

    def _stream(self, phrases: list[Phrase], speaker_index: int, *, seed: int, speed: float,
                pitch: float, pitch_range: float, temperature: float, chunk_samples: int,
                progress: Callable[[int], None] | None) -> Iterator[np.ndarray]:
        engine = self._streaming_generator()
        upcoming = iter(phrases)
        in_flight: deque[tuple[UtteranceStream, int]] = deque()  # (audio, pause before it)
        lookahead = LOOKAHEAD_PER_THREAD * self.threads
        index = 0  # utterances submitted: utterance i has seed + i
        previous: Phrase | None = None
        gain = self._output_gain(speaker_index)

        def submit_next() -> bool:
            nonlocal index, previous
            for phrase in upcoming:
                utterance = self.frontend.phrase_utterance(phrase)
                if utterance is None:
                    if progress is not None:
                        progress(1)
                    continue
                plan = self.plan(utterance, speaker_index, speed=speed, pitch=pitch,
                                 pitch_range=pitch_range)
                pause = 0
                if previous is not None:
                    pause_s = self.sentence_pause_s if previous.sentence_end else PHRASE_PAUSE_S
                    pause = int(round(pause_s * self.sample_rate))
                audio = engine.submit(plan.conditioning, speaker_index, seed=seed + index,
                                      temperature=temperature)
                in_flight.append((audio, pause))
                index += 1
                previous = phrase
                return True
            return False

        try:
            submit_next()
            while in_flight:
                audio, pause = in_flight[0]
                for start in range(0, pause, chunk_samples):
                    yield np.zeros(min(chunk_samples, pause - start), np.float32)
                for chunk in self._chunks(audio, chunk_samples, gain):
                    yield chunk
                    # plan the next utterances while this one plays
                    while len(in_flight) < lookahead and submit_next():
                        pass
                in_flight.popleft()
                if progress is not None:
                    progress(1)
                while len(in_flight) < lookahead and submit_next():
                    pass
        finally:
            for audio, _ in in_flight:
                audio.close()

    @staticmethod
    def _chunks(audio: UtteranceStream, chunk_samples: int, gain: float
                ) -> Iterator[np.ndarray]:
        """The stream's pieces regrouped: whatever is ready, up to ``chunk_samples`` at a time,
        waiting only when nothing is (so a slow reader gets full chunks, a fast one at once)."""
        buffered: list[np.ndarray] = []
        size = 0
        while True:
            if size < chunk_samples:
                piece = audio.ready() if size else next(audio, None)
                if piece is not None:
                    buffered.append(piece)
                    size += len(piece)
                    continue
            if not size:
                return
            joined = np.concatenate(buffered) if len(buffered) > 1 else buffered[0]
            # the same arithmetic as vocode_conditioning's, sample for sample
            yield np.clip(joined[:chunk_samples] * gain, -1.0, 1.0).astype(np.float32)
            rest = joined[chunk_samples:]
            buffered, size = ([rest], len(rest)) if len(rest) else ([], 0)

    def _streaming_generator(self) -> StreamingGenerator:
        with self._engine_lock:
            if self._engine is None:
                self._engine = StreamingGenerator(self.generator, threads=self.threads)
            return self._engine

    def synthesize(self, text: str, speaker: str | None = None, *, seed: int = 0,
                   speed: float = 1.0, pitch: float = 0.0, pitch_range: float = 1.0,
                   temperature: float | None = None) -> np.ndarray:
        """The whole text as one float32 array in [-1, 1] at ``sample_rate``."""
        chunks = list(self.stream(text, speaker, seed=seed, speed=speed, pitch=pitch,
                                  pitch_range=pitch_range, temperature=temperature,
                                  chunk_seconds=CHUNK_SECONDS_LIMITS[1]))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _windows(phonemes: list[str], limit: int) -> Iterator[tuple[int, int]]:
    """[start, end) ranges of at most ``limit`` phonemes, each ending after a pause if it can."""
    start = 0
    while len(phonemes) - start > limit:
        pauses = [i for i in range(start + limit // 2, start + limit)
                  if phonemes[i] in (PAUSE, SILENCE)]
        end = (pauses[-1] + 1) if pauses else start + limit
        yield start, end
        start = end
    yield start, len(phonemes)


def _check_range(name: str, value: float | None, limits: tuple[float, float], unit: str = ""
                 ) -> None:
    problem = None if value is None else out_of_range(name, value, limits, unit)
    if problem:
        raise SynthesisError(problem)


def _given_durations(durations: np.ndarray, phonemes: int, speed: float) -> np.ndarray:
    """``plan``'s own durations as (N,) int64 frames, or SynthesisError naming the problem."""
    frames = np.asarray(durations)
    if frames.shape != (phonemes,):
        raise SynthesisError(f"durations has shape {frames.shape} but the utterance has "
                             f"{phonemes} phonemes: give one frame count per phoneme")
    if frames.dtype.kind not in "iu" or (frames < 0).any() or not frames.any():
        raise SynthesisError("durations must be whole frame counts >= 0, not all 0")
    if speed != 1.0:
        raise SynthesisError(f"speed {speed:g} applies to predicted durations: with given "
                             "durations leave speed at 1")
    return frames.astype(np.int64)


def check_controls(*, speed: float | None = None, pitch: float | None = None,
                   pitch_range: float | None = None, temperature: float | None = None,
                   chunk_seconds: float | None = None) -> None:
    """Raise SynthesisError for a control outside its limits (None: not given)."""
    _check_range("speed", speed, SPEED_LIMITS)
    _check_range("pitch shift", pitch, PITCH_LIMITS, " semitones")
    _check_range("pitch range", pitch_range, PITCH_RANGE_LIMITS)
    _check_range("temperature", temperature, TEMPERATURE_LIMITS)
    _check_range("chunk_seconds", chunk_seconds, CHUNK_SECONDS_LIMITS)
