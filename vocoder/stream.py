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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from vocoder.generate import (
    _STATE_FIELDS,
    FRAME_BLOCK,
    GenerationState,
    Generator,
    PreparedBatch,
    VocoderError,
    _feature_list,
    frame_blocks,
)
from tts_common.threads import single_threaded_blas
from vocoder.lpc import SynthesisFilter

logger = logging.getLogger(__name__)

_END = object()  # the last item of an utterance's queue
# Frames of conditioning a job keeps (slot f % RING_FRAMES): what the next ticks read plus the
# blocks being computed ahead, with room to spare (see frame_blocks).
RING_FRAMES = 4 * FRAME_BLOCK
FIRST_TICK_DIVISOR = 4  # the tick is this much shorter while an utterance has no audio yet


@dataclass(eq=False)
class _Job:
    """One utterance in the running batch."""

    number: int
    features: np.ndarray  # (F, C) float32 conditioning, 0 frames without local conditioning
    speaker: int | None
    layer_bias: np.ndarray  # (1, L, G)
    num_samples: int
    state: GenerationState  # batch of 1; the group's copy is the live one while it runs
    temperature: float
    ring: np.ndarray  # (RING_FRAMES, L, G): gate projections of the frames around `time`
    filters: np.ndarray | None  # (F, order + 1) excitation mode: filled block by block
    synthesis: SynthesisFilter | None  # excitation mode: the filter's memory between ticks
    blocks: list[tuple[int, int]]  # frame blocks still to compute, in order
    frames_ready: int = 0
    pieces: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def num_frames(self) -> int:
        return len(self.features)

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
        ring = np.stack([j.ring for j in jobs])  # (B, RING_FRAMES, L, G)
        for row, job in enumerate(jobs):
            job.ring = ring[row]  # blocks computed from now on land in the group's copy
        prepared = PreparedBatch(
            layer_bias=np.concatenate([j.layer_bias for j in jobs]),  # (B, L, G)
            frame_projections=ring,
            num_frames=np.array([j.num_frames for j in jobs], np.int64),
            num_samples=np.array([j.num_samples for j in jobs], np.int64),  # capped per tick
            filters=None)  # the synthesis filters run on the host, per utterance
        state = GenerationState(*(np.concatenate([getattr(j.state, name) for j in jobs])
                                  for name in _STATE_FIELDS))
        return cls(jobs, prepared, state)

    def write_back(self) -> None:
        for row, job in enumerate(self.jobs):
            job.state = self.state.select(np.array([row]))
            job.ring = job.ring.copy()


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
        piece = self._take(block=True)
        if piece is None:
            raise StopIteration
        return piece

    def ready(self) -> np.ndarray | None:
        """The next piece if one is already made, else None (never blocks)."""
        return self._take(block=False)

    def _take(self, block: bool) -> np.ndarray | None:
        if self._finished:
            return None
        try:
            item = self._job.pieces.get(block=block)
        except queue.Empty:
            return None
        if item is _END or isinstance(item, BaseException):
            self._finished = True
            if item is not _END:
                raise item
            return None
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

    def __init__(self, generator: Generator, *, threads: int = 1, tick_samples: int = 1600,
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
        conditioning), a speaker index, its seed. Its audio comes from the returned stream.

        The first block of its conditioning is computed here, the rest by the loop while the
        utterance plays, so a long utterance starts as soon as a short one.
        """
        generator = self.generator
        config = generator.config
        if not np.isfinite(temperature) or temperature < 0:
            raise VocoderError(f"temperature must be >= 0 (0 = argmax), got {temperature}")
        if features is not None:
            features = _checked_features(generator, features)
            num_samples = len(features) * config.hop_length
        # prepare() of no frames checks the speaker and gives the gate bias; the frames come
        # block by block below
        prepared = generator.prepare(None if features is None else [features[:0]],
                                     None if speaker is None else [speaker],
                                     None if features is not None else [num_samples])
        if features is None:
            features = np.zeros((0, 0), np.float32)
        ring_frames = RING_FRAMES if config.cond_channels else 0
        filters = synthesis = None
        if config.lpc_order:
            filters = np.zeros((max(len(features), 1), config.lpc_order + 1))
            filters[:, 0] = 1.0  # the identity filter where there are no frames
            synthesis = SynthesisFilter(filters, config.hop_length)
        job = _Job(next(self._numbers), features, speaker, prepared.layer_bias, int(num_samples),
                   generator.init_state(1, [seed]), float(temperature),
                   np.zeros((ring_frames, config.layers, config.gate_channels), np.float32),
                   filters, synthesis, frame_blocks(len(features)))
        stream = UtteranceStream(job, config.sample_rate)
        if job.num_samples == 0:
            return stream
        if job.blocks:
            with single_threaded_blas():
                self._compute_block(job)
        with self._lock:
            self._pending.append(job)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="wavenet-stream",
                                                daemon=True)
                self._worker.start()
            self._wake.notify()
        return stream

    def _compute_block(self, job: _Job) -> None:
        start, end = job.blocks.pop(0)
        projections, filters = self.generator.frame_block(job.features, start, end,
                                                          job.speaker)
        job.ring[np.arange(start, end) % len(job.ring)] = projections
        if filters is not None:
            job.filters[start:end] = filters
        job.frames_ready = end

    def _sample_limit(self, job: _Job) -> int:
        """How far the job can run on the frames computed so far."""
        if job.frames_ready >= job.num_frames:
            return job.num_samples
        generator = self.generator
        # sample t reads frames t // hop + first_tap ... + taps - 1
        reach = generator.first_tap + generator.upsample_taps.shape[1] - 1
        return max(0, (job.frames_ready - reach) * generator.config.hop_length)

    # -- the loop thread -------------------------------------------------------------------
    def _serve(self) -> None:
        with single_threaded_blas():  # the cores are ours: no BLAS threads on top of them
            self._loop()

    def _loop(self) -> None:
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
        hop = self.generator.config.hop_length
        # A short tick while an utterance waits for its first piece: its first audio sooner.
        steps = self.tick_samples
        if any((group.state.time == 0).any() for group in groups):
            steps = max(1, steps // FIRST_TICK_DIVISOR)
        for group in groups:
            for row, job in enumerate(group.jobs):
                group.prepared.num_samples[row] = min(job.num_samples, self._sample_limit(job))
        # Conditioning blocks are computed alongside the sample loop, a block ahead of it.
        behind = [job for group in groups for row, job in enumerate(group.jobs)
                  if job.blocks and job.frames_ready
                  - (int(group.state.time[row]) + steps) // hop < FRAME_BLOCK]

        def run(group: _Group) -> np.ndarray:
            drawn, _ = self.generator.run(group.state, group.prepared, steps,
                                          group.jobs[0].temperature)
            return drawn  # (B, tick_samples), -1 past each utterance's (capped) end

        if pool is None:
            results = [run(group) for group in groups]
            for job in behind:
                self._compute_block(job)
        else:
            futures = [_start(pool, run, group) for group in groups]
            futures += [_start(pool, self._compute_block, job) for job in behind]
            results = [future.result() for future in futures[:len(groups)]]
            for future in futures[len(groups):]:
                future.result()
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


def _start(pool: ThreadPoolExecutor, work, argument) -> Future:
    """``work(argument)`` on ``pool``, or here once the pool takes no more work.

    At interpreter exit ``concurrent.futures`` refuses new work before daemon threads stop
    (``tts say ... | head -c 100`` exits while a tick is under way); the tick then finishes on
    this thread instead of failing with a traceback.
    """
    try:
        return pool.submit(work, argument)
    except RuntimeError:
        done: Future = Future()
        done.set_result(work(argument))
        return done


def _checked_features(generator: Generator, features: np.ndarray) -> np.ndarray:
    """One utterance's conditioning, checked as ``Generator.prepare`` checks it."""
    return _feature_list([features], generator.config.cond_channels)[0]
