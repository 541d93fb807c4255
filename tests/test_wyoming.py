"""`tts wyoming` over a real TCP socket on 127.0.0.1, driven by the wyoming package's own
client classes (as Home Assistant does), on the tiny voice."""

from __future__ import annotations

import asyncio
import socket

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from tts.serving import SynthesisPool, pcm16
from tts.synthesizer import Synthesizer
from tts.wyoming_service import WyomingConfig, run_wyoming


@pytest.fixture(scope="module")
def synth(tiny_voice) -> Synthesizer:
    return Synthesizer.from_pretrained(tiny_voice)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_service(synth, scenario, **config):
    """Run the service on a free port, then ``scenario(client_factory, pool)``; stop the
    service."""

    async def main():
        port = _free_port()
        started = asyncio.Event()
        pool = SynthesisPool(4, 4)
        service = asyncio.create_task(run_wyoming(
            synth, WyomingConfig(uri=f"tcp://127.0.0.1:{port}", **config), started, pool))
        await asyncio.wait_for(started.wait(), 30)
        try:
            connect = lambda: AsyncTcpClient("127.0.0.1", port, read_timeout=60)  # noqa: E731
            if scenario.__code__.co_argcount == 2:
                return await scenario(connect, pool)
            return await scenario(connect)
        finally:
            service.cancel()
            with pytest.raises(asyncio.CancelledError):
                await service

    return asyncio.run(main())


async def read_utterance(client) -> tuple[AudioStart, list[AudioChunk]]:
    """audio-start, audio-chunk..., audio-stop → (start, chunks)."""
    event = await client.read_event()
    assert AudioStart.is_type(event.type), event
    start, chunks = AudioStart.from_event(event), []
    while True:
        event = await client.read_event()
        if AudioStop.is_type(event.type):
            return start, chunks
        assert AudioChunk.is_type(event.type), event
        chunks.append(AudioChunk.from_event(event))


def test_describe_answers_info_with_the_voice_and_its_speakers(synth):
    async def scenario(connect):
        async with connect() as client:
            await client.write_event(Describe().event())
            event = await client.read_event()
        return Info.from_event(event)

    info = with_service(synth, scenario)
    (program,) = info.tts
    assert program.supports_synthesize_streaming
    (voice,) = program.voices
    assert voice.name == "tiny" and voice.languages == ["en-us"]
    assert [s.name for s in voice.speakers] == synth.speakers


def test_synthesize_streams_the_synthesizers_audio(synth):
    text = "The cat sat down. It was warm."

    async def scenario(connect):
        async with connect() as client:
            await client.write_event(Synthesize(
                text=text, voice=SynthesizeVoice(name="tiny", speaker="p226")).event())
            return await read_utterance(client)

    start, chunks = with_service(synth, scenario)
    assert (start.rate, start.width, start.channels) == (16000, 2, 1)
    assert len(chunks) > 1 and all(c.rate == 16000 and c.width == 2 for c in chunks)
    assert b"".join(c.audio for c in chunks) == pcm16(synth.synthesize(text, "p226", seed=0))


def test_streaming_synthesis_speaks_each_sentence_as_it_completes(synth):
    async def scenario(connect):
        async with connect() as client:
            await client.write_event(SynthesizeStart(
                voice=SynthesizeVoice(name="p225")).event())  # a speaker id as the name
            for piece in ("The cat sat", " down. It was", " warm. Goodbye"):
                await client.write_event(SynthesizeChunk(text=piece).event())
            # the first sentence is complete (a second one has begun): it is spoken now
            first = await read_utterance(client)
            # what Home Assistant also sends inside a stream, for older services: ignored
            await client.write_event(Synthesize(text="The cat sat down. It was warm. "
                                                     "Goodbye").event())
            await client.write_event(SynthesizeStop().event())
            second = await read_utterance(client)
            third = await read_utterance(client)
            stopped = await client.read_event()
        return first, second, third, stopped

    first, second, third, stopped = with_service(synth, scenario)
    assert SynthesizeStopped.is_type(stopped.type)
    for (_, chunks), sentence in zip((first, second, third),
                                     ("The cat sat down.", "It was warm.", "Goodbye")):
        assert b"".join(c.audio for c in chunks) == pcm16(
            synth.synthesize(sentence, "p225", seed=0))


def test_bad_requests_get_an_error_event_and_the_connection_stays_usable(synth):
    async def scenario(connect):
        async with connect() as client:
            replies = []
            for text, speaker in (("Hello.", "nobody"), ("   ", None), ("x" * 101, None)):
                await client.write_event(Synthesize(
                    text=text, voice=SynthesizeVoice(name="tiny", speaker=speaker)).event())
                replies.append(Error.from_event(await client.read_event()))
            await client.write_event(Synthesize(text="Hello.").event())
            _, chunks = await read_utterance(client)
        return replies, chunks

    (unknown, empty, too_long), chunks = with_service(synth, scenario, max_text=100)
    assert "nobody" in unknown.text and "p225" in unknown.text and "p226" in unknown.text
    assert "empty" in empty.text
    assert "100" in too_long.text
    assert np.frombuffer(b"".join(c.audio for c in chunks), "<i2").size > 0


def test_a_client_leaving_mid_stream_stops_its_generation(synth):
    long_text = "The cat sat on the mat and looked at the door. " * 60

    async def scenario(connect, pool):
        client = connect()
        await client.connect()
        await client.write_event(Synthesize(text=long_text).event())
        assert AudioStart.is_type((await client.read_event()).type)
        assert AudioChunk.is_type((await client.read_event()).type)
        await client.disconnect()
        for _ in range(600):
            if not pool.active:
                break
            await asyncio.sleep(0.05)
        stats = dict(pool.stats())
        # the service goes on serving
        async with connect() as again:
            await again.write_event(Synthesize(text="Hello.").event())
            _, chunks = await read_utterance(again)
        return stats, chunks

    stats, chunks = with_service(synth, scenario)
    assert stats["active"] == 0 and stats["stopped"] == 1 and stats["completed"] == 0
    assert b"".join(c.audio for c in chunks) == pcm16(synth.synthesize("Hello.", None, seed=0))


def test_tts_wyoming_command_serves_the_bundled_voice():
    import subprocess
    import sys

    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "tts", "wyoming", "--uri",
                                f"tcp://127.0.0.1:{port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    async def describe_when_up():
        for _ in range(480):
            assert process.poll() is None, process.stdout.read().decode()
            try:
                async with AsyncTcpClient("127.0.0.1", port, read_timeout=60) as client:
                    await client.write_event(Describe().event())
                    info = Info.from_event(await client.read_event())
                    await client.write_event(Synthesize(
                        text="Hello.", voice=SynthesizeVoice(name="p227")).event())
                    return info, await read_utterance(client)
            except OSError:
                await asyncio.sleep(0.25)
        pytest.fail("tts wyoming did not start in 120 s")

    try:
        info, (start, chunks) = asyncio.run(describe_when_up())
    finally:
        process.terminate()
        process.wait(timeout=30)
    speakers = [s.name for s in info.tts[0].voices[0].speakers]
    assert len(speakers) == 10 and speakers[0] == "p225"
    audio = np.frombuffer(b"".join(c.audio for c in chunks), "<i2") / 32768.0
    assert start.rate == 16000 and 0.2 < len(audio) / 16000 < 3.0
    assert np.sqrt(np.mean(audio ** 2)) > 0.01  # speech, not silence
