"""The Synthesizer: text → 16 kHz speech through the frontend, the prosody models and the WaveNet.

Layered like Piper's API, each layer usable alone:

    utterances = synth.phonemize(text)                  # frontend: one Utterance per sentence
    plans      = synth.plan(utterances, speaker)        # durations, F0, WaveNet conditioning
    audio      = synth.vocode(plans, seed=0)            # WaveNet: one waveform per sentence

``synthesize`` and ``stream`` chain the three. Several sentences are vocoded together in one
batched call that splits the batch across threads (the generation loop releases the GIL).
``vocode_conditioning`` is layer 3 for conditioning that did not come from ``plan`` (copy
synthesis from a prepared corpus's ground truth).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.conditioning import wavenet_conditioning
from frontend.features import (
    FrontendError,
    Frontend,
    Utterance,
    frame_features,
    phoneme_features,
)
from frontend.prosody import (
    predict_durations,
    predict_f0,
    prosody_from_tensors,
)
from tts.voice import Speaker, VoiceError, VoiceSpec, bundled_voice_dir, read_voice
from vocoder.generate import Generator
from vocoder.config import WaveNetConfig

logger = logging.getLogger(__name__)

_VCTK_ALIAS = re.compile(r"^VCTK_", re.IGNORECASE)


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

    def __init__(self, voice: VoiceSpec, *, threads: int | None = None):
        self.voice = voice
        self.threads = threads or _thread_count()
        # read_voice has checked that this version can run the voice (inventory, channels).
        self.frontend = Frontend(voice.frontend.backend, language=voice.frontend.language)
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
        self.temperature = voice.synthesis.temperature
        self.sentence_pause_s = voice.synthesis.sentence_pause_s
        self._speakers = voice.speakers
        self._speaker_index = {s.id: s.index for s in self._speakers}

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
             pitch: float = 0.0, pitch_range: float = 1.0) -> SentencePlan:
        """Predict durations and F0 for one sentence and build the WaveNet's conditioning."""
        phone_feats = phoneme_features(utterance)  # (N, D)
        durations = predict_durations(self.duration_model, phone_feats, speaker_index,
                                      speed=speed)  # (N,)
        frame_feats = frame_features(phone_feats, durations)  # (T, D + 4)
        f0_hz, voiced = predict_f0(self.pitch_model, frame_feats, speaker_index,
                                   pitch_shift_semitones=pitch, pitch_range=pitch_range)
        conditioning = wavenet_conditioning(frame_feats, f0_hz, voiced,
                                            self.log_f0_mean, self.log_f0_std)  # (T, C)
        return SentencePlan(utterance, speaker_index, durations, f0_hz, voiced, conditioning)

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
    def stream(self, text: str, speaker: str | None = None, *, seed: int = 0,
               speed: float = 1.0, pitch: float = 0.0, pitch_range: float = 1.0,
               temperature: float | None = None,
               progress: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
        """Yield one float32 chunk per sentence, in order, in bounded memory.

        The first sentence is generated alone so that audio starts as soon as possible; later
        sentences go in batches of ``threads`` so that every core works. Sentence ``i`` uses
        seed ``seed + i`` whatever the batching, so the audio is the same either way.
        """
        self._check_controls(speed, pitch, pitch_range, temperature)
        speaker_index = self.speaker_index(speaker)
        pause = np.zeros(int(round(self.sentence_pause_s * self.sample_rate)), np.float32)
        batch: list[SentencePlan] = []
        first_batch_done = False
        sentence = 0

        def flush() -> Iterator[np.ndarray]:
            nonlocal sentence
            seeds = [seed + sentence + i for i in range(len(batch))]
            for chunk in self.vocode(batch, seeds=seeds, temperature=temperature):
                yield chunk if sentence == 0 else np.concatenate([pause, chunk])
                sentence += 1
                if progress is not None:
                    progress(1)
            batch.clear()

        for utterance in self.phonemize(text):
            batch.append(self.plan(utterance, speaker_index, speed=speed, pitch=pitch,
                                   pitch_range=pitch_range))
            if len(batch) >= (self.threads if first_batch_done else 1):
                first_batch_done = True
                yield from flush()
        if batch:
            yield from flush()

    def synthesize(self, text: str, speaker: str | None = None, *, seed: int = 0,
                   speed: float = 1.0, pitch: float = 0.0, pitch_range: float = 1.0,
                   temperature: float | None = None) -> np.ndarray:
        """The whole text as one float32 array in [-1, 1] at ``sample_rate``."""
        chunks = list(self.stream(text, speaker, seed=seed, speed=speed, pitch=pitch,
                                  pitch_range=pitch_range, temperature=temperature))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    @staticmethod
    def _check_controls(speed: float, pitch: float, pitch_range: float,
                        temperature: float | None) -> None:
        if not (np.isfinite(speed) and 0.25 <= speed <= 4.0):
            raise SynthesisError(f"speed must be between 0.25 and 4, got {speed}")
        if not (np.isfinite(pitch) and -24 <= pitch <= 24):
            raise SynthesisError(f"pitch shift must be between -24 and 24 semitones, got {pitch}")
        if not (np.isfinite(pitch_range) and 0 <= pitch_range <= 4):
            raise SynthesisError(f"pitch range must be between 0 and 4, got {pitch_range}")
        if temperature is not None and not (np.isfinite(temperature) and temperature >= 0):
            raise SynthesisError(f"temperature must be >= 0, got {temperature}")
