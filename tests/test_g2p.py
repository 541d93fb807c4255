"""frontend.g2p: CMUdict, the numpy g2p-en model, letters, homographs, lexicons, inline phonemes,
pauses and the espeak backend. Inputs are already-normalized text (normalize.py's contract)."""

from __future__ import annotations

import random
import shutil

import pytest

from frontend.g2p import (
    G2P,
    G2PError,
    NeuralG2P,
    ipa_to_arpabet,
    parse_inline,
    tokenize,
)
from frontend.lexicon import LexiconError, cmudict
from frontend.phonemes import VOWELS, split_stress


@pytest.fixture(scope="module")
def g2p() -> G2P:
    return G2P()


def words_of(g2p: G2P, text: str) -> list[tuple[str, str, str]]:
    return [(t.text, " ".join(t.phonemes), t.source) for t in g2p(text) if t.is_word]


def test_cmudict_words(g2p: G2P) -> None:
    assert words_of(g2p, "speech synthesis") == [
        ("speech", "S P IY1 CH", "cmudict"),
        ("synthesis", "S IH1 N TH AH0 S AH0 S", "cmudict"),
    ]


def test_neural_model_agrees_with_cmudict_on_dictionary_words() -> None:
    # The checkpoint was trained on CMUdict, so a correct re-implementation reproduces most
    # entries exactly; a wrong gate order or a transposed matrix drops this to ~0.
    model = NeuralG2P()
    lexicon = cmudict()
    rng = random.Random(0)
    sample = rng.sample(sorted(w for w in lexicon if w.isalpha() and 4 <= len(w) <= 10), 150)
    exact = sum(model(w) in lexicon[w] for w in sample)
    assert exact / len(sample) > 0.6
    for word in sample:
        for phone in model(word):
            split_stress(phone)  # only real inventory symbols, stress only on vowels


def test_neural_model_matches_g2p_en_reference() -> None:
    # Outputs of g2p_en.G2p.predict (g2p-en 2.1.0, run once with NLTK stubbed out) for words
    # that CMUdict lacks: our numpy port must give the same greedy decodes.
    model = NeuralG2P()
    assert model("activationist") == "AE2 K T IH0 V EY1 SH AH0 N IH0 S T".split()
    assert model("blorptastic") == "B L AO2 R P T AE1 S T IH0 K".split()
    assert model("qwerty") == "K W ER1 T IY0".split()


def test_unknown_words_go_to_the_neural_model(g2p: G2P) -> None:
    (word, phones, source), = words_of(g2p, "blorptastic")
    assert source == "neural" and phones.startswith("B L")
    # Every vowel carries a stress digit, whatever the source.
    for token in g2p("zorblax quixotically frumious snarkhunter"):
        assert all(p[-1] in "012" for p in token.phonemes if p.rstrip("012") in VOWELS)


def test_very_long_nonsense_word_is_read_in_pieces(g2p: G2P) -> None:
    (_, phones, source), = words_of(g2p, "blorp" * 40)
    assert source == "neural" and len(phones.split()) > 60  # not cut off after 20 phonemes


def test_spelled_letters_and_the_article(g2p: G2P) -> None:
    assert words_of(g2p, "the F B I") == [
        ("the", "DH AH0", "cmudict"), ("F", "EH1 F", "letter"), ("B", "B IY1", "letter"),
        ("I", "AY1", "letter"),
    ]
    assert g2p.word("W") == "D AH1 B AH0 L Y UW0".split()
    assert g2p.word("Z") == ["Z", "IY1"]
    assert g2p.word("A") == ["EY1"]
    assert g2p.word("a") == ["AH0"]


@pytest.mark.parametrize(
    "text, word, expected",
    [
        ("i want to read it", "read", "R IY1 D"),
        ("i have read it", "read", "R EH1 D"),
        ("it was read aloud", "read", "R EH1 D"),
        ("she had already read the news", "read", "R EH1 D"),
        ("he read it yesterday", "read", "R EH1 D"),
        ("we read it last week", "read", "R EH1 D"),
        ("you should read more", "read", "R IY1 D"),
        ("i have never read it", "read", "R EH1 D"),
        ("try to quickly read it", "read", "R IY1 D"),
        ("they lead the way", "lead", "L IY1 D"),
        ("the pipes were made of lead", "lead", "L EH1 D"),
        ("lead poisoning is dangerous", "lead", "L EH1 D"),
        ("i live in paris", "live", "L IH1 V"),
        ("they live here", "live", "L IH1 V"),
        ("we love live music", "live", "L AY1 V"),
        ("a live broadcast", "live", "L AY1 V"),
        ("the show is live", "live", "L AY1 V"),
        ("they saved many lives", "lives", "L AY1 V Z"),
        ("she lives nearby", "lives", "L IH1 V Z"),
        ("the record was broken", "record", "R EH1 K ER0 D"),
        ("a record of the meeting", "record", "R EH1 K ER0 D"),
        ("we need to record it", "record", "R IH0 K AO1 R D"),
        ("record the song", "record", "R IH0 K AO1 R D"),
        ("a birthday present", "present", "P R EH1 Z AH0 N T"),
        ("they will present the results", "present", "P R IY0 Z EH1 N T"),
        ("an object fell", "object", "AA1 B JH EH0 K T"),
        ("i object to that", "object", "AH0 B JH EH1 K T"),
        ("the wind is cold", "wind", "W IH1 N D"),
        ("wind the clock", "wind", "W AY1 N D"),
        ("a tear ran down her cheek", "tear", "T IH1 R"),
        ("do not tear the page", "tear", "T EH1 R"),
        ("wear and tear", "tear", "T EH1 R"),
        ("we are close to home", "close", "K L OW1 S"),
        ("please close the door", "close", "K L OW1 Z"),
        ("close the window", "close", "K L OW1 Z"),
        ("what is the use of it", "use", "Y UW1 S"),
        ("i use it daily", "use", "Y UW1 Z"),
        ("it is of no use", "use", "Y UW1 S"),
        ("the content of the box", "content", "K AA1 N T EH0 N T"),
        ("she is content with it", "content", "K AH0 N T EH1 N T"),
        ("wait a minute", "minute", "M IH1 N AH0 T"),
        ("minute details matter", "minute", "M AY0 N UW1 T"),
        ("the differences are minute", "minute", "M AY0 N UW1 T"),
        ("the wound healed", "wound", "W UW1 N D"),
        ("he wound up the rope", "wound", "W AW1 N D"),
        ("she plays the bass", "bass", "B EY1 S"),
        ("we caught a bass in the lake", "bass", "B AE1 S"),
        ("the desert is hot", "desert", "D EH1 Z ER0 T"),
        ("soldiers never desert", "desert", "D IH0 Z ER1 T"),
        ("the refuse was collected", "refuse", "R EH1 F Y UW2 Z"),
        ("i refuse to go", "refuse", "R IH0 F Y UW1 Z"),
        ("you need a permit", "permit", "P ER1 M IH2 T"),
        ("they will not permit it", "permit", "P ER0 M IH1 T"),
        ("fresh produce is sold here", "produce", "P R OW1 D UW0 S"),
        ("farms produce food", "produce", "P R AH0 D UW1 S"),
        ("the project is late", "project", "P R AA1 JH EH0 K T"),
        ("we project growth", "project", "P R AH0 JH EH1 K T"),
        ("a row of seats", "row", "R OW1"),
        ("they had a row with the neighbours", "row", "R AW1"),
        ("take a bow", "bow", "B AW1"),
        ("a bow and arrow", "bow", "B OW1"),
        ("a white dove", "dove", "D AH1 V"),
        ("she dove into the pool", "dove", "D OW1 V"),
        ("the input is invalid", "invalid", "IH2 N V AE1 L AH0 D"),
        ("he cared for the invalid", "invalid", "IH1 N V AH0 L IH0 D"),
        ("his conduct was poor", "conduct", "K AA1 N D AH0 K T"),
        ("they conduct tests", "conduct", "K AH0 N D AH1 K T"),
        ("the contract was signed", "contract", "K AA1 N T R AE2 K T"),
        ("metals contract when cold", "contract", "K AA1 N T R AE2 K T"),
        ("muscles will contract", "contract", "K AH0 N T R AE1 K T"),
        ("an increase in price", "increase", "IH1 N K R IY2 S"),
        ("we increase the dose", "increase", "IH2 N K R IY1 S"),
        ("a decrease in sales", "decrease", "D IY1 K R IY2 S"),
        ("costs will decrease", "decrease", "D IH0 K R IY1 S"),
        ("my address is here", "address", "AE1 D R EH2 S"),
        ("we must address this", "address", "AH0 D R EH1 S"),
    ],
)
def test_homographs_read_from_context(g2p: G2P, text: str, word: str, expected: str) -> None:
    readings = [(w, p) for w, p, _ in words_of(g2p, text) if w == word]
    assert readings == [(word, expected)]


def test_homograph_context_stops_at_punctuation(g2p: G2P) -> None:
    # "to" belongs to the previous phrase, so it cannot make "record" a verb.
    assert ("record", "R EH1 K ER0 D", "homograph") in words_of(g2p, "listen to, record sales")


def test_user_lexicon_beats_cmudict_homographs_and_the_model(tmp_path) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_text("# my words\nhello  HH EH2 L OW1\nread R EH1 D\nblorptastic B L AO1 R P\n")
    g2p = G2P(lexicon=path)
    assert words_of(g2p, "to read hello blorptastic") == [
        ("to", "T UW1", "cmudict"), ("read", "R EH1 D", "lexicon"),
        ("hello", "HH EH2 L OW1", "lexicon"), ("blorptastic", "B L AO1 R P", "lexicon"),
    ]


def test_bad_user_lexicon_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_text("hello HH XX L OW1\n")
    with pytest.raises(LexiconError, match="lexicon.txt:1.*XX"):
        G2P(lexicon=path)


def test_inline_phonemes_are_one_word_taken_verbatim(g2p: G2P) -> None:
    assert words_of(g2p, "say {hh ah0 l ow1} now") == [
        ("say", "S EY1", "cmudict"), ("{HH AH0 L OW1}", "HH AH0 L OW1", "inline"),
        ("now", "N AW1", "cmudict"),
    ]
    # Several words in one block stay one word; bare vowels get a stress digit.
    assert words_of(g2p, "{K AE T D AO G}") == [("{K AE1 T D AO0 G}", "K AE1 T D AO0 G", "inline")]
    assert parse_inline("{AH0 B AW1 T}") == ["AH0", "B", "AW1", "T"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("say {HH XX L OW1}", "unknown phoneme 'XX'"),
        ("say {HH AH0 L OW1", "unbalanced '{'"),
        ("say HH AH0} now", "unbalanced '}'"),
        ("say {HH {AH0} L}", "unbalanced"),
        ("say {} now", "empty inline phoneme block"),
        ("say {K3 AE1}", "unknown phoneme 'K3'"),
        ("say {sp}", "unknown phoneme 'sp'"),
    ],
)
def test_bad_inline_phonemes_are_clear_errors(g2p: G2P, text: str, message: str) -> None:
    with pytest.raises(G2PError, match=message) as info:
        g2p(text)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_pauses_and_silences(g2p: G2P) -> None:
    phones = g2p.phonemes("yes, no; maybe: so - well. ok? fine!")
    assert phones[0] == "sil" and phones[-1] == "sil"
    assert phones.count("sp") == 6  # , ; : - . ?  (the final ! is the end of the utterance)
    assert "sil" not in phones[1:-1]
    # Runs of punctuation give one pause, leading and trailing punctuation none.
    assert g2p.phonemes(", yes ,. ; no !") == ["sil", "Y", "EH1", "S", "sp", "N", "OW1", "sil"]
    assert tokenize("a -- b — c") == [("word", "a"), ("punct", "--"), ("word", "b"),
                                       ("punct", "—"), ("word", "c")]


def test_hyphens_digits_apostrophes_and_accents(g2p: G2P) -> None:
    # A hyphenated word CMUdict knows stays one word; an unknown one is split.
    assert [w for w, _, _ in words_of(g2p, "well-known blue-green")] == [
        "well-known", "blue", "green"]
    assert words_of(g2p, "mp3") == [("mp", "EH1 M P IY1", "spelled"),
                                    ("three", "TH R IY1", "cmudict")]
    assert words_of(g2p, "box's")[0][1] == "B AA1 K S IH0 Z"  # stem + IH0 Z after a sibilant
    assert words_of(g2p, "kick's")[0][1] == "K IH1 K S"
    assert words_of(g2p, "don't") == [("don't", "D OW1 N T", "cmudict")]
    assert words_of(g2p, "café naïve") == [("cafe", "K AH0 F EY1", "cmudict"),
                                           ("naive", "N AY2 IY1 V", "cmudict")]
    # Other scripts and symbols have nothing to say with an English dictionary.
    assert words_of(g2p, "привет 😀 ★") == []


def test_bad_backend_or_language() -> None:
    with pytest.raises(G2PError, match="unknown G2P backend 'festival'"):
        G2P("festival")  # type: ignore[arg-type]
    with pytest.raises(G2PError, match="English only"):
        G2P(language="fr-fr")


def test_ipa_to_arpabet() -> None:
    assert ipa_to_arpabet(["h", "ə", "l", "ˈoʊ"]) == ["HH", "AH0", "L", "OW1"]
    assert ipa_to_arpabet(["b", "ˈʌ", "ʔ", "n̩"]) == ["B", "AH1", "T", "AH0", "N"]
    assert ipa_to_arpabet(["tʃ", "ˈɜː", "tʃ"]) == ["CH", "ER1", "CH"]
    assert ipa_to_arpabet(["j", "ˌuː", "n", "ɪ"]) == ["Y", "UW2", "N", "IH0"]


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@needs_espeak
def test_espeak_backend_english() -> None:
    g2p = G2P("espeak")
    tokens = [t for t in g2p("the cat sat, F B I") if t.is_word]
    assert [(t.text, t.phonemes) for t in tokens[:3]] == [
        ("the", ["DH", "AH0"]), ("cat", ["K", "AE1", "T"]), ("sat", ["S", "AE1", "T"])]
    assert tokens[0].ipa == "ð ə" and tokens[0].source == "espeak"
    assert [t.source for t in tokens[3:]] == ["letter"] * 3
    assert g2p.phonemes("the cat, sat").count("sp") == 1


@needs_espeak
def test_espeak_backend_french() -> None:
    g2p = G2P("espeak", language="fr-fr")
    tokens = [t for t in g2p("Bonjour le monde, je suis très heureux.") if t.is_word]
    assert [t.text for t in tokens] == ["bonjour", "le", "monde", "je", "suis", "très", "heureux"]
    bonjour = tokens[0]
    assert "ʒ" in bonjour.ipa and "ZH" in bonjour.phonemes and "UW1" in bonjour.phonemes
    for token in tokens:
        assert token.phonemes and all(split_stress(p) for p in token.phonemes)
    with pytest.raises(G2PError, match="espeak-ng --voices"):
        G2P("espeak", language="xx-nowhere")
