"""Training checkpoints: a SHA-256 verified on load, missing keys and non-finite EMA refused."""

from __future__ import annotations

import logging
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import torch

from tts_common.checkpoints import CheckpointError, read_checkpoint, write_checkpoint
from vocoder.model import WaveNetConfig
from vocoder.train import (CHECKPOINT_NAME, TrainingError, WaveNetTrainConfig, export_ema,
                           train)


def _flip_tensor_bytes(path: Path, count: int = 64) -> None:
    """Invert ``count`` bytes in the middle of the largest tensor stored in a torch zip file."""
    with zipfile.ZipFile(path) as archive:
        entry = max((i for i in archive.infolist() if "/data/" in i.filename),
                    key=lambda i: i.file_size)
    with open(path, "r+b") as handle:
        handle.seek(entry.header_offset)
        header = handle.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start = entry.header_offset + 30 + name_length + extra_length + entry.file_size // 2
        handle.seek(start)
        data = handle.read(count)
        handle.seek(start)
        handle.write(bytes(b ^ 0xFF for b in data))


@pytest.fixture
def wavenet_exp(tiny_voice: Path, tmp_path: Path) -> Path:
    """A copy of the tiny voice's WaveNet training run (conftest), free to damage."""
    return Path(shutil.copytree(tiny_voice.parent / "wavenet", tmp_path / "wavenet"))


def test_flipped_bytes_in_tensor_data_are_an_error_naming_the_file(wavenet_exp, tmp_path):
    path = wavenet_exp / CHECKPOINT_NAME
    export_ema(wavenet_exp, tmp_path / "ok")  # intact: exports
    _flip_tensor_bytes(path)
    with pytest.raises(TrainingError, match=f"{path} is damaged"):
        export_ema(wavenet_exp, tmp_path / "voice")
    assert not (tmp_path / "voice").exists()


def test_damaged_generic_checkpoint_and_old_ones_without_digest(tmp_path, caplog):
    path = tmp_path / "state.pt"
    state = {"weights": torch.arange(100_000, dtype=torch.float32), "step": 3}
    write_checkpoint(path, state)
    assert torch.equal(read_checkpoint(path)["weights"], state["weights"])
    _flip_tensor_bytes(path)
    with pytest.raises(CheckpointError, match="damaged"):
        read_checkpoint(path)
    old = tmp_path / "old.pt"
    torch.save(state, old)  # as written before checkpoints had digests
    with caplog.at_level(logging.WARNING):
        assert read_checkpoint(old)["step"] == 3
    assert "has no SHA-256" in caplog.text


def _rewrite(path: Path, change) -> None:
    state = read_checkpoint(path)
    change(state)
    write_checkpoint(path, state)


def test_checkpoint_without_model_key_is_a_clear_error(wavenet_exp, tiny_prepared):
    _rewrite(wavenet_exp / CHECKPOINT_NAME, lambda state: state.pop("model"))
    config = WaveNetTrainConfig(prep_dir=str(tiny_prepared), out_dir=str(wavenet_exp),
                                batch_size=2, window_frames=8, max_steps=6, warmup_steps=1,
                                eval_every=4, ckpt_every=4, log_every=2, val_windows=2,
                                aux_mel_bands=16, num_threads=1)
    model = WaveNetConfig(layers=4, stacks=2, residual_channels=8, gate_channels=16,
                          skip_channels=16, cond_hidden=16, cond_layers=1, speaker_dim=4)
    with pytest.raises(TrainingError, match="has no 'model'"):
        train(config, model)


def test_non_finite_ema_weights_are_refused_at_export(wavenet_exp, tmp_path):
    def poison(state: dict) -> None:
        name = next(k for k, v in state["ema"].items() if k.startswith("wavenet.")
                    and v.is_floating_point())
        state["ema"][name].view(-1)[0] = float("nan")

    _rewrite(wavenet_exp / CHECKPOINT_NAME, poison)
    with pytest.raises(TrainingError, match="EMA weights are not finite"):
        export_ema(wavenet_exp, tmp_path / "voice")
    assert not (tmp_path / "voice").exists()
