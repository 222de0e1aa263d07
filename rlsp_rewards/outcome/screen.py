"""Screening: answers that would cost a symbolic engine unbounded time or memory.

Power towers, huge factorials, costly operators on big numbers, deep nesting, binary junk:
:func:`is_pathological` finds them in linear time, before anything is parsed, so that no such
answer ever reaches sympy. (Length alone is not pathological: the exact reading of
:mod:`rlsp_rewards.outcome.values` is bounded at any length, and
:mod:`rlsp_rewards.outcome.grade` never hands math-verify more than
:data:`~rlsp_rewards.outcome.values.MAX_PARSE_CHARS` characters.)

Example:
    >>> is_pathological("10^{10^{6}}"), is_pathological("2^{10}")
    (True, False)
"""

from __future__ import annotations

import functools
import math
import re

from rlsp_rewards.outcome.values import MAX_PARSE_CHARS

__all__ = ["is_pathological", "screened"]

#: A prediction needing a number with more digits than this is pathological.
_MAX_DIGITS = 100_000
#: Deepest bracket nesting a sensible final answer has.
_MAX_DEPTH = 30

# -- literal numbers and powers --------------------------------------------------------------

_SMALL_INT = re.compile(r"-?[0-9]{1,300}")


def _braced(text: str, at: int) -> tuple[str | None, int]:
    """Content and end index of the ``{...}`` group opening at ``at`` (None when unclosed).

    Example:
        >>> _braced("{a{b}}c", 0)
        ('a{b}', 6)
    """
    depth = 0
    for end in range(at, min(len(text), at + MAX_PARSE_CHARS)):
        if text[end] == "{":
            depth += 1
        elif text[end] == "}":
            depth -= 1
            if depth == 0:
                return text[at + 1 : end], end + 1
    return None, at


def _exponent_at(text: str, at: int) -> tuple[str | None, int]:
    """The braced group or single character starting at ``at`` (TeX reads ``2^10`` as 2^1 0).

    Example:
        >>> _exponent_at("2^{10}", 2), _exponent_at("2^10", 2)
        (('10', 6), ('1', 3))
    """
    while at < len(text) and text[at] == " ":
        at += 1
    if at >= len(text):
        return None, at
    if text[at] == "{":
        return _braced(text, at)
    return text[at], at + 1


def _literal_value(text: str) -> int | None:
    """The value of ``text`` when it is an integer or a power of integers (up to 300 digits).

    Example:
        >>> _literal_value("2^{10}"), _literal_value("10^{400}"), _literal_value("x")
        (1024, None, None)
    """
    text = text.strip()
    if text.startswith("{") and _braced(text, 0)[1] == len(text):
        text = text[1:-1].strip()
    if _SMALL_INT.fullmatch(text):
        return int(text)
    caret = text.find("^")
    if caret <= 0 or not _SMALL_INT.fullmatch(text[:caret].strip()):
        return None
    exponent_text, end = _exponent_at(text, caret + 1)
    if exponent_text is None or end != len(text):
        return None
    power = _literal_value(exponent_text)
    base = int(text[:caret])
    if power is None or power < 0 or power * math.log10(max(abs(base), 2)) > 300:
        return None
    return base**power


# -- the rule --------------------------------------------------------------------------------


def is_pathological(answer: str) -> bool:
    """Whether an answer would cost a symbolic engine unbounded time or memory.

    The rule: an answer is pathological when it contains control characters or binary junk
    (``U+FFFD``), nests brackets deeper than 30 levels, needs a number with more than 100,000 digits
    (a power tower like ``9^{9^{9^{9}}}``, ``10^{10^{6}}``, a factorial of more than 10,000, a
    factorial of a factorial, ``10!!!``), or applies an operator whose cost grows with its
    arguments (``\\sum``, ``\\prod``, ``\\int``, ``\\binom``, ``\\Gamma``, ``\\lim``,
    ``\\uparrow``) to a number above 10,000. When the gold is a simple value,
    :func:`fast_compare` calls such a prediction incorrect without parsing it: a final answer
    that can only be evaluated with astronomical numbers is not a usable answer, even in the
    rare case where it might simplify to the gold.

    Example:
        >>> is_pathological("9^{9^{9^{9}}}"), is_pathological("2^{10}"), is_pathological("2006!")
        (True, False, False)
    """
    if any(ord(c) < 32 and c not in "\n\t\r" for c in answer) or "\ufffd" in answer:
        return True
    depth = 0
    for char in answer:
        if char in "{([":
            depth += 1
            if depth > _MAX_DEPTH:
                return True
        elif char in "})]":
            depth -= 1
    return _has_huge_power(answer) or _has_huge_factorial(answer) or _has_costly_operator(answer)


#: Operators whose evaluation cost grows with the numbers they are applied to.
_COSTLY = re.compile(
    r"\\(?:sum|prod|int|iint|binom|dbinom|tbinom|choose|Gamma|lim|uparrow)(?![A-Za-z])|!!!"
)
_POWER_OR_NUMBER = re.compile(r"(\d{1,300})(?:\s*\^\s*(?:\{\s*(-?\d{1,300})\s*\}|(\d)))?")


def _has_costly_operator(text: str) -> bool:
    """An expensive operator (sum, product, integral, binomial...) with a number above 10**4."""
    if not _COSTLY.search(text):
        return False
    if "!!!" in text:
        return True
    for match in _POWER_OR_NUMBER.finditer(text):
        base, exponent = int(match.group(1)), match.group(2) or match.group(3)
        magnitude = math.log10(base) if base > 1 else 0.0  # base has at most 300 digits
        if exponent is not None:
            magnitude *= int(exponent)
        if magnitude > 4:
            return True
    return False


def _has_huge_power(text: str) -> bool:
    at = text.find("^")
    while at >= 0:
        if _power_digits(text, at) > _MAX_DIGITS:
            return True
        at = text.find("^", at + 1)
    return False


def _power_digits(text: str, caret: int) -> float:
    """Estimated digits of the power whose ``^`` is at ``caret`` (0 when unknown and small)."""
    exponent_text = _exponent_at(text, caret + 1)[0]
    if exponent_text is None:
        return 0.0
    if _value_digits(exponent_text) > 300:  # an exponent of more than 300 digits
        return math.inf
    exponent = _literal_value(exponent_text)
    if exponent is None:
        inner = exponent_text.find("^")
        if inner >= 0 and "^" in exponent_text[inner + 1 :]:
            return math.inf  # a tower of height three or more with unknown parts
        return 0.0
    base = _number_before(text, caret)
    if base is None:
        base = 10.0  # an unknown base: assume a moderate one
    if abs(base) <= 1:
        return 0.0
    return float(exponent) * math.log10(abs(base))


def _value_digits(text: str) -> float:
    """Digits of the value of a small literal expression: an integer or a power of integers."""
    caret = text.find("^")
    if caret < 0:
        value = _literal_value(text)
        return 0.0 if value is None else float(len(str(abs(value))))
    return _power_digits(text, caret)


def _number_before(text: str, at: int) -> float | None:
    end = at
    while end > 0 and text[end - 1] in " }":
        end -= 1
    start = end
    while start > 0 and "0" <= text[start - 1] <= "9":  # ASCII: float("²") fails
        start -= 1
    if start == end or end - start > 300:
        return None
    return float(text[start:end])


def _has_huge_factorial(text: str) -> bool:
    at = text.find("!")
    while at >= 0:
        before = text[:at].rstrip()
        if before.endswith((")", "}")):
            inner = before[max(0, len(before) - 200) :]
            if "!" in inner or "^" in inner:
                return True  # the factorial of a factorial or of a power
        else:
            start = len(before)
            while start > 0 and "0" <= before[start - 1] <= "9":
                start -= 1
            digits = before[start:]
            if digits and (len(digits) > 5 or int(digits) > 10_000):
                return True
        at = text.find("!", at + 1)
    return False


_screened_cached = functools.lru_cache(maxsize=4096)(is_pathological)


def screened(answer: str) -> bool:
    """:func:`is_pathological`, cached for short answers (rollouts repeat their answers).

    Example:
        >>> screened("9^{9^{9^{9}}}")
        True
    """
    return _screened_cached(answer) if len(answer) <= MAX_PARSE_CHARS else is_pathological(answer)
