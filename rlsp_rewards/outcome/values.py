"""Exact reading of answer values: no sympy, no parser generator.

An answer is normalised (:func:`~rlsp_rewards.outcome.spelling.normalise`), split into the sides
of an equation (:func:`~rlsp_rewards.outcome.labels.value_sides`: ``x = y = 3`` has the label
``x=y`` and the value ``3``), and each side is read as a value:

* :class:`Scalar`: a number or expression, exactly (:mod:`rlsp_rewards.outcome.expressions`:
  integers, fractions, decimals, repeating decimals, radicals, ``\\pi``, ``e``, ``i``,
  polynomials and ratios of polynomials in any names), with its percent sign or degree mark, or
  an infinity;
* :class:`~rlsp_rewards.outcome.sets.RealSet`: intervals, inequalities, unions;
* :class:`Group`: a tuple, a vector (``\\langle\\rangle``), a set in roster notation or a bare
  list (``2, 3``, ``x = 2 or x = 3``, ``1 \\pm \\sqrt{2}``), whose items may be labelled;
* :class:`Matrix` (``pmatrix`` and the others, nested lists, a factored-out scalar, a transpose)
  and :class:`Identity` (``I``, ``I_n``);
* :class:`Based` (``52_8``), :class:`Colon` (``4:30 pm``, ``7:32``), :class:`Ordinal`,
  :class:`Letter` (a multiple-choice option) and :class:`Text`.

:mod:`rlsp_rewards.outcome.equality` compares them.

Example:
    >>> reading = read("x = \\\\frac{1}{2}")
    >>> reading.label, reading.values[0].expression.value.constant()
    ('x', Fraction(1, 2))
"""

from __future__ import annotations

import dataclasses
import functools
import re

from rlsp_rewards.outcome.expressions import Expression, read_expression
from rlsp_rewards.outcome.labels import equation_sides, value_sides
from rlsp_rewards.outcome.sets import RealSet, read_set, split_top
from rlsp_rewards.outcome.spelling import normalise, squeeze
from rlsp_rewards.outcome.words import date, ordinal

__all__ = [
    "BIG_INT_DIGITS",
    "MAX_ITEMS",
    "MAX_PARSE_CHARS",
    "MAX_VALUE_CHARS",
    "Based",
    "Colon",
    "Group",
    "Identity",
    "Letter",
    "Matrix",
    "Ordinal",
    "Reading",
    "Scalar",
    "Text",
    "Value",
    "normalise",
    "plain_int",
    "read",
    "spelled",
]

#: Longest answer handed to math-verify's parser (longer ones are never cut to fit).
MAX_PARSE_CHARS = 1_000
#: Longest answer read as a value here (tuples, matrices, polynomials of this size are read).
MAX_VALUE_CHARS = 50_000
#: Most items a list, tuple or matrix is read with (more: left undecided).
MAX_ITEMS = 2_000
#: Integers with more digits than this are compared as digit strings, never converted to int.
BIG_INT_DIGITS = 4_000


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
class Scalar:
    """A number or expression (``expression`` None: an infinity of sign ``infinite``).

    Example:
        >>> read("25\\\\%").values[0].percent, read("-\\\\infty").values[0].infinite
        (True, -1)
    """

    expression: Expression | None
    infinite: int = 0
    percent: bool = False
    degrees: bool = False


@dataclasses.dataclass(frozen=True)
class Group:
    """A tuple, interval, vector, roster set or bare list.

    ``kind``: ``"()"``, ``"[]"``, ``"(]"``, ``"[)"``, ``"<>"`` (a vector), ``"set"``, ``"bare"``.
    ``labels`` holds each item's label (``""`` when none): ``x = 2, y = 3``.

    Example:
        >>> group = read("x = 2, y = 3").values[0]
        >>> group.kind, group.labels
        ('bare', ('x', 'y'))
    """

    kind: str
    items: tuple[Value, ...]
    labels: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Matrix:
    """A matrix, row by row.

    Example:
        >>> len(read(r"\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}").values[0].rows)
        2
    """

    rows: tuple[tuple[Value, ...], ...]


@dataclasses.dataclass(frozen=True)
class Identity:
    """The identity matrix ``I`` (``size`` None) or ``I_n``, times an integer ``scale``
    (``2I``, ``-I_3``).

    Example:
        >>> read("I_2").values[0].size, read("2I").values[0].scale
        (2, 2)
    """

    size: int | None
    scale: int = 1


@dataclasses.dataclass(frozen=True)
class Text:
    """Words, lower case, spaces normalised.

    Example:
        >>> read(r"\\text{Isosceles Right}").values[0].words
        'isosceles right'
    """

    words: str


@dataclasses.dataclass(frozen=True)
class Letter:
    """A single capital letter: a multiple-choice option (or a named point).

    Example:
        >>> read("(C) 12").values[0].letter
        'C'
    """

    letter: str


@dataclasses.dataclass(frozen=True)
class Based:
    """A numeral with a base subscript, ``1011_2``.

    Example:
        >>> read("52 in base 8").values[0].base
        '8'
    """

    digits: str
    base: str


@dataclasses.dataclass(frozen=True)
class Colon:
    """``a:b``: a time of day (``half`` is ``"am"``/``"pm"`` when written) or a ratio.

    Example:
        >>> read("4:30 PM").values[0].half
        'pm'
    """

    first: int
    second: int
    half: str = ""


@dataclasses.dataclass(frozen=True)
class Ordinal:
    """An ordinal: ``second``, ``2nd``.

    Example:
        >>> read("second").values[0].number
        2
    """

    number: int


#: Any value :func:`read` returns.
Value = Scalar | Group | Matrix | Identity | RealSet | Text | Letter | Based | Colon | Ordinal


# -- reading a side ------------------------------------------------------------------------------

_SET_SIGNS = re.compile(
    r"[<>]|\\(?:le|ge|ne|lt|gt|in|cup|cap|setminus|mathbb|emptyset|varnothing|infty)(?![A-Za-z])"
    r"|real|\\\{\s*\\\}|\\\{[^{}|:]{0,40}(?:\||:)",
    re.IGNORECASE,
)
_LIST_SEPARATOR = re.compile(r",|;|\\q?quad(?![A-Za-z])|\s+(?:and|or)\s+")
_GROUP_SEPARATOR = re.compile(r";|\\q?quad(?![A-Za-z])|\s+(?:and|or)\s+")
_ITEM_SEPARATOR = re.compile(r",")
_HEDGE_WORDS = re.compile(r"^(?:maybe|possibly|perhaps|probably)\s+", re.IGNORECASE)
_MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", re.DOTALL)
_IDENTITY = re.compile(
    r"([-+]?\d{0,6})(?:\\cdot)?(?:\\mathbf\{I\}|\\mathbb\{I\}|I)(?:_\{?(\d{1,2})\}?)?"
)
_TRANSPOSE = re.compile(r"\^\{?(?:T|\\top|t)\}?$")
_COLON = re.compile(r"(\d{1,6}):(\d{1,6})(am|pm)?")
_BASED = re.compile(r"([0-9A-Za-z]{1,64})_\{?(\d{1,2})\}?")
_TEXT = re.compile(r"[A-Za-z][A-Za-z' \-]*[A-Za-z]")
_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}$")


def _value(text: str, depth: int = 0) -> Value | None:
    """Read one side of a normalised answer as a value, or None."""
    text = text.strip()
    if not text or len(text) > MAX_VALUE_CHARS or depth > 8:
        return None
    if len(text) == 1 and "A" <= text <= "Z" and text != "I":
        return Letter(text)
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
        return Colon(int(colon.group(1)), int(colon.group(2)), colon.group(3) or "")
    based = _BASED.fullmatch(squeezed)
    if based and _is_numeral(based.group(1), int(based.group(2))):
        return Based(based.group(1).upper().lstrip("0") or "0", based.group(2))
    number = ordinal(text)
    if number is not None:
        return Ordinal(number)
    if text[:1].isupper() and date(text) == text:  # "July 4, 2023", as normalised
        return Text(text.lower())
    scalar = _scalar(text)
    if scalar is not None:
        return scalar
    return _text(text)


def _scalar(text: str) -> Scalar | None:
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
        return None if percent or degrees else Scalar(None, sign)
    spaced = text.strip()[:-1] if percent or degrees else text.strip()
    if _THOUSANDS.fullmatch(body) and " " not in text.strip():
        spaced = squeezed.replace(",", "")
    if squeezed.replace("-", "").isalpha() and len(squeezed.replace("-", "")) > 1:
        return None  # words are text, not products of letters
    expression = read_expression(spaced)  # spaces end commands: "\pi r" is not "\pir"
    if expression is None:
        return None
    return Scalar(expression, 0, percent, degrees)


def _text(text: str) -> Text | None:
    wrapped = _WRAPPER.match(text)
    if wrapped:
        text = wrapped.group(1).strip()
    elif "\\" in text:
        return None
    if not _TEXT.fullmatch(text) or (sum(c.isalpha() for c in text) < 3 and text.lower() != "no"):
        return None
    return Text(" ".join(text.lower().replace("-", " ").split()))


def _is_numeral(digits: str, base: int) -> bool:
    """Whether ``digits`` are valid in ``base`` (so ``x_1`` is a variable, not a numeral)."""
    return 2 <= base <= 36 and all(int(c, 36) < base for c in digits)


def _matrix(text: str, depth: int) -> Value | None:
    """A matrix environment (with a scalar factor or a transpose), or ``I`` / ``I_n``."""
    identity = _IDENTITY.fullmatch(squeeze(text))
    if identity:
        factor = identity.group(1)
        scale = int(factor + "1" if factor in ("", "-", "+") else factor)
        return Identity(int(identity.group(2)) if identity.group(2) else None, scale)
    match = _MATRIX.search(text)
    if match is None:
        return None
    inner = text[1:-1].strip()
    if text[:1] + text[-1:] in ("[]", "()") and _MATRIX.fullmatch(inner):
        text = inner  # \left[ \begin{array} ... \end{array} \right]
        match = _MATRIX.search(text)
        assert match is not None
    factor_text, after = text[: match.start()].strip(), text[match.end() :].strip()
    transpose = bool(after) and _TRANSPOSE.fullmatch(after) is not None
    if after and not transpose:
        return None
    rows_text = [row for row in re.split(r"\\\\", match.group(1)) if row.strip()]
    if sum(row.count("&") + 1 for row in rows_text) > MAX_ITEMS:
        return None
    rows: list[tuple[Value, ...]] = []
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
    return Matrix(tuple(rows))


def _scaled(factor_text: str, cell: Value | None) -> Value | None:
    """A matrix entry times the scalar factored out in front of the matrix."""
    if factor_text in ("-", "+"):
        factor_text += "1"
    factor = _scalar(factor_text)
    if factor is None or factor.expression is None or factor.percent or factor.degrees:
        return None
    if not isinstance(cell, Scalar) or cell.expression is None or cell.percent or cell.degrees:
        return None
    first, second = factor.expression, cell.expression
    digits = [d for d in (first.decimal_digits, second.decimal_digits) if d is not None]
    places = max(first.decimal_places, second.decimal_places)
    return Scalar(Expression(first.value * second.value, min(digits, default=None), places))


def _group(text: str, depth: int) -> Group | None:
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
        return Group(kind, tuple(items), tuple(labels))
    plus_minus = "\\pm" in text or "\\mp" in text
    if not plus_minus and len(split_top(text, _LIST_SEPARATOR) or ()) < 2:
        return None  # no separator outside brackets: not a list (and not read again)
    if _THOUSANDS.fullmatch(text.strip().lstrip("+-").rstrip("%°")):
        return None  # thousands separators, not a list
    solutions = _solutions(text, depth)
    if solutions is not None:
        return solutions
    items, labels = _items(text, depth, _LIST_SEPARATOR)
    if items is None or len(items) < 2:
        return None
    return Group("bare", tuple(items), tuple(labels))


_SEMI_OR_COMMA = re.compile(r"[,;]")
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def _items(
    text: str, depth: int, separator: re.Pattern[str]
) -> tuple[list[Value] | None, list[str]]:
    parts = split_top(text, separator)
    if parts is None or len(parts) > MAX_ITEMS:
        return None, []
    items: list[Value] = []
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


def _solutions(text: str, depth: int) -> Group | None:
    """Several labelled solutions: ``p = 5, q = 2; p = 7, q = 2`` as tuples in label order."""
    groups = split_top(text, _GROUP_SEPARATOR)
    if groups is None or len(groups) < 2:
        return None
    tuples: list[Value] = []
    names: tuple[str, ...] | None = None
    for group in (group for group in groups if group.strip()):
        items, labels = _items(group, depth, _ITEM_SEPARATOR)
        if not items or len(items) < 2 or "" in labels or len(set(labels)) != len(labels):
            return None
        order = sorted(range(len(labels)), key=labels.__getitem__)
        if names is not None and names != tuple(sorted(labels)):
            return None
        names = tuple(sorted(labels))
        tuples.append(Group("()", tuple(items[i] for i in order)))
    return Group("bare", tuple(tuples), ("",) * len(tuples))


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
    values: tuple[Value | None, ...]
    digits: tuple[str | None, ...]
    gold_label: str
    gold_sides: tuple[str, ...]
    gold_values: tuple[Value | None, ...]
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
        equation=tuple(equation_sides(text)),
    )


_read_cached = functools.lru_cache(maxsize=4096)(_read_answer)


def read(answer: str) -> Reading:
    """:class:`Reading` of an answer, cached for answers of up to :data:`MAX_PARSE_CHARS`.

    Example:
        >>> read("x = 3").label, read("x = 3").sides
        ('x', ('3',))
    """
    return _read_cached(answer) if len(answer) <= MAX_PARSE_CHARS else _read_answer(answer)
