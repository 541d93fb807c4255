"""English text normalization: raw text → the spoken words that the G2P pronounces.

``normalize_text`` returns lowercase words separated by single spaces, single UPPERCASE letters
for letters to be spelled ("FBI" → "F B I"; a trailing "'s" may follow: "F B I's"), the
punctuation ``, . ? ! ; :`` where a speaker pauses, and inline phoneme blocks ``{HH AH0 L OW1}``
passed through unchanged. A stray ``{`` or ``}`` is kept too, for the G2P to report.
``split_sentences`` cuts raw text into sentences before normalization.

Handled, in the order of the passes (each pass turns what it recognizes into final words that
the later passes no longer see):

* Unicode: NFKC (ligatures, full-width digits, non-breaking spaces, "…"), accents stripped
  (café → cafe), curly quotes, dashes (en/em dash → pause, en dash between numbers → "to"),
  vulgar fractions, superscript powers; control characters, emoji and other scripts dropped.
* URLs and e-mail addresses: "www.example.com/path" → "W W W dot example dot com slash path".
* Abbreviations: titles (Dr./St. as doctor/saint before a name, drive/street after one), Mr.,
  Mrs., Prof., Jr., vs., etc., e.g., i.e., approx., Ave., No. 5, months and weekdays.
* Phone numbers digit by digit in groups; dates (2019-10-05, 10/5/2019, January 5);
  times (10:30, 9am, 9:05 p.m., 12:00 → twelve o'clock).
* Money ($3.50, £2.05, €100, $1.2 million, 99¢), percentages, numbers with units (5 km,
  1 kg, 20 °C, 60 mph, 3 GB, km/h), ordinals (22nd), decades (1990s, '90s), powers (2^3),
  fractions (3/4, 1 1/2), ranges (5-10), years (1987, "in 1066", 300 BC), cardinals with
  thousands separators, decimals and signs, letter-digit mixes (mp3 → M P three).
* Roman numerals after a keyword (Chapter IV → chapter four) or a name (Henry VIII → henry the
  eighth); never on their own, so "I", "MIX" or "CIVIL" stay words.
* Dotted acronyms and initials (U.S.A., J. R. R. Tolkien), acronyms (spelled when CMUdict spells
  them or they cannot be pronounced: HTML; read as words otherwise: NASA), shouted text.
* Symbols: + = & @ % # ~ ° / < > × and friends become words; other symbols are dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from frontend import numbers
from frontend.lexicon import cmudict


class NormalizationError(ValueError):
    """Input that cannot be normalized at all (only a non-string: every string is accepted)."""


# --------------------------------------------------------------------------------------------
# Finished words are parked behind private-use placeholders so that later passes cannot touch
# them: a pass that turned "$5" into "five dollars" must not see "dollars" again.

_WORD_OPEN, _WORD_CLOSE, _BLOCK_OPEN, _BLOCK_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_INDEX_BASE = 0xE010  # the index of a placeholder is written with the digits U+E010..U+E019
_PRIVATE_USE = re.compile("[\ue000-\ue0ff]")
_WORD_PLACEHOLDER = re.compile("\ue000([\ue010-\ue019]+)\ue001")
_BLOCK_PLACEHOLDER = re.compile("\ue002([\ue010-\ue019]+)\ue003")
_PHONEME_BLOCK = re.compile(r"\{[^{}]*\}")  # the same pattern as the G2P's
_TO_PRIVATE_DIGITS = str.maketrans("0123456789", "".join(chr(_INDEX_BASE + d) for d in range(10)))
_FROM_PRIVATE_DIGITS = {v: k for k, v in _TO_PRIVATE_DIGITS.items()}


def _encode_index(index: int) -> str:
    return str(index).translate(_TO_PRIVATE_DIGITS)


def _decode_index(code: str) -> int:
    return int(code.translate(_FROM_PRIVATE_DIGITS))


@dataclass
class _Parked:
    """Finished output (spoken words, phoneme blocks) kept out of reach of the later passes."""

    words: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)

    def word(self, spoken: str) -> str:
        """A placeholder for ``spoken`` (final output); a plain space if there is nothing to say."""
        if not spoken.strip():
            return " "
        self.words.append(spoken)
        return _WORD_OPEN + _encode_index(len(self.words) - 1) + _WORD_CLOSE

    def block(self, block: str) -> str:
        self.blocks.append(block)
        return _BLOCK_OPEN + _encode_index(len(self.blocks) - 1) + _BLOCK_CLOSE

    def restore_words(self, text: str) -> str:
        return _WORD_PLACEHOLDER.sub(lambda m: f" {self.words[_decode_index(m.group(1))]} ", text)

    def restore_blocks(self, text: str) -> str:
        return _BLOCK_PLACEHOLDER.sub(lambda m: self.blocks[_decode_index(m.group(1))], text)


# --------------------------------------------------------------------------------------------
# Unicode → ASCII plus the few symbols that the passes below still need to see.

# Before NFKC, which would turn "1½" into "11⁄2" and "m²" into "m2".
_VULGAR_FRACTION = re.compile("[\u00bc-\u00be\u2150-\u215e]")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_BEFORE_NFKC = str.maketrans({
    "º": "°", "™": " ", "®": " ", "©": " ", "℠": " ",
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "–", "\u2013": "–",
    "\u2014": " — ", "\u2015": " — ", "\u2053": "~",
})
# After NFKC. Letters that do not decompose into ASCII, quotes, and symbols said as words.
_AFTER_NFKC = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "dh", "Ð": "Dh", "þ": "th", "Þ": "Th", "ı": "i",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "ʼ": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "×": " times ", "÷": " divided by ", "±": " plus or minus ", "≈": " approximately ",
    "≠": " not equal to ", "≤": " less than or equal to ", "≥": " greater than or equal to ",
    "∞": " infinity ", "π": " pi ", "√": " square root of ", "§": " section ", "¶": " ",
    "•": ", ", "·": " ", "→": " to ", "←": " ", "⁄": "/", "‰": " per mille", "¡": " ",
    "¿": " ",
})
# Non-ASCII characters that the passes read (currency, degrees, micro, dashes); others go.
_KEPT_SYMBOLS = "£€¥₹¢°μ–—"
_UNSPEAKABLE = re.compile(f"[^\\x20-\\x7e{_KEPT_SYMBOLS}\ue000-\ue0ff]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _fold_character(char: str) -> str:
    """Accents off (é → e), other-script digits to ASCII; anything else unreadable → space."""
    category = unicodedata.category(char)
    if category in ("Cf", "Cs", "Cn"):
        return ""  # soft hyphen, zero-width space, BOM: they join what they separate
    if category == "Nd":
        return str(unicodedata.decimal(char))
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base.isascii() and base.strip() else " "


def unspeakable_characters(text: str) -> list[str]:
    """The runs of characters that ``normalize_text`` drops (other scripts, emoji), each once.

    So that callers can say what was skipped: normalization itself stays silent.
    """
    text = unicodedata.normalize("NFKC", text.translate(_BEFORE_NFKC)).translate(_AFTER_NFKC)
    runs: dict[str, None] = {}
    for match in _UNSPEAKABLE.finditer(_CONTROL.sub(" ", text)):
        run = ""
        for char in match.group():
            folded = _fold_character(char)
            if folded == " " and not char.isspace():
                run += char
            elif folded and run:  # "" (a zero-width joiner) keeps an emoji sequence together
                runs[run] = None
                run = ""
        if run:
            runs[run] = None
    return list(runs)


def _clean_unicode(text: str) -> str:
    text = _VULGAR_FRACTION.sub(
        lambda m: " " + unicodedata.normalize("NFKC", m.group()).replace("⁄", "/") + " ", text)
    text = _SUPERSCRIPT.sub(lambda m: "^" + m.group().translate(_SUPERSCRIPT_DIGITS), text)
    text = unicodedata.normalize("NFKC", text.translate(_BEFORE_NFKC)).translate(_AFTER_NFKC)
    text = _CONTROL.sub(" ", text)
    return _UNSPEAKABLE.sub(lambda m: "".join(_fold_character(c) for c in m.group()), text)


# --------------------------------------------------------------------------------------------
# Context shared by the passes and by split_sentences.

# Capitalized words that begin a new sentence after an abbreviation's period ("... etc. The").
_SENTENCE_STARTERS = frozenset("""
    a after all also although an and another are as at because before both but by can could
    did do does during each even every first for from had has have he her here his how however
    i if in is it its just last later let many maybe meanwhile more most my next no not now of
    on once one our perhaps please she since so some soon still such that the their then there
    these they this those though thus today tomorrow unless until was we were what when where
    which while who why will with within without would yes yesterday yet you your
""".split())

_AFTER_PERIOD = re.compile(r"""["')\]]*(?P<space>\s*)(?P<word>[A-Za-z][A-Za-z']*)?""")


def _sentence_ends_after(text: str, pos: int) -> bool:
    """Whether an abbreviation's period just before ``pos`` also ends the sentence.

    Yes at the end of the text or a line, and before a capitalized word that usually starts a
    sentence ("etc. The"); no before a name ("Dr. Smith", "J. R. R. Tolkien") or lowercase.
    """
    match = _AFTER_PERIOD.match(text, pos)
    word = match.group("word")
    if (not word and match.end() >= len(text)) or "\n" in match.group("space"):
        return True
    return bool(match.group("space") and word and word[0].isupper()
                and word.lower() in _SENTENCE_STARTERS)


_NEXT_WORD = re.compile(r"\s+(?P<word>[A-Za-z][A-Za-z']*)")


def _next_word(text: str, pos: int) -> str:
    match = _NEXT_WORD.match(text, pos)
    return match.group("word") if match else ""


def _previous_word(text: str, pos: int) -> tuple[str, bool]:
    """The word before ``pos`` (space-separated) and whether it starts a sentence.

    Only a short window is looked at, so that calling this for every match stays linear.
    """
    window = text[max(0, pos - 60):pos]
    if not window or not window[-1].isspace():
        return "", True
    parts = window.rstrip().rsplit(None, 1)
    if not parts:
        return "", pos <= 60
    if len(parts) == 1:
        return parts[0], pos <= 60
    return parts[1], parts[0][-1] in ".!?"


def _is_capitalized(word: str) -> bool:
    return bool(word) and word[0].isupper()


# --------------------------------------------------------------------------------------------
# Words: read as a word, or spell letter by letter?

# Letter names as CMUdict writes them (stress removed), to recognize spelled entries ("fbi").
_LETTER_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "a": (("EY",),), "b": (("B", "IY"),), "c": (("S", "IY"),), "d": (("D", "IY"),),
    "e": (("IY",),), "f": (("EH", "F"),), "g": (("JH", "IY"),), "h": (("EY", "CH"),),
    "i": (("AY",),), "j": (("JH", "EY"),), "k": (("K", "EY"),), "l": (("EH", "L"),),
    "m": (("EH", "M"),), "n": (("EH", "N"),), "o": (("OW",),), "p": (("P", "IY"),),
    "q": (("K", "Y", "UW"),), "r": (("AA", "R"),), "s": (("EH", "S"),), "t": (("T", "IY"),),
    "u": (("Y", "UW"),), "v": (("V", "IY"),),
    "w": (("D", "AH", "B", "AH", "L", "Y", "UW"), ("D", "AH", "B", "AH", "Y", "UW"),
          ("D", "AH", "B", "L", "Y", "UW")),
    "x": (("EH", "K", "S"),), "y": (("W", "AY"),), "z": (("Z", "IY"), ("Z", "EH", "D")),
}

# Consonant clusters that may begin or end an English syllable, for the pronounceability test.
_ONSETS = frozenset("""
    b c d f g h j k l m n p q r s t v w x y z bl br ch cl cr dr dw fl fr gl gn gr kl kn kr ph
    pl pr sc sch scr sh shr sk sl sm sn sp sph spl spr st str sw th thr tr tw wh wr squ qu
""".split()) | {""}
_CODAS = frozenset("""
    b c d f g h k l m n p r s t v w x z ch ck ct ds ft gh ght ks ld lf lk lm lp ls lt mb mp ms
    nch nd ng nk ns nt nth ps pt rb rc rch rd rf rg rk rl rm rn rp rs rst rt sh sk sp st tch th
    ts tz
""".split()) | {""}

# Two-letter capitals that are English words, not acronyms, when written in caps ("I said NO").
_CAPITALIZED_WORDS = frozenset("""
    AM AN AS AT BE BY DO GO HE HI IF IN IS ME MY NO OF OH OK ON OR SO TO UP WE
""".split())
# Acronyms that CMUdict knows only as a word ("id", "it" as in IT department).
_ALWAYS_SPELLED = frozenset("ID IT IP OS PC PR HR UI".split())


def _is_spelled(pronunciation: list[str], word: str) -> bool:
    """Whether ``pronunciation`` spells ``word`` letter by letter ("fbi": EH F B IY AY)."""
    phones = tuple(p.rstrip("012") for p in pronunciation)

    @functools.lru_cache(maxsize=None)
    def matches(letter: int, phone: int) -> bool:
        if letter == len(word):
            return phone == len(phones)
        return any(phones[phone:phone + len(name)] == name
                   and matches(letter + 1, phone + len(name))
                   for name in _LETTER_NAMES.get(word[letter], ()))

    return matches(0, 0)


def _is_pronounceable(word: str) -> bool:
    """A rough test: vowels, and consonant clusters that English allows ("nasa" yes, "fbi" no)."""
    clusters = re.split(r"[aeiouy]+", word.lower())
    if len(clusters) < 2:
        return False
    onset, *middle, coda = clusters
    if onset not in _ONSETS or (coda not in _CODAS and coda[:-1] not in _CODAS):
        return False
    return all(len(c) <= 4 and any(c[:i] in _CODAS and c[i:] in _ONSETS for i in range(len(c) + 1))
               for c in middle)


def _letters(word: str) -> str:
    """"html" → "H T M L"."""
    return " ".join(word.upper())


def _say_capitals(word: str, shouted: bool) -> str:
    """An all-caps word (two letters or more): spelled ("F B I") or a word ("nasa", "hello")."""
    lower = word.lower()
    if word in _ALWAYS_SPELLED and not shouted:
        return _letters(word)
    if word in _CAPITALIZED_WORDS:
        return lower
    pronunciations = cmudict().get(lower)
    if pronunciations:
        # In shouted text only the usual reading counts ("HELP US"); elsewhere a spelled
        # variant means an acronym ("the US economy").
        candidates = pronunciations[:1] if shouted else pronunciations
        return _letters(word) if any(_is_spelled(p, lower) for p in candidates) else lower
    if len(word) <= 3 and not shouted:
        return _letters(word)
    return lower if _is_pronounceable(lower) else _letters(word)


@functools.lru_cache(maxsize=1 << 16)
def _say_word(word: str, shouted: bool = False) -> str:
    """Final form of one word of letters and inner apostrophes."""
    if len(word) == 1:
        return word.lower() if word in "AI" or word.islower() else word
    stem, apostrophe, rest = word.partition("'")
    if stem.isupper() and len(stem) > 1 and not apostrophe:
        return _say_capitals(stem, shouted)
    if stem.isupper() and len(stem) > 1 and rest in ("s", "S"):
        # Only the usual reading counts before 's: "IT'S" is "it's", "FBI's" is "F B I's".
        return _say_capitals(stem, shouted=True) + "'s"
    if len(word) > 2 and word[:-1].isupper() and word.endswith("s"):  # plural acronym: "ATMs"
        spoken = _say_capitals(word[:-1], shouted)
        return spoken + "'s" if spoken.isupper() else word.lower()
    lower = word.lower()
    if lower in cmudict():
        if any(c.isupper() for c in word[1:]) and _is_spelled(cmudict()[lower][0], lower):
            return _letters(lower)  # "PhD"
        return lower
    if not re.search(r"[aeiouy]", lower) and "'" not in lower:
        return _letters(lower)  # "mp", "xkcd": nothing to pronounce as a word
    return lower


# --------------------------------------------------------------------------------------------
# URLs and e-mail addresses

_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|io|co|uk|us|de|fr|ca|au|jp|cn|in|ru|br|it|es|"
         "nl|eu|ch|se|no|ai|app|dev|me|tv|ly|gg|xyz|online|site|tech|news|blog")
_URL_CHARACTERS = "[^\\s<>\"{}\ue000-\ue0ff]"
_URL = re.compile(
    rf"(?<![\w@.\-])(?:(?:https?|ftp)://|www\.){_URL_CHARACTERS}+"
    rf"|(?<![\w@.\-])(?:[a-z0-9\-]+\.)+(?:{_TLDS})\b(?![.\-]?[a-z0-9])(?:/{_URL_CHARACTERS}*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ADDRESS_SYMBOLS = {
    ".": "dot", "/": "slash", "-": "dash", "_": "underscore", "@": "at", ":": "colon",
    "?": "question mark", "=": "equals", "&": "and", "#": "hash", "%": "percent",
    "~": "tilde", "+": "plus",
}
# How address parts are usually read, where the general rules would guess wrong.
_ADDRESS_WORDS = {"www": "W W W", "com": "com", "org": "org", "net": "net", "gov": "gov",
                  "edu": "E D U", "io": "I O", "html": "H T M L", "htm": "H T M"}
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?)\]'\"]+$")


def _say_address_part(part: str) -> str:
    lower = part.lower()
    if lower in _ADDRESS_WORDS:
        return _ADDRESS_WORDS[lower]
    if len(part) == 1:
        return part.upper()
    pronunciations = cmudict().get(lower)
    if pronunciations:
        return _letters(lower) if _is_spelled(pronunciations[0], lower) else lower
    return lower if len(part) > 3 and _is_pronounceable(lower) else _letters(lower)


def _say_address(address: str) -> str:
    """"jane.doe@example.org" → "jane dot doe at example dot org"."""
    address = re.sub(r"^(?:https?|ftp)://", "", address, flags=re.IGNORECASE).rstrip("/")
    words = []
    for part in re.findall(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]", address):
        if part[0].isalpha():
            words.append(_say_address_part(part))
        elif part[0].isdigit():
            words.append(numbers.digits(part))
        elif part in _ADDRESS_SYMBOLS:
            words.append(_ADDRESS_SYMBOLS[part])
    return " ".join(words)


def _urls_and_emails(text: str, parked: _Parked) -> str:
    def url(match: re.Match) -> str:
        address = match.group()
        trailing = _TRAILING_PUNCTUATION.search(address)
        if trailing:  # sentence punctuation after the address is not part of it
            address = address[:trailing.start()]
            return parked.word(_say_address(address)) + trailing.group()
        return parked.word(_say_address(address))

    text = _EMAIL.sub(lambda m: parked.word(_say_address(m.group())), text)
    return _URL.sub(url, text)


# --------------------------------------------------------------------------------------------
# Abbreviations

_TITLES = {  # before a name; the period never ends a sentence
    "Mr": "mister", "Mrs": "missus", "Ms": "miz", "Prof": "professor", "Capt": "captain",
    "Lt": "lieutenant", "Sgt": "sergeant", "Gen": "general", "Col": "colonel",
    "Rev": "reverend", "Gov": "governor", "Sen": "senator", "Rep": "representative",
    "Pres": "president", "Fr": "father", "Hon": "honorable", "Mt": "mount", "Ft": "fort",
}
_TITLE_OR_STREET = {"Dr": ("doctor", "drive"), "St": ("saint", "street")}
_ABBREVIATIONS = {  # always expanded; a period may also end the sentence
    "Jr": "junior", "Sr": "senior", "vs": "versus", "Vs": "versus", "etc": "et cetera",
    "Etc": "et cetera", "approx": "approximately", "Approx": "approximately",
    "Ave": "avenue", "Blvd": "boulevard", "Rd": "road", "Ln": "lane", "Hwy": "highway",
    "Inc": "incorporated", "Ltd": "limited", "Corp": "corporation", "Dept": "department",
    "Univ": "university", "Fig": "figure", "fig": "figure", "Figs": "figures",
    "Vol": "volume", "vol": "volume", "Eq": "equation", "eq": "equation",
    "e.g": "for example", "E.g": "for example", "i.e": "that is", "I.e": "that is",
    "cf": "compare", "a.k.a": "also known as", "et al": "et al", "Ph.D": "P H D",
    "Bros": "brothers",
}
_WITHOUT_PERIOD = frozenset({"Mr", "Mrs", "Ms", "Dr", "St", "vs", "etc", "Jr", "Sr", "Ltd"})
_MONTHS = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October",
    "Nov": "November", "Dec": "December",
}
_WEEKDAYS = {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday",
    "Thu": "Thursday", "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday",
    "Sat": "Saturday", "Sun": "Sunday",
}
_MONTH_NAMES = ("January February March April May June July August September October "
                "November December").split()
_NUMBER_SIGN = {"No": "number", "no": "number", "Nos": "numbers", "Nr": "number"}
_ALL_ABBREVIATIONS = {**_TITLES, **_ABBREVIATIONS, **_MONTHS, **_WEEKDAYS, **_NUMBER_SIGN,
                      **{k: v[0] for k, v in _TITLE_OR_STREET.items()}}
_ABBREVIATION = re.compile(
    r"(?<![\w.'])(?P<abbr>"
    + "|".join(re.escape(k) for k in sorted(_ALL_ABBREVIATIONS, key=len, reverse=True))
    + r")(?P<dot>\.)?(?![\w'])"
)
_DIGIT_FOLLOWS = re.compile(r"\s?[0-9]")
_DAY_CONTEXT_FOLLOWS = re.compile(
    r",|\s+[0-9]|\s+(?:" + "|".join(list(_MONTHS) + _MONTH_NAMES) + r")\b")


def _expand_abbreviation(match: re.Match) -> str:
    text, abbr, dot = match.string, match.group("abbr"), match.group("dot") or ""
    following = _next_word(text, match.end())
    name_follows = _is_capitalized(following) and following.lower() not in _SENTENCE_STARTERS
    if not dot and abbr not in _WITHOUT_PERIOD and abbr not in _MONTHS:
        return match.group()
    period = "." if dot and _sentence_ends_after(text, match.end()) else ""
    if abbr in _TITLE_OR_STREET:
        title, street = _TITLE_OR_STREET[abbr]
        previous, previous_starts = _previous_word(text, match.start())
        # "Elm St." and "12 Main St": the name of the street comes first (not "2019, Dr.").
        after_street_name = bool(previous) and previous[-1] not in ",;:" and (
            previous[0].isdigit() or (_is_capitalized(previous) and not previous_starts))
        if after_street_name:
            return street + period
        # At the start of the text "Dr. Who ..." is a title even before a sentence-starter word.
        if name_follows or (not previous and _is_capitalized(following)):
            return title
        return (title if abbr == "Dr" else street) + period if dot else match.group()
    if abbr in _TITLES:
        return _TITLES[abbr] if dot or name_follows else match.group()
    if abbr in _MONTHS:
        if dot or _DIGIT_FOLLOWS.match(text, match.end()):
            return _MONTHS[abbr] + period
        return match.group()
    if abbr in _WEEKDAYS:
        unambiguous = abbr in ("Tues", "Wed", "Thur", "Thurs")  # not "Sun.", "Sat."
        if unambiguous or _DAY_CONTEXT_FOLLOWS.match(text, match.end()):
            return _WEEKDAYS[abbr] + period
        return match.group()
    if abbr in _NUMBER_SIGN:
        return _NUMBER_SIGN[abbr] if _DIGIT_FOLLOWS.match(text, match.end()) else match.group()
    return _ABBREVIATIONS[abbr] + period


def _abbreviations(text: str, parked: _Parked) -> str:
    return _ABBREVIATION.sub(_expand_abbreviation, text)


# --------------------------------------------------------------------------------------------
# Phone numbers, dates, times

_PHONE = re.compile(
    r"(?<![\w+\-.,/])(?:"
    r"\+[0-9]{1,3}(?:[ .\-]\(?[0-9]{1,5}\)?){2,5}"  # +44 20 7946 0958, +1 (800) 555-1234
    r"|(?:1[ .\-])?(?:\([0-9]{3}\) ?[0-9]{3}[ .\-]?[0-9]{4}"  # (555) 123-4567
    r"|[0-9]{3}(?P<sep>[.\-])[0-9]{3}(?P=sep)[0-9]{4}"  # 555-123-4567, 1-800-555-1234
    r"|[0-9]{3}-[0-9]{4})"  # 555-1234
    r")(?![\w\-]|[.,][0-9])"
)


def _say_phone_number(match: re.Match) -> str:
    groups = re.findall(r"[0-9]+", match.group())
    spoken = ", ".join(numbers.digits(group, zero="oh") for group in groups)
    return ("plus " if match.group().startswith("+") else "") + spoken


def _phone_numbers(text: str, parked: _Parked) -> str:
    def phone(match: re.Match) -> str:
        if sum(c.isdigit() for c in match.group()) < 7:  # "+1 5 10" is not a phone number
            return match.group()
        return parked.word(_say_phone_number(match))

    return _PHONE.sub(phone, text)


_MONTH_PATTERN = "|".join(_MONTH_NAMES)
_ISO_DATE = re.compile(r"(?<![\w\-.])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![\w\-]|\.[0-9])")
_US_DATE = re.compile(r"(?<![\w/.])([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}|[0-9]{2})(?![\w/]|\.[0-9])")
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_PATTERN})\.? ([0-9]{{1,2}})(?:st|nd|rd|th)?\b(?![:.,][0-9]|[0-9%])")
_DAY_MONTH = re.compile(rf"(?<![\w.,])([0-9]{{1,2}}) ({_MONTH_PATTERN})\b")


def _say_year(digits: str) -> str:
    """"1999" → "nineteen ninety nine"; short: "99" → "ninety nine", "05" → "oh five"."""
    if len(digits) == 4:
        return numbers.year(int(digits))
    return ("oh " if digits.startswith("0") else "") + numbers.cardinal(int(digits))


def _say_date(year: str, month: str, day: str) -> str | None:
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{_MONTH_NAMES[int(month) - 1].lower()} {numbers.ordinal(int(day))}, {_say_year(year)}"


def _dates(text: str, parked: _Parked) -> str:
    def date(year: str, month: str, day: str, original: str) -> str:
        spoken = _say_date(year, month, day)
        return original if spoken is None else parked.word(spoken)

    text = _ISO_DATE.sub(lambda m: date(m.group(1), m.group(2), m.group(3), m.group()), text)
    text = _US_DATE.sub(lambda m: date(m.group(3), m.group(1), m.group(2), m.group()), text)

    def month_day(match: re.Match) -> str:
        day = int(match.group(2))
        if not 1 <= day <= 31:
            return match.group()
        return parked.word(f"{match.group(1).lower()} {numbers.ordinal(day)}")

    def day_month(match: re.Match) -> str:
        day = int(match.group(1))
        if not 1 <= day <= 31:
            return match.group()
        return parked.word(f"the {numbers.ordinal(day)} of {match.group(2).lower()}")

    text = _MONTH_DAY.sub(month_day, text)
    return _DAY_MONTH.sub(day_month, text)


_AM_PM = r"(?P<ampm>[AaPp])\.? ?[Mm]\b(?P<dot>\.)?"
_CLOCK_TIME = re.compile(
    r"(?<![\w:.])(?P<hour>[01]?[0-9]|2[0-4]):(?P<minute>[0-5][0-9])(?::(?P<second>[0-5][0-9]))?"
    rf"(?![0-9:]|\.[0-9])(?: ?{_AM_PM})?"
)
_HOUR_AM_PM = re.compile(rf"(?<![\w:.])(?P<hour>1[0-2]|0?[1-9]) ?{_AM_PM}")


def _say_time(match: re.Match) -> str:
    groups = match.groupdict()
    hour, minute = int(groups["hour"]), int(groups.get("minute") or 0)
    words = [numbers.cardinal(hour)]
    if minute:
        words.append(("oh " if minute < 10 else "") + numbers.cardinal(minute))
    elif not groups["ampm"] and groups.get("minute"):
        words.append("o'clock" if 1 <= hour <= 12 else "hundred")
    if groups.get("second"):
        seconds = int(groups["second"])
        words.append(f"and {numbers.cardinal(seconds)} second{'s' if seconds != 1 else ''}")
    if groups["ampm"]:
        words.append(groups["ampm"].upper() + " M")
    return " ".join(words)


def _times(text: str, parked: _Parked) -> str:
    def time(match: re.Match) -> str:
        ends = match.group("dot") and _sentence_ends_after(match.string, match.end())
        return parked.word(_say_time(match)) + ("." if ends else "")

    text = _CLOCK_TIME.sub(time, text)
    return _HOUR_AM_PM.sub(time, text)


# --------------------------------------------------------------------------------------------
# Numbers: money, percentages, ordinals, decades, units, powers, fractions, ranges, cardinals

# A number as written: thousands separators only in groups of three ("1,234" but "1,2" is two
# numbers), decimals, or a bare fraction part (".5").
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
# A minus sign is a hyphen that does not follow a word ("-5", "(-3)"; not "COVID-19", "5-10").
_MINUS = r"(?P<minus>(?<![\w.\ue001-])-)?(?<![\w.])"


def _say_number(number: str, minus: bool = False) -> str:
    """"1,234.5" → "one thousand two hundred thirty four point five"; "1.2.3" → "one point two
    point three"."""
    integer, *fractions = number.replace(",", "").split(".")
    words = [numbers.decimal(integer)] if integer else []
    words += ["point " + numbers.digits(fraction) for fraction in fractions]
    return ("minus " if minus else "") + " ".join(words)


_CURRENCIES = {  # symbol: one, many, one hundredth, many hundredths
    "$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_CURRENCY_CODES = {"USD": "$", "US$": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_MONEY_SCALES = {
    "thousand": "thousand", "k": "thousand", "K": "thousand", "million": "million",
    "m": "million", "M": "million", "mn": "million", "billion": "billion", "b": "billion",
    "B": "billion", "bn": "billion", "trillion": "trillion", "tn": "trillion",
}
_MONEY = re.compile(
    rf"{_MINUS}(?P<symbol>US\$|[$£€¥₹]) ?(?P<number>{_NUMBER})"
    r"(?: ?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|[kKmMbB])\b)?"
)
_MONEY_AFTER = re.compile(
    rf"{_MINUS}(?P<number>{_NUMBER}) ?(?:(?P<cents>¢)|(?P<code>USD|EUR|GBP|JPY|INR)\b)")


def _say_money(number: str, symbol: str, scale: str | None = None, minus: bool = False) -> str:
    """"3.50", "$" → "three dollars and fifty cents"; "1.2", "$", "m" → "one point two million
    dollars"."""
    one, many, hundredth, hundredths = _CURRENCIES[symbol]
    sign = "minus " if minus else ""
    integer, _, fraction = number.replace(",", "").partition(".")
    if scale or len(fraction) > 2 or (fraction and not hundredth):
        scale_word = _MONEY_SCALES[scale] + " " if scale else ""
        return f"{sign}{_say_number(number)} {scale_word}{many}"
    cents = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if integer.strip("0") or not cents:
        parts.append(f"{numbers.decimal(integer or '0')} {one if integer == '1' else many}")
    if cents:
        parts.append(f"{numbers.cardinal(cents)} {hundredth if cents == 1 else hundredths}")
    return sign + " and ".join(parts)


def _money(text: str, parked: _Parked) -> str:
    def money(match: re.Match) -> str:
        symbol = _CURRENCY_CODES.get(match.group("symbol"), match.group("symbol"))
        return parked.word(_say_money(match.group("number"), symbol, match.group("scale"),
                                      bool(match.group("minus"))))

    def money_after(match: re.Match) -> str:
        number, minus = match.group("number"), bool(match.group("minus"))
        if match.group("cents"):
            one = number == "1"
            return parked.word(f"{_say_number(number, minus)} {'cent' if one else 'cents'}")
        return parked.word(_say_money(number, _CURRENCY_CODES[match.group("code")], None, minus))

    text = _MONEY.sub(money, text)
    return _MONEY_AFTER.sub(money_after, text)


_PERCENT = re.compile(rf"{_MINUS}(?P<number>{_NUMBER}) ?%")


def _percentages(text: str, parked: _Parked) -> str:
    return _PERCENT.sub(lambda m: parked.word(
        _say_number(m.group("number"), bool(m.group("minus"))) + " percent"), text)


_ORDINAL = re.compile(
    r"(?<![\w.])(?P<number>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:st|nd|rd|th|ST|ND|RD|TH)\b")
_SHORT_DECADE = re.compile(r"(?<![\w.'])'(?P<decade>[0-9]0)s\b")  # '90s
# 1990s, 20s, 100s
_DECADE = re.compile(r"(?<![\w.])(?P<decade>[0-9]{3}0|[1-9]0|[1-9]00|[1-9]000)'?s\b")
_SHORT_YEAR = re.compile(r"(?<![\w.'])'(?P<year>[0-9]{2})(?![\w'])")  # class of '99


def _ordinals_and_decades(text: str, parked: _Parked) -> str:
    def ordinal(match: re.Match) -> str:
        digits = match.group("number").replace(",", "")
        if len(digits) > 36:  # beyond the named scales: read the digits
            return parked.word(numbers.digits(digits))
        return parked.word(numbers.ordinal(int(digits)))

    def decade(match: re.Match) -> str:
        value = int(match.group("decade"))
        if value in (100, 1000):
            return parked.word("hundreds" if value == 100 else "thousands")
        spoken = numbers.year(value) if len(match.group("decade")) == 4 else numbers.cardinal(value)
        return parked.word(numbers.plural(spoken))

    text = _ORDINAL.sub(ordinal, text)
    def short_decade(match: re.Match) -> str:
        value = int(match.group("decade"))
        return parked.word(numbers.plural(numbers.cardinal(value) if value else "two thousand"))

    text = _SHORT_DECADE.sub(short_decade, text)
    text = _DECADE.sub(decade, text)
    return _SHORT_YEAR.sub(lambda m: parked.word(_say_year(m.group("year"))), text)


_UNITS: dict[str, tuple[str, str]] = {  # symbol: singular, plural
    "nm": ("nanometer", "nanometers"), "μm": ("micrometer", "micrometers"),
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"), "km": ("kilometer", "kilometers"),
    "μg": ("microgram", "micrograms"), "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"), "kgs": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"),
    "ft": ("foot", "feet"), "in": ("inch", "inches"), "yd": ("yard", "yards"),
    "mi": ("mile", "miles"), "mph": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"),
    "kB": ("kilobyte", "kilobytes"), "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"), "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "μl": ("microliter", "microliters"), "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"), "l": ("liter", "liters"), "L": ("liter", "liters"),
    "μs": ("microsecond", "microseconds"), "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "h": ("hour", "hours"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
    "°": ("degree", "degrees"), "K": ("kelvin", "kelvins"),
    "mW": ("milliwatt", "milliwatts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "mAh": ("milliamp hour", "milliamp hours"), "dB": ("decibel", "decibels"),
    "fps": ("frame per second", "frames per second"),
    "bpm": ("beat per minute", "beats per minute"),
    "rpm": ("revolution per minute", "revolutions per minute"),
}
_UNIT_PATTERN = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_UNIT = re.compile(
    rf"{_MINUS}(?P<number>{_NUMBER})(?P<space> ?)(?P<unit>{_UNIT_PATTERN})(?:\^(?P<power>[23]))?"
    rf"(?:/(?P<per>{_UNIT_PATTERN})(?:\^(?P<per_power>[23]))?)?(?![\w°^])(?P<dot>\.(?![0-9]))?"
)
# Units also written as abbreviations with a period ("5 in. wide"): that period need not end
# the sentence. After the other units a period always does ("It weighs 5 kg.").
_UNITS_WITH_PERIOD = frozenset({"in", "ft", "yd", "mi", "oz", "lb", "lbs", "sec", "secs", "min",
                                "mins", "hr", "hrs"})
# "in" is a unit only where "inches" makes sense: "5in", "6 in wide", "12 in." at the end.
_INCH_CONTEXT = re.compile(r" ?(?:$|[,;:)]|\.(?![0-9])|(?:x|by|wide|long|tall|high|deep|thick)\b)")
_FEET_AND_INCHES = re.compile(r"(?<![\w'.])(?P<feet>[0-9])' ?(?P<inches>[0-9]{1,2})(?:\"|'')")


def _units(text: str, parked: _Parked) -> str:
    def unit(match: re.Match) -> str:
        number, symbol, spaced = match.group("number"), match.group("unit"), match.group("space")
        if symbol == "in" and spaced and not _INCH_CONTEXT.match(match.string, match.end()):
            return match.group()  # "1 in 5", "2 in the morning"
        if symbol == "K" and not spaced:
            return match.group()  # "4K" is a resolution, "300 K" a temperature
        one, many = _UNITS[symbol]
        spoken = one if number == "1" else many
        if match.group("power"):
            spoken = ("square " if match.group("power") == "2" else "cubic ") + spoken
        if match.group("per"):
            spoken += " per " + _UNITS[match.group("per")][0]
            if match.group("per_power"):
                spoken += " squared" if match.group("per_power") == "2" else " cubed"
        period = match.group("dot") or ""
        if period and symbol in _UNITS_WITH_PERIOD and not match.group("per"):
            period = "." if _sentence_ends_after(match.string, match.end()) else ""
        return parked.word(f"{_say_number(number, bool(match.group('minus')))} {spoken}") + period

    text = re.sub(r"° ?([CF])\b", r"°\1", text)
    text = _FEET_AND_INCHES.sub(lambda m: parked.word(  # 5'10" → five foot ten
        f"{numbers.cardinal(int(m.group('feet')))} foot "
        f"{numbers.cardinal(int(m.group('inches')))}"), text)
    return _UNIT.sub(unit, text)


_POWER = re.compile(
    rf"(?<![\w.])(?P<base>{_NUMBER}|[A-Za-z]) ?\^ ?(?P<minus>-)?(?P<exponent>[0-9]{{1,6}})"
    r"(?![0-9])")
_TIMES = re.compile(rf"(?<![\w.])(?P<number>{_NUMBER})x(?![\w])")  # "2x faster"
_BY = re.compile(
    rf"(?<![\w.])(?P<left>{_NUMBER}) ?(?P<sign>[xX*]) ?(?P<right>{_NUMBER})(?![\w]|\.[0-9])")
_MIXED_FRACTION = re.compile(
    r"(?<![\w/.,])(?P<whole>[0-9]{1,6}) (?P<numerator>[0-9]{1,4})/(?P<denominator>[0-9]{1,4})"
    r"(?![\w/]|[.,][0-9])")
_FRACTION = re.compile(
    r"(?<![\w/.,])(?P<numerator>[0-9]{1,4})/(?P<denominator>[0-9]{1,4})(?![\w/]|[.,][0-9])")
_NAMED_DENOMINATORS = frozenset(range(2, 17)) | {20, 32, 64, 100, 1000}


def _say_fraction(numerator: int, denominator: int) -> str:
    """3/4 → "three quarters"; 10/10 → "ten out of ten"; 24/7 → "twenty four seven"."""
    if (numerator, denominator) == (24, 7):
        return "twenty four seven"
    if numerator < denominator and denominator in _NAMED_DENOMINATORS:
        return numbers.fraction(numerator, denominator)
    joint = "out of" if 0 < numerator <= denominator else "over"
    return f"{numbers.cardinal(numerator)} {joint} {numbers.cardinal(denominator)}"


def _math(text: str, parked: _Parked) -> str:
    def power(match: re.Match) -> str:
        base, exponent = match.group("base"), int(match.group("exponent"))
        base = _say_number(base) if base[0] in "0123456789." else base
        if not match.group("minus") and exponent in (2, 3):
            return parked.word(f"{base} {'squared' if exponent == 2 else 'cubed'}")
        sign = "minus " if match.group("minus") else ""
        return parked.word(f"{base} to the power of {sign}{numbers.cardinal(exponent)}")

    def mixed(match: re.Match) -> str:
        numerator, denominator = int(match.group("numerator")), int(match.group("denominator"))
        if not (0 < numerator < denominator and denominator in _NAMED_DENOMINATORS):
            return match.group()
        part = numbers.fraction(numerator, denominator)
        part = "a " + part.split(" ", 1)[1] if numerator == 1 else part  # "one and a half"
        return parked.word(f"{numbers.cardinal(int(match.group('whole')))} and {part}")

    text = _POWER.sub(power, text)
    text = _TIMES.sub(lambda m: parked.word(_say_number(m.group("number")) + " times"), text)
    text = _BY.sub(lambda m: parked.word(  # 1920x1080, 3*4
        f"{_say_number(m.group('left'))} {'times' if m.group('sign') == '*' else 'by'} "
        f"{_say_number(m.group('right'))}"), text)
    text = _MIXED_FRACTION.sub(mixed, text)
    return _FRACTION.sub(lambda m: parked.word(
        _say_fraction(int(m.group("numerator")), int(m.group("denominator")))), text)


_LETTERS_AND_DIGITS = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]+[0-9]|[0-9]+[A-Za-z])[A-Za-z0-9]*")


def _letter_digit_mixes(text: str, parked: _Parked) -> str:
    """"mp3" → "mp 3", "B2B" → "B 2 B": each run is then read on its own."""
    def split(match: re.Match) -> str:
        runs = re.findall(r"[A-Za-z]+|[0-9]+", match.group())
        # A lone capital here is a letter ("A4"), not the article or the pronoun.
        return " ".join(parked.word(run) if len(run) == 1 and run.isupper() else run
                        for run in runs)

    return _LETTERS_AND_DIGITS.sub(split, text)


_RANGE = re.compile(r"(?<=[0-9\ue001])(?:-| ?– ?)(?=[0-9\ue000]|\.[0-9])")
_SPACED_MINUS = re.compile(r"(?<=[0-9]) - (?=[0-9])")
_CARDINAL = re.compile(
    r"(?P<hash>#\s?)?(?P<ad>\b(?:AD|A\.D\.) (?=[0-9]))?(?P<minus>(?<![\w.\ue001-])-)?(?<![\w])"
    r"(?P<number>(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)*|\.[0-9]+)"
    r"(?P<era> ?(?:BCE|BC|AD|CE|B\.C\.(?:E\.)?|A\.D\.)(?![\w]))?"
)
_YEAR_CONTEXT = frozenset("""
    in since from until till by year years circa c ca during before after ad summer winter
    spring autumn fall early late mid around of
""".split()) | {m.lower() for m in _MONTH_NAMES}


def _is_year(number: str, match: re.Match) -> bool:
    """Four digits read as a year: 1100-2099 anywhere ("1987"), 1000-1099 after "in", "since"..."""
    if len(number) != 4 or not number.isdigit() or number[0] == "0":
        return False
    if 1100 <= int(number) < 2100:
        return True
    previous, _ = _previous_word(match.string, match.start())
    return previous.lower().strip(",") in _YEAR_CONTEXT


def _cardinals(text: str, parked: _Parked) -> str:
    def cardinal(match: re.Match) -> str:
        number, era = match.group("number"), match.group("era")
        minus, hash_sign = bool(match.group("minus")), bool(match.group("hash"))
        era = era or match.group("ad")
        plain_year = era and number.isdigit() and len(number) <= 4
        if not (minus or hash_sign) and (plain_year or _is_year(number, match)):
            spoken = numbers.year(int(number))
        else:
            spoken = _say_number(number, minus)
        if match.group("ad"):
            spoken = "A D " + spoken
        elif era:
            spoken += " " + _letters(era.replace(".", "").strip())
            if era.endswith(".") and _sentence_ends_after(match.string, match.end()):
                return parked.word(spoken) + "."
        return parked.word(("number " if hash_sign else "") + spoken)

    text = _RANGE.sub(" to ", text)
    text = _SPACED_MINUS.sub(" minus ", text)
    return _CARDINAL.sub(cardinal, text)


# --------------------------------------------------------------------------------------------
# Roman numerals, initials, acronyms, words

_ROMAN_KEYWORDS = frozenset("""
    act apollo appendix article book bowl canto chapter class episode grade level part phase
    psalm round scene season section series stage title type unit volume war
""".split())
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_CANONICAL_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_IN_CONTEXT = re.compile(r"\b(?P<previous>[A-Za-z]+) (?P<roman>[IVXLCDM]+)\b(?!['\-]?\w)")


def _roman_value(numeral: str) -> int:
    values = [_ROMAN_VALUES[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _roman_numerals(text: str, parked: _Parked) -> str:
    """Chapter IV → chapter four, Henry VIII → henry the eighth; "I" alone stays a pronoun."""
    def roman(match: re.Match) -> str:
        previous, numeral = match.group("previous"), match.group("roman")
        if not _CANONICAL_ROMAN.fullmatch(numeral):
            return match.group()
        value = _roman_value(numeral)
        if previous.lower() in _ROMAN_KEYWORDS:
            return f"{previous} {parked.word(numbers.cardinal(value))}"
        is_name = (previous[0].isupper() and previous[1:].islower()
                   and previous.lower() not in _SENTENCE_STARTERS)
        if is_name and re.fullmatch(r"[IVX]+", numeral) and (len(numeral) > 1 or numeral == "V"):
            return f"{previous} {parked.word('the ' + numbers.ordinal(value))}"
        return match.group()

    return _ROMAN_IN_CONTEXT.sub(roman, text)


_DOTTED_ACRONYM = re.compile(r"(?<![\w.])(?P<letters>[A-Za-z](?:\.[A-Za-z])+)(?P<dot>\.)?(?![\w])")
_INITIAL = re.compile(r"(?<![\w.'])(?P<letter>[A-Z])\.(?= +[A-Z\ue000])")


def _initials_and_dotted_acronyms(text: str, parked: _Parked) -> str:
    """"U.S.A." → "U S A", "J. R. Tolkien" → "J R Tolkien"; a sentence-final period stays."""
    def acronym(match: re.Match) -> str:
        ends = match.group("dot") and _sentence_ends_after(match.string, match.end())
        spoken = _letters(match.group("letters").replace(".", ""))
        return parked.word(spoken) + ("." if ends else "")

    def initial(match: re.Match) -> str:
        period = "." if _sentence_ends_after(match.string, match.end()) else ""
        return parked.word(match.group("letter")) + period

    text = _DOTTED_ACRONYM.sub(acronym, text)
    return _INITIAL.sub(initial, text)


# Letters with inner apostrophes ("don't"), a few elisions ("'em") and plural possessives ("dogs'").
_WORD = re.compile(
    r"(?:'(?=(?:em|til|cause|tis|twas|bout)\b))?[A-Za-z]+(?:'[A-Za-z]+)*(?:(?<=s)'(?![A-Za-z]))?")
_CLAUSE = re.compile(r"[^.!?\n]+|[.!?\n]+")


def _is_shouted(clause: str) -> bool:
    """Mostly capitals: "HELP US NOW" (then known words are read as words, not acronyms)."""
    words = re.findall(r"[A-Za-z]{2,}", clause)
    capitals = sum(w.isupper() for w in words)
    return capitals >= 2 and capitals >= 0.75 * len(words)


def _words(text: str, parked: _Parked) -> str:
    def clause(match: re.Match) -> str:
        shouted = _is_shouted(match.group())
        return _WORD.sub(lambda m: parked.word(_say_word(m.group(), shouted)), match.group())

    return _CLAUSE.sub(clause, text)


# --------------------------------------------------------------------------------------------
# Symbols and punctuation

_SYMBOLS = [  # longest first; each becomes words (or a pause)
    ("<=", " less than or equal to "), (">=", " greater than or equal to "),
    ("!=", " not equal to "), ("==", " equals "), ("->", " to "), ("=>", " to "),
    ("&", " and "), ("@", " at "), ("+", " plus "), ("=", " equals "), ("<", " less than "),
    (">", " greater than "), ("%", " percent "), ("~", " about "), ("°", " degrees "),
    ("/", " slash "), ("#", " hash "), ("μ", " mu "),
]
_SYMBOL = re.compile("|".join(re.escape(symbol) for symbol, _ in _SYMBOLS))
_SYMBOL_WORDS = dict(_SYMBOLS)
_SPELLED_AMPERSAND = re.compile(r"\b(?P<left>[A-Z]{1,3})&(?P<right>[A-Z]{1,3})\b")  # AT&T
_ELLIPSIS = re.compile(r"\.{2,}(?P<lower>\s*[a-z])?")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]{0,200})?/?>")


def _symbols(text: str, parked: _Parked) -> str:
    # An ellipsis before a lowercase word is a pause within the sentence, else a full stop.
    text = _ELLIPSIS.sub(
        lambda m: ", " + m.group("lower").lstrip() if m.group("lower") else ". ", text)
    text = _SPELLED_AMPERSAND.sub(lambda m: parked.word(
        f"{_letters(m.group('left'))} and {_letters(m.group('right'))}"), text)
    return _SYMBOL.sub(lambda m: _SYMBOL_WORDS[m.group()], text)


_HYPHEN_IN_WORD = re.compile(r"(?<=[A-Za-z0-9\ue001\ue003])-(?=[A-Za-z0-9\ue000\ue002])")
_PAUSE = re.compile(r"[-–—()\[\]|]+")
_LEFTOVER_DIGITS = re.compile(r"[0-9]+")
_NOT_OUTPUT = re.compile(r"[^A-Za-z ,.?!;:{}\ue000-\ue0ff]+")
_PUNCTUATION_RUN = re.compile(r"(?:\s*[,.?!;:])+")
_MARK_STRENGTH = "?!.;:,"  # a run of marks is said as its strongest


def _punctuation(text: str, parked: _Parked) -> str:
    """Dashes and brackets become pauses; other symbols that are still left go."""
    text = _HYPHEN_IN_WORD.sub(" ", text)
    text = _PAUSE.sub(" , ", text)
    text = _LEFTOVER_DIGITS.sub(lambda m: " " + numbers.digits(m.group()) + " ", text)
    text = text.replace("{", " { ").replace("}", " } ")  # stray braces stay for the G2P to report
    return _NOT_OUTPUT.sub(" ", text)


def _tidy(text: str) -> str:
    """Single spaces; each run of marks becomes its strongest mark, attached to the word before."""
    def marks(match: re.Match) -> str:
        run = match.group()
        return next(mark for mark in _MARK_STRENGTH if mark in run)

    text = _PUNCTUATION_RUN.sub(marks, " ".join(text.split()))
    text = re.sub(r"^[,.?!;:]+", "", text)
    return re.sub(r"([,.?!;:])(?=[^\s])", r"\1 ", text).strip()


# --------------------------------------------------------------------------------------------
# Public API

_PASSES = (
    _urls_and_emails, _abbreviations, _phone_numbers, _dates, _times, _money, _percentages,
    _ordinals_and_decades, _units, _math, _letter_digit_mixes, _cardinals, _roman_numerals,
    _initials_and_dotted_acronyms, _symbols, _words, _punctuation,
)


def normalize_text(text: str) -> str:
    """Raw English text → spoken words (see the module docstring for the output's form).

    Never raises on a string: what cannot be read (emoji, other scripts) is dropped.
    Raises NormalizationError when ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise NormalizationError(f"text to normalize must be a string, got {type(text).__name__}")
    parked = _Parked()
    # Phoneme blocks are parked untouched; private-use characters elsewhere would be mistaken
    # for placeholders, and cannot be spoken anyway.
    pieces, position = [], 0
    for block in _PHONEME_BLOCK.finditer(text):
        pieces += [_PRIVATE_USE.sub(" ", text[position:block.start()]),
                   " " + parked.block(block.group()) + " "]
        position = block.end()
    text = "".join(pieces) + _PRIVATE_USE.sub(" ", text[position:])
    text = _HTML_TAG.sub(" ", _clean_unicode(text))
    for normalize_pass in _PASSES:
        text = normalize_pass(text, parked)
    return parked.restore_blocks(_tidy(parked.restore_words(text)))


# Candidate sentence ends: marks, closing quotes, then space. Blocks are matched to be skipped.
_SENTENCE_END = re.compile(
    r"(?P<block>\{[^{}]*\})"
    r"|(?<![.!?…])(?P<marks>[.!?…]+)(?P<closing>[\"'”’)\]]*)(?P<space>\s+)"
    r"|(?P<paragraph>\n[ \t]*\n\s*)"
)
_TOKEN_BEFORE = re.compile(r"(?P<token>[\w.'’\-]*)$")


def _is_sentence_end(text: str, match: re.Match) -> bool:
    marks, following = match.group("marks"), text[match.end():match.end() + 1]
    if not following or following.islower():
        return False  # "Wait... what?" and sloppy lowercase after "!" continue the sentence
    if marks != ".":
        return True
    token = _TOKEN_BEFORE.search(text[max(0, match.start() - 30):match.start()]).group("token")
    word = token.rsplit("-", 1)[-1]
    if word in _TITLES or word in ("e.g", "i.e", "E.g", "I.e", "cf", "vs", "Vs", "No", "Nos"):
        return False  # "Dr. Smith", "e.g. This"
    if word in _TITLE_OR_STREET or word in _ALL_ABBREVIATIONS or re.fullmatch(
            r"[A-Z]|[A-Za-z](?:\.[A-Za-z])+", word):
        # "etc. The", "J. R. R. Tolkien", "the U.S. Then": only before a usual sentence opener
        return "\n" in match.group("space") or _sentence_ends_after(text, match.end("marks"))
    return True


def split_sentences(text: str) -> list[str]:
    """Raw text → raw sentences, each stripped; "Dr. Smith", "3.14", "e.g. this" do not split.

    A sentence ends at . ! ? or an ellipsis (with any closing quotes) before a space and a word
    that is not lowercase, unless the period belongs to an abbreviation or an initial; and at
    a blank line. Never raises on a string.
    """
    if not isinstance(text, str):
        raise NormalizationError(f"text to split must be a string, got {type(text).__name__}")
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group("block"):
            continue
        if match.group("paragraph") or _is_sentence_end(text, match):
            end = match.start("space") if match.group("marks") else match.start()
            sentences.append(text[start:end])
            start = match.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if s.strip()]
