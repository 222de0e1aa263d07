"""Comparing two values read by :mod:`rlsp_rewards.outcome.values`, exactly.

:func:`compare_values` returns ``CORRECT``, ``INCORRECT``, or ``None`` whenever it is not sure
(the full check of :mod:`rlsp_rewards.outcome.grade` then decides). Numbers and expressions are
equal when their exact readings are; sets of reals when they are the same union of intervals;
tuples, vectors and matrices entry by entry (a column vector equals the tuple of its entries);
rosters and bare lists as sets; labelled lists label by label.

**The rule for decimals.** A decimal may be a rounded value. Equal values are always equal
(``0.75 = \\frac{3}{4}``, ``2.50 = 2.5``, ``0.\\overline{3} = \\frac{1}{3}``). Otherwise:

* a decimal answer to an exact gold is wrong (``0.333`` for ``\\frac{1}{3}``, ``9.42`` for
  ``3\\pi``), unless it has at least :data:`FLOAT_DIGITS` significant digits (how a program
  prints a float: ``0.0833333333333333`` for ``\\frac{1}{12}``) and is within one unit of its
  last digit of the gold;
* a gold decimal with at least :data:`ROUNDED_GOLD_DIGITS` significant digits is a rounded
  value: a more precise answer within one unit of its last digit is right (``\\sqrt{17}`` for
  ``4.123105625617661``); a shorter gold decimal needs an equal answer (``3.14`` is not
  ``\\pi``), and so does an answer with as few decimals as the gold.

**Percent.** A gold ``50\\%`` takes ``50`` and ``50\\%`` (not ``0.5``: the question asked for a
percent); a plain gold ``0.25`` takes ``25\\%``, and a plain gold ``25`` takes ``25\\%`` too.

**Degrees.** ``30^\\circ`` equals ``30`` and, when the other side is written with ``\\pi``,
``\\frac{\\pi}{6}``.

Example:
    >>> from rlsp_rewards.outcome.values import read
    >>> compare_values(read("x = \\\\frac{1}{2}").values[0], read("0.5").values[0])
    <OutcomeStatus.CORRECT: 'correct'>
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.algebra import Poly, Ratio
from rlsp_rewards.outcome.expressions import Expression, read_expression
from rlsp_rewards.outcome.sets import Point, RealSet
from rlsp_rewards.outcome.values import (
    Based,
    Colon,
    Group,
    Identity,
    Letter,
    Matrix,
    Ordinal,
    Scalar,
    Text,
    Value,
)

__all__ = [
    "FLOAT_DIGITS",
    "ROUNDED_GOLD_DIGITS",
    "compare_values",
    "equations_equal",
    "integer_digits",
]

CORRECT = OutcomeStatus.CORRECT
INCORRECT = OutcomeStatus.INCORRECT
#: Short text answers that are words, not products of names.
_WORDS = frozenset({"yes", "no", "odd", "all", "one", "two", "six", "ten", "red", "tie"})

#: A decimal answer with this many significant digits is a printed float, not a rounding.
FLOAT_DIGITS = 12
#: A gold decimal with this many significant digits is taken to be a rounded value.
ROUNDED_GOLD_DIGITS = 6


def compare_values(gold: Value, pred: Value) -> OutcomeStatus | None:
    """Exact comparison of two values read by :func:`read`; None when not sure.

    Example:
        >>> from rlsp_rewards.outcome.values import read
        >>> compare_values(read("(1, 2]").values[0], read("1 < x <= 2").values[0])
        <OutcomeStatus.CORRECT: 'correct'>
    """
    if isinstance(gold, Scalar) and isinstance(pred, Scalar):
        return _compare_scalars(gold, pred)
    if isinstance(gold, RealSet) or isinstance(pred, RealSet):
        return _compare_sets(gold, pred)
    if isinstance(gold, (Matrix, Identity)) or isinstance(pred, (Matrix, Identity)):
        return _compare_matrices(gold, pred)
    if isinstance(gold, Group) and isinstance(pred, Group):
        return _compare_groups(gold, pred)
    if isinstance(gold, Text) and isinstance(pred, Text):
        if gold.words == pred.words:
            return CORRECT
        short = all(
            len(t.words) <= 3 and t.words.isalpha() and t.words not in _WORDS for t in (gold, pred)
        )
        return None if short else INCORRECT  # "xyz" and "zyx" may be products of names
    if isinstance(gold, Letter):
        if isinstance(pred, Letter):
            return CORRECT if gold == pred else INCORRECT
        return INCORRECT if isinstance(pred, (Text, Group)) or _is_number(pred) else None
    if isinstance(gold, Based):
        return _compare_based(gold, pred)
    if isinstance(gold, Colon) or isinstance(pred, Colon):
        return _compare_colons(gold, pred)
    if isinstance(gold, Ordinal) or isinstance(pred, Ordinal):
        return _compare_ordinals(gold, pred)
    if isinstance(gold, Scalar) and isinstance(pred, Text):
        return _compare_none(gold, pred)  # words are not a number (number words were read)
    if isinstance(gold, Text) and isinstance(pred, Scalar):
        return _compare_none(pred, gold)
    if isinstance(gold, Scalar) and isinstance(pred, Group) and _distinct(pred) > 1:
        return INCORRECT  # a list, or a hedge between values
    if isinstance(gold, Group) and isinstance(pred, Scalar):
        if _distinct(gold) > 1:
            return INCORRECT
        if gold.kind in ("set", "bare") and gold.items:  # {0} and "x = 0": one solution
            return compare_values(gold.items[0], pred)
    return None


#: "none" answers a count (0) or a set of solutions (the empty set).
_NONE = Text("none")


def _compare_none(number: Value, words: Text) -> OutcomeStatus:
    """``none`` is the count 0 and the empty set; other words are no number."""
    if words != _NONE:
        return INCORRECT
    if isinstance(number, RealSet):
        return CORRECT if number == RealSet.empty() else INCORRECT
    if isinstance(number, Scalar) and number.expression is not None:
        return CORRECT if number.expression.value.constant() == 0 else INCORRECT
    return INCORRECT


def _is_number(value: Value) -> bool:
    return isinstance(value, Scalar) and (
        value.expression is None or not value.expression.value.names()
    )


def _distinct(group: Group) -> int:
    return len(_unique(list(group.items)))


#: Most items compared pairwise when they have no canonical key.
_MAX_PAIRWISE = 64


def _key(value: Value) -> object | None:
    """A canonical key of an exact value (equal keys exactly when the values are equal)."""
    if isinstance(value, Scalar):
        expression = value.expression
        if expression is None:
            return ("inf", value.infinite)
        if expression.decimal or expression.value.den != _ONE_POLY:
            return None
        return ("n", expression.value.num.items, value.percent, value.degrees)
    if isinstance(value, Group) and value.kind in _ORDERED:
        keys = tuple(_key(item) for item in value.items)
        return None if None in keys else ("t", keys)
    if isinstance(value, (Text, Letter, Based, Ordinal)):
        return value
    return None


def _unique(items: Sequence[Value]) -> list[Value]:
    keys = [_key(item) for item in items]
    if None not in keys:
        return list({key: item for key, item in zip(keys, items, strict=True)}.values())
    kept: list[Value] = []
    for item in items[: _MAX_PAIRWISE * 4]:
        if not any(compare_values(item, other) is CORRECT for other in kept):
            kept.append(item)
    return kept


# -- numbers -------------------------------------------------------------------------------------


def _compare_scalars(gold: Scalar, pred: Scalar) -> OutcomeStatus | None:
    if gold.expression is None or pred.expression is None:
        return CORRECT if gold.infinite == pred.infinite and gold.infinite else INCORRECT
    if gold.percent != pred.percent:
        return _compare_percent(gold, pred)
    if gold.degrees != pred.degrees:
        return _compare_degrees(gold, pred)
    return _compare_numbers(gold.expression, pred.expression)


def _compare_percent(gold: Scalar, pred: Scalar) -> OutcomeStatus | None:
    """A gold percentage takes its number (``50%``: ``50``); a plain gold takes ``p%`` as
    ``p/100`` or, as graders do for percent questions, as ``p``."""
    assert gold.expression is not None and pred.expression is not None
    if gold.percent:  # the question asked for a percent: 0.5 is not 50%
        return _compare_numbers(gold.expression, pred.expression)
    as_number = _compare_numbers(gold.expression, pred.expression)
    if as_number is CORRECT:
        return CORRECT
    hundredth = dataclasses.replace(pred.expression, value=pred.expression.value / _number(100))
    as_fraction = _compare_numbers(gold.expression, hundredth)
    if as_fraction is CORRECT:
        return CORRECT
    return INCORRECT if INCORRECT in (as_number, as_fraction) else None


def _compare_degrees(gold: Scalar, pred: Scalar) -> OutcomeStatus | None:
    """``30°`` equals ``30``, and ``\\frac{\\pi}{6}`` when that side is written in radians."""
    assert gold.expression is not None and pred.expression is not None
    marked, other = (gold, pred) if gold.degrees else (pred, gold)
    assert marked.expression is not None and other.expression is not None
    if "pi" in other.expression.value.names() and "pi" not in marked.expression.value.names():
        radians = marked.expression.value * Ratio(Poly.name("pi"), Poly.number(180))
        converted = dataclasses.replace(marked.expression, value=radians)
        pair = (converted, other.expression) if marked is gold else (other.expression, converted)
        return _compare_numbers(*pair)
    return _compare_numbers(gold.expression, pred.expression)


_ONE_POLY = Poly.number(1)


def _number(value: int) -> Ratio:
    return Ratio.of(Poly.number(value))


def _compare_numbers(gold: Expression, pred: Expression) -> OutcomeStatus | None:
    """Exact equality, then the rule for decimals (see the module docstring)."""
    if gold.value.equals(pred.value):
        return CORRECT
    if not (gold.decimal or pred.decimal):
        return INCORRECT
    if gold.value.names() - {"pi", "e"} or pred.value.names() - {"pi", "e"}:
        return INCORRECT  # decimals in a polynomial are compared exactly
    a, b = gold.value.evaluate(), pred.value.evaluate()
    if a is None or b is None:
        return None
    more_precise = not pred.decimal or pred.decimal_places > gold.decimal_places
    if gold.decimal and (gold.decimal_digits or 0) >= ROUNDED_GOLD_DIGITS and more_precise:
        return CORRECT if abs(a - b) <= _unit(gold) else INCORRECT
    if pred.decimal and not gold.decimal and (pred.decimal_digits or 0) >= FLOAT_DIGITS:
        return CORRECT if abs(a - b) <= _unit(pred) else INCORRECT
    return INCORRECT


def _unit(expression: Expression) -> float:
    """One unit of the last decimal place written, with room for float error."""
    return 10.0 ** (-expression.decimal_places) * (1 + 1e-9)


def _compare_based(gold: Based, pred: Value) -> OutcomeStatus | None:
    """Same digits (and the same base, when the prediction names one) or wrong."""
    if isinstance(pred, Based):
        return CORRECT if pred == gold else INCORRECT
    if isinstance(pred, Scalar) and pred.expression is not None and pred.expression.integer:
        number = pred.expression.value.constant()
        if number is not None and number >= 0 and not pred.percent and not pred.degrees:
            return CORRECT if str(number.numerator) == gold.digits else INCORRECT
    return None


def _compare_colons(gold: Value, pred: Value) -> OutcomeStatus | None:
    """Times compare on the clock (``4:30 pm`` = ``16:30``); a ratio compares its terms."""
    if isinstance(gold, Colon) and isinstance(pred, Colon):
        if gold.half and pred.half:
            return CORRECT if _minutes(gold) == _minutes(pred) else INCORRECT
        if gold.half or pred.half:  # 4:30 pm is 16:30, and 4:30 when no half is written
            marked, plain = (gold, pred) if gold.half else (pred, gold)
            if plain.first > 12:
                return CORRECT if _minutes(marked) == _minutes(plain) else INCORRECT
            same = _minutes(marked) % 720 == _minutes(plain) % 720
            return CORRECT if same else INCORRECT
        return CORRECT if (gold.first, gold.second) == (pred.first, pred.second) else INCORRECT
    colon, other = (gold, pred) if isinstance(gold, Colon) else (pred, gold)
    assert isinstance(colon, Colon)
    if colon.half or colon.second == 0 or not isinstance(other, Scalar):
        return None
    value = Expression(Ratio(Poly.number(colon.first), Poly.number(colon.second)))
    if other.expression is None or other.percent or other.degrees:
        return INCORRECT
    return _compare_numbers(value, other.expression)


def _minutes(clock: Colon) -> int:
    hours = clock.first % 12 + (12 if clock.half == "pm" else 0)
    return hours * 60 + clock.second if clock.half else clock.first * 60 + clock.second


def _compare_ordinals(gold: Value, pred: Value) -> OutcomeStatus | None:
    numbers = []
    for value in (gold, pred):
        if isinstance(value, Ordinal):
            numbers.append(value.number)
        elif isinstance(value, Scalar) and value.expression is not None:
            number = value.expression.value.constant()
            if number is None or number.denominator != 1 or value.percent or value.degrees:
                return INCORRECT if number is not None else None
            numbers.append(int(number))
        else:
            return None
    return CORRECT if numbers[0] == numbers[1] else INCORRECT


# -- sets, groups, matrices ---------------------------------------------------------------------


def _as_set(value: Value, *, other_is_set: bool) -> RealSet | None:
    """A value as a set of reals, where it has one reading as such."""
    if isinstance(value, RealSet):
        return value
    if (
        isinstance(value, Group)
        and value.kind in ("()", "[]", "(]", "[)")
        and len(value.items) == 2
    ):
        low, high = (_end_of(item) for item in value.items)
        if low is None or high is None or not low.below(high):
            return None
        if (low.exact is None and low.approx > 0) or (high.exact is None and high.approx < 0):
            return None
        return RealSet.interval(low, value.kind[0] == "[", high, value.kind[1] == "]")
    if isinstance(value, Group) and value.kind in ("set", "bare") and other_is_set:
        total = RealSet.empty()
        for item in value.items:
            end = _end_of(item)
            if end is None or end.exact is None:
                return None
            total = total.union(RealSet.point(end))
        return total
    return None


def _end_of(value: Value) -> Point | None:
    if not isinstance(value, Scalar) or value.percent or value.degrees:
        return None
    if value.expression is None:
        return Point.infinity(value.infinite)
    approx = value.expression.value.real_value()
    return None if approx is None else Point(approx, value.expression.value)


def _compare_sets(gold: Value, pred: Value) -> OutcomeStatus | None:
    first = _as_set(gold, other_is_set=isinstance(pred, RealSet))
    second = _as_set(pred, other_is_set=isinstance(gold, RealSet))
    if first is None or second is None:
        if isinstance(gold, RealSet) and isinstance(pred, Text):
            return _compare_none(gold, pred)
        if isinstance(pred, RealSet) and isinstance(gold, Text):
            return _compare_none(pred, gold)
        if isinstance(gold, RealSet) and isinstance(pred, (Scalar, Letter)):
            return INCORRECT  # a number is not a set (0 is not the empty set)
        return None
    return CORRECT if first == second else INCORRECT


def _ordered(verdicts: Sequence[OutcomeStatus | None]) -> OutcomeStatus | None:
    if INCORRECT in verdicts:
        return INCORRECT
    return CORRECT if all(v is CORRECT for v in verdicts) else None


def _compare_in_order(gold: Sequence[Value], pred: Sequence[Value]) -> OutcomeStatus | None:
    if len(gold) != len(pred):
        return INCORRECT
    return _ordered([compare_values(g, p) for g, p in zip(gold, pred, strict=True)])


def _compare_unordered(gold: Sequence[Value], pred: Sequence[Value]) -> OutcomeStatus | None:
    """Equal as sets: every item of each side equals some item of the other."""
    gold_keys, pred_keys = [_key(g) for g in gold], [_key(p) for p in pred]
    if None not in gold_keys and None not in pred_keys:
        return CORRECT if set(gold_keys) == set(pred_keys) else INCORRECT
    if max(len(gold), len(pred)) > _MAX_PAIRWISE:
        return None
    gold_items, pred_items = _unique(gold), _unique(pred)
    if len(gold_items) != len(pred_items):
        undecided = any(compare_values(g, p) is None for g in gold_items for p in pred_items)
        return None if undecided else INCORRECT
    unmatched = list(pred_items)
    unsure = False
    for item in gold_items:
        verdicts = [compare_values(item, other) for other in unmatched]
        if CORRECT in verdicts:
            unmatched.pop(verdicts.index(CORRECT))
        elif None in verdicts:
            unsure = True
        else:
            return INCORRECT
    return None if unsure else CORRECT


_ORDERED = ("()", "[]", "<>")


def _compare_groups(gold: Group, pred: Group) -> OutcomeStatus | None:
    mapping = _compare_labelled(gold, pred)
    if mapping is not None:
        return mapping
    unordered = ("set", "bare")
    if gold.kind in unordered and pred.kind in unordered:
        return _compare_unordered(gold.items, pred.items)
    for one, other in ((gold, pred), (pred, gold)):  # {(1, 2)}: one solution, the pair (1, 2)
        single = one.items[0] if one.kind in unordered and len(one.items) == 1 else None
        if isinstance(single, Group) and single.kind == "()" and other.kind == "()":
            return compare_values(*((single, other) if one is gold else (other, single)))
    if gold.kind in unordered or pred.kind in unordered:
        ordered = pred if gold.kind in unordered else gold
        if ordered.kind != "()" and _as_set(ordered, other_is_set=False) is not None:
            return INCORRECT  # [0, 1] is an interval (or a list), not the set {0, 1}
        if _label_order(gold) is not None or _label_order(pred) is not None:
            return _compare_in_order(
                _label_order(gold) or gold.items, _label_order(pred) or pred.items
            )
        return _compare_in_order(gold.items, pred.items)
    if gold.kind != pred.kind:
        first = _as_set(gold, other_is_set=False)
        second = _as_set(pred, other_is_set=False)
        if first is not None and second is not None and "<>" not in (gold.kind, pred.kind):
            return CORRECT if first == second else INCORRECT  # open and closed ends differ
        if gold.kind in _ORDERED and pred.kind in _ORDERED and "<>" in (gold.kind, pred.kind):
            return _compare_in_order(gold.items, pred.items)  # a tuple and a vector
        verdict = _compare_in_order(gold.items, pred.items)
        return INCORRECT if verdict is INCORRECT else None
    return _compare_in_order(gold.items, pred.items)


def _label_order(group: Group) -> tuple[Value, ...] | None:
    """The items in the order of their labels (``y = 3, x = 2`` is ``(2, 3)``), when all are
    distinct plain names."""
    labels = group.labels
    if len(labels) != len(group.items) or "" in labels or len(set(labels)) != len(labels):
        return None
    order = sorted(range(len(labels)), key=labels.__getitem__)
    return tuple(group.items[i] for i in order)


def _compare_labelled(gold: Group, pred: Group) -> OutcomeStatus | None:
    """Both fully labelled with the same distinct labels: compare label by label."""
    if _label_order(gold) is None or _label_order(pred) is None:
        return None
    if sorted(gold.labels) != sorted(pred.labels):
        return None
    return _compare_in_order(_label_order(gold) or (), _label_order(pred) or ())


def _compare_matrices(gold: Value, pred: Value) -> OutcomeStatus | None:
    if isinstance(gold, Identity) or isinstance(pred, Identity):
        identity, other = (gold, pred) if isinstance(gold, Identity) else (pred, gold)
        assert isinstance(identity, Identity)
        if isinstance(other, Identity):
            sizes = None in (identity.size, other.size) or identity.size == other.size
            return CORRECT if sizes and identity.scale == other.scale else INCORRECT
        rows = _as_rows(other)
        if rows is None:
            return INCORRECT if isinstance(other, Scalar) else None
        return _compare_identity(identity, rows)
    first, second = _as_rows(gold), _as_rows(pred)
    if first is None or second is None:
        return INCORRECT if isinstance(gold, Scalar) or isinstance(pred, Scalar) else None
    if len(first) * len(first[0]) != len(second) * len(second[0]):
        return INCORRECT
    if len(first) != len(second):
        if 1 in (len(first), len(first[0])) and 1 in (len(second), len(second[0])):
            flat = [cell for row in first for cell in row]
            return _compare_in_order(flat, [cell for row in second for cell in row])
        return INCORRECT
    return _ordered([_compare_in_order(a, b) for a, b in zip(first, second, strict=True)])


def _as_rows(value: Value) -> tuple[tuple[Value, ...], ...] | None:
    """A matrix's rows; a tuple or vector as a column; nested lists as rows."""
    if isinstance(value, Matrix):
        return value.rows
    if isinstance(value, Group) and value.kind in _ORDERED:
        if all(isinstance(item, Group) and item.kind in _ORDERED for item in value.items):
            rows = tuple(item.items for item in value.items)  # type: ignore[union-attr]
            return rows if len({len(row) for row in rows}) == 1 else None
        return tuple((item,) for item in value.items)
    return None


def _compare_identity(identity: Identity, rows: tuple[tuple[Value, ...], ...]) -> OutcomeStatus:
    size = len(rows)
    if any(len(row) != size for row in rows) or identity.size not in (None, size):
        return INCORRECT
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            expected = Scalar(Expression(_number(identity.scale if i == j else 0)))
            if compare_values(expected, cell) is not CORRECT:
                return INCORRECT
    return CORRECT


# -- equations ---------------------------------------------------------------------------------


def equations_equal(gold_sides: Sequence[str], pred_sides: Sequence[str]) -> OutcomeStatus | None:
    """Whether two equations have the same solutions, as multiples of one another.

    ``2x - y + 3z + 8 = 0`` and ``-2x + y - 3z = 8`` are equal; so are ``y = 2x + 3`` and
    ``2x - y + 3 = 0``. Each equation is read as ``left - right``; they are equal when one is a
    non-zero constant times the other. None when either side is outside the grammar.

    Example:
        >>> equations_equal(["x^2/4 + y^2/9", "1"], ["9x^2 + 4y^2", "36"])
        <OutcomeStatus.CORRECT: 'correct'>
    """
    first, second = _zero_form(gold_sides), _zero_form(pred_sides)
    if first is None or second is None:
        return None
    if first.is_zero() or second.is_zero():
        return None
    (monomial, coefficient), *_ = first.items
    other = second.as_dict().get(monomial)
    if other is None:
        return INCORRECT
    same = second * Poly.number(coefficient) == first * Poly.number(other)
    return CORRECT if same else INCORRECT


def _zero_form(sides: Sequence[str]) -> Poly | None:
    if len(sides) != 2:
        return None
    left, right = (read_expression(side) for side in sides)
    if left is None or right is None or left.decimal or right.decimal:
        return None
    return (left.value - right.value).num


def integer_digits(value: Value | None) -> str | None:
    """The digits of a value that is a plain number (``"x"`` when it is not an integer), or
    None when it is not a number: compared with a gold integer too long to read as a value.

    Example:
        >>> from rlsp_rewards.outcome.values import read
        >>> integer_digits(read("2^{10}").values[0]), integer_digits(read("1/2").values[0])
        ('1024', 'x')
    """
    if not isinstance(value, Scalar) or value.expression is None or value.percent:
        return None
    if value.degrees:
        return None
    number = value.expression.value.constant()
    if number is None:
        names = value.expression.value.names() or value.expression.value.has_imaginary()
        return None if names else "x"
    return str(number.numerator) if number.denominator == 1 else "x"
