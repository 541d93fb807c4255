"""Grapheme-to-phoneme conversion: normalized text → words with ARPAbet phonemes (with stress).

Input is the output of ``frontend.normalize.normalize_text``: lowercase spoken words separated by
spaces, single UPPERCASE letters for letters to be spelled ("F B I"), the punctuation
``, . ? ! ; :`` (and dashes), and inline phoneme blocks such as ``{HH AH0 L OW1}``.

Where a word's pronunciation comes from, first match wins (``Token.source`` records it):

1. ``inline``    a ``{...}`` block, taken verbatim. The whole block is *one word*, even when it
                 holds the phonemes of several (``{HH AH0 L OW1 W ER1 L D}``); bare vowels get
                 stress 0, except that a block without any primary stress gets it on its first
                 bare vowel.
2. ``lexicon``   the user lexicon (``load_user_lexicon``); it beats every rule below.
3. ``letter``    a single UPPERCASE letter is spelled: its letter name ("W" → D AH1 B AH0 L Y UW0).
                 A lowercase "a" is the article.
4. ``homograph`` a few dozen heteronyms read from their neighbours (see ``homograph``).
5. ``cmudict``   the first CMUdict variant. Hyphenated words that CMUdict lacks are split into
                 separate words; letter/digit mixes ("mp3") are split into runs, digits read one by
                 one; an unknown possessive ("kubrick's") is its stem + S/Z/IH0 Z.
6. ``neural``    the g2p-en sequence-to-sequence GRU, re-implemented here in numpy from the
                 checkpoint that the g2p-en package ships (the package is never imported: its
                 ``__init__`` imports NLTK, which tries to download data). Greedy decoding.
7. ``spelled``   whatever the model cannot pronounce is spelled letter by letter.

``backend="espeak"`` replaces 4-7 by espeak-ng (through ``phonemizer``) in any espeak language.
Its IPA is kept per word (``Token.ipa``) and mapped to the nearest ARPAbet phonemes, so that the
phoneme ids and linguistic features work unchanged: exact enough for English, an approximation
for other languages (nasal vowels lose nasality, front rounded vowels become their nearest
English vowel, ...). Homograph rules are not applied there: espeak has its own.

Punctuation: ``, ; :`` and dashes become a short pause ``sp`` between words; ``. ? !`` end a
phrase (a pause too when more words follow). ``G2P.phonemes`` wraps an utterance in ``sil``.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from frontend.lexicon import Lexicon, cmudict, load_user_lexicon
from frontend.phonemes import PAUSE, SILENCE, VOWELS, split_stress

logger = logging.getLogger(__name__)

Backend = Literal["cmudict", "espeak"]
BACKENDS: tuple[str, ...] = ("cmudict", "espeak")

# Punctuation that ends a phrase, and what each mark counts as. ``, ; :`` and dashes are all
# a short pause (","); the sentence-final marks keep their identity for intonation.
PUNCTUATION: dict[str, str] = {
    ",": ",", ";": ",", ":": ",", "-": ",", "--": ",", "–": ",", "—": ",",
    ".": ".", "…": ".", "?": "?", "!": "!",
}
SENTENCE_END = frozenset({".", "?", "!"})


class FrontendError(ValueError):
    """Text that the frontend cannot turn into speech; the message names the problem and fix."""


class G2PError(FrontendError):
    """A pronunciation that cannot be produced: bad inline phonemes, unbalanced braces, ..."""


@dataclass
class Token:
    """One item of a pronounced text: a word with its phonemes, or a punctuation mark."""

    text: str  # the word as spoken (ASCII-folded, lowercase) or the punctuation mark
    phonemes: list[str] = field(default_factory=list)  # ARPAbet with stress; empty for punctuation
    source: str = ""  # see the module docstring; "punctuation" for marks
    ipa: str = ""  # the espeak backend's IPA for the word, phones separated by spaces

    @property
    def is_word(self) -> bool:
        return self.source != "punctuation"


# --------------------------------------------------------------------------------------------
# Spelled letters, digits and text folding

LETTER_NAMES: dict[str, list[str]] = {
    letter: phones.split()
    for letter, phones in {
        "A": "EY1", "B": "B IY1", "C": "S IY1", "D": "D IY1", "E": "IY1", "F": "EH1 F",
        "G": "JH IY1", "H": "EY1 CH", "I": "AY1", "J": "JH EY1", "K": "K EY1", "L": "EH1 L",
        "M": "EH1 M", "N": "EH1 N", "O": "OW1", "P": "P IY1", "Q": "K Y UW1", "R": "AA1 R",
        "S": "EH1 S", "T": "T IY1", "U": "Y UW1", "V": "V IY1", "W": "D AH1 B AH0 L Y UW0",
        "X": "EH1 K S", "Y": "W AY1", "Z": "Z IY1",
    }.items()
}
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Letters that Unicode does not decompose into ASCII ones.
_TRANSLITERATION = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "ð": "dh", "þ": "th", "ı": "i", "’": "'", "ʼ": "'", "‘": "'"}
)


def fold_ascii(word: str) -> str:
    """``"Café’s"`` → ``"Cafe's"``: accents stripped, other non-ASCII characters dropped."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_TRANSLITERATION))
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "'-"))


# Words (letters/digits, inner apostrophes and hyphens), inline blocks, stray braces, punctuation.
_TOKEN = re.compile(
    r"(?P<block>\{[^{}]*\})"
    r"|(?P<brace>[{}])"
    r"|(?P<word>['’]?[^\W_]+(?:['’\-][^\W_]+)*['’]?)"
    r"|(?P<punct>--|[,.?!;:\-–—…])"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split normalized text into ``(kind, text)`` pairs, kind one of block/word/punct.

    Anything else (symbols, emoji, quotes) is not spoken and dropped here.
    Raises G2PError on an unbalanced or nested brace.
    """
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "brace":
            context = text[max(0, match.start() - 20):match.start() + 20]
            raise G2PError(
                f"unbalanced '{match.group()}' at character {match.start()} (near {context!r}): "
                "inline phonemes go in one pair of braces, e.g. {HH AH0 L OW1}"
            )
        tokens.append((kind, match.group()))
    return tokens


def parse_inline(block: str) -> list[str]:
    """``"{hh ah0 l ow1}"`` → ``["HH", "AH0", "L", "OW1"]``, every symbol checked."""
    symbols = block.strip("{}").split()
    if not symbols:
        raise G2PError("empty inline phoneme block {}: write phonemes inside, e.g. {HH AH0 L OW1}")
    phones = []
    for symbol in symbols:
        phone = symbol.upper()
        try:
            base, _ = split_stress(phone)
        except ValueError:
            base = None
        if base is None or base in (SILENCE, PAUSE):
            raise G2PError(
                f"unknown phoneme {symbol!r} in {block}: use the 39 ARPAbet phonemes (AA AE AH AO "
                "AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V "
                "W Y Z ZH), vowels optionally with stress 0/1/2 (AH0, OW1); stress only on vowels"
            )
        phones.append(phone)
    return complete_stress(phones)


def complete_stress(phones: list[str]) -> list[str]:
    """Give every bare vowel a stress digit: 0, or 1 for the first one of a word without any 1."""
    has_primary = any(p.endswith("1") for p in phones)
    completed = []
    for phone in phones:
        if phone in VOWELS:
            phone += "0" if has_primary else "1"
            has_primary = True
        completed.append(phone)
    return completed


# --------------------------------------------------------------------------------------------
# Homographs: cheap context rules instead of a POS tagger.
#
# ``prev``/``next`` are the neighbouring words inside the same phrase (None across punctuation);
# an adverb right before the word ("to quickly read", "have already read") is looked through,
# and so is "not"/"never" after an auxiliary ("have never read").
# Stress-shift nouns/verbs (record, present, object, ...) are read as verbs after "to", modals,
# do-forms, "not"/"never" and subject pronouns; as nouns after determiners, possessives,
# prepositions and a few adjectives; as verbs when an object follows at the start of a phrase
# ("record the song"); as nouns before "is/was/has/of" ("the record was"); otherwise with their
# usual reading. "read" is past after have/be forms and he/she/it, present after "to", modals
# and do-forms, and past after I/we/you/they only if the sentence has a past marker
# ("yesterday", "ago", "last"). The rest have their own one-line rules in ``homograph``.

_VERB_CUES = frozenset(
    "to will would can could shall should may might must do does did don't doesn't didn't won't "
    "wouldn't can't cannot couldn't shouldn't mustn't i we you they not never please let's "
    "i'll we'll you'll they'll he'll she'll".split()
)
_SUBJECT_PRONOUNS = frozenset("i we you they".split())
_DETERMINERS = frozenset(
    "the a an this that these those my your his her its our their no every each any some "
    "another such what whose which one".split()
)
_NOUN_CUES = _DETERMINERS | frozenset(
    "of in on for with from by at about into under over new old world first last good great "
    "big small whole entire fresh local organic final recent current latest own public private "
    "main major future".split()
)
_PLURAL_CUES = _NOUN_CUES | frozenset(
    "many all both several few countless two three save saved saves lost lose risked".split()
)
_LINKING_VERBS = frozenset("is was are were has have had".split())
_OBJECT_CUES = frozenset(
    "the a an my your his her its our their this these those it them him us me".split()
)
_BE_FORMS = frozenset("be is am are was were been being it's that's he's she's".split())
_HAVE_FORMS = frozenset(
    "have has had having i've we've you've they've i'd we'd you'd they'd he'd she'd".split()
)
_ADVERBS = frozenset(
    "already just also only even once recently widely always often really actually then".split()
)
_NEGATIONS = frozenset({"not", "never"})
_PAST_MARKERS = frozenset("yesterday ago last earlier previously".split())

# word: (noun or adjective reading, verb reading, reading when no rule decides)
_STRESS_SHIFT: dict[str, tuple[str, str, str]] = {
    "record": ("R EH1 K ER0 D", "R IH0 K AO1 R D", "noun"),
    "present": ("P R EH1 Z AH0 N T", "P R IY0 Z EH1 N T", "noun"),
    "object": ("AA1 B JH EH0 K T", "AH0 B JH EH1 K T", "noun"),
    "conduct": ("K AA1 N D AH0 K T", "K AH0 N D AH1 K T", "noun"),
    "contract": ("K AA1 N T R AE2 K T", "K AH0 N T R AE1 K T", "noun"),
    "increase": ("IH1 N K R IY2 S", "IH2 N K R IY1 S", "verb"),
    "decrease": ("D IY1 K R IY2 S", "D IH0 K R IY1 S", "verb"),
    "address": ("AE1 D R EH2 S", "AH0 D R EH1 S", "noun"),
    "permit": ("P ER1 M IH2 T", "P ER0 M IH1 T", "noun"),
    "produce": ("P R OW1 D UW0 S", "P R AH0 D UW1 S", "verb"),
    "project": ("P R AA1 JH EH0 K T", "P R AH0 JH EH1 K T", "noun"),
    "refuse": ("R EH1 F Y UW2 Z", "R IH0 F Y UW1 Z", "verb"),
    "desert": ("D EH1 Z ER0 T", "D IH0 Z ER1 T", "noun"),
}
_LIVE_NOUNS = frozenset(
    "music broadcast broadcasts show shows performance performances concert concerts event events "
    "audience album recording recordings stream streaming tv television radio coverage feed wire "
    "wires animal animals bait ammunition round rounds action band version footage update updates "
    "theatre theater sports match game".split()
)
_LIVE_ADVERB_CUES = _BE_FORMS | frozenset(
    "go goes went going gone broadcast streamed performed played aired shown".split()
)
_LEAD_METAL_NOUNS = frozenset(
    "poisoning paint pipe pipes pencil pencils acid weight weights shot balloon oxide levels level "
    "exposure mine mines sheet sheets crystal".split()
)
_MINUTE_ADJ_NOUNS = frozenset(
    "detail details amount amounts quantity quantities particle particles trace traces "
    "difference differences fraction change changes".split()
)
_FISH_WORDS = frozenset(
    "fish fishing caught catch catching lake river sea striped largemouth smallmouth bait "
    "fisherman fishermen angler anglers".split()
)


@dataclass(frozen=True)
class Context:
    """The words around a homograph: neighbours in its phrase and all words of its sentence."""

    prev: str | None = None
    prev2: str | None = None
    next: str | None = None
    next2: str | None = None
    sentence: frozenset[str] = frozenset()


def _noun_or_verb(context: Context, default: str) -> str:
    if context.prev in _VERB_CUES:
        return "verb"
    if context.prev in _NOUN_CUES:
        return "noun"
    if context.prev is None and context.next in _OBJECT_CUES:
        return "verb"  # imperative at the start of a phrase: "record the song"
    if context.next in _LINKING_VERBS or context.next == "of":
        return "noun"  # a subject or a head noun: "the record was", "produce is", "object of"
    return default


def homograph(word: str, context: Context) -> list[str] | None:
    """The reading of a heteronym in context, or None when ``word`` is not one we handle."""
    # Look through an adverb ("to quickly read"), and through a negation after an auxiliary
    # ("have never read"); a negation alone stays as a verb cue ("never desert").
    if (context.prev in _ADVERBS or (context.prev or "").endswith("ly")
            or (context.prev in _NEGATIONS and context.prev2 in _HAVE_FORMS | _BE_FORMS)):
        context = Context(context.prev2, None, context.next, context.next2, context.sentence)
    prev, next_ = context.prev, context.next
    phones: str
    if word == "read":
        if prev in _HAVE_FORMS or prev in _BE_FORMS or prev in ("he", "she", "it"):
            phones = "R EH1 D"  # past participle / past tense ("he reads" would be present)
        elif prev in _VERB_CUES - _SUBJECT_PRONOUNS:
            phones = "R IY1 D"  # "to read", "will read", "don't read"
        else:
            phones = "R EH1 D" if context.sentence & _PAST_MARKERS else "R IY1 D"
    elif word == "live":
        adjective = (next_ in _LIVE_NOUNS or prev in _LIVE_ADVERB_CUES
                     or (prev in _DETERMINERS and next_ is not None))
        phones = "L AY1 V" if adjective else "L IH1 V"
    elif word == "lives":
        phones = "L AY1 V Z" if prev in _PLURAL_CUES else "L IH1 V Z"
    elif word == "lead":
        metal = next_ in _LEAD_METAL_NOUNS or (prev in ("of", "red", "white") and next_ is None)
        phones = "L EH1 D" if metal else "L IY1 D"
    elif word == "close":
        if prev in _VERB_CUES or (prev is None and next_ in _OBJECT_CUES | {"down", "up", "off"}):
            phones = "K L OW1 Z"
        elif prev in _DETERMINERS and next_ == "of":
            phones = "K L OW1 Z"  # "the close of trading"
        else:
            phones = "K L OW1 S"  # "close to", "very close", "a close friend"
    elif word == "use":
        noun = prev not in _VERB_CUES and (prev in _NOUN_CUES or prev in ("much", "make"))
        phones = "Y UW1 S" if noun else "Y UW1 Z"
    elif word == "content":
        adjective = prev in _BE_FORMS | {"feel", "felt", "seem", "seems", "seemed", "quite",
                                         "very", "perfectly", "more", "less", "so", "remain",
                                         "remained", "stay", "stayed"}
        phones = "K AH0 N T EH1 N T" if adjective else "K AA1 N T EH0 N T"
    elif word == "invalid":
        noun = prev in _DETERMINERS and (next_ is None or next_ in FUNCTION_WORDS)
        phones = "IH1 N V AH0 L IH0 D" if noun else "IH2 N V AE1 L AH0 D"
    elif word == "minute":
        adjective = (prev in _BE_FORMS | {"very", "so", "too", "most", "extremely", "quite"}
                     or next_ in _MINUTE_ADJ_NOUNS)
        phones = "M AY0 N UW1 T" if adjective else "M IH1 N AH0 T"
    elif word == "wound":
        past_of_wind = (next_ in {"up", "down", "around", "round", "back", "through", "tightly",
                                  "tight"} or prev in _HAVE_FORMS
                        or (prev in {"he", "she", "they", "i", "we", "you"}
                            and next_ in _OBJECT_CUES))
        phones = "W AW1 N D" if past_of_wind else "W UW1 N D"
    elif word == "bass":
        fish = bool(context.sentence & _FISH_WORDS)
        phones = "B AE1 S" if fish else "B EY1 S"
    elif word == "row":
        quarrel = (prev in {"blazing", "bitter", "furious", "heated", "public", "huge"}
                   or (prev in _DETERMINERS and next_ in {"with", "over", "about", "between"}))
        phones = "R AW1" if quarrel else "R OW1"
    elif word == "bow":
        ribbon = (next_ in {"tie", "ties", "and", "arrow", "arrows", "string", "strings", "legged",
                            "hunting", "hunter"}
                  or prev in {"violin", "cello", "viola", "rain", "hair", "ribbon", "pink", "red",
                              "cross", "long", "compound", "tied", "tie"})
        phones = "B OW1" if ribbon else "B AW1"
    elif word == "dove":
        dived = prev not in _DETERMINERS and (
            prev in {"he", "she", "they", "i", "we", "you", "it", "who"}
            or next_ in {"in", "into", "under", "off", "down", "through", "after", "headfirst",
                         "deep", "toward", "towards", "onto", "back", "out"})
        phones = "D OW1 V" if dived else "D AH1 V"
    elif word == "tear":
        ripping = (prev in _VERB_CUES or (prev == "and" and context.prev2 == "wear")
                   or (prev not in _DETERMINERS
                       and next_ in _OBJECT_CUES | {"up", "down", "apart", "off", "open", "out",
                                                    "into", "through", "away"}))
        phones = "T EH1 R" if ripping else "T IH1 R"
    elif word == "wind":
        winding = prev in _VERB_CUES or (
            prev not in _NOUN_CUES and next_ in _OBJECT_CUES | {"up", "down", "back"})
        phones = "W AY1 N D" if winding else "W IH1 N D"
    elif word in _STRESS_SHIFT:
        noun, verb, default = _STRESS_SHIFT[word]
        phones = verb if _noun_or_verb(context, default) == "verb" else noun
    else:
        return None
    return phones.split()


HOMOGRAPHS = frozenset(
    {"read", "live", "lives", "lead", "close", "use", "content", "invalid", "minute", "wound",
     "bass", "row", "bow", "dove", "tear", "wind"} | set(_STRESS_SHIFT)
)

# Function words for "is content word"; everything else (and every spelled letter) is content.
FUNCTION_WORDS = frozenset(
    """a an the this that these those my your his her its our their some any no every each
    i me we us you he him she it they them myself yourself himself herself itself ourselves
    themselves who whom whose which what there here
    and or but nor so yet if then than because as while although though since unless until
    of in on at by for with from to into onto upon over under about after before through
    between among against during without within along across around off up down out
    be is am are was were been being have has had having do does did will would shall should
    can could may might must not n't
    i'm you're he's she's it's we're they're i've you've we've they've i'd you'd he'd she'd
    we'd they'd i'll you'll he'll she'll we'll they'll that's there's isn't aren't wasn't
    weren't don't doesn't didn't won't can't couldn't shouldn't wouldn't""".split()
)


# --------------------------------------------------------------------------------------------
# The g2p-en neural model, for words that no dictionary knows.

def g2p_en_checkpoint() -> Path:
    """Path of ``g2p_en/checkpoint20.npz``, found without importing ``g2p_en``."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise G2PError(
            "the g2p-en package is not installed (its checkpoint pronounces unknown words): "
            "pip install g2p-en"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "checkpoint20.npz"
    if not path.is_file():
        raise G2PError(f"{path} is missing: reinstall g2p-en "
                       "(pip install --force-reinstall g2p-en)")
    return path


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warnings for large |x|


class _BoundedCache:
    """A thread-safe least-recently-used mapping of at most ``size`` entries.

    The G2P caches see every new word of a long-running process (a server, a corpus run):
    unbounded, they would grow without limit.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            return None

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


G2P_CACHE_WORDS = 20_000  # per model: a novel's vocabulary, a few MB


class NeuralG2P:
    """g2p-en's GRU encoder-decoder (no attention), greedy decoding, results cached per instance.

    Same math as ``g2p_en.G2p.predict``; the input projections ``emb @ W_ih.T + b_ih`` are
    precomputed per symbol, which gives the same result and saves half the matrix products.
    """

    GRAPHEMES: tuple[str, ...] = ("<pad>", "<unk>", "</s>") + tuple("abcdefghijklmnopqrstuvwxyz")
    PHONEMES: tuple[str, ...] = ("<pad>", "<unk>", "<s>", "</s>") + tuple(
        "AA0 AA1 AA2 AE0 AE1 AE2 AH0 AH1 AH2 AO0 AO1 AO2 AW0 AW1 AW2 AY0 AY1 AY2 B CH D DH EH0 EH1 "
        "EH2 ER0 ER1 ER2 EY0 EY1 EY2 F G HH IH0 IH1 IH2 IY0 IY1 IY2 JH K L M N NG OW0 OW1 OW2 OY0 "
        "OY1 OY2 P R S SH T TH UH0 UH1 UH2 UW UW0 UW1 UW2 V W Y Z ZH".split()
    )
    START, END = 2, 3  # decoder ids of <s> and </s>

    def __init__(self, checkpoint: str | Path | None = None) -> None:
        path = Path(checkpoint) if checkpoint is not None else g2p_en_checkpoint()
        with np.load(path, allow_pickle=False) as weights:
            w = {name: weights[name].astype(np.float32) for name in weights.files}
        if w["enc_emb"].shape[0] != len(self.GRAPHEMES) or w["fc_w"].shape[0] != len(self.PHONEMES):
            raise G2PError(f"{path} does not match the g2p-en vocabulary: reinstall g2p-en")
        self.encoder_input = w["enc_emb"] @ w["enc_w_ih"].T + w["enc_b_ih"]  # (29, 3H)
        self.encoder_w_hh, self.encoder_b_hh = w["enc_w_hh"], w["enc_b_hh"]  # (3H, H), (3H,)
        self.decoder_input = w["dec_emb"] @ w["dec_w_ih"].T + w["dec_b_ih"]  # (74, 3H)
        self.decoder_w_hh, self.decoder_b_hh = w["dec_w_hh"], w["dec_b_hh"]
        self.fc_w, self.fc_b = w["fc_w"], w["fc_b"]  # (74, H), (74,)
        self.hidden_size = self.encoder_w_hh.shape[1]
        self.grapheme_id = {g: i for i, g in enumerate(self.GRAPHEMES)}
        self._cache = _BoundedCache(G2P_CACHE_WORDS)  # word -> phonemes

    @staticmethod
    def _gru_step(
        x_proj: np.ndarray, h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray
    ) -> np.ndarray:
        """One PyTorch-convention GRU step; ``x_proj`` is ``x @ W_ih.T + b_ih``, (3H,)."""
        h_proj = w_hh @ h + b_hh  # (3H,)
        size = h.shape[0]
        r = _sigmoid(x_proj[:size] + h_proj[:size])
        z = _sigmoid(x_proj[size:2 * size] + h_proj[size:2 * size])
        n = np.tanh(x_proj[2 * size:] + r * h_proj[2 * size:])
        return (1.0 - z) * n + z * h

    def __call__(self, word: str) -> list[str]:
        """Phonemes of a lowercase a-z word; other characters count as <unk>."""
        phones = self._cache.get(word)
        if phones is None:
            phones = self._predict(word)
            self._cache.put(word, phones)
        return list(phones)

    def _predict(self, word: str) -> list[str]:
        unknown = self.grapheme_id["<unk>"]
        ids = [self.grapheme_id.get(c, unknown) for c in word] + [self.grapheme_id["</s>"]]
        h = np.zeros(self.hidden_size, np.float32)  # (H,)
        for i in ids:
            h = self._gru_step(self.encoder_input[i], h, self.encoder_w_hh, self.encoder_b_hh)
        # g2p-en stops at 20 phonemes; longer words would be cut off mid-word.
        max_steps = max(20, len(word) + 10)
        previous, phones = self.START, []
        for _ in range(max_steps):
            h = self._gru_step(
                self.decoder_input[previous], h, self.decoder_w_hh, self.decoder_b_hh
            )
            previous = int(np.argmax(self.fc_w @ h + self.fc_b))
            if previous == self.END:
                break
            phones.append(self.PHONEMES[previous])
        # The vocabulary has a stray stressless "UW" and special symbols; keep real phonemes.
        return complete_stress([p for p in phones if not p.startswith("<")])


# --------------------------------------------------------------------------------------------
# espeak-ng through phonemizer, and IPA → ARPAbet

# Longest symbols first when matching. Vowels map to bare ARPAbet vowels; stress comes from ˈ ˌ.
IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    k: tuple(v.split())
    for k, v in {
        "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "oʊ": "OW", "əʊ": "OW", "eɪ": "EY", "tʃ": "CH",
        "dʒ": "JH", "ɑɪ": "AY", "ɐɪ": "AY", "ʌɪ": "AY", "ɛɪ": "EY", "ɔʊ": "OW",
        "i": "IY", "ɪ": "IH", "ᵻ": "IH", "ɨ": "IH", "e": "EY", "ɛ": "EH", "æ": "AE", "a": "AA",
        "ɑ": "AA", "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH",
        "ɐ": "AH", "ɘ": "AH", "ɤ": "AH", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "ɵ": "ER", "ø": "ER",
        "œ": "ER", "y": "UW", "ʏ": "UH", "ɯ": "UW", "ɶ": "AA",
        "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
        "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
        "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ɹ": "R", "r": "R", "ʁ": "R", "ʀ": "R", "ɻ": "R",
        "ɾ": "T", "ɽ": "R", "w": "W", "j": "Y", "ʔ": "T", "x": "HH", "ç": "HH", "χ": "HH",
        "ɦ": "HH", "ħ": "HH", "ʕ": "HH", "ɲ": "N Y", "ʎ": "L Y", "β": "V", "ɣ": "G", "ʋ": "V",
        "ɕ": "SH", "ʑ": "ZH", "c": "K", "ɟ": "G", "ʝ": "Y", "ɱ": "M", "ɳ": "N", "ɭ": "L",
        "ʂ": "SH", "ʐ": "ZH", "ɗ": "D", "ɓ": "B", "q": "K", "ɰ": "W", "ɥ": "W", "ʍ": "W",
        "ɬ": "SH", "ɸ": "F",
    }.items()
}
_IPA_KEYS = sorted(IPA_TO_ARPABET, key=len, reverse=True)
_SYLLABIC = "\u0329"  # combining vertical line below: n̩ l̩ m̩ are syllables of their own


def ipa_to_arpabet(ipa_phones: list[str]) -> list[str]:
    """espeak IPA phones (stress marks attached, as phonemizer writes them) → ARPAbet."""
    arpabet: list[str] = []
    pending_stress: int | None = None
    for phone in ipa_phones:
        if "ˈ" in phone:
            pending_stress = 1
        elif "ˌ" in phone:
            pending_stress = 2 if pending_stress is None else pending_stress
        syllabic = _SYLLABIC in phone
        rest = "".join(c for c in unicodedata.normalize("NFD", phone)
                       if not unicodedata.combining(c) and c not in "ˈˌːˑ-ʰʲʷ˞")
        mapped: list[str] = []
        while rest:
            key = next((k for k in _IPA_KEYS if rest.startswith(k)), None)
            if key is None:
                logger.debug("no ARPAbet equivalent for IPA %r, dropped", rest[0])
                rest = rest[1:]
                continue
            mapped.extend(IPA_TO_ARPABET[key])
            rest = rest[len(key):]
        if syllabic and mapped and not any(p in VOWELS for p in mapped):
            mapped.insert(0, "AH")
        for p in mapped:
            if p in VOWELS:
                p += str(pending_stress or 0)
                pending_stress = None
            arpabet.append(p)
    return arpabet


class EspeakPhonemizer:
    """espeak-ng via phonemizer: words → IPA phones, one call per batch of new words, cached."""

    def __init__(self, language: str = "en-us") -> None:
        try:
            from phonemizer.backend import EspeakBackend
            from phonemizer.separator import Separator
        except ImportError:
            raise G2PError("the espeak backend needs phonemizer: pip install phonemizer") from None
        try:
            self._backend = EspeakBackend(
                language, with_stress=True, language_switch="remove-flags",
                words_mismatch="ignore", logger=logger,
            )
        except RuntimeError as exc:
            raise G2PError(
                f"espeak backend for language {language!r} is unavailable ({exc}): install "
                "espeak-ng and pick a language from `espeak-ng --voices`, e.g. en-us, fr-fr, de"
            ) from None
        self._separator = Separator(phone=" ", word="|", syllable="")
        self._cache = _BoundedCache(G2P_CACHE_WORDS)  # word -> IPA

    def __call__(self, words: list[str]) -> list[str]:
        """IPA for each word (phones separated by spaces; "" when espeak says nothing)."""
        known = {w: self._cache.get(w) for w in set(words)}
        new = sorted(w for w, ipa in known.items() if ipa is None)
        if new:
            ipa = self._backend.phonemize(new, separator=self._separator, strip=True)
            # espeak may read one of our words as several ("mp3"): they become one word here.
            for word, phones in zip(new, ipa):
                known[word] = " ".join(phones.replace("|", " ").split())
                self._cache.put(word, known[word])
        return [known[w] for w in words]


# --------------------------------------------------------------------------------------------

_MAX_NEURAL_LETTERS = 24


class G2P:
    """Normalized text → a list of ``Token``: words with phonemes, punctuation marks between."""

    def __init__(
        self,
        backend: Backend = "cmudict",
        *,
        language: str = "en-us",
        lexicon: str | Path | Lexicon | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise G2PError(f"unknown G2P backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if backend == "cmudict" and not language.lower().startswith("en"):
            raise G2PError(
                f"the cmudict backend speaks English only, not {language!r}: use backend='espeak'"
            )
        self.backend = backend
        self.language = language
        self.lexicon: Lexicon = (
            lexicon if isinstance(lexicon, dict)
            else load_user_lexicon(lexicon) if lexicon is not None else {}
        )
        self.is_english = language.lower().startswith("en")
        self._dictionary = cmudict() if backend == "cmudict" else {}
        self._neural: NeuralG2P | None = None  # loaded on the first unknown word
        self._espeak = EspeakPhonemizer(language) if backend == "espeak" else None

    @property
    def neural(self) -> NeuralG2P:
        if self._neural is None:
            self._neural = NeuralG2P()
        return self._neural

    def __call__(self, text: str) -> list[Token]:
        """Pronounce normalized text. Words that hold nothing speakable are dropped."""
        items = self._split(tokenize(text))
        words = [value for kind, value in items if kind == "word"]
        ipa = iter(self._espeak(words) if self._espeak is not None else [])
        tokens: list[Token] = []
        sentences = (self._sentence_words(items)
                     if any(kind == "word" and value in HOMOGRAPHS for kind, value in items)
                     else [])
        for index, (kind, value) in enumerate(items):
            if kind == "punct":
                tokens.append(Token(PUNCTUATION[value], source="punctuation"))
            elif kind == "block":
                phones = parse_inline(value)
                tokens.append(Token("{" + " ".join(phones) + "}", phones, "inline"))
            elif self._espeak is not None:
                word_ipa = next(ipa)
                token = self._lookup_user(value) or self._from_ipa(value, word_ipa)
                if token is not None:
                    tokens.append(token)
            else:
                context = (self._context(items, index, sentences[index])
                           if value in HOMOGRAPHS else Context())
                token = self._pronounce(value, context)
                if token.phonemes:
                    tokens.append(token)
        return tokens

    def phonemes(self, text: str) -> list[str]:
        """Flat phonemes of ``text``: ``sil``, words, ``sp`` at punctuation, ``sil``."""
        phones = [SILENCE]
        for token in self(text):
            if not token.is_word:
                if phones[-1] not in (SILENCE, PAUSE):
                    phones.append(PAUSE)
            else:
                phones.extend(token.phonemes)
        if phones[-1] == PAUSE:
            phones.pop()
        return phones + [SILENCE]

    def word(self, word: str) -> list[str]:
        """Phonemes of one word without context (a spelled letter if it is one uppercase letter)."""
        return [p for token in self(word) if token.is_word for p in token.phonemes]

    # -- internals ---------------------------------------------------------------------------

    def _known(self, key: str) -> bool:
        return key in self.lexicon or key in self._dictionary

    def _split(self, tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Fold words to ASCII and split what no dictionary knows into pronounceable parts."""
        items: list[tuple[str, str]] = []
        for kind, value in tokens:
            if kind != "word":
                items.append((kind, value))
                continue
            if self._espeak is not None and not self.is_english:
                items.append((kind, value.lower()))  # espeak reads its own script and accents
                continue
            folded = fold_ascii(value)
            if len(folded) == 1 and folded.isupper():
                items.append(("word", folded))  # a spelled letter
                continue
            key = folded.lower().strip("-")
            if not re.search(r"[a-z0-9]", key):
                logger.debug("nothing speakable in %r, skipped", value)
                continue
            parts = [key] if self._known(key) else [p for p in key.split("-") if p]
            for part in parts:
                if self._known(part) or not re.search(r"\d", part):
                    items.append(("word", part))
                    continue
                for run in re.findall(r"[a-z']+|\d", part):
                    items.append(("word", DIGIT_WORDS[int(run)] if run.isdigit() else run))
        return [(k, v) for k, v in items if k != "word" or re.search(r"[A-Za-z]", v)
                or self._espeak is not None]

    @staticmethod
    def _sentence_words(items: list[tuple[str, str]]) -> list[frozenset[str]]:
        """For each item, the lowercase words of its sentence: one pass, linear in the text."""
        sentences: list[frozenset[str]] = []
        start = 0
        for end, (kind, value) in enumerate(items + [("punct", ".")]):
            if kind == "punct" and PUNCTUATION[value] in SENTENCE_END:
                words = frozenset(v.lower() for k, v in items[start:end] if k == "word")
                sentences += [words] * (end + 1 - start)  # its end mark belongs to it too
                start = end + 1
        return sentences[:len(items)]

    @staticmethod
    def _context(items: list[tuple[str, str]], index: int, sentence: frozenset[str]) -> Context:
        """The neighbours of ``items[index]`` and the words of its sentence
        (``_sentence_words``)."""
        def neighbour(step: int, count: int) -> str | None:
            i = index
            for _ in range(count):
                i += step
                if not 0 <= i < len(items) or items[i][0] != "word":
                    return None
            return items[i][1].lower()

        return Context(prev=neighbour(-1, 1), prev2=neighbour(-1, 2), next=neighbour(1, 1),
                       next2=neighbour(1, 2), sentence=sentence)

    def _lookup_user(self, word: str) -> Token | None:
        key = word.lower()
        if key in self.lexicon:
            return Token(key, list(self.lexicon[key][0]), "lexicon")
        return None

    def _pronounce(self, word: str, context: Context) -> Token:
        if len(word) == 1 and word.isupper():
            return self._lookup_user(word) or Token(word, list(LETTER_NAMES[word]), "letter")
        if (token := self._lookup_user(word)) is not None:
            return token
        if self.is_english and (phones := homograph(word, context)) is not None:
            return Token(word, phones, "homograph")
        if word in self._dictionary:
            return Token(word, list(self._dictionary[word][0]), "cmudict")
        stem = word[:-2]
        if word.endswith("'s") and stem and (stem in self._dictionary or stem in self.lexicon):
            phones = (self.lexicon.get(stem) or self._dictionary[stem])[0]
            last = split_stress(phones[-1])[0]
            suffix = (["IH0", "Z"] if last in ("S", "Z", "SH", "ZH", "CH", "JH")
                      else ["S"] if last in ("P", "T", "K", "F", "TH") else ["Z"])
            return Token(word, list(phones) + suffix, "cmudict")
        letters = re.sub(r"[^a-z]", "", word)
        if letters in self._dictionary:
            return Token(word, list(self._dictionary[letters][0]), "cmudict")
        if not re.search(r"[aeiouy]", letters):
            # No vowel letter: an abbreviation the normalizer did not spell out ("mp", "nhs").
            spelled = [p for c in letters for p in LETTER_NAMES[c.upper()]]
            return Token(word, spelled, "spelled")
        # The model was trained on dictionary words; a 500-letter "word" is read in pieces.
        pieces = [letters[i:i + _MAX_NEURAL_LETTERS]
                  for i in range(0, len(letters), _MAX_NEURAL_LETTERS)]
        phones = [p for piece in pieces for p in self.neural(piece)]
        if phones:
            return Token(word, phones, "neural")
        return Token(word, [p for c in letters for p in LETTER_NAMES[c.upper()]], "spelled")

    def _from_ipa(self, word: str, ipa: str) -> Token | None:
        if len(word) == 1 and word.isupper() and self.is_english:
            return Token(word, list(LETTER_NAMES[word]), "letter")
        phones = ipa_to_arpabet(ipa.split())
        if not phones:
            logger.debug("espeak has no pronunciation for %r, skipped", word)
            return None
        return Token(word.lower(), phones, "espeak", ipa)
