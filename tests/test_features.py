"""frontend.features: syllables, Utterance annotations, feature matrices, the Frontend, fuzzing."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.features import (
    FRAME_FEATURE_DIM,
    PHONEME_FEATURE_DIM,
    PHONEME_FEATURE_LAYOUT,
    Frontend,
    FrontendError,
    Utterance,
    feature_columns,
    frame_features,
    phoneme_features,
    phoneme_ids,
    syllabify,
    text_to_utterance,
)
from frontend.g2p import G2P
from frontend.phonemes import SYMBOL_TO_ID, SYMBOLS


@pytest.fixture(scope="module")
def g2p() -> G2P:
    return G2P()


@pytest.mark.parametrize(
    "phones, expected",
    [
        ("EH1 K S T R AH0", "EH1 K | S T R AH0"),  # extra: S T R is a legal onset
        ("AE1 T L AH0 S", "AE1 T | L AH0 S"),  # atlas: T L is not
        ("K AH0 N S T R AH1 K T IH0 V", "K AH0 N | S T R AH1 K | T IH0 V"),
        ("HH AH0 L OW1", "HH AH0 | L OW1"),
        ("IH1 N S T R AH0 M AH0 N T", "IH1 N | S T R AH0 | M AH0 N T"),
        ("S IH1 NG ER0", "S IH1 NG | ER0"),  # singer: NG is never an onset
        ("HH M", "HH M"),  # no vowel: one syllable
        ("AY1 OW0 AH0", "AY1 | OW0 | AH0"),
    ],
)
def test_syllabify_maximal_onset(phones: str, expected: str) -> None:
    assert " | ".join(" ".join(s) for s in syllabify(phones.split())) == expected


def test_utterance_annotations(g2p: G2P) -> None:
    utt = text_to_utterance("Hello, big world!", g2p=g2p)
    assert utt.words == ["hello", "big", "world"]
    assert utt.phonemes == ["sil", "HH", "AH0", "L", "OW1", "sp", "B", "IH1", "G",
                            "W", "ER1", "L", "D", "sil"]
    assert utt.phrase_count == 2 and utt.word_count == 3
    assert utt.word_index == [-1, 0, 0, 0, 0, -1, 1, 1, 1, 2, 2, 2, 2, -1]
    assert utt.syllable_index[1:5] == [0, 0, 1, 1] and utt.syllable_count[1:5] == [2] * 4
    assert utt.phone_in_syllable[1:5] == [0, 1, 0, 1] and utt.syllable_size[1:5] == [2] * 4
    assert utt.stress[1:5] == [0, 0, 1, 1]  # the syllable's stress, consonants included
    assert utt.phrase_index == [0] * 6 + [1] * 8
    assert utt.word_in_phrase[6:13] == [0, 0, 0, 1, 1, 1, 1]
    assert utt.phrase_word_count[1] == 1 and utt.phrase_word_count[6] == 2
    assert utt.phrase_punctuation[:6] == [","] * 6 and utt.phrase_punctuation[6:] == ["!"] * 8
    assert not any(utt.is_question)
    assert utt.word_sources == ["cmudict"] * 3


def test_questions_content_words_and_default_punctuation(g2p: G2P) -> None:
    utt = text_to_utterance("It rains. Is it cold?", g2p=g2p)
    words = utt.word_index
    question = {utt.words[w]: q for w, q in zip(words, utt.is_question) if w >= 0}
    assert question == {"it": True, "rains": False, "is": True, "cold": True}
    first_it = words.index(0)
    assert utt.is_question[first_it] is False and utt.phrase_punctuation[first_it] == "."
    content = {utt.words[w]: c for w, c in zip(words, utt.is_content_word) if w >= 0}
    assert content == {"it": False, "rains": True, "is": False, "cold": True}
    # No final punctuation reads as a statement; a comma inside a question is still a question.
    assert text_to_utterance("so it goes", g2p=g2p).phrase_punctuation[-1] == "."
    assert all(text_to_utterance("well, is it", g2p=g2p).is_question) is False
    assert all(text_to_utterance("well, is it?", g2p=g2p).is_question)


def test_phoneme_features_layout_and_values(g2p: G2P) -> None:
    utt = text_to_utterance("Is the FBI here?", g2p=g2p)
    feats = phoneme_features(utt)
    n = len(utt.phonemes)
    assert feats.shape == (n, PHONEME_FEATURE_DIM) and feats.dtype == np.float32
    assert PHONEME_FEATURE_DIM == sum(width for _, width in PHONEME_FEATURE_LAYOUT)
    ids = phoneme_ids(utt)
    assert ids.dtype == np.int64 and ids[0] == SYMBOL_TO_ID["sil"] and ids.max() < len(SYMBOLS)
    # Quinphone identities: one-hot, shifted copies of each other, <pad> beyond the ends.
    for offset, name in enumerate(["prev_prev_phone", "prev_phone", "phone", "next_phone",
                                   "next_next_phone"]):
        block = feats[:, feature_columns(name)]
        assert np.all(block.sum(1) == 1)
        padded = np.concatenate([[0, 0], ids, [0, 0]])
        np.testing.assert_array_equal(block.argmax(1), padded[offset:offset + n])
    assert np.all(feats[:, feature_columns("phone_class")].sum(1) == 1)
    stress = feats[:, feature_columns("syllable_stress")]
    np.testing.assert_array_equal(stress.sum(1), [w >= 0 for w in utt.word_index])
    assert np.all(feats[:, feature_columns("is_question")] == 1)
    assert np.all(feats[:, feature_columns("phrase_punctuation")].argmax(1) == 2)  # "?"
    pauses = feats[:, feature_columns("pause_flags")]
    np.testing.assert_array_equal(pauses[:, 0], [p in ("sil", "sp") for p in utt.phonemes])
    # Positions: first word of the phrase at 0, last at 1; log counts are log(1 + count).
    word_pos = feats[:, feature_columns("word_in_phrase")]
    first, last = utt.word_index.index(0), n - 2
    assert word_pos[first, 0] == 0 and word_pos[last, 0] == 1
    assert word_pos[first, 1] == pytest.approx(np.log1p(utt.word_count))
    assert pauses[first, 1] == 1 and pauses[last, 2] == 1
    fractions = feats[:, [feature_columns(b).start for b in
                          ("phone_in_syllable", "syllable_in_word", "word_in_phrase",
                           "phrase_in_utterance")]]
    assert fractions.min() >= 0 and fractions.max() <= 1


def test_frame_features_repeat_rows_and_add_positions() -> None:
    phone_feats = np.arange(12, dtype=np.float32).reshape(3, 4)  # (N=3, D=4)
    frames = frame_features(phone_feats, np.array([4, 0, 2]))
    assert frames.shape == (6, 8)
    np.testing.assert_array_equal(frames[:4, :4], np.repeat(phone_feats[:1], 4, 0))
    np.testing.assert_array_equal(frames[4:, :4], np.repeat(phone_feats[2:], 2, 0))
    np.testing.assert_allclose(frames[:4, 4], [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(frames[:4, 5], [0.875, 0.625, 0.375, 0.125])
    np.testing.assert_allclose(frames[:, 6], np.log([4, 4, 4, 4, 2, 2]), rtol=1e-6)
    np.testing.assert_allclose(frames[:, 7], (np.arange(6) + 0.5) / 6)
    assert frame_features(phone_feats, [0, 0, 0]).shape == (0, 8)
    assert FRAME_FEATURE_DIM == PHONEME_FEATURE_DIM + 4


@pytest.mark.parametrize(
    "durations, message",
    [([1, 2], "durations must be"), ([1, -1, 2], ">= 0"), ([1.5, 1, 1], "whole frames")],
)
def test_frame_features_rejects_bad_durations(durations, message) -> None:
    with pytest.raises(ValueError, match=message):
        frame_features(np.zeros((3, 4)), np.array(durations))


def test_utterance_json_round_trip(g2p: G2P) -> None:
    utt = text_to_utterance("Read the {R EH1 K ER0 D}, now!", g2p=g2p)
    again = Utterance.from_dict(json.loads(json.dumps(utt.to_dict())))
    assert again == utt
    np.testing.assert_array_equal(phoneme_features(again), phoneme_features(utt))
    bad = utt.to_dict()
    del bad["stress"]
    with pytest.raises(ValueError, match="missing \\['stress'\\]"):
        Utterance.from_dict(bad)
    bad = utt.to_dict()
    bad["stress"] = bad["stress"][:-1]
    with pytest.raises(ValueError, match="Utterance.stress has"):
        Utterance.from_dict(bad)


@pytest.mark.parametrize("text", ["", "   \n\t", "😀 🎉", "привет мир", "...!?", "★ ♥ ☂"])
def test_text_without_speakable_words(g2p: G2P, text: str) -> None:
    with pytest.raises(FrontendError, match="text contains no speakable words"):
        text_to_utterance(text, g2p=g2p)


def test_frontend_utterances_per_sentence(tmp_path) -> None:
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("wavenet W EY1 V N EH2 T\n")
    frontend = Frontend(lexicon=lexicon)
    utts = list(frontend.utterances("Hello there. 😀. Do you like wavenet?"))
    assert [u.words for u in utts] == [["hello", "there"], ["do", "you", "like", "wavenet"]]
    assert not any(utts[0].is_question) and all(utts[1].is_question)
    assert utts[1].word_sources[-1] == "lexicon"
    with pytest.raises(FrontendError, match="no speakable words"):
        list(frontend.utterances("😀. 🎉!"))


def test_espeak_frontend_features_work_for_french() -> None:
    utt = Frontend("espeak", language="fr-fr").utterance("Bonjour, le monde.")
    assert utt.words == ["bonjour", "le", "monde"] and utt.word_ipa[0]
    assert phoneme_features(utt).shape == (len(utt.phonemes), PHONEME_FEATURE_DIM)


# Hypothesis: arbitrary Unicode never escapes as anything but FrontendError, and text with a
# plain ASCII word always works. Braces are left out of the second one: an unbalanced brace is
# a FrontendError by design.
_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(text=st.text(max_size=80))
def test_fuzz_only_frontend_errors(g2p: G2P, text: str) -> None:
    try:
        utt = text_to_utterance(text, g2p=g2p)
    except FrontendError:
        return
    assert utt.phonemes[0] == "sil" and utt.phonemes[-1] == "sil" and utt.words
    assert phoneme_features(utt).shape == (len(utt.phonemes), PHONEME_FEATURE_DIM)


_NO_BRACES = st.characters(blacklist_characters="{}", blacklist_categories=("Cs",))


@_FUZZ
@given(
    before=st.text(_NO_BRACES, max_size=40),
    word=st.text(string.ascii_letters, min_size=1, max_size=12),
    after=st.text(_NO_BRACES, max_size=40),
)
def test_fuzz_text_with_an_ascii_word_always_works(
    g2p: G2P, before: str, word: str, after: str
) -> None:
    utt = text_to_utterance(f"{before} {word} {after}", g2p=g2p)
    assert utt.words and len(utt.phonemes) > 2
