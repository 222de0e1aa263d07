"""Exact reading of answer values, and their comparison: no sympy, no parser generator.

An answer is normalised (:func:`~rlsp_rewards.outcome.spelling.normalise`), split into the sides
of an equation (:func:`value_sides`: ``x = y = 3`` has the label ``x=y`` and the value ``3``),
and each side is read as a value:

* a number or expression, exactly (:mod:`rlsp_rewards.outcome.algebra`: integers of any size,
  fractions, decimals, repeating decimals, radicals, ``\\pi``, ``e``, ``i``, polynomials and
  ratios of polynomials in any names), with its percent sign or degree mark, or an infinity;
* a set of reals (:mod:`rlsp_rewards.outcome.sets`: intervals, inequalities, unions);
* a tuple, vector (``\\langle\\rangle``, a column), matrix (``pmatrix`` and the others, nested
  lists, a factored-out scalar, ``I`` and ``I_n``), a set in roster notation or a bare list
  (``2, 3``, ``x = 2 or x = 3``, ``1 \\pm \\sqrt{2}``), whose items may be labelled;
* a numeral in a base (``52_8``), a time of day (``4:30 pm``), a ratio (``7:32``), an ordinal,
  a multiple-choice letter, or words.

:func:`compare_values` compares two values exactly and returns ``None`` whenever it is not sure;
the full check (:mod:`rlsp_rewards.outcome.grade`) then decides.

**The rule for decimals.** A decimal may be a rounded value. Equal values are always equal
(``0.75 = \\frac{3}{4}``, ``2.50 = 2.5``, ``0.\\overline{3} = \\frac{1}{3}``). Otherwise:

* a decimal answer to an exact gold is wrong (``0.333`` for ``\\frac{1}{3}``, ``9.42`` for
  ``3\\pi``), unless it has at least :data:`FLOAT_DIGITS` significant digits (how a program
  prints a float: ``0.0833333333333333`` for ``\\frac{1}{12}``) and is within one unit of its
  last digit of the gold;
* a gold decimal with at least :data:`ROUNDED_GOLD_DIGITS` significant digits is a rounded
  value: an answer within one unit of its last digit is right (``\\sqrt{17}`` for
  ``4.123105625617661``); a shorter gold decimal needs an equal answer.

**Percent.** A gold ``50\\%`` takes ``50`` and ``50\\%`` (and not ``0.5``); a plain gold ``0.25``
takes ``25\\%``, and a plain gold ``25`` takes ``25\\%`` too.

**Degrees.** ``30^\\circ`` equals ``30`` and, when the other side is written with ``\\pi``,
``\\frac{\\pi}{6}``.

Example:
    >>> reading = read("x = \\\\frac{1}{2}")
    >>> reading.label, compare_values(reading.values[0], read("0.5").values[0])
    ('x', <OutcomeStatus.CORRECT: 'correct'>)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Sequence

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.algebra import GREEK, Expression, Poly, Ratio, read_expression
from rlsp_rewards.outcome.sets import Point, RealSet, read_set, split_top
from rlsp_rewards.outcome.spelling import normalise, ordinal, squeeze

__all__ = [
    "BIG_INT_DIGITS",
    "FLOAT_DIGITS",
    "MAX_PARSE_CHARS",
    "MAX_VALUE_CHARS",
    "ROUNDED_GOLD_DIGITS",
    "Reading",
    "braced",
    "compare_values",
    "equations_equal",
    "exponent_at",
    "literal_value",
    "normalise",
    "plain_int",
    "read",
    "spelled",
    "squeeze",
    "value_sides",
]

CORRECT = OutcomeStatus.CORRECT
INCORRECT = OutcomeStatus.INCORRECT

#: Longest answer handed to math-verify's parser (longer ones are never cut to fit).
MAX_PARSE_CHARS = 1_000
#: Longest answer read as a value here (tuples, matrices, polynomials of this size are read).
MAX_VALUE_CHARS = 50_000
#: Integers with more digits than this are compared as digit strings, never converted to int.
BIG_INT_DIGITS = 4_000
#: A decimal answer with this many significant digits is a printed float, not a rounding.
FLOAT_DIGITS = 12
#: A gold decimal with this many significant digits is taken to be a rounded value.
ROUNDED_GOLD_DIGITS = 6


# -- small helpers the screen shares ------------------------------------------------------------


def braced(text: str, at: int) -> tuple[str | None, int]:
    """Content and end index of the ``{...}`` group opening at ``at`` (None when unclosed).

    Example:
        >>> braced("{a{b}}c", 0)
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


def exponent_at(text: str, at: int) -> tuple[str | None, int]:
    """The braced group or single character starting at ``at`` (TeX reads ``2^10`` as 2^1 0).

    Example:
        >>> exponent_at("2^{10}", 2), exponent_at("2^10", 2)
        (('10', 6), ('1', 3))
    """
    while at < len(text) and text[at] == " ":
        at += 1
    if at >= len(text):
        return None, at
    if text[at] == "{":
        return braced(text, at)
    return text[at], at + 1


_SMALL_INT = re.compile(r"-?[0-9]{1,300}")


def literal_value(text: str) -> int | None:
    """The value of ``text`` when it is an integer or a power of integers (up to 300 digits).

    Example:
        >>> literal_value("2^{10}"), literal_value("10^{400}"), literal_value("x")
        (1024, None, None)
    """
    text = text.strip()
    if text.startswith("{") and braced(text, 0)[1] == len(text):
        text = text[1:-1].strip()
    if _SMALL_INT.fullmatch(text):
        return int(text)
    caret = text.find("^")
    if caret <= 0 or not _SMALL_INT.fullmatch(text[:caret].strip()):
        return None
    exponent_text, end = exponent_at(text, caret + 1)
    if exponent_text is None or end != len(text):
        return None
    power = literal_value(exponent_text)
    base = int(text[:caret])
    if power is None or power < 0 or power * math.log10(max(abs(base), 2)) > 300:
        return None
    return base**power


def plain_int(text: str) -> str | None:
    """Canonical digits (with sign) of an integer literal of any length, else None.

    Example:
        >>> plain_int("-007"), plain_int("1.0")
        ('-7', None)
    """
    body = text.strip()
    sign = ""
    if body[:1] in ("-", "+"):
        sign, body = ("-" if body[0] == "-" else ""), body[1:].lstrip()
    if not body.isdigit() or not body.isascii():
        return None
    body = body.lstrip("0") or "0"
    return ("" if body == "0" else sign) + body


# -- values -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Scalar:
    """A number or expression (``expression`` None: an infinity of sign ``infinite``)."""

    expression: Expression | None
    infinite: int = 0
    percent: bool = False
    degrees: bool = False


@dataclasses.dataclass(frozen=True)
class _Group:
    """A tuple, interval, vector, roster set or bare list.

    ``kind``: ``"()"``, ``"[]"``, ``"(]"``, ``"[)"``, ``"<>"`` (a vector), ``"set"``, ``"bare"``.
    ``labels`` holds each item's label (``""`` when none): ``x = 2, y = 3``.
    """

    kind: str
    items: tuple[_Value, ...]
    labels: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Matrix:
    rows: tuple[tuple[_Value, ...], ...]


@dataclasses.dataclass(frozen=True)
class _Identity:
    size: int | None


@dataclasses.dataclass(frozen=True)
class _Text:
    words: str


@dataclasses.dataclass(frozen=True)
class _Letter:
    """A single capital letter: a multiple-choice option (or a named point)."""

    letter: str


@dataclasses.dataclass(frozen=True)
class _Based:
    """A numeral with a base subscript, ``1011_2``."""

    digits: str
    base: str


@dataclasses.dataclass(frozen=True)
class _Colon:
    """``a:b``: a time of day (``half`` is ``"am"``/``"pm"`` when written) or a ratio."""

    first: int
    second: int
    half: str = ""


@dataclasses.dataclass(frozen=True)
class _Ordinal:
    number: int


_Value = (
    _Scalar | _Group | _Matrix | _Identity | RealSet | _Text | _Letter | _Based | _Colon | _Ordinal
)


# -- reading a side ------------------------------------------------------------------------------

_SET_SIGNS = re.compile(
    r"[<>]|\\(?:le|ge|ne|lt|gt|in|cup|cap|setminus|mathbb|emptyset|varnothing|infty)(?![A-Za-z])"
    r"|real|\\\{\s*\\\}|\\\{[^{}|:]*(?:\||:)",
    re.IGNORECASE,
)
_LIST_SEPARATOR = re.compile(r",|;|\\q?quad(?![A-Za-z])|\s+(?:and|or)\s+")
_GROUP_SEPARATOR = re.compile(r";|\\q?quad(?![A-Za-z])|\s+(?:and|or)\s+")
_ITEM_SEPARATOR = re.compile(r",")
_HEDGE_WORDS = re.compile(r"^(?:maybe|possibly|perhaps|probably)\s+", re.IGNORECASE)
_MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", re.DOTALL)
_IDENTITY = re.compile(r"(?:\\mathbf\{I\}|\\mathbb\{I\}|I)(?:_\{?(\d{1,2})\}?)?")
_TRANSPOSE = re.compile(r"\^\{?(?:T|\\top|t)\}?$")
_COLON = re.compile(r"(\d{1,6}):(\d{1,6})(am|pm)?")
_BASED = re.compile(r"([0-9A-Za-z]{1,64})_\{?(\d{1,2})\}?")
_TEXT = re.compile(r"[A-Za-z][A-Za-z' \-]*[A-Za-z]")
_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}$")


def _value(text: str, depth: int = 0) -> _Value | None:
    """Read one side of a normalised answer as a value, or None."""
    text = text.strip()
    if not text or len(text) > MAX_VALUE_CHARS or depth > 8:
        return None
    if len(text) == 1 and "A" <= text <= "Z" and text != "I":
        return _Letter(text)
    if _SET_SIGNS.search(text):
        found = read_set(text)
        if found is not None:
            return found
    matrix = _matrix(text, depth)
    if matrix is not None:
        return matrix
    group = _group(text, depth)
    if group is not None:
        return group
    squeezed = squeeze(text)
    colon = _COLON.fullmatch(squeezed)
    if colon:
        return _Colon(int(colon.group(1)), int(colon.group(2)), colon.group(3) or "")
    based = _BASED.fullmatch(squeezed)
    if based and _is_numeral(based.group(1), int(based.group(2))):
        return _Based(based.group(1).upper().lstrip("0") or "0", based.group(2))
    number = ordinal(text)
    if number is not None:
        return _Ordinal(number)
    scalar = _scalar(text)
    if scalar is not None:
        return scalar
    return _text(text)


def _scalar(text: str) -> _Scalar | None:
    squeezed = squeeze(text)
    percent = squeezed.endswith("%")
    degrees = squeezed.endswith("°")
    if percent or degrees:
        squeezed = squeezed[:-1]
    sign, body = 1, squeezed
    while body[:1] in ("+", "-"):
        sign = -sign if body[0] == "-" else sign
        body = body[1:]
    if body in ("\\infty", "\\inf", "oo"):
        return None if percent or degrees else _Scalar(None, sign)
    if _THOUSANDS.fullmatch(body) and " " not in text.strip():
        squeezed = squeezed.replace(",", "")
    if squeezed.replace("-", "").isalpha() and len(squeezed.replace("-", "")) > 1:
        return None  # words are text, not products of letters
    expression = read_expression(squeezed)
    if expression is None:
        return None
    return _Scalar(expression, 0, percent, degrees)


def _text(text: str) -> _Text | None:
    wrapped = _WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    elif "\\" in text:
        return None
    if not _TEXT.fullmatch(text) or (sum(c.isalpha() for c in text) < 3 and text != "no"):
        return None
    return _Text(" ".join(text.lower().replace("-", " ").split()))


def _is_numeral(digits: str, base: int) -> bool:
    """Whether ``digits`` are valid in ``base`` (so ``x_1`` is a variable, not a numeral)."""
    return 2 <= base <= 36 and all(int(c, 36) < base for c in digits)


def _matrix(text: str, depth: int) -> _Value | None:
    """A matrix environment (with a scalar factor or a transpose), or ``I`` / ``I_n``."""
    identity = _IDENTITY.fullmatch(squeeze(text))
    if identity:
        return _Identity(int(identity.group(1)) if identity.group(1) else None)
    match = _MATRIX.search(text)
    if match is None:
        return None
    factor_text, after = text[: match.start()].strip(), text[match.end() :].strip()
    transpose = bool(after) and _TRANSPOSE.fullmatch(after) is not None
    if after and not transpose:
        return None
    rows_text = [row for row in re.split(r"\\\\", match.group(1)) if row.strip()]
    rows: list[tuple[_Value, ...]] = []
    for row in rows_text:
        cells = [_value(cell, depth + 1) for cell in row.split("&")]
        if factor_text:
            cells = [_scaled(factor_text, cell) for cell in cells]
        if any(cell is None for cell in cells):
            return None
        rows.append(tuple(cell for cell in cells if cell is not None))
    if not rows or len({len(row) for row in rows}) != 1:
        return None
    if transpose:
        rows = [tuple(column) for column in zip(*rows, strict=True)]
    return _Matrix(tuple(rows))


def _scaled(factor_text: str, cell: _Value | None) -> _Value | None:
    """A matrix entry times the scalar factored out in front of the matrix."""
    if factor_text in ("-", "+"):
        factor_text += "1"
    factor = _scalar(factor_text)
    if factor is None or factor.expression is None or factor.percent or factor.degrees:
        return None
    if not isinstance(cell, _Scalar) or cell.expression is None or cell.percent or cell.degrees:
        return None
    first, second = factor.expression, cell.expression
    digits = [d for d in (first.decimal_digits, second.decimal_digits) if d is not None]
    places = max(first.decimal_places, second.decimal_places)
    return _Scalar(Expression(first.value * second.value, min(digits, default=None), places))


def _group(text: str, depth: int) -> _Group | None:
    """A bracketed group, or a bare list of items (``2, 3``, ``x = 1 or x = 2``, ``1 \\pm 2``)."""
    squeezed = squeeze(text)
    kind, inner = "", text
    if squeezed.startswith("\\{") and squeezed.endswith("\\}"):
        kind, inner = "set", text.strip()[2:-2]
    elif squeezed.startswith("\\langle") and squeezed.endswith("\\rangle"):
        kind, inner = "<>", text.strip()[len("\\langle") : -len("\\rangle")]
    elif squeezed[:1] in "([" and squeezed[-1:] in ")]" and _encloses(squeezed):
        kind, inner = squeezed[0] + squeezed[-1], text.strip()[1:-1]
    if kind:
        items, labels = _items(inner, depth, _LIST_SEPARATOR if kind == "set" else _SEMI_OR_COMMA)
        if items is None:
            return None
        if kind not in ("set", "<>") and len(items) < 2:
            return None  # "(5)" is a parenthesised number, not a tuple
        return _Group(kind, tuple(items), tuple(labels))
    if not _LIST_SEPARATOR.search(text) and "\\pm" not in text and "\\mp" not in text:
        return None
    if _THOUSANDS.fullmatch(text.strip().lstrip("+-").rstrip("%°")):
        return None  # thousands separators, not a list
    solutions = _solutions(text, depth)
    if solutions is not None:
        return solutions
    items, labels = _items(text, depth, _LIST_SEPARATOR)
    if items is None or len(items) < 2:
        return None
    return _Group("bare", tuple(items), tuple(labels))


_SEMI_OR_COMMA = re.compile(r"[,;]")
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def _items(
    text: str, depth: int, separator: re.Pattern[str]
) -> tuple[list[_Value] | None, list[str]]:
    parts = split_top(text, separator)
    if parts is None:
        return None, []
    items: list[_Value] = []
    labels: list[str] = []
    for part in parts:
        part = _HEDGE_WORDS.sub("", part.strip())
        for expanded in _plus_minus(part) if part else []:
            label, sides = value_sides(expanded)
            item = _value(sides[0], depth + 1) if len(sides) == 1 else None
            if item is None:
                return None, []
            items.append(item)
            labels.append(label)
    return items, labels


def _plus_minus(text: str) -> list[str]:
    """``1 \\pm \\sqrt{2}`` stands for two values."""
    if "\\pm" not in text and "\\mp" not in text:
        return [text]
    plus = text.replace("\\pm", "+").replace("\\mp", "-")
    minus = text.replace("\\pm", "-").replace("\\mp", "+")
    return [plus, minus]


def _solutions(text: str, depth: int) -> _Group | None:
    """Several labelled solutions: ``p = 5, q = 2; p = 7, q = 2`` as tuples in label order."""
    groups = split_top(text, _GROUP_SEPARATOR)
    if groups is None or len(groups) < 2:
        return None
    tuples: list[_Value] = []
    names: tuple[str, ...] | None = None
    for group in (group for group in groups if group.strip()):
        items, labels = _items(group, depth, _ITEM_SEPARATOR)
        if not items or len(items) < 2 or "" in labels or len(set(labels)) != len(labels):
            return None
        order = sorted(range(len(labels)), key=labels.__getitem__)
        if names is not None and names != tuple(sorted(labels)):
            return None
        names = tuple(sorted(labels))
        tuples.append(_Group("()", tuple(items[i] for i in order)))
    return _Group("bare", tuple(tuples), ("",) * len(tuples))


def _encloses(text: str) -> bool:
    """Whether the first bracket of ``text`` closes only at its last character."""
    depth = 0
    for at, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0 and at != len(text) - 1:
                return False
    return depth == 0


# -- comparing values ------------------------------------------------------------------------------


def compare_values(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    """Exact comparison of two values read by :func:`read`; None when not sure.

    Example:
        >>> compare_values(read("(1, 2]").values[0], read("1 < x <= 2").values[0])
        <OutcomeStatus.CORRECT: 'correct'>
    """
    if isinstance(gold, _Scalar) and isinstance(pred, _Scalar):
        return _compare_scalars(gold, pred)
    if isinstance(gold, RealSet) or isinstance(pred, RealSet):
        return _compare_sets(gold, pred)
    if isinstance(gold, (_Matrix, _Identity)) or isinstance(pred, (_Matrix, _Identity)):
        return _compare_matrices(gold, pred)
    if isinstance(gold, _Group) and isinstance(pred, _Group):
        return _compare_groups(gold, pred)
    if isinstance(gold, _Text) and isinstance(pred, _Text):
        return CORRECT if gold.words == pred.words else INCORRECT
    if isinstance(gold, _Letter):
        if isinstance(pred, _Letter):
            return CORRECT if gold == pred else INCORRECT
        return INCORRECT if isinstance(pred, (_Text, _Group)) or _is_number(pred) else None
    if isinstance(gold, _Based):
        return _compare_based(gold, pred)
    if isinstance(gold, _Colon) or isinstance(pred, _Colon):
        return _compare_colons(gold, pred)
    if isinstance(gold, _Ordinal) or isinstance(pred, _Ordinal):
        return _compare_ordinals(gold, pred)
    if isinstance(gold, _Scalar) and isinstance(pred, _Text):
        return INCORRECT  # words are not a number (number words were read as numbers)
    if isinstance(gold, _Text) and isinstance(pred, _Scalar):
        return INCORRECT
    if isinstance(gold, _Scalar) and isinstance(pred, _Group) and _distinct(pred) > 1:
        return INCORRECT  # a list, or a hedge between values
    if isinstance(gold, _Group) and isinstance(pred, _Scalar) and _distinct(gold) > 1:
        return INCORRECT
    return None


def _is_number(value: _Value) -> bool:
    return isinstance(value, _Scalar) and (
        value.expression is None or not value.expression.value.names()
    )


def _distinct(group: _Group) -> int:
    return len(_unique(list(group.items)))


#: Most items compared pairwise when they have no canonical key.
_MAX_PAIRWISE = 64


def _key(value: _Value) -> object | None:
    """A canonical key of an exact value (equal keys exactly when the values are equal)."""
    if isinstance(value, _Scalar):
        expression = value.expression
        if expression is None:
            return ("inf", value.infinite)
        if expression.decimal or expression.value.den != _ONE_POLY:
            return None
        return ("n", expression.value.num.items, value.percent, value.degrees)
    if isinstance(value, _Group) and value.kind in _ORDERED:
        keys = tuple(_key(item) for item in value.items)
        return None if None in keys else ("t", keys)
    if isinstance(value, (_Text, _Letter, _Based, _Ordinal)):
        return value
    return None


def _unique(items: Sequence[_Value]) -> list[_Value]:
    keys = [_key(item) for item in items]
    if None not in keys:
        return list({key: item for key, item in zip(keys, items, strict=True)}.values())
    kept: list[_Value] = []
    for item in items[: _MAX_PAIRWISE * 4]:
        if not any(compare_values(item, other) is CORRECT for other in kept):
            kept.append(item)
    return kept


# -- numbers -------------------------------------------------------------------------------------


def _compare_scalars(gold: _Scalar, pred: _Scalar) -> OutcomeStatus | None:
    if gold.expression is None or pred.expression is None:
        return CORRECT if gold.infinite == pred.infinite and gold.infinite else INCORRECT
    if gold.percent != pred.percent:
        return _compare_percent(gold, pred)
    if gold.degrees != pred.degrees:
        return _compare_degrees(gold, pred)
    return _compare_numbers(gold.expression, pred.expression)


def _compare_percent(gold: _Scalar, pred: _Scalar) -> OutcomeStatus | None:
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


def _compare_degrees(gold: _Scalar, pred: _Scalar) -> OutcomeStatus | None:
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


def _compare_based(gold: _Based, pred: _Value) -> OutcomeStatus | None:
    """Same digits (and the same base, when the prediction names one) or wrong."""
    if isinstance(pred, _Based):
        return CORRECT if pred == gold else INCORRECT
    if isinstance(pred, _Scalar) and pred.expression is not None and pred.expression.integer:
        number = pred.expression.value.constant()
        if number is not None and number >= 0 and not pred.percent and not pred.degrees:
            return CORRECT if str(number.numerator) == gold.digits else INCORRECT
    return None


def _compare_colons(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    """Times compare on the clock (``4:30 pm`` = ``16:30``); a ratio compares its terms."""
    if isinstance(gold, _Colon) and isinstance(pred, _Colon):
        if gold.half and pred.half:
            return CORRECT if _minutes(gold) == _minutes(pred) else INCORRECT
        if gold.half or pred.half:
            marked, plain = (gold, pred) if gold.half else (pred, gold)
            same = _minutes(marked) in (_minutes(plain), _minutes(plain) + 12 * 60)
            return CORRECT if same and plain.first <= 12 else INCORRECT
        return CORRECT if (gold.first, gold.second) == (pred.first, pred.second) else INCORRECT
    colon, other = (gold, pred) if isinstance(gold, _Colon) else (pred, gold)
    assert isinstance(colon, _Colon)
    if colon.half or colon.second == 0 or not isinstance(other, _Scalar):
        return None
    value = Expression(Ratio(Poly.number(colon.first), Poly.number(colon.second)))
    if other.expression is None or other.percent or other.degrees:
        return INCORRECT
    return _compare_numbers(value, other.expression)


def _minutes(clock: _Colon) -> int:
    hours = clock.first % 12 + (12 if clock.half == "pm" else 0)
    return hours * 60 + clock.second if clock.half else clock.first * 60 + clock.second


def _compare_ordinals(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    numbers = []
    for value in (gold, pred):
        if isinstance(value, _Ordinal):
            numbers.append(value.number)
        elif isinstance(value, _Scalar) and value.expression is not None:
            number = value.expression.value.constant()
            if number is None or number.denominator != 1 or value.percent or value.degrees:
                return INCORRECT if number is not None else None
            numbers.append(int(number))
        else:
            return None
    return CORRECT if numbers[0] == numbers[1] else INCORRECT


# -- sets, groups, matrices ---------------------------------------------------------------------


def _as_set(value: _Value, *, other_is_set: bool) -> RealSet | None:
    """A value as a set of reals, where it has one reading as such."""
    if isinstance(value, RealSet):
        return value
    if (
        isinstance(value, _Group)
        and value.kind in ("()", "[]", "(]", "[)")
        and len(value.items) == 2
    ):
        low, high = (_end_of(item) for item in value.items)
        if low is None or high is None or not low.below(high):
            return None
        if (low.exact is None and low.approx > 0) or (high.exact is None and high.approx < 0):
            return None
        return RealSet.interval(low, value.kind[0] == "[", high, value.kind[1] == "]")
    if isinstance(value, _Group) and value.kind in ("set", "bare") and other_is_set:
        total = RealSet.empty()
        for item in value.items:
            end = _end_of(item)
            if end is None or end.exact is None:
                return None
            total = total.union(RealSet.point(end))
        return total
    return None


def _end_of(value: _Value) -> Point | None:
    if not isinstance(value, _Scalar) or value.percent or value.degrees:
        return None
    if value.expression is None:
        return Point.infinity(value.infinite)
    approx = value.expression.value.real_value()
    return None if approx is None else Point(approx, value.expression.value)


def _compare_sets(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    first = _as_set(gold, other_is_set=isinstance(pred, RealSet))
    second = _as_set(pred, other_is_set=isinstance(gold, RealSet))
    if first is None or second is None:
        if isinstance(gold, RealSet) and isinstance(pred, (_Scalar, _Text, _Letter)):
            return INCORRECT  # a number is not a set (0 is not the empty set)
        return None
    return CORRECT if first == second else INCORRECT


def _ordered(verdicts: Sequence[OutcomeStatus | None]) -> OutcomeStatus | None:
    if INCORRECT in verdicts:
        return INCORRECT
    return CORRECT if all(v is CORRECT for v in verdicts) else None


def _compare_in_order(gold: Sequence[_Value], pred: Sequence[_Value]) -> OutcomeStatus | None:
    if len(gold) != len(pred):
        return INCORRECT
    return _ordered([compare_values(g, p) for g, p in zip(gold, pred, strict=True)])


def _compare_unordered(gold: Sequence[_Value], pred: Sequence[_Value]) -> OutcomeStatus | None:
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


def _compare_groups(gold: _Group, pred: _Group) -> OutcomeStatus | None:
    mapping = _compare_labelled(gold, pred)
    if mapping is not None:
        return mapping
    unordered = ("set", "bare")
    if gold.kind in unordered and pred.kind in unordered:
        return _compare_unordered(gold.items, pred.items)
    if gold.kind in unordered or pred.kind in unordered:
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


def _label_order(group: _Group) -> tuple[_Value, ...] | None:
    """The items in the order of their labels (``y = 3, x = 2`` is ``(2, 3)``), when all are
    distinct plain names."""
    labels = group.labels
    if len(labels) != len(group.items) or "" in labels or len(set(labels)) != len(labels):
        return None
    order = sorted(range(len(labels)), key=labels.__getitem__)
    return tuple(group.items[i] for i in order)


def _compare_labelled(gold: _Group, pred: _Group) -> OutcomeStatus | None:
    """Both fully labelled with the same distinct labels: compare label by label."""
    if _label_order(gold) is None or _label_order(pred) is None:
        return None
    if sorted(gold.labels) != sorted(pred.labels):
        return None
    return _compare_in_order(_label_order(gold) or (), _label_order(pred) or ())


def _compare_matrices(gold: _Value, pred: _Value) -> OutcomeStatus | None:
    if isinstance(gold, _Identity) or isinstance(pred, _Identity):
        identity, other = (gold, pred) if isinstance(gold, _Identity) else (pred, gold)
        assert isinstance(identity, _Identity)
        if isinstance(other, _Identity):
            return (
                CORRECT if None in (identity.size, other.size) or identity == other else INCORRECT
            )
        rows = _as_rows(other)
        if rows is None:
            return INCORRECT if isinstance(other, _Scalar) else None
        return _compare_identity(identity, rows)
    first, second = _as_rows(gold), _as_rows(pred)
    if first is None or second is None:
        return INCORRECT if isinstance(gold, _Scalar) or isinstance(pred, _Scalar) else None
    if len(first) * len(first[0]) != len(second) * len(second[0]):
        return INCORRECT
    if len(first) != len(second):
        if 1 in (len(first), len(first[0])) and 1 in (len(second), len(second[0])):
            flat = [cell for row in first for cell in row]
            return _compare_in_order(flat, [cell for row in second for cell in row])
        return INCORRECT
    return _ordered([_compare_in_order(a, b) for a, b in zip(first, second, strict=True)])


def _as_rows(value: _Value) -> tuple[tuple[_Value, ...], ...] | None:
    """A matrix's rows; a tuple or vector as a column; nested lists as rows."""
    if isinstance(value, _Matrix):
        return value.rows
    if isinstance(value, _Group) and value.kind in _ORDERED:
        if all(isinstance(item, _Group) and item.kind in _ORDERED for item in value.items):
            rows = tuple(item.items for item in value.items)  # type: ignore[union-attr]
            return rows if len({len(row) for row in rows}) == 1 else None
        return tuple((item,) for item in value.items)
    return None


def _compare_identity(identity: _Identity, rows: tuple[tuple[_Value, ...], ...]) -> OutcomeStatus:
    size = len(rows)
    if any(len(row) != size for row in rows) or identity.size not in (None, size):
        return INCORRECT
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            expected = _Scalar(Expression(_number(1 if i == j else 0)))
            if compare_values(expected, cell) is not CORRECT:
                return INCORRECT
    return CORRECT


# -- equations ------------------------------------------------------------------------------------

#: Signs of several answers ("x = 2 or x = 3", "a = 1, b = 2"): not one equation chain.
_SEVERAL = re.compile(r"[,;]|\\(?:text|quad|qquad)(?![A-Za-z])|\s(?:or|and)\s")
_APPROX = re.compile(r"\\approx(?![A-Za-z])")
_RELATION = re.compile(r"[<>]|\\(?:le|ge|ne|lt|gt|approx|in|subset|pm|mp)(?![A-Za-z])")
_GREEK_NAMES = "|".join(sorted(GREEK, key=len, reverse=True))
_NAME = rf"(?:[A-Za-z]|\\(?:{_GREEK_NAMES})(?![A-Za-z]))(?:_\{{?[A-Za-z0-9]+\}}?|')*"
#: A plain name: the only kind of left side a gold's label may have.
_PLAIN_NAME = re.compile(
    rf"{_NAME}|(?:m|\\measuredangle|\\angle|\\triangle|\\overline\{{)?\\?(?:angle)?[A-Z]{{2,4}}\}}?"
    rf"|{_NAME}(?:\^\{{-1\}})?\((?:{_NAME}|-?\d+)(?:,(?:{_NAME}|-?\d+))*\)"
    rf"|\|[A-Z]{{1,4}}\||{_NAME}:{_NAME}|\\frac\{{(?:{_NAME})+\}}\{{(?:{_NAME})+\}}"
    rf"|\({_NAME}(?:,{_NAME})+\)"
    rf"|\\angle[A-Z]{{1,3}}|m\\angle[A-Z]{{1,3}}|\\text\{{[A-Za-z ]{{1,30}}\}}"
)
_COMMAND = re.compile(r"\\[A-Za-z]+")
#: Commands an expression of names may contain (``\\alpha + \\beta``, ``\\angle A``).
_NAME_COMMANDS = GREEK | {"angle", "overline", "triangle", "measuredangle", "text"}


def _is_name(side: str) -> bool:
    """A gold's label: a plain name (``x``, ``f(x)``, ``\\angle ABC``, ``|AB|``, ``(p,q)``)."""
    return bool(_PLAIN_NAME.fullmatch(squeeze(side))) and squeeze(side) not in ("e", "i")


def _is_loose_name(side: str) -> bool:
    """An answer's label: a plain name or an expression of names alone (``m+n``, ``a+b+c``)."""
    if _is_name(side):
        return True
    squeezed = squeeze(side)
    if any(c.isdigit() for c in squeezed) or not any(c.isalpha() for c in squeezed):
        return False
    if any(command[1:] not in _NAME_COMMANDS for command in _COMMAND.findall(side)):
        return False
    rest = _COMMAND.sub("", squeezed)
    return all(c.isalpha() or c in "+-*/()_{}^|'" for c in rest) and rest not in ("e", "i")


def _sides(text: str) -> list[str]:
    """The sides of an equation chain ``a = b = c`` (one side when there is no ``=``)."""
    if "=" not in text or _RELATION.search(text) or _SEVERAL.search(text):
        if "=" in text and _SEVERAL.search(text) and not _RELATION.search(text):
            return _labelled_list(text)
        return [text]
    parts = split_top(text, re.compile("="))
    if parts is None or len(parts) < 2 or not all(p.strip() for p in parts):
        return [text]
    return [p.strip() for p in parts]


def _labelled_list(text: str) -> list[str]:
    """``(x, y) = (5, 8) \\text{ and } (8, 5)`` keeps its label; other lists stay whole."""
    parts = split_top(text, re.compile("="))
    if parts is None or len(parts) != 2 or not _is_name(parts[0]) or "," not in parts[0]:
        return [text]
    return [parts[0].strip(), parts[1].strip()]


def value_sides(text: str, *, strict: bool = False) -> tuple[str, list[str]]:
    """Split off leading label sides: ``"x = y = 3"`` gives ``("x=y", ["3"])``.

    ``strict`` (for golds) takes only plain names as labels (``y``, ``f(x)``, ``\\angle ABC``);
    otherwise an expression of names alone also is one (``m+n = 47``). An approximation keeps
    its exact part: ``\\frac{1}{3} \\approx 0.333`` is ``\\frac{1}{3}`` (as math-verify reads
    it), and ``x \\approx 3.14`` is ``3.14``.

    Example:
        >>> value_sides("m+n = 47"), value_sides("m+n = 47", strict=True)
        (('m+n', ['47']), ('', ['m+n', '47']))
    """
    parts = _APPROX.split(text)
    if len(parts) > 1 and all(part.strip() for part in parts):
        first = parts[0]
        labelled = _is_loose_name(first) and "=" not in first
        text = parts[-1] if labelled else first
    sides = _sides(text)
    labels = []
    is_label = _is_name if strict else _is_loose_name
    while len(sides) > 1 and is_label(sides[0]):
        labels.append(squeeze(sides.pop(0)))
    return "=".join(labels), sides


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
    left, right = (read_expression(squeeze(side)) for side in sides)
    if left is None or right is None or left.decimal or right.decimal:
        return None
    return (left.value - right.value).num


# -- the cached reading -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Reading:
    """What the fast path reads from one answer (cached: rollouts repeat their answers).

    Attributes:
        squeezed: the normalised answer without spaces (compared for exact equality).
        label: leading label sides such as ``x`` in ``x = 3`` (``""`` when none).
        sides: the value sides.
        values: each side as a value, or None.
        digits: each side as an integer's digits, or None.
        gold_label: the label when only plain names count (how a gold is read).
        gold_sides: the value sides under that rule.
        gold_values: each of those sides as a value, or None.
        equation: every side of the answer's equation, labels included (one side when the
            answer is not an equation).

    Example:
        >>> read("2x - y + 3z + 8 = 0").gold_sides
        ('2x - y + 3z + 8', '0')
    """

    squeezed: str
    label: str
    sides: tuple[str, ...]
    values: tuple[_Value | None, ...]
    digits: tuple[str | None, ...]
    gold_label: str
    gold_sides: tuple[str, ...]
    gold_values: tuple[_Value | None, ...]
    equation: tuple[str, ...]


def spelled(answer: str) -> str:
    """The normalised answer without spaces: equal spellings are equal answers, at any length.

    Example:
        >>> spelled(" 1 + x ") == spelled("1+x")
        True
        >>> spelled(r"\\left( \\dfrac{1}{2}, 3 \\right)")
        '(\\\\frac{1}{2},3)'
    """
    return _spelled_cached(answer) if len(answer) <= MAX_PARSE_CHARS else squeeze(normalise(answer))


_spelled_cached = functools.lru_cache(maxsize=4096)(lambda answer: squeeze(normalise(answer)))


def _read_answer(answer: str) -> Reading:
    text = normalise(answer)
    label, sides = value_sides(text)
    gold_label, gold_sides = value_sides(text, strict=True)
    values = tuple(_value(side) for side in sides)
    gold_values = values if gold_sides == sides else tuple(_value(side) for side in gold_sides)
    return Reading(
        squeezed=squeeze(text),
        label=label,
        sides=tuple(sides),
        values=values,
        digits=tuple(plain_int(side) for side in sides),
        gold_label=gold_label,
        gold_sides=tuple(gold_sides),
        gold_values=gold_values,
        equation=tuple(_sides(text)),
    )


_read_cached = functools.lru_cache(maxsize=4096)(_read_answer)


def read(answer: str) -> Reading:
    """:class:`Reading` of an answer, cached for answers of up to :data:`MAX_PARSE_CHARS`.

    Example:
        >>> read("x = 3").label, read("x = 3").sides
        ('x', ('3',))
    """
    return _read_cached(answer) if len(answer) <= MAX_PARSE_CHARS else _read_answer(answer)
