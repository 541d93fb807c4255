"""Streaming generation: utterances join and leave one running batch, and their audio comes out
in small pieces while the sample loop makes it.

A WaveNet makes its audio sample by sample, so there is no reason to wait for a whole sentence
before playing it. ``StreamingGenerator`` runs the numba sample loop (``Generator.run``) in
ticks of ``tick_samples`` steps on a background thread. Between ticks it admits newly submitted
utterances and drops finished or cancelled ones, so any number of callers (the sentences of one
text, or the requests of a server) share one batch: each tick's weights are streamed once for
all of them, and the batch is split over ``threads`` cores.

Each utterance keeps its own generation state and random stream, and the loop's arithmetic for
one utterance does not depend on its batch neighbours (see ``vocoder.generate``), so its audio
is the same whenever it joins and whoever it shares the batch with: the pieces joined are the
samples ``Generator.generate`` gives for the same inputs and seed.

The thread starts on the first submission and ends after ``idle_seconds`` without work.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from vocoder.generate import _STATE_FIELDS, GenerationState, Generator, PreparedBatch, VocoderError
from vocoder.lpc import SynthesisFilter

logger = logging.getLogger(__name__)

_END = object()  # the last item of an utterance's queue


@dataclass(eq=False)
class _Job:
    """One utterance in the running batch."""

    number: int
    prepared: PreparedBatch  # batch of 1
    state: GenerationState  # batch of 1; the group's copy is the live one while it runs
    temperature: float
    synthesis: SynthesisFilter | None  # excitation mode: the filter's memory between ticks
    pieces: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def num_samples(self) -> int:
        return int(self.prepared.num_samples[0])

    @property
    def done(self) -> bool:
        return int(self.state.time[0]) >= self.num_samples


@dataclass(eq=False)
class _Group:
    """Utterances that run together in one call of the loop (one core)."""

    jobs: list[_Job]
    prepared: PreparedBatch
    state: GenerationState

    @classmethod
    def of(cls, jobs: list[_Job]) -> "_Group":
        return cls(jobs, _concat_prepared([j.prepared for j in jobs]),
                   _concat_states([j.state for j in jobs]))

    def write_back(self) -> None:
        for row, job in enumerate(self.jobs):
            job.state = self.state.select(np.array([row]))


class UtteranceStream:
    """The audio of one submitted utterance, piece by piece; ``close()`` stops its generation."""

    def __init__(self, job: _Job, sample_rate: int):
        self._job = job
        self.sample_rate = sample_rate
        self.num_samples = job.num_samples
        self._finished = job.num_samples == 0

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        if self._finished:
            raise StopIteration
        item = self._job.pieces.get()
        if item is _END:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item

    def ready(self) -> np.ndarray | None:
        """The next piece if one is already made, else None (never blocks)."""
        if self._finished:
            return None
        try:
            item = self._job.pieces.get_nowait()
        except queue.Empty:
            return None
        if item is _END:
            self._finished = True
            return None
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item

    @property
    def finished(self) -> bool:
        return self._finished

    def close(self) -> None:
        """Stop generating this utterance (at the next tick); what was made is dropped."""
        self._job.cancelled.set()
        self._finished = True

    def __del__(self):  # an abandoned stream must not keep a core busy
        self._job.cancelled.set()


class StreamingGenerator:
    """One running batch shared by every utterance submitted to it (thread-safe)."""

    def __init__(self, generator: Generator, *, threads: int = 1, tick_samples: int = 800,
                 idle_seconds: float = 2.0):
        if threads < 1:
            raise VocoderError(f"threads must be >= 1, got {threads}")
        if tick_samples < 1:
            raise VocoderError(f"tick_samples must be >= 1, got {tick_samples}")
        self.generator = generator
        self.threads = threads
        self.tick_samples = tick_samples
        self.idle_seconds = idle_seconds
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: list[_Job] = []
        self._worker: threading.Thread | None = None

    def submit(self, features: np.ndarray | None, speaker: int | None, *, seed: int,
               temperature: float, num_samples: int | None = None) -> UtteranceStream:
        """Queue one utterance: (frames, C) conditioning (or ``num_samples`` without local
        conditioning), a speaker index, its seed. Its audio comes from the returned stream."""
        generator = self.generator
        prepared = generator.prepare(None if features is None else [features],
                                     None if speaker is None else [speaker],
                                     None if num_samples is None else [num_samples])
        if not np.isfinite(temperature) or temperature < 0:
            raise VocoderError(f"temperature must be >= 0 (0 = argmax), got {temperature}")
        synthesis = None
        if prepared.filters is not None:
            synthesis = SynthesisFilter(prepared.filters[0], generator.config.hop_length)
        job = _Job(next(self._numbers), prepared, generator.init_state(1, [seed]),
                   float(temperature), synthesis)
        stream = UtteranceStream(job, generator.config.sample_rate)
        if job.num_samples == 0:
            return stream
        with self._lock:
            self._pending.append(job)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="wavenet-stream",
                                                daemon=True)
                self._worker.start()
            self._wake.notify()
        return stream

    # -- the loop thread -------------------------------------------------------------------
    def _serve(self) -> None:
        active: list[_Job] = []
        groups: list[_Group] = []
        pool = ThreadPoolExecutor(max_workers=self.threads) if self.threads > 1 else None
        try:
            while True:
                with self._lock:
                    if not active and not self._pending:
                        self._wake.wait(self.idle_seconds)
                        if not self._pending:
                            self._worker = None  # the next submit starts a new thread
                            return
                    arrivals, self._pending = self._pending, []
                still = [j for j in active if not j.cancelled.is_set() and not j.done]
                arrivals = [j for j in arrivals if not j.cancelled.is_set()]
                if arrivals or len(still) != len(active):
                    for group in groups:
                        group.write_back()
                    active = still + arrivals
                    groups = [_Group.of(jobs) for jobs in self._partition(active)]
                if not groups:
                    continue
                self._tick(groups, pool)
        except BaseException as exc:  # never leave a reader waiting forever
            logger.exception("streaming generation failed")
            with self._lock:
                stranded, self._pending, self._worker = active + self._pending, [], None
            for job in stranded:
                job.pieces.put(VocoderError(f"generation failed: {exc}"))
        finally:
            if pool is not None:
                pool.shutdown(wait=False)

    def _partition(self, jobs: list[_Job]) -> list[list[_Job]]:
        """Jobs → at most ``threads`` groups of equal temperature and similar size."""
        by_temperature: dict[float, list[_Job]] = {}
        for job in sorted(jobs, key=lambda j: j.number):
            by_temperature.setdefault(job.temperature, []).append(job)
        groups = list(by_temperature.values())
        while len(groups) < self.threads:
            largest = max(groups, key=len, default=[])
            if len(largest) < 2:
                break
            groups.remove(largest)
            groups += [largest[:len(largest) // 2], largest[len(largest) // 2:]]
        return groups

    def _tick(self, groups: list[_Group], pool: ThreadPoolExecutor | None) -> None:
        def run(group: _Group) -> np.ndarray:
            drawn, _ = self.generator.run(group.state, group.prepared, self.tick_samples,
                                          group.jobs[0].temperature)
            return drawn  # (B, tick_samples), -1 past each utterance's end

        if pool is None or len(groups) == 1:
            results = [run(group) for group in groups]
        else:
            results = list(pool.map(run, groups))
        for group, drawn in zip(groups, results):
            for row, job in enumerate(group.jobs):
                if job.cancelled.is_set():
                    continue
                classes = drawn[row]
                classes = classes[classes >= 0]
                if len(classes):
                    job.pieces.put(self.generator.waveform_piece(classes, job.synthesis))
                if int(group.state.time[row]) >= job.num_samples:
                    job.state = group.state.select(np.array([row]))
                    job.pieces.put(_END)


def _concat_prepared(parts: list[PreparedBatch]) -> PreparedBatch:
    frames = max(int(p.frame_projections.shape[1]) for p in parts)
    projections = np.zeros((len(parts), frames, *parts[0].frame_projections.shape[2:]),
                           np.float32)  # (B, F_max, L, G)
    for row, part in enumerate(parts):
        projections[row, :part.frame_projections.shape[1]] = part.frame_projections[0]
    return PreparedBatch(
        layer_bias=np.concatenate([p.layer_bias for p in parts]),  # (B, L, G)
        frame_projections=projections,
        num_frames=np.concatenate([p.num_frames for p in parts]),
        num_samples=np.concatenate([p.num_samples for p in parts]),
        filters=None)  # the filters run on the host, per utterance


def _concat_states(parts: list[GenerationState]) -> GenerationState:
    return GenerationState(*(np.concatenate([getattr(p, name) for p in parts])
                             for name in _STATE_FIELDS))
