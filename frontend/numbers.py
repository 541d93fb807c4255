"""English number words for text normalization: cardinals, ordinals, years, digits, fractions.

Written here rather than taken from ``inflect``: the rules TTS needs are small (American
English, no "and" inside numbers, spaces instead of hyphens so that every word is a token the
G2P can look up), and one less dependency keeps the frontend importable everywhere.

    cardinal(1234)        → "one thousand two hundred thirty four"
    ordinal(22)           → "twenty second"
    year(1905)            → "nineteen oh five"
    digits("0451")        → "zero four five one"
    decimal("3.14")       → "three point one four"
    fraction(3, 4)        → "three quarters"
    plural("nineteen ninety") → "nineteen nineties"
"""

from __future__ import annotations

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = (
    "", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion", "sextillion",
    "septillion", "octillion", "nonillion", "decillion",
)
# The largest number cardinal() spells out; longer digit strings are read digit by digit.
MAX_CARDINAL = 1000 ** len(_SCALES) - 1
_MAX_CARDINAL_DIGITS = len(str(MAX_CARDINAL))

_IRREGULAR_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest or not words:
        words.append(_ONES[rest])
    return words


def cardinal(n: int) -> str:
    """``1234`` → ``"one thousand two hundred thirty four"``; negatives get ``"minus"``."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n > MAX_CARDINAL:
        return digits(str(n))
    if n == 0:
        return "zero"
    words: list[str] = []
    scale = 0
    while n:
        n, chunk = divmod(n, 1000)
        if chunk:
            words = _below_thousand(chunk) + ([_SCALES[scale]] if scale else []) + words
        scale += 1
    return " ".join(words)


def ordinal(n: int) -> str:
    """``22`` → ``"twenty second"``, ``103`` → ``"one hundred third"``."""
    words = cardinal(n).split(" ")
    last = words[-1]
    if last in _IRREGULAR_ORDINALS:
        words[-1] = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year(n: int) -> str:
    """How a year is said: 1987 → nineteen eighty seven, 2005 → two thousand five,
    1066 → ten sixty six.

    Years before 1000 or from 10000 on are plain cardinals.
    """
    if n < 1000 or n >= 10000:
        return cardinal(n)
    century, rest = divmod(n, 100)
    if 2000 <= n < 2010 or n == 1000:
        return cardinal(n)
    if rest == 0:
        if century % 10 == 0:  # 2000 is handled above; 3000 → "three thousand"
            return cardinal(n)
        return cardinal(century) + " hundred"
    if rest < 10:
        return cardinal(century) + " oh " + _ONES[rest]
    return cardinal(century) + " " + cardinal(rest)


def digits(text: str, zero: str = "zero") -> str:
    """Read a digit string one digit at a time: ``"0451"`` → ``"zero four five one"``.

    ``zero="oh"`` gives the telephone style. Non-digit characters are ignored.
    """
    # Only ASCII digits: str.isdigit() is also true for "²" and "٣", which int() may reject.
    return " ".join(zero if c == "0" else _ONES[int(c)] for c in text if "0" <= c <= "9")


def decimal(text: str) -> str:
    """A number as written, with optional thousands commas and decimals: ``"1,234.05"`` → words.

    ``".5"`` → ``"point five"``; a leading zero in a multi-digit integer part (``"007"``) is read
    digit by digit, as people do with codes. No sign handling: callers say "minus" themselves.
    """
    integer, _, fraction_digits = text.replace(",", "").partition(".")
    words = []
    if integer:
        # int() refuses strings of more than ~4300 digits; anything past MAX_CARDINAL is read
        # digit by digit anyway, so long strings never reach it.
        if len(integer) > 1 and integer.startswith("0") or len(integer) > _MAX_CARDINAL_DIGITS:
            words.append(digits(integer))
        else:
            words.append(cardinal(int(integer)))
    if fraction_digits:
        words += ["point", digits(fraction_digits)]
    return " ".join(words)


def plural(words: str) -> str:
    """Pluralize the last number word: ``"nineteen ninety"`` → ``"nineteen nineties"``."""
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "s")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def fraction(numerator: int, denominator: int) -> str:
    """``3, 4`` → ``"three quarters"``, ``1, 2`` → ``"one half"``,
    ``5, 16`` → ``"five sixteenths"``."""
    if denominator == 0:
        return f"{cardinal(numerator)} over zero"
    if denominator == 1:
        return f"{cardinal(numerator)} over one"
    one = numerator == 1
    if denominator == 2:
        name = "half" if one else "halves"
    elif denominator == 4:
        name = "quarter" if one else "quarters"
    else:
        name = ordinal(denominator) if one else plural(ordinal(denominator))
    return f"{cardinal(numerator)} {name}"
