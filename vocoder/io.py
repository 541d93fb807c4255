"""WaveNet weights on disk: ``wavenet.safetensors`` + ``wavenet.json`` (its config); no pickle.

Two ways in: :func:`load_wavenet` / :func:`wavenet_from_config` build the torch ``WaveNet``
(training, export); :func:`load_wavenet_tensors` / :func:`read_wavenet_tensors` give the same
weights as checked float32 numpy arrays without importing torch, which is all that
``vocoder.generate.Generator.from_tensors`` (synthesis) needs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError

from tts_common.files import atomic_open
from vocoder.config import VocoderError, WaveNetConfig

if TYPE_CHECKING:
    import torch

    from vocoder.model import WaveNet

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "wavenet.safetensors"
CONFIG_NAME = "wavenet.json"


def save_wavenet(model: WaveNet, directory: str | Path,
                 storage_dtype: torch.dtype | None = None) -> Path:
    """Write the model's weights and config into ``directory`` (created if needed).

    ``storage_dtype=torch.float16`` halves the file; loading converts back to float32. A voice
    whose generation loop reads float16 weights anyway loses nothing by it. None: float32.
    """
    import torch
    from safetensors.torch import save

    storage_dtype = torch.float32 if storage_dtype is None else storage_dtype
    if storage_dtype not in (torch.float32, torch.float16):
        raise VocoderError(f"storage_dtype must be torch.float32 or torch.float16, got "
                           f"{storage_dtype}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            if storage_dtype == torch.float16 and tensor.abs().max() > torch.finfo(
                    torch.float16).max:
                raise VocoderError(f"tensor {name!r} exceeds the float16 range; store float32")
            tensor = tensor.to(storage_dtype)
        tensors[name] = tensor.contiguous()
    # Through tts_common.files: an interrupted save never leaves a half-written file, and the
    # files get the mode open() would give (safetensors' own save_file makes them 0600).
    with atomic_open(directory / WEIGHTS_NAME) as handle:
        handle.write(save(tensors, metadata={"format": "pt", "model": "wavenet"}))
    with atomic_open(directory / CONFIG_NAME, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(model.config.to_dict(), indent=2) + "\n")
    logger.info("saved WaveNet (%d parameters) to %s", model.num_parameters(), directory)
    return directory


def _resolve(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        return path / WEIGHTS_NAME, path / CONFIG_NAME
    if path.suffix == ".safetensors":
        beside = path.with_suffix(".json")
        return path, beside if beside.exists() else path.parent / CONFIG_NAME
    raise VocoderError(
        f"{path}: expected a directory holding {WEIGHTS_NAME} and {CONFIG_NAME}, "
        "or a .safetensors file with its JSON config beside it")


def _read_checkpoint_config(path: str | Path) -> tuple[dict, Path, Path]:
    """(config values, weights path, config path) of a :func:`save_wavenet` directory/file."""
    weights_path, config_path = _resolve(Path(path))
    for needed in (weights_path, config_path):
        if not needed.is_file():
            raise VocoderError(f"WaveNet checkpoint incomplete: {needed} does not exist")
    try:
        config_values = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise VocoderError(f"{config_path}: not valid JSON ({exc})") from None
    return config_values, weights_path, config_path


def load_wavenet(path: str | Path, map_location: str | torch.device = "cpu") -> WaveNet:
    """Load a WaveNet saved by :func:`save_wavenet` (a directory or its .safetensors file).

    The tensors must match the config exactly; a mismatch names the first offending tensor.
    """
    config_values, weights_path, config_path = _read_checkpoint_config(path)
    return wavenet_from_config(config_values, weights_path, map_location, config_path.name)


def load_wavenet_tensors(path: str | Path) -> tuple[WaveNetConfig, dict[str, np.ndarray]]:
    """:func:`load_wavenet` without torch: the config and the checked float32 numpy weights."""
    config_values, weights_path, config_path = _read_checkpoint_config(path)
    config = _as_config(config_values)
    return config, read_wavenet_tensors(config, weights_path, config_path.name)


def _as_config(config: dict | WaveNetConfig) -> WaveNetConfig:
    if isinstance(config, dict):
        return WaveNetConfig.from_dict(config)
    if not isinstance(config, WaveNetConfig):
        raise VocoderError(
            f"expected a JSON object of WaveNet config values, got {type(config).__name__}")
    return config


def wavenet_tensor_shapes(config: WaveNetConfig) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor in ``WaveNet(config).state_dict()``, without building it
    (tested against the torch model for every optional part)."""
    R, G, S, H = (config.residual_channels, config.gate_channels, config.skip_channels,
                  config.cond_hidden)
    Q, O, k, hop = (config.quantization_channels, config.output_channels, config.cond_kernel,
                    config.hop_length)
    shapes: dict[str, tuple[int, ...]] = {"input_embedding.weight": (Q, R)}

    def conditioning_network(prefix: str, blocks: int) -> None:
        shapes[f"{prefix}.input_conv.weight"] = (H, config.cond_channels, k)
        shapes[f"{prefix}.input_conv.bias"] = (H,)
        for block in range(blocks):
            shapes[f"{prefix}.blocks.{block}.weight"] = (H, H, k)
            shapes[f"{prefix}.blocks.{block}.bias"] = (H,)

    if config.cond_channels:
        conditioning_network("conditioning_network", config.cond_layers)
        shapes["upsampler.filter.weight"] = ((1, 1, 2 * hop + 1) if config.upsample == "repeat"
                                             else (1, 1, 2 * hop))
    if config.num_speakers:
        shapes["speaker_embedding.weight"] = (config.num_speakers, config.speaker_dim)
    for layer in range(config.layers):
        prefix = f"layers.{layer}"
        shapes[f"{prefix}.dilated_conv.weight"] = (G, R, 2)
        shapes[f"{prefix}.dilated_conv.bias"] = (G,)
        if config.cond_channels:
            shapes[f"{prefix}.cond_proj.weight"] = (G, H, 1)
        if config.num_speakers:
            shapes[f"{prefix}.speaker_proj.weight"] = (G, config.speaker_dim)
        shapes[f"{prefix}.skip_conv.weight"] = (S, G // 2, 1)
        shapes[f"{prefix}.skip_conv.bias"] = (S,)
        if layer < config.layers - 1:
            shapes[f"{prefix}.residual_conv.weight"] = (R, G // 2, 1)
            shapes[f"{prefix}.residual_conv.bias"] = (R,)
    shapes["head_hidden.weight"] = (O, S, 1)
    shapes["head_hidden.bias"] = (O,)
    shapes["head_out.weight"] = (Q, O, 1)
    shapes["head_out.bias"] = (Q,)
    if config.speaker_envelopes:
        shapes["speaker_mel_head.weight"] = (config.num_speakers, config.mel_bands, H)
        shapes["speaker_mel_head.bias"] = (config.num_speakers, config.mel_bands)
    elif config.lpc_order:
        shapes["mel_head.weight"] = (config.mel_bands, H, 1)
        shapes["mel_head.bias"] = (config.mel_bands,)
    if config.lpc_order and config.envelope_layers:
        conditioning_network("envelope_network", config.envelope_layers)
    return shapes


def _check_tensors(expected: dict[str, tuple[int, ...]], tensors: dict, weights_path: Path | str,
                   config_name: str, finite) -> None:
    """Every expected tensor present with its shape and finite, nothing else; else one clear
    error naming the first offender. ``finite(tensor)`` → bool, for numpy or torch tensors."""
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        raise VocoderError(
            f"{weights_path} does not match {config_name}: tensor {missing[0]!r} is missing "
            f"({len(missing)} missing); was it saved from a different config?")
    if unexpected:
        raise VocoderError(
            f"{weights_path} does not match {config_name}: unexpected tensor "
            f"{unexpected[0]!r} ({len(unexpected)} unexpected); was it saved from a different "
            "config?")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != tuple(shape):
            raise VocoderError(
                f"{weights_path} does not match {config_name}: tensor {name!r} has shape "
                f"{tuple(tensors[name].shape)}, the config needs {tuple(shape)}")
        if not finite(tensors[name]):
            raise VocoderError(f"{weights_path}: tensor {name!r} contains NaN/inf")


def read_wavenet_tensors(config: dict | WaveNetConfig, weights_path: str | Path,
                         config_name: str = "the config") -> dict[str, np.ndarray]:
    """The WaveNet weights of a safetensors file as float32 numpy arrays (float16 storage is
    widened, exactly as loading into the torch model does), checked against ``config`` like
    :func:`wavenet_from_config` checks them; no torch."""
    from safetensors.numpy import load_file

    config = _as_config(config)
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise VocoderError(f"WaveNet weights {weights_path} do not exist")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise VocoderError(f"{weights_path}: cannot read safetensors file ({exc})") from None
    check_wavenet_tensors(config, tensors, str(weights_path), config_name)
    return {name: np.asarray(array, np.float32) for name, array in tensors.items()}


def check_wavenet_tensors(config: WaveNetConfig, tensors: dict[str, np.ndarray],
                          source: str = "the tensors", config_name: str = "the config") -> None:
    """numpy weights that fit ``config`` exactly (names, shapes, finite), else a VocoderError."""
    _check_tensors(wavenet_tensor_shapes(config), tensors, source, config_name,
                   lambda array: bool(np.isfinite(array).all()))


def wavenet_from_config(config: dict | WaveNetConfig, weights_path: str | Path,
                        map_location: str | torch.device = "cpu",
                        config_name: str = "the config") -> WaveNet:
    """A WaveNet built from ``config`` (a WaveNetConfig or its ``to_dict()``) with the weights
    of a safetensors file; a tensor missing, unexpected or of the wrong shape is named."""
    import torch
    from safetensors.torch import load_file

    from vocoder.model import WaveNet

    weights_path = Path(weights_path)
    config = _as_config(config)
    model = WaveNet(config)
    if not weights_path.is_file():
        raise VocoderError(f"WaveNet weights {weights_path} do not exist")
    try:
        tensors = load_file(str(weights_path), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise VocoderError(f"{weights_path}: cannot read safetensors file ({exc})") from None

    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    _check_tensors(expected, tensors, weights_path, config_name,
                   lambda tensor: bool(torch.isfinite(tensor).all()))
    model.load_state_dict(tensors)  # copies (and so converts float16 storage) into float32
    return model.to(map_location).eval()
