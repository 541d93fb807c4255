"""Training a released voice's WaveNet on: a corpus numbered and normalized like the voice
(``prepare --like VOICE``), the check that refuses one that is not, and per-speaker sampling
weights (``train.speaker_weights``).

Runs on the session's tiny corpus, its prepared form and the tiny voice trained on it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recipes.vctk.prepare import PrepareConfig, PrepareError, prepare
from tests.test_vocoder_train import tiny_train_config, write_prepared_corpus
from tts.voice import read_voice
from tts_common.training import TrainingError
from vocoder.data import DatasetError, WaveNetDataset
from vocoder.model import WaveNetConfig
from vocoder.train import WaveNetTrainConfig, check_init_corpus, load_checkpoint, main, train


def _stage5(tiny_prepared: Path, tiny_corpus: Path, prep: Path, **config) -> Path:
    """``tiny_prepared``'s stage 1-4 files copied to ``prep``, and stage 5 run there."""
    shutil.copytree(tiny_prepared, prep)
    for name in ("manifest.jsonl", "stats.json", "speakers.json"):
        (prep / name).unlink()
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep, stage=5, progress=False,
                          **config))
    return prep


@pytest.fixture(scope="module")
def second_speaker_alone(tiny_prepared, tiny_corpus, tiny_voice, tmp_path_factory):
    """The tiny corpus's second speaker alone, prepared with and without ``--like``."""
    voice = read_voice(tiny_voice)
    second = voice.speakers[1].id
    root = tmp_path_factory.mktemp("subset")
    plain = _stage5(tiny_prepared, tiny_corpus, root / "plain", speakers=(second,))
    like = _stage5(tiny_prepared, tiny_corpus, root / "like", speakers=(second,),
                   like_voice=tiny_voice)
    return voice, plain, like


def _json(path: Path):
    return json.loads(path.read_text())


def test_a_subset_prepared_like_the_voice_keeps_its_numbers_and_its_pitch_scale(
        second_speaker_alone, tiny_prepared):
    from frontend.conditioning import LOG_F0_COLUMN
    from tts.envelopes import voice_conditioning

    voice, plain, like = second_speaker_alone
    second = voice.speakers[1]
    # Without --like the subset renumbers its one speaker and measures its own log-F0 scale.
    assert [s["index"] for s in _json(plain / "speakers.json")["speakers"]] == [0]
    assert _json(plain / "stats.json")["log_f0"]["mean"] != pytest.approx(
        voice.conditioning.log_f0_mean, abs=1e-3)
    # With it: the voice's table and scale, the measured scale kept beside it.
    speakers = _json(like / "speakers.json")["speakers"]
    assert [(s["id"], s["index"]) for s in speakers] == [(s.id, s.index) for s in voice.speakers]
    log_f0 = _json(like / "stats.json")["log_f0"]
    assert (log_f0["mean"], log_f0["std"]) == (voice.conditioning.log_f0_mean,
                                               voice.conditioning.log_f0_std)
    assert log_f0["measured_mean"] == _json(plain / "stats.json")["log_f0"]["mean"]
    rows = [json.loads(line) for line in (like / "manifest.jsonl").read_text().splitlines()]
    assert rows and {row["speaker_index"] for row in rows} == {second.index}
    for row in rows:
        cond = np.load(like / row["cond"])
        np.testing.assert_allclose(cond, voice_conditioning(tiny_prepared, row, voice),
                                   atol=1e-6, err_msg=row["utt_id"])
        own = np.load(plain / row["cond"])
        assert not np.allclose(own[:, LOG_F0_COLUMN], cond[:, LOG_F0_COLUMN])


def test_a_speaker_the_voice_lacks_is_refused_by_prepare(tiny_prepared, tiny_corpus, tiny_voice,
                                                         tmp_path):
    renamed = tmp_path / "voice"
    shutil.copytree(tiny_voice, renamed)
    spec = json.loads((renamed / "voice.json").read_text())
    first = spec["speakers"][0]["id"]
    spec["speakers"][0]["id"] = "p999"
    (renamed / "voice.json").write_text(json.dumps(spec))
    with pytest.raises(PrepareError, match=rf"has no speaker {first} .*--speakers.*tts adapt"):
        _stage5(tiny_prepared, tiny_corpus, tmp_path / "a", like_voice=renamed)
    # What is not a voice is refused in one line naming it.
    with pytest.raises(PrepareError, match=r"^--like .*nothing"):
        _stage5(tiny_prepared, tiny_corpus, tmp_path / "b", like_voice=tmp_path / "nothing")


def test_training_a_voice_on_refuses_a_corpus_numbered_or_scaled_otherwise(
        second_speaker_alone, tiny_prepared, tiny_voice, tmp_path, capsys):
    voice, plain, like = second_speaker_alone
    init = [f"all:{tiny_voice}"]
    with pytest.raises(TrainingError, match=r"numbers its speakers otherwise .*--like"):
        check_init_corpus(plain, init)
    with pytest.raises(TrainingError, match=r"normalizes log-F0"):  # any part reads the pitch
        check_init_corpus(plain, [f"sample_network:{tiny_voice}"])
    check_init_corpus(like, init)
    check_init_corpus(tiny_prepared, init)  # the voice's own corpus
    shifted = tmp_path / "shifted"
    shutil.copytree(tiny_prepared, shifted)
    stats = _json(shifted / "stats.json")
    stats["log_f0"]["mean"] += 0.1
    (shifted / "stats.json").write_text(json.dumps(stats))
    with pytest.raises(TrainingError, match=r"normalizes log-F0 .*pitch shifted.*--like"):
        check_init_corpus(shifted, [f"conditioning:{tiny_voice}"])
    # From the command line: one line, before any step.
    out = tmp_path / "exp"
    assert main(["--prep", str(plain), "--out", str(out), "--set", f"train.init=all:{tiny_voice}",
                 "--set", "train.max_steps=1"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--like" in error[0]
    assert not (out / "checkpoint.pt").exists()


def test_the_voice_trains_on_from_a_subset_prepared_like_it(second_speaker_alone, tiny_voice,
                                                            tmp_path):
    voice, _, like = second_speaker_alone
    model = WaveNetConfig.from_dict(voice.model_config("wavenet"))
    result = train(WaveNetTrainConfig(prep_dir=str(like), out_dir=str(tmp_path / "on"),
                                      init=[f"all:{tiny_voice}"], batch_size=2, window_frames=8,
                                      max_steps=2, warmup_steps=1, eval_every=2, ckpt_every=2,
                                      log_every=1, val_windows=0, aux_mel_bands=16,
                                      num_threads=1, speaker_weights=[f"{voice.speakers[1].id}:2"]),
                   model)
    assert result.step == 2


# ----------------------------------------------------------------------------- speaker weights
@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory) -> Path:
    prep = tmp_path_factory.mktemp("two_speakers")
    write_prepared_corpus(prep, [30, 45, 25])
    return prep


def _share_of_b(dataset: WaveNetDataset, windows: int = 600) -> float:
    return float(np.mean([int(dataset[i]["speaker"]) for i in range(windows)]))


def test_speaker_weights_draw_a_speaker_as_often_as_asked(two_speakers):
    plain = WaveNetDataset(two_speakers, "train", window_frames=8, seed=1)
    heavy = WaveNetDataset(two_speakers, "train", window_frames=8, seed=1,
                           speaker_weights={"spk_b": 4.0})
    assert 0.40 < _share_of_b(plain) < 0.60  # both speakers have the same frames
    assert 0.72 < _share_of_b(heavy) < 0.88  # 4 / (4 + 1)
    # A weight of 1 is no weight: the same windows as before, to the sample.
    ones = WaveNetDataset(two_speakers, "train", window_frames=8, seed=1,
                          speaker_weights={"spk_a": 1.0, "spk_b": 1.0})
    for index in range(30):
        assert np.array_equal(plain[index]["targets"], ones[index]["targets"])
    # Weighted windows are still a function of (seed, index): a resumed run draws the same.
    again = WaveNetDataset(two_speakers, "train", window_frames=8, seed=1,
                           speaker_weights={"spk_b": 4.0})
    for index in (0, 7, 599):
        assert np.array_equal(heavy[index]["targets"], again[index]["targets"])
    with pytest.raises(DatasetError, match=r"spk_z, which .* does not have .*spk_a, spk_b"):
        WaveNetDataset(two_speakers, "train", window_frames=8, speaker_weights={"spk_z": 2.0})


@pytest.mark.parametrize("entry", ["spk_b", "spk_b:0", "spk_b:-1", "spk_b:x", ":2", "spk_b:nan"])
def test_a_malformed_speaker_weight_is_one_clear_error(entry, two_speakers, tmp_path):
    with pytest.raises(TrainingError, match=r"SPEAKER:WEIGHT with a weight > 0"):
        tiny_train_config(two_speakers, tmp_path, speaker_weights=[entry])
    with pytest.raises(TrainingError, match=r"each speaker once"):
        tiny_train_config(two_speakers, tmp_path, speaker_weights=["spk_b:2", "spk_b:3"])


def test_the_command_line_takes_speaker_weights(two_speakers, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["--prep", str(two_speakers), "--out", str(out), "--set", "model.layers=2",
                 "--set", "model.residual_channels=4", "--set", "model.gate_channels=8",
                 "--set", "model.skip_channels=4", "--set", "model.cond_hidden=4",
                 "--set", "model.cond_layers=1", "--set", "train.window_frames=8",
                 "--set", "train.batch_size=2", "--set", "train.max_steps=2",
                 "--set", "train.warmup_steps=1", "--set", "train.val_windows=0",
                 "--set", "train.speaker_weights=spk_b:3", "--set", "train.num_threads=1"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["train_config"]["speaker_weights"] == ["spk_b:3"]
    assert main(["--prep", str(two_speakers), "--out", str(tmp_path / "bad"),
                 "--set", "train.speaker_weights=spk_q:3", "--set", "train.max_steps=1"]) == 1
    assert "spk_q" in capsys.readouterr().err
