"""``tts wyoming``: the voice as a Wyoming TTS service, for Home Assistant (as wyoming-piper).

    describe                       → info: the voice, its speakers, streaming supported
    synthesize {text, voice}       → audio-start, audio-chunk ..., audio-stop
    synthesize-start {voice}       → (nothing yet)
    synthesize-chunk {text} ...    → each sentence, once complete: audio-start, -chunk..., -stop
    synthesize-stop                → the rest, then synthesize-stopped

``voice.name`` may be the voice's name or a speaker id; ``voice.speaker`` a speaker id. A bad
request (unknown speaker, empty or overlong text) is answered with an ``error`` event and the
connection stays usable. Audio is 16-bit mono PCM at the voice's rate, sent as it is made.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from frontend.normalize import split_sentences
from tts import __version__
from tts.serving import ServerBusy, SynthesisPool, pcm16
from tts.synthesizer import SynthesisError, Synthesizer

logger = logging.getLogger(__name__)

SAMPLES_PER_CHUNK = 1024  # audio-chunk size, as wyoming-piper sends


@dataclass
class WyomingConfig:
    uri: str = "tcp://127.0.0.1:10200"
    max_text: int = 4096
    max_concurrent: int = 8
    max_queue: int = 16


def wyoming_info(synth: Synthesizer) -> Info:
    voice = synth.voice
    name = voice.name or "wavenet-tts"
    language = voice.frontend.language
    attribution = Attribution(name="wavenet-tts", url="")
    speakers = [TtsVoiceSpeaker(name=speaker) for speaker in synth.speakers]
    return Info(tts=[TtsProgram(
        name="wavenet-tts", description="WaveNet text-to-speech", attribution=attribution,
        installed=True, version=__version__, supports_synthesize_streaming=True,
        voices=[TtsVoice(name=name, description=voice.description or name,
                         attribution=attribution, installed=True, version=__version__,
                         languages=[language], speakers=speakers)])])


class TtsEventHandler(AsyncEventHandler):
    """One client connection."""

    def __init__(self, reader, writer, *, synth: Synthesizer, pool: SynthesisPool,
                 config: WyomingConfig, info: Info):
        super().__init__(reader, writer)
        self.synth = synth
        self.pool = pool
        self.config = config
        self.info_event = info.event()
        self._voice_name = info.tts[0].voices[0].name
        self._streaming_voice: SynthesizeVoice | None = None
        self._pending_text: str | None = None  # None: not in a streaming request

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.info_event)
        elif Synthesize.is_type(event.type):
            # Inside a streaming request Home Assistant also sends the whole text as one
            # synthesize event, for older services; the chunks already carry it.
            if self._pending_text is None:
                request = Synthesize.from_event(event)
                await self._speak(request.text, request.voice)
        elif SynthesizeStart.is_type(event.type):
            self._streaming_voice = SynthesizeStart.from_event(event).voice
            self._pending_text = ""
        elif SynthesizeChunk.is_type(event.type):
            if self._pending_text is None:
                await self._error("synthesize-chunk outside synthesize-start/-stop",
                                  "protocol")
                return True
            self._pending_text += SynthesizeChunk.from_event(event).text
            sentences = split_sentences(self._pending_text)
            if len(sentences) > 1:  # all but the last are complete; the last may go on
                start = self._pending_text.rindex(sentences[-1])
                self._pending_text = self._pending_text[start:]
                for sentence in sentences[:-1]:
                    await self._speak(sentence, self._streaming_voice)
        elif SynthesizeStop.is_type(event.type):
            rest, self._pending_text = self._pending_text or "", None
            if rest.strip():
                await self._speak(rest, self._streaming_voice)
            await self.write_event(SynthesizeStopped().event())
        return True

    def _speaker(self, voice: SynthesizeVoice | None) -> str | None:
        if voice is None:
            return None
        if voice.speaker:
            return voice.speaker
        if voice.name and voice.name != self._voice_name:
            return voice.name  # a speaker id given as the voice name
        return None

    async def _error(self, text: str, code: str) -> None:
        logger.info("wyoming request refused: %s", text)
        await self.write_event(Error(text=text, code=code).event())

    async def _speak(self, text: str, voice: SynthesizeVoice | None) -> None:
        if not text.strip():
            return await self._error("text is empty: give some words to say", "empty-text")
        if len(text) > self.config.max_text:
            return await self._error(f"text is {len(text)} characters; this service takes at "
                                     f"most {self.config.max_text}", "text-too-long")
        speaker = self._speaker(voice)
        try:
            self.synth.speaker_index(speaker)
            job = await self.pool.start(partial(self.synth.stream, text, speaker))
        except (SynthesisError, ServerBusy) as exc:
            return await self._error(str(exc), type(exc).__name__)
        rate = self.synth.sample_rate
        started = False
        try:
            while (chunk := await job.next()) is not None:
                if not started:
                    await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
                    started = True
                for start in range(0, len(chunk), SAMPLES_PER_CHUNK):
                    await self.write_event(AudioChunk(
                        rate=rate, width=2, channels=1,
                        audio=pcm16(chunk[start:start + SAMPLES_PER_CHUNK])).event())
        except SynthesisError as exc:
            if not started:
                return await self._error(str(exc), type(exc).__name__)
            logger.error("stream ended early: %s", exc)
        finally:
            job.close()  # also when the client went away mid-stream (the write raised)
        if not started:
            await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
        await self.write_event(AudioStop().event())


async def run_wyoming(synth: Synthesizer, config: WyomingConfig,
                      started: asyncio.Event | None = None,
                      pool: SynthesisPool | None = None) -> None:
    """Serve until cancelled. ``started`` is set once the server listens; ``pool`` (made in
    this event loop) lets the caller watch the streams (tests)."""
    pool = pool or SynthesisPool(config.max_concurrent, config.max_queue)
    info = wyoming_info(synth)
    server = AsyncServer.from_uri(config.uri)
    factory = partial(TtsEventHandler, synth=synth, pool=pool, config=config, info=info)
    try:
        await server.start(factory)
        logger.info("Wyoming TTS service listening on %s", config.uri)
        if started is not None:
            started.set()
        await asyncio.Event().wait()
    finally:
        await server.stop()
        pool.shutdown()


def serve_wyoming(config: WyomingConfig, voice: str | None = None) -> None:
    """Load the voice and serve until interrupted (what ``tts wyoming`` runs)."""
    synth = Synthesizer.from_pretrained(voice)
    try:
        asyncio.run(run_wyoming(synth, config))
    except KeyboardInterrupt:
        pass
