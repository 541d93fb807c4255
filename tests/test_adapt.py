"""tts adapt: a new speaker added to the tiny voice from a flite-rendered folder of recordings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from recipes.demo.flite import SAMPLE_RATE, render
from recipes.demo.sentences import training_sentences
from tts.adapt import STATE_JSON, AdaptConfig, AdaptError, adapt
from tts.voice import read_voice

# kal16 raised far above the tiny voice's speakers (slt at ~175 Hz, awb at ~125 Hz).
NEW_VOICE = "-voice kal16 --setf int_f0_target_mean=250 --setf duration_stretch=1".split()
TEXT = "Hello there."


@pytest.fixture(scope="module")
def new_speaker_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("new_speaker") / "kim"
    folder.mkdir()
    for i, text in enumerate(training_sentences(8, seed=5)):
        sf.write(folder / f"kim_{i:03d}.wav", render(text, NEW_VOICE), SAMPLE_RATE)
        (folder / f"kim_{i:03d}.txt").write_text(text + "\n")
    return folder


def small(**changes) -> dict:
    values = dict(minutes=10.0, min_seconds=5.0, prosody_steps=30, wavenet_steps=6,
                  wavenet_batch=2, wavenet_window_frames=8, threads=1, jobs=1,
                  export_reserve_s=0.0, checkpoint_seconds=0.0)
    values.update(changes)
    return values


@pytest.fixture(scope="module")
def adapted(tiny_voice: Path, new_speaker_data: Path, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("adapted") / "voice"
    return adapt(AdaptConfig(data=new_speaker_data, speaker="kim", output=output,
                             voice=tiny_voice, gender="F", accent="Synthetic", **small()))


def _median_f0(synth, speaker: str) -> float:
    plans = [synth.plan(u, synth.speaker_index(speaker)) for u in synth.frontend.utterances(
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.")]
    f0 = np.concatenate([p.f0_hz[p.voiced] for p in plans])
    return float(np.median(f0))


def test_adapted_voice_has_the_new_speaker_and_the_old_ones_unchanged(
        tiny_voice: Path, adapted: Path, new_speaker_data: Path) -> None:
    from tts.synthesizer import Synthesizer

    base, spec = read_voice(tiny_voice), read_voice(adapted)
    assert [s.id for s in spec.speakers] == [s.id for s in base.speakers] + ["kim"]
    new = spec.speakers[-1]
    assert (new.gender, new.accent) == ("F", "Synthetic")
    assert new.source == f"adapted from {new_speaker_data.resolve()}"
    assert new.level_dbfs is not None and new.peak_dbfs is not None
    for old, kept in zip(base.speakers, spec.speakers):
        assert (old.level_dbfs, old.peak_dbfs) == (kept.level_dbfs, kept.peak_dbfs)

    before, after = Synthesizer(base, threads=1), Synthesizer(spec, threads=1)
    for speaker in before.speakers:
        np.testing.assert_array_equal(before.synthesize(TEXT, speaker, seed=3),
                                      after.synthesize(TEXT, speaker, seed=3))
    assert after.synthesize(TEXT, "kim", seed=3).size > 0

    # The new speaker's F0 comes from its recordings, not from the speaker it started from.
    data_f0 = []
    for path in sorted(new_speaker_data.glob("*.wav")):
        from frontend.pitch import extract_f0

        audio, rate = sf.read(path, dtype="float32")
        f0, voiced = extract_f0(audio, rate, 80)
        data_f0.append(f0[voiced > 0.5])
    data_median = float(np.median(np.concatenate(data_f0)))
    new_median = _median_f0(after, "kim")
    old_medians = [_median_f0(after, s) for s in before.speakers]
    assert all(abs(np.log(new_median / data_median)) < abs(np.log(m / data_median))
               for m in old_medians), (new_median, data_median, old_medians)


def test_an_excitation_voice_gets_an_envelope_head_fitted_to_the_new_speaker(
        tiny_excitation_voice: Path, new_speaker_data: Path, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from tts.synthesizer import Synthesizer

    output = tmp_path / "voice"
    adapt(AdaptConfig(data=new_speaker_data, speaker="kim", output=output,
                      voice=tiny_excitation_voice, **small(wavenet_steps=2)))
    base, spec = read_voice(tiny_excitation_voice), read_voice(output)
    assert not base.models["wavenet"].speaker_envelopes and spec.models["wavenet"].speaker_envelopes
    shared = load_file(str(base.weights_path("wavenet")))
    heads = load_file(str(spec.weights_path("wavenet")))
    assert "mel_head.weight" not in heads
    weights, biases = heads["speaker_mel_head.weight"], heads["speaker_mel_head.bias"]
    assert weights.shape == (len(base.speakers) + 1, *shared["mel_head.weight"].shape[:2])
    for row in range(len(base.speakers)):  # the old speakers keep the shared head, bit for bit
        np.testing.assert_array_equal(weights[row], shared["mel_head.weight"][:, :, 0])
        np.testing.assert_array_equal(biases[row], shared["mel_head.bias"])
    assert not np.allclose(weights[-1], weights[0], atol=1e-3)
    # Fitted on the other recordings, the new head predicts a held-out one's log-mel better.
    report = json.loads((tmp_path / "voice.work" / STATE_JSON).read_text())["envelope"]
    assert report["fitted_l1"] < 0.9 * report["base_l1"], report

    before, after = Synthesizer(base, threads=1), Synthesizer(spec, threads=1)
    for speaker in before.speakers:
        np.testing.assert_array_equal(before.synthesize(TEXT, speaker, seed=3),
                                      after.synthesize(TEXT, speaker, seed=3))
    streamed = np.concatenate(list(after.stream(TEXT, "kim", seed=3, chunk_seconds=0.05)))
    np.testing.assert_array_equal(streamed, after.synthesize(TEXT, "kim", seed=3))
    # A voice adapted once can be adapted again: one more row in every table.
    again = adapt(AdaptConfig(data=new_speaker_data, speaker="kim2", output=tmp_path / "again",
                              voice=output, **small(wavenet_steps=1)))
    grown = load_file(str(read_voice(again).weights_path("wavenet")))
    assert grown["speaker_mel_head.weight"].shape[0] == len(base.speakers) + 2
    np.testing.assert_array_equal(grown["speaker_mel_head.weight"][:-1], weights)


def test_adapting_resumes_from_its_work_directory(tiny_voice: Path, new_speaker_data: Path,
                                                  tmp_path: Path, caplog) -> None:
    output = tmp_path / "voice"
    adapt(AdaptConfig(data=new_speaker_data, speaker="kim", output=output, voice=tiny_voice,
                      **small(wavenet_steps=2)))
    state_path = tmp_path / "voice.work" / STATE_JSON
    assert json.loads(state_path.read_text())["steps"]["wavenet"] == 2
    caplog.set_level("INFO", logger="tts.adapt")
    adapt(AdaptConfig(data=new_speaker_data, speaker="kim", output=output, voice=tiny_voice,
                      **small(wavenet_steps=4)))
    assert "resuming" in caplog.text
    assert "starts from" not in caplog.text  # the fitted rows were taken up, not chosen again
    assert json.loads(state_path.read_text())["steps"] == {"duration": 30, "pitch": 30,
                                                           "wavenet": 4}
    assert len(read_voice(output).speakers) == len(read_voice(tiny_voice).speakers) + 1


def test_bad_adaptations_are_one_line_and_write_nothing(tiny_voice: Path, new_speaker_data: Path,
                                                        tmp_path: Path) -> None:
    from tts.cli import cli

    runner = CliRunner()
    taken = read_voice(tiny_voice).speakers[0].id
    cases = [
        ([str(new_speaker_data), "--speaker", taken], f"speaker {taken!r} is already in"),
        ([str(tmp_path / "empty")], "no audio in"),
    ]
    (tmp_path / "empty").mkdir()
    for args, expected in cases:
        out = tmp_path / "out"
        result = runner.invoke(cli, ["adapt", *args, *(["--speaker", "x"] if "--speaker" not in
                                                       args else []),
                                     "-o", str(out), "--voice", str(tiny_voice)],
                               standalone_mode=False)
        assert isinstance(result.exception, ValueError), result.output
        message = str(result.exception)
        assert expected in message and "\n" not in message
        assert not out.exists() and not (tmp_path / "out.work").exists()

    with pytest.raises(AdaptError, match=r"adapting needs at least 3600 s: record \d+ s more"):
        adapt(AdaptConfig(data=new_speaker_data, speaker="kim", output=tmp_path / "short",
                          voice=tiny_voice, **small(min_seconds=3600.0)))
    assert not (tmp_path / "short").exists() and not (tmp_path / "short.work").exists()

    two = tmp_path / "two"
    for speaker in ("a", "b"):
        shutil.copytree(new_speaker_data, two / speaker)
    with pytest.raises(AdaptError, match="holds 2 speakers"):
        adapt(AdaptConfig(data=two, speaker="kim", output=tmp_path / "two_out",
                          voice=tiny_voice, **small()))
