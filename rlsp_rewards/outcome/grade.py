"""Deciding whether a predicted answer equals the gold answer.

Two entry points, both taking answers already extracted (see :mod:`rlsp_rewards.outcome.extract`):

* :func:`fast_compare` decides the common cases in well under a millisecond, in the caller's
  process, with exact arithmetic on a small grammar of simple values: integers of any size,
  decimals, fractions (``\\frac``, ``a/b``, mixed numbers), percentages, scientific notation,
  rational multiples of ``\\pi`` and of square roots, infinity, tuples, intervals and sets of
  those, polynomials and ratios of polynomials in one variable, and text answers. It also
  *screens* pathological predictions (see :func:`is_pathological`), and returns ``None`` when
  it is not sure.
* :func:`compare` is the full check: :func:`fast_compare` first, then math-verify (gold first,
  its signal-based timeouts disabled). It can be slow, so it runs in a killable worker process
  whose deadline the caller enforces; it never uses signals and never executes model output
  (math-verify's LaTeX parser builds sympy objects from a grammar; we never call ``sympify``,
  ``parse_expr`` or ``eval`` on answer text, and we do not enable math-verify's plain-expression
  extraction, which does call ``parse_expr``).

Fixes over plain math-verify 0.9.0:

* An equation is only unwrapped when its left side is a *label* (``x = 3``, ``m+n = 47``,
  ``f(2) = 5``); otherwise every side that can be evaluated must equal the gold, so
  ``41 = 42`` is wrong for gold 42.
* ``\\mathrm{e}`` and ``\\text{e}`` are read as Euler's number (math-verify drops them, which made
  ``1-1/\\mathrm{e}`` equal ``1+1/\\mathrm{e}``).
* Exact numbers are compared with a *relative* tolerance (math-verify's absolute ``chop`` made
  ``1/2004!`` equal ``1/2006!``).
* Integers longer than Python's 4,300-digit ``str``/``int`` limit compare by their digits.
* What reaches the parser is cleaned and bounded (:data:`MAX_PARSE_CHARS`), so unterminated
  ``\\[`` or ``\\(`` cannot make parsing quadratic.
* Mixed numbers ``1\\frac{1}{2}`` mean one and a half (math-verify reads a product).

Example:
    >>> fast_compare(r"\\frac{1}{2}", "0.5")
    <OutcomeStatus.CORRECT: 'correct'>
    >>> fast_compare("(1, 2]", "(1, 2)")
    <OutcomeStatus.INCORRECT: 'incorrect'>
    >>> fast_compare("42", "9^{9^{9^{9}}}")
    <OutcomeStatus.INCORRECT: 'incorrect'>
"""

from __future__ import annotations

from typing import Any

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.screen import is_pathological, screened
from rlsp_rewards.outcome.values import (
    BIG_INT_DIGITS,
    EULER,
    MAX_PARSE_CHARS,
    compare_values,
    normalise,
    plain_int,
    read,
    value_sides,
)

__all__ = ["compare", "fast_compare"]

CORRECT = OutcomeStatus.CORRECT
INCORRECT = OutcomeStatus.INCORRECT


def fast_compare(gold: str, pred: str) -> OutcomeStatus | None:
    """Decide ``pred == gold`` cheaply, or return ``None`` when the full check is needed.

    Decides: equal spellings after normalisation; integers of any length (by digits); numbers,
    fractions, mixed numbers, percentages, scientific notation and rational multiples of
    ``\\pi`` or of a square root (exactly; decimals within math-verify's 6-decimal rounding
    are left to it); tuples and intervals (ordered, brackets must match), sets (unordered);
    text answers (case, spacing and ``\\text{}`` ignored); ``x = 3`` style answers. Screens
    pathological predictions (:func:`is_pathological`) as incorrect when the gold is simple.

    Args:
        gold: the gold answer (see :func:`rlsp_rewards.outcome.extract.gold_answer`).
        pred: the extracted predicted answer.

    Returns:
        ``CORRECT``, ``INCORRECT``, or ``None`` when undecided. Never raises.

    Example:
        >>> fast_compare("50\\\\%", "0.5"), fast_compare("x = 3", "3")
        (<OutcomeStatus.CORRECT: 'correct'>, <OutcomeStatus.CORRECT: 'correct'>)
        >>> fast_compare(r"\\frac{\\sqrt{2}}{2}", r"\\sin(\\pi/4)") is None
        True
    """
    try:
        return _fast_compare(gold, pred)
    except Exception:  # a cheap path must never fail the caller; the full check decides
        return None


def _fast_compare(gold: str, pred: str) -> OutcomeStatus | None:
    if not isinstance(gold, str) or not isinstance(pred, str):
        return None
    gold_digits, pred_digits = plain_int(gold), plain_int(pred)
    if gold_digits is not None and pred_digits is not None:
        return CORRECT if gold_digits == pred_digits else INCORRECT
    if gold_digits is None and len(gold) > MAX_PARSE_CHARS:
        return None  # an unusual gold: left to the full check
    reference = read(gold_digits or gold)
    if len(reference.sides) > 1:
        return None  # the gold is an equation such as 2x + 3y = 6
    gold_value = reference.values[0]
    simple = gold_value is not None or gold_digits is not None
    if screened(pred):
        labelled = value_sides(pred)[1] if gold_digits is not None else []
        if len(labelled) == 1 and plain_int(labelled[0]) is not None:  # "x = <5,000 digits>"
            return CORRECT if plain_int(labelled[0]) == gold_digits else INCORRECT
        return INCORRECT if simple else None
    answer = read(pred)
    if not reference.label and reference.squeezed == answer.squeezed and answer.squeezed:
        return CORRECT
    if not simple or (reference.label and answer.label and reference.label != answer.label):
        return None
    if reference.label and len(answer.sides) > 1:
        return None  # "x = 3" against a chain "3 = 3": math-verify's equation rules decide
    verdicts: list[OutcomeStatus | None] = []
    for side_digits, side_value in zip(answer.digits, answer.values, strict=True):
        if gold_digits is not None and side_digits is not None:
            verdicts.append(CORRECT if side_digits == gold_digits else INCORRECT)
        elif gold_value is None or side_value is None:
            verdicts.append(None)
        else:
            verdicts.append(compare_values(gold_value, side_value))
    if INCORRECT in verdicts:
        return INCORRECT
    return CORRECT if all(v is CORRECT for v in verdicts) else None


def compare(gold: str, pred: str) -> OutcomeStatus:
    """The full check: :func:`fast_compare`, then math-verify with gold first.

    Meant to run in a worker process whose deadline the caller enforces: math-verify's own
    signal-based timeouts are disabled, so a hard case may take long. Only the bounded, cleaned
    answers are parsed (math-verify's LaTeX grammar; no ``parse_expr``).

    Args:
        gold: the gold answer.
        pred: the extracted predicted answer.

    Returns:
        ``CORRECT``, ``INCORRECT``, or ``GOLD_UNPARSEABLE`` when math-verify cannot read the
        gold as mathematics (and the fast path could not decide).

    Example:
        >>> compare("42", "41 = 42"), compare(r"\\frac{\\sqrt{2}}{2}", r"\\frac{1}{\\sqrt{2}}")
        (<OutcomeStatus.INCORRECT: 'incorrect'>, <OutcomeStatus.CORRECT: 'correct'>)
    """
    quick = fast_compare(gold, pred)
    if quick is not None:
        return quick
    if not isinstance(gold, str):
        return OutcomeStatus.GOLD_UNPARSEABLE
    if not isinstance(pred, str):
        return INCORRECT
    if _big_int_inside(gold) or _big_int_inside(pred) or is_pathological(pred):
        return INCORRECT  # not decidable by digits above, and too big to parse
    gold_parsed = _parse(gold)
    if not _has_expression(gold_parsed):  # at best a raw-string fallback
        return OutcomeStatus.GOLD_UNPARSEABLE
    gold_label, gold_sides = value_sides(normalise(gold))
    if len(gold_sides) > 1 or gold_label:
        return CORRECT if _verify(gold_parsed, _parse(pred)) else INCORRECT
    _, sides = value_sides(normalise(pred))
    if len(sides) == 1:
        return CORRECT if _verify(gold_parsed, _parse(sides[0])) else INCORRECT
    # a chain "a = b = c" with no label: every side that parses must equal the gold
    checked = 0
    for side in sides:
        parsed = _parse(side)
        if not _has_expression(parsed):
            continue
        if not _verify(gold_parsed, parsed):
            return INCORRECT
        checked += 1
    return CORRECT if checked and _has_expression(_parse(sides[-1])) else INCORRECT


def _big_int_inside(text: str) -> bool:
    run = 0
    for char in text:
        run = run + 1 if char.isdigit() else 0
        if run > BIG_INT_DIGITS:
            return True
    return False


# -- math-verify --------------------------------------------------------------------------------


def _math_verify() -> Any:
    """Import math-verify lazily, quieting its warning that its own timeouts are off."""
    import logging

    import math_verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return math_verify


def _for_parser(answer: str) -> str:
    """The answer as math-verify should see it: cleaned, bounded, inside one ``\\boxed{}``."""
    text = answer[:MAX_PARSE_CHARS]
    for delimiter in ("\\[", "\\]", "\\(", "\\)", "$"):
        text = text.replace(delimiter, " ")
    text = EULER.sub("e", text).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\u2212", "-")
    return "\\boxed{" + text.strip() + "}"


def _parse(answer: str) -> list[Any]:
    math_verify = _math_verify()
    config = [math_verify.LatexExtractionConfig(boxed_match_priority=0)]
    try:
        return math_verify.parse(_for_parser(answer), config, parsing_timeout=None)
    except Exception:
        return []


def _has_expression(parsed: list[Any]) -> bool:
    return any(not isinstance(item, str) for item in parsed)


def _verify(gold: list[Any], pred: list[Any]) -> bool:
    if not pred:
        return False
    math_verify = _math_verify()
    try:
        same = math_verify.verify(gold, pred, timeout_seconds=None)
    except Exception:
        return False
    return same and not _numbers_differ(gold, pred)


def _numbers_differ(gold: list[Any], pred: list[Any]) -> bool:
    """Whether two exact numbers math-verify called equal differ relatively (1/2004! vs 1/2006!).

    math-verify evaluates ``gold - pred`` to 15 digits and chops tiny results to zero, so any
    two very small (or the difference of two very large) exact numbers look equal. We re-check
    exact numbers (no floats, no percentages) with a relative tolerance.
    """
    import sympy

    first = next((g for g in gold if isinstance(g, sympy.Basic)), None)
    second = next((p for p in pred if isinstance(p, sympy.Basic)), None)
    if first is None or second is None:
        return False
    for expr in (first, second):
        if not expr.is_number or expr.atoms(sympy.Float) or expr.has(sympy.UnevaluatedExpr):
            return False
    try:
        a, b = first.evalf(30), second.evalf(30)
        if _no_digits(a) or _no_digits(b):
            return False  # evalf could only bound it near zero (sin(pi)): math-verify decides
        scale = max(abs(a), abs(b))
        if scale == 0 or not (scale.is_finite and a.is_real and b.is_real):
            return False
        return bool(abs(a - b) > scale * sympy.Float("1e-12"))
    except Exception:
        return False


def _no_digits(value: Any) -> bool:
    """Whether an evalf result has no significant digits: ``sin(pi).evalf()`` is ``0.e-152``,
    a zero that evalf could not certify, whose tiny size means nothing."""
    import sympy

    return isinstance(value, sympy.Float) and getattr(value, "_prec", 2) <= 1
