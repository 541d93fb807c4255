"""The voice schema (issue 15 item 2, issue 18 item 2): one typed voice.json, converted from
format 1, and every hostile voice refused in one line naming the file and the field before
anything is allocated."""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from frontend.intonation import INTONATION_FEATURE_DIM
from tts.synthesizer import Synthesizer
from tts.voice import (
    FORMAT_VERSION,
    MAX_ERROR_CHARS,
    VoiceError,
    bundled_voice_dir,
    convert_v1,
    parse_voice,
    read_voice,
)

DATA = Path(__file__).parent / "data"
# Refusing a voice reads a few headers and small statistics tensors, nothing more.
MAX_REFUSAL_BYTES = 16 * 2**20


@pytest.fixture
def voice_copy(tiny_voice, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_voice, tmp_path / "voice"))


def edit_json(directory: Path, edit) -> None:
    path = directory / "voice.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def edit_tensor(directory: Path, kind: str, edit) -> None:
    path = directory / f"{kind}.safetensors"
    tensors = load_file(path)
    edit(tensors)
    save_file(tensors, path)


@pytest.fixture
def refusal(traced_memory):
    """``refusal(load, *fragments)``: the error of ``load()``, one short line with every
    fragment, found without allocating."""

    def refuse(load, *fragments: str) -> str:
        with traced_memory():
            started = time.perf_counter()
            with pytest.raises(VoiceError) as caught:
                load()
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
        message = str(caught.value)
        assert "\n" not in message and len(message) <= MAX_ERROR_CHARS, message
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        assert peak < MAX_REFUSAL_BYTES, (peak, message)
        assert elapsed < 10, (elapsed, message)  # a hang (gru_layers=1e7) or a 2 GB read is slower
        return message

    return refuse


def setter(dotted: str, value):
    def edit(data):
        *parents, last = dotted.split(".")
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


JSON_CASES = [
    ("models.wavenet.layers", 10**9, "must be between"),
    ("models.duration.gru_layers", 10**7, "must be between"),
    ("models.pitch.gru_layers", 10**7, "must be between"),
    ("models.wavenet.mel_fft", 10**9, "must be between"),
    ("models.wavenet.lpc_order", 10**6, "must be between"),
    ("models.wavenet.residual_channels", 2**40, "must be between"),
    ("models.wavenet.cond_kernel", 4, "must be odd"),
    ("models.wavenet.speaker_envelopes", 1, "must be true or false"),
    ("models.pitch.kernel", 2.5, "must be an integer"),
    ("models.duration.hidden", True, "must be a number"),
    ("synthesis.sentence_pause_s", -1, "must be between"),
    ("synthesis.temperature", float("nan"), "must be between"),
    ("synthesis.weights_dtype", "int8", "must be one of float16, float32"),
    ("synthesis.level_dbfs", 12, "must be between"),
    ("conditioning.log_f0_mean", "5.0", "must be a number"),
    ("conditioning.log_f0_std", 0, "must be between"),
    ("sample_rate", 10**12, "must be between"),
    ("hop_length", 0, "must be between"),
    ("frontend.backend", "festival", "must be one of"),
    ("speakers.0.id", "x" * 10_000, "must be a string of at most 64"),
]


@pytest.mark.parametrize("dotted, value, problem", JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_out_of_bounds_values_are_refused_naming_the_field(refusal,
                                                           voice_copy, dotted, value, problem):
    def edit(data):
        target = data
        *parents, last = dotted.split(".")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    edit_json(voice_copy, edit)
    field = dotted.replace(".0.", "[0].")
    refusal(lambda: read_voice(voice_copy), "voice.json", field, problem)


@pytest.mark.parametrize("section, value, fragments", [
    ("conditioning", {}, ("conditioning.channels", "is missing")),
    ("models", [], ("models", "must be a JSON object")),
    ("models", {"duration": {}, "pitch": {}, "wavenet": {}, "vits": {}}, ("models.vits",)),
    ("speakers", [{"id": f"s{i}"} for i in range(5000)], ("speakers", "1 to 1024")),
    ("speakers", [{"id": "p225"}, {"id": "p225"}], ("speakers", "distinct")),
    ("frontend", "cmudict", ("frontend", "must be a JSON object")),
    ("format_version", 99, ("format_version", "99")),
], ids=["empty-conditioning", "models-list", "unknown-model", "too-many-speakers",
        "duplicate-speakers", "frontend-string", "future-format"])
def test_malformed_sections_are_refused_naming_the_field(refusal,
                                                         voice_copy, section, value, fragments):
    edit_json(voice_copy, setter(section, value))
    refusal(lambda: read_voice(voice_copy), "voice.json", *fragments)


def test_sizes_that_disagree_with_the_weights_are_refused_before_building(refusal, voice_copy):
    edit_json(voice_copy, setter("models.wavenet.residual_channels", 9))
    refusal(lambda: read_voice(voice_copy), "wavenet.safetensors", "has shape", "need")


def test_a_huge_voice_json_is_refused_without_reading_it(refusal, voice_copy):
    with open(voice_copy / "voice.json", "r+b") as handle:
        handle.truncate(2 * 2**30)  # sparse: 2 GB that reading would take tens of seconds
    refusal(lambda: read_voice(voice_copy), "voice.json", "at most 10 MB")


@pytest.mark.parametrize("text", ["{" * 10_000, "[" * 100_000, "{\"a\": " + "x" * 40_000,
                                  "{\"sample_rate\": " + "9" * 5_000 + "}", "\xff\xfe{}"])
def test_broken_json_is_one_short_line(refusal, voice_copy, text):
    (voice_copy / "voice.json").write_text(text, encoding="latin-1")
    refusal(lambda: read_voice(voice_copy), "voice.json", "corrupt")


@pytest.mark.parametrize("kind, dtype", [("wavenet", np.int8), ("pitch", np.bool_),
                                         ("duration", np.float64)])
def test_weights_must_be_float16_or_float32(refusal, voice_copy, kind, dtype):
    def edit(tensors):
        name = sorted(tensors)[0]
        tensors[name] = tensors[name].astype(dtype)

    edit_tensor(voice_copy, kind, edit)
    refusal(lambda: read_voice(voice_copy), f"{kind}.safetensors", "dtype", "F16 or F32")


@pytest.mark.parametrize("kind", ["duration", "pitch", "wavenet"])
def test_nan_weights_are_refused_in_every_model(refusal, voice_copy, kind):
    def edit(tensors):
        name = next(n for n in sorted(tensors) if n.endswith("weight"))
        tensors[name] = tensors[name].copy()
        tensors[name].flat[0] = np.nan
        edit.name = name

    edit_tensor(voice_copy, kind, edit)
    spec = read_voice(voice_copy)
    message = refusal(lambda: spec.tensors(kind), f"{kind}.safetensors", edit.name, "NaN")
    with pytest.raises(VoiceError) as caught:
        Synthesizer.from_pretrained(voice_copy)
    assert str(caught.value) == message


@pytest.mark.parametrize("kind, name, value", [("duration", "target_mean", 12.0),
                                               ("duration", "target_std", -1.0),
                                               ("pitch", "target_mean", 0.0),
                                               ("pitch", "feature_std", 0.0)])
def test_statistics_out_of_range_are_refused(refusal, voice_copy, kind, name, value):
    edit_tensor(voice_copy, kind, lambda tensors: tensors[name].fill(value))
    refusal(lambda: read_voice(voice_copy), f"{kind}.safetensors", name, "must be between")


def test_impossible_safetensors_headers_are_refused(refusal, voice_copy):
    path = voice_copy / "wavenet.safetensors"
    original = path.read_bytes()
    path.write_bytes((2**62).to_bytes(8, "little") + original[8:])
    refusal(lambda: read_voice(voice_copy), "wavenet.safetensors", "header length")
    path.write_bytes(original[:len(original) // 2])  # truncated: offsets past the end
    refusal(lambda: read_voice(voice_copy), "wavenet.safetensors", "does not fit")
    path.unlink()
    os.mkfifo(path)  # reading it would block forever
    refusal(lambda: read_voice(voice_copy), "wavenet.safetensors", "not a regular file")
    path.unlink()
    path.symlink_to("/dev/zero")  # reading it would never end
    refusal(lambda: read_voice(voice_copy), "wavenet.safetensors", "not a regular file")


def test_the_cli_prints_the_refusal_as_one_line(voice_copy, capsys):
    from tts.cli import main

    edit_json(voice_copy, setter("models.wavenet.layers", 10**9))
    with pytest.raises(SystemExit) as caught:
        main(["say", "Hello.", "--voice", str(voice_copy), "-o", str(voice_copy / "x.wav")])
    err = capsys.readouterr().err.strip()
    assert caught.value.code == 1 and len(err.splitlines()) == 1, err
    assert "voice.json" in err and "models.wavenet.layers" in err
    assert not (voice_copy / "x.wav").exists()


# -- one copy of each fact, and the format-1 converter ----------------------------------------
def test_format_1_converts_to_the_bundled_voice_json():
    """tests/data/voice_v1.json is the bundled voice.json as format 1 wrote it."""
    old = json.loads((DATA / "voice_v1.json").read_text())
    assert old["format_version"] == 1 and "stats" in old
    converted = parse_voice(convert_v1(old, DATA / "voice_v1.json"), bundled_voice_dir())
    bundled = json.loads((bundled_voice_dir() / "voice.json").read_text())
    for speaker in bundled["speakers"]:  # measured afterwards by `python -m tts.voice level`
        speaker["level_dbfs"] = speaker["peak_dbfs"] = None
    # Format 1 predates per-speaker envelope heads, which the bundled voice got since (its
    # shared head refitted per speaker by tts.envelopes); everything else is as format 1 wrote it.
    assert bundled["models"]["wavenet"]["speaker_envelopes"]
    bundled["models"]["wavenet"]["speaker_envelopes"] = False
    # Nor had it prosody models reading frontend.intonation's features (retrained since).
    for kind in ("duration", "pitch"):
        assert bundled["models"][kind]["feature_set"] == "phoneme+intonation"
        bundled["models"][kind]["feature_set"] = "phoneme"
        bundled["models"][kind]["input_dim"] -= INTONATION_FEATURE_DIM
    assert converted.to_json() == bundled
    assert bundled["format_version"] == FORMAT_VERSION
    text = json.dumps(bundled)
    # Each fact once: the inventory, the sample rate and the speaker ids.
    assert text.count('"ZH"') == 1 and text.count("16000") == 1
    assert text.count('"p225"') == 1 and "stats" not in bundled


def test_a_format_1_voice_loads_and_speaks_like_its_conversion(refusal, tiny_voice, tmp_path):
    spec = read_voice(tiny_voice)
    old_dir = Path(shutil.copytree(tiny_voice, tmp_path / "old"))
    new = spec.to_json()
    ids = [s["id"] for s in new["speakers"]]
    inventory = new["frontend"]["phoneme_inventory"]
    # The tiny voice written the way format 1 wrote it: every fact repeated.
    old = {**new, "format_version": 1, "language": "en-us",
           "stats": {"sample_rate": new["sample_rate"], "hop_length": new["hop_length"]},
           "speakers": [{**s, "index": i} for i, s in enumerate(new["speakers"])],
           "models": {
               **{kind: {"format_version": 1, "kind": kind, "inventory": inventory,
                         "feature_dim": new["models"][kind]["input_dim"],
                         "config": {**new["models"][kind], "num_speakers": len(ids),
                                    "speakers": ids}} for kind in ("duration", "pitch")},
               "wavenet": {**new["models"]["wavenet"], "sample_rate": new["sample_rate"],
                           "hop_length": new["hop_length"], "num_speakers": len(ids),
                           "cond_channels": new["conditioning"]["channels"]}}}
    (old_dir / "voice.json").write_text(json.dumps(old))
    assert read_voice(old_dir).to_json() == new
    text = "Format one still speaks."
    np.testing.assert_array_equal(Synthesizer.from_pretrained(old_dir).synthesize(text, seed=2),
                                  Synthesizer.from_pretrained(tiny_voice).synthesize(text, seed=2))
    # Copies that disagree are refused, naming the copy.
    old["models"]["pitch"]["config"]["speakers"] = list(reversed(ids))
    (old_dir / "voice.json").write_text(json.dumps(old))
    refusal(lambda: read_voice(old_dir), "voice.json", "models.pitch.config.speakers",
            "contradicts")


def test_every_model_config_field_is_bounded_in_the_schema():
    """A hyperparameter added to a model's config must get a bound in the voice schema."""
    import dataclasses

    from frontend.prosody import DurationConfig, PitchConfig
    from tts.voice import MODEL_SPECS
    from vocoder.config import WaveNetConfig

    stored_once = {"num_speakers", "speakers", "sample_rate", "hop_length", "cond_channels"}
    for kind, config in (("duration", DurationConfig), ("pitch", PitchConfig),
                         ("wavenet", WaveNetConfig)):
        fields = {f.name for f in dataclasses.fields(config)} - stored_once
        spec = MODEL_SPECS[kind]
        assert {f.name for f in dataclasses.fields(spec)} == fields, kind
        assert all("bound" in f.metadata or "choices" in f.metadata or "flag" in f.metadata
                   for f in dataclasses.fields(spec)), kind


def test_prosody_tensor_shapes_match_the_torch_models():
    from frontend.prosody import DurationConfig, PitchConfig, prosody_tensor_shapes
    from frontend.prosody_torch import DurationModel, PitchModel

    for gru_layers in (0, 1, 2):
        for kind, model, config in (
                ("duration", DurationModel, DurationConfig(input_dim=12, num_speakers=3,
                                                           hidden=16, gru_layers=gru_layers)),
                ("pitch", PitchModel, PitchConfig(input_dim=12, num_speakers=3, hidden=16,
                                                  frame_hidden=8, gru_layers=gru_layers))):
            expected = {n: tuple(t.shape) for n, t in model(config).state_dict().items()}
            assert prosody_tensor_shapes(kind, config, 3) == expected


HOSTILE_VALUES = [None, [], {}, "x", -1, 2**63, 1.5, float("nan"), True, [1], {"a": 1}]


def leaf_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "stats":  # format 1's dropped block: nothing of it is used
                yield from leaf_paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from leaf_paths(item, path + (index,))


@pytest.mark.parametrize("source", ["bundled", "format1"])
def test_every_field_replaced_by_anything_is_read_or_refused_in_one_line(tmp_path, source):
    """Fuzz: each field of voice.json (and of a format-1 one) replaced by hostile values of
    every JSON type; read_voice either accepts it or raises one short VoiceError line."""
    directory = Path(shutil.copytree(bundled_voice_dir(), tmp_path / "voice"))
    original = json.loads((DATA / "voice_v1.json" if source == "format1"
                           else bundled_voice_dir() / "voice.json").read_text())
    cases = 0
    for path in leaf_paths(original):
        for value in HOSTILE_VALUES:
            data = json.loads(json.dumps(original))
            if path:
                target = data
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
            else:
                data = value
            (directory / "voice.json").write_text(json.dumps(data))
            cases += 1
            try:
                read_voice(directory)
            except VoiceError as exc:
                message = str(exc)
                assert "\n" not in message and len(message) <= MAX_ERROR_CHARS, (path, value)
                assert "voice.json" in message, (path, value, message)
    assert cases > 500


def test_every_header_entry_replaced_by_anything_is_refused_in_one_line(voice_copy):
    """Fuzz: dtype, shape and data_offsets of safetensors header entries (and whole entries)
    replaced by hostile values; reading the voice and its tensors raises one short line."""
    import struct

    path = voice_copy / "duration.safetensors"
    raw = path.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + length]), raw[8 + length:]
    values = HOSTILE_VALUES + [[-1, 5], [0, 2**70], "F64", "BOOL", "I8"]
    names = [name for name in header if name != "__metadata__"][:3]
    cases = 0
    for name in names:
        for field in ("dtype", "shape", "data_offsets", None):
            for value in values:
                edited = json.loads(json.dumps(header))
                if field is None:
                    edited[name] = value
                else:
                    edited[name][field] = value
                body = json.dumps(edited).encode()
                path.write_bytes(struct.pack("<Q", len(body)) + body + data)
                cases += 1
                with pytest.raises(VoiceError) as caught:
                    read_voice(voice_copy).tensors("duration")
                message = str(caught.value)
                assert "\n" not in message and len(message) <= MAX_ERROR_CHARS
                assert "duration.safetensors" in message, (name, field, value, message)
    assert cases > 150
