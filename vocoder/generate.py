"""Fast autoregressive generation for :class:`vocoder.model.WaveNet`.

The per-sample loop is one numba function (``_run``) with no Python objects inside: per-layer
dilation queues (ring buffers of past layer inputs) replace the convolution history, the speaker
projection is folded into each layer's gate bias once per utterance, and the local conditioning is
projected into every layer at frame rate before the loop (numpy). The model's upsampler
is linear and shares one filter across channels, so it commutes with those projections: the loop
interpolates the projected frames with the upsampler's polyphase taps (3 frames × layers × gate
channels multiply-adds per sample) instead of storing layers × gate channels floats per sample.

The matrix-vector products use weights packed in tiles of 64 output rows (``_pack``), so that the
accumulators of a tile live in eight AVX2 registers while the inputs are broadcast and the weights
streamed once; ``weights_dtype="float16"`` halves that stream (F16C converts on load, the math
stays float32). Per sample the 20-layer, 64/128/128 model streams its 2.4 MB of float32 weights
from L3, which is what bounds the speed of one utterance.

Batches: a tile's weights are fetched once per time step and serve every utterance of the batch
from L1/L2, and with ``threads=2`` the batch is split in two groups that run ``nogil`` on two
cores. Each utterance owns its random stream (splitmix64 seeded from its seed), and the arithmetic
for one utterance does not depend on its batch neighbours, so the audio for a seed is the same
whatever the batch composition or thread count (on a given machine: fast-math code generation
may differ between CPUs).

Everything here is numpy and numba: a generator is built from a config and the numpy weights
(``Generator.from_tensors``, what synthesis uses, never importing torch) or from a torch
``WaveNet`` (``Generator(model)``, its weights copied); the frame-rate half (conditioning
network, envelope, cond projections, upsampler taps) is computed in numpy too, equal to the
torch model's to float32 rounding (tested).

``Generator.step`` is a plain numpy reference of one step (slow; it documents the kernel and is
checked against it and against ``WaveNet.forward`` in the tests).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from tts_common.numpy_nn import conv1d_same, conv1d_taps
from tts_common.threads import single_threaded_blas
from vocoder.config import VocoderError, WaveNetConfig
from vocoder.io import check_wavenet_tensors, load_wavenet_tensors
from vocoder.lpc import SynthesisFilter, mel_basis, mel_to_lpc
from vocoder.mulaw import mulaw_decode, silence_class, torch_if_tensor

if TYPE_CHECKING:
    from vocoder.model import WaveNet

logger = logging.getLogger(__name__)

WEIGHT_DTYPES = ("float32", "float16")


@dataclass
class GenerationState:
    """Everything the sample loop carries from one step to the next, for B utterances."""

    queues: np.ndarray  # (B, sum(dilations), R) float32: ring buffer of past inputs per layer
    positions: np.ndarray  # (B, L) int64: ring-buffer slot holding the input from `dilation` ago
    time: np.ndarray  # (B,) int64: samples generated so far
    last_sample: np.ndarray  # (B,) int64: class of the previous sample, the next input
    rng: np.ndarray  # (B,) uint64: splitmix64 state

    def select(self, rows: np.ndarray) -> "GenerationState":
        return GenerationState(*(getattr(self, name)[rows].copy() for name in _STATE_FIELDS))


_STATE_FIELDS = ("queues", "positions", "time", "last_sample", "rng")


@dataclass
class PreparedBatch:
    """Per-utterance inputs of the sample loop, computed once before it."""

    layer_bias: np.ndarray  # (B, L, G) float32: gate bias + speaker projection
    frame_projections: np.ndarray  # (B, F_max, L, G) float32: conditioning projected per layer
    num_frames: np.ndarray  # (B,) int64 (0 without local conditioning)
    num_samples: np.ndarray  # (B,) int64
    # Excitation mode: (B, F_max, order + 1) float64 synthesis filters per frame, else None
    filters: np.ndarray | None = None

    def select(self, rows: np.ndarray) -> "PreparedBatch":
        return PreparedBatch(self.layer_bias[rows], self.frame_projections[rows],
                             self.num_frames[rows], self.num_samples[rows],
                             None if self.filters is None else self.filters[rows])


class LoopBuffers(NamedTuple):
    """The sample loop's working memory for B utterances, allocated by ``Generator.run`` and
    passed in: the loop runs without the GIL, and an allocation there races a Python allocator
    hook such as tracemalloc's (a crash in CPython's ``traceback_new``). Matrix-vector outputs
    are padded to whole tiles (``_pack``)."""

    gate_in: np.ndarray  # (B, 2R) f32: [x(t - d) | x(t)]
    gate: np.ndarray  # (B, G padded) f32
    gated: np.ndarray  # (B, G/2) f32
    res_skip: np.ndarray  # (B, R + S padded) f32
    skip: np.ndarray  # (B, S) f32
    hidden: np.ndarray  # (B, O padded) f32
    logits: np.ndarray  # (B, Q padded) f32
    unfinished: np.ndarray  # (B,) int64: the utterances still generating, first num_active
    start_time: np.ndarray  # (B,) int64: each utterance's time when the call began


# numpy aligns an array to 16 bytes, numba's own np.empty to 32; the sample loop is about 2%
# faster on cache-line aligned buffers than on numpy's (benchmarks/vocoder_speed.py).
_ALIGNMENT = 64


def _aligned_empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """``np.empty(shape, dtype)`` whose data starts on a ``_ALIGNMENT``-byte boundary."""
    itemsize = np.dtype(dtype).itemsize
    count = math.prod(shape)
    raw = np.empty(count * itemsize + _ALIGNMENT, np.uint8)
    offset = -raw.ctypes.data % _ALIGNMENT
    return raw[offset:offset + count * itemsize].view(dtype).reshape(shape)


# ----------------------------------------------------------------------------- numba kernel
@intrinsic
def _to_float32(typingctx, value):
    """A stored weight → float32: identity for float32, IEEE half bits (uint16) → float32."""
    if value == types.float32:
        def codegen(context, builder, signature, args):
            return args[0]
        return types.float32(value), codegen
    if value == types.uint16:
        def codegen(context, builder, signature, args):
            # fpext half → float lowers to vcvtph2ps (F16C) and vectorizes.
            return builder.fpext(builder.bitcast(args[0], ir.HalfType()), ir.FloatType())
        return types.float32(value), codegen
    return None


@intrinsic
def _bits_to_float32(typingctx, value):
    """Reinterpret int32 bits as float32 (to build 2**n in the exponential)."""
    if value == types.int32:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())
        return types.float32(value), codegen
    return None


_JIT = dict(fastmath=True, cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def _tanh(x):
    # Rational minimax approximation (the one Eigen uses for float): a few ulp, no libm call,
    # so loops over it vectorize.
    x = min(max(x, np.float32(-7.90531110763549805)), np.float32(7.90531110763549805))
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x * p / q


@numba.njit(**_JIT)
def _exp_nonpositive(x):
    # exp for x <= 0 (softmax after subtracting the max): 2**n * poly(r), r = x - n ln 2.
    x = max(x, np.float32(-87.0))
    n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
    r = x - n * np.float32(0.693359375) + n * np.float32(2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1.0)
    return p * _bits_to_float32(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))


@numba.njit(**_JIT)
def _next_uniform(rng, b):
    # splitmix64: one 64-bit state per utterance, uniform in [0, 1) from the top 53 bits.
    rng[b] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[b]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# Output rows per register tile of the matrix-vector products: 8 AVX2 registers of 8 floats, the
# most that stay in registers next to the broadcast input and the streamed weights. Two
# utterances at a time take half a tile each pass, so their 2 x 4 accumulators fit the same way.
_TILE = 64
_HALF_TILE = _TILE // 2


@intrinsic
def _stack_scratch(typingctx, size):
    """A float32 buffer of literal size on the stack (an alloca that LLVM keeps in registers)."""
    if not isinstance(size, types.IntegerLiteral):
        return None

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(types.float32),
                                   size=size.literal_value)
    return types.CPointer(types.float32)(size), codegen


@numba.njit(**_JIT)
def _matvec_add(weight, inputs, outputs, active):
    """outputs[b, :N] += W @ inputs[b, :K] for the utterances b in ``active``.

    ``weight`` is W packed as (N / TILE, K, TILE) (see ``_pack``): for each tile of TILE outputs
    the inner loop broadcasts one input and multiply-adds a contiguous row of TILE weights into
    accumulators that stay in registers, so there are no horizontal sums and every weight is
    loaded once per pair of utterances. Each accumulator sums in the same order whether its
    utterance is paired or alone, so results do not depend on the batch composition.
    """
    tiles, width, _ = weight.shape
    count = len(active)
    for tile in range(tiles):
        offset = tile * _TILE
        for i in range(0, count - 1, 2):
            first = active[i]
            second = active[i + 1]
            for half in range(0, _TILE, _HALF_TILE):
                acc_first = numba.carray(_stack_scratch(_HALF_TILE), _HALF_TILE)
                acc_second = numba.carray(_stack_scratch(_HALF_TILE), _HALF_TILE)
                for j in range(_HALF_TILE):
                    acc_first[j] = 0.0
                    acc_second[j] = 0.0
                for k in range(width):
                    v_first = inputs[first, k]
                    v_second = inputs[second, k]
                    for j in range(_HALF_TILE):
                        w = _to_float32(weight[tile, k, half + j])
                        acc_first[j] += w * v_first
                        acc_second[j] += w * v_second
                for j in range(_HALF_TILE):
                    outputs[first, offset + half + j] += acc_first[j]
                    outputs[second, offset + half + j] += acc_second[j]
        if count % 2:
            b = active[count - 1]
            acc = numba.carray(_stack_scratch(_TILE), _TILE)
            for j in range(_TILE):
                acc[j] = 0.0
            for k in range(width):
                v = inputs[b, k]
                for j in range(_TILE):
                    acc[j] += _to_float32(weight[tile, k, j]) * v
            for j in range(_TILE):
                outputs[b, offset + j] += acc[j]


@numba.njit(**_JIT)
def _run(
    # weights (stored float32, or float16 bits as uint16, for the big matrices)
    embedding,  # (Q, R) f32
    # the matrices are packed in tiles of output rows (see _pack): (..., N / TILE, K, TILE)
    gate_weight,  # (L, G/TILE, 2R, TILE): inputs [x(t - dilation) | x(t)]
    res_skip_weight,  # (L, (R + S)/TILE, G/2, TILE): residual rows, then skip rows
    res_skip_bias,  # (L, R + S) f32
    head_hidden_weight,  # (O/TILE, S, TILE)
    head_hidden_bias,  # (O,) f32
    head_out_weight,  # (Q/TILE, O, TILE)
    head_out_bias,  # (Q,) f32
    queue_offsets,  # (L,) int64: start of each layer's ring buffer in the queue axis
    dilations,  # (L,) int64
    upsample_taps,  # (hop, J) f32: weight of frame (t // hop + first_tap + j) at phase t % hop
    first_tap,  # int: frame offset of tap 0
    # per utterance
    layer_bias,  # (B, L, G) f32
    frame_projections,  # (B, F_max or ring, L, G) f32: frame f at slot f % F_max
    num_frames,  # (B,)
    num_samples,  # (B,)
    # state, updated in place
    queues, positions, time, last_sample, rng,
    # what to do
    steps,  # number of time steps to run (each utterance stops at its num_samples)
    temperature,  # float; 0 = argmax
    teacher_inputs,  # (B, T) int64 inputs to force, or (B, 0) to feed back own samples
    out_classes,  # (B, steps) int64: the sample drawn at each step, from each one's own start
    out_logits,  # (B, steps, Q) f32 when teacher forcing, else (B, 0, Q)
    # working memory (LoopBuffers), overwritten
    gate_in, gate, gated, res_skip, skip, hidden, logits, unfinished, start_time,
):
    batch, num_layers, gate_channels = layer_bias.shape
    residual_channels = embedding.shape[1]
    half_gate = gate_channels // 2
    skip_channels = res_skip_bias.shape[1] - residual_channels
    output_channels = head_hidden_bias.shape[0]
    classes = head_out_bias.shape[0]
    hop = upsample_taps.shape[0]
    num_taps = upsample_taps.shape[1]
    local_conditioning = frame_projections.shape[1] > 0
    # Frame f is at slot f % ring: the whole utterance, or the frames around ``time`` of a
    # stream that computes its conditioning a block at a time (vocoder.stream).
    ring = max(frame_projections.shape[1], 1)
    teacher_forcing = teacher_inputs.shape[1] > 0
    inverse_temperature = np.float32(1.0 / temperature) if temperature > 0 else np.float32(0.0)

    # Utterances may start at different times (a stream joins a running batch), so outputs are
    # indexed from each one's own start.
    for b in range(batch):
        start_time[b] = time[b]

    for step in range(steps):
        num_active = 0
        for b in range(batch):
            if time[b] < num_samples[b]:
                unfinished[num_active] = b
                num_active += 1
        if num_active == 0:
            break
        active = unfinished[:num_active]  # the utterances still generating
        for b in active:
            sample = teacher_inputs[b, time[b]] if teacher_forcing else last_sample[b]
            for r in range(residual_channels):
                gate_in[b, residual_channels + r] = embedding[sample, r]
            for s in range(skip_channels):
                skip[b, s] = 0.0

        for layer in range(num_layers):
            slot0 = queue_offsets[layer]
            for b in active:
                slot = slot0 + positions[b, layer]
                for r in range(residual_channels):
                    gate_in[b, r] = queues[b, slot, r]
                    queues[b, slot, r] = gate_in[b, residual_channels + r]
                positions[b, layer] += 1
                if positions[b, layer] == dilations[layer]:
                    positions[b, layer] = 0
                for g in range(gate_channels):
                    gate[b, g] = layer_bias[b, layer, g]
                if local_conditioning:
                    frame = time[b] // hop
                    phase = time[b] - frame * hop
                    for j in range(num_taps):
                        f = frame + first_tap + j
                        if f >= 0 and f < num_frames[b]:
                            tap = upsample_taps[phase, j]
                            slot = f % ring
                            for g in range(gate_channels):
                                gate[b, g] += tap * frame_projections[b, slot, layer, g]
            _matvec_add(gate_weight[layer], gate_in, gate, active)
            for b in active:
                for h in range(half_gate):
                    # sigmoid(x) = (1 + tanh(x / 2)) / 2: one vectorizable approximation for both
                    opening = np.float32(0.5) * _tanh(np.float32(0.5) * gate[b, half_gate + h])
                    gated[b, h] = _tanh(gate[b, h]) * (np.float32(0.5) + opening)
            for b in active:
                for n in range(residual_channels + skip_channels):
                    res_skip[b, n] = res_skip_bias[layer, n]
            # (the last layer's residual rows are zero: 1% of the work, not worth a branch)
            _matvec_add(res_skip_weight[layer], gated, res_skip, active)
            for b in active:
                for r in range(residual_channels):
                    gate_in[b, residual_channels + r] += res_skip[b, r]
                for s in range(skip_channels):
                    skip[b, s] += res_skip[b, residual_channels + s]

        for b in active:
            for s in range(skip_channels):
                skip[b, s] = max(skip[b, s], np.float32(0.0))
        for b in active:
            for o in range(output_channels):
                hidden[b, o] = head_hidden_bias[o]
            for q in range(classes):
                logits[b, q] = head_out_bias[q]
        _matvec_add(head_hidden_weight, skip, hidden, active)
        for b in active:
            for o in range(output_channels):
                hidden[b, o] = max(hidden[b, o], np.float32(0.0))
        _matvec_add(head_out_weight, hidden, logits, active)

        for b in active:
            t = time[b]
            if teacher_forcing:
                for q in range(classes):
                    out_logits[b, t - start_time[b], q] = logits[b, q]
            best = 0
            for q in range(1, classes):
                if logits[b, q] > logits[b, best]:
                    best = q
            if inverse_temperature > 0:
                top = logits[b, best]
                total = np.float32(0.0)
                for q in range(classes):
                    logits[b, q] = _exp_nonpositive((logits[b, q] - top) * inverse_temperature)
                    total += logits[b, q]
                # Inverse CDF. Should rounding leave the running sum short of the threshold
                # (u within 1e-7 of 1), keep the argmax rather than an unlikely last class.
                threshold = np.float32(_next_uniform(rng, b)) * total
                running = np.float32(0.0)
                for q in range(classes):
                    running += logits[b, q]
                    if running > threshold:
                        best = q
                        break
            out_classes[b, t - start_time[b]] = best
            last_sample[b] = best
            time[b] = t + 1


# ----------------------------------------------------------------------------- host side
def _seed_state(seed: int) -> np.uint64:
    # Different seeds → unrelated streams (splitmix64 is a bijection, the mixing decorrelates).
    z = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(z ^ (z >> 31))


def _pack(matrix: np.ndarray, dtype: str) -> np.ndarray:
    """(..., N, K) float32 → (..., ceil(N / TILE), K, TILE), zero-padded, in the stored dtype
    (float16 as its uint16 bits, which the kernel converts with F16C)."""
    *lead, rows, width = matrix.shape
    tiles = -(-rows // _TILE)
    padded = np.zeros((*lead, tiles * _TILE, width), np.float32)
    padded[..., :rows, :] = matrix
    packed = padded.reshape(*lead, tiles, _TILE, width).swapaxes(-1, -2)
    if dtype == "float16":
        if np.abs(matrix).max(initial=0.0) > 65504.0:
            raise VocoderError("a weight exceeds the float16 range; use weights_dtype='float32'")
        return np.ascontiguousarray(packed.astype(np.float16)).view(np.uint16)
    return np.ascontiguousarray(packed, dtype=np.float32)


def _unpack(packed: np.ndarray, rows: int) -> np.ndarray:
    """The inverse of ``_pack``, as float32 (what the kernel computes with)."""
    if packed.dtype == np.uint16:
        packed = packed.view(np.float16)
    *lead, tiles, width, tile = packed.shape
    matrix = packed.astype(np.float32).swapaxes(-1, -2).reshape(*lead, tiles * tile, width)
    return matrix[..., :rows, :]


class Generator:
    """Sample-by-sample generation from a trained :class:`WaveNet` (weights copied at creation).

    ``weights_dtype="float16"`` stores the large matrices in half precision (half the memory
    traffic per sample; math stays float32). Logits then differ from the model by ~1e-3.
    """

    def __init__(self, model: WaveNet, weights_dtype: str = "float32"):
        """A generator for a torch ``WaveNet``: its weights are copied, so training the model
        further does not change this generator. Synthesis uses :meth:`from_tensors` (no torch)."""
        tensors = {name: tensor.detach().cpu().float().numpy().copy()
                   for name, tensor in model.state_dict().items()}
        self._build(model.config, tensors, weights_dtype)

    @classmethod
    def from_tensors(cls, config: WaveNetConfig, tensors: dict[str, np.ndarray],
                     weights_dtype: str = "float32") -> "Generator":
        """A generator from a config and the WaveNet's weights as numpy arrays, named as in
        ``WaveNet.state_dict()`` (e.g. ``vocoder.io.read_wavenet_tensors``); no torch."""
        generator = cls.__new__(cls)
        generator._build(config, tensors, weights_dtype)
        return generator

    def _build(self, config: WaveNetConfig, tensors: dict[str, np.ndarray],
               weights_dtype: str) -> None:
        if weights_dtype not in WEIGHT_DTYPES:
            raise VocoderError(
                f"weights_dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {weights_dtype!r}")
        check_wavenet_tensors(config, tensors)
        self.config = config
        self.weights_dtype = weights_dtype
        R, G, S = config.residual_channels, config.gate_channels, config.skip_channels
        L = config.layers

        def weight(name: str) -> np.ndarray:
            # A copy: the caller's arrays may change later, this generator does not.
            return np.array(tensors[name], np.float32)

        self.embedding = np.ascontiguousarray(weight("input_embedding.weight"))  # (Q, R)
        # Conv1d weight (G, R, 2): tap 0 multiplies x[t - d], tap 1 multiplies x[t].
        gate_weight = np.stack([
            np.concatenate([weight(f"layers.{i}.dilated_conv.weight")[:, :, 0],
                            weight(f"layers.{i}.dilated_conv.weight")[:, :, 1]], axis=1)
            for i in range(L)])  # (L, G, 2R)
        self.gate_bias = np.stack([weight(f"layers.{i}.dilated_conv.bias")
                                   for i in range(L)])  # (L, G)
        res_skip_weight = np.zeros((L, R + S, G // 2), np.float32)
        self.res_skip_bias = np.zeros((L, R + S), np.float32)
        for i in range(L):
            if i < L - 1:  # the last layer has no residual output
                res_skip_weight[i, :R] = weight(f"layers.{i}.residual_conv.weight")[:, :, 0]
                self.res_skip_bias[i, :R] = weight(f"layers.{i}.residual_conv.bias")
            res_skip_weight[i, R:] = weight(f"layers.{i}.skip_conv.weight")[:, :, 0]
            self.res_skip_bias[i, R:] = weight(f"layers.{i}.skip_conv.bias")
        self.gate_weight = _pack(gate_weight, weights_dtype)  # (L, G/TILE, 2R, TILE)
        self.res_skip_weight = _pack(res_skip_weight, weights_dtype)  # (L, (R+S)/TILE, G/2, TILE)
        self.head_hidden_weight = _pack(weight("head_hidden.weight")[:, :, 0],
                                        weights_dtype)  # (O/TILE, S, TILE)
        self.head_hidden_bias = weight("head_hidden.bias")  # (O,)
        self.head_out_weight = _pack(weight("head_out.weight")[:, :, 0],
                                     weights_dtype)  # (Q/TILE, O, TILE)
        self.head_out_bias = weight("head_out.bias")  # (Q,)
        dilations = np.asarray(config.dilations, np.int64)
        self.dilations = dilations
        self.queue_offsets = np.concatenate([[0], np.cumsum(dilations)[:-1]]).astype(np.int64)

        if config.num_speakers:
            speaker_table = weight("speaker_embedding.weight")  # (N, D)
            # Every layer's gate offset for every speaker: (N, L, G)
            self.speaker_gate_bias = np.stack(
                [speaker_table @ weight(f"layers.{i}.speaker_proj.weight").T for i in range(L)],
                axis=1)
        else:
            self.speaker_gate_bias = None
        self.mel_basis = (mel_basis(config.sample_rate, config.mel_fft, config.mel_bands)
                          if config.lpc_order else None)
        # The frame-rate networks as [(weight (H, C_in, k), bias (H,)), ...]: input conv first.
        self.conditioning_convs = (_conv_stack(weight, "conditioning_network", config.cond_layers)
                                   if config.cond_channels else None)
        self.envelope_convs = (_conv_stack(weight, "envelope_network", config.envelope_layers)
                               if config.lpc_order and config.envelope_layers else None)
        # The frame-rate half computes in float32, on one BLAS thread (frame_block), so its
        # results do not depend on the machine's thread count (see tts_common.numpy_nn).
        # The envelope head(s): one row per speaker with speaker_envelopes, else one shared.
        if config.speaker_envelopes:
            self.mel_head_weight = weight("speaker_mel_head.weight").astype(np.float32)  # (N, M, H)
            self.mel_head_bias = weight("speaker_mel_head.bias").astype(np.float32)  # (N, M)
        elif config.lpc_order:
            self.mel_head_weight = weight("mel_head.weight")[None, :, :, 0].astype(
                np.float32)  # (1, M, H)
            self.mel_head_bias = weight("mel_head.bias")[None].astype(np.float32)  # (1, M)
        if config.cond_channels:
            self.cond_weight = np.stack([weight(f"layers.{i}.cond_proj.weight")[:, :, 0]
                                         for i in range(L)])  # (L, G, H)
            # (H, L*G): one matrix product projects a frame into every layer's gate
            self.frame_projection = np.ascontiguousarray(
                self.cond_weight.transpose(2, 0, 1).reshape(-1, L * self.cond_weight.shape[1]),
                np.float32)
            self.upsample_taps, self.first_tap = _polyphase_taps(
                weight("upsampler.filter.weight")[0, 0], config.hop_length, config.upsample)
        else:
            self.cond_weight = self.frame_projection = None
            self.upsample_taps = np.zeros((1, 1), np.float32)
            self.first_tap = 0

    @classmethod
    def load(cls, path: str | Path, weights_dtype: str = "float32") -> "Generator":
        """A generator for the WaveNet saved at ``path`` (see ``vocoder.io.save_wavenet``)."""
        config, tensors = load_wavenet_tensors(path)
        return cls.from_tensors(config, tensors, weights_dtype)

    # -- the frame-rate half, numpy ----------------------------------------------------------
    def conditioning_hidden(self, features: np.ndarray) -> np.ndarray:
        """Frame features (F, C) → the conditioning network's hidden frames (F, H) float32,
        what ``WaveNet.conditioning`` computes (transposed)."""
        if self.conditioning_convs is None:
            raise VocoderError("this vocoder has no local conditioning (cond_channels=0)")
        with single_threaded_blas():
            return _conv_stack_forward(self.conditioning_convs, _feature_list(
                [features], self.config.cond_channels)[0])

    def envelope_hidden(self, features: np.ndarray, hidden: np.ndarray | None = None
                        ) -> np.ndarray:
        """Excitation mode: frame features (F, C) → what the envelope head reads, (F, H)
        float32: the envelope network's output, or the conditioning's (``hidden`` if known)."""
        if not self.config.lpc_order:
            raise VocoderError("this vocoder models the waveform (lpc_order=0): it has no "
                               "envelope head")
        if self.envelope_convs is not None:
            with single_threaded_blas():
                return _conv_stack_forward(self.envelope_convs, _feature_list(
                    [features], self.config.cond_channels)[0])
        return self.conditioning_hidden(features) if hidden is None else hidden

    def envelope(self, features: np.ndarray, hidden: np.ndarray | None = None,
                 speaker: int | None = None) -> np.ndarray:
        """Excitation mode: frame features (F, C) → predicted log-mel (bands, F) float64, what
        ``WaveNet.envelope`` computes. ``hidden``: ``conditioning_hidden(features)`` if known;
        ``speaker``: the speaker index, needed with ``speaker_envelopes``."""
        hidden = self.envelope_hidden(features, hidden)
        row = 0
        if self.config.speaker_envelopes:
            if speaker is None:
                raise VocoderError("this vocoder has an envelope head per speaker: give the "
                                   "speaker index")
            row = int(self._speaker_ids(speaker, 1)[0])
        with single_threaded_blas():
            mel = hidden @ self.mel_head_weight[row].T + self.mel_head_bias[row]  # (F, bands)
        return np.ascontiguousarray(mel.T, np.float64)  # (bands, F), as mel_to_lpc computes

    # -- preparation -----------------------------------------------------------------------
    def prepare(self, features: Sequence[np.ndarray] | np.ndarray | None,
                speakers: Sequence[int] | np.ndarray | int | None = None,
                num_samples: Sequence[int] | int | None = None) -> PreparedBatch:
        """Validate inputs and compute the per-utterance gate biases and frame projections.

        ``features``: (B, T_frames, C) array or a list of (T_frames_i, C) arrays (None without
        local conditioning, then ``num_samples`` gives the lengths).
        """
        config = self.config
        L, G = config.layers, config.gate_channels
        if config.cond_channels:
            if features is None:
                raise VocoderError(
                    "this vocoder needs features: a list of "
                    f"(frames, {config.cond_channels}) arrays")
            if num_samples is not None:
                raise VocoderError("num_samples is implied by the features; leave it out")
            utterances = _feature_list(features, config.cond_channels)
            frames = np.array([len(u) for u in utterances], np.int64)
            lengths = frames * config.hop_length
        else:
            if features is not None:
                raise VocoderError(
                    "this vocoder has no local conditioning (cond_channels=0); pass features=None "
                    "and num_samples")
            if num_samples is None:
                raise VocoderError("without local conditioning, give num_samples per utterance")
            lengths = np.atleast_1d(np.asarray(num_samples, np.int64))
            if lengths.ndim != 1 or (lengths < 0).any():
                raise VocoderError(f"num_samples must be non-negative integers, got {num_samples}")
            frames = np.zeros(len(lengths), np.int64)
            utterances = []
        batch = len(lengths)
        speaker_ids = self._speaker_ids(speakers, batch)

        layer_bias = np.repeat(self.gate_bias[None], batch, axis=0)  # (B, L, G)
        if speaker_ids is not None:
            layer_bias = layer_bias + self.speaker_gate_bias[speaker_ids]  # (B, L, G)
        layer_bias = np.ascontiguousarray(layer_bias, np.float32)

        max_frames = int(frames.max(initial=0))
        frame_projections = np.zeros((batch, max_frames, L, G), np.float32)
        filters = None
        if config.lpc_order:
            filters = np.zeros((batch, max(max_frames, 1), config.lpc_order + 1))
            filters[:, :, 0] = 1.0  # the identity filter where there are no frames
        for b, utterance in enumerate(utterances):
            for start, end in frame_blocks(len(utterance)):
                projections, block_filters = self.frame_block(
                    utterance, start, end, None if speaker_ids is None else speaker_ids[b])
                frame_projections[b, start:end] = projections
                if filters is not None:
                    filters[b, start:end] = block_filters
        return PreparedBatch(layer_bias, frame_projections, frames, lengths, filters)

    @property
    def frame_reach(self) -> int:
        """How many frames either side of a frame its conditioning (and envelope) depends on."""
        def reach(convs) -> int:
            return sum(taps.shape[0] // 2 for taps, _ in convs) if convs else 0
        return max(reach(self.conditioning_convs), reach(self.envelope_convs))

    def frame_block(self, features: np.ndarray, start: int, end: int,
                    speaker: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Frames [start, end) of one utterance's (F, C) features → their gate projections
        (n, L, G) float32 and, in excitation mode, synthesis filters (n, order + 1) float64.

        Computed from the frames within ``frame_reach`` only, which is exactly what the whole
        utterance gives there (the networks are convolutions), so a stream can compute its
        conditioning a block at a time. Every caller uses the blocks of ``frame_blocks``, so
        the arithmetic, and with it the audio, is the same whoever asks.
        """
        config = self.config
        reach = self.frame_reach
        first, last = max(0, start - reach), min(len(features), end + reach)
        window = features[first:last]  # (n + context, C)
        inside = slice(start - first, end - first)
        with single_threaded_blas():
            hidden = _conv_stack_forward(self.conditioning_convs, window)  # (n + context, H)
            projections = (hidden[inside] @ self.frame_projection).reshape(
                end - start, config.layers, config.gate_channels)  # (n, L, G) float32
        if not config.lpc_order:
            return projections, None
        envelope = self.envelope(window, hidden, speaker)[:, inside]  # (bands, n)
        return projections, mel_to_lpc(envelope, self.mel_basis, config.lpc_order,
                                       config.sample_rate)

    def to_waveform(self, classes: np.ndarray, prepared: PreparedBatch, row: int) -> np.ndarray:
        """Drawn classes (T,) of utterance ``row`` → its float32 waveform.

        A waveform model's classes are the waveform; an excitation model's are its residual,
        which the utterance's synthesis filters turn into speech.
        """
        synthesis = None
        if prepared.filters is not None:
            synthesis = SynthesisFilter(prepared.filters[row], self.config.hop_length)
        return self.waveform_piece(classes, synthesis)

    def waveform_piece(self, classes: np.ndarray, synthesis: SynthesisFilter | None
                       ) -> np.ndarray:
        """``to_waveform`` for consecutive pieces of one utterance: ``synthesis`` (excitation
        mode) carries the filter's memory from one piece to the next."""
        decoded = mulaw_decode(classes, self.config.quantization_channels)
        if synthesis is None:
            return decoded
        return np.clip(synthesis(decoded), -1.0, 1.0).astype(np.float32)  # gain may overshoot

    def _speaker_ids(self, speakers, batch: int) -> np.ndarray | None:
        num_speakers = self.config.num_speakers
        if not num_speakers:
            if speakers is not None:
                raise VocoderError("this vocoder has no speaker table (num_speakers=0); "
                                   "pass speakers=None")
            return None
        if speakers is None:
            raise VocoderError(
                f"this vocoder has {num_speakers} speakers: give a speaker id in "
                f"[0, {num_speakers - 1}] per utterance")
        ids = np.asarray(speakers)
        if ids.ndim == 0:
            ids = np.full(batch, ids)
        if ids.shape != (batch,) or not np.issubdtype(ids.dtype, np.integer):
            raise VocoderError(
                f"speakers must be {batch} integer id(s), got {np.asarray(speakers).tolist()}")
        bad = ids[(ids < 0) | (ids >= num_speakers)]
        if bad.size:
            raise VocoderError(
                f"speaker id {int(bad[0])} out of range: this vocoder has speakers "
                f"0..{num_speakers - 1}")
        return ids.astype(np.int64)

    # -- state and the reference step ------------------------------------------------------
    def init_state(self, batch: int, seeds: Sequence[int] | int = 0) -> GenerationState:
        """Fresh state: silent history, silence as first input, one random stream per utterance."""
        config = self.config
        seeds = [seeds] * batch if isinstance(seeds, (int, np.integer)) else list(seeds)
        if len(seeds) != batch:
            raise VocoderError(f"got {len(seeds)} seeds for {batch} utterances")
        # A zero layer input is what the model's causal zero padding feeds before t = 0.
        return GenerationState(
            queues=np.zeros((batch, int(self.dilations.sum()), config.residual_channels),
                            np.float32),
            positions=np.zeros((batch, config.layers), np.int64),
            time=np.zeros(batch, np.int64),
            last_sample=np.full(batch, silence_class(config.quantization_channels), np.int64),
            rng=np.array([_seed_state(s) for s in seeds], np.uint64),
        )

    def step(self, state: GenerationState, prepared: PreparedBatch,
             inputs: np.ndarray) -> np.ndarray:
        """Reference numpy step: feed input classes (B,) at ``state.time``, return logits (B, Q).

        Advances the queues, positions and time; sampling is left to the caller. The numba
        kernel computes exactly this, only fast.
        """
        config = self.config
        R = config.residual_channels
        half = config.gate_channels // 2
        x = self.embedding[inputs]  # (B, R)
        skip = np.zeros((len(inputs), config.skip_channels), np.float32)  # (B, S)
        for layer in range(config.layers):
            slots = self.queue_offsets[layer] + state.positions[:, layer]  # (B,)
            rows = np.arange(len(inputs))
            past = state.queues[rows, slots].copy()  # (B, R) x from `dilation` steps ago
            state.queues[rows, slots] = x
            state.positions[:, layer] = (state.positions[:, layer] + 1) % self.dilations[layer]
            gate_weight = _unpack(self.gate_weight[layer], config.gate_channels)  # (G, 2R)
            gate = (np.concatenate([past, x], axis=1) @ gate_weight.T
                    + prepared.layer_bias[:, layer])  # (B, G)
            gate = gate + self._sample_conditioning(prepared, state.time, layer)  # (B, G)
            z = np.tanh(gate[:, :half]) * (0.5 + 0.5 * np.tanh(0.5 * gate[:, half:]))  # (B, G/2)
            res_skip_weight = _unpack(self.res_skip_weight[layer], R + config.skip_channels)
            out = z @ res_skip_weight.T + self.res_skip_bias[layer]  # (B, R + S)
            if layer < config.layers - 1:
                x = x + out[:, :R]  # (B, R)
            skip = skip + out[:, R:]  # (B, S)
        head_hidden = _unpack(self.head_hidden_weight, config.output_channels)  # (O, S)
        head_out = _unpack(self.head_out_weight, config.quantization_channels)  # (Q, O)
        hidden = np.maximum(np.maximum(skip, 0.0) @ head_hidden.T
                            + self.head_hidden_bias, 0.0)  # (B, O)
        state.time += 1
        return (hidden @ head_out.T + self.head_out_bias).astype(
            np.float32)  # (B, Q)

    def _sample_conditioning(self, prepared: PreparedBatch, time: np.ndarray,
                             layer: int) -> np.ndarray:
        batch = len(time)
        cond = np.zeros((batch, self.config.gate_channels), np.float32)  # (B, G)
        if not self.config.cond_channels:
            return cond
        hop = self.config.hop_length
        for b in range(batch):
            frame, phase = divmod(int(time[b]), hop)
            for j in range(self.upsample_taps.shape[1]):
                f = frame + self.first_tap + j
                if 0 <= f < prepared.num_frames[b]:
                    tap = self.upsample_taps[phase, j]
                    cond[b] += tap * prepared.frame_projections[b, f, layer]
        return cond

    # -- the fast paths --------------------------------------------------------------------
    def loop_buffers(self, batch: int) -> LoopBuffers:
        """Working memory of ``_run`` for ``batch`` utterances (contents undefined)."""
        residual, skip = self.embedding.shape[1], self.config.skip_channels
        return LoopBuffers(
            gate_in=_aligned_empty((batch, 2 * residual), np.float32),
            gate=_aligned_empty((batch, self.gate_weight.shape[1] * _TILE), np.float32),
            gated=_aligned_empty((batch, self.config.gate_channels // 2), np.float32),
            res_skip=_aligned_empty((batch, self.res_skip_weight.shape[1] * _TILE), np.float32),
            skip=_aligned_empty((batch, skip), np.float32),
            hidden=_aligned_empty((batch, self.head_hidden_weight.shape[0] * _TILE), np.float32),
            logits=_aligned_empty((batch, self.head_out_weight.shape[0] * _TILE), np.float32),
            unfinished=_aligned_empty((batch,), np.int64),
            start_time=_aligned_empty((batch,), np.int64))

    def run(self, state: GenerationState, prepared: PreparedBatch, steps: int,
            temperature: float = 1.0, teacher_inputs: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """Run the numba loop for ``steps`` samples from ``state`` (in place) on this thread.

        Returns the drawn classes (B, steps) — or, with ``teacher_inputs`` (B, T), also the
        logits (B, steps, Q) of every forced step — counted from each utterance's own
        ``state.time``, which may differ between utterances. Utterances stop at their own
        length; the classes after that are -1.
        """
        batch = len(prepared.num_samples)
        classes = self.config.quantization_channels
        out_classes = np.full((batch, steps), -1, np.int64)
        if teacher_inputs is not None:
            teacher_inputs = np.ascontiguousarray(teacher_inputs, np.int64)
            horizon = int(state.time.max(initial=0)) + steps
            if teacher_inputs.shape[0] != batch or teacher_inputs.shape[1] < horizon:
                raise VocoderError(
                    f"teacher_inputs must have shape ({batch}, >= {horizon}), got "
                    f"{teacher_inputs.shape}")
            if teacher_inputs.min(initial=0) < 0 or teacher_inputs.max(initial=0) >= classes:
                raise VocoderError(f"teacher_inputs must be classes in [0, {classes - 1}]")
            out_logits = np.zeros((batch, steps, classes), np.float32)
        else:
            teacher_inputs = np.zeros((batch, 0), np.int64)
            out_logits = np.zeros((batch, 0, classes), np.float32)
        _run(self.embedding, self.gate_weight, self.res_skip_weight, self.res_skip_bias,
             self.head_hidden_weight, self.head_hidden_bias, self.head_out_weight,
             self.head_out_bias, self.queue_offsets, self.dilations, self.upsample_taps,
             self.first_tap, prepared.layer_bias, prepared.frame_projections,
             prepared.num_frames, prepared.num_samples, state.queues, state.positions,
             state.time, state.last_sample, state.rng, steps, float(temperature),
             teacher_inputs, out_classes, out_logits, *self.loop_buffers(batch))
        if teacher_inputs.shape[1]:
            return out_classes, out_logits
        return out_classes, None

    def teacher_forced_logits(self, inputs: np.ndarray, features=None, speakers=None
                              ) -> np.ndarray:
        """Logits (B, T, Q) of the fast kernel fed the given input classes (B, T)."""
        inputs = np.asarray(inputs, np.int64)
        if self.config.cond_channels:
            prepared = self.prepare(features, speakers)
            if (prepared.num_samples != inputs.shape[1]).any():
                raise VocoderError(
                    f"inputs have {inputs.shape[1]} samples, features give "
                    f"{prepared.num_samples.tolist()}")
        else:
            prepared = self.prepare(None, speakers, num_samples=[inputs.shape[1]] * len(inputs))
        state = self.init_state(len(inputs))
        _, logits = self.run(state, prepared, inputs.shape[1], teacher_inputs=inputs)
        return logits

    def generate(self, features: Sequence[np.ndarray] | np.ndarray | None = None,
                 speakers: Sequence[int] | np.ndarray | int | None = None,
                 temperature: float = 1.0, seed: Sequence[int] | int = 0,
                 threads: int | None = None,
                 num_samples: Sequence[int] | int | None = None) -> list[np.ndarray]:
        """Generate one float32 waveform in [-1, 1] per utterance.

        ``seed``: one int (utterance i then uses seed + i) or one seed per utterance; an
        utterance's audio depends only on its own inputs and seed. ``threads`` > 1 splits the
        batch into that many groups that run in parallel (the loop releases the GIL); None
        means ``numba.get_num_threads()`` (all cores unless NUMBA_NUM_THREADS says otherwise).
        """
        if not math.isfinite(temperature) or temperature < 0:
            raise VocoderError(f"temperature must be >= 0 (0 = argmax), got {temperature}")
        if threads is None:
            threads = numba.get_num_threads()
        if threads < 1:
            raise VocoderError(f"threads must be >= 1, got {threads}")
        prepared = self.prepare(features, speakers, num_samples)
        batch = len(prepared.num_samples)
        if batch == 0:
            return []
        if isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(batch)]
        else:
            seeds = [int(s) for s in seed]
        state = self.init_state(batch, seeds)
        groups = _balanced_groups(prepared.num_samples, threads)
        classes = np.zeros((batch, int(prepared.num_samples.max(initial=0))), np.int64)

        def run_group(rows: np.ndarray) -> None:
            part_state = state.select(rows)
            part = prepared.select(rows)
            drawn, _ = self.run(part_state, part, int(part.num_samples.max(initial=0)),
                                temperature)
            classes[rows, :drawn.shape[1]] = drawn

        start = perf_counter()
        if len(groups) == 1:
            run_group(groups[0])
        else:
            with ThreadPoolExecutor(max_workers=len(groups)) as pool:
                list(pool.map(run_group, groups))
        seconds = prepared.num_samples.sum() / self.config.sample_rate
        elapsed = perf_counter() - start
        logger.debug("generated %d utterance(s), %.2f s of audio in %.2f s on %d thread(s)",
                     batch, seconds, elapsed, len(groups))
        return [self.to_waveform(classes[b, :prepared.num_samples[b]], prepared, b)
                for b in range(batch)]


# The conditioning of an utterance is computed in these blocks of frames (see
# ``Generator.frame_block``): a short first block so that a stream can start at once, each
# next one twice as long (so it is ready before the audio of the ones before has been made),
# up to blocks long enough that the context each one recomputes at its edges costs little.
FIRST_FRAME_BLOCK = 16
FRAME_BLOCK = 128


def frame_blocks(num_frames: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges covering an utterance of ``num_frames`` frames."""
    blocks, start, size = [], 0, FIRST_FRAME_BLOCK
    while start < num_frames:
        blocks.append((start, min(start + size, num_frames)))
        start, size = start + size, min(2 * size, FRAME_BLOCK)
    return blocks


def kernels_cached() -> bool:
    """Whether numba's cache holds the sample loop for this source and machine, i.e. whether
    the first generation in this process loads it (a fraction of a second) rather than
    compiling it (10-30 s). Reads numba's cache index; True when that cannot be told."""
    try:
        return bool(_run._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - numba internals: never fail generation over a hint
        return True


def _balanced_groups(lengths: np.ndarray, groups: int) -> list[np.ndarray]:
    """Split utterance indices into at most `groups` sets of similar total length."""
    groups = max(1, min(groups, len(lengths)))
    totals = [0] * groups
    members: list[list[int]] = [[] for _ in range(groups)]
    for index in np.argsort(-lengths, kind="stable"):
        target = int(np.argmin(totals))
        members[target].append(int(index))
        totals[target] += int(lengths[index])
    return [np.array(sorted(m), np.int64) for m in members if m]


def _feature_list(features, cond_channels: int) -> list[np.ndarray]:
    if isinstance(features, np.ndarray) and features.ndim == 3:
        utterances = list(features)
    elif torch_if_tensor(features) is not None and features.dim() == 3:
        utterances = list(features.detach().cpu().numpy())
    elif isinstance(features, (list, tuple)):
        utterances = [f.detach().cpu().numpy() if torch_if_tensor(f) is not None
                      else np.asarray(f) for f in features]
    else:
        raise VocoderError(
            f"features must be a (batch, frames, {cond_channels}) array or a list of "
            f"(frames, {cond_channels}) arrays, got {type(features).__name__}")
    checked = []
    for index, utterance in enumerate(utterances):
        if utterance.ndim != 2 or utterance.shape[1] != cond_channels:
            raise VocoderError(
                f"features of utterance {index} have shape {utterance.shape}; this vocoder "
                f"expects (frames, {cond_channels})")
        if not np.issubdtype(utterance.dtype, np.floating):
            raise VocoderError(
                f"features of utterance {index} must be floating point, got {utterance.dtype}")
        bad = ~np.isfinite(utterance)
        if bad.any():
            frame = int(np.argwhere(bad)[0, 0])
            raise VocoderError(
                f"features of utterance {index} contain NaN/inf (first at frame {frame}); "
                "fix the feature extraction or interpolate over the gap")
        checked.append(np.ascontiguousarray(utterance, np.float32))
    return checked


def _polyphase_taps(upsample_filter: np.ndarray, hop: int, mode: str
                    ) -> tuple[np.ndarray, int]:
    """The upsampler (``vocoder.model.Upsampler``, its learned ``filter`` weight) as per-phase
    weights over neighbouring frames.

    Returns taps (hop, J) and first_tap such that the upsampled value at sample t is
    sum_j taps[t % hop, j] * frame[t // hop + first_tap + j] (frames outside the utterance are
    zero, as in the model's zero padding). Read off the impulse response of
    ``Upsampler.convolve`` for a single frame (both modes reach one frame either side), so it
    follows whatever filter training learned; summed in float64, then rounded once.
    """
    kernel = np.asarray(upsample_filter, np.float64)  # (2 hop + 1,) or (2 hop,)
    impulse = np.zeros(3)
    impulse[1] = 1.0  # the middle one of three frames
    if mode == "repeat":
        # repeat each frame hop times, then the centred (2 hop + 1)-tap correlation
        repeated = np.pad(np.repeat(impulse, hop), hop)  # (5 hop,)
        response = np.correlate(repeated, kernel, mode="valid")  # (3 hop,)
    else:
        # transposed conv, stride hop, cropped by hop // 2 to centre each frame on its hop
        full = np.zeros(4 * hop)
        full[hop:3 * hop] = kernel
        response = full[hop // 2:hop // 2 + 3 * hop]  # (3 hop,)
    # Sample f hop + p of the middle frame's neighbourhood: frame offset 1 - f, so flip the rows
    # to order them by offset -1, 0, 1, and transpose to (hop, offsets).
    taps = response.reshape(3, hop)[::-1].T.astype(np.float32)  # (hop, 3)
    used = np.flatnonzero(np.abs(taps).max(axis=0) > 0)
    if used.size == 0:
        return np.zeros((hop, 1), np.float32), 0
    taps = np.ascontiguousarray(taps[:, used[0]:used[-1] + 1])
    return taps, int(used[0]) - 1


def _conv_stack(weight, prefix: str, blocks: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The weights of a ``vocoder.model.ConditioningNetwork`` named ``prefix``: the input conv,
    then its residual blocks, each as (taps (k, C_in, C_out), bias (C_out,)) for
    ``conv1d_same``."""
    names = [f"{prefix}.input_conv"] + [f"{prefix}.blocks.{i}" for i in range(blocks)]
    return [(conv1d_taps(weight(f"{name}.weight")), weight(f"{name}.bias")) for name in names]


def _conv_stack_forward(convs: list[tuple[np.ndarray, np.ndarray]],
                        features: np.ndarray) -> np.ndarray:
    """``ConditioningNetwork.forward`` in numpy, on one utterance: (F, C) → (F, H) float32."""
    (weight, bias), *blocks = convs
    hidden = conv1d_same(features, weight, bias, np.float32)  # (F, H)
    for weight, bias in blocks:
        activated = np.where(hidden > 0, hidden, np.float32(0.2) * hidden)  # leaky ReLU 0.2
        hidden = hidden + conv1d_same(activated, weight, bias, np.float32)
    return hidden
