"""What the HTTP server and the Wyoming service share: streams run in worker threads, admitted
through a bounded queue, and audio encodings.

The event loop never generates audio. Each request's ``Synthesizer.stream`` runs in a worker
thread of its own (the Synthesizer batches concurrent streams into one WaveNet generation
loop), and its chunks are handed to the event loop through an ``asyncio.Queue``. A stream that
is ``close``\\ d (its client went away) stops at its next chunk and closes its iterator, which
stops its generation.
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

# How many chunks a worker may generate ahead of its client; past that it waits, so a slow
# client holds a few chunks in memory, not its whole utterance.
READ_AHEAD_CHUNKS = 4
# Poll period of a worker waiting for its client to take a chunk (it also checks for close).
_WAIT_POLL_S = 0.1


class ServerBusy(RuntimeError):
    """Every worker is busy and the wait queue is full: the client should retry later."""


def int16_samples(chunk: np.ndarray) -> np.ndarray:
    """float32 audio in [-1, 1] → 16-bit samples; every format is encoded from these, so a
    WAV, a FLAC and raw PCM of the same request hold the very same samples."""
    return (np.clip(chunk, -1.0, 1.0) * 32767.0).round().astype("<i2")


def pcm16(chunk: np.ndarray) -> bytes:
    """float32 audio in [-1, 1] → little-endian 16-bit PCM bytes."""
    return int16_samples(chunk).tobytes()


def streaming_wav_header(sample_rate: int) -> bytes:
    """A 16-bit mono WAV header whose sizes say "unknown" (0xFFFFFFFF), as Piper's and
    OpenAI's streamed WAVs do: the data that follows is as long as the stream."""
    unknown = 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", unknown) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
            + fmt + b"data" + struct.pack("<I", unknown))


@dataclass(frozen=True)
class AudioFormat:
    name: str
    media_type: str
    soundfile_format: str | None   # None: raw PCM, no container
    subtype: str | None
    streamable: bool               # can be sent as it is encoded (no header to patch at the end)


# libsndfile (through soundfile) writes all of these. MP3 and FLAC patch their first header
# bytes when the file is closed (the LAME/Xing frame, the STREAMINFO sample count); without
# that patch libsndfile itself reads a streamed MP3 short and a streamed FLAC as endless, so
# those two are always sent whole. Ogg/Opus is written strictly in order and streams.
AUDIO_FORMATS = {
    "wav": AudioFormat("wav", "audio/wav", "WAV", "PCM_16", True),
    "pcm": AudioFormat("pcm", "audio/pcm", None, None, True),
    "opus": AudioFormat("opus", "audio/ogg", "OGG", "OPUS", True),
    "flac": AudioFormat("flac", "audio/flac", "FLAC", "PCM_16", False),
    "mp3": AudioFormat("mp3", "audio/mpeg", "MP3", "MPEG_LAYER_III", False),
}


def encode_whole(chunks: list[np.ndarray], audio_format: AudioFormat, sample_rate: int) -> bytes:
    """The complete file of one utterance (with its true length in the header)."""
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if audio_format.soundfile_format is None:
        return pcm16(audio)
    import soundfile as sf

    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", samplerate=sample_rate, channels=1,
                      format=audio_format.soundfile_format, subtype=audio_format.subtype) as sound:
        sound.write(int16_samples(audio))
    return buffer.getvalue()


class _AppendOnlySink(io.RawIOBase):
    """A file for libsndfile that hands out what was written since the last ``take``.

    Seeks and writes behind the bytes already taken (header patches at close) are accepted and
    dropped: those bytes are gone to the client."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._taken = 0        # bytes handed out so far
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        end = self._taken + len(self._pending)
        self._position = {io.SEEK_SET: offset, io.SEEK_CUR: self._position + offset,
                          io.SEEK_END: end + offset}[whence]
        return self._position

    def write(self, data) -> int:
        data = bytes(data)
        start = self._position - self._taken
        if start >= 0:
            self._pending[start:start + len(data)] = data
        self._position += len(data)
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._pending)
        self._taken += len(data)
        self._pending.clear()
        return data


class StreamEncoder:
    """Encodes a streamable format chunk by chunk: ``encode(chunk)`` → the bytes ready now,
    ``finish()`` → the rest."""

    def __init__(self, audio_format: AudioFormat, sample_rate: int):
        if not audio_format.streamable:
            raise ValueError(f"{audio_format.name} cannot be streamed")
        self._format = audio_format
        self._sink = None
        self._sound = None
        self._header = b""
        if audio_format.name == "wav":
            self._header = streaming_wav_header(sample_rate)
        elif audio_format.soundfile_format is not None:
            import soundfile as sf

            self._sink = _AppendOnlySink()
            self._sound = sf.SoundFile(self._sink, "w", samplerate=sample_rate, channels=1,
                                       format=audio_format.soundfile_format,
                                       subtype=audio_format.subtype)

    def encode(self, chunk: np.ndarray) -> bytes:
        header, self._header = self._header, b""
        if self._sound is None:
            return header + pcm16(chunk)
        self._sound.write(int16_samples(chunk))
        return self._sink.take()

    def finish(self) -> bytes:
        header, self._header = self._header, b""
        if self._sound is None:
            return header
        self._sound.close()
        return self._sink.take()


class StreamJob:
    """One utterance's stream running in a worker thread; the event loop awaits its chunks.

    ``await job.next()`` gives the next float32 chunk, None at the end, or raises what the
    stream raised (a ``SynthesisError`` for bad arguments). ``close()`` stops the worker."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 make_stream: Callable[[], Iterator[np.ndarray]]):
        self._loop = loop
        self._make_stream = make_stream
        self._queue: asyncio.Queue = asyncio.Queue()
        self._room = threading.Semaphore(READ_AHEAD_CHUNKS)
        self._stop = threading.Event()
        self.exhausted = False   # set by the worker when the stream ran to its end

    # -- worker thread ----------------------------------------------------------------------
    def run(self) -> None:
        stream = None
        try:
            stream = iter(self._make_stream())
            while self._wait_for_room():
                try:
                    chunk = next(stream)
                except StopIteration:
                    self.exhausted = True
                    self._hand_over(("end", None))
                    return
                self._hand_over(("chunk", chunk))
        except BaseException as exc:  # noqa: BLE001 - handed to the request, which reports it
            self._hand_over(("error", exc))
        finally:
            if stream is not None and hasattr(stream, "close"):
                stream.close()  # stops the Synthesizer's generation of this stream

    def _wait_for_room(self) -> bool:
        while not self._room.acquire(timeout=_WAIT_POLL_S):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def _hand_over(self, item) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the event loop has shut down: nobody is listening any more
            self._stop.set()

    # -- event loop -------------------------------------------------------------------------
    async def next(self) -> np.ndarray | None:
        kind, value = await self._queue.get()
        if kind == "chunk":
            self._room.release()
            return value
        self._queue.put_nowait((kind, value))  # later calls see the same end or error
        if kind == "error":
            raise value
        return None

    def close(self) -> None:
        self._stop.set()
        self._room.release()  # wake a worker waiting for room


class SynthesisPool:
    """Runs streams in at most ``max_concurrent`` worker threads; up to ``max_queue`` more
    requests wait for a thread, and beyond that ``start`` raises ``ServerBusy`` at once.

    Create it inside the event loop that will await its jobs."""

    def __init__(self, max_concurrent: int, max_queue: int):
        if max_concurrent < 1 or max_queue < 0:
            raise ValueError("max_concurrent must be >= 1 and max_queue >= 0")
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        self._executor = ThreadPoolExecutor(max_concurrent, thread_name_prefix="tts-stream")
        self._threads = asyncio.Semaphore(max_concurrent)
        self.active = 0      # streams holding a worker thread
        self.waiting = 0     # requests waiting for one
        self.completed = 0   # streams that ran to their end
        self.stopped = 0     # streams closed before their end (client gone) or failed

    async def start(self, make_stream: Callable[[], Iterator[np.ndarray]]) -> StreamJob:
        if self._threads.locked() and self.waiting >= self.max_queue:
            raise ServerBusy(f"the server is busy: {self.active} streams running and "
                             f"{self.waiting} waiting; retry shortly")
        self.waiting += 1
        try:
            await self._threads.acquire()
        finally:
            self.waiting -= 1
        self.active += 1
        loop = asyncio.get_running_loop()
        job = StreamJob(loop, make_stream)
        future = loop.run_in_executor(self._executor, job.run)
        future.add_done_callback(lambda _: self._release(job))
        return job

    def _release(self, job: StreamJob) -> None:
        self.active -= 1
        if job.exhausted:
            self.completed += 1
        else:
            self.stopped += 1
        self._threads.release()

    def stats(self) -> dict[str, int]:
        return {"active": self.active, "waiting": self.waiting, "completed": self.completed,
                "stopped": self.stopped, "max_concurrent": self.max_concurrent,
                "max_queue": self.max_queue}

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

