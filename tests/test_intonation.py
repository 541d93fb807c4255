"""flite-style accent prediction and syllable context (frontend.intonation), and prosody models
that read them (feature_set = "phoneme+intonation") from training through a voice to speech."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from frontend import intonation
from frontend.features import PHONEME_FEATURE_DIM, Frontend, phoneme_features
from frontend.flite_intonation_carts import ACCENT_CART, TONE_CART
from frontend.intonation import (
    GPOS_CLASSES, INTONATION_FEATURE_DIM, INTONATION_FEATURE_LAYOUT, gpos, intonation_features,
    syllables,
)
from frontend.prosody_features import prosody_phone_features
from frontend.prosody import ProsodyError, expected_feature_dim, load_duration_model

FRONTEND = Frontend()
SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Rice is often served in round bowls, and the juice of lemons makes fine punch.",
    "Would you help the woman get back to her feet before the train leaves?",
    "It was the best of times; it was the worst of times.",
]
INTONATION_SET = "phoneme+intonation"


def utterance(text: str):
    return next(iter(FRONTEND.utterances(text)))


def columns(name: str) -> slice:
    start = 0
    for block, width in INTONATION_FEATURE_LAYOUT:
        if block == name:
            return slice(start, start + width)
        start += width
    raise KeyError(name)


def test_gpos_follows_flites_lists_in_their_order() -> None:
    assert gpos("The") == "det" and gpos("of") == "in" and gpos("to") == "to"
    assert gpos("that") == "in"  # in flite's "in" list, before any other
    assert gpos("would") == "md" and gpos("and") == "cc" and gpos("who") == "wp"
    assert gpos("their") == "pps" and gpos("was") == "aux"
    # flite treats pronouns and most other function words as content words
    assert gpos("he") == gpos("them") == gpos("does") == gpos("canoe") == "content"
    assert set(intonation._GPOS.values()) | {"content"} == set(GPOS_CLASSES)


def test_the_trees_are_whole_and_every_feature_they_ask_is_implemented() -> None:
    utt = utterance(SENTENCES[1])
    sylls = syllables(utt)
    context = intonation._Context(utt, sylls)
    for features, nodes in (ACCENT_CART, TONE_CART):
        for feature, op, _, no in nodes:
            if feature is not None:
                assert 0 <= feature < len(features) and 0 < no < len(nodes) and op == "is"
        for name in features:
            for k in (0, len(sylls) // 2, len(sylls) - 1):
                assert isinstance(context.feature(name, k), str)
    answers = {value for feature, _, value, _ in ACCENT_CART[1] if feature is None}
    assert answers == {"NONE", "H*", "!H*", "L+H*"}


def test_the_interpreter_takes_the_yes_branch_next_and_the_no_branch_by_index() -> None:
    tree = (("a", "b"), [(0, "is", "1", 4), (1, "less", 2.5, 3), (None, None, "A-and-small-B", -1),
                         (None, None, "A-only", -1), (None, None, "not-A", -1)])

    def answer(values: dict[str, str]) -> str:
        return intonation.cart_interpret(tree, values.__getitem__)

    assert answer({"a": "1", "b": "2"}) == "A-and-small-B"
    assert answer({"a": "1", "b": "3"}) == "A-only"
    assert answer({"a": "1", "b": "coda"}) == "A-and-small-B"  # flite: not a number is 0
    assert answer({"a": "0", "b": "2"}) == "not-A"


def test_syllable_counts_follow_flites_definitions() -> None:
    utt = utterance(SENTENCES[0])
    sylls = syllables(utt)
    words = [utt.words[s.word] for s in sylls]
    assert words == ["the", "birch", "canoe", "canoe", "slid", "on", "the", "smooth", "planks"]
    assert [s.stressed for s in sylls] == [False, True, False, True, True, True, False, True, True]
    # one phrase: flite names it "B", so its last syllable has break level 3, not 4
    assert [s.break_level for s in sylls] == ["1", "1", "0", "1", "1", "1", "1", "1", "3"]
    context = intonation._Context(utt, sylls)
    last = len(sylls) - 1
    assert context.syllable_feature("syl_in", last) == last
    assert context.syllable_feature("syl_out", 0) == last
    # stressed syllables strictly between the phrase's first and this one (flite's quirk)
    assert context.syllable_feature("ssyl_in", last) == 5
    assert context.syllable_feature("ssyl_out", 0) == 6
    accented = [k for k, s in enumerate(sylls) if s.accented]
    assert accented, "a declarative sentence has at least one accent"
    k = accented[0] + 1
    assert context.syllable_feature("last_accent", k) == 1
    assert context.syllable_feature("last_accent", accented[0]) == 0
    assert context.syllable_feature("asyl_out", 0) == sum(s.accented for s in sylls[1:])


def test_accents_fall_on_content_words_and_statements_end_low() -> None:
    for text in SENTENCES:
        utt = utterance(text)
        sylls = syllables(utt)
        for syl in sylls:
            if syl.accent is not None:  # the tree gives these classes no accent
                assert gpos(utt.words[syl.word]) not in ("to", "cc", "in", "wp", "aux", "det")
        assert any(s.accent for s in sylls)
    several_phrases = syllables(utterance(SENTENCES[1]))
    assert several_phrases[-1].end_tone == "L-L%" and several_phrases[-1].break_level == "4"
    assert {s.break_level for s in several_phrases} == {"0", "1", "3", "4"}


def test_accents_agree_with_flites_own_on_held_out_sentences() -> None:
    """flite's accents for the 80 Harvard and everyday sentences (tests/data/flite_accents.c)."""
    from benchmarks.accent_agreement import DEFAULT_REFERENCE, agreement

    records = json.loads(DEFAULT_REFERENCE.read_text())["sentences"]
    counts = agreement(records, FRONTEND)
    assert counts["paired"] > 0.98 * counts["flite"]
    assert counts["end_tone"] == counts["break_level"] == counts["paired"]
    assert counts["accent"] >= 0.98 * counts["paired"], counts


def test_feature_rows_are_per_syllable_zero_on_pauses_and_windowable() -> None:
    utt = utterance(SENTENCES[1])
    rows = intonation_features(utt)
    assert rows.shape == (len(utt.phonemes), INTONATION_FEATURE_DIM) and rows.dtype == np.float32
    assert sum(width for _, width in INTONATION_FEATURE_LAYOUT) == INTONATION_FEATURE_DIM
    pauses = np.array([w < 0 for w in utt.word_index])
    assert pauses.any() and not rows[pauses].any()
    for syl in syllables(utt):
        block = rows[syl.first_phone:syl.first_phone + len(syl.phones)]
        assert (block == block[0]).all()
        assert block[0, columns("word_gpos")].sum() == 1.0
        assert block[0, columns("accent")].sum() == float(syl.accent is not None)
    np.testing.assert_array_equal(intonation_features(utt, 5, 17), rows[5:17])
    both = prosody_phone_features(utt, INTONATION_SET, 5, 17)
    np.testing.assert_array_equal(both[:, :PHONEME_FEATURE_DIM], phoneme_features(utt, 5, 17))
    np.testing.assert_array_equal(both[:, PHONEME_FEATURE_DIM:], rows[5:17])
    assert prosody_phone_features(utt, "phoneme").shape[1] == PHONEME_FEATURE_DIM


def test_feature_sets_set_the_model_widths_and_a_bad_one_is_refused() -> None:
    assert expected_feature_dim("duration") == PHONEME_FEATURE_DIM
    assert (expected_feature_dim("pitch", INTONATION_SET)
            == PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + 4)
    with pytest.raises(ProsodyError, match="feature_set"):
        expected_feature_dim("duration", "phonemes")


TINY_DURATION = ["hidden=16", "conv_layers=1", "speaker_dim=4", f"feature_set={INTONATION_SET}"]
TINY_PITCH = ["hidden=16", "frame_hidden=8", "conv_layers=1", "speaker_dim=4",
              f"feature_set={INTONATION_SET}"]


@pytest.fixture(scope="module")
def intonation_voice(tiny_prepared: Path, tiny_voice: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Prosody models reading the intonation features, in a voice with tiny_voice's WaveNet."""
    from frontend.prosody_train import ProsodyTrainConfig, train
    from tts.voice import export_voice

    root = tmp_path_factory.mktemp("intonation")
    small = ProsodyTrainConfig(max_steps=8, batch_size=2, warmup_steps=1, eval_every=4,
                               log_every=4)
    train("duration", tiny_prepared, root / "prosody", small, TINY_DURATION)
    train("pitch", tiny_prepared, root / "prosody", small, TINY_PITCH)
    voice = export_voice(tiny_prepared, root / "prosody", tiny_voice, root / "voice",
                         name="tiny-intonation", measure_levels=False)
    return root, voice


def test_a_voice_with_intonation_models_records_them_and_speaks(
        intonation_voice: tuple[Path, Path]) -> None:
    from tts.synthesizer import Synthesizer

    _, voice = intonation_voice
    spec = json.loads((voice / "voice.json").read_text())
    for kind, extra in (("duration", 0), ("pitch", 4)):
        model = spec["models"][kind]
        assert model["feature_set"] == INTONATION_SET
        assert model["input_dim"] == PHONEME_FEATURE_DIM + INTONATION_FEATURE_DIM + extra
    synth = Synthesizer.from_pretrained(voice)
    text = "Rice is often served in round bowls."
    first = synth.synthesize(text, seed=3)
    assert len(first) > 1600 and np.isfinite(first).all()
    np.testing.assert_array_equal(first,
                                  Synthesizer.from_pretrained(voice).synthesize(text, seed=3))
    utt = next(iter(synth.phonemize(text)))
    durations, f0 = synth.phoneme_prosody(utt, 0)
    # the same durations as the plan synthesis speaks from (phoneme_prosody's own windows)
    np.testing.assert_array_equal(durations, synth.plan(utt, 0).durations)
    assert len(f0) == len(utt.phonemes) and (durations >= 0).all()


def test_evaluate_feeds_each_model_its_feature_set(intonation_voice: tuple[Path, Path],
                                                   tiny_prepared: Path) -> None:
    from frontend.prosody_train import evaluate, export_prosody, load_split

    root, _ = intonation_voice
    export_prosody(root / "prosody", root / "export")
    assert load_duration_model(root / "export").config.feature_set == INTONATION_SET
    split = "test" if load_split(tiny_prepared, "test") else "train"
    metrics = evaluate(tiny_prepared, root / "export", root / "export", split=split)
    assert np.isfinite(metrics["duration_rmse_ms"]) and np.isfinite(metrics["f0_rmse_cents"])
    assert metrics["frames"] > 100


def test_an_unknown_feature_set_is_a_one_line_error(tiny_prepared: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "frontend.prosody_train", "duration", "--prep", str(tiny_prepared),
         "--out", str(tmp_path / "exp"), "--set", "model.feature_set=accents"],
        capture_output=True, text=True)
    assert result.returncode == 1
    err = result.stderr.strip().splitlines()[-1]
    assert "feature_set" in err and "phoneme+intonation" in err and "Traceback" not in result.stderr
