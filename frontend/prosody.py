"""Duration and F0 models: the two small networks between the phonemes and the vocoder.

    phoneme features (N, D) + speaker ─► DurationModel ─► log(1 + frames) per phoneme
    frame features (T, D+4) + speaker ─► PitchModel    ─► continuous log-F0 and a voicing logit

Both predict *normalized* targets: the per-speaker mean and standard deviation of the target,
measured on the training split, live in the model's buffers and so travel in its safetensors
file. Normalizing per speaker leaves the networks to learn the shape of durations and intonation
(which speakers share), while the speaker embedding still adds what differs.

Durations are modelled as ``log(1 + frames)`` rather than ``log(frames)`` because a pause may be
zero frames long. F0 is modelled as a *continuous* log-F0 (interpolated through unvoiced regions,
see ``frontend.pitch.continuous_log_f0``) with the voicing decision as a separate logit, so the
regression target has no jumps to 0 that the network would have to learn.

The models are trained as torch modules (``DurationModel``, ``PitchModel``, defined in
``frontend.prosody_torch`` and imported from there on first use, so that importing this module
does not import torch). Synthesis runs the same networks in numpy (:class:`DurationNetwork`,
:class:`PitchNetwork`, built by :func:`prosody_from_tensors` from the safetensors weights; equal
to the torch forward to float32 rounding, tested). The inference helpers
(:func:`predict_durations`, :func:`predict_f0`) take either kind, take and return numpy, and
mutate nothing, so one loaded model can serve many threads.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from frontend.phonemes import inventory
from tts_common.files import atomic_open
from tts_common.numpy_nn import conv1d_same, conv1d_taps, sigmoid

if TYPE_CHECKING:
    from frontend.prosody_torch import DurationModel, PitchModel

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
LN2 = math.log(2.0)
# The limits of the prosody controls, for every layer that takes them (predict_durations,
# predict_f0, the Synthesizer, the CLI, the server): checked by out_of_range alone.
SPEED_LIMITS = (0.25, 4.0)
PITCH_LIMITS = (-24.0, 24.0)  # semitones
PITCH_RANGE_LIMITS = (0.0, 4.0)


class ProsodyError(ValueError):
    """Bad input to a duration/F0 model, or a model file that does not fit; says how to fix it."""


def out_of_range(name: str, value: object, limits: tuple[float, float], unit: str = ""
                 ) -> str | None:
    """The one-line complaint about a control that is not a number within ``limits``, or None
    when it is one (each layer raises it as its own error)."""
    low, high = limits
    if (isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high):
        return None
    return f"{name} must be between {low:g} and {high:g}{unit}, got {value!r}"


# ---------------------------------------------------------------------------------------------
# configs


@dataclass
class DurationConfig:
    input_dim: int = 0  # width of one phoneme's row: feature_set_dim(feature_set)
    # What each row holds (frontend.prosody_features.FEATURE_SETS); models before it read "phoneme".
    feature_set: str = "phoneme"
    num_speakers: int = 1
    speaker_dim: int = 16
    hidden: int = 128
    conv_layers: int = 3  # residual conv blocks over the phoneme sequence
    kernel: int = 5  # odd, in phonemes
    gru_layers: int = 1  # bidirectional, hidden/2 per direction
    dropout: float = 0.2
    speakers: list[str] = field(default_factory=list)  # speaker ids by index, for messages

    def __post_init__(self) -> None:
        _check_config(self, ("input_dim", "num_speakers", "speaker_dim", "hidden", "kernel"),
                      ("conv_layers", "gru_layers"))


@dataclass
class PitchConfig:
    input_dim: int = 0  # width of one frame's row: feature_set_dim(feature_set) + 4 positions
    feature_set: str = "phoneme"  # as DurationConfig.feature_set
    num_speakers: int = 1
    speaker_dim: int = 16
    frame_hidden: int = 48  # width at the frame rate (5 ms), kept small: sequences are long
    hidden: int = 128  # width at the downsampled rate, where the context is gathered
    frame_layers: int = 1  # residual conv blocks at the frame rate, before and after
    conv_layers: int = 2  # residual conv blocks at the downsampled rate
    kernel: int = 5  # odd
    # Frames per downsampled step (8 → 40 ms): the GRU dominates the cost of a training step
    # on CPU, and intonation moves slower than that; the frame-rate layers add the detail.
    downsample: int = 8
    gru_layers: int = 1  # bidirectional, hidden/2 per direction, at the downsampled rate
    dropout: float = 0.2
    speakers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_config(self, ("input_dim", "num_speakers", "speaker_dim", "frame_hidden", "hidden",
                             "kernel", "downsample"), ("frame_layers", "conv_layers", "gru_layers"))


def _check_config(config: Any, positive: tuple[str, ...], non_negative: tuple[str, ...]) -> None:
    name = type(config).__name__
    for key in positive + non_negative:
        value = getattr(config, key)
        low = 1 if key in positive else 0
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ProsodyError(f"{name}.{key} must be an integer >= {low}, got {value!r}")
    if config.kernel % 2 == 0:
        raise ProsodyError(f"{name}.kernel must be odd (centred convolutions), got {config.kernel}")
    if config.hidden % 2:
        raise ProsodyError(f"{name}.hidden must be even (split across two GRU directions), "
                           f"got {config.hidden}")
    if not 0.0 <= float(config.dropout) < 1.0:
        raise ProsodyError(f"{name}.dropout must be in [0, 1), got {config.dropout!r}")
    from frontend.prosody_features import FEATURE_SETS

    if config.feature_set not in FEATURE_SETS:
        raise ProsodyError(f"{name}.feature_set must be one of {', '.join(FEATURE_SETS)}, got "
                           f"{config.feature_set!r}")
    if config.speakers and len(config.speakers) != config.num_speakers:
        raise ProsodyError(f"{name}.speakers lists {len(config.speakers)} ids but num_speakers is "
                           f"{config.num_speakers}")


def prosody_tensor_shapes(kind: str, config: Any, num_speakers: int
                          ) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor in the ``kind`` model's state dict for ``config`` (a
    Duration/PitchConfig or any object with its fields), without building it: what a voice
    checks its safetensors headers against before anything is allocated (tested against the
    torch models)."""
    hidden, k = config.hidden, config.kernel
    shapes: dict[str, tuple[int, ...]] = {
        "speaker_embedding.weight": (num_speakers, config.speaker_dim),
        "feature_mean": (config.input_dim,), "feature_std": (config.input_dim,),
        "target_mean": (num_speakers,), "target_std": (num_speakers,),
    }

    def linear(name: str, out: int, inputs: int) -> None:
        shapes[f"{name}.weight"], shapes[f"{name}.bias"] = (out, inputs), (out,)

    def conv_blocks(name: str, count: int, channels: int) -> None:
        for block in range(count):
            shapes[f"{name}.{block}.conv.weight"] = (channels, channels, k)
            for part in ("conv.bias", "norm.weight", "norm.bias"):
                shapes[f"{name}.{block}.{part}"] = (channels,)

    def bigru(layers: int, inputs: int) -> None:
        half = hidden // 2
        for layer in range(layers):
            for suffix in ("", "_reverse"):
                shapes[f"gru.weight_ih_l{layer}{suffix}"] = (3 * half, inputs if layer == 0
                                                             else hidden)
                shapes[f"gru.weight_hh_l{layer}{suffix}"] = (3 * half, half)
                shapes[f"gru.bias_ih_l{layer}{suffix}"] = (3 * half,)
                shapes[f"gru.bias_hh_l{layer}{suffix}"] = (3 * half,)

    inputs = config.input_dim + config.speaker_dim
    if kind == "duration":
        linear("input_proj", hidden, inputs)
        conv_blocks("convs", config.conv_layers, hidden)
        bigru(config.gru_layers, hidden)
        linear("output", 1, hidden)
    else:
        frame = config.frame_hidden
        linear("input_proj", frame, inputs)
        conv_blocks("frame_convs", config.frame_layers, frame)
        shapes["down.weight"], shapes["down.bias"] = (hidden, frame, config.downsample), (hidden,)
        conv_blocks("convs", config.conv_layers, hidden)
        bigru(config.gru_layers, hidden)
        linear("up_proj", frame, frame + hidden)
        conv_blocks("out_convs", config.frame_layers, frame)
        linear("output", 2, frame)
    return shapes


# ---------------------------------------------------------------------------------------------
# the networks in numpy, for synthesis
#
# One sequence at a time (what synthesis predicts), so there is no padding: every layer sees
# what the torch model sees for a lone sequence. Weights are kept under their state-dict names,
# in float64: the products then give the same result whatever the BLAS's thread count (see
# tts_common.numpy_nn), and the outputs are the torch model's to float32 rounding.


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    # nn.LayerNorm over the channels (eps 1e-5, biased variance): (T, C) → (T, C)
    mean = x.mean(axis=-1, keepdims=True)
    variance = np.square(x - mean).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-5) * weight + bias


def _linear(x: np.ndarray, layer: dict[str, np.ndarray]) -> np.ndarray:
    return x @ layer["weight"].T + layer["bias"]


def _gru_direction(x: np.ndarray, layer: dict[str, np.ndarray], suffix: str,
                   reverse: bool) -> np.ndarray:
    """One direction of ``nn.GRU`` (gates r, z, n): (T, I) → (T, hidden/2)."""
    w_hh = layer[f"weight_hh{suffix}"].T  # (half, 3 half)
    b_hh = layer[f"bias_hh{suffix}"]
    half = w_hh.shape[0]
    from_input = x @ layer[f"weight_ih{suffix}"].T + layer[f"bias_ih{suffix}"]  # (T, 3 half)
    h = np.zeros(half)
    out = np.empty((len(x), half))
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        from_state = h @ w_hh + b_hh  # (3 half,)
        reset = sigmoid(from_input[t, :half] + from_state[:half])
        update = sigmoid(from_input[t, half:2 * half] + from_state[half:2 * half])
        candidate = np.tanh(from_input[t, 2 * half:] + reset * from_state[2 * half:])
        h = (1.0 - update) * candidate + update * h
        out[t] = h
    return out


class _Network:
    """A prosody network's weights (numpy float64, state-dict names) and its normalization."""

    kind = ""
    # Never in training mode; the attribute lets code that checks a torch model's mode check
    # this one the same way.
    training = False

    def __init__(self, config: DurationConfig | PitchConfig, tensors: dict[str, np.ndarray]):
        self.config = config
        self.tensors = {name: np.array(value, np.float64) for name, value in tensors.items()}
        self.target_mean = self.tensors["target_mean"]  # (speakers,)
        self.target_std = self.tensors["target_std"]

    def _group(self, prefix: str) -> dict[str, np.ndarray]:
        return {name[len(prefix) + 1:]: value for name, value in self.tensors.items()
                if name.startswith(prefix + ".")}

    def _inputs(self, features: np.ndarray, speaker: int) -> np.ndarray:
        # features (T, D) → normalized, with the speaker embedding appended: (T, D + speaker_dim)
        t = self.tensors
        normalized = (features - t["feature_mean"]) / t["feature_std"]
        embedding = np.broadcast_to(t["speaker_embedding.weight"][speaker],
                                    (len(features), self.config.speaker_dim))
        return np.concatenate([normalized, embedding], axis=1)

    def _conv_blocks(self, prefix: str, count: int, x: np.ndarray) -> np.ndarray:
        # ConvBlock: x + LayerNorm(ReLU(conv(x))) (dropout is off at inference)
        for block in range(count):
            p = self._group(f"{prefix}.{block}")
            y = conv1d_same(x, conv1d_taps(p["conv.weight"]), p["conv.bias"])
            x = x + _layer_norm(np.maximum(y, 0.0), p["norm.weight"], p["norm.bias"])
        return x

    def _bigru(self, x: np.ndarray) -> np.ndarray:
        gru = self._group("gru")
        for layer in range(self.config.gru_layers):
            x = np.concatenate([_gru_direction(x, gru, f"_l{layer}", reverse=False),
                                _gru_direction(x, gru, f"_l{layer}_reverse", reverse=True)],
                               axis=1)
        return x

    def denormalize(self, normalized: np.ndarray, speaker: int) -> np.ndarray:
        """Normalized target → the target in its own units, with the speaker's statistics."""
        return normalized * self.target_std[speaker] + self.target_mean[speaker]


class DurationNetwork(_Network):
    """``DurationModel`` in numpy: phoneme features (N, D) → normalized log(1 + frames) (N,)."""

    kind = "duration"

    def forward(self, phone_feats: np.ndarray, speaker: int) -> np.ndarray:
        x = _linear(self._inputs(phone_feats, speaker), self._group("input_proj"))  # (N, H)
        x = self._conv_blocks("convs", self.config.conv_layers, x)
        if self.config.gru_layers:
            x = x + self._bigru(x)  # (N, H)
        return _linear(x, self._group("output"))[:, 0]  # (N,)


class PitchNetwork(_Network):
    """``PitchModel`` in numpy: frame features (T, D + 4) → (T, 2): normalized continuous
    log-F0 and the voicing logit."""

    kind = "pitch"

    def forward(self, frame_feats: np.ndarray, speaker: int) -> np.ndarray:
        config = self.config
        length, step = len(frame_feats), config.downsample
        x = _linear(self._inputs(frame_feats, speaker), self._group("input_proj"))  # (T, Hf)
        x = self._conv_blocks("frame_convs", config.frame_layers, x)
        steps = -(-length // step)
        padded = np.zeros((steps * step, x.shape[1]))  # zeros past the end
        padded[:length] = x
        down = self._group("down")  # a conv of kernel = stride = step: one product per step
        windows = padded.reshape(steps, step, -1).transpose(0, 2, 1).reshape(steps, -1)
        h = windows @ down["weight"].reshape(len(down["bias"]), -1).T + down["bias"]  # (S, H)
        h = self._conv_blocks("convs", config.conv_layers, h)
        if config.gru_layers:
            h = h + self._bigru(h)
        h = np.repeat(h, step, axis=0)[:length]  # (T, H)
        y = np.maximum(_linear(np.concatenate([x, h], axis=1), self._group("up_proj")),
                       0.0)  # (T, Hf)
        y = self._conv_blocks("out_convs", config.frame_layers, y)
        return _linear(y, self._group("output"))  # (T, 2)


_NETWORKS: dict[str, type[_Network]] = {"duration": DurationNetwork, "pitch": PitchNetwork}


def as_network(model: Any) -> DurationNetwork | PitchNetwork:
    """The numpy network of a prosody model: itself, or a torch ``DurationModel``/``PitchModel``
    converted (its weights copied), which must be in eval mode."""
    if isinstance(model, _Network):
        return model
    if getattr(model, "training", False):
        raise ProsodyError(f"{type(model).__name__} is in training mode: call model.eval() "
                           "before predicting (dropout would make predictions random)")
    kind = _kind_of(model)
    tensors = {name: value.detach().cpu().numpy() for name, value in model.state_dict().items()}
    return _NETWORKS[kind](model.config, tensors)


# ---------------------------------------------------------------------------------------------
# inference helpers: numpy in, numpy out


def _check_ready(model: Any, speaker_index: int) -> tuple[DurationNetwork | PitchNetwork, int]:
    network = as_network(model)
    config = network.config
    if isinstance(speaker_index, (bool, np.bool_)) or not isinstance(speaker_index,
                                                                     (int, np.integer)):
        raise ProsodyError(f"speaker index must be an integer, got {speaker_index!r}")
    if not 0 <= int(speaker_index) < config.num_speakers:
        known = (", ".join(f"{i}={s}" for i, s in enumerate(config.speakers[:20]))
                 if config.speakers else f"0..{config.num_speakers - 1}")
        more = " ..." if len(config.speakers) > 20 else ""
        raise ProsodyError(f"unknown speaker index {int(speaker_index)}: this model knows "
                           f"{config.num_speakers} speaker(s) ({known}{more})")
    return network, int(speaker_index)


def _check_features(features: np.ndarray, expected_dim: int, what: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2:
        raise ProsodyError(f"{what} must be a 2-D array (length, {expected_dim}), "
                           f"got shape {features.shape}")
    if features.shape[0] == 0:
        raise ProsodyError(f"no {what} to predict from: the text yielded no phonemes "
                           "(give it words, or inline phonemes such as {HH AH0 L OW1})")
    if features.shape[1] != expected_dim:
        raise ProsodyError(f"{what} have {features.shape[1]} columns but the model expects "
                           f"{expected_dim}: the model was trained with another feature layout")
    if not np.isfinite(features).all():
        raise ProsodyError(f"{what} contain NaN or infinite values")
    return features  # (T, D)


def round_durations(frames: np.ndarray, pauses: np.ndarray | None = None) -> np.ndarray:
    """Float frame counts (N,) → integers (N,) whose running sum tracks the float running sum.

    Rounding each phoneme alone can drift by up to N/2 frames over an utterance; rounding the
    cumulative sum keeps every phoneme boundary within half a frame of where the model put it.
    Non-pause phonemes get at least 1 frame (they are raised to 1 *before* the cumulative sum,
    so the guarantee survives the rounding); pauses (``pauses[i]`` True) may get 0.
    """
    frames = np.maximum(np.asarray(frames, dtype=np.float64), 0.0)  # (N,)
    floor = np.ones_like(frames) if pauses is None else np.where(pauses, 0.0, 1.0)
    frames = np.maximum(frames, floor)
    # floor(x + 0.5) is monotone and shifts by exactly 1 when x does: a gap >= 1 stays >= 1.
    boundaries = np.floor(np.cumsum(frames) + 0.5).astype(np.int64)  # (N,)
    return np.diff(boundaries, prepend=0)


def _pause_column(phone_feats: np.ndarray) -> np.ndarray | None:
    from frontend.features import feature_columns
    from frontend.prosody_features import FEATURE_SETS

    # Every feature set starts with the phoneme features.
    if phone_feats.shape[1] not in FEATURE_SETS.values():
        return None
    return phone_feats[:, feature_columns("pause_flags").start] > 0.5  # (N,)


def predict_durations(model: DurationNetwork | DurationModel, phone_feats: np.ndarray,
                      speaker_index: int,
                      speed: float = 1.0, pauses: np.ndarray | None = None) -> np.ndarray:
    """Frames (N,) int64 for each phoneme of one utterance.

    ``speed`` > 1 speaks faster: every duration is divided by it. ``pauses`` (N,) bool marks the
    phonemes allowed to get 0 frames (``sil``/``sp``); by default they are read from the
    features' ``pause_flags`` column when the features have the frontend's layout, else every
    phoneme gets >= 1 frame.
    """
    problem = out_of_range("speed", speed, SPEED_LIMITS)
    if problem:
        raise ProsodyError(problem)
    network, speaker = _check_ready(model, speaker_index)
    features = _check_features(phone_feats, network.config.input_dim, "phoneme features")
    if pauses is None:
        pauses = _pause_column(np.asarray(phone_feats))
    if pauses is not None:
        pauses = np.asarray(pauses, dtype=bool)
        if pauses.shape != (features.shape[0],):
            raise ProsodyError(f"pauses must have shape ({features.shape[0]},), got {pauses.shape}")
    normalized = network.forward(features, speaker)  # (N,)
    log_frames = network.denormalize(normalized, speaker).astype(np.float64)  # (N,)
    frames = np.expm1(log_frames) / float(speed)
    return round_durations(frames, pauses)


def predict_f0(model: PitchNetwork | PitchModel, frame_feats: np.ndarray, speaker_index: int,
               pitch_shift_semitones: float = 0.0,
               pitch_range: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(f0_hz (T,) float32, 0 where unvoiced; voiced (T,) bool) for one utterance.

    ``pitch_range`` scales log-F0 around the speaker's mean (0 = monotone at the mean, 2 = twice
    as expressive); ``pitch_shift_semitones`` then moves everything (+12 = an octave up).
    """
    for problem in (out_of_range("pitch_shift_semitones", pitch_shift_semitones, PITCH_LIMITS,
                                 " semitones"),
                    out_of_range("pitch_range", pitch_range, PITCH_RANGE_LIMITS)):
        if problem:
            raise ProsodyError(problem)
    network, speaker = _check_ready(model, speaker_index)
    features = _check_features(frame_feats, network.config.input_dim, "frame features")
    out = network.forward(features, speaker)  # (T, 2)
    log_f0 = network.denormalize(out[:, 0], speaker).astype(np.float64)  # (T,)
    voiced = out[:, 1] > 0
    speaker_mean = float(network.target_mean[speaker])
    log_f0 = speaker_mean + float(pitch_range) * (log_f0 - speaker_mean)
    log_f0 = log_f0 + float(pitch_shift_semitones) / 12.0 * LN2
    f0_hz = np.where(voiced, np.exp(log_f0), 0.0).astype(np.float32)
    return f0_hz, voiced


# ---------------------------------------------------------------------------------------------
# saving and loading: safetensors weights + a JSON config, never pickle

_CONFIGS: dict[str, type] = {"duration": DurationConfig, "pitch": PitchConfig}


def _kind_of(model: Any) -> str:
    """"duration" or "pitch" for a torch model or a numpy network, by its config."""
    config = getattr(model, "config", None)
    for kind, config_class in _CONFIGS.items():
        if isinstance(config, config_class) and (isinstance(model, _Network)
                                                 or hasattr(model, "state_dict")):
            return kind
    raise ProsodyError(f"expected a DurationModel or PitchModel (or its numpy network), "
                       f"got {type(model).__name__}")


def expected_feature_dim(kind: str, feature_set: str = "phoneme") -> int:
    """The input width the current frontend produces for a "duration" or "pitch" model that
    reads ``feature_set`` (``frontend.prosody_features.FEATURE_SETS``)."""
    from frontend.features import FRAME_POSITION_LAYOUT
    from frontend.prosody_features import feature_set_dim

    try:
        width = feature_set_dim(feature_set)
    except ValueError as exc:
        raise ProsodyError(str(exc)) from None
    return width + (sum(w for _, w in FRAME_POSITION_LAYOUT) if kind == "pitch" else 0)


def save_prosody(model: DurationModel | PitchModel | DurationNetwork | PitchNetwork,
                 path_prefix: str | Path) -> tuple[Path, Path]:
    """Write ``<prefix>.safetensors`` (weights and statistics) and ``<prefix>.json`` (config).

    The JSON also records the phoneme inventory and feature width, which loading checks.
    """
    from safetensors.numpy import save

    kind = _kind_of(model)
    prefix = Path(path_prefix)
    weights_path = prefix.with_name(prefix.name + ".safetensors")
    config_path = prefix.with_name(prefix.name + ".json")
    if isinstance(model, _Network):  # it computes in float64; the weights were float32
        tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in model.tensors.items()}
    else:
        tensors = {k: np.ascontiguousarray(v.detach().cpu().numpy())
                   for k, v in model.state_dict().items()}
    metadata = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "inventory": inventory(),
        "feature_dim": model.config.input_dim,
        "config": dataclasses.asdict(model.config),
    }
    prefix.parent.mkdir(parents=True, exist_ok=True)
    # Through tts_common.files: never half-written, and with the mode open() would give
    # (safetensors' own save_file makes every file 0600).
    with atomic_open(weights_path) as handle:
        handle.write(save(tensors, metadata={"kind": kind}))
    with atomic_open(config_path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(metadata, indent=2) + "\n")
    return weights_path, config_path


def _resolve_prefix(path: str | Path, kind: str) -> Path:
    """A voice/export directory (→ ``dir/<kind>``) or an explicit prefix, .json or
    .safetensors."""
    path = Path(path)
    if path.is_dir():
        return path / kind
    if path.suffix in (".json", ".safetensors"):
        return path.with_suffix("")
    return path


def _load(path: str | Path, kind: str) -> DurationModel | PitchModel:
    prefix = _resolve_prefix(path, kind)
    config_path = prefix.with_name(prefix.name + ".json")
    weights_path = prefix.with_name(prefix.name + ".safetensors")
    for file in (config_path, weights_path):
        if not file.is_file():
            raise ProsodyError(f"{kind} model file not found: {file}")
    try:
        metadata = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProsodyError(f"{config_path} is not valid JSON ({exc}): "
                           "re-export the model") from None
    return prosody_from_config(kind, metadata, weights_path, source=str(config_path))


def _config_from_metadata(kind: str, metadata: Any, source: str) -> DurationConfig | PitchConfig:
    """The checked config of a ``kind`` model from its JSON metadata (see ``save_prosody``)."""
    if not isinstance(metadata, dict) or metadata.get("kind") != kind:
        found = metadata.get("kind") if isinstance(metadata, dict) else None
        raise ProsodyError(f"{source} holds a {found!r} model, not a {kind!r} model")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ProsodyError(f"{source} has format_version {metadata.get('format_version')!r}; "
                           f"this version reads {FORMAT_VERSION}")
    if metadata.get("inventory") != inventory():
        raise ProsodyError(f"{source} was trained with a different phoneme inventory "
                           f"({len(metadata.get('inventory') or [])} symbols, this frontend has "
                           f"{len(inventory())}): retrain the {kind} model with this version")
    config_class = _CONFIGS[kind]
    config_fields = {f.name for f in dataclasses.fields(config_class)}
    raw_config = metadata.get("config")
    if not isinstance(raw_config, dict) or set(raw_config) - config_fields:
        unknown = sorted(set(raw_config) - config_fields) if isinstance(raw_config, dict) else []
        raise ProsodyError(f"{source}: config is missing or has unknown keys {unknown} "
                           "(written by a newer version?)")
    try:
        config = config_class(**raw_config)
    except TypeError as exc:
        raise ProsodyError(f"{source}: bad config ({exc})") from None
    expected = expected_feature_dim(kind, config.feature_set)
    if metadata.get("feature_dim") != expected or config.input_dim != expected:
        raise ProsodyError(f"{source} expects {metadata.get('feature_dim')} input features "
                           f"but this frontend produces {expected} for its feature set "
                           f"{config.feature_set!r}: retrain the {kind} model with this version")
    return config


def read_prosody_tensors(kind: str, weights_path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a prosody model's safetensors file (numpy, no torch)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise ProsodyError(f"{kind} model file not found: {weights_path}")
    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ProsodyError(f"cannot read {weights_path}: {exc} "
                           "(corrupt or truncated file?)") from None


def prosody_from_tensors(kind: str, metadata: Any, tensors: dict[str, np.ndarray],
                         source: str | None = None) -> DurationNetwork | PitchNetwork:
    """The numpy network (what synthesis runs) of a ``kind`` ("duration"/"pitch") model from
    its JSON metadata (what :func:`save_prosody` writes, also embedded in a voice's
    ``voice.json``) and its weights as numpy arrays under their state-dict names.

    ``source`` names where the metadata came from, for error messages.
    """
    source = source or f"{kind} config"
    config = _config_from_metadata(kind, metadata, source)
    expected = prosody_tensor_shapes(kind, config, config.num_speakers)
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        what = (f"tensor {missing[0]!r} is missing" if missing
                else f"unexpected tensor {unexpected[0]!r}")
        raise ProsodyError(f"the {kind} weights do not match {source}: {what}")
    for name, shape in expected.items():
        if tuple(np.shape(tensors[name])) != shape:
            raise ProsodyError(f"the {kind} weights do not match {source}: tensor {name!r} has "
                               f"shape {tuple(np.shape(tensors[name]))}, the config needs {shape}")
    return _NETWORKS[kind](config, tensors)


def prosody_from_config(kind: str, metadata: Any, weights_path: str | Path,
                        source: str | None = None) -> DurationModel | PitchModel:
    """Build a ``kind`` ("duration"/"pitch") torch model (for training or inspection; needs
    torch) from its JSON metadata and its weights file, in eval mode. Synthesis uses
    :func:`prosody_from_tensors` instead.

    ``source`` names where the metadata came from, for error messages.
    """
    from frontend.prosody_torch import module_from_tensors

    source = source or f"{kind} config"
    config = _config_from_metadata(kind, metadata, source)
    tensors = read_prosody_tensors(kind, weights_path)
    return module_from_tensors(config, tensors, f"{weights_path} does not match {source}")


def load_duration_model(path: str | Path) -> DurationModel:
    """Load ``<dir>/duration.{json,safetensors}`` (or an explicit prefix), in eval mode."""
    return _load(path, "duration")


def load_pitch_model(path: str | Path) -> PitchModel:
    """Load ``<dir>/pitch.{json,safetensors}`` (or an explicit prefix), in eval mode."""
    return _load(path, "pitch")


# The torch modules, imported from frontend.prosody_torch on first use (torch takes seconds to
# import, and synthesis does not need it).
_TORCH_NAMES = ("DurationModel", "PitchModel", "ConvBlock")


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        from frontend import prosody_torch

        return getattr(prosody_torch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ProsodyError", "DurationConfig", "PitchConfig", "DurationModel", "PitchModel",
    "DurationNetwork", "PitchNetwork", "as_network", "round_durations", "predict_durations",
    "predict_f0", "save_prosody", "load_duration_model", "load_pitch_model",
    "expected_feature_dim", "prosody_from_config", "prosody_from_tensors",
    "read_prosody_tensors", "prosody_tensor_shapes",
]
