"""The training harness (``tts_common.training``) and what the three trainers share through it:
the --set syntax, config files, the schedule, the checkpoint layout and its older formats, and
resuming. Tiny real runs on the tone corpus of test_vocoder_train and the synthetic prosody
corpus of test_prosody."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_checkpoint_integrity import _flip_tensor_bytes
from tests.test_prosody import TINY_DURATION, write_synthetic_corpus
from tests.test_vocoder_train import (REPO, read_log, state_equal, tiny_model_config,
                                      tiny_train_config, write_prepared_corpus)
from tts_common.checkpoints import read_checkpoint, write_checkpoint
from tts_common.training import (CHECKPOINT_NAME, TrainingError, checkpoint_state,
                                 learning_rate, load_training_checkpoint, parse_overrides,
                                 read_config_file, save_training_checkpoint, settings)
from vocoder.model import WAVENET_PARTS, WaveNet, WaveNetConfig, wavenet_part


@dataclass
class ModelSection:
    layers: int = 4
    dropout: float = 0.1
    output: int | None = None
    name: str = "a"


@dataclass
class TrainSection:
    lr: float = 1e-3
    max_steps: int = 10
    amp: bool = False
    freeze: list[str] = field(default_factory=list)
    name: str = "b"  # in both sections: must be written with its section


SECTIONS = {"model": ModelSection, "train": TrainSection}


# ----------------------------------------------------------------------------- --set and files
def test_set_takes_section_dot_key_and_unambiguous_bare_keys_typed_from_the_field():
    layer = parse_overrides(["model.layers=6", "lr=3e-4", "train.amp=true", "dropout=0",
                             "output=none", "freeze=envelope,conditioning", "model.name=x=y",
                             "train.freeze=[\"a\"]"], SECTIONS)
    assert layer == {"model": {"layers": 6, "dropout": 0.0, "output": None, "name": "x=y"},
                     "train": {"lr": 3e-4, "amp": True, "freeze": ["a"]}}
    assert isinstance(layer["model"]["dropout"], float)
    assert parse_overrides(["output=12", "amp=off"], SECTIONS) == {
        "model": {"output": 12}, "train": {"amp": False}}


@pytest.mark.parametrize("item, message", [
    ("learning_rate=1", r"^--set: unknown key 'learning_rate'; known keys: model.dropout, "
                        r"model.layers, model.name, model.output, train.amp, train.freeze, "
                        r"train.lr, train.max_steps, train.name$"),
    ("model.lr=1", r"unknown key 'model.lr'"),
    ("name=z", r"'name' is a key of model and train: write model.name or train.name"),
    ("layers=six", r"--set 'layers=six': model.layers must be int$"),
    ("amp=maybe", r"train.amp must be bool"),
    ("output=1.5", r"model.output must be int or none"),
    ("layers", r"--set expects section.key=value"),
])
def test_bad_set_items_are_one_line_naming_the_fix(item, message):
    with pytest.raises(TrainingError, match=message) as info:
        parse_overrides([item], SECTIONS)
    assert "\n" not in str(info.value)


def test_config_files_layer_under_set_and_over_the_checkpoint(tmp_path):
    first, second = tmp_path / "shape.json", tmp_path / "stage.json"
    first.write_text(json.dumps({"model": {"layers": 8, "dropout": 1}, "lr": 0.5}))
    second.write_text(json.dumps({"train": {"max_steps": 40}, "model": {"layers": 9}}))
    checkpoint = {"model_config": {"layers": 2, "name": "saved"},
                  "train_config": {"lr": 0.1, "max_steps": 20, "freeze": ["x"]}}
    values = settings(SECTIONS, checkpoint, [first, second], ["max_steps=50"],
                      base={"model": {"output": 3}})
    assert values == {"model": {"output": 3, "layers": 9, "dropout": 1.0, "name": "saved"},
                      "train": {"lr": 0.5, "max_steps": 50, "freeze": ["x"]}}
    assert isinstance(values["model"]["dropout"], float)  # a JSON 1 for a float field
    (tmp_path / "bad.json").write_text('{"model": {"layers": "8"}}')
    with pytest.raises(TrainingError, match=r"bad.json: model.layers must be int, got '8'"):
        read_config_file(tmp_path / "bad.json", SECTIONS)
    (tmp_path / "broken.json").write_text('{"model": ')
    with pytest.raises(TrainingError, match="broken.json is not valid JSON"):
        read_config_file(tmp_path / "broken.json", SECTIONS)
    with pytest.raises(TrainingError, match="cannot read config file .*missing.json"):
        read_config_file(tmp_path / "missing.json", SECTIONS)


def test_the_recipe_files_are_valid_settings_of_their_trainers():
    """recipes/demo's config files, read the way the trainers read them."""
    from frontend.prosody import DurationConfig, PitchConfig
    from frontend.prosody_train import ProsodyTrainConfig
    from tts_common.training import make_config
    from vocoder.envelope import EnvelopeTrainConfig
    from vocoder.train import WaveNetTrainConfig

    demo = REPO / "recipes" / "demo"
    trainers = {"duration": {"model": DurationConfig, "train": ProsodyTrainConfig},
                "pitch": {"model": PitchConfig, "train": ProsodyTrainConfig},
                "envelope": {"model": WaveNetConfig, "train": EnvelopeTrainConfig},
                "envelope_refined": {"model": WaveNetConfig, "train": EnvelopeTrainConfig},
                "wavenet": {"model": WaveNetConfig, "train": WaveNetTrainConfig},
                "wavenet_joint": {"model": WaveNetConfig, "train": WaveNetTrainConfig}}
    shape = read_config_file(demo / "wavenet_shape.json", trainers["wavenet"])
    assert shape["model"]["lpc_order"] == 24 and shape["model"]["cond_layers"] == 6
    for stage, sections in trainers.items():
        files = ([demo / "wavenet_shape.json"] if sections["model"] is WaveNetConfig else []) \
            + [demo / f"{stage}.json"]
        corpus_facts = {"model": {} if sections["model"] is WaveNetConfig else {"input_dim": 240}}
        values = settings(sections, None, files, base=corpus_facts)
        make_config(sections["model"], values["model"], stage)
        make_config(sections["train"], values["train"], stage)
    joint = settings(trainers["wavenet_joint"], None, [demo / "wavenet_joint.json"])
    assert joint["train"]["freeze"] == ["envelope"]


# ----------------------------------------------------------------------------- schedule
def test_the_schedule_warms_up_then_decays_to_min_lr_by_step_or_by_progress():
    @dataclass
    class Schedule:
        lr: float = 1e-3
        min_lr: float = 1e-5
        warmup_steps: int = 10
        max_steps: int = 110
        lr_schedule: str = "cosine"

    cosine = Schedule()
    rates = [learning_rate(cosine, s) for s in range(111)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:]))
    assert rates[60] == pytest.approx((1e-3 + 1e-5) / 2) and rates[110] == pytest.approx(1e-5)
    assert learning_rate(cosine, 500) == pytest.approx(1e-5)  # past the end: stays at min_lr
    exponential = Schedule(lr_schedule="exponential")
    assert learning_rate(exponential, 60) == pytest.approx(1e-4)
    assert learning_rate(Schedule(lr_schedule="constant"), 100) == 1e-3
    # A time budget: the share of it spent, not the step, moves the decay.
    assert learning_rate(cosine, 15, progress=0.5) == pytest.approx(rates[60])
    assert learning_rate(cosine, 5, progress=0.5) == pytest.approx(6e-4)  # still warming up
    assert learning_rate(Schedule(max_steps=5), 12) == 1e-3  # no room to decay


# ----------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_kind_check_and_a_corrupted_one(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    weights = {"w": torch.arange(50_000, dtype=torch.float32)}
    state = checkpoint_state("wavenet", 7, {"layers": 4}, {"lr": 1e-3}, weights,
                             {"state": {}, "param_groups": []}, ema=weights, extra_value=3)
    save_training_checkpoint(path, state)
    loaded = load_training_checkpoint(path, ("wavenet",))
    assert loaded.keys() == state.keys() and loaded["step"] == 7 and loaded["extra_value"] == 3
    assert torch.equal(loaded["model"]["w"], weights["w"])
    with pytest.raises(TrainingError, match=r"is a 'wavenet' checkpoint, not 'duration'"):
        load_training_checkpoint(path, ("duration",))
    _flip_tensor_bytes(path)
    with pytest.raises(TrainingError, match=f"{path} is damaged"):
        load_training_checkpoint(path, ("wavenet",))
    write_checkpoint(path, {"format": "someone-else/9", "weights": weights["w"]})
    with pytest.raises(TrainingError, match="not a training checkpoint of this version"):
        load_training_checkpoint(path, ("wavenet",))
    with pytest.raises(TrainingError, match="no training checkpoint at"):
        load_training_checkpoint(tmp_path / "none.pt", ("wavenet",))


def test_every_wavenet_tensor_belongs_to_one_named_part():
    configs = [tiny_model_config(),
               tiny_model_config(cond_channels=5, num_speakers=2),
               tiny_model_config(cond_channels=5, num_speakers=2, lpc_order=8, mel_bands=8,
                                 mel_fft=160, envelope_layers=2)]
    seen = set()
    for config in configs:
        for name in WaveNet(config).state_dict():
            seen.add(wavenet_part(name))
    assert seen == set(WAVENET_PARTS)


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> Path:
    prep = tmp_path_factory.mktemp("tones")
    write_prepared_corpus(prep, [30, 45, 6, 25], ["train", "train", "train", "valid"])
    return prep


def _legacy_wavenet(path: Path, **flags) -> None:
    """Rewrite a WaveNet checkpoint as vocoder.train wrote it before the harness."""
    state = read_checkpoint(path)
    train_config = {k: v for k, v in state["train_config"].items() if k not in ("init", "freeze")}
    old = {k: v for k, v in state.items() if k not in ("kind", "format")}
    old.update(format="wavenet-tts/train-checkpoint/1", train_config={
        **train_config, "init_from": "", "freeze_conditioning": False, "envelope_from": "",
        "freeze_envelope": False, **flags})
    write_checkpoint(path, old)


def test_a_wavenet_checkpoint_of_the_previous_format_resumes(tones, tmp_path):
    from vocoder.train import build_configs, load_checkpoint, train

    excitation = tiny_model_config(lpc_order=8, mel_bands=8, mel_fft=160)
    train(tiny_train_config(tones, tmp_path, max_steps=2, freeze=["conditioning", "envelope"]),
          excitation)
    _legacy_wavenet(tmp_path / CHECKPOINT_NAME, freeze_conditioning=True,
                    init_from="exp/old/checkpoint.pt")
    converted = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert converted["kind"] == "wavenet"
    assert converted["train_config"]["freeze"] == ["conditioning", "envelope"]
    assert converted["train_config"]["init"] == ["all:exp/old/checkpoint.pt"]
    train_config, _ = build_configs(str(tones), str(tmp_path), (), ["max_steps=4"])
    assert train_config.freeze == ["conditioning", "envelope"] and train_config.lr == 3e-3
    before = converted["model"]
    result = train(train_config, excitation)  # the frozen parts stay frozen on resuming
    assert result.step == 4
    after = result.model.state_dict()
    assert torch.equal(after["mel_head.weight"], before["wavenet.mel_head.weight"])
    assert not torch.equal(after["layers.0.dilated_conv.weight"],
                           before["wavenet.layers.0.dilated_conv.weight"])


def test_an_envelope_checkpoint_of_the_previous_format_is_done_or_a_clear_error(tones, tmp_path):
    from vocoder.envelope import EnvelopeTrainConfig, pretrain
    from vocoder.train import corpus_model_config

    config = corpus_model_config(tiny_model_config(lpc_order=8, mel_bands=8, mel_fft=160),
                                 str(tones))
    model = {f"wavenet.{k}": v for k, v in WaveNet(config).state_dict().items()}
    history = [{"step": 0, "valid_l1": 2.0}, {"step": 40, "valid_l1": 1.0, "elapsed_s": 60.5}]
    write_checkpoint(tmp_path / CHECKPOINT_NAME, {
        "format": "wavenet-tts/train-checkpoint/1", "step": 0, "ema": model, "model": model,
        "model_config": config.to_dict(), "mel_bands": 0, "envelope_history": history})
    summary = pretrain(tones, tmp_path, EnvelopeTrainConfig(minutes=1.0), config)
    assert summary == {"steps": 40, "history": history}  # its budget is spent: nothing to do
    with pytest.raises(TrainingError, match=r"older vocoder.envelope.*--set "
                                            r"train.init=all:.*checkpoint.pt"):
        pretrain(tones, tmp_path, EnvelopeTrainConfig(minutes=2.0), config)


def test_a_prosody_checkpoint_of_the_previous_format_resumes(tmp_path):
    from frontend.prosody_train import ProsodyTrainConfig, train

    write_synthetic_corpus(tmp_path / "prep")
    overrides = [f"{k}={v}" for k, v in TINY_DURATION.items()]
    config = ProsodyTrainConfig(max_steps=4, batch_size=4, warmup_steps=1, eval_every=2,
                                log_every=2)
    train("duration", tmp_path / "prep", tmp_path / "exp", config, overrides)
    path = tmp_path / "exp" / "duration" / CHECKPOINT_NAME
    state = read_checkpoint(path)
    write_checkpoint(path, {  # as frontend.prosody_train wrote it before the harness
        "model": state["model"], "optimizer": state["optimizer"], "step": state["step"],
        "best": state["best"], "model_config": state["model_config"],
        "train_config": {"steps": 4, "batch_size": 4, "lr": 2e-3, "min_lr_ratio": 0.05,
                         "warmup_steps": 1, "weight_decay": 1e-4, "grad_clip": 1.0,
                         "unvoiced_weight": 0.3, "valid_every": 2, "log_every": 2, "seed": 0,
                         "threads": 1}})
    train("duration", tmp_path / "prep", tmp_path / "exp", overrides=["train.max_steps=6"])
    resumed = load_training_checkpoint(path, ("duration",))
    assert resumed["step"] == 6 and resumed["kind"] == "duration"
    assert resumed["train_config"]["min_lr"] == pytest.approx(1e-4)
    assert resumed["train_config"]["eval_every"] == 2


# ----------------------------------------------------------------------------- resuming
def test_a_prosody_run_resumed_at_n_steps_equals_an_uninterrupted_2n_run(tmp_path):
    from frontend.prosody_train import ProsodyTrainConfig, train

    write_synthetic_corpus(tmp_path / "prep")
    overrides = [f"{k}={v}" for k, v in TINY_DURATION.items()]

    def run(exp: str, steps: int) -> None:
        train("duration", tmp_path / "prep", tmp_path / exp, ProsodyTrainConfig(
            max_steps=steps, batch_size=4, warmup_steps=2, eval_every=3, log_every=1,
            lr=1e-2, lr_schedule="constant"), overrides)  # (dropout 0.2: the RNG resumes too)

    run("full", 6)
    run("split", 3)
    run("split", 6)
    full = load_training_checkpoint(tmp_path / "full" / "duration" / CHECKPOINT_NAME,
                                    ("duration",))
    split = load_training_checkpoint(tmp_path / "split" / "duration" / CHECKPOINT_NAME,
                                     ("duration",))
    assert full["step"] == split["step"] == 6 and state_equal(full["model"], split["model"])

    def train_losses(exp: str) -> list[float]:
        log = (tmp_path / exp / "duration" / "log.jsonl").read_text().splitlines()
        return [json.loads(line)["loss"] for line in log if '"event": "train"' in line]

    assert train_losses("split") == train_losses("full") and len(train_losses("full")) == 6


def _envelope_command(prep: Path, out: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "vocoder.envelope", "--prep", str(prep), "--out", str(out),
            "--set", "model.lpc_order=8", "--set", "mel_bands=8", "--set", "mel_fft=160",
            "--set", "cond_hidden=8", "--set", "cond_layers=1", "--set", "cond_kernel=3",
            "--set", "layers=2", "--set", "residual_channels=4", "--set", "gate_channels=4",
            "--set", "skip_channels=4", "--set", "envelope_layers=1",
            "--set", "train.minutes=30", "--set", f"train.max_steps={steps}",
            "--set", "batch_size=4", "--set", "lr=1e-2", "--set", "num_threads=1",
            "--set", "eval_every=5", "--set", "ckpt_every=1"]


@pytest.mark.slow
def test_an_envelope_run_killed_and_resumed_equals_an_uninterrupted_one(tones, tmp_path):
    """SIGKILL at any moment loses at most the steps since the last checkpoint: the run resumed
    to 2N steps has the weights and optimizer state of one that ran 2N steps at once."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(_envelope_command(tones, full, 40), cwd=REPO, env=env, check=True,
                   capture_output=True)
    process = subprocess.Popen(_envelope_command(tones, killed, 40), cwd=REPO, env=env,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not ((killed / "log.jsonl").exists()
                   and '"step": 3, "path"' in (killed / "log.jsonl").read_text()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    interrupted_at = load_training_checkpoint(killed / CHECKPOINT_NAME, ("envelope",))["step"]
    assert 3 <= interrupted_at < 40
    subprocess.run(_envelope_command(tones, killed, 40), cwd=REPO, env=env, check=True,
                   capture_output=True)
    a = load_training_checkpoint(full / CHECKPOINT_NAME, ("envelope",))
    b = load_training_checkpoint(killed / CHECKPOINT_NAME, ("envelope",))
    assert a["step"] == b["step"] == 40 and state_equal(a["model"], b["model"])
    for state_a, state_b in zip(a["optimizer"]["state"].values(),
                                b["optimizer"]["state"].values()):
        assert state_equal(state_a, state_b)
    assert [e["step"] for e in read_log(killed) if e["event"] == "start"][1] == interrupted_at
    assert math.isfinite(a["history"][-1]["valid_l1"])


def test_a_finished_envelope_run_resumes_to_a_larger_budget_and_refuses_another_shape(
        tones, tmp_path):
    from vocoder.envelope import EnvelopeTrainConfig, pretrain

    shape = tiny_model_config(lpc_order=8, mel_bands=8, mel_fft=160)
    config = EnvelopeTrainConfig(minutes=30, max_steps=3, batch_size=4, num_threads=1)
    assert pretrain(tones, tmp_path, config, shape)["steps"] == 3
    assert pretrain(tones, tmp_path, config, shape)["steps"] == 3  # done: nothing to do
    longer = EnvelopeTrainConfig(minutes=30, max_steps=5, batch_size=4, num_threads=1)
    assert pretrain(tones, tmp_path, longer, shape)["steps"] == 5
    with pytest.raises(TrainingError, match=r"another model config \(cond_hidden 8 in the "
                                            r"checkpoint, 16 now\)"):
        pretrain(tones, tmp_path, longer, tiny_model_config(lpc_order=8, mel_bands=8,
                                                            mel_fft=160, cond_hidden=16))


def test_the_harness_imports_no_torch():
    code = ("import sys, tts_common.training, tts_common.checkpoints; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_torch_and_numpy_log_mel_are_one_definition():
    """vocoder.train.MelSpectrogram is vocoder.lpc.log_mel in torch: the same filterbank
    function, framing and floor, for a window wider than the hop and audio too short to
    reflect, with a silent stretch at the floor."""
    from vocoder.lpc import LOG_MEL_FLOOR, log_mel, mel_basis
    from vocoder.train import MelSpectrogram

    rng = np.random.default_rng(0)
    for frames, n_fft, bands in ((12, 400, 20), (1, 400, 8), (30, 160, 8)):
        audio = (0.1 * rng.standard_normal(frames * 80)).astype(np.float32)
        audio[: 2 * 80] = 0.0 if frames > 4 else audio[: 2 * 80]
        expected = log_mel(audio, mel_basis(16000, n_fft, bands), 80)
        got = MelSpectrogram(16000, 80, n_fft, bands)(torch.from_numpy(audio)[None])[0]
        np.testing.assert_allclose(got.numpy(), expected, atol=2e-4)
        assert expected.min() >= math.log(LOG_MEL_FLOOR) - 1e-9


def test_a_run_starts_from_a_released_voice(tiny_voice, tiny_prepared, tmp_path):
    """``train.init=all:VOICE_DIR`` takes the voice's WaveNet (float16 storage widened), so a
    shipped voice can be trained on after its checkpoints are gone; a directory that is neither
    a voice nor a run is one clear error."""
    from tts.voice import read_voice
    from vocoder.io import read_wavenet_tensors
    from vocoder.train import TrainingModel, transfer_weights

    voice = read_voice(tiny_voice)
    expected = read_wavenet_tensors(voice.model_config("wavenet"), voice.weights_path("wavenet"))
    model = TrainingModel(WaveNet(WaveNetConfig.from_dict(voice.model_config("wavenet"))), 0, 0)
    assert len(transfer_weights(model, f"all:{tiny_voice}")) == len(expected)
    for name, value in model.wavenet.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[name], err_msg=name)
    with pytest.raises(TrainingError, match=r"without voice.json: give a training checkpoint"):
        transfer_weights(model, f"all:{tmp_path}")


@pytest.mark.parametrize("wavenet_from", ["run", "voice"])
def test_a_voice_exported_with_the_models_of_another_voice(tiny_voice, tiny_prepared, tmp_path,
                                                           wavenet_from):
    """``export_voice(prosody_exp=VOICE_DIR)`` ships a newly trained WaveNet with that voice's
    duration and F0 models exactly as they are; ``wavenet_exp=VOICE_DIR`` takes its WaveNet
    (e.g. with envelope heads fitted since) as it is."""
    from tts.voice import VoiceError, export_voice, read_voice

    source = read_voice(tiny_voice)
    wavenet = tiny_voice.parent / "wavenet" if wavenet_from == "run" else tiny_voice
    out = read_voice(export_voice(tiny_prepared, tiny_voice, wavenet, tmp_path / "voice",
                                  measure_levels=False))
    kinds = ("duration", "pitch") if wavenet_from == "run" else ("duration", "pitch", "wavenet")
    if wavenet_from == "voice":
        with pytest.raises(VoiceError, match="--envelope grafts onto a trained run's WaveNet"):
            export_voice(tiny_prepared, tiny_voice, tiny_voice, tmp_path / "other",
                         envelope_exp=tiny_voice.parent / "wavenet", measure_levels=False)
        assert not (tmp_path / "other").exists()
    for kind in kinds:
        assert out.model_config(kind) == source.model_config(kind)
        expected, actual = source.tensors(kind), out.tensors(kind)
        assert expected.keys() == actual.keys()
        for name in expected:
            np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
