"""WaveNet training: windows, loss, resumable checkpoints, EMA export, DDP (gloo, 2 processes).

Everything runs on a tiny prepared corpus written here in the corpus contract's format (sine
tones whose pitch depends on the speaker, with pauses), and a 4-layer, 8-channel WaveNet.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.multiprocessing as mp

from vocoder.data import IGNORE_INDEX, DatasetError, StepBatchSampler, WaveNetDataset
from vocoder.model import WaveNet, WaveNetConfig, teacher_forcing_inputs
from vocoder.mulaw import mulaw_encode, silence_class
from tts_common.training import learning_rate, load_training_checkpoint
from vocoder.train import (CHECKPOINT_NAME, LOG_NAME, MelSpectrogram, TrainingError,
                           TrainingModel, WaveNetTrainConfig, build_configs, conditioning_reach,
                           export_ema, load_checkpoint, main, save_checkpoint, train)

HOP = 80
SR = 16000
COND_CHANNELS = 5
SPEAKER_HZ = {"spk_a": 220.0, "spk_b": 330.0}
REPO = Path(__file__).resolve().parents[1]


def tiny_model_config(**overrides) -> WaveNetConfig:
    values = dict(layers=4, stacks=2, residual_channels=8, gate_channels=16, skip_channels=8,
                  cond_hidden=8, cond_layers=1, cond_kernel=3, speaker_dim=4)
    values.update(overrides)
    return WaveNetConfig(**values)


def tiny_train_config(prep: Path, out: Path, **overrides) -> WaveNetTrainConfig:
    values = dict(prep_dir=str(prep), out_dir=str(out), batch_size=2, window_frames=8,
                  max_steps=4, warmup_steps=2, lr=3e-3, log_every=1, eval_every=2, ckpt_every=2,
                  val_windows=4, aux_mel_bands=8, aux_mel_fft=160, num_threads=1)
    values.update(overrides)
    return WaveNetTrainConfig(**values)


def write_prepared_corpus(prep: Path, frames_per_utt: list[int], splits: list[str] | None = None,
                          ragged: bool = True) -> None:
    """A prepared corpus in the contract's layout: per speaker tones with a pause in the middle.

    ``ragged``: the last frame of each wav is partial (the framing convention pads it).
    """
    prep.mkdir(parents=True, exist_ok=True)
    speakers = sorted(SPEAKER_HZ)
    (prep / "speakers.json").write_text(json.dumps({"speakers": [
        {"id": s, "index": i, "gender": "F", "age": "", "accent": "", "region": "", "source": ""}
        for i, s in enumerate(speakers)]}))
    (prep / "stats.json").write_text(json.dumps({
        "hop_length": HOP, "sample_rate": SR, "cond_channels": COND_CHANNELS,
        "num_utterances": len(frames_per_utt) * len(speakers), "hours": 0.0}))
    splits = splits or ["train"] * len(frames_per_utt)
    rng = np.random.default_rng(7)
    lines = []
    for speaker_index, speaker in enumerate(speakers):
        for k, (num_frames, split) in enumerate(zip(frames_per_utt, splits)):
            utt_id = f"{speaker}_{k:03d}"
            num_samples = num_frames * HOP - (37 if ragged else 0)
            hz = SPEAKER_HZ[speaker] * (1.0 + 0.1 * k)
            t = np.arange(num_samples) / SR
            voiced = np.ones(num_frames, np.float32)
            voiced[num_frames // 2:num_frames // 2 + 3] = 0.0  # a pause
            audio = 0.5 * np.sin(2 * np.pi * hz * t) * np.repeat(voiced, HOP)[:num_samples]
            audio += 0.003 * rng.standard_normal(num_samples)  # near-silence is not silence
            cond = np.stack([
                voiced * (hz - 275.0) / 60.0, voiced,
                np.linspace(0.0, 1.0, num_frames), np.cos(np.arange(num_frames) / 3.0),
                np.full(num_frames, speaker_index - 0.5)], axis=1).astype(np.float32)
            for sub, array in (("wav", None), ("cond", cond)):
                (prep / sub / speaker).mkdir(parents=True, exist_ok=True)
            sf.write(prep / "wav" / speaker / f"{utt_id}.wav", audio, SR, subtype="PCM_16")
            np.save(prep / "cond" / speaker / f"{utt_id}.npy", cond)
            lines.append(json.dumps({
                "utt_id": utt_id, "speaker": speaker, "speaker_index": speaker_index,
                "split": split, "text": "la", "num_samples": num_samples,
                "num_frames": num_frames, "duration_s": num_samples / SR,
                "wav": f"wav/{speaker}/{utt_id}.wav", "align": "", "phone_feats": "", "f0": "",
                "cond": f"cond/{speaker}/{utt_id}.npy"}))
    (prep / "manifest.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    prep = tmp_path_factory.mktemp("prep")
    write_prepared_corpus(prep, [30, 45, 6, 25], ["train", "train", "train", "valid"])
    return prep


def read_log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / LOG_NAME).read_text().splitlines()]


def state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------- data
def test_windows_follow_the_teacher_forcing_shift_and_the_framing(corpus):
    dataset = WaveNetDataset(corpus, "train", window_frames=8, context_frames=2)
    assert len(dataset.utterances) == 6 and dataset.num_speakers == 2
    utt_index = next(i for i, u in enumerate(dataset.utterances) if u.utt_id == "spk_b_001")
    utt = dataset.utterances[utt_index]
    audio, _ = sf.read(corpus / "wav" / "spk_b" / "spk_b_001.wav", dtype="float32")
    padded = np.zeros(utt.num_frames * HOP, np.float32)
    padded[:len(audio)] = audio
    classes = mulaw_encode(padded)
    cond = np.load(corpus / "cond" / "spk_b" / "spk_b_001.npy")

    window = dataset.window(utt_index, start_frame=10)
    start = 10 * HOP
    np.testing.assert_array_equal(window["targets"].numpy(), classes[start:start + 8 * HOP])
    np.testing.assert_array_equal(window["inputs"].numpy(), classes[start - 1:start + 8 * HOP - 1])
    np.testing.assert_allclose(window["features"].numpy(), cond[8:20], atol=2e-3)  # float16
    assert window["speaker"].item() == 1

    first = dataset.window(utt_index, start_frame=0)
    assert first["inputs"][0].item() == silence_class()  # nothing precedes the utterance
    np.testing.assert_array_equal(first["features"][:2].numpy(), 0.0)  # context before frame 0
    last = dataset.window(utt_index, start_frame=utt.num_frames - 8)
    np.testing.assert_array_equal(last["features"][-2:].numpy(), 0.0)
    np.testing.assert_array_equal(last["targets"].numpy(), classes[-8 * HOP:])  # incl. padding


def test_short_utterances_are_padded_and_padding_is_ignored(corpus):
    dataset = WaveNetDataset(corpus, "train", window_frames=8)
    utt_index = next(i for i, u in enumerate(dataset.utterances) if u.num_frames == 6)
    window = dataset.window(utt_index, 0)
    targets = window["targets"].numpy()
    assert (targets[:6 * HOP] >= 0).all() and (targets[6 * HOP:] == IGNORE_INDEX).all()
    np.testing.assert_array_equal(window["features"][6:].numpy(), 0.0)


def test_windows_are_a_function_of_seed_and_index_only(corpus):
    a = WaveNetDataset(corpus, "train", window_frames=8, seed=3)
    b = WaveNetDataset(corpus, "train", window_frames=8, seed=3)
    c = WaveNetDataset(corpus, "train", window_frames=8, seed=4)
    assert torch.equal(a[17]["targets"], b[17]["targets"])
    starts = {tuple(a[i]["targets"][:40].tolist()) for i in range(20)}
    assert len(starts) > 10  # random windows, not one
    assert any(not torch.equal(a[i]["targets"], c[i]["targets"]) for i in range(5))
    # Ranks take disjoint windows; a resumed sampler continues where a full one would be.
    full = list(StepBatchSampler(0, 6, 2, rank=1, world_size=2))
    assert list(StepBatchSampler(4, 6, 2, rank=1, world_size=2)) == full[4:]
    rank0 = {i for batch in StepBatchSampler(0, 6, 2, 0, 2) for i in batch}
    assert rank0.isdisjoint({i for batch in full for i in batch})


def test_a_broken_corpus_is_a_clear_error(tmp_path):
    write_prepared_corpus(tmp_path / "p", [10])
    np.save(tmp_path / "p" / "cond" / "spk_a" / "spk_a_000.npy", np.zeros((9, COND_CHANNELS)))
    with pytest.raises(DatasetError, match=r"spk_a_000.npy has shape \(9, 5\), expected \(10, 5\)"):
        WaveNetDataset(tmp_path / "p")
    with pytest.raises(DatasetError, match="stats.json not found.*prepared corpus directory"):
        WaveNetDataset(tmp_path)
    (tmp_path / "p" / "manifest.jsonl").unlink()  # preparation still running, or it failed
    with pytest.raises(DatasetError, match="manifest.jsonl not found.*corpus preparation"):
        WaveNetDataset(tmp_path / "p")


# ----------------------------------------------------------------------------- model pieces
@pytest.mark.parametrize("upsample", ["repeat", "transposed"])
def test_a_window_with_context_sees_what_the_whole_utterance_sees(corpus, upsample):
    """The window's conditioning and shift agree with WaveNet.forward on the whole utterance."""
    config = tiny_model_config(cond_channels=COND_CHANNELS, num_speakers=2, cond_layers=2,
                               upsample=upsample)
    torch.manual_seed(0)
    wavenet = WaveNet(config).eval()
    context = conditioning_reach(config)
    dataset = WaveNetDataset(corpus, "train", window_frames=8, context_frames=context)
    utt_index = next(i for i, u in enumerate(dataset.utterances) if u.utt_id == "spk_a_001")
    utt = dataset.utterances[utt_index]
    whole = WaveNetDataset(corpus, "train", window_frames=utt.num_frames).window(utt_index, 0)
    with torch.no_grad():
        full_logits = wavenet(teacher_forcing_inputs(whole["targets"][None]),
                              whole["features"][None], whole["speaker"][None])  # (1, Q, T)
        model = TrainingModel(wavenet, context, mel_bands=0)
        receptive = config.receptive_field
        # Windows whose context lies inside the utterance (at its edges the conditioning net's
        # zero padding of hidden frames differs from zero feature frames; see vocoder.train).
        for start_frame in (context, 20, utt.num_frames - 8 - context):
            window = dataset.window(utt_index, start_frame)
            logits, mel = model(window["inputs"][None], window["features"][None],
                                window["speaker"][None])
            start = start_frame * HOP
            # Past the WaveNet's receptive field the window needs nothing from before it.
            skip = receptive
            torch.testing.assert_close(logits[..., skip:],
                                       full_logits[..., start + skip:start + 8 * HOP],
                                       rtol=1e-4, atol=1e-5)
            assert mel is None
        # Without context the window edges differ: the context is what makes them agree.
        no_context = WaveNetDataset(corpus, "train", window_frames=8).window(utt_index, 20)
        logits, _ = TrainingModel(wavenet, 0, 0)(no_context["inputs"][None],
                                                 no_context["features"][None],
                                                 no_context["speaker"][None])
        assert not torch.allclose(logits[..., receptive:], full_logits[..., 1600 + receptive:
                                                                        1600 + 8 * HOP])
        # ... and with context 0 the training forward is exactly WaveNet.forward.
        torch.testing.assert_close(logits, wavenet(no_context["inputs"][None],
                                                   no_context["features"][None],
                                                   no_context["speaker"][None]),
                                   rtol=0, atol=0)


def test_mel_target_peaks_at_the_tone_and_has_one_frame_per_hop():
    mel = MelSpectrogram(SR, HOP, n_fft=400, bands=40)
    t = torch.arange(20 * HOP) / SR
    low = mel(torch.sin(2 * math.pi * 300 * t)[None])  # (1, 40, 20)
    high = mel(torch.sin(2 * math.pi * 3000 * t)[None])
    assert low.shape == (1, 40, 20)
    assert low[0, :, 10].argmax() < high[0, :, 10].argmax()
    silence = mel(torch.zeros(1, 20 * HOP))
    assert torch.allclose(silence, torch.full_like(silence, math.log(1e-5)))


def test_learning_rate_warms_up_then_decays_to_min_lr():
    config = WaveNetTrainConfig(lr=1e-3, min_lr=1e-5, warmup_steps=10, max_steps=110)
    rates = [learning_rate(config, s) for s in range(111)]
    assert rates[0] == pytest.approx(1e-4) and rates[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:]))
    assert rates[110] == pytest.approx(1e-5)
    exponential = WaveNetTrainConfig(lr=1e-3, min_lr=1e-5, warmup_steps=10, max_steps=110,
                                     lr_schedule="exponential")
    assert learning_rate(exponential, 60) == pytest.approx(1e-4)


# ----------------------------------------------------------------------------- training
def test_training_overfits_one_window(tmp_path):
    prep = tmp_path / "prep"
    write_prepared_corpus(prep, [8], ragged=False)  # every window is a whole utterance
    config = tiny_train_config(prep, tmp_path / "exp", max_steps=60, warmup_steps=0, lr=1e-2,
                               lr_schedule="constant", val_windows=0, eval_every=1000,
                               ckpt_every=1000, log_every=1)
    result = train(config, tiny_model_config())
    losses = [e["loss"] for e in read_log(tmp_path / "exp") if e["event"] == "train"]
    aux = [e["aux_loss"] for e in read_log(tmp_path / "exp") if e["event"] == "train"]
    assert len(losses) == 60 and result.step == 60
    assert losses[0] > 4.5  # ~ln(256) at the start
    assert np.mean(losses[-5:]) < losses[0] - 1.0  # (it reaches ~4.05 nats)
    assert np.mean(aux[-5:]) < 0.5 * aux[0]  # the conditioning net learns the spectrum too


def test_resume_takes_the_same_steps_as_an_uninterrupted_run(corpus, tmp_path):
    kwargs = dict(max_steps=6, lr_schedule="constant", ckpt_every=3, eval_every=3)
    # DataLoader workers draw the same windows as the main process.
    full = train(tiny_train_config(corpus, tmp_path / "full", num_workers=2, **kwargs),
                 tiny_model_config())
    first = train(tiny_train_config(corpus, tmp_path / "split", **dict(kwargs, max_steps=3)),
                  tiny_model_config())
    first_checkpoint = load_checkpoint(tmp_path / "split" / CHECKPOINT_NAME)
    assert first.step == 3 and first_checkpoint["step"] == 3
    resumed = train(tiny_train_config(corpus, tmp_path / "split", **kwargs), tiny_model_config())
    assert resumed.step == 6
    # the training time of the first run is carried on, not restarted
    train_events = [e for e in read_log(tmp_path / "split") if e["event"] == "train"]
    assert train_events[-1]["step"] == 6
    assert train_events[-1]["elapsed_s"] > first_checkpoint["elapsed_s"] > 0
    assert all(e["samples_per_s"] > 0 for e in train_events)
    assert state_equal(full.model.state_dict(), resumed.model.state_dict())
    assert state_equal(full.ema.state_dict(), resumed.ema.state_dict())
    a = load_checkpoint(tmp_path / "full" / CHECKPOINT_NAME)
    b = load_checkpoint(tmp_path / "split" / CHECKPOINT_NAME)
    assert state_equal(a["model"], b["model"]) and a["step"] == b["step"] == 6
    for state_a, state_b in zip(a["optimizer"]["state"].values(),
                                b["optimizer"]["state"].values()):
        assert state_equal(state_a, state_b)
    def val_events(out: Path) -> list[dict]:
        return [{k: v for k, v in e.items() if k != "time"} for e in read_log(out)
                if e["event"] == "val"]

    assert [e["step"] for e in val_events(tmp_path / "split")] == [3, 6]
    assert val_events(tmp_path / "split") == val_events(tmp_path / "full")
    assert math.isfinite(full.val_loss)
    # Already at max_steps: a rerun changes nothing.
    again = train(tiny_train_config(corpus, tmp_path / "split", **kwargs), tiny_model_config())
    assert again.step == 6 and state_equal(again.model.state_dict(), resumed.model.state_dict())


def test_resuming_into_another_model_shape_is_refused(corpus, tmp_path):
    train(tiny_train_config(corpus, tmp_path, max_steps=1), tiny_model_config())
    with pytest.raises(TrainingError, match=r"another model config \(layers 4 in the checkpoint, "
                                            r"6 now\).*new --out"):
        train(tiny_train_config(corpus, tmp_path, max_steps=2), tiny_model_config(layers=6))
    with pytest.raises(TrainingError, match="aux_mel_bands 8 in the checkpoint, 16 now"):
        train(tiny_train_config(corpus, tmp_path, max_steps=2, aux_mel_bands=16),
              tiny_model_config())


def test_a_checkpoint_from_before_a_new_config_key_resumes_with_its_default(corpus, tmp_path):
    train(tiny_train_config(corpus, tmp_path, max_steps=1), tiny_model_config())
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    del checkpoint["model_config"]["envelope_layers"]  # as written before the key existed
    save_checkpoint(tmp_path / "checkpoint.pt", checkpoint)
    assert train(tiny_train_config(corpus, tmp_path, max_steps=2), tiny_model_config()).step == 2



def test_settings_checked_against_the_speaker_count_see_the_corpus(corpus, tmp_path):
    """``--set model.speaker_envelopes=true`` needs the speaker table the corpus implies."""
    _, model_config = build_configs(str(corpus), str(tmp_path), (),
                                    ["model.lpc_order=4", "model.mel_bands=8",
                                     "model.mel_fft=400", "model.speaker_envelopes=true"])
    speakers = json.loads((corpus / "speakers.json").read_text())["speakers"]
    assert model_config.speaker_envelopes and model_config.num_speakers == len(speakers) > 1

def test_the_command_line_resumes_with_the_checkpoint_settings(corpus, tmp_path, capsys):
    out = tmp_path / "exp"
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({
        "train": {k: v for k, v in tiny_train_config(corpus, out).to_dict().items()
                  if k not in ("prep_dir", "out_dir")},
        "model": tiny_model_config().to_dict()}))
    assert main(["--prep", str(corpus), "--out", str(out), "--config", str(config),
                 "--set", "max_steps=2"]) == 0
    # No --config: the checkpoint's own settings (the tiny model) are the defaults.
    train_config, model_config = build_configs(str(corpus), str(out), (), ["train.max_steps=4"])
    assert model_config.layers == 4 and train_config.window_frames == 8
    assert train_config.max_steps == 4
    assert main(["--prep", str(corpus), "--out", str(out), "--set", "model.layers=6"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("vocoder.train: error: ") and "model config" in error[-1]
    assert main(["--prep", str(corpus), "--out", str(out), "--set", "learning_rate=1"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "unknown key 'learning_rate'; known keys: " in error[0]
    assert "train.lr," in error[0] and "model.layers," in error[0]
    assert main(["--prep", str(corpus), "--out", str(out), "--set", "batch_size=two"]) == 1
    assert "train.batch_size must be int" in capsys.readouterr().err


def test_sigterm_stops_with_a_checkpoint_and_the_run_resumes(corpus, tmp_path):
    out = tmp_path / "exp"
    command = [sys.executable, "-m", "vocoder.train", "--prep", str(corpus), "--out", str(out)]
    settings = ["--set", "max_steps=100000", "--set", "ckpt_every=100000", "--set", "log_every=1",
                "--set", "val_windows=0", "--set", "window_frames=8", "--set", "batch_size=2",
                "--set", "aux_mel_weight=0", "--set", "num_threads=1", "--set", "model.layers=4",
                "--set", "model.residual_channels=8", "--set", "model.gate_channels=16",
                "--set", "model.skip_channels=8", "--set", "model.cond_hidden=8"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(command + settings, cwd=REPO, env=env, stderr=stderr)
        try:
            deadline = time.monotonic() + 180  # importing torch alone can take 10 s on busy CI
            while not ((out / LOG_NAME).exists()
                       and '"event": "train"' in (out / LOG_NAME).read_text()):
                assert process.poll() is None, stderr_path.read_text()
                assert time.monotonic() < deadline, "no training step within 180 s"
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=120) == 0, stderr_path.read_text()
        finally:
            process.kill()
    stop = [e for e in read_log(out) if e["event"] == "stop"]
    assert len(stop) == 1
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == stop[0]["step"]
    assert main(["--prep", str(corpus), "--out", str(out),
                 "--set", f"max_steps={stop[0]['step'] + 2}"]) == 0
    assert load_checkpoint(out / CHECKPOINT_NAME)["step"] == stop[0]["step"] + 2


_SAVE_LOOP = """
import sys, torch
from tts_common.training import checkpoint_state, save_training_checkpoint
step = 0
while True:
    step += 1
    save_training_checkpoint(sys.argv[1], checkpoint_state(
        "wavenet", step, {}, {}, {"weights": torch.full((2_000_000,), float(step))}, None))
    print(step, flush=True)
"""


def test_a_killed_checkpoint_write_never_corrupts_the_checkpoint(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    process = subprocess.Popen([sys.executable, "-c", _SAVE_LOOP, str(path)], cwd=REPO,
                               stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):  # a few complete saves, then kill it in the middle of others
            assert process.stdout.readline()
        time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    state = load_training_checkpoint(path, ("wavenet",))
    assert state["step"] >= 3 and torch.equal(state["model"]["weights"],
                                              torch.full((2_000_000,), float(state["step"])))
    # A save that fails half way (an object torch.save refuses) leaves the old one in place.
    with pytest.raises(Exception):
        save_checkpoint(path, {"format": "x", "step": 0, "bad": lambda: None})
    assert load_training_checkpoint(path, ("wavenet",))["step"] == state["step"]
    assert [p.name for p in tmp_path.iterdir() if p.name != CHECKPOINT_NAME and
            not (p.name.startswith(f".{CHECKPOINT_NAME}.") and p.name.endswith(".tmp"))] == []


def test_ema_differs_from_the_raw_weights_and_exports_to_identical_logits(corpus, tmp_path):
    from vocoder.io import load_wavenet

    result = train(tiny_train_config(corpus, tmp_path / "exp", max_steps=8, ema_decay=0.9),
                   tiny_model_config())
    raw, ema = result.model.state_dict(), result.ema.state_dict()
    assert raw.keys() == ema.keys()
    assert any(not torch.allclose(raw[k], ema[k]) for k in raw)
    exported = export_ema(tmp_path / "exp", tmp_path / "voice")
    loaded = load_wavenet(tmp_path / "voice")
    assert not any(k.startswith("mel_head") for k in loaded.state_dict())
    batch = torch.utils.data.default_collate(
        [WaveNetDataset(corpus, "train", window_frames=8)[i] for i in range(2)])
    with torch.no_grad():
        expected = result.ema.eval()(batch["inputs"], batch["features"], batch["speaker"])
        torch.testing.assert_close(exported(batch["inputs"], batch["features"],
                                            batch["speaker"]), expected, rtol=0, atol=0)
        torch.testing.assert_close(loaded.eval()(batch["inputs"], batch["features"],
                                                 batch["speaker"]), expected, rtol=0, atol=0)


# ----------------------------------------------------------------------------- DDP
def _ddp_worker(rank: int, world_size: int, port: int, prep: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    result = train(tiny_train_config(Path(prep), Path(out), max_steps=3, device="cpu"),
                   tiny_model_config())
    torch.save({"model": result.model.state_dict(), "ema": result.ema.state_dict(),
                "val_loss": result.val_loss, "step": result.step},
               Path(out) / f"rank{rank}.pt")


def test_ddp_on_cpu_with_gloo_keeps_both_ranks_identical(corpus, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # fork: the workers inherit the imports (spawn would pay them again, ~10 s on 2 busy cores).
    mp.start_processes(_ddp_worker, args=(2, port, str(corpus), str(tmp_path)), nprocs=2,
                       join=True, start_method="fork")
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["step"] == rank1["step"] == 3
    assert state_equal(rank0["model"], rank1["model"])
    assert state_equal(rank0["ema"], rank1["ema"])
    assert rank0["val_loss"] == rank1["val_loss"]
    checkpoint = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state_equal({k[len("wavenet."):]: v for k, v in checkpoint["model"].items()
                        if k.startswith("wavenet.")}, rank0["model"])
    starts = [e for e in read_log(tmp_path) if e["event"] == "start"]
    assert len(starts) == 1 and starts[0]["world_size"] == 2  # only rank 0 writes the log
    # The weights moved, and not as a single process on rank 0's windows would have moved them.
    single = train(tiny_train_config(corpus, tmp_path / "single", max_steps=3),
                   tiny_model_config())
    assert not state_equal(single.model.state_dict(), rank0["model"])
