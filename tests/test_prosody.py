"""Duration and F0 models: shapes, masking, controls, rounding, saving, bad input, and learning.

The learning tests build a small prepared corpus in the contract format whose durations depend on
phoneme identity and speaker and whose F0 depends on the speaker and the position in the
utterance, train tiny models on it for a few seconds, and require them to beat the best
constant-per-speaker predictor by a wide margin.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.features import (
    FRAME_FEATURE_DIM, PHONEME_FEATURE_DIM, feature_columns, frame_features,
)
from frontend.phonemes import SILENCE, SYMBOL_TO_ID, VOICED
from frontend.prosody import (
    DurationConfig, DurationModel, PitchConfig, PitchModel, ProsodyError, load_duration_model,
    load_pitch_model, predict_durations, predict_f0, round_durations, save_prosody,
)
from frontend import prosody_train
from frontend.prosody_train import ProsodyTrainConfig, evaluate, export_prosody, train

TINY_DURATION = dict(hidden=16, speaker_dim=4, conv_layers=2, kernel=3, dropout=0.1)
TINY_PITCH = dict(frame_hidden=8, hidden=16, speaker_dim=4, frame_layers=1, conv_layers=1,
                  kernel=3, dropout=0.1)


def tiny_duration(num_speakers: int = 2, seed: int = 0) -> DurationModel:
    torch.manual_seed(seed)
    return DurationModel(DurationConfig(input_dim=PHONEME_FEATURE_DIM, num_speakers=num_speakers,
                                        **TINY_DURATION)).eval()


def tiny_pitch(num_speakers: int = 2, seed: int = 0) -> PitchModel:
    torch.manual_seed(seed)
    model = PitchModel(PitchConfig(input_dim=FRAME_FEATURE_DIM, num_speakers=num_speakers,
                                   **TINY_PITCH)).eval()
    # Speaker 0 around 120 Hz, speaker 1 around 220 Hz, so the controls have something to act on.
    model.set_normalization(np.zeros(FRAME_FEATURE_DIM), np.ones(FRAME_FEATURE_DIM),
                            np.log([120.0, 220.0][:num_speakers] + [150.0] * (num_speakers - 2)),
                            np.full(num_speakers, 0.2))
    with torch.no_grad():  # a voicing bias so that most frames are voiced
        model.output.bias[1] = 3.0
    return model


def phone_rows(phones: list[str]) -> np.ndarray:
    """(N, PHONEME_FEATURE_DIM) rows with only the phoneme, voiced and pause columns set."""
    rows = np.zeros((len(phones), PHONEME_FEATURE_DIM), dtype=np.float32)
    phone, voiced, pause = (feature_columns(n) for n in ("phone", "voiced", "pause_flags"))
    for i, p in enumerate(phones):
        rows[i, phone.start + SYMBOL_TO_ID[p]] = 1
        rows[i, voiced.start] = float(p in VOICED)
        rows[i, pause.start] = float(p in ("sil", "sp"))
    return rows


def random_phones(rng: np.random.Generator, n: int) -> list[str]:
    inventory = ["AA", "IY", "UW", "EH", "S", "T", "K", "F", "M", "N"]
    return [SILENCE] + [inventory[i] for i in rng.integers(0, len(inventory), n)] + [SILENCE]


# ---------------------------------------------------------------------------------------------
# shapes and masking


def test_duration_model_padding_does_not_change_real_positions() -> None:
    model = tiny_duration()
    rng = np.random.default_rng(1)
    lengths = [9, 4, 6]
    singles = [torch.from_numpy(rng.normal(size=(n, PHONEME_FEATURE_DIM)).astype(np.float32))
               for n in lengths]
    speakers = torch.tensor([0, 1, 1])
    batch = torch.zeros(3, max(lengths), PHONEME_FEATURE_DIM)
    batch[1:, 7:] = 100.0  # garbage in the padding must not leak into real positions
    mask = torch.zeros(3, max(lengths), dtype=torch.bool)
    for i, x in enumerate(singles):
        batch[i, : len(x)] = x
        mask[i, : len(x)] = True
    with torch.no_grad():
        out = model(batch, speakers, mask)  # (B, N)
        assert out.shape == (3, 9)
        for i, x in enumerate(singles):
            alone = model(x[None], speakers[i: i + 1])[0]
            torch.testing.assert_close(out[i, : len(x)], alone, atol=1e-5, rtol=1e-5)
            assert torch.all(out[i, len(x):] == 0)


def test_pitch_model_padding_does_not_change_real_positions() -> None:
    model = tiny_pitch()
    rng = np.random.default_rng(2)
    lengths = [37, 50, 23]  # none a multiple of the downsampling factor
    singles = [torch.from_numpy(rng.normal(size=(n, FRAME_FEATURE_DIM)).astype(np.float32))
               for n in lengths]
    speakers = torch.tensor([1, 0, 1])
    batch = torch.full((3, 50, FRAME_FEATURE_DIM), -7.0)
    mask = torch.zeros(3, 50, dtype=torch.bool)
    for i, x in enumerate(singles):
        batch[i, : len(x)] = x
        mask[i, : len(x)] = True
    with torch.no_grad():
        out = model(batch, speakers, mask)
        assert out.shape == (3, 50, 2)
        for i, x in enumerate(singles):
            alone = model(x[None], speakers[i: i + 1])[0]
            torch.testing.assert_close(out[i, : len(x)], alone, atol=1e-5, rtol=1e-5)


def test_speaker_embedding_changes_the_prediction() -> None:
    model = tiny_duration()
    feats = phone_rows(random_phones(np.random.default_rng(3), 12))
    with torch.no_grad():
        a = model(torch.from_numpy(feats)[None], torch.tensor([0]))
        b = model(torch.from_numpy(feats)[None], torch.tensor([1]))
    assert not torch.allclose(a, b)


# ---------------------------------------------------------------------------------------------
# rounding and controls


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 40.0), st.booleans()), min_size=1, max_size=60))
def test_round_durations_tracks_the_cumulative_sum(items: list[tuple[float, bool]]) -> None:
    frames = np.array([f for f, _ in items])
    pauses = np.array([p for _, p in items])
    rounded = round_durations(frames, pauses)
    assert rounded.dtype.kind == "i" and rounded.shape == frames.shape
    assert np.all(rounded[~pauses] >= 1) and np.all(rounded >= 0)
    floored = np.maximum(frames, np.where(pauses, 0.0, 1.0))
    # Every boundary within half a frame of the float one, so the total is the rounded total.
    assert np.all(np.abs(np.cumsum(rounded) - np.cumsum(floored)) <= 0.5 + 1e-9)
    assert rounded.sum() == math.floor(floored.sum() + 0.5)


def test_round_durations_beats_per_phone_rounding() -> None:
    frames = np.full(40, 2.5)  # per-phone rounding would give 2 each: 80 instead of 100
    assert round_durations(frames).sum() == 100


def test_speed_scales_total_duration() -> None:
    model = tiny_duration()
    model.set_normalization(np.zeros(PHONEME_FEATURE_DIM), np.ones(PHONEME_FEATURE_DIM),
                            np.log1p([12.0, 12.0]), np.full(2, 0.3))
    feats = phone_rows(random_phones(np.random.default_rng(4), 20))
    normal = predict_durations(model, feats, 0)
    fast = predict_durations(model, feats, 0, speed=2.0)
    slow = predict_durations(model, feats, 0, speed=0.5)
    assert normal.sum() > 100
    assert abs(fast.sum() - normal.sum() / 2) <= 1.0
    assert abs(slow.sum() - normal.sum() * 2) <= 1.0
    assert np.all(fast[1:-1] >= 1)


def test_pauses_may_be_zero_but_phones_may_not() -> None:
    model = tiny_duration()
    # A speaker whose every phoneme lasts a tenth of a frame: only the floor keeps phones audible.
    model.set_normalization(np.zeros(PHONEME_FEATURE_DIM), np.ones(PHONEME_FEATURE_DIM),
                            np.log1p([0.1, 0.1]), np.full(2, 1e-3))
    phones = random_phones(np.random.default_rng(5), 8)
    durations = predict_durations(model, phone_rows(phones), 1)
    assert list(durations[1:-1]) == [1] * 8
    assert durations[0] == 0 and durations[-1] == 0  # sil read from the pause_flags column


def test_pitch_shift_of_an_octave_doubles_f0() -> None:
    model = tiny_pitch()
    feats = np.random.default_rng(6).normal(size=(83, FRAME_FEATURE_DIM)).astype(np.float32)
    f0, voiced = predict_f0(model, feats, 1)
    up, voiced_up = predict_f0(model, feats, 1, pitch_shift_semitones=12.0)
    down, _ = predict_f0(model, feats, 1, pitch_shift_semitones=-12.0)
    assert voiced.dtype == bool and voiced.sum() > 40 and f0.dtype == np.float32
    np.testing.assert_array_equal(voiced, voiced_up)
    np.testing.assert_allclose(up[voiced], 2 * f0[voiced], rtol=1e-5)
    np.testing.assert_allclose(down[voiced], 0.5 * f0[voiced], rtol=1e-5)
    assert np.all(f0[~voiced] == 0) and np.all(f0[voiced] > 0)
    assert 50 < np.median(f0[voiced]) < 1000


def test_pitch_range_scales_around_the_speaker_mean() -> None:
    model = tiny_pitch()
    feats = np.random.default_rng(7).normal(size=(64, FRAME_FEATURE_DIM)).astype(np.float32)
    for speaker, mean_hz in ((0, 120.0), (1, 220.0)):
        f0, voiced = predict_f0(model, feats, speaker)
        flat, _ = predict_f0(model, feats, speaker, pitch_range=0.0)
        wide, _ = predict_f0(model, feats, speaker, pitch_range=2.0)
        np.testing.assert_allclose(flat[voiced], mean_hz, rtol=1e-5)
        deviation = np.log(f0[voiced] / mean_hz)
        assert np.abs(deviation).max() > 0.01  # the contour is not flat to begin with
        np.testing.assert_allclose(np.log(wide[voiced] / mean_hz), 2 * deviation, atol=1e-5)


def test_one_model_serves_several_threads() -> None:
    duration, pitch = tiny_duration(), tiny_pitch()
    rng = np.random.default_rng(12)
    inputs = [(phone_rows(random_phones(rng, int(n))), int(n) % 2) for n in rng.integers(3, 20, 8)]

    def run(item: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
        feats, speaker = item
        durations = predict_durations(duration, feats, speaker)
        return durations, predict_f0(pitch, frame_features(feats, durations), speaker)[0]

    serial = [run(item) for item in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(run, inputs))
    for (d1, f1), (d2, f2) in zip(serial, parallel):
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_array_equal(f1, f2)


# ---------------------------------------------------------------------------------------------
# saving, loading and bad input


def test_save_load_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    duration, pitch = tiny_duration(seed=8), tiny_pitch(seed=9)
    save_prosody(duration, tmp_path / "voice" / "duration")
    save_prosody(pitch, tmp_path / "voice" / "pitch")
    assert sorted(p.name for p in (tmp_path / "voice").iterdir()) == [
        "duration.json", "duration.safetensors", "pitch.json", "pitch.safetensors"]
    loaded_duration = load_duration_model(tmp_path / "voice")
    loaded_pitch = load_pitch_model(tmp_path / "voice" / "pitch.json")
    assert not loaded_duration.training and not loaded_pitch.training
    phones = phone_rows(random_phones(np.random.default_rng(10), 15))
    durations = predict_durations(duration, phones, 1)
    np.testing.assert_array_equal(durations, predict_durations(loaded_duration, phones, 1))
    frames = frame_features(phones, durations)
    for a, b in zip(predict_f0(pitch, frames, 0, 3.0, 1.5),
                    predict_f0(loaded_pitch, frames, 0, 3.0, 1.5)):
        np.testing.assert_array_equal(a, b)


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_other_inventory_or_feature_layout_is_refused(tmp_path: Path) -> None:
    save_prosody(tiny_duration(), tmp_path / "duration")
    save_prosody(tiny_pitch(), tmp_path / "pitch")
    inventory = json.loads((tmp_path / "duration.json").read_text())["inventory"]
    _edit_json(tmp_path / "duration.json", inventory=inventory[:-1] + ["DX"])
    with pytest.raises(ProsodyError, match="different phoneme inventory"):
        load_duration_model(tmp_path)
    _edit_json(tmp_path / "pitch.json", feature_dim=FRAME_FEATURE_DIM - 1)
    with pytest.raises(ProsodyError, match="input features"):
        load_pitch_model(tmp_path)
    with pytest.raises(ProsodyError, match="not found"):
        load_duration_model(tmp_path / "nowhere")
    (tmp_path / "wrong").mkdir()
    save_prosody(tiny_pitch(), tmp_path / "wrong" / "duration")  # a pitch model under that name
    with pytest.raises(ProsodyError, match="not a 'duration' model"):
        load_duration_model(tmp_path / "wrong")


def test_corrupt_weights_are_a_clear_error(tmp_path: Path) -> None:
    save_prosody(tiny_duration(), tmp_path / "duration")
    weights = tmp_path / "duration.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ProsodyError, match="duration.safetensors"):
        load_duration_model(tmp_path)


def test_unknown_speaker_and_empty_input_are_refused() -> None:
    duration, pitch = tiny_duration(num_speakers=2), tiny_pitch(num_speakers=2)
    feats = phone_rows(random_phones(np.random.default_rng(11), 5))
    for bad in (2, -1, "p225", 1.0):
        with pytest.raises(ProsodyError, match="speaker"):
            predict_durations(duration, feats, bad)
    with pytest.raises(ProsodyError, match="unknown speaker index 7: this model knows 2"):
        predict_f0(pitch, frame_features(feats, np.full(len(feats), 3)), 7)
    with pytest.raises(ProsodyError, match="no phonemes"):
        predict_durations(duration, np.zeros((0, PHONEME_FEATURE_DIM)), 0)
    with pytest.raises(ProsodyError, match="no phonemes"):
        predict_f0(pitch, np.zeros((0, FRAME_FEATURE_DIM)), 0)
    with pytest.raises(ProsodyError, match="columns"):
        predict_durations(duration, feats[:, :-1], 0)
    with pytest.raises(ProsodyError, match="speed"):
        predict_durations(duration, feats, 0, speed=0.0)
    with pytest.raises(ProsodyError, match="pitch_shift_semitones"):
        predict_f0(pitch, frame_features(feats, np.full(len(feats), 3)), 0, float("nan"))
    duration.train()
    with pytest.raises(ProsodyError, match="eval"):
        predict_durations(duration, feats, 0)


@pytest.mark.parametrize("control, value", [("speed", 4.5), ("speed", True), ("pitch", -30.0),
                                            ("pitch_range", 5.0)])
def test_prosody_controls_have_one_set_of_limits_for_every_layer(control, value) -> None:
    from tts.synthesizer import SynthesisError, check_controls

    duration, pitch = tiny_duration(num_speakers=1), tiny_pitch(num_speakers=1)
    feats = phone_rows(random_phones(np.random.default_rng(3), 4))
    frames = frame_features(feats, np.full(len(feats), 3))
    low_level = {"speed": lambda: predict_durations(duration, feats, 0, speed=value),
                 "pitch": lambda: predict_f0(pitch, frames, 0, pitch_shift_semitones=value),
                 "pitch_range": lambda: predict_f0(pitch, frames, 0, pitch_range=value)}
    with pytest.raises(ProsodyError) as model_error:
        low_level[control]()
    with pytest.raises(SynthesisError) as synthesis_error:
        check_controls(**{control: value})
    # the same limit, in the same words but for the name each layer's caller knows
    assert str(model_error.value).partition(" must ")[2] == \
        str(synthesis_error.value).partition(" must ")[2]


# ---------------------------------------------------------------------------------------------
# learning on a synthetic prepared corpus

SPEAKERS = ("spkA", "spkB")
SPEAKER_F0 = (110.0, 210.0)
SPEAKER_TEMPO = (1.0, 1.6)
BASE_FRAMES = {"sil": 10, "AA": 16, "IY": 12, "UW": 14, "EH": 9, "S": 11, "T": 4, "K": 5, "F": 8,
               "M": 7, "N": 6}


def write_synthetic_corpus(prep: Path, per_speaker: int = 24, seed: int = 0,
                           speakers: tuple[str, ...] = SPEAKERS, prefix: str = "") -> None:
    """A prepared corpus (contract layout) with learnable durations and F0; utterance ids
    ``{speaker}_{prefix}{n:03d}``."""
    rng = np.random.default_rng(seed)
    prep.mkdir(parents=True)
    (prep / "speakers.json").write_text(json.dumps({"speakers": [
        {"id": s, "index": i, "gender": "", "age": "", "accent": "", "region": "", "source": ""}
        for i, s in enumerate(speakers)]}))
    entries = []
    for index, speaker in enumerate(speakers):
        for n in range(per_speaker):
            utt_id = f"{speaker}_{prefix}{n:03d}"
            split = "valid" if n % 6 == 4 else "test" if n % 6 == 5 else "train"
            phones = random_phones(rng, int(rng.integers(6, 14)))
            durations = np.array([max(1, round(BASE_FRAMES[p] * SPEAKER_TEMPO[index]
                                                + rng.normal(0, 0.7))) for p in phones])
            total = int(durations.sum())
            position = (np.arange(total) + 0.5) / total
            # Declination from +300 to -300 cents around the speaker's mean, plus a little noise.
            f0 = SPEAKER_F0[index] * 2 ** ((300 - 600 * position + rng.normal(0, 10, total)) / 1200)
            voiced = np.repeat([p in VOICED for p in phones], durations)
            files = {kind: f"{kind}/{speaker}/{utt_id}.{ext}"
                     for kind, ext in (("align", "json"), ("phone_feats", "npy"), ("f0", "npy"))}
            for rel in files.values():
                (prep / rel).parent.mkdir(parents=True, exist_ok=True)
            (prep / files["align"]).write_text(json.dumps(
                {"utterance": None, "phonemes": phones, "durations": durations.tolist()}))
            np.save(prep / files["phone_feats"], phone_rows(phones))
            np.save(prep / files["f0"], np.stack([np.where(voiced, f0, 0.0), voiced], 1)
                    .astype(np.float32))
            entries.append({"utt_id": utt_id, "speaker": speaker, "speaker_index": index,
                            "split": split, "text": "", "num_samples": total * 80,
                            "num_frames": total, "duration_s": total / 200, **files})
    (prep / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))


def constant_baselines(prep: Path, split: str) -> dict[str, float]:
    """Errors of the best predictor that knows only the speaker: the per-speaker mean."""
    train_set = prosody_train.load_split(prep, "train")
    evaluated = prosody_train.load_split(prep, split)
    speech_ms, cents, unvoiced = [], [], []
    for u in evaluated:
        mine = [t for t in train_set if t.speaker_index == u.speaker_index]
        mean_frames = np.mean(np.concatenate([t.durations[~t.pauses] for t in mine]))
        mean_log_f0 = np.mean(np.concatenate([np.log(t.f0_hz[t.voiced]) for t in mine]))
        speech_ms.append((u.durations[~u.pauses] - mean_frames) * 5.0)
        cents.append(1200 / np.log(2) * (np.log(u.f0_hz[u.voiced]) - mean_log_f0))
        unvoiced.append(~u.voiced)
    return {"duration_rmse_ms": float(np.sqrt(np.mean(np.concatenate(speech_ms) ** 2))),
            "f0_rmse_cents": float(np.sqrt(np.mean(np.concatenate(cents) ** 2))),
            "voicing_error_percent": 100 * float(np.mean(np.concatenate(unvoiced)))}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("prosody")
    prep, exp = root / "prep", root / "exp"
    write_synthetic_corpus(prep)
    config = ProsodyTrainConfig(max_steps=150, batch_size=8, lr=1e-2, min_lr=5e-4,
                                warmup_steps=20, eval_every=50, log_every=25)
    overrides = {"duration": [f"{k}={v}" for k, v in TINY_DURATION.items()],
                 "pitch": [f"{k}={v}" for k, v in TINY_PITCH.items()]}
    best = {kind: train(kind, prep, exp, config, overrides[kind]) for kind in ("duration", "pitch")}
    return prep, exp, best


def test_training_learns_durations_and_f0(trained: tuple[Path, Path, dict]) -> None:
    prep, exp, best = trained
    export_prosody(exp, exp / "export")
    metrics = evaluate(prep, exp / "export", exp / "export", split="test")
    baseline = constant_baselines(prep, "test")
    assert metrics["utterances"] == 8
    # Phone identity and speaker explain the durations: far better than a per-speaker constant.
    assert metrics["duration_rmse_ms"] < 0.4 * baseline["duration_rmse_ms"], (metrics, baseline)
    assert metrics["duration_pearson_r"] > 0.9
    assert metrics["duration_rmse_ms_all"] < 0.5 * baseline["duration_rmse_ms"]
    # Position explains the declination; the voiced column explains voicing.
    assert metrics["f0_rmse_cents"] < 0.5 * baseline["f0_rmse_cents"], (metrics, baseline)
    assert metrics["voicing_error_percent"] < 0.25 * baseline["voicing_error_percent"]
    # Each speaker keeps its own register.
    pitch = load_pitch_model(exp / "export")
    assert torch.allclose(pitch.target_mean.exp(), torch.tensor(SPEAKER_F0), rtol=0.05)
    for kind in ("duration", "pitch"):
        log = [json.loads(line) for line in (exp / kind / "log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log if r["event"] == "val"] == [50, 100, 150]
        train_losses = [r["loss"] for r in log if r["event"] == "train"]
        assert train_losses[-1] < 0.5 * train_losses[0], (kind, train_losses)
        valid_losses = [r["valid_loss"] for r in log if r["event"] == "val"]
        assert best[kind]["valid_loss"] == min(valid_losses)


def test_training_resumes_from_its_checkpoint(trained: tuple[Path, Path, dict]) -> None:
    prep, exp, _ = trained
    checkpoint = torch.load(exp / "duration" / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 150
    config = ProsodyTrainConfig(max_steps=170, batch_size=8, lr=1e-2, min_lr=5e-4,
                                warmup_steps=20, eval_every=10, log_every=10)
    overrides = [f"{k}={v}" for k, v in TINY_DURATION.items()]
    train("duration", prep, exp, config, overrides)
    log = [json.loads(line) for line in (exp / "duration" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r["event"] == "val"] == [50, 100, 150, 160, 170]
    with pytest.raises(ProsodyError, match="another model config"):
        train("duration", prep, exp, config, overrides + ["hidden=32"])


def test_cli_evaluates_and_reports_bad_input(trained: tuple[Path, Path, dict], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    prep, exp, _ = trained
    assert prosody_train.main(["eval", "--prep", str(prep), "--out", str(exp),
                               "--export", str(tmp_path / "voice")]) == 0
    out = capsys.readouterr().out
    assert "duration_rmse_ms" in out and "f0_rmse_cents" in out and "test: 8 utterances" in out
    assert load_duration_model(tmp_path / "voice").config.speakers == list(SPEAKERS)
    results = json.loads((exp / "eval.json").read_text())
    assert [r["split"] for r in results] == ["test", "valid"]
    assert prosody_train.main(["duration", "--prep", str(tmp_path / "missing"), "--out",
                               str(tmp_path / "exp")]) == 1
    assert "not found" in capsys.readouterr().err
    assert prosody_train.main(["duration", "--prep", str(prep), "--out", str(tmp_path / "exp"),
                               "--set", "no_such_key=1"]) == 1
    assert "no_such_key" in capsys.readouterr().err


def test_training_on_two_corpora_takes_both_training_splits(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    main, extra = tmp_path / "main", tmp_path / "extra"
    write_synthetic_corpus(main, per_speaker=12)
    write_synthetic_corpus(extra, per_speaker=6, seed=1, prefix="v")
    speakers, train_set, valid_set = prosody_train.load_training_set(main, [extra])
    assert speakers == list(SPEAKERS)
    main_train = prosody_train.load_split(main, "train")
    extra_train = prosody_train.load_split(extra, "train")
    assert [u.utt_id for u in train_set] == [u.utt_id for u in main_train + extra_train]
    assert [u.utt_id for u in valid_set] == [u.utt_id for u in prosody_train.load_split(main,
                                                                                        "valid")]
    assert all("_v" not in u.utt_id for u in valid_set)
    # the command line: --prep twice
    exp = tmp_path / "exp"
    quick = ["--set", "train.max_steps=4", "--set", "train.eval_every=2",
                 "--set", "train.warmup_steps=1", "--set", "train.batch_size=4",
                 *[arg for k, v in TINY_DURATION.items() for arg in ("--set", f"model.{k}={v}")]]
    assert prosody_train.main(["duration", "--prep", str(main), "--prep", str(extra),
                               "--out", str(exp), *quick]) == 0
    assert "best validation" in capsys.readouterr().out
    assert (exp / "duration" / "best.safetensors").is_file()
    assert prosody_train.main(["eval", "--prep", str(main), "--prep", str(extra),
                               "--out", str(exp)]) == 1
    assert "eval takes one --prep" in capsys.readouterr().err


def test_two_corpora_must_agree_on_speakers_and_not_share_ids(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    main = tmp_path / "main"
    write_synthetic_corpus(main, per_speaker=6)
    reordered, same_ids = tmp_path / "reordered", tmp_path / "same_ids"
    write_synthetic_corpus(reordered, per_speaker=6, speakers=SPEAKERS[::-1], prefix="v")
    write_synthetic_corpus(same_ids, per_speaker=6, seed=1)
    for extra, message in ((reordered, "same speakers in the same order"),
                           (same_ids, "distinct utterance ids")):
        with pytest.raises(ProsodyError, match=message):
            prosody_train.load_training_set(main, [extra])
        assert prosody_train.main(["pitch", "--prep", str(main), "--prep", str(extra), "--out",
                                   str(tmp_path / "exp")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("prosody_train: error:") and message in err and "\n" not in err
    assert not (tmp_path / "exp" / "pitch" / "checkpoint.pt").exists()


def test_end_to_end_on_the_tiny_prepared_corpus(tiny_prepared: Path, tmp_path: Path) -> None:
    """A few steps on the real prepared corpus: the contract's files load, train and evaluate."""
    config = ProsodyTrainConfig(max_steps=6, batch_size=4, warmup_steps=2, eval_every=3,
                                log_every=3)
    for kind, overrides in (("duration", TINY_DURATION), ("pitch", TINY_PITCH)):
        best = train(kind, tiny_prepared, tmp_path / "exp", config,
                     [f"{k}={v}" for k, v in overrides.items()])
        assert math.isfinite(best["valid_loss"])
    export_prosody(tmp_path / "exp", tmp_path / "voice")
    speakers = json.loads((tiny_prepared / "speakers.json").read_text())["speakers"]
    duration = load_duration_model(tmp_path / "voice")
    assert duration.config.speakers == [s["id"] for s in speakers]
    split = "test" if prosody_train.load_split(tiny_prepared, "test") else "train"
    metrics = evaluate(tiny_prepared, tmp_path / "voice", tmp_path / "voice", split=split)
    assert metrics["utterances"] >= 1 and metrics["frames"] > 100
    for key in ("duration_rmse_ms", "duration_pearson_r", "f0_rmse_cents", "voicing_error_percent"):
        assert math.isfinite(metrics[key]), (key, metrics)
    # The per-speaker registers come from the recordings: slt (female) above awb (male).
    pitch = load_pitch_model(tmp_path / "voice")
    registers = dict(zip(pitch.config.speakers, pitch.target_mean.exp().tolist()))
    genders = {s["id"]: s["gender"] for s in speakers}
    female = [hz for s, hz in registers.items() if genders[s] == "F"]
    male = [hz for s, hz in registers.items() if genders[s] == "M"]
    assert female and male and min(female) > max(male), registers
