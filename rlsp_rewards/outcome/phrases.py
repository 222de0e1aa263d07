"""What value a phrase of a sentence states: ``18 apples``, ``$x = 5$``, ``twenty-one days``.

:mod:`~rlsp_rewards.outcome.sentences` finds the sentence that holds a final answer; this module
reads the value in it: :func:`leading_value` (the value a phrase starts with: ``$...$``, a
bracketed group, a number, a time, number words, a text answer, a choice, a name),
:func:`value_phrase` (a value alone or followed by plain words, a unit or a noun),
:func:`copula_split` (``the area is 16``), :func:`clause_start` (``12, which is even``) and
the kinds of values that make a result (:func:`is_number`, :func:`simple_result`).

Example:
    >>> value_phrase("18 apples in total"), value_phrase("twenty-one days")
    ('18', 'twenty-one')
    >>> copula_split("the area is $16\\\\pi$")
    ('the area', '$16\\\\pi$')
"""

from __future__ import annotations

import re

from rlsp_rewards.outcome.words import fraction_word, number_word

__all__ = [
    "LIST_JOIN",
    "clause_start",
    "copula_split",
    "is_number",
    "is_subject",
    "is_value",
    "leading_value",
    "plain_words",
    "simple_result",
    "value_list",
    "value_phrase",
]

_COPULA = re.compile(
    r"\s(?:is\s+equal\s+to|is|are|was|were|equals|will\s+be|would\s+be|must\s+be|"
    r"should\s+be|becomes)\s",
    re.IGNORECASE,
)
#: A comma and a word that starts a new clause after the answer ("12, which is even").
_CLAUSE = re.compile(
    r",\s*(?:which|as|since|because|so|but|where|hence|thus|therefore|meaning|that|this|it|we"
    r"|when|achieved|attained|obtained|reached|giving|occurring"
    r"|and\s+(?:so|thus|this|that|it|we))(?![A-Za-z])",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?:[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|[-+\u2212]?\.\d+)%?"
    r"(?![A-Za-z0-9^_\\({]|\.\d|[^\x00-\x7f])"
)
#: A value written with unicode mathematics (``16π``, ``½``, ``√3``, ``−3``, ``3 × 10⁴`` is
#: not one: spaces end it); the comparer reads its symbols.
_UNICODE_VALUE = re.compile(
    r"[-+\u2212]?[\d.]*[\u00b2\u00b3\u00b9\u00bc-\u00be\u03c0\u2070-\u209f\u2150-\u215f"
    r"\u221a-\u221e][\d./()\u00b2\u00b3\u00b9\u00bc-\u00be\u03c0\u2070-\u209f\u2150-\u215f"
    r"\u221a-\u221e]*(?![A-Za-z])"
)
_BARE_LATEX = re.compile(r"[-+]?(?:\d+(?:\.\d+)?)?\\[A-Za-z]+[^\s$]*|[-+]?\d+[\^_][^\s$]+")
#: A name (``Sunday``, ``New York``) or one capital letter (a point, a choice: ``D``).
_NAME = re.compile(r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}(?![A-Za-z])|[A-Z](?![A-Za-z0-9])")
_TEXT_VALUE = re.compile(
    r"(?:yes|no|true|false|none|never|always|impossible|infinitely\s+many|all\s+real\s+numbers"
    r"|every\s+real\s+number)(?![A-Za-z])",
    re.IGNORECASE,
)
#: A time of day: ``9:45``, ``9:45 AM``, ``4:30 p.m.``.
_CLOCK_VALUE = re.compile(r"\d{1,2}:\d{2}(?:\s*[AaPp]\.?\s?[Mm]\.?)?(?![A-Za-z0-9])")
#: A choice named in words: ``option (C)``, ``choice C``, ``answer choice (B)``.
_CHOICE_VALUE = re.compile(r"(?:answer\s+)?(?:option|choice)\s*\(?[A-J]\)?(?![A-Za-z0-9])", re.I)
_NUMBER_WORD = (
    r"(?:a|an|and|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|halves|thirds?|"
    r"quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)"
)
#: A run of number words (``twenty-one``, ``one thousand and one``, ``three quarters``).
_NUMBER_WORDS = re.compile(rf"{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*(?![A-Za-z])", re.I)
#: Words after a value that are mathematics or more reasoning, not its unit or noun.
_NOT_PLAIN = re.compile(
    r"\b(?:than|times|plus|minus|over|divided|multiplied|squared|cubed|power|root|is|are|was|"
    r"were|be|equals?|or|and|if|when|but|because|since|so|for|with|where|which|that|modulo|mod|"
    r"thousand|million|billion|trillion|hundred|dozen|percent|half|quarter|base|degrees?|"
    r"radians?|pi|sqrt|[a-z])\b",
    re.IGNORECASE,
)
#: What joins the values of a list: ", ", " and ", ", and ".
LIST_JOIN = re.compile(r"\s*(?:,\s*and|,|and)\s+(?=\S)")
_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*){0,6}")


def copula_split(line: str) -> tuple[str, str] | None:
    """``(subject, predicate)`` around the one copula outside ``$...$``; ``None`` when there
    is none, or more than one (``the sum is 5 and the product is 6`` states two results)."""
    found = [m for m in _COPULA.finditer(line) if line.count("$", 0, m.start()) % 2 == 0]
    if len(found) != 1:
        return None
    return line[: found[0].start()].strip(), line[found[0].end() :].strip()


def is_subject(subject: str, most_words: int = 15) -> bool:
    """Whether the text before a copula names what the value is ("the area", "$x$")."""
    if not subject or not (subject[0].isalpha() or subject[0] == "$") or "=" in subject:
        return False
    return len(subject.split()) <= most_words


def is_value(text: str) -> bool:
    value, rest = leading_value(text)
    return value is not None and not rest.strip()


def leading_value(text: str) -> tuple[str | None, str]:
    """The value a text starts with and what follows it; ``(None, text)`` when none."""
    text = text.strip()
    if text.startswith("$"):
        close = text.find("$", 2 if text.startswith("$$") else 1)
        if close > 0:
            end = close + (2 if text.startswith("$$") else 1)
            return text[:end], text[end:]
    for left, right in (("\\(", "\\)"), ("\\[", "\\]")):
        close = text.find(right) if text.startswith(left) else -1
        if close > 0:
            return text[: close + 2], text[close + 2 :]
    if text[:1] in "([":
        close = _group_end(text)
        if close > 0:
            return text[: close + 1], text[close + 1 :]
    for pattern in (_BARE_LATEX, _UNICODE_VALUE, _CLOCK_VALUE, _NUMBER):
        match = pattern.match(text)
        if match is not None:
            return match.group(), text[match.end() :]
    words = _leading_number_words(text)
    if words is not None:
        return words, text[len(words) :]
    for pattern in (_TEXT_VALUE, _CHOICE_VALUE, _NAME):
        match = pattern.match(text)
        if match is not None:
            return match.group(), text[match.end() :]
    return None, text


def _leading_number_words(text: str) -> str | None:
    """The longest run of number words ``text`` starts with that is a number (``twenty-one
    days``: ``twenty-one``); not one followed by ``of`` (``one of them``)."""
    match = _NUMBER_WORDS.match(text)
    if match is None:
        return None
    ends = [word.end() for word in _LETTERS.finditer(match.group())]
    for end in reversed(ends):
        if _number_words(text[:end]) and not _OF.match(text, end):
            return text[:end]
    return None


_LETTERS = re.compile(r"[A-Za-z]+")
_OF = re.compile(r"\s+of(?![A-Za-z])")


def _number_words(phrase: str) -> bool:
    return number_word(phrase) is not None or fraction_word(phrase) is not None


def _group_end(text: str) -> int:
    """Index of the bracket closing the group ``text`` starts with (``(1, 2]`` too), or -1."""
    depth = 0
    for at, char in enumerate(text[:200]):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return at
    return -1


def plain_words(rest: str) -> bool:
    """Whether what follows a value is nothing or a few plain words (a unit, a noun)."""
    rest = rest.strip().rstrip(".!").strip()
    if not rest:
        return True
    return _PLAIN_WORDS.fullmatch(rest) is not None and not _NOT_PLAIN.search(rest)


def value_phrase(text: str, *, strict: bool = False) -> str | None:
    """The value a phrase states: a value alone or followed by plain words (``18 apples``).

    Without ``strict``, capitalised words are a value only when nothing follows them.
    """
    value, rest = leading_value(text)
    if value is None:
        return None
    if LIST_JOIN.match(rest):  # "$x = 2$ and $x = 3$", "2, 3, and 5": a list is one answer
        return value_list(text)
    if not plain_words(rest):
        return None
    if value[:1].isalpha() and value[:1].isupper() and rest.strip() and not strict:
        return None
    return value


def value_list(text: str) -> str | None:
    """A list of values joined by commas and ``and`` (``$x = 2$ and $x = 3$``), whole."""
    rest, parts = text, []
    for _ in range(16):
        value, rest = leading_value(rest)
        if value is None:
            return None
        parts.append(value)
        join = LIST_JOIN.match(rest)
        if join is None:
            break
        rest = rest[join.end() :]
    if not plain_words(rest) or len(parts) < 2:
        return None
    return text[: len(text) - len(rest)].strip()


def is_number(value: str) -> bool:
    """Whether a value is a number (``18``, ``$6$``, ``9:45 AM``, ``twenty-one``, ``45°``)."""
    inner = value.strip("$").strip()
    if _NUMBER.fullmatch(inner) or _CLOCK_VALUE.fullmatch(inner) or _DEGREES.fullmatch(inner):
        return True
    return _NUMBER_WORDS.fullmatch(inner) is not None and _number_words(inner)


_DEGREES = re.compile(r"\d+(?:\.\d+)?\s*(?:°|\^\s*\{?\\circ\}?)")


#: A simple result: a number, or a plain name set to something without another relation.
_SIMPLE_RESULT = re.compile(
    r"[-+]?(?:[A-Za-z](?:_\{?\w+\}?)?\s*=\s*)?[^=<>\\A-Za-z]*"
    r"(?:\\(?:frac|dfrac|sqrt|pi|cdot|times)[^=<>A-Za-z]*)*"
)


def simple_result(value: str) -> bool:
    """Whether a value read alone is a result (``12``, ``$x = 6$``, ``$\\frac{1}{2}$``), not a
    step (``$x^2 = 4$``, ``$2x + 3 = 7$``)."""
    inner = value.strip("$").strip()
    for left, right in (("\\(", "\\)"), ("\\[", "\\]")):
        if inner.startswith(left) and inner.endswith(right):
            inner = inner[len(left) : -len(right)].strip()
    return bool(inner) and _SIMPLE_RESULT.fullmatch(inner) is not None


def clause_start(line: str) -> int:
    """Index of a comma that starts a new clause (", which", ", so"), outside ``$...$``."""
    for match in _CLAUSE.finditer(line):
        if line.count("$", 0, match.start()) % 2 == 0:
            return match.start()
    return -1
