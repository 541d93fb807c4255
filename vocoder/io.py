"""WaveNet weights on disk: ``wavenet.safetensors`` + ``wavenet.json`` (its config); no pickle."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from vocoder.model import VocoderError, WaveNet, WaveNetConfig

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "wavenet.safetensors"
CONFIG_NAME = "wavenet.json"


def save_wavenet(model: WaveNet, directory: str | Path,
                 storage_dtype: torch.dtype = torch.float32) -> Path:
    """Write the model's weights and config into ``directory`` (created if needed).

    ``storage_dtype=torch.float16`` halves the file; loading converts back to float32. A voice
    whose generation loop reads float16 weights anyway loses nothing by it.
    """
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
    # Write beside, then rename: an interrupted save never leaves a half-written checkpoint.
    weights_tmp = directory / (WEIGHTS_NAME + ".tmp")
    config_tmp = directory / (CONFIG_NAME + ".tmp")
    save_file(tensors, str(weights_tmp), metadata={"format": "pt", "model": "wavenet"})
    config_tmp.write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    weights_tmp.replace(directory / WEIGHTS_NAME)
    config_tmp.replace(directory / CONFIG_NAME)
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


def load_wavenet(path: str | Path, map_location: str | torch.device = "cpu") -> WaveNet:
    """Load a WaveNet saved by :func:`save_wavenet` (a directory or its .safetensors file).

    The tensors must match the config exactly; a mismatch names the first offending tensor.
    """
    weights_path, config_path = _resolve(Path(path))
    for needed in (weights_path, config_path):
        if not needed.is_file():
            raise VocoderError(f"WaveNet checkpoint incomplete: {needed} does not exist")
    try:
        config_values = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise VocoderError(f"{config_path}: not valid JSON ({exc})") from None
    return wavenet_from_config(config_values, weights_path, map_location, config_path.name)


def wavenet_from_config(config: dict | WaveNetConfig, weights_path: str | Path,
                        map_location: str | torch.device = "cpu",
                        config_name: str = "the config") -> WaveNet:
    """A WaveNet built from ``config`` (a WaveNetConfig or its ``to_dict()``) with the weights
    of a safetensors file; a tensor missing, unexpected or of the wrong shape is named."""
    weights_path = Path(weights_path)
    if isinstance(config, dict):
        config = WaveNetConfig.from_dict(config)
    elif not isinstance(config, WaveNetConfig):
        raise VocoderError(
            f"expected a JSON object of WaveNet config values, got {type(config).__name__}")
    model = WaveNet(config)
    if not weights_path.is_file():
        raise VocoderError(f"WaveNet weights {weights_path} do not exist")
    try:
        tensors = load_file(str(weights_path), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise VocoderError(f"{weights_path}: cannot read safetensors file ({exc})") from None

    expected = model.state_dict()
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
    for name, tensor in expected.items():
        if tuple(tensors[name].shape) != tuple(tensor.shape):
            raise VocoderError(
                f"{weights_path} does not match {config_name}: tensor {name!r} has shape "
                f"{tuple(tensors[name].shape)}, the config needs {tuple(tensor.shape)}")
        if not torch.isfinite(tensors[name]).all():
            raise VocoderError(f"{weights_path}: tensor {name!r} contains NaN/inf")
    model.load_state_dict(tensors)  # copies (and so converts float16 storage) into float32
    return model.to(map_location).eval()
