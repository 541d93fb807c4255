"""tts.envelopes: every speaker of an excitation voice gets an envelope head fitted to its data."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from tts.envelopes import main, speaker_heads
from tts.voice import read_voice


@pytest.fixture(scope="module")
def all_train(tiny_corpus, tmp_path_factory):
    """The tiny corpus prepared with every utterance in the training split (3 per speaker)."""
    from recipes.vctk.prepare import PrepareConfig, prepare

    prep = tmp_path_factory.mktemp("all_train") / "prep"
    prepare(PrepareConfig(corpus_dir=tiny_corpus, prep_dir=prep, valid=0, test=0, jobs=2,
                          labels="flite", progress=False))
    return prep


def test_every_speaker_gets_a_head_fitted_to_its_recordings(tiny_excitation_voice, all_train,
                                                            tmp_path, capsys):
    from tts.synthesizer import Synthesizer

    output = tmp_path / "voice"
    assert main(["--voice", str(tiny_excitation_voice), "--prep", str(all_train), "-o",
                 str(output), "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    base, spec = read_voice(tiny_excitation_voice), read_voice(output)
    assert spec.models["wavenet"].speaker_envelopes
    assert [line.split("\t")[0] for line in lines] == [s.id for s in base.speakers]
    for line in lines:  # held out of the fit, each speaker's recording is predicted better
        before, after = (float(x) for x in line.split("L1 ")[1].split(" -> "))
        assert after < before, line
    old = load_file(str(base.weights_path("wavenet")))
    new = load_file(str(spec.weights_path("wavenet")))
    weights, _ = speaker_heads(new, len(spec.speakers))
    shared, _ = speaker_heads(old, len(base.speakers))
    assert weights.shape == shared.shape
    assert not np.allclose(weights[0], weights[1], atol=1e-3)  # the speakers differ now
    assert all(np.array_equal(old[k], new[k]) for k in old if not k.startswith("mel_head."))
    assert all(s.level_dbfs is not None for s in spec.speakers)
    # no scratch directory left behind (write_voice keeps its lock file)
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["voice"]
    synth = Synthesizer(spec, threads=1)
    audio = synth.synthesize("A red fox.", "p225", seed=2)
    assert np.isfinite(audio).all() and audio.size
    # a voice with heads per speaker can be fitted again (from its own rows)
    assert main(["--voice", str(output), "--prep", str(all_train), "-o",
                 str(tmp_path / "again"), "--threads", "1"]) == 0


def test_bad_requests_are_one_line(tiny_voice, tiny_excitation_voice, tiny_prepared, tmp_path,
                                   capsys):
    assert main(["--voice", str(tiny_voice), "--prep", str(tiny_prepared), "-o",
                 str(tmp_path / "x")]) == 1
    assert "models the waveform" in capsys.readouterr().err
    assert main(["--voice", str(tiny_excitation_voice), "--prep", str(tmp_path), "-o",
                 str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.jsonl" in err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
