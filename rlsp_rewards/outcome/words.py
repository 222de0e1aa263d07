"""Values written in English words, read into one canonical spelling.

* :func:`number_word`: a whole number in words (``twenty-one``, ``one thousand and one``,
  ``a dozen``), read strictly: ``two and three`` and ``five four`` are no number.
* :func:`ordinal`: an ordinal in words or digits (``fifth``, ``twenty-first``, ``2nd``,
  ``2^{\\text{nd}}``), with or without ``the``.
* :func:`fraction_word`: a fraction in words (``one half``, ``two thirds``, ``a quarter``,
  ``one and a half``).
* :func:`word_value`: the canonical spelling of an answer made of words alone: a number,
  an ordinal, a fraction, ``infinitely many`` (``\\infty``), ``no solution`` (``\\emptyset``),
  ``DNE``, ``noon``, an abbreviated weekday, or the words without a leading article.
* :func:`date`: a calendar date (``July 4th``, ``4 July``, ``the 4th of July, 2023``) as
  ``July 4`` / ``July 4, 2023``.

Example:
    >>> number_word("one hundred and five"), ordinal("the twenty-first")
    (105, 21)
    >>> fraction_word("two thirds")
    Fraction(2, 3)
    >>> word_value("infinitely many solutions"), date(r"4 \\text{July}")
    ('\\\\infty', 'July 4')
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["date", "fraction_word", "number_word", "ordinal", "word_value"]

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
}
#: Ordinals that multiply what comes before them ("two hundredth").
_SCALE_ORDINALS = {"hundredth": 2, "thousandth": 3, "millionth": 6}
#: Denominators in words: "half", "thirds", "quarters"; the ordinals from third on.
_DENOMINATORS = {"half": 2, "halves": 2, "quarter": 4, "quarters": 4} | {
    name + suffix: value for name, value in _ORDINALS.items() if value >= 3 for suffix in ("", "s")
}
#: Most words a number is read from ("nine hundred and ninety-nine million ..." has 20).
_MAX_WORDS = 24
_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=[A-Za-z0-9])", re.IGNORECASE)


def _tokens(text: str) -> list[str]:
    return text.lower().replace("-", " ").replace(",", " ").split()


def number_word(text: str) -> int | None:
    """The value of a whole number written in English words, else None.

    Units follow only tens, ``hundred``, a scale word or ``and``; ``and`` follows only
    ``hundred`` or a scale word (``one hundred and five``); ``a`` stands for one before
    ``hundred``, a scale word or ``dozen``.

    Example:
        >>> number_word("twenty-five"), number_word("a thousand"), number_word("two dozen")
        (25, 1000, 24)
        >>> number_word("two and three"), number_word("hundred"), number_word("x")
        (None, None, None)
    """
    words = _tokens(text)
    if not words or len(words) > _MAX_WORDS:
        return None
    return _number(words)


def _number(words: list[str]) -> int | None:
    total, current, last = 0, 0, "start"
    for word in words:
        if word in ("a", "an") and last == "start":
            current, last = 1, "a"
        elif word in _UNITS and last in ("start", "tens", "hundred", "scale", "and"):
            if word == "zero" and len(words) > 1:
                return None
            if last == "tens" and _UNITS[word] >= 10:
                return None
            current += _UNITS[word]
            last = "unit"
        elif word in _TENS and last in ("start", "hundred", "scale", "and"):
            current += _TENS[word]
            last = "tens"
        elif word == "hundred" and last in ("unit", "tens", "a") and 0 < current < 100:
            current *= 100
            last = "hundred"
        elif word in _SCALES and last in ("unit", "tens", "hundred", "a") and current > 0:
            total += current * 10 ** _SCALES[word]
            current, last = 0, "scale"
        elif word == "dozen" and last in ("unit", "tens", "a") and total == 0:
            current *= 12
            last = "dozen"
        elif word == "and" and last in ("hundred", "scale"):
            last = "and"
        else:
            return None
    if last in ("start", "a", "and"):
        return None
    return total + current


_ORDINAL_DIGITS = re.compile(
    r"(\d{1,6})\s*(?:\^\s*\{?\s*(?:\\text\{)?\s*(?:st|nd|rd|th)\s*\}?\s*\}?"
    r"|\\text\{\s*(?:st|nd|rd|th)\s*\}|(?:st|nd|rd|th))"
)


def ordinal(text: str) -> int | None:
    """The number of an ordinal (``"second"``, ``"twenty-first"``, ``"2nd"``), else None.

    Example:
        >>> ordinal("second"), ordinal(r"2\\text{nd}"), ordinal("the fifth"), ordinal("2")
        (2, 2, 5, None)
    """
    text = _ARTICLE.sub("", text.strip())
    match = _ORDINAL_DIGITS.fullmatch(text)
    if match:
        return int(match.group(1))
    words = _tokens(text)
    if not words or len(words) > _MAX_WORDS:
        return None
    last, prefix = words[-1], words[:-1]
    if last in _SCALE_ORDINALS:
        before = _number(prefix) if prefix else 1
        return None if before is None else before * 10 ** _SCALE_ORDINALS[last]
    if last not in _ORDINALS:
        return None
    if not prefix:
        return _ORDINALS[last]
    if prefix[-1] not in (*_TENS, "hundred", *_SCALES, "and") or (
        prefix[-1] in _TENS and _ORDINALS[last] >= 10
    ):
        return None  # "one first", "twenty twelfth"
    before = _number(prefix[:-1] if prefix[-1] == "and" else prefix)
    return None if before is None else before + _ORDINALS[last]


def fraction_word(text: str) -> Fraction | None:
    """A fraction written in words: ``one half``, ``a quarter``, ``three eighths``, ``half``,
    ``one and a half``; else None.

    Example:
        >>> fraction_word("three quarters"), fraction_word("one and a half")
        (Fraction(3, 4), Fraction(3, 2))
    """
    words = _tokens(text)
    if not words or len(words) > _MAX_WORDS:
        return None
    if "and" in words[1:-1]:  # "two and a half", "one and three quarters"
        at = len(words) - 1 - words[::-1].index("and")
        whole = _number(words[:at])
        part = _fraction(words[at + 1 :])
        if whole is not None and part is not None and part < 1:
            return whole + part
    return _fraction(words)


def _fraction(words: list[str]) -> Fraction | None:
    if not words or words[-1] not in _DENOMINATORS:
        return None
    if len(words) == 1:
        return Fraction(1, 2) if words[0] == "half" else None  # "quarter" alone is a coin
    top = _number(words[:-1]) if words[:-1] not in (["a"], ["an"]) else 1
    return None if not top else Fraction(top, _DENOMINATORS[words[-1]])


#: Words that mean there are infinitely many: the count is infinite.
_INFINITELY_MANY = re.compile(
    r"(?:infinitely\s+many|an\s+infinite\s+(?:number|amount)|infinite(?:ly)?|infinity)"
    r"(?:\s+(?:of\s+)?[a-z]+){0,2}",
    re.IGNORECASE,
)
_NO_SOLUTION = re.compile(
    r"(?:there\s+(?:is|are)\s+)?(?:no\s+(?:real\s+)?(?:solutions?|roots?|values?)"
    r"|(?:the\s+)?empty\s+set|not\s+possible\s+to\s+solve)",
    re.IGNORECASE,
)
_DOES_NOT_EXIST = re.compile(r"dne|does\s+not\s+exist|doesn't\s+exist", re.IGNORECASE)
_TIMES_OF_DAY = {"noon": "12:00pm", "midday": "12:00pm", "midnight": "12:00am"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBREVIATIONS = {
    **{day[:3]: day for day in _WEEKDAYS},
    "tues": "tuesday",
    "weds": "wednesday",
    "thur": "thursday",
    "thurs": "thursday",
}
_MULTIPLES = {"once": 1, "twice": 2, "thrice": 3}


def word_value(text: str) -> str | None:
    """The canonical spelling of an answer written in words alone, or None when it has none.

    Example:
        >>> word_value("one hundred and five"), word_value("a quarter"), word_value("Weds.")
        ('105', '\\\\frac{1}{4}', 'Wednesday')
        >>> word_value("no real solutions"), word_value("The first player")
        ('\\\\emptyset', 'first player')
    """
    text = " ".join(text.strip().rstrip(".").split())
    if not text:
        return None
    lowered = text.lower()
    if _INFINITELY_MANY.fullmatch(text):
        return "\\infty"
    if _NO_SOLUTION.fullmatch(text):
        return "\\emptyset"
    if _DOES_NOT_EXIST.fullmatch(text):
        return "does not exist"
    if lowered in _TIMES_OF_DAY:
        return _TIMES_OF_DAY[lowered]
    if lowered in _WEEKDAY_ABBREVIATIONS:
        return _WEEKDAY_ABBREVIATIONS[lowered].capitalize()
    if lowered in _MULTIPLES:
        return str(_MULTIPLES[lowered])
    place = ordinal(text)
    if place is not None:
        return f"{place}{_suffix(place)}"
    number = number_word(text)
    if number is not None:
        return str(number)
    part = fraction_word(text)
    if part is not None:
        return f"\\frac{{{part.numerator}}}{{{part.denominator}}}"
    bare = _ARTICLE.sub("", text)  # "the first player", "a parallelogram"; not "a b"
    return bare if bare != text and all(len(word) > 1 for word in bare.split()) else None


def _suffix(place: int) -> str:
    if place % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NAMES = (
    {name: name for name in _MONTHS}
    | {name[:3]: name for name in _MONTHS if name != "may"}
    | {"sept": "september"}
)
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:\s*(?:st|nd|rd|th))?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_DATES = (
    re.compile(rf"{_MONTH}\s+(?:the\s+)?{_DAY}{_YEAR}", re.IGNORECASE),
    re.compile(rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.IGNORECASE),
)
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|mathrm)\{([^{}]*)\}")


def date(text: str) -> str | None:
    """A calendar date as ``Month D`` or ``Month D, YYYY``; None when ``text`` is not one.

    Example:
        >>> date("July 4th"), date("the 3rd of March, 2023"), date("Sunday")
        ('July 4', 'March 3, 2023', None)
    """
    if "\\" in text:
        text = _TEXT_COMMAND.sub(r" \1 ", text)
    text = " ".join(text.split()).rstrip(".")
    for pattern in _DATES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        month = _MONTH_NAMES.get(match.group("month").lower())
        day = int(match.group("day"))
        if month is None or not 1 <= day <= 31:
            return None
        year = match.group("year")
        return f"{month.capitalize()} {day}" + (f", {year}" if year else "")
    return None
