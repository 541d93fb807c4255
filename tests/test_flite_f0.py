"""frontend.flite_f0: flite's clustergen F0 trees on our utterances, checked against the F0 of
flite's own audio, and the feature set that feeds them to the pitch model."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from benchmarks.flite_f0_agreement import phone_errors_cents
from frontend.features import PHONEME_FEATURE_DIM, Frontend, text_to_utterance
from frontend.flite_durations import (
    CLUSTERGEN_VOICES, FRAME_SECONDS, Segments, flite_durations,
)
from frontend.flite_f0 import (
    FLITE_F0_DIM, REFERENCE_HZ, _catmull_rom, _tilt, _trees, flite_f0_contour, flite_f0_features,
)
from frontend.intonation import INTONATION_FEATURE_DIM, cart_interpret
from frontend.phonemes import SILENCES
from frontend.prosody_features import FEATURE_SETS, prosody_phone_features
from recipes.demo.extract_flite_carts import read_f0_trees, read_spam

F0_SET = "phoneme+intonation+flite_f0"
SENTENCES = [
    "Rice is often served in round bowls.",
    "The source of the huge river is the clear spring.",
    "Could you tell me, please, whether the shop opens at nine?",
]


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite")
@pytest.mark.parametrize("voice", CLUSTERGEN_VOICES)  # rms: its SPAM model
def test_the_model_gives_the_f0_flite_speaks(voice: str) -> None:
    frontend = Frontend()
    errors = [phone_errors_cents(text, voice, frontend) for text in SENTENCES]
    assert all(e is not None for e in errors), "our phones and flite's differ"
    error = np.abs(np.concatenate(errors))
    # measured by a pitch tracker on flite's mixed-excitation audio: most phones within half
    # a semitone, not all (creak and octave slips on awb, a leaf flipped by one feature)
    assert np.median(error) < 35, np.round(error)
    assert np.mean(error < 50) >= 0.6, np.round(error)


def test_the_utterance_is_laid_out_in_frames_of_flites_durations() -> None:
    utt = text_to_utterance("Go, stop.")
    for v, voice in enumerate(CLUSTERGEN_VOICES):
        contour = flite_f0_contour(utt, voice)
        spans = contour.phone_frames
        assert spans.shape == (len(utt.phonemes), 2)
        assert spans[0, 0] == 0 and spans[-1, 1] == len(contour.hz) - 1
        np.testing.assert_array_equal(spans[1:, 0], spans[:-1, 1] + 1)  # contiguous
        frames = spans[:, 1] - spans[:, 0] + 1
        seconds = flite_durations(utt)[:, v]
        assert np.abs(frames * FRAME_SECONDS - seconds).max() < 2 * FRAME_SECONDS
        speech = np.concatenate([contour.hz[a:b + 1] for (a, b), phone
                                 in zip(spans, utt.phonemes) if phone not in SILENCES])
        assert (speech[speech > 0] >= 50).all() and (speech > 0).mean() > 0.9
    # each voice its own register: slt is a woman's voice, awb and rms men's
    voiced = {voice: flite_f0_contour(utt, voice).hz for voice in CLUSTERGEN_VOICES}
    medians = {voice: np.median(hz[hz > 0]) for voice, hz in voiced.items()}
    assert medians["slt"] > 1.3 * max(medians["awb"], medians["rms"])


def test_the_spline_passes_through_its_inner_knots() -> None:
    assert _catmull_rom(0.0, 90.0, 100.0, 140.0, 120.0) == pytest.approx(100.0)
    assert _catmull_rom(1.0, 90.0, 100.0, 140.0, 120.0) == pytest.approx(140.0)
    assert 100.0 < _catmull_rom(0.5, 90.0, 100.0, 140.0, 120.0) < 140.0


def test_every_state_has_a_tree_that_answers_in_hertz() -> None:
    for voice in CLUSTERGEN_VOICES:
        trees = _trees()[voice]
        assert len(trees) > 100
        leaves = [node[2] for _, nodes in trees.values() for node in nodes if node[0] is None]
        assert all(isinstance(x, float) and x < 700 for x in leaves)
        # answers under 50 Hz are flite's unvoiced (pauses, some stops)
        assert np.mean(np.array(leaves) >= 50) > 0.9


def test_the_feature_set_appends_three_thirds_per_voice() -> None:
    utt = text_to_utterance("The source of the huge river is the clear spring.")
    assert FEATURE_SETS[F0_SET] == PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + FLITE_F0_DIM
    rows = prosody_phone_features(utt, F0_SET)
    assert rows.shape == (len(utt.phonemes), FEATURE_SETS[F0_SET])
    base = prosody_phone_features(utt, "phoneme+intonation")
    np.testing.assert_array_equal(rows[:, :base.shape[1]], base)
    prior = rows[:, base.shape[1]:]
    np.testing.assert_array_equal(prior, flite_f0_features(utt))
    # the thirds are the contour's own octaves: a vowel's middle third from its frames
    contour = flite_f0_contour(utt, "awb")
    i = next(k for k, p in enumerate(utt.phonemes) if p.startswith("UW"))
    first, last = contour.phone_frames[i]
    hz = contour.hz[first:last + 1]
    third = hz[len(hz) // 3:2 * len(hz) // 3]
    assert prior[i, 4] == pytest.approx(np.log2(third[third > 0] / REFERENCE_HZ).mean(),
                                        abs=1e-5)
    # a window's rows are the whole utterance's
    np.testing.assert_array_equal(prosody_phone_features(utt, F0_SET, 4, 15), rows[4:15])


def test_the_extractor_reads_one_tree_per_state_in_flites_order() -> None:
    cg = 'const char * const v_types[] = {\n   "b_2",\n   "a_1",\n   NULL};\n'
    header = """
DEF_STATIC_CONST_VAL_FLOAT(val_0000,0.5);
DEF_STATIC_CONST_VAL_FLOAT(val_0001,120.0);
DEF_STATIC_CONST_VAL_FLOAT(val_0002,140.0);
DEF_STATIC_CONST_VAL_FLOAT(val_0003,99.5);
#define CTNODE_cmu_us_v_f0_a_1_NO_0000 2
"""
    source = """
static const cst_cart_node cmu_us_v_f0_a_1_cart_nodes[] = {
{ 0, CST_CART_OP_LESS, CTNODE_cmu_us_v_f0_a_1_NO_0000, (cst_val *)&val_0000},
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0001 },
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0002 },
{ 255, CST_CART_OP_NONE, 0, 0}};
static const char * const cmu_us_v_f0_a_1_feat_table[] = {
"lisp_cg_state_place",
NULL };
const cst_cart cmu_us_v_f0_a_1_cart = {
  cmu_us_v_f0_a_1_cart_nodes,
  cmu_us_v_f0_a_1_feat_table
};
static const cst_cart_node cmu_us_v_f0_b_2_cart_nodes[] = {
{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0003 },
{ 255, CST_CART_OP_NONE, 0, 0}};
static const char * const cmu_us_v_f0_b_2_feat_table[] = {
NULL };
const cst_cart cmu_us_v_f0_b_2_cart = {
  cmu_us_v_f0_b_2_cart_nodes,
  cmu_us_v_f0_b_2_feat_table
};
"""
    trees = read_f0_trees("v", cg, source, header)
    assert list(trees) == ["b_2", "a_1"]  # flite's types order: the first is the fallback
    assert trees["b_2"] == ((), [(None, None, 99.5, -1)])
    assert cart_interpret(trees["a_1"], {"lisp_cg_state_place": 0.25}.__getitem__) == 120.0
    assert cart_interpret(trees["a_1"], {"lisp_cg_state_place": 0.75}.__getitem__) == 140.0


def test_the_extractor_reads_the_spam_model_of_a_voice_that_switches_it_on(tmp_path) -> None:
    voice = tmp_path / "cmu_us_v"
    voice.mkdir()
    switch = "const cst_cg_db cmu_us_v_cg_db = {{\n  0.005,\n  {}, /* cg:spamf0 */\n}};\n"
    (voice / "cmu_us_v_cg.c").write_text(switch.format(0))
    assert read_spam("v", tmp_path) is None  # slt and awb: the trees' contour is spoken
    (voice / "cmu_us_v_cg.c").write_text(switch.format(1))
    for part, feature in (("phrase", "R:SylStructure.parent.lisp_cg_syl_ratio"),
                          ("accent", "syllable_duration")):
        (voice / f"cmu_us_v_spamf0_{part}.h").write_text(
            "DEF_STATIC_CONST_VAL_FLOAT(val_0000,0.5);\n"
            "DEF_STATIC_CONST_VAL_FLOAT(val_0001,4.6);\n"
            "DEF_STATIC_CONST_VAL_FLOAT(val_0002,1.0);\n"
            f"#define CTNODE_cmu_us_v_spamf0_{part}_NO_0000 2\n")
        (voice / f"cmu_us_v_spamf0_{part}.c").write_text(f"""
static const cst_cart_node cmu_us_v_spamf0_{part}_cart_nodes[] = {{
{{ 0, CST_CART_OP_LESS, CTNODE_cmu_us_v_spamf0_{part}_NO_0000, (cst_val *)&val_0000}},
{{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0001 }},
{{ 255, CST_CART_OP_NONE, 0, (cst_val *)&val_0002 }},
{{ 255, CST_CART_OP_NONE, 0, 0}}}};
static const char * const cmu_us_v_spamf0_{part}_feat_table[] = {{
"{feature}",
NULL }};
""")
    # the table's order, not the definitions', numbers the shapes
    (voice / "cmu_us_v_spamf0_accent_params.c").write_text("""
static const float cmu_us_v_spamf0_accent_frame_1[] = {
 0.2, 0.1, 0.3, 0.1, 0.2, 0.1, -0.5, 0.7, };
static const float cmu_us_v_spamf0_accent_frame_0[] = {
 0.1, 0.1, 0.2, 0.1, 0.2, 0.1, 0.25, 0.7, };
const float * const cmu_us_v_spamf0_accent_vectors[] = {
   cmu_us_v_spamf0_accent_frame_0,
   cmu_us_v_spamf0_accent_frame_1,
};
""")
    spam = read_spam("v", tmp_path)
    assert spam["ACCENT_SHAPES"] == [[0.1, 0.1, 0.2, 0.1, 0.2, 0.1, 0.25, 0.7],
                                     [0.2, 0.1, 0.3, 0.1, 0.2, 0.1, -0.5, 0.7]]
    phrase = spam["PHRASE_CART"]
    assert phrase[0] == ("R:SylStructure.parent.lisp_cg_syl_ratio",)
    assert cart_interpret(phrase, lambda name: "0.25") == 4.6
    assert cart_interpret(spam["ACCENT_CART"], lambda name: "0.75") == 1.0


def test_an_accent_rises_to_its_peak_and_falls_over_its_syllable() -> None:
    f32 = np.float32
    start, seconds, peak, amplitude = f32(0.1), f32(0.2), f32(4.8), f32(0.3)
    for tilt in (0.0, 0.6, -0.6):
        accent = _tilt(start, peak, amplitude, seconds, f32(tilt))
        frames = sorted(accent)
        # one value per frame of the syllable, from its start to its end (flite's float32
        # sum of the halves' lengths may reach one frame further)
        assert frames == list(range(20, frames[-1] + 1)) and frames[-1] in (59, 60)
        values = np.array([accent[f] for f in range(20, 60)])
        rise_end = int(round((0.1 + 0.2 * (1 + tilt) / 2) / FRAME_SECONDS))
        assert values.argmax() in (rise_end - 21, rise_end - 20)
        assert values.max() == pytest.approx(peak, abs=1e-3)
        # from peak − the rise's share of the amplitude to peak − the fall's
        assert values[0] == pytest.approx(peak - amplitude * (1 + tilt) / 2, abs=0.02)
        assert values[-1] == pytest.approx(peak - amplitude * (1 - tilt) / 2, abs=0.02)
        assert (np.diff(values[:values.argmax() + 1]) >= 0).all()
        assert (np.diff(values[values.argmax():]) <= 0).all()


def test_the_spam_features_count_as_flite_does() -> None:
    utt = text_to_utterance("Could you tell me, please, whether the shop opens at nine?")
    segments = Segments(utt)
    words = [w.lower() for w in utt.words]
    sylls = segments.sylls
    phrases = sorted({s.phrase for s in sylls})
    assert len(phrases) == 3
    last = len(sylls) - 1
    nine = words.index("nine")
    assert segments.word_feature(nine, "R:Word.pos_in_phrase") == "5"  # whether the shop opens at
    # content words of its phrase before it (whether, shop, opens: flite's gpos knows no
    # "whether") and after it (none)
    assert segments.word_feature(nine, "R:Word.content_words_in") == "3"
    assert segments.word_feature(nine, "R:Word.content_words_out") == "0"
    assert segments.phrase_feature(phrases[2], "lisp_cg_find_phrase_number") == "2"
    assert float(segments.phrase_feature(phrases[1], "lisp_cg_phrase_ratio")) == pytest.approx(
        2 / 3)
    assert segments.phrase_feature(phrases[1], "lisp_cg_syls_in_phrase") == "1"  # please
    # "opens": two syllables, the second at place 1 of its word
    opens = segments.word_sylls[words.index("opens")]
    assert [segments.syllable_feature(k, "pos_in_word") for k in opens] == ["0", "1"]
    assert segments.syllable_feature(opens[0], "syl_vowel") == "ow"
    assert segments.syllable_feature(opens[1], "syl_numphones") == str(len(sylls[opens[1]].phones))
    # steps along the Syllable relation, several at once, "0" past either end
    assert segments.syllable_feature(last, "p.p.lisp_cg_break") == segments.syllable_feature(
        last - 2, "lisp_cg_break")
    assert segments.syllable_feature(last, "n.lisp_cg_break") == "0"
    assert segments.syllable_feature(last, "lisp_cg_break") == "4"
    assert segments.syllable_feature(1, "pp.stress") == "0"
    ratio = float(segments.syllable_feature(last, "lisp_cg_syl_ratio"))
    assert ratio == 1.0  # the last of its phrase
    # from a segment, its syllable's, its word's and its phrase's features
    i = sylls[opens[0]].first_phone
    assert segments.feature(i, "lisp_cg_content_words_in_phrase") == "3"  # whether, shop; nine
    assert segments.feature(i, "R:SylStructure.parent.parent.R:Phrase.parent."
                               "lisp_cg_find_phrase_number") == "2"


def test_the_trainer_computes_the_rows_alike_in_several_processes(tiny_prepared) -> None:
    from frontend.prosody_train import load_training_set, with_feature_set

    _, train_set, _ = load_training_set(tiny_prepared)
    examples = train_set[:4]
    one, two = with_feature_set(examples, F0_SET), with_feature_set(examples, F0_SET, jobs=2)
    for example, a, b in zip(examples, one, two):
        assert a.phone_feats.shape == (len(example.durations), FEATURE_SETS[F0_SET])
        np.testing.assert_array_equal(a.phone_feats, b.phone_feats)
        # the stored phoneme rows stay in front
        np.testing.assert_array_equal(a.phone_feats[:, :PHONEME_FEATURE_DIM], example.phone_feats)


def test_every_feature_the_spam_trees_ask_is_implemented() -> None:
    from frontend.flite_f0 import _spam_models

    utt = text_to_utterance("Strong winds, she said, blew the sixth fence down!")
    segments = Segments(utt)
    model = _spam_models()["rms"]
    assert model.accent_shapes.shape[1] == 8
    rows = {int(node[2]) for node in model.accent_tree[1] if node[0] is None}
    assert rows <= set(range(len(model.accent_shapes)))  # every answer names a shape
    for name in model.phrase_tree[0]:
        for i in range(len(utt.phonemes)):
            assert isinstance(segments.feature(i, name), str), name
    for name in model.accent_tree[0]:
        if name != "syllable_duration":  # the contour's, from its own segment times
            for k in range(len(segments.sylls)):
                assert isinstance(segments.syllable_feature(k, name), str), name


def test_a_window_lays_out_flites_frames_only_as_far_as_its_phrase() -> None:
    from frontend.intonation import syllables

    utt = text_to_utterance("Go home now. The shop opens at nine, and the bus leaves at ten.")
    sylls = syllables(utt)
    first_rows = flite_f0_features(utt, 0, 5, sylls)
    _, contours = sylls.memo["flite_f0"]
    for voice in CLUSTERGEN_VOICES:  # a long text's first window does not wait for its end
        layout = contours[voice].layout
        assert 0 < layout.laid_out < len(layout.states) // 2, voice
    later = flite_f0_features(utt, 5, len(utt.phonemes), sylls)
    assert sylls.memo["flite_f0"][1] is contours  # made once for all the windows
    np.testing.assert_array_equal(np.concatenate([first_rows, later]), flite_f0_features(utt))


def test_each_state_holds_the_frames_flites_float32_rule_gives_it() -> None:
    """A frame n belongs to the first state whose float32 end is at least n * advance; the
    layout counts a state's frames from a jump, which must land where stepping would."""
    from frontend.flite_f0 import _contour

    utt = text_to_utterance("Could you tell me, please, whether the shop opens at nine?")
    advance = np.float32(FRAME_SECONDS)
    for voice in CLUSTERGEN_VOICES:
        layout = _contour(Segments(utt), voice).layout
        frames = layout.num_frames
        assert len(layout.frame_states) == frames
        for n in range(frames):
            s = layout.frame_states[n]
            assert np.float32(n) * advance <= layout.ends[s], (voice, n)
            assert s == 0 or np.float32(n) * advance > layout.ends[s - 1], (voice, n)
