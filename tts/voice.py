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

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
VOICE_JSON = "voice.json"
WEIGHT_FILES = {
    "duration": "duration.safetensors",
    "pitch": "pitch.safetensors",
    "wavenet": "wavenet.safetensors",
}
DEFAULT_VOICE_NAME = "default"


class VoiceError(ValueError):
    """A voice directory that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Speaker:
    id: str
    index: int
    gender: str = ""
    age: str = ""
    accent: str = ""
    region: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "index": self.index, "gender": self.gender, "age": self.age,
            "accent": self.accent, "region": self.region, "source": self.source,
        }


def bundled_voice_dir() -> Path:
    """The default voice shipped inside the installed package."""
    return Path(str(resources.files("tts").joinpath("voices", DEFAULT_VOICE_NAME)))


@dataclass(frozen=True)
class VoiceSpec:
    """The parsed, validated ``voice.json`` of a voice directory (no weights loaded yet)."""

    directory: Path
    data: dict[str, Any]

    @property
    def sample_rate(self) -> int:
        return int(self.data["sample_rate"])

    @property
    def hop_length(self) -> int:
        return int(self.data["hop_length"])

    @property
    def speakers(self) -> list[Speaker]:
        return [Speaker(**{k: v for k, v in s.items() if k in Speaker.__dataclass_fields__})
                for s in self.data["speakers"]]

    @property
    def frontend(self) -> dict[str, Any]:
        return self.data["frontend"]

    @property
    def conditioning(self) -> dict[str, Any]:
        return self.data["conditioning"]

    @property
    def synthesis(self) -> dict[str, Any]:
        return self.data.get("synthesis", {})

    def model_config(self, kind: str) -> dict[str, Any]:
        return self.data["models"][kind]

    def weights_path(self, kind: str) -> Path:
        return self.directory / WEIGHT_FILES[kind]


_REQUIRED_KEYS = ("format_version", "sample_rate", "hop_length", "frontend", "conditioning",
                  "speakers", "models")


def read_voice(directory: str | Path) -> VoiceSpec:
    """Parse and check ``directory/voice.json`` and that every weights file is present."""
    directory = Path(directory)
    if not directory.exists():
        raise VoiceError(f"voice directory not found: {directory}")
    if not directory.is_dir():
        raise VoiceError(f"{directory} is not a directory: pass a voice directory with {VOICE_JSON}")
    path = directory / VOICE_JSON
    if not path.is_file():
        raise VoiceError(f"{path} is missing: {directory} is not a voice directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VoiceError(f"{path} is corrupt (not valid JSON: {exc}); re-export the voice") from None
    if not isinstance(data, dict):
        raise VoiceError(f"{path} is corrupt: expected a JSON object")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise VoiceError(f"{path} lacks {', '.join(missing)}; re-export the voice")
    if data["format_version"] != FORMAT_VERSION:
        raise VoiceError(f"{path} has format_version {data['format_version']!r}; this version of "
                         f"tts reads format {FORMAT_VERSION}: upgrade tts or re-export the voice")
    speakers = data["speakers"]
    if (not isinstance(speakers, list) or not speakers
            or any(not isinstance(s, dict) or "id" not in s or "index" not in s for s in speakers)):
        raise VoiceError(f"{path}: 'speakers' must be a non-empty list of objects with id and index")
    if sorted(s["index"] for s in speakers) != list(range(len(speakers))):
        raise VoiceError(f"{path}: speaker indices must be 0..{len(speakers) - 1}")
    for kind in WEIGHT_FILES:
        if kind not in data["models"]:
            raise VoiceError(f"{path}: no hyperparameters for the {kind} model under 'models'")
        if not (directory / WEIGHT_FILES[kind]).is_file():
            raise VoiceError(f"{directory / WEIGHT_FILES[kind]} is missing: the voice is incomplete")
    return VoiceSpec(directory=directory, data=data)


def write_voice(directory: str | Path, data: dict[str, Any], weights: dict[str, Path]) -> Path:
    """Write a voice directory atomically: everything goes to a sibling temp dir, then renamed.

    ``weights`` maps each model kind to a safetensors file to copy in.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for kind, name in WEIGHT_FILES.items():
            shutil.copyfile(weights[kind], staging / name)
        payload = {"format_version": FORMAT_VERSION, **data}
        (staging / VOICE_JSON).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        read_voice(staging)  # never publish a voice we could not read back
        if directory.exists():
            old = directory.with_name(directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
            os.replace(staging, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def export_voice(prep_dir: str | Path, prosody_exp: str | Path, wavenet_exp: str | Path,
                 out_dir: str | Path, *, name: str = "voice", temperature: float = 1.0,
                 description: str = "", weights_dtype: str = "float16",
                 envelope_exp: str | Path | None = None) -> Path:
    """Assemble a voice directory from a prepared corpus and trained checkpoints.

    ``prosody_exp``: the experiment directory of ``python -m frontend.prosody_train`` (its best
    duration and F0 models are taken). ``wavenet_exp``: that of ``python -m vocoder.train``
    (its EMA weights are taken). Training checkpoints stay where they are; only safetensors
    weights and JSON go into the voice. ``weights_dtype`` is the precision the generation loop
    reads the WaveNet weights in ("float16" or "float32"; the math is float32 either way).
    ``envelope_exp``: an excitation-mode WaveNet's envelope network from that run of
    ``python -m vocoder.envelope --set envelope_layers=N`` instead of its own.
    """
    import torch

    from frontend.conditioning import conditioning_channels
    from frontend.phonemes import inventory
    from frontend.prosody_train import export_prosody
    from vocoder.train import export_ema

    if weights_dtype not in ("float16", "float32"):
        raise VoiceError(f"weights_dtype must be float16 or float32, got {weights_dtype!r}")
    prep = Path(prep_dir)
    try:
        speakers = json.loads((prep / "speakers.json").read_text())["speakers"]
        stats = json.loads((prep / "stats.json").read_text())
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise VoiceError(f"{prep} is not a prepared corpus (speakers.json/stats.json: {exc})") from None
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.export.") as tmp:
        staging = Path(tmp)
        export_prosody(prosody_exp, staging)
        # Stored as the generation loop reads it: float16 halves the voice (15 → 7 MB).
        storage = torch.float16 if weights_dtype == "float16" else torch.float32
        wavenet = export_ema(wavenet_exp, staging, storage, envelope_exp)
        models = {
            "duration": json.loads((staging / "duration.json").read_text()),
            "pitch": json.loads((staging / "pitch.json").read_text()),
            "wavenet": wavenet.config.to_dict(),
        }
        data = {
            "name": name,
            "description": description,
            "language": "en-us",
            "sample_rate": wavenet.config.sample_rate,
            "hop_length": wavenet.config.hop_length,
            "frontend": {"backend": "cmudict", "language": "en-us",
                         "phoneme_inventory": inventory()},
            "conditioning": {"channels": conditioning_channels(),
                             "log_f0_mean": float(stats["log_f0"]["mean"]),
                             "log_f0_std": float(stats["log_f0"]["std"])},
            "stats": stats,
            "speakers": [{key: s.get(key, "") for key in
                          ("id", "index", "gender", "age", "accent", "region", "source")}
                         for s in speakers],
            "models": models,
            # float16 weights halve the memory traffic of the generation loop (rtf 0.66 vs
            # 1.04 for 20 layers, 64/128 channels; benchmarks/vocoder_speed.py --weights).
            "synthesis": {"temperature": temperature, "sentence_pause_s": 0.15,
                          "weights_dtype": weights_dtype},
        }
        weights = {kind: staging / file for kind, file in WEIGHT_FILES.items()}
        return write_voice(out, data, weights)
