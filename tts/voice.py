"""The voice directory: everything needed to run a voice, and nothing executable.

    my-voice/
      voice.json             format version, sample rate, hop, frontend settings and phoneme
                             inventory, conditioning statistics, every model's hyperparameters,
                             speakers (id → index, gender, accent, source)
      duration.safetensors   duration model weights
      pitch.safetensors      F0 model weights
      wavenet.safetensors    WaveNet weights (the EMA weights of training)

Loading reads JSON and safetensors only; it never unpickles. Every problem is a ``VoiceError``
naming the file and what is wrong with it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import glob
import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file as load_safetensors

from frontend.conditioning import conditioning_channels
from frontend.prosody import expected_feature_dim
from frontend.g2p import BACKENDS as G2P_BACKENDS
from frontend.prosody_features import FEATURE_SETS
from frontend.phonemes import inventory
from tts_common.corpus import read_corpus
from tts_common.files import atomic_directory, atomic_open
from vocoder.config import WaveNetConfig

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
VOICE_JSON = "voice.json"
WEIGHT_FILES = {
    "duration": "duration.safetensors",
    "pitch": "pitch.safetensors",
    "wavenet": "wavenet.safetensors",
}
DEFAULT_VOICE_NAME = "default"

# -- the limits a voice must respect (README: "The limits a voice must respect") ---------------
# Checked before anything is read in full or allocated: a voice from a stranger can ask for no
# more memory or time than these allow.
MAX_VOICE_JSON_BYTES = 10 * 2**20
MAX_WEIGHTS_BYTES = 2 * 2**30  # per safetensors file
MAX_HEADER_BYTES = 4 * 2**20  # a safetensors file's JSON header (the bundled WaveNet's: 20 kB)
MAX_ERROR_CHARS = 299
WEIGHT_DTYPES = {"F16": "float16", "F32": "float32"}  # safetensors dtype → numpy dtype
PEAK_CEILING_DBFS = -1.0  # a speaker's gain never takes its measured peak above this


class VoiceError(ValueError):
    """A voice directory that cannot be used; the message names the file and the fix.

    Always one line of at most ``MAX_ERROR_CHARS`` characters, whatever the file holds.
    """

    def __init__(self, message: str) -> None:
        line = " ".join(str(message).split())
        if len(line) > MAX_ERROR_CHARS:
            line = line[:MAX_ERROR_CHARS - 3] + "..."
        super().__init__(line)


def _shown(value: Any) -> str:
    """A value as an error message may quote it: short whatever it is."""
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _fail(path: Path, where: str, problem: str) -> NoReturn:
    raise VoiceError(f"{path}: {where} {problem}")


@dataclass(frozen=True)
class Bound:
    """The values a number in ``voice.json`` may take."""

    low: float
    high: float
    integer: bool = True
    parity: str = ""  # "odd" or "even" for integers that must be

    def check(self, value: Any, path: Path, where: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(path, where, f"must be a number, got {_shown(value)}")
        if self.integer and not isinstance(value, int):
            _fail(path, where, f"must be an integer, got {_shown(value)}")
        if not (math.isfinite(value) and self.low <= value <= self.high):
            _fail(path, where, f"must be between {self.low:g} and {self.high:g}, got "
                               f"{_shown(value)}")
        if self.parity and value % 2 != (1 if self.parity == "odd" else 0):
            _fail(path, where, f"must be {self.parity}, got {value}")
        return value if self.integer else float(value)

    def describe(self) -> str:
        kind = "integer" if self.integer else "number"
        parity = f", {self.parity}" if self.parity else ""
        return f"{kind} {self.low:g} … {self.high:g}{parity}"


def _number(low: float, high: float, *, integer: bool = True, parity: str = "",
            default: Any = dataclasses.MISSING) -> Any:
    return field(default=default, metadata={"bound": Bound(low, high, integer, parity)})


def _choice(*choices: str, default: Any = dataclasses.MISSING) -> Any:
    return field(default=default, metadata={"choices": choices})


def _flag(default: bool = False) -> Any:
    return field(default=default, metadata={"flag": True})


def _text(max_chars: int = 256, default: Any = dataclasses.MISSING) -> Any:
    return field(default=default, metadata={"text": max_chars})


def _measured(low: float, high: float) -> Any:
    """A measurement written at export: absent (None) on a voice that was not measured."""
    return field(default=None, metadata={"bound": Bound(low, high, integer=False),
                                         "optional": True})


@dataclass(frozen=True)
class FrontendSpec:
    backend: str = _choice(*G2P_BACKENDS, default="cmudict")
    language: str = _text(32, default="en-us")
    # Symbol ids the models were trained with; must be this frontend's (frontend.phonemes).
    phoneme_inventory: tuple[str, ...] = field(default=(), metadata={"strings": 512})


@dataclass(frozen=True)
class ConditioningSpec:
    channels: int = _number(1, 4096)  # the frame features of frontend.conditioning
    # Corpus statistics that normalize log-F0 in the features: 20 Hz … 2 kHz.
    log_f0_mean: float = _number(math.log(20), math.log(2000), integer=False)
    log_f0_std: float = _number(1e-3, 3.0, integer=False)


@dataclass(frozen=True)
class SynthesisSpec:
    """How the voice speaks by default; every default of a voice lives here."""

    temperature: float = _number(0.0, 2.0, integer=False, default=1.0)
    sentence_pause_s: float = _number(0.0, 10.0, integer=False, default=0.15)
    # The precision the generation loop reads the WaveNet weights in: float16 halves its
    # memory traffic (rtf 0.66 vs 1.04 for 20 layers, 64/128 channels;
    # benchmarks/vocoder_speed.py --weights); the math is float32 either way.
    weights_dtype: str = _choice("float16", "float32", default="float16")
    # Active-speech RMS every speaker is brought to (``Speaker.level_dbfs``), where its
    # measured peak allows (PEAK_CEILING_DBFS).
    level_dbfs: float = _number(-60.0, 0.0, integer=False, default=-23.0)


@dataclass(frozen=True)
class Speaker:
    id: str = _text(64)
    gender: str = _text(default="")
    age: str = _text(default="")
    accent: str = _text(default="")
    region: str = _text(default="")
    source: str = _text(default="")
    # Measured at export on the raw WaveNet output (``python -m tts.voice level``):
    level_dbfs: float | None = _measured(-120.0, 20.0)  # active-speech RMS
    peak_dbfs: float | None = _measured(-120.0, 20.0)
    index: int = field(default=0, metadata={"derived": True})  # its position in the list

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DurationSpec:
    """A duration model's hyperparameters (``frontend.prosody.DurationConfig`` less the facts
    the voice stores once: speakers)."""

    input_dim: int = _number(1, 4096)
    speaker_dim: int = _number(1, 512)
    hidden: int = _number(2, 2048, parity="even")
    conv_layers: int = _number(0, 64)
    kernel: int = _number(1, 63, parity="odd")
    gru_layers: int = _number(0, 8)
    dropout: float = _number(0.0, 0.99, integer=False)
    # What the input rows hold; "phoneme" for models made before frontend.intonation.
    feature_set: str = _choice(*FEATURE_SETS, default="phoneme")


@dataclass(frozen=True)
class PitchSpec:
    """An F0 model's hyperparameters (``frontend.prosody.PitchConfig`` less speakers)."""

    input_dim: int = _number(1, 4096)
    speaker_dim: int = _number(1, 512)
    frame_hidden: int = _number(1, 2048)
    hidden: int = _number(2, 2048, parity="even")
    frame_layers: int = _number(0, 64)
    conv_layers: int = _number(0, 64)
    kernel: int = _number(1, 63, parity="odd")
    downsample: int = _number(1, 64)
    gru_layers: int = _number(0, 8)
    dropout: float = _number(0.0, 0.99, integer=False)
    # What the input rows hold; "phoneme" for models made before frontend.intonation.
    feature_set: str = _choice(*FEATURE_SETS, default="phoneme")


@dataclass(frozen=True)
class WaveNetSpec:
    """The WaveNet's hyperparameters (``vocoder.model.WaveNetConfig`` less what the voice
    stores once: sample rate, hop, conditioning channels, speakers)."""

    quantization_channels: int = _number(2, 1024)
    layers: int = _number(1, 128)
    stacks: int = _number(1, 128)
    residual_channels: int = _number(1, 1024)
    gate_channels: int = _number(2, 2048, parity="even")
    skip_channels: int = _number(1, 2048)
    output_channels: int = _number(1, 2048)
    cond_hidden: int = _number(1, 2048)
    cond_layers: int = _number(0, 64)
    cond_kernel: int = _number(1, 63, parity="odd")
    upsample: str = _choice("repeat", "transposed")
    speaker_dim: int = _number(1, 512)
    lpc_order: int = _number(0, 64)
    mel_bands: int = _number(0, 512)
    mel_fft: int = _number(0, 8192)
    envelope_layers: int = _number(0, 64)
    speaker_envelopes: bool = _flag()  # an envelope head per speaker (tts adapt writes it)


def bundled_voice_dir() -> Path:
    """The default voice shipped inside the installed package."""
    return Path(str(resources.files("tts").joinpath("voices", DEFAULT_VOICE_NAME)))


MODEL_SPECS: dict[str, type] = {"duration": DurationSpec, "pitch": PitchSpec,
                                "wavenet": WaveNetSpec}
# Statistics stored as tensors beside a prosody model's weights, each range-checked before
# use: log-durations are log(1 + frames) (≤ 1000 frames a phoneme), log-F0 is 20 Hz … 2 kHz.
_STATISTICS = {
    "duration": {"target_mean": (0.0, math.log1p(1000)), "target_std": (1e-5, 5.0)},
    "pitch": {"target_mean": (math.log(20), math.log(2000)), "target_std": (1e-5, 3.0)},
}
_FEATURE_STATISTICS = {"feature_mean": (-1e4, 1e4), "feature_std": (1e-6, 1e4)}


def _parse(cls: type, raw: Any, path: Path, where: str, **derived: Any) -> Any:
    """A ``cls`` from a JSON object: unknown or missing keys, types and bounds checked."""
    if not isinstance(raw, dict):
        _fail(path, where, f"must be a JSON object, got {_shown(raw)}")
    stored = [f for f in dataclasses.fields(cls) if not f.metadata.get("derived")]
    unknown = sorted(set(raw) - {f.name for f in stored})
    if unknown:
        _fail(path, f"{where}.{_shown(unknown[0])[1:-1]}",
              "is not part of this voice format (a newer tts wrote it?)")
    values = dict(derived)
    for spec_field in stored:
        name, meta = spec_field.name, spec_field.metadata
        at = f"{where}.{name}"
        if name not in raw:
            if spec_field.default is dataclasses.MISSING:
                _fail(path, at, "is missing; re-export the voice")
            continue
        value = raw[name]
        if value is None and meta.get("optional"):
            values[name] = None
        elif "bound" in meta:
            values[name] = meta["bound"].check(value, path, at)
        elif "flag" in meta:
            if not isinstance(value, bool):
                _fail(path, at, f"must be true or false, got {_shown(value)}")
            values[name] = value
        elif "choices" in meta:
            if value not in meta["choices"]:
                _fail(path, at, f"must be one of {', '.join(meta['choices'])}, got "
                                f"{_shown(value)}")
            values[name] = value
        elif "text" in meta:
            if not isinstance(value, str) or len(value) > meta["text"]:
                _fail(path, at, f"must be a string of at most {meta['text']} characters")
            values[name] = value
        elif "strings" in meta:
            if (not isinstance(value, list) or len(value) > meta["strings"]
                    or not all(isinstance(s, str) and len(s) <= 16 for s in value)):
                _fail(path, at, f"must be a list of at most {meta['strings']} short strings")
            values[name] = tuple(value)
    return cls(**values)


def _check_model_relations(models: dict[str, Any], path: Path) -> None:
    """What a model needs beyond each number's own bounds."""
    wavenet = models["wavenet"]
    if wavenet.layers % wavenet.stacks:
        _fail(path, "models.wavenet.layers", f"({wavenet.layers}) must be a multiple of "
                                             f"models.wavenet.stacks ({wavenet.stacks})")
    if wavenet.lpc_order and not wavenet.mel_bands:
        _fail(path, "models.wavenet.mel_bands", "must be > 0 in excitation mode (lpc_order > 0)")
    if wavenet.envelope_layers and not wavenet.lpc_order:
        _fail(path, "models.wavenet.envelope_layers", "is for excitation mode only "
                                                      "(lpc_order > 0)")
    if wavenet.speaker_envelopes and not wavenet.lpc_order:
        _fail(path, "models.wavenet.speaker_envelopes", "is for excitation mode only "
                                                        "(lpc_order > 0)")


def _check_compatible(spec: "VoiceSpec", path: Path) -> None:
    """What this version of tts can run: the frontend's symbols, features and channels."""
    if list(spec.frontend.phoneme_inventory) != inventory():
        _fail(path, "frontend.phoneme_inventory", "differs from this version's phoneme "
                                                  "inventory: retrain or re-export the voice")
    if spec.conditioning.channels != conditioning_channels():
        _fail(path, "conditioning.channels", f"is {spec.conditioning.channels} but this frontend "
                                             f"builds {conditioning_channels()}: retrain the voice")
    for kind in ("duration", "pitch"):
        model = spec.models[kind]
        expected = expected_feature_dim(kind, model.feature_set)
        if model.input_dim != expected:
            _fail(path, f"models.{kind}.input_dim", f"is {model.input_dim} but this frontend "
                                                    f"builds {expected} for feature set "
                                                    f"{model.feature_set!r}: retrain it")
    wavenet = spec.models["wavenet"]
    if wavenet.lpc_order and wavenet.mel_fft < spec.hop_length:
        _fail(path, "models.wavenet.mel_fft", f"must be >= hop_length ({spec.hop_length}) in "
                                              "excitation mode")


MAX_SPEAKERS = 1024


@dataclass(frozen=True)
class _TopLevel:
    sample_rate: int = _number(8000, 48000)
    hop_length: int = _number(1, 4096)
    name: str = _text(default="")
    description: str = _text(4096, default="")


@dataclass(frozen=True)
class VoiceSpec:
    """The parsed, validated ``voice.json`` of a voice directory (no weights loaded yet)."""

    directory: Path
    name: str
    description: str
    sample_rate: int
    hop_length: int
    frontend: FrontendSpec
    conditioning: ConditioningSpec
    speakers: tuple[Speaker, ...]
    models: dict[str, Any]  # kind → DurationSpec / PitchSpec / WaveNetSpec
    synthesis: SynthesisSpec

    def model_config(self, kind: str) -> dict[str, Any]:
        """The model's config as its builder takes it (``prosody_from_config`` metadata /
        ``WaveNetConfig.from_dict`` values), completed with the facts the voice stores once."""
        values = dataclasses.asdict(self.models[kind])
        ids = [s.id for s in self.speakers]
        if kind == "wavenet":
            return {"sample_rate": self.sample_rate, "hop_length": self.hop_length,
                    "cond_channels": self.conditioning.channels, "num_speakers": len(ids),
                    **values}
        from frontend.prosody import FORMAT_VERSION as PROSODY_FORMAT_VERSION

        return {"format_version": PROSODY_FORMAT_VERSION, "kind": kind,
                "inventory": list(self.frontend.phoneme_inventory),
                "feature_dim": values["input_dim"],
                "config": {**values, "num_speakers": len(ids), "speakers": ids}}

    def weights_path(self, kind: str) -> Path:
        return self.directory / WEIGHT_FILES[kind]

    def output_gain(self, speaker_index: int) -> float:
        """The factor that brings a speaker's raw output to ``synthesis.level_dbfs`` without
        taking its measured peak above ``PEAK_CEILING_DBFS``; 1 for an unmeasured speaker."""
        speaker = self.speakers[speaker_index]
        if speaker.level_dbfs is None or speaker.peak_dbfs is None:
            return 1.0
        gain_db = min(self.synthesis.level_dbfs - speaker.level_dbfs,
                      PEAK_CEILING_DBFS - speaker.peak_dbfs)
        return 10.0 ** (gain_db / 20.0)

    def tensors(self, kind: str) -> dict[str, np.ndarray]:
        """The ``kind`` model's weights as float32 numpy arrays under their state-dict names
        (float16 storage widened, as loading into torch does), each checked: the names and
        shapes its config needs, finite values, statistics in range."""
        path = self.weights_path(kind)
        _check_header(path, read_safetensors_header(path), expected_shapes(self, kind))
        try:
            tensors = load_safetensors(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise VoiceError(f"{path}: cannot read it ({exc}); re-export the voice") from None
        for name, array in tensors.items():
            if not np.isfinite(array).all():
                _fail(path, f"tensor {name!r}", "contains NaN or infinite values; "
                                                "re-export the voice")
        _check_statistics(path, kind, tensors)
        return {name: np.asarray(array, np.float32) for name, array in tensors.items()}

    def to_json(self) -> dict[str, Any]:
        """The ``voice.json`` object of this voice (the inverse of ``read_voice``)."""
        def stored(spec: Any) -> dict[str, Any]:
            return {f.name: (list(v) if isinstance(v := getattr(spec, f.name), tuple) else v)
                    for f in dataclasses.fields(spec) if not f.metadata.get("derived")}

        return {"format_version": FORMAT_VERSION, "name": self.name,
                "description": self.description, "sample_rate": self.sample_rate,
                "hop_length": self.hop_length, "frontend": stored(self.frontend),
                "conditioning": stored(self.conditioning),
                "speakers": [stored(s) for s in self.speakers],
                "models": {kind: stored(spec) for kind, spec in self.models.items()},
                "synthesis": stored(self.synthesis)}


def parse_voice(data: Any, directory: Path, path: Path | None = None) -> VoiceSpec:
    """A ``VoiceSpec`` from a ``voice.json`` object of this format; every field checked."""
    path = path or directory / VOICE_JSON
    if not isinstance(data, dict):
        _fail(path, "the top level", f"must be a JSON object, got {_shown(data)}")
    if data.get("format_version") != FORMAT_VERSION:
        _fail(path, "format_version", f"is {_shown(data.get('format_version'))}; this version "
                                      f"of tts reads {FORMAT_VERSION} (and converts 1): upgrade "
                                      "tts or re-export the voice")
    sections = {"frontend": FrontendSpec, "conditioning": ConditioningSpec,
                "synthesis": SynthesisSpec}
    top = {key: value for key, value in data.items()
           if key not in ("format_version", "speakers", "models", *sections)}
    values = dataclasses.asdict(_parse(_TopLevel, top, path, "voice"))
    for key, cls in sections.items():
        values[key] = _parse(cls, data.get(key, {} if key == "synthesis" else None), path, key)
    speakers = data.get("speakers")
    if not isinstance(speakers, list) or not 1 <= len(speakers) <= MAX_SPEAKERS:
        _fail(path, "speakers", f"must be a list of 1 to {MAX_SPEAKERS} speaker objects")
    values["speakers"] = tuple(_parse(Speaker, raw, path, f"speakers[{i}]", index=i)
                               for i, raw in enumerate(speakers))
    ids = [s.id for s in values["speakers"]]
    if len(set(ids)) != len(ids) or not all(ids):
        _fail(path, "speakers", "must have distinct, non-empty ids")
    models = data.get("models")
    if not isinstance(models, dict):
        _fail(path, "models", f"must be a JSON object with {', '.join(MODEL_SPECS)}")
    unknown = sorted(set(models) - set(MODEL_SPECS))
    if unknown:
        _fail(path, f"models.{_shown(unknown[0])[1:-1]}", "is not a model of this voice format")
    values["models"] = {kind: _parse(cls, models.get(kind), path, f"models.{kind}")
                        for kind, cls in MODEL_SPECS.items()}
    _check_model_relations(values["models"], path)
    spec = VoiceSpec(directory=directory, **values)
    _check_compatible(spec, path)
    return spec


def read_safetensors_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name → (numpy dtype, shape) of every tensor in a safetensors file, from its JSON header
    alone (8-byte little-endian length, then JSON), every entry checked against the file:
    float16/float32 only, offsets inside the data and consistent with the shapes."""
    try:
        if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
            _fail(path, "the file", "is not a regular file; re-export the voice")
        size = path.stat().st_size
        if size > MAX_WEIGHTS_BYTES:
            _fail(path, "the file", f"is {size / 2**30:.1f} GiB; a voice's weights files may be "
                                    f"at most {MAX_WEIGHTS_BYTES / 2**30:g} GiB")
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
                _fail(path, "the header", f"length {length} is impossible for a {size}-byte file "
                                          f"(at most {MAX_HEADER_BYTES} bytes): a corrupt or "
                                          "truncated safetensors file; re-export the voice")
            header = json.loads(handle.read(length).decode("utf-8"))
    except VoiceError:
        raise
    except FileNotFoundError:
        raise VoiceError(f"{path} is missing: the voice is incomplete") from None
    except OSError as exc:
        raise VoiceError(f"{path}: cannot read it ({exc.strerror})") from None
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or a 4300-digit number
        raise VoiceError(f"{path}: the header is not valid JSON: a corrupt safetensors file; "
                         "re-export the voice") from None
    if not isinstance(header, dict):
        _fail(path, "the header", "must be a JSON object: a corrupt safetensors file")
    data_bytes = size - 8 - length
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"tensor {_shown(name)}"
        if (not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str)
                or entry["dtype"] not in WEIGHT_DTYPES):
            found = entry.get("dtype") if isinstance(entry, dict) else entry
            _fail(path, where, f"has dtype {_shown(found)}; a voice's weights must be F16 or "
                               "F32 (float16/float32)")
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                           for n in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)):
            _fail(path, where, "has a malformed shape or data_offsets: a corrupt safetensors file")
        begin, end = offsets
        itemsize = 2 if entry["dtype"] == "F16" else 4
        if not 0 <= begin <= end <= data_bytes or end - begin != math.prod(shape) * itemsize:
            _fail(path, where, f"shape {shape} does not fit its data_offsets {offsets} in a "
                               f"{size}-byte file: a corrupt or truncated safetensors file")
        tensors[name] = (WEIGHT_DTYPES[entry["dtype"]], tuple(shape))
        spans.append((begin, end, name))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            _fail(path, f"tensor {_shown(second)}", f"overlaps tensor {_shown(first)}: a corrupt "
                                                    "safetensors file")
    return tensors


def expected_shapes(spec: VoiceSpec, kind: str) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor the ``kind`` model of ``spec`` is built with."""
    if kind == "wavenet":
        from vocoder.io import wavenet_tensor_shapes

        return wavenet_tensor_shapes(WaveNetConfig.from_dict(spec.model_config("wavenet")))
    from frontend.prosody import prosody_tensor_shapes

    return prosody_tensor_shapes(kind, spec.models[kind], len(spec.speakers))


def _check_header(path: Path, header: dict[str, tuple[str, tuple[int, ...]]],
                  expected: dict[str, tuple[int, ...]]) -> None:
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing:
        _fail(path, f"tensor {_shown(missing[0])}", f"is missing ({len(missing)} missing): the "
                                                    "weights do not match voice.json's models")
    if unexpected:
        _fail(path, f"tensor {_shown(unexpected[0])}", f"is not part of the model "
                                                       f"({len(unexpected)} unexpected): the "
                                                       "weights do not match voice.json's models")
    for name, shape in expected.items():
        if header[name][1] != shape:
            _fail(path, f"tensor {_shown(name)}", f"has shape {list(header[name][1])} but "
                                                  f"voice.json's models need {list(shape)}")


def _check_statistics(path: Path, kind: str, tensors: Any) -> None:
    """A prosody model's stored normalization statistics within their physical ranges.

    ``tensors`` maps names to arrays, or is an open safetensors file (only these are read).
    """
    limits = {**_FEATURE_STATISTICS, **_STATISTICS.get(kind, {})} if kind in _STATISTICS else {}
    for name, (low, high) in limits.items():
        values = (tensors[name] if isinstance(tensors, dict) else tensors.get_tensor(name))
        values = np.asarray(values, np.float64)
        if not (np.isfinite(values).all() and values.min(initial=low) >= low
                and values.max(initial=low) <= high):
            bad = values[~(np.isfinite(values) & (values >= low) & (values <= high))][0]
            _fail(path, f"tensor {name!r}", f"holds {float(bad):g}; it must be between {low:g} "
                                            f"and {high:g}: re-export the voice")


def _read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_VOICE_JSON_BYTES:
            _fail(path, "the file", f"is {size / 2**20:.0f} MB; a voice.json may be at most "
                                    f"{MAX_VOICE_JSON_BYTES // 2**20} MB")
        return json.loads(path.read_bytes().decode("utf-8"))
    except VoiceError:
        raise
    except OSError as exc:
        raise VoiceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise VoiceError(f"{path} is corrupt (not UTF-8 text); re-export the voice") from None
    except json.JSONDecodeError as exc:
        raise VoiceError(f"{path} is corrupt (not valid JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}); re-export the voice") from None
    except RecursionError:
        raise VoiceError(f"{path} is corrupt (JSON nested too deeply); re-export the "
                         "voice") from None
    except ValueError:  # an integer of more than 4300 digits
        raise VoiceError(f"{path} is corrupt (a number too long to read); re-export the "
                         "voice") from None


def read_voice(directory: str | Path) -> VoiceSpec:
    """Parse and check ``directory/voice.json`` and every weights file's header against it.

    Everything a stranger's voice could get wrong is refused here, in one line naming the file
    and the field, before any model is built: sizes and statistics out of bounds, weights of
    the wrong dtype or shape. (Non-finite weights are refused by ``VoiceSpec.tensors``, which
    reads them.) A format-1 voice.json is read through ``convert_v1``.
    """
    directory = Path(directory)
    if not directory.exists():
        raise VoiceError(f"voice directory not found: {directory}")
    if not directory.is_dir():
        raise VoiceError(f"{directory} is not a directory: "
                         f"pass a voice directory with {VOICE_JSON}")
    path = directory / VOICE_JSON
    if not path.is_file():
        raise VoiceError(f"{path} is missing: {directory} is not a voice directory")
    data = _read_json(path)
    if isinstance(data, dict) and data.get("format_version") == 1:
        data = convert_v1(data, path)
    spec = parse_voice(data, directory, path)
    for kind in WEIGHT_FILES:
        weights = spec.weights_path(kind)
        _check_header(weights, read_safetensors_header(weights), expected_shapes(spec, kind))
        if kind in _STATISTICS:
            try:
                with safe_open(str(weights), framework="numpy") as handle:
                    _check_statistics(weights, kind, handle)
            except (SafetensorError, OSError) as exc:
                raise VoiceError(f"{weights}: cannot read it ({exc})") from None
    return spec


def convert_v1(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A format-1 ``voice.json`` object in this format.

    Format 1 stored the sample rate and hop, the conditioning channels, the phoneme inventory
    and the speaker list three times each, and the corpus statistics it was exported from
    (never read). Every copy must agree; each fact is kept once and the statistics dropped.
    Values are checked by ``parse_voice`` afterwards.
    """
    def get(obj: Any, key: str, where: str, kind: type = dict) -> Any:
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool):
            _fail(path, where, f"must be a {kind.__name__} in a format-1 voice, got "
                               f"{_shown(value)}")
        return value

    def agree(where: str, value: Any, expected: Any, what: str) -> None:
        if value != expected:
            _fail(path, where, f"is {_shown(value)} but {what} is {_shown(expected)}: the voice "
                               "contradicts itself; re-export it")

    speakers = get(data, "speakers", "speakers", list)
    for i, speaker in enumerate(speakers):
        get(speaker, "index", f"speakers[{i}].index", int)
    speakers = sorted(speakers, key=lambda s: s["index"])
    agree("speakers[].index", [s["index"] for s in speakers], list(range(len(speakers))),
          "0..n-1")
    ids = [s.get("id") for s in speakers]
    frontend = get(data, "frontend", "frontend")
    conditioning = get(data, "conditioning", "conditioning")
    models = get(data, "models", "models")
    stats = data.get("stats", {}) if isinstance(data.get("stats"), dict) else {}
    for key, stat in (("sample_rate", "sample_rate"), ("hop_length", "hop_length")):
        if stat in stats:
            agree(f"stats.{stat}", stats[stat], data.get(key), key)
    if "cond_channels" in stats:
        agree("stats.cond_channels", stats["cond_channels"], conditioning.get("channels"),
              "conditioning.channels")
    if "language" in data:
        agree("language", data["language"], frontend.get("language"), "frontend.language")
    converted_models: dict[str, Any] = {}
    for kind in ("duration", "pitch"):
        metadata = get(models, kind, f"models.{kind}")
        config = dict(get(metadata, "config", f"models.{kind}.config"))
        agree(f"models.{kind}.kind", metadata.get("kind"), kind, "its key")
        agree(f"models.{kind}.inventory", metadata.get("inventory"),
              frontend.get("phoneme_inventory"), "frontend.phoneme_inventory")
        agree(f"models.{kind}.feature_dim", metadata.get("feature_dim"), config.get("input_dim"),
              f"models.{kind}.config.input_dim")
        agree(f"models.{kind}.config.num_speakers", config.pop("num_speakers", None), len(ids),
              "the number of speakers")
        listed = config.pop("speakers", None)
        if listed:
            agree(f"models.{kind}.config.speakers", listed, ids, "the speakers' ids")
        converted_models[kind] = config
    wavenet = dict(get(models, "wavenet", "models.wavenet"))
    for key, expected, what in (("sample_rate", data.get("sample_rate"), "sample_rate"),
                                ("hop_length", data.get("hop_length"), "hop_length"),
                                ("cond_channels", conditioning.get("channels"),
                                 "conditioning.channels"),
                                ("num_speakers", len(ids), "the number of speakers")):
        agree(f"models.wavenet.{key}", wavenet.pop(key, None), expected, what)
    converted_models["wavenet"] = wavenet
    synthesis = dict(get(data, "synthesis", "synthesis") if "synthesis" in data else {})
    # Format 1 without weights_dtype was read in float32 by the Synthesizer.
    synthesis.setdefault("weights_dtype", "float32")
    return {
        "format_version": FORMAT_VERSION,
        **{key: data[key] for key in ("name", "description", "sample_rate", "hop_length")
           if key in data},
        "frontend": frontend,
        "conditioning": conditioning,
        "speakers": [{key: value for key, value in s.items() if key != "index"}
                     for s in speakers],
        "models": converted_models,
        "synthesis": synthesis,
    }


@contextlib.contextmanager
def _exclusive_export(directory: Path) -> Iterator[None]:
    """Hold the export lock of ``directory`` and remove what killed exports of it left.

    Every export of ``directory`` stages beside it (``.NAME.*.staging``) under this lock, so
    whatever such a directory is found while holding it belongs to a run that died.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.export-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel if we die
        pattern = f".{glob.escape(directory.name)}.*"
        for stale in sorted(directory.parent.glob(pattern)):
            if stale.suffix not in (".staging", ".old", ".tmp") or not stale.is_dir():
                continue
            if stale.suffix == ".old" and not directory.exists():
                # Where the OS cannot swap directories in one step, the previous voice is moved
                # aside first: a run killed right then left it here and no voice in its place.
                logger.warning("restoring %s from %s, left by an export that did not finish",
                               directory, stale)
                os.rename(stale, directory)
                continue
            logger.info("removing %s, left by an export that did not finish", stale)
            shutil.rmtree(stale, ignore_errors=True)
        yield


def _publish(directory: Path, fill: Callable[[Path], None]) -> Path:
    """Let ``fill`` write a voice into a staging directory; if it reads back, swap it in.

    The swap is one step (``tts_common.files.atomic_directory``): at every instant
    ``directory`` is the complete previous voice or the complete new one, even if the process
    is killed. The voice directory gets the mode ``mkdir`` gives (a replaced one keeps its
    own).
    """
    with _exclusive_export(directory), atomic_directory(directory) as staging:
        fill(staging)
        read_voice(staging)  # never publish a voice we could not read back
    return directory


def _write_voice_json(directory: Path, data: dict[str, Any]) -> None:
    with atomic_open(directory / VOICE_JSON, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2) + "\n")


def write_voice(directory: str | Path, data: dict[str, Any], weights: dict[str, Path]) -> Path:
    """Write a voice directory atomically from a ``voice.json`` object of this format and a
    safetensors file per model kind (copied in); see ``_publish``."""
    def fill(staging: Path) -> None:
        for kind, name in WEIGHT_FILES.items():
            shutil.copyfile(weights[kind], staging / name)
        _write_voice_json(staging, data)

    return _publish(Path(directory), fill)


def with_levels(spec: VoiceSpec, levels: list[tuple[float, float]] | None) -> VoiceSpec:
    """``spec`` with each speaker's measured (level_dbfs, peak_dbfs); None clears them."""
    speakers = tuple(dataclasses.replace(s, level_dbfs=None if levels is None else levels[i][0],
                                         peak_dbfs=None if levels is None else levels[i][1])
                     for i, s in enumerate(spec.speakers))
    return dataclasses.replace(spec, speakers=speakers)


def measure_and_store_levels(directory: Path) -> VoiceSpec:
    """Measure every speaker's output level (``tts.level``) and store it in voice.json."""
    from tts.level import measure_speaker_levels
    from tts.synthesizer import Synthesizer

    spec = read_voice(directory)
    spec = with_levels(spec, measure_speaker_levels(Synthesizer(with_levels(spec, None))))
    _write_voice_json(directory, spec.to_json())
    return spec


def _voice_prosody(voice_dir: Path, out_dir: Path) -> None:
    """A voice's duration and F0 models as their trainer saves them (``out_dir/KIND.*``)."""
    from frontend.prosody import prosody_from_tensors, save_prosody

    voice = read_voice(voice_dir)
    for kind in ("duration", "pitch"):
        save_prosody(prosody_from_tensors(kind, voice.model_config(kind), voice.tensors(kind)),
                     out_dir / kind)


def _voice_wavenet(voice_dir: Path, out_dir: Path, storage: Any) -> Any:
    """A voice's WaveNet saved as its trainer's export saves one (``vocoder.io``); returned."""
    from vocoder.io import save_wavenet, wavenet_from_config

    voice = read_voice(voice_dir)
    wavenet = wavenet_from_config(voice.model_config("wavenet"), voice.weights_path("wavenet"))
    save_wavenet(wavenet, out_dir, storage)
    return wavenet


def export_voice(prep_dir: str | Path, prosody_exp: str | Path, wavenet_exp: str | Path,
                 out_dir: str | Path, *, name: str = "voice",
                 temperature: float = SynthesisSpec.temperature,
                 description: str = "", weights_dtype: str = SynthesisSpec.weights_dtype,
                 level_dbfs: float = SynthesisSpec.level_dbfs,
                 envelope_exp: str | Path | None = None, measure_levels: bool = True) -> Path:
    """Assemble a voice directory from a prepared corpus and trained checkpoints.

    ``prosody_exp``: the experiment directory of ``python -m frontend.prosody_train`` (its best
    duration and F0 models are taken), or a voice directory (its models as they are, e.g. to
    ship a new WaveNet with the prosody of the voice it was trained on from). ``wavenet_exp``:
    that of ``python -m vocoder.train`` (its EMA weights are taken), or a voice directory (its
    WaveNet as it is, e.g. with envelope heads fitted by ``tts.envelopes``). Training
    checkpoints stay where they are; only safetensors weights and JSON go into the voice.
    ``weights_dtype`` is the precision the generation loop
    reads the WaveNet weights in (``SynthesisSpec.weights_dtype``). ``envelope_exp``: an
    excitation-mode WaveNet's envelope network from that run of
    ``python -m vocoder.envelope --set model.envelope_layers=N`` instead of its own.
    ``level_dbfs``: the active-speech level every speaker is brought to; each speaker's level
    is measured by synthesizing a few sentences (``measure_levels``).
    """
    import torch

    from frontend.prosody_train import export_prosody
    from vocoder.train import export_ema

    if weights_dtype not in ("float16", "float32"):
        raise VoiceError(f"weights_dtype must be float16 or float32, got {weights_dtype!r}")
    wavenet_is_voice = (Path(wavenet_exp) / VOICE_JSON).is_file()
    if wavenet_is_voice and envelope_exp is not None:
        raise VoiceError("--envelope grafts onto a trained run's WaveNet: give --wavenet the "
                         "run's experiment directory, not a voice")
    prepared = read_corpus(prep_dir, VoiceError)
    log_f0_mean, log_f0_std = prepared.log_f0_normalization(VoiceError)

    def fill(staging: Path) -> None:
        parts = staging / ".parts"  # each model as its trainer saves it, with its own metadata
        if (Path(prosody_exp) / VOICE_JSON).is_file():
            _voice_prosody(Path(prosody_exp), parts)
        else:
            export_prosody(prosody_exp, parts)
        # Stored as the generation loop reads it: float16 halves the voice (15 → 7 MB).
        storage = torch.float16 if weights_dtype == "float16" else torch.float32
        if wavenet_is_voice:
            wavenet = _voice_wavenet(Path(wavenet_exp), parts, storage)
        else:
            wavenet = export_ema(wavenet_exp, parts, storage, envelope_exp)
        # Each trained model carries its own copy of the facts the voice stores once, as
        # format 1 did: converting checks that they all agree.
        assembled = {
            "format_version": 1, "name": name, "description": description,
            "sample_rate": wavenet.config.sample_rate, "hop_length": wavenet.config.hop_length,
            "frontend": {"backend": "cmudict", "language": "en-us",
                         "phoneme_inventory": inventory()},
            "conditioning": {"channels": conditioning_channels(), "log_f0_mean": log_f0_mean,
                             "log_f0_std": log_f0_std},
            "speakers": [{key: s.get(key, "") for key in
                          ("id", "index", "gender", "age", "accent", "region", "source")}
                         for s in prepared.speakers],
            "models": {"duration": json.loads((parts / "duration.json").read_text()),
                       "pitch": json.loads((parts / "pitch.json").read_text()),
                       "wavenet": wavenet.config.to_dict()},
            "synthesis": {"temperature": temperature, "weights_dtype": weights_dtype,
                          "level_dbfs": level_dbfs},
        }
        for kind, file in WEIGHT_FILES.items():
            os.replace(parts / file, staging / file)
        shutil.rmtree(parts)
        _write_voice_json(staging, convert_v1(assembled, staging / VOICE_JSON))
        if measure_levels:
            measure_and_store_levels(staging)

    return _publish(Path(out_dir), fill)


def main(argv: list[str] | None = None) -> int:
    """``python -m tts.voice convert|level --voice DIR``: maintain a voice directory in place."""
    parser = argparse.ArgumentParser(prog="python -m tts.voice", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="rewrite voice.json in this format "
                                                  f"(format 1 → {FORMAT_VERSION}); weights stay")
    level = commands.add_parser("level", help="measure every speaker's output level by "
                                              "synthesizing a few sentences, and store it")
    level.add_argument("--level-dbfs", type=float, default=None,
                       help="the voice's active-speech level (default: keep the voice's)")
    for command in (convert, level):
        command.add_argument("--voice", required=True, help="the voice directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        directory = Path(args.voice)
        spec = read_voice(directory)
        if args.command == "level" and args.level_dbfs is not None:
            synthesis = dataclasses.replace(spec.synthesis, level_dbfs=args.level_dbfs)
            spec = parse_voice(dataclasses.replace(spec, synthesis=synthesis).to_json(),
                               directory)  # checks the new level's bounds
        _write_voice_json(directory, spec.to_json())
        if args.command == "level":
            spec = measure_and_store_levels(directory)
            for speaker in spec.speakers:
                logger.info("%s: level %.1f dBFS, peak %.1f dBFS, gain %+.1f dB", speaker.id,
                            speaker.level_dbfs, speaker.peak_dbfs,
                            20 * math.log10(spec.output_gain(speaker.index)))
    except VoiceError as exc:
        logger.error("python -m tts.voice: error: %s", exc)
        return 1
    logger.info("wrote %s", directory / VOICE_JSON)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
