"""The training harness shared by the trainers (``vocoder.train``, ``vocoder.envelope``,
``frontend.prosody_train``): configs and ``--set``, checkpoints, the learning-rate schedule, the
JSON-lines log, the resume rule, stopping on a signal, torch's thread count, devices and DDP.

**Configs.** A trainer's settings are dataclasses, one per *section*: ``model`` (the network's
shape) and ``train`` (everything else). They come in layers, each over the one before:

    the dataclass defaults ← the checkpoint being resumed ← each --config file ← each --set

A config file is a JSON object with an object per section (``{"model": {...}, "train": {...}}``);
``--set section.key=value`` sets one field (``--set model.lpc_order=24``, ``--set train.lr=1e-3``),
and a bare ``--set key=value`` is accepted when only one section has that key. A value from the
command line is read as the field's type (``true``/``false`` for a bool, ``none`` for an optional
field, ``a,b`` or a JSON list for a list); a value from a file must already have it. An unknown
key is one error line listing the known ones.

**Checkpoints** (``EXP/checkpoint.pt``, through ``tts_common.checkpoints``: SHA-256, atomic) are
one dict layout for every trainer: ``format``, ``kind`` (which trainer), ``step``,
``model_config``, ``train_config`` (plain dicts), ``model``, ``optimizer`` (state dicts),
optionally ``ema``, and whatever else the trainer needs to resume (its ``extra`` keys). A
trainer reads the formats it wrote before through a converter of its own
(``load_training_checkpoint(convert=...)``); a format it cannot convert is one error line.

**The resume rule.** A run whose ``--out`` holds a checkpoint resumes it: the checkpoint's
configs are the defaults under the config files and ``--set``, and a model config that differs
from the checkpoint's is refused (``check_same_config``), naming the fields.

torch is imported inside the functions that need it: ``tts_common`` must stay importable without
it, and nothing on the synthesis path imports this module.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import math
import os
import signal
import threading
import time
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

from tts_common.checkpoints import CheckpointError, read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    import torch

__all__ = [
    "AMP_MODES", "CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "LOG_NAME", "LR_SCHEDULES",
    "Distributed", "ExponentialMovingAverage", "JsonlLog", "StopRequest", "TrainingError",
    "add_config_arguments", "all_finite", "autocast", "check_same_config", "check_schedule",
    "checkpoint_state", "config_values", "error_line", "learning_rate",
    "load_training_checkpoint", "make_config", "merge_layers", "open_run", "parse_overrides",
    "read_config_file", "resolve_amp", "resolve_device", "restore_rng", "rng_state",
    "save_training_checkpoint", "settings",
    "setup_distributed", "torch_threads",
]

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.jsonl"
CHECKPOINT_FORMAT = "wavenet-tts/training-checkpoint/2"
LR_SCHEDULES = ("cosine", "exponential", "constant")
AMP_MODES = ("auto", "bf16", "fp16", "off")

# A layer of settings: section name → {field: value}.
Layer = dict[str, dict[str, Any]]


class TrainingError(ValueError):
    """A training run that cannot start or continue; the message says why and what to do."""


# ----------------------------------------------------------------------------- configs
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join("none" if a is type(None) else _describe(a) for a in args)
    if origin in (list, tuple):
        return (f"a list of {_describe(args[0]) if args else 'values'} (comma-separated, or a "
                "JSON list with its strings quoted)")
    return getattr(hint, "__name__", str(hint))


def _as_union(hint: Any, value: Any, convert: Callable[[Any, Any], Any], is_none: bool) -> Any:
    """``value`` as the first member of the union ``hint`` that ``convert`` takes it as."""
    args = typing.get_args(hint)
    if is_none and type(None) in args:
        return None
    for arg in args:
        if arg is not type(None):
            with contextlib.suppress(ValueError):
                return convert(value, arg)
    raise ValueError(value)


def _from_text(raw: str, hint: Any) -> Any:
    """A ``--set`` value as the field's type; ValueError when it is not one."""
    origin = typing.get_origin(hint)
    text = raw.strip()
    if origin in (Union, types.UnionType):
        return _as_union(hint, raw, _from_text, text.lower() in ("none", "null"))
    if origin in (list, tuple):
        items = json.loads(text) if text.startswith("[") else [
            item.strip() for item in text.split(",") if item.strip()]
        return _checked(items, hint)
    if hint is bool:
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(raw)
    if hint is int:
        return int(text)
    if hint is float:
        return float(text)
    if hint is str:
        return raw
    raise ValueError(raw)


def _checked(value: Any, hint: Any) -> Any:
    """A value from a file or a checkpoint, checked (and widened: int → float) to the field's
    type; ValueError when it does not have it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return _as_union(hint, value, _checked, value is None)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ValueError(value)
        item_hint = args[0] if args else Any
        items = [item if item_hint is Any else _checked(item, item_hint) for item in value]
        return tuple(items) if origin is tuple else items
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 1.0 as 1 sometimes
    if hint in (bool, int, float, str):
        if isinstance(value, hint) and (hint is bool or not isinstance(value, bool)):
            return value
        raise ValueError(value)
    return value


def _known_keys(sections: dict[str, type]) -> str:
    return ", ".join(f"{name}.{key}" for name, cls in sections.items()
                     for key in sorted(_field_types(cls)))


def _resolve_key(key: str, sections: dict[str, type], where: str) -> tuple[str, str]:
    """``section.key``, or a bare ``key`` that one section alone has → (section, key)."""
    section, dot, name = key.partition(".")
    if dot and section in sections:
        if name in _field_types(sections[section]):
            return section, name
    elif not dot:
        owners = [s for s, cls in sections.items() if key in _field_types(cls)]
        if len(owners) == 1:
            return owners[0], key
        if len(owners) > 1:
            raise TrainingError(f"{where}: {key!r} is a key of {' and '.join(owners)}: write "
                                f"{' or '.join(f'{s}.{key}' for s in owners)}")
    raise TrainingError(f"{where}: unknown key {key!r}; known keys: {_known_keys(sections)}")


def parse_overrides(items: Sequence[str], sections: dict[str, type]) -> Layer:
    """``--set`` items (``section.key=value`` or an unambiguous ``key=value``) as typed values."""
    layer: Layer = {name: {} for name in sections}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise TrainingError(f"--set expects section.key=value (e.g. train.lr=3e-4 or "
                                f"model.layers=30), got {item!r}")
        section, name = _resolve_key(key.strip(), sections, "--set")
        hint = _field_types(sections[section])[name]
        try:
            layer[section][name] = _from_text(raw, hint)
        except (ValueError, json.JSONDecodeError):
            raise TrainingError(f"--set {item!r}: {section}.{name} must be "
                                f"{_describe(hint)}") from None
    return layer


def config_values(values: dict[str, Any], sections: dict[str, type], where: str) -> Layer:
    """A JSON object of settings (section objects, or bare keys one section alone has) as a
    layer, its values checked against the fields' types."""
    if not isinstance(values, dict):
        raise TrainingError(f"{where} must hold a JSON object with an object per section "
                            f"({', '.join(sections)})")
    layer: Layer = {name: {} for name in sections}
    flat: list[tuple[str, Any]] = []
    for key, value in values.items():
        if key in sections and isinstance(value, dict):
            flat.extend((f"{key}.{k}", v) for k, v in value.items())
        else:
            flat.append((key, value))
    for key, value in flat:
        section, name = _resolve_key(key, sections, where)
        hint = _field_types(sections[section])[name]
        try:
            layer[section][name] = _checked(value, hint)
        except ValueError:
            raise TrainingError(f"{where}: {section}.{name} must be {_describe(hint)}, got "
                                f"{value!r}") from None
    return layer


def read_config_file(path: str | Path, sections: dict[str, type]) -> Layer:
    """A ``--config`` JSON file as a layer (see the module docstring)."""
    try:
        values = json.loads(Path(path).read_text())
    except OSError as exc:
        raise TrainingError(f"cannot read config file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TrainingError(f"{path} is not valid JSON: {exc}") from None
    return config_values(values, sections, str(path))


def merge_layers(sections: dict[str, type], *layers: Layer) -> Layer:
    """The layers merged in order, later ones winning, field by field."""
    merged: Layer = {name: {} for name in sections}
    for layer in layers:
        for name, values in layer.items():
            merged[name].update(values)
    return merged


def settings(sections: dict[str, type], checkpoint: dict | None = None,
             config_files: Sequence[str | Path] = (), overrides: Sequence[str] = (),
             base: Layer | None = None, explicit: Layer | None = None,
             where: str = "the checkpoint") -> Layer:
    """A run's settings, section by section: ``base`` (defaults a trainer knows, e.g. from the
    corpus) ← the ``checkpoint`` being resumed (its model_config and train_config) ←
    ``explicit`` (a caller's own settings) ← each config file ← ``overrides`` (``--set``)."""
    layers = [base or {}]
    if checkpoint is not None:
        layers.append(config_values({"model": checkpoint["model_config"],
                                     "train": checkpoint["train_config"]}, sections, where))
    layers.append(explicit or {})
    layers += [read_config_file(path, sections) for path in config_files]
    layers.append(parse_overrides(overrides, sections))
    return merge_layers(sections, *layers)


def make_config(cls: type, values: dict[str, Any], where: str) -> Any:
    """``cls(**values)``; its own validation's error (ValueError) becomes a TrainingError."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"{where}: {error_line(exc)}") from None


def add_config_arguments(parser: Any) -> None:
    """The ``--config`` and ``--set`` options every trainer takes."""
    parser.add_argument("--config", dest="config_files", action="append", default=[],
                        metavar="FILE.json",
                        help="settings file (repeatable, later ones win): {\"model\": {...}, "
                             "\"train\": {...}}")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override one setting, e.g. model.lpc_order=24 or train.lr=1e-3 "
                             "(the section may be left out where the key is unambiguous)")


def error_line(exc: BaseException) -> str:
    """The first line of an exception's message, what a command prints."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----------------------------------------------------------------------------- schedule
def learning_rate(config: Any, step: int, progress: float | None = None) -> float:
    """Linear warmup over ``warmup_steps``, then ``lr_schedule`` (cosine or exponential, both
    reaching ``min_lr`` at the end; constant) of ``config`` (any trainer's config: it reads
    lr, min_lr, warmup_steps, max_steps, lr_schedule).

    ``progress``: how far through the decay the run is (0 … 1); by default
    ``(step - warmup_steps) / (max_steps - warmup_steps)``. A run with a time budget passes its
    share of the time instead.
    """
    lr, warmup = config.lr, config.warmup_steps
    if step < warmup:
        return lr * (step + 1) / warmup
    if progress is None:
        if config.max_steps <= warmup:
            return lr
        progress = (step - warmup) / (config.max_steps - warmup)
    if config.lr_schedule == "constant":
        return lr
    progress = min(1.0, max(0.0, progress))
    min_lr = min(config.min_lr, lr)
    if config.lr_schedule == "cosine":
        return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))
    return lr * (max(min_lr, 1e-12) / lr) ** progress


def check_schedule(config: Any, name: str) -> None:
    """The schedule fields of a trainer's config, checked once for every trainer."""
    if not config.lr > 0 or config.min_lr < 0 or config.warmup_steps < 0:
        raise TrainingError(f"{name} needs lr > 0, min_lr >= 0 and warmup_steps >= 0, got "
                            f"lr={config.lr}, min_lr={config.min_lr}, "
                            f"warmup_steps={config.warmup_steps}")
    if config.lr_schedule not in LR_SCHEDULES:
        raise TrainingError(f"{name}.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got "
                            f"{config.lr_schedule!r}")


# ----------------------------------------------------------------------------- checkpoints
def checkpoint_state(kind: str, step: int, model_config: dict, train_config: dict,
                     model: dict, optimizer: dict | None, ema: dict | None = None,
                     **extra: Any) -> dict:
    """The one checkpoint layout (see the module docstring)."""
    state = {"format": CHECKPOINT_FORMAT, "kind": kind, "step": int(step),
             "model_config": model_config, "train_config": train_config, "model": model,
             "optimizer": optimizer, **extra}
    if ema is not None:
        state["ema"] = ema
    return state


def save_training_checkpoint(path: str | Path, state: dict) -> None:
    """``torch.save`` with a SHA-256 of the contents, atomically: ``path`` is always complete."""
    write_checkpoint(path, state)


Converter = Callable[[dict, Path], dict]


def load_training_checkpoint(path: str | Path, kinds: Sequence[str],
                             convert: Converter | None = None) -> dict:
    """A training checkpoint of one of ``kinds``, its SHA-256 verified, without unpickling.

    ``convert`` turns a state in one of the trainer's earlier formats into this one (or raises
    a TrainingError that says how to convert it); without it an older format is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no training checkpoint at {path}: train first")
    try:
        state = read_checkpoint(path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from None
    if state.get("format") != CHECKPOINT_FORMAT:
        if convert is None:
            raise TrainingError(f"{path} is not a training checkpoint of this version (format "
                                f"{state.get('format')!r}, expected {CHECKPOINT_FORMAT}): use "
                                "another checkpoint or --out directory")
        state = convert(state, path)
    missing = [key for key in ("kind", "step", "model_config", "train_config", "model")
               if key not in state]
    if missing:
        raise TrainingError(f"{path} has no {', '.join(repr(k) for k in missing)}: it is "
                            "incomplete; use another checkpoint or --out directory")
    if state["kind"] not in kinds:
        raise TrainingError(f"{path} is a {state['kind']!r} checkpoint, not "
                            f"{' or '.join(repr(k) for k in kinds)}: use the right run's "
                            "directory")
    return state


def open_run(out_dir: str | Path, kinds: Sequence[str], convert: Converter | None = None,
             writer: bool = True) -> dict | None:
    """The resume rule: the checkpoint in ``out_dir`` if there is one (the run resumes from
    it), else None (a new run). ``writer``: this process writes the run's files (DDP rank 0):
    it creates ``out_dir`` and removes temporaries left by a killed checkpoint write."""
    out_dir = Path(out_dir)
    if writer:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob(f".{CHECKPOINT_NAME}.*.tmp"):
            stale.unlink(missing_ok=True)
    path = out_dir / CHECKPOINT_NAME
    return load_training_checkpoint(path, kinds, convert) if path.exists() else None


def check_same_config(path: str | Path, saved: dict, current: dict,
                      what: str = "model config") -> None:
    """Refuse to resume ``path`` with a ``current`` config that differs from its ``saved`` one."""
    differences = [f"{key} {saved.get(key)!r} in the checkpoint, {current.get(key)!r} now"
                   for key in sorted(set(saved) | set(current))
                   if saved.get(key) != current.get(key)]
    if differences:
        raise TrainingError(f"{path} was trained with another {what} ({'; '.join(differences)})"
                            ": resume it with its own settings, or train into a new --out "
                            "directory")


# ----------------------------------------------------------------------------- run plumbing
class JsonlLog:
    """Appends one JSON object per event (``{"event", "time", ...}``) to a run's ``log.jsonl``;
    ``path=None`` writes nothing (the DDP ranks other than 0)."""

    def __init__(self, path: Path | None):
        self.path = path

    def write(self, event: str, **fields: Any) -> None:
        if self.path is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")


class StopRequest:
    """SIGINT/SIGTERM → finish the step, save a checkpoint, exit; a 2nd Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("%s received: stopping after this step with a checkpoint",
                       signal.Signals(signum).name)

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopRequest"]:
        self.install()
        try:
            yield self
        finally:
            self.restore()


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` torch intra-op threads (0: torch's default), then restore them.

    Small models on busy cores are many times slower with more threads than free cores (on two
    busy cores two threads were 30x slower than one for the prosody models).
    """
    import torch

    previous = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class ExponentialMovingAverage:
    """EMA of a module's floating-point parameters and buffers (the weights a voice ships)."""

    def __init__(self, model: "torch.nn.Module", decay: float):
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)

    def update(self, model: "torch.nn.Module", step: int) -> None:
        import torch

        # Early on the average would mostly remember the random init: ramp the decay up.
        decay = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for ema_value, value in zip(self.module.state_dict().values(),
                                        model.state_dict().values()):
                if ema_value.is_floating_point():
                    ema_value.lerp_(value.detach(), 1.0 - decay)
                else:
                    ema_value.copy_(value)


def rng_state(device: "torch.device | None" = None) -> dict:
    """torch's random state (and the CUDA device's), for a checkpoint: a resumed run draws the
    dropout masks an uninterrupted one would have drawn."""
    import torch

    cuda = device is not None and device.type == "cuda"
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if cuda else None}


def restore_rng(state: dict, device: "torch.device | None" = None) -> None:
    """Set torch's random state to a checkpoint's ``rng_state``."""
    import torch

    torch.set_rng_state(state["torch"])
    if device is not None and device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


def all_finite(module: "torch.nn.Module") -> bool:
    import torch

    return all(bool(torch.isfinite(value).all()) for value in module.state_dict().values()
               if value.is_floating_point())


@dataclasses.dataclass
class Distributed:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # we initialized the process group, so we tear it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(request: str, local_rank: int = 0, world_size: int = 1) -> "torch.device":
    """``auto`` (CUDA where there is one), ``cpu``, ``cuda`` or ``cuda:N`` → a torch device."""
    import torch

    if request == "auto":
        request = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(request)
    except RuntimeError:
        raise TrainingError(f"unknown device {request!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError("device cuda was asked for, but CUDA is not available; use "
                                "--set train.device=cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank if world_size > 1 else 0)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise TrainingError(f"unsupported device {request!r}: use auto, cpu, cuda or cuda:N")
    return device


def setup_distributed(device: "torch.device") -> Distributed:
    """Join the torchrun process group (env://) when ``WORLD_SIZE`` > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    import torch.distributed as dist

    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(rank=dist.get_rank(), local_rank=int(os.environ.get("LOCAL_RANK", "0")),
                       world_size=dist.get_world_size(), owns_group=owns_group)


def resolve_amp(mode: str, device: "torch.device") -> "torch.dtype | None":
    """The autocast dtype of ``amp`` (auto, bf16, fp16, off) on ``device``; None: float32."""
    import torch

    if device.type != "cuda":
        if mode in ("bf16", "fp16"):
            logger.warning("amp=%s applies to CUDA only; training in float32 on %s", mode, device)
        return None
    if mode == "off":
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[mode]


def autocast(device: "torch.device", amp_dtype: "torch.dtype | None") -> Any:
    if amp_dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device.type, dtype=amp_dtype)
