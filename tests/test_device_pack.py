"""The demo corpus packed for a lent GPU machine and made again from the pack, then the device
script end to end on the CPU: unpack, train the bundled voice's WaveNet on, export a voice.

The tiny corpus stands in for the demo's, prepared like the bundled voice (``--like``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recipes.demo.device_pack import PACK_JSON, PackError, main, pack, sha256, unpack
from tests.test_continue_training import _stage5
from tts.voice import bundled_voice_dir, read_voice

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def packed(tiny_prepared, tiny_corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("device_pack")
    prep = _stage5(tiny_prepared, tiny_corpus, root / "prep", like_voice=bundled_voice_dir())
    out = pack(prep, tiny_corpus, root / "pack", speakers=2, sentences_per_speaker=3, seed=0,
               debs=False, wheels=False)
    return prep, out


def _manifest(prep: Path) -> list[dict]:
    return [json.loads(line) for line in (prep / "manifest.jsonl").read_text().splitlines()]


def test_the_pack_holds_no_audio_and_makes_the_same_corpus_again(packed, tmp_path):
    prep, out = packed
    names = sorted(path.name for path in out.iterdir())
    assert names == ["corpus.tar.xz", "pack.json", "prep.tar.xz"]
    rows = _manifest(prep)
    assert set(json.loads((out / PACK_JSON).read_text())["wav_sha256"]) == \
        {row["utt_id"] for row in rows}
    again = unpack(out, tmp_path / "work", jobs=2)
    assert json.loads((tmp_path / "work" / "unpacked.json").read_text()) == {
        "utterances": len(rows), "wavs_differing": 0}
    assert _manifest(again) == rows
    for row in rows:
        assert sha256(again / row["wav"]) == sha256(prep / row["wav"])
        np.testing.assert_array_equal(np.load(again / row["cond"]), np.load(prep / row["cond"]))


def test_bad_packs_and_settings_are_one_clear_line(packed, tiny_corpus, tmp_path, capsys):
    prep, _ = packed
    with pytest.raises(PackError, match=r"not the corpus of .*--sentences-per-speaker 4"):
        pack(prep, tiny_corpus, tmp_path / "p", speakers=2, sentences_per_speaker=4, seed=0,
             debs=False, wheels=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("a user's file")
    with pytest.raises(PackError, match=r"exists and is not a pack"):
        pack(prep, tiny_corpus, tmp_path / "mine", speakers=2, sentences_per_speaker=3, seed=0,
             debs=False, wheels=False)
    assert (tmp_path / "mine" / "keep.txt").read_text() == "a user's file"
    assert main(["unpack", "--pack", str(tmp_path / "nothing"), "--work", str(tmp_path)]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "is not a pack" in error[0] and "device_pack pack" in error[0]


def test_the_device_script_trains_the_bundled_voice_on_and_exports_a_voice(packed, tmp_path):
    _, out = packed
    env = dict(os.environ, PACK=str(out), WORK=str(tmp_path / "work"),
               OUT=str(tmp_path / "out"), PYTHON=sys.executable, MINUTES="5", BATCH="2",
               STEPS="2", WAVENET_SET="train.window_frames=8 train.val_windows=2 "
               "train.num_threads=1 train.device=cpu")
    done = subprocess.run([str(REPO / "recipes/demo/device_train.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    voice = read_voice(tmp_path / "out" / "voice")
    bundled = read_voice(bundled_voice_dir())
    assert [s.id for s in voice.speakers] == [s.id for s in bundled.speakers]
    assert voice.model_config("wavenet") == bundled.model_config("wavenet")
    trained, start = voice.tensors("wavenet"), bundled.tensors("wavenet")
    moved = [name for name in start if not np.array_equal(trained[name], start[name])]
    assert moved and not any(name.startswith("envelope") for name in moved)  # frozen
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [(e["event"], e["step"]) for e in log if e["event"] != "val"][-2:] == [
        ("train", 2), ("checkpoint", 2)]
    files = sorted(path.name for path in (tmp_path / "out" / "voice").iterdir())
    assert len(files) <= 7  # the device tool brings back 8 files at most, the log one of them
