"""flite's clustergen F0 model, run on our own ``Utterance``: an F0 prior per phoneme.

``frontend.flite_durations`` gives a phone the length the slt, awb and rms voices would give it.
The same voices predict F0 frame by frame (``src/cg/cst_cg.c``): the utterance is laid out in
5 ms frames over the HMM states their duration trees make (``cg_make_params``); every frame's
F0 is the answer of its state's tree (``cg_predict_params``) over the state's and phone's
features and the frame's place in its state, phone and phrase (``lisp_cg_state_place``,
``lisp_cg_position_in_phrasep``, ... of ``src/synth/cst_ffeatures.c``); then each syllable's
contour is redrawn as Catmull-Rom splines through its start, middle and end
(``cg_F0_interpolate_spline``). slt and awb speak that contour. rms replaces it with its SPAM
model (``src/cg/cst_spamf0.c``): a phrase-level log F0 per segment from one tree, plus, per
syllable, an accent shape chosen by another tree, drawn as a tilt rise and fall over the
syllable (``cst_synthtilt``).

Sessions 11 to 14 of ``recipes/demo/RESULTS.md`` found the pitch model's worst speakers on new
text were awb's and rms's, about 100 cents off; the trees are the rule their F0 follows.

* ``flite_f0_contour(utt, voice)`` → (frames,) float64 Hz on flite's own time axis, 0 where
  a tree answers below 50 Hz (flite's unvoiced), and the frame span of every phoneme;
* ``flite_f0_features(utt)`` → (N, 3 * len(CLUSTERGEN_VOICES)) float32: per voice, the mean
  ``log2(F0 / 100 Hz)`` over the first, middle and last third of each phoneme's frames, the
  input columns of ``feature_set = "...+flite_f0"``. Each phoneme's row comes from its own
  frames, so a window's rows equal the whole utterance's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.features import Utterance
from frontend.flite_durations import (
    CLUSTERGEN_VOICES, FRAME_SECONDS, Segments, state_seconds, states_of,
)
from frontend.intonation import Syllable, cart_interpret, cart_walk

__all__ = ["FLITE_F0_DIM", "F0Contour", "flite_f0_contour", "flite_f0_features"]

TABLES = Path(__file__).resolve().parent / "data" / "flite_f0.json"
THIRDS = 3  # summary values per phoneme and voice
FLITE_F0_DIM = THIRDS * len(CLUSTERGEN_VOICES)
UNVOICED_BELOW_HZ = 50.0  # cg_predict_params: a tree answer under this is unvoiced (0)
REFERENCE_HZ = 100.0  # the features are octaves from this
_STATE_PATH = "R:mcep_link.parent."  # a frame's path to its state
_SEGMENT_PATH = "R:segstate.parent."  # a state's path to its phone


@functools.lru_cache(maxsize=1)
def _tables() -> dict:
    """``frontend/data/flite_f0.json``, loaded on first use (0.3 MB)."""
    return json.loads(TABLES.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _trees() -> dict[str, dict[str, tuple]]:
    """voice → state name → (features, nodes)."""
    data = _tables()
    return {voice: {state: (tuple(data["F0_FEATURES"][voice]), nodes)
                    for state, nodes in data["F0_CARTS"][voice].items()}
            for voice in CLUSTERGEN_VOICES}


@dataclass(frozen=True)
class _SpamModel:
    """A voice's SPAM F0 model (``cst_spamf0``), from the tables' ``SPAM[voice]``."""

    phrase_tree: tuple  # a segment → its phrase-level log F0
    accent_tree: tuple  # a syllable → its row of accent_shapes
    accent_shapes: np.ndarray  # (A, 8) float32: peak, tilt amplitude, tilt in columns 0, 2, 6


@functools.lru_cache(maxsize=1)
def _spam_models() -> dict[str, _SpamModel]:
    """voice → its SPAM model, for the voices that speak one (rms)."""
    return {voice: _SpamModel(tuple(spam["PHRASE_CART"]), tuple(spam["ACCENT_CART"]),
                              np.asarray(spam["ACCENT_SHAPES"], np.float32))
            for voice, spam in _tables().get("SPAM", {}).items()}


@dataclass
class F0Contour:
    """One voice's F0 for one utterance, frame by frame, and where each phoneme's frames are."""

    hz: np.ndarray  # (frames,) float64, 0 where unvoiced
    phone_frames: np.ndarray  # (N, 2) int64: first and last frame of each phoneme (inclusive)


class _Layout:
    """flite's frames over one voice's states (``cg_make_params``), in its float32 arithmetic,
    laid out as far as asked: a frame's place depends on every state before it, so a window
    costs the states up to it (and to the end of its phrase, which a tree feature asks)."""

    def __init__(self, segments: Segments, voice: str) -> None:
        self.segments, self.voice = segments, voice
        self.states = states_of(segments, voice)
        count = len(self.states)
        self.ends = np.zeros(count, np.float32)  # (S,) seconds, of the states laid out
        self.first = np.full(count, -1, np.int64)  # (S,) first frame of each state
        self.last = np.full(count, -1, np.int64)  # (S,) last frame, inclusive
        self.frame_states: list[int] = []  # (F,) the state of each frame laid out
        self.laid_out = 0  # states
        phones = len(segments.names)
        self.phone_states = np.zeros((phones, 2), np.int64)  # (N, 2) first, last state
        for s, (i, _) in reversed(list(enumerate(self.states))):
            self.phone_states[i, 0] = s
        for s, (i, _) in enumerate(self.states):
            self.phone_states[i, 1] = s

    def _lay_out(self, upto: int) -> None:
        """Lay out the states up to ``upto`` (inclusive)."""
        advance = np.float32(FRAME_SECONDS)
        s = self.laid_out
        end = self.ends[s - 1] if s else np.float32(0.0)
        frames = len(self.frame_states)
        for s in range(s, min(upto + 1, len(self.states))):
            seconds = state_seconds(self.segments, self.voice, self.states, s)
            end = np.float32(end + np.float32(seconds))
            self.ends[s] = end
            if np.float32(frames) * advance <= end:
                self.first[s] = frames
                # frame n is in while n * advance <= end, which only turns false as n grows:
                # jump to a frame surely in, then step in flite's float32 arithmetic
                frames = max(frames + 1, int(end / advance) - 1)
                while np.float32(frames) * advance <= end:
                    frames += 1
                self.last[s] = frames - 1
                self.frame_states.extend([s] * (frames - self.first[s]))
            self.laid_out = s + 1

    def end(self, s: int) -> np.float32:
        """The end of state ``s`` in seconds."""
        if s >= self.laid_out:
            self._lay_out(s)
        return self.ends[s]

    def state_at(self, frame: int) -> int | None:
        """The state of a frame; None past the last."""
        while len(self.frame_states) <= frame and self.laid_out < len(self.states):
            self._lay_out(self.laid_out + 16)
        return self.frame_states[frame] if 0 <= frame < len(self.frame_states) else None

    @property
    def num_frames(self) -> int:
        self._lay_out(len(self.states) - 1)
        return len(self.frame_states)

    def frame_of(self, s: int, which: str) -> int:
        """``first`` or ``last`` frame of state ``s``; flite's answer for none is 0."""
        if s >= self.laid_out:
            self._lay_out(s)
        frame = (self.first if which == "first" else self.last)[s]
        return int(frame) if frame >= 0 else 0

    def phone_span(self, i: int) -> tuple[int, int]:
        first, last = self.phone_states[i]
        return self.frame_of(int(first), "first"), self.frame_of(int(last), "last")

    def segment_end(self, i: int) -> np.float32:
        """The end of phoneme ``i`` in seconds (its last state's); 0 before the first."""
        return self.end(int(self.phone_states[i, 1])) if i >= 0 else np.float32(0.0)


class _FrameFeatures:
    """The value of every feature an F0 tree asks of a frame, as flite computes it."""

    def __init__(self, segments: Segments, layout: _Layout, voice: str) -> None:
        self.segments = segments
        self.layout = layout
        self.features, self.parsed = _frame_tree_features(voice)
        self.phrase_spans: dict[int, tuple[float, float, int]] = {}

    def phrase_span(self, phrase: int) -> tuple[float, float, int]:
        """A phrase's start (the end of the segment before its first) and end in seconds, and
        its number."""
        if phrase not in self.phrase_spans:
            context = self.segments.context
            first, last = context.phrase_bounds[phrase]
            last_syl = self.segments.sylls[last]
            self.phrase_spans[phrase] = (
                float(self.layout.segment_end(self.segments.sylls[first].first_phone - 1)),
                float(self.layout.segment_end(last_syl.first_phone + len(last_syl.phones) - 1)),
                context.phrase_rank[phrase])
        return self.phrase_spans[phrase]

    def value_at(self, frame: int) -> Callable[[int], object]:
        """The value of a tree's feature, by its index in the voice's feature list, for
        ``frame``."""
        layout = self.layout
        features, parsed = self.features, self.parsed
        s = layout.state_at(frame)
        i = layout.states[s][0]
        segments, cache = self.segments, self.segments.cache

        def value(feature: int) -> object:
            kind, rest = parsed[feature]
            if kind == "segment":
                found = cache.get((i, rest))
                return found if found is not None else segments.feature(i, rest)
            name = features[feature]
            if kind == "state":
                return self._state_feature(s, rest)
            if name == "lisp_cg_state_pos":
                here = layout.states[s][1]
                before = layout.states[layout.state_at(frame - 1)][1] if frame > 0 else "0"
                following = layout.state_at(frame + 1)
                after = layout.states[following][1] if following is not None else "0"
                return "b" if before != here else "m" if after == here else "e"
            if name.startswith("lisp_cg_state_"):
                return _place(name[len("lisp_cg_state_"):], frame,
                              layout.frame_of(s, "first"), layout.frame_of(s, "last"))
            if name.startswith("lisp_cg_phone_"):
                return _place(name[len("lisp_cg_phone_"):], frame, *layout.phone_span(i))
            if name == "lisp_cg_position_in_phrasep":
                k = self.segments.syllable_of[i]
                if k < 0:  # a pause is in no phrase: flite's start and end are both 0
                    return -1.0
                start, end, number = self.phrase_span(self.segments.sylls[k].phrase)
                if end == start:
                    return -1.0
                return number + (np.float32(FRAME_SECONDS) * frame - start) / (end - start)
            raise KeyError(f"flite frame feature {name!r} is not implemented")

        return value

    def _state_feature(self, s: int, name: str) -> object:
        layout = self.layout
        i = layout.states[s][0]
        if name.startswith(_SEGMENT_PATH):
            return self.segments.feature(i, name[len(_SEGMENT_PATH):])
        if name == "lisp_cg_duration":  # in mcep_link, the states of the whole utterance
            return _duration(layout, s, s - 1 if s > 0 else None)
        first, last = layout.phone_states[i]
        # in segstate only the states of one phone are neighbours; flite's cg_duration of a
        # missing state is 0, and of a phone's first state its end time
        if name == "R:segstate.p.lisp_cg_duration":
            if s == first:
                return 0.0
            return _duration(layout, s - 1, s - 2 if s - 1 > first else None)
        if name == "R:segstate.n.lisp_cg_duration":
            return 0.0 if s == last else _duration(layout, s + 1, s)
        for step, offset in (("R:HMMstate.p.", -1), ("R:HMMstate.n.", 1)):
            if name == step + "name":
                neighbour = s + offset
                return layout.states[neighbour][1] if 0 <= neighbour < len(layout.states) else "0"
        raise KeyError(f"flite state feature {name!r} is not implemented")


@functools.lru_cache(maxsize=None)
def _frame_feature(name: str) -> tuple[str, str]:
    """A tree's feature of a frame, parsed once: ("segment", the path from its phone),
    ("state", the path from its state) or ("frame", name)."""
    if name.startswith(_STATE_PATH + _SEGMENT_PATH):
        return "segment", name[len(_STATE_PATH + _SEGMENT_PATH):]
    if name.startswith(_STATE_PATH):
        return "state", name[len(_STATE_PATH):]
    return "frame", name


@functools.lru_cache(maxsize=None)
def _frame_tree_features(voice: str) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """The feature list all the voice's F0 trees share, and each feature parsed."""
    features = next(iter(_trees()[voice].values()))[0]
    return features, [_frame_feature(name) for name in features]


def _duration(layout: _Layout, s: int, previous: int | None) -> float:
    end = layout.end(s)
    return float(end - layout.end(previous)) if previous is not None else float(end)


def _place(kind: str, frame: int, start: int, end: int) -> float:
    if kind == "index":
        return float(frame - start)
    if kind == "rindex":
        return float(end - frame)
    if kind == "place":
        return 0.0 if end == start else (frame - start) / (end - start)
    raise KeyError(f"flite frame feature lisp_cg_*_{kind!r} is not implemented")


def _catmull_rom(p: float, p0: float, p1: float, p2: float, p3: float) -> float:
    return 0.5 * ((2.0 * p1) + (p * (-p0 + p2))
                  + (p * p) * (((2.0 * p0) - (5.0 * p1)) + ((4.0 * p2) - p3))
                  + (p * p * p) * (-p0 + ((3.0 * p1) - (3.0 * p2)) + p3))


class _Contour:
    """One voice's smoothed F0, computed for the frames asked: a frame's tree is walked when a
    spline or the caller first needs it."""

    def __init__(self, segments: Segments, voice: str) -> None:
        self.layout = _Layout(segments, voice)
        self.frames = _FrameFeatures(segments, self.layout, voice)
        self.trees = _trees()[voice]
        self.default_tree = next(iter(self.trees.values()))
        self.raw_cache: dict[int, float] = {}
        self.sylls = segments.sylls
        self.splines: dict[int, tuple | None] = {}

    def raw(self, frame: int) -> float:
        if frame not in self.raw_cache:
            state = self.layout.states[self.layout.state_at(frame)][1]
            tree = self.trees.get(state, self.default_tree)
            hz = float(cart_walk(tree, self.frames.value_at(frame)))
            self.raw_cache[frame] = hz if hz >= UNVOICED_BELOW_HZ else 0.0
        return self.raw_cache[frame]

    def _span(self, k: int) -> tuple[int, int]:
        """The first and last frame of syllable ``k``."""
        syl = self.sylls[k]
        return (self.layout.phone_span(syl.first_phone)[0],
                self.layout.phone_span(syl.first_phone + len(syl.phones) - 1)[1])

    def spline(self, k: int) -> tuple | None:
        """cg_F0_interpolate_spline's knots of syllable ``k``: (start, mid, end frame, the four
        points of the first half, the four of the second); None for a syllable of one frame."""
        if k not in self.splines:
            self.splines[k] = self._spline(k)
        return self.splines[k]

    def _spline(self, k: int) -> tuple | None:
        start, end = self._span(k)
        if end <= start:
            return None
        mid = int((start + end) / 2.0)
        start_f0 = self.raw(start)
        # flite walks the syllables in order, each continuing the last one of more frames
        before = next((j for j in range(k - 1, -1, -1)
                       if self._span(j)[1] > self._span(j)[0]), None)
        if before is None:
            pmid_f0 = start_f0
        else:
            before_start, before_end = self._span(before)
            before_end_f0 = (self.raw(before_end - 1) + self.raw(before_end)) / 2.0
            if before_end_f0 > 0.0:
                start_f0 = before_end_f0
            pmid_f0 = self.raw(int((before_start + before_end) / 2.0))
        mid_f0 = self.raw(mid)
        last_syllable = k == len(self.sylls) - 1
        end_f0 = (self.raw(end - 1) if last_syllable
                  else (self.raw(end - 1) + self.raw(end)) / 2.0)
        nmid_f0 = end_f0
        if not last_syllable:
            next_start, next_end = self._span(k + 1)
            nmid_f0 = self.raw(int((next_start + next_end) / 2.0))
        return (start, mid, end, (pmid_f0, start_f0, mid_f0, end_f0),
                (start_f0, mid_f0, end_f0, nmid_f0))

    def hz(self, first: int, last: int, syllables: list[int] | None = None) -> np.ndarray:
        """(last - first + 1,) float64: the smoothed F0 of frames first..last, which lie in
        ``syllables`` (indices; None: any)."""
        out = np.full(last - first + 1, np.nan)
        keys = range(len(self.sylls)) if syllables is None else syllables
        splines = [spline for spline in map(self.spline, keys) if spline is not None]
        for start, mid, end, rise, fall in splines:
            for lo, hi, knots in ((start, mid, rise), (mid, end, fall)):
                m = 1.0 / (hi - lo) if hi > lo else 0.0
                for f in range(max(lo, first), min(hi, last + 1)):
                    out[f - first] = _catmull_rom((f - lo) * m, *knots)
        # a frame no spline redraws keeps its tree's answer (only these need their tree)
        for j in np.flatnonzero(np.isnan(out)):
            out[j] = self.raw(first + int(j))
        return out


class _SpamContour:
    """A SPAM voice's F0 (``cst_spamf0``), computed for the frames asked: each frame starts as
    its segment's phrase-level log F0 (0 in a pause); each syllable's accent adds a rise then a
    fall over the syllable's frames, which are then exponentiated. A frame no accent reaches
    keeps its log value, far under voicing (0 here)."""

    def __init__(self, segments: Segments, voice: str) -> None:
        self.layout = _Layout(segments, voice)
        self.segments = segments
        self.model = _spam_models()[voice]
        self.phrase_cache: dict[int, np.float32] = {}
        self.accent_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _phrase_log_f0(self, i: int) -> np.float32:
        if i not in self.phrase_cache:
            segments = self.segments
            self.phrase_cache[i] = np.float32(
                0.0 if segments.names[i] == "pau" else cart_interpret(
                    self.model.phrase_tree, lambda name: segments.feature(i, name)))
        return self.phrase_cache[i]

    def _accent(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The frames syllable ``k``'s accent reaches (int64) and the log F0 it adds at each
        (float32)."""
        if k not in self.accent_cache:
            syl = self.segments.sylls[k]
            first = syl.first_phone
            start = self.layout.segment_end(first - 1)
            seconds = np.float32(self.layout.segment_end(first + len(syl.phones) - 1) - start)

            def value(name: str) -> str:
                if name == "syllable_duration":
                    return str(seconds)
                return self.segments.syllable_feature(k, name)

            shape = self.model.accent_shapes[int(cart_interpret(self.model.accent_tree, value))]
            rises = _tilt(start, shape[0], shape[2], seconds, shape[6])
            self.accent_cache[k] = (np.fromiter(rises.keys(), np.int64, len(rises)),
                                    np.fromiter(rises.values(), np.float32, len(rises)))
        return self.accent_cache[k]

    def hz(self, first: int, last: int, syllables: list[int] | None = None) -> np.ndarray:
        """(last - first + 1,) float64: the F0 of frames first..last, which lie in
        ``syllables`` (indices; None: any)."""
        layout = self.layout
        layout.state_at(last)  # laid out through the last frame
        phones = [layout.states[s][0] for s in layout.frame_states[first:last + 1]]
        phrase_log_f0 = {i: self._phrase_log_f0(i) for i in set(phones)}
        log_f0 = np.array([phrase_log_f0[i] for i in phones], np.float32)
        keys = range(len(self.segments.sylls)) if syllables is None else syllables
        for k in keys:  # in order: where accents overlap, each exponentiates the last's result
            frames, rises = self._accent(k)
            inside = (frames >= first) & (frames <= last)
            if inside.any():
                at = frames[inside] - first
                log_f0[at] = np.exp(log_f0[at] + rises[inside])  # float32 throughout
        hz = log_f0.astype(np.float64)
        return np.where(hz >= UNVOICED_BELOW_HZ, hz, 0.0)


def _tilt(start: np.float32, peak: np.float32, amplitude: np.float32, seconds: np.float32,
          tilt: np.float32) -> dict[int, np.float32]:
    """``cst_synthtilt`` in its float32 arithmetic: frame → log F0 of an accent of ``peak``
    whose rise and fall split ``amplitude`` and ``seconds`` by ``tilt``, from ``start``."""
    f32 = np.float32
    advance = f32(FRAME_SECONDS)
    a_rise, a_fall = amplitude * f32(1 + tilt) / f32(2), amplitude * f32(1 - tilt) / f32(2)
    d_rise, d_fall = seconds * f32(1 + tilt) / f32(2), seconds * f32(1 - tilt) / f32(2)
    out: dict[int, np.float32] = {}
    frame = int(np.ceil(np.float64(start / advance)))
    # the rise: up a parabola to its midpoint, then under one to the peak; the fall mirrors it,
    # each event's clock starting at one frame
    t = advance
    while f32(frame) * advance < start + d_rise / f32(2):
        out[frame] = peak - a_rise + f32(2) * a_rise * (t / d_rise) * (t / d_rise)
        frame, t = frame + 1, t + advance
    while f32(frame) * advance < start + d_rise:
        out[frame] = peak - f32(2) * a_rise * (f32(1) - t / d_rise) * (f32(1) - t / d_rise)
        frame, t = frame + 1, t + advance
    t = advance
    while f32(frame) * advance < start + d_rise + d_fall / f32(2):
        out[frame] = peak + a_fall - f32(2) * a_fall * (t / d_fall) * (t / d_fall) - a_fall
        frame, t = frame + 1, t + advance
    while f32(frame) * advance < start + d_rise + d_fall:
        out[frame] = (peak + f32(2) * a_fall * (f32(1) - t / d_fall) * (f32(1) - t / d_fall)
                      - a_fall)
        frame, t = frame + 1, t + advance
    return out


def _contour(segments: Segments, voice: str) -> _Contour | _SpamContour:
    return (_SpamContour if voice in _spam_models() else _Contour)(segments, voice)


def _contours(utt: Utterance, sylls: list[Syllable] | None) -> tuple[Segments, dict]:
    """The segments and every voice's contour, made once for all the utterance's windows
    when ``sylls`` is its ``syllables`` (kept in their memo)."""
    memo = getattr(sylls, "memo", None)
    if memo is not None and "flite_f0" in memo:
        return memo["flite_f0"]
    segments = Segments.of(utt, sylls)
    made = segments, {voice: _contour(segments, voice) for voice in CLUSTERGEN_VOICES}
    if memo is not None:
        memo["flite_f0"] = made
    return made


def flite_f0_contour(utt: Utterance, voice: str, sylls: list[Syllable] | None = None
                     ) -> F0Contour:
    """The F0 contour ``voice`` (one of ``CLUSTERGEN_VOICES``) gives the utterance, before its
    voicing decision: every frame on flite's own time axis, from its own durations."""
    if voice not in CLUSTERGEN_VOICES:
        raise ValueError(f"unknown clustergen voice {voice!r}: use one of "
                         f"{', '.join(CLUSTERGEN_VOICES)}")
    segments = Segments(utt, sylls)
    contour = _contour(segments, voice)
    spans = np.array([contour.layout.phone_span(i) for i in range(len(segments.names))],
                     np.int64).reshape(-1, 2)
    return F0Contour(contour.hz(0, contour.layout.num_frames - 1), spans)


def flite_f0_features(utt: Utterance, start: int = 0, end: int | None = None,
                      sylls: list[Syllable] | None = None) -> np.ndarray:
    """(end - start, FLITE_F0_DIM) float32: per voice of ``CLUSTERGEN_VOICES``, the mean
    log2(F0 / 100 Hz) over each third of each phoneme's frames (over its voiced frames; a third
    without any takes the phoneme's mean, a phoneme without any 0)."""
    segments, contours = _contours(utt, sylls)
    end = len(segments.names) if end is None else end
    out = np.zeros((end - start, FLITE_F0_DIM), np.float32)
    for v, voice in enumerate(CLUSTERGEN_VOICES):
        contour = contours[voice]
        for i in range(start, end):
            first, last = contour.layout.phone_span(i)
            k = segments.syllable_of[i]
            hz = contour.hz(first, last, [k] if k >= 0 else [])  # (frames of the phoneme,)
            voiced = hz > 0
            octaves = np.log2(np.where(voiced, hz, REFERENCE_HZ) / REFERENCE_HZ)
            whole = _mean(octaves[voiced], 0.0)
            count = len(hz)
            for j in range(THIRDS):
                lo = min((j * count) // THIRDS, count - 1)
                hi = max(((j + 1) * count) // THIRDS, lo + 1)
                out[i - start, v * THIRDS + j] = _mean(octaves[lo:hi][voiced[lo:hi]], whole)
    return out


def _mean(values: np.ndarray, empty: float) -> float:
    """``values.mean()`` (the same sum, the same division), ``empty`` for none; without
    ndarray.mean's checks, which cost more than the sum of a third of a phoneme."""
    return float(np.add.reduce(values)) / len(values) if len(values) else empty
