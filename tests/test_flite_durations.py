"""frontend.flite_durations: flite's clustergen duration trees on our utterances, checked
against flite itself (``flite -psdur``), and the feature set that feeds them to a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from frontend.features import PHONEME_FEATURE_DIM, Frontend, text_to_utterance
from frontend.flite_durations import (
    CLUSTERGEN_VOICES, FRAME_SECONDS, Segments, _state_feature, _tables, flite_durations,
)
from frontend.intonation import INTONATION_FEATURE_DIM, cart_interpret
from frontend.prosody_features import FEATURE_SETS, prosody_phone_features
from benchmarks.flite_duration_agreement import phone_errors_ms
from recipes.demo.extract_flite_carts import read_cart

FLITE_SET = "phoneme+intonation+flite_durations"
# Held-out sentences whose phones our frontend and flite's lexicon agree on, with commas, a
# question, one-syllable content words and long words.
SENTENCES = [
    "Rice is often served in round bowls.",
    "The source of the huge river is the clear spring.",
    "Could you tell me, please, whether the shop opens at nine?",
]


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite")
@pytest.mark.parametrize("voice", CLUSTERGEN_VOICES)
def test_the_trees_give_flites_own_phone_durations(voice: str) -> None:
    frontend = Frontend()
    errors = [phone_errors_ms(text, voice, frontend) for text in SENTENCES]
    assert all(e is not None for e in errors), "our phones and flite's differ"
    error = np.abs(np.concatenate(errors))
    # flite prints times to the millisecond, and a tree leaf that flips on one feature our
    # frontend sees differently moves one phone by tens of ms: 95% within 1.5 ms, not all.
    assert np.mean(error < 1.5) >= 0.95, np.round(error, 1)
    assert np.median(error) < 0.6


def test_every_feature_the_trees_ask_is_implemented() -> None:
    utt = text_to_utterance("Strong winds, she said, blew the sixth fence down!")
    segments = Segments(utt)
    for voice in CLUSTERGEN_VOICES:
        features, nodes = _tables().DURATION_CARTS[voice]
        assert all(node[2] is not None for node in nodes)
        for name in features:
            kind, _, rest = _state_feature(name)
            if kind == "segment":
                for i in range(len(utt.phonemes)):
                    assert isinstance(segments.feature(i, rest), str)
        states = _tables().PHONE_STATES[voice]
        assert all(len(s) == 3 for phone, s in states.items() if phone != "ssil")


def test_pauses_and_edges_answer_as_flite_does() -> None:
    utt = text_to_utterance("Go, stop.")
    segments = Segments(utt)
    names = segments.names
    assert names == ["pau", "g", "ow", "pau", "s", "t", "aa", "p", "pau"]
    assert segments.feature(0, "p.ph_vc") == "0"  # nothing before the first pause
    assert segments.feature(0, "ph_vc") == "-" and segments.feature(0, "pos_in_syl") == "-1"
    assert segments.feature(0, "R:SylStructure.parent.syl_in") == "0"
    assert segments.feature(4, "lisp_onset_stop") == "1"  # s t aa p: a stop before the vowel
    assert segments.feature(4, "lisp_onset_fric") == "1"
    assert segments.feature(7, "seg_onsetcoda") == "coda"
    assert segments.feature(4, "seg_onsetcoda") == "onset"
    # flite counts the vowel in the coda's size
    assert segments.feature(4, "R:SylStructure.parent.syl_codasize") == "2"
    assert segments.feature(2, "R:SylStructure.parent.lisp_cg_break") == "3"  # "go," ends a phrase
    assert segments.feature(7, "R:SylStructure.parent.lisp_cg_break") == "4"
    durations = flite_durations(utt)
    assert durations.shape == (len(names), len(CLUSTERGEN_VOICES))
    assert (durations >= 3 * FRAME_SECONDS - 1e-12).all()  # three states, one frame at least


def test_the_feature_set_appends_the_log_frames_of_each_voice() -> None:
    utt = text_to_utterance("The source of the huge river is the clear spring.")
    assert FEATURE_SETS[FLITE_SET] == PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + 3
    rows = prosody_phone_features(utt, FLITE_SET)
    assert rows.shape == (len(utt.phonemes), FEATURE_SETS[FLITE_SET])
    np.testing.assert_array_equal(rows[:, :-3], prosody_phone_features(utt, "phoneme+intonation"))
    expected = np.log1p(flite_durations(utt) / FRAME_SECONDS)
    np.testing.assert_allclose(rows[:, -3:], expected, rtol=1e-6)
    # a window's rows are the whole utterance's: the trees read context across it
    np.testing.assert_array_equal(prosody_phone_features(utt, FLITE_SET, 4, 15), rows[4:15])


def test_the_extractor_reads_less_questions_and_number_leaves() -> None:
    source = """
DEF_STATIC_CONST_VAL_STRING(val_0000,"pau");
DEF_STATIC_CONST_VAL_FLOAT(val_0001,2.500000);
DEF_STATIC_CONST_VAL_FLOAT(val_0002,-0.250000);
DEF_STATIC_CONST_VAL_FLOAT(val_0003,0.750000);
DEF_STATIC_CONST_VAL_FLOAT(val_0004,1.000000);
#define CTNODE_x_NO_0000 4
#define CTNODE_x_NO_0001 3
static const cst_cart_node x_nodes[] = {
{ 0, CST_CART_OP_IS, CTNODE_x_NO_0000, (cst_val *)&val_0000},
{ 1, CST_CART_OP_LESS, CTNODE_x_NO_0001, (cst_val *)&val_0001},
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0002 },
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0003 },
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0004 },
{ 255, CST_CART_OP_NONE, 0, 0 } };
static const char * const x_feat_table[] = {
"name",
"syl_in",
NULL };
"""
    tree = read_cart(source)
    assert tree == (("name", "syl_in"), [(0, "is", "pau", 4), (1, "less", 2.5, 3),
                                        (None, None, -0.25, -1), (None, None, 0.75, -1),
                                        (None, None, 1.0, -1)])
    assert cart_interpret(tree, {"name": "pau", "syl_in": "2"}.__getitem__) == -0.25
    assert cart_interpret(tree, {"name": "pau", "syl_in": "3"}.__getitem__) == 0.75
    assert cart_interpret(tree, {"name": "t", "syl_in": "0"}.__getitem__) == 1.0


def test_a_voice_whose_duration_model_reads_the_trees_speaks(
        tiny_prepared: Path, tiny_voice: Path, tmp_path: Path) -> None:
    """A real (tiny) training run on the feature set, exported and spoken twice alike."""
    from frontend.prosody_train import ProsodyTrainConfig, train
    from tts.synthesizer import Synthesizer
    from tts.voice import export_voice

    small = ProsodyTrainConfig(max_steps=6, batch_size=2, warmup_steps=1, eval_every=3,
                               log_every=3)
    train("duration", tiny_prepared, tmp_path / "prosody", small,
          ["hidden=16", "conv_layers=1", "speaker_dim=4", f"feature_set={FLITE_SET}"])
    train("pitch", tiny_prepared, tmp_path / "prosody", small,
          ["hidden=16", "frame_hidden=8", "conv_layers=1", "speaker_dim=4"])
    voice = export_voice(tiny_prepared, tmp_path / "prosody", tiny_voice, tmp_path / "voice",
                         name="tiny-flite-durations", measure_levels=False)
    model = json.loads((voice / "voice.json").read_text())["models"]["duration"]
    assert model["feature_set"] == FLITE_SET and model["input_dim"] == FEATURE_SETS[FLITE_SET]
    text = "Rice is often served in round bowls."
    first = Synthesizer.from_pretrained(voice).synthesize(text, seed=5)
    assert len(first) > 1600 and np.isfinite(first).all()
    np.testing.assert_array_equal(first,
                                  Synthesizer.from_pretrained(voice).synthesize(text, seed=5))
