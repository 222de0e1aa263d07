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

import re
from typing import Any

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.equality import (
    FLOAT_DIGITS,
    compare_values,
    equations_equal,
    integer_digits,
)
from rlsp_rewards.outcome.extract import MAX_ANSWER_CHARS
from rlsp_rewards.outcome.labels import same_function, value_sides
from rlsp_rewards.outcome.screen import is_pathological, screened
from rlsp_rewards.outcome.values import (
    BIG_INT_DIGITS,
    MAX_PARSE_CHARS,
    Reading,
    normalise,
    plain_int,
    read,
    spelled,
)

__all__ = ["compare", "fast_compare", "math_verify_equal"]

CORRECT = OutcomeStatus.CORRECT
INCORRECT = OutcomeStatus.INCORRECT
ERROR = OutcomeStatus.ERROR


def fast_compare(gold: str, pred: str) -> OutcomeStatus | None:
    """Decide ``pred == gold`` cheaply, or return ``None`` when the full check is needed.

    Decides, exactly (see :mod:`rlsp_rewards.outcome.values`): equal spellings after
    normalisation, at any length; integers of any length (by digits); numbers, expressions,
    sets of reals, tuples, vectors, matrices, lists, numerals in a base, times, ordinals,
    choice letters and words; equations against equations; ``x = 3`` style answers. Screens
    pathological predictions (:func:`is_pathological`) as incorrect when the gold is simple.

    Never decides on a prefix: an answer as long as the extraction's cap
    (:data:`~rlsp_rewards.outcome.extract.MAX_ANSWER_CHARS`) may have been cut, so when it
    looks equal the verdict is ``ERROR``; answers longer than :data:`MAX_PARSE_CHARS` that the
    exact reading cannot decide also get ``ERROR`` (math-verify never sees a cut answer), except
    that such an answer to a short simple gold is wrong.

    Args:
        gold: the gold answer (see :func:`rlsp_rewards.outcome.extract.gold_answer`).
        pred: the extracted predicted answer.

    Returns:
        ``CORRECT``, ``INCORRECT``, ``ERROR`` (undecidable within the limits, flagged), or
        ``None`` when the full check is needed. Never raises.

    Example:
        >>> fast_compare("50\\%", "50"), fast_compare("x = 3", "3")
        (<OutcomeStatus.CORRECT: 'correct'>, <OutcomeStatus.CORRECT: 'correct'>)
        >>> fast_compare(r"\\frac{\\sqrt{2}}{2}", r"\\sin(\\pi/4)") is None
        True
    """
    try:
        if not isinstance(gold, str) or not isinstance(pred, str):
            return None
        verdict = _decide(gold, pred)
    except Exception:  # a cheap path must never fail the caller; the full check decides
        return None
    if verdict is CORRECT and max(len(gold), len(pred)) >= MAX_ANSWER_CHARS:
        return ERROR  # equal as far as we can see, but the extraction may have cut them
    return verdict


def _decide(gold: str, pred: str) -> OutcomeStatus | None:
    gold_digits, pred_digits = plain_int(gold), plain_int(pred)
    if gold_digits is not None and pred_digits is not None:
        return CORRECT if gold_digits == pred_digits else INCORRECT
    if spelled(gold) and spelled(gold) == spelled(pred):
        return CORRECT
    reference = read(gold)
    simple = gold_digits is not None or _simple(reference)
    if screened(spelled(pred)):  # before the answer is read: reading it may cost too
        sides = value_sides(normalise(pred))[1] if gold_digits is not None else []
        if len(sides) == 1 and plain_int(sides[0]) is not None:  # "x = <5,000 digits>"
            return CORRECT if plain_int(sides[0]) == gold_digits else INCORRECT
        return INCORRECT if simple else None
    answer = read(pred)
    verdict = _compare_readings(reference, answer, gold_digits)
    if verdict is None and max(len(gold), len(pred)) > MAX_PARSE_CHARS:
        short_gold = len(gold) <= MAX_PARSE_CHARS
        return INCORRECT if short_gold and simple else ERROR  # never parse a cut answer
    return verdict


def _simple(reading: Reading) -> bool:
    """Whether a gold is read as a value (or an equation) by the fast path."""
    return all(value is not None for value in reading.gold_values)


def _compare_readings(
    gold: Reading, pred: Reading, gold_digits: str | None
) -> OutcomeStatus | None:
    if len(gold.gold_sides) > 1:  # an equation such as 2x - y + 3z + 8 = 0: needs an equation
        if len(pred.equation) < 2:
            return INCORRECT
        return equations_equal(gold.gold_sides, pred.equation)
    if gold.gold_label:  # y = 2x + 3: the value 2x + 3, or an equivalent equation
        same = same_function(pred.label, gold.gold_label)  # y = ... and f(x) = ... alike
        if len(pred.equation) > 1 and not same:
            return equations_equal(gold.equation, pred.equation)
        if same and len(pred.sides) > 1:
            return None  # "x = 3" against a chain "x = 3 = 3": math-verify's rules decide
    gold_value = gold.gold_values[-1]
    verdicts: list[OutcomeStatus | None] = []
    for side_digits, side_value in zip(pred.digits, pred.values, strict=True):
        if gold_digits is not None and side_digits is None and gold_value is None:
            side_digits = integer_digits(side_value)  # a gold too big to read as a value
        if gold_digits is not None and side_digits is not None:
            verdicts.append(CORRECT if side_digits == gold_digits else INCORRECT)
        elif gold_value is None or side_value is None:
            verdicts.append(None)
        else:
            verdicts.append(compare_values(gold_value, side_value))
    if INCORRECT in verdicts:
        return INCORRECT
    return CORRECT if verdicts and all(v is CORRECT for v in verdicts) else None


def compare(gold: str, pred: str) -> OutcomeStatus:
    """The full check: :func:`fast_compare`, then math-verify with gold first.

    Meant to run in a worker process whose deadline the caller enforces: math-verify's own
    signal-based timeouts are disabled, so a hard case may take long. Only the normalised,
    bounded answers are parsed (math-verify's LaTeX grammar; no ``parse_expr``). After
    math-verify, three checks of ours: the rule for decimals (a rounded decimal is not an exact
    answer), exact numbers compared relatively (``1/2004!`` is not ``1/2006!``), and closed
    forms that math-verify leaves unevaluated (``2e^{i\\pi/3}`` is ``1 + \\sqrt{3}i``).

    Args:
        gold: the gold answer.
        pred: the extracted predicted answer.

    Returns:
        ``CORRECT``, ``INCORRECT``, ``ERROR`` (too long to check), or ``GOLD_UNPARSEABLE``
        when math-verify cannot read the gold as mathematics (and the fast path could not
        decide).

    Example:
        >>> compare("42", "41 = 42"), compare(r"\\frac{\\sqrt{2}}{2}", r"\\sin(\\pi/4)")
        (<OutcomeStatus.INCORRECT: 'incorrect'>, <OutcomeStatus.CORRECT: 'correct'>)
    """
    quick = fast_compare(gold, pred)
    if quick is not None:
        return quick
    if not isinstance(gold, str):
        return OutcomeStatus.GOLD_UNPARSEABLE
    if not isinstance(pred, str):
        return INCORRECT
    if max(len(gold), len(pred)) > MAX_PARSE_CHARS:
        return ERROR  # not reached: the fast path decides long answers
    reference, answer = read(gold), read(pred)
    if _big_int_inside(gold) or _big_int_inside(pred) or is_pathological(answer.squeezed):
        return INCORRECT  # not decidable by digits above, and too big to parse
    gold_parsed = _parse(normalise(gold))
    if not _has_expression(gold_parsed):  # at best a raw-string fallback
        return OutcomeStatus.GOLD_UNPARSEABLE
    if len(reference.gold_sides) > 1:  # an equation gold: only an equation can equal it
        if len(answer.equation) < 2:
            return INCORRECT
        return _verdict(gold_parsed, _parse(normalise(pred)), pred)
    if reference.gold_label:
        if len(answer.equation) > 1 and answer.label != reference.gold_label:
            return _verdict(gold_parsed, _parse(normalise(pred)), pred)
        gold_parsed = _parse(reference.gold_sides[0])
    if len(answer.sides) == 1:
        return _verdict(gold_parsed, _parse(answer.sides[0]), answer.sides[0])
    # a chain "a = b = c" with no label: every side that parses must equal the gold
    checked = 0
    for side in answer.sides:
        parsed = _parse(side)
        if not _has_expression(parsed):
            continue
        if _verdict(gold_parsed, parsed, side) is not CORRECT:
            return INCORRECT
        checked += 1
    return CORRECT if checked and _has_expression(_parse(answer.sides[-1])) else INCORRECT


def math_verify_equal(gold: str, pred: str) -> bool:
    """math-verify's verdict with our checks after it, without the fast path (the worker
    processes run it on a few answers of each kind at start, to warm the LaTeX parser).

    Example:
        >>> math_verify_equal("x^2 + 1", "1 + x^2")
        True
    """
    verdict = _verdict(_parse(normalise(gold)), _parse(normalise(pred)), pred)
    return verdict is CORRECT


def _verdict(gold: list[Any], pred: list[Any], pred_text: str) -> OutcomeStatus:
    if not pred:
        return INCORRECT
    if _verify(gold, pred):
        return INCORRECT if _rounded(gold, pred, pred_text) else CORRECT
    return CORRECT if _same_closed_form(gold, pred) else INCORRECT


def _big_int_inside(text: str) -> bool:
    run = 0
    for char in text:
        run = run + 1 if "0" <= char <= "9" else 0
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


_TRIG = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![A-Za-z])")
_DEGREE_VALUE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*°")


def _for_parser(answer: str) -> str:
    """The answer as math-verify should see it: one ``\\boxed{}`` around a normalised answer
    (never cut: longer answers do not reach here). Degrees inside a trigonometric function are
    radians (``\\cos 60°`` is ``\\cos\\frac{\\pi}{3}``; math-verify drops the mark)."""
    if "°" in answer and _TRIG.search(answer):
        answer = _DEGREE_VALUE.sub(r"(\\frac{\1\\pi}{180})", answer)
    return "\\boxed{" + answer.replace("°", "^{\\circ}").strip() + "}"


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


_DECIMAL = re.compile(r"(?<![0-9.])([0-9]*)\\.([0-9]+)(?![0-9]*\\\\overline)")


def _rounded(gold: list[Any], pred: list[Any], pred_text: str) -> bool:
    """Whether math-verify called a rounded decimal equal to an exact gold (``0.333`` for
    ``1/3``): the rule for decimals of :mod:`rlsp_rewards.outcome.values`."""
    import sympy

    first = next((g for g in gold if isinstance(g, sympy.Basic)), None)
    second = next((p for p in pred if isinstance(p, sympy.Basic)), None)
    if first is None or second is None or first.atoms(sympy.Float) or not second.atoms(sympy.Float):
        return False
    digits = [_significant(whole, fraction) for whole, fraction in _DECIMAL.findall(pred_text)]
    if digits and min(digits) >= FLOAT_DIGITS:
        return False  # a printed float: math-verify's rounding is right
    try:
        exact = second.xreplace({f: sympy.Rational(str(f)) for f in second.atoms(sympy.Float)})
        difference = sympy.simplify(first - exact)
        return not (difference == 0 or difference.is_zero)
    except Exception:
        return True


def _significant(whole: str, fraction: str) -> int:
    if whole.strip("0"):
        return len(whole.lstrip("0")) + len(fraction)
    return len(fraction.lstrip("0"))


def _same_closed_form(gold: list[Any], pred: list[Any]) -> bool:
    """Two closed-form numbers math-verify left unevaluated but that are equal to 25 digits
    relative (``e^{2\\pi i/3}`` and ``-1/2 + \\sqrt{3}i/2``), or a column vector and a tuple
    with equal entries."""
    import sympy

    first = next((g for g in gold if isinstance(g, (sympy.Basic, sympy.MatrixBase))), None)
    second = next((p for p in pred if isinstance(p, (sympy.Basic, sympy.MatrixBase))), None)
    if first is None or second is None:
        return False
    try:
        entries = _vector_pairs(first, second)
        if entries is not None:
            return all(_verify([a], [b]) or _same_number(a, b) for a, b in entries)
        return _same_number(first, second)
    except Exception:
        return False


def _vector_pairs(first: Any, second: Any) -> list[tuple[Any, Any]] | None:
    import sympy

    def entries(value: Any) -> list[Any] | None:
        if isinstance(value, sympy.MatrixBase) and 1 in value.shape:
            return list(value)
        if isinstance(value, sympy.Tuple):
            return list(value)
        return None

    a, b = entries(first), entries(second)
    if a is None or b is None or len(a) != len(b) or type(first) is type(second):
        return None
    return list(zip(a, b, strict=True))


def _same_number(first: Any, second: Any) -> bool:
    import sympy

    if not (isinstance(first, sympy.Expr) and isinstance(second, sympy.Expr)):
        return False
    named = {"i": sympy.I, "e": sympy.E}
    a, b = (
        x.xreplace({s: named[s.name] for s in x.free_symbols if s.name in named})
        for x in (first, second)
    )
    if a.free_symbols or b.free_symbols or a.atoms(sympy.Float) or b.atoms(sympy.Float):
        return False
    scale = max(abs(a.evalf(30)), abs(b.evalf(30)))
    difference = abs((a - b).evalf(30))
    return bool(scale > 0 and difference <= scale * sympy.Float("1e-25"))
