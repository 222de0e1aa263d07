"""Sets of real numbers as one language: intervals, inequalities, unions, rosters, set-builder.

``x < 3 \\text{ or } x > 5``, ``(-\\infty, 3) \\cup (5, \\infty)``, ``x \\neq 3``, ``|x| \\ge 1``,
``1 > x``, ``-2 \\le x \\le 7``, ``x \\in [-2, 7]``, ``\\{x \\mid x > 3\\}``, ``\\mathbb{R}``,
"all real numbers", ``\\emptyset``: :func:`read_set` turns each into a :class:`RealSet`, a
sorted union of disjoint intervals whose ends are exact numbers (read by
:mod:`rlsp_rewards.outcome.expressions`), open or closed, so two spellings of one set compare
equal exactly, ends included.

The inequalities read are those in one unknown (any single name, or a name such as ``f(x)``)
whose sides are linear in it: ``2x - 1 < 5``, ``-x > -1``, ``|x - 1| \\le 2``. Anything else
gives ``None``, and the caller leaves the answer to math-verify.

Example:
    >>> read_set(r"x < 3 \\text{ or } x > 5") == read_set(r"(-\\infty, 3) \\cup (5, \\infty)")
    True
    >>> read_set("|x| \\\\ge 1") == read_set(r"(-\\infty, -1] \\cup [1, \\infty)")
    True
    >>> read_set("-2 < x <= 7") == read_set("[-2, 7]")
    False
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from fractions import Fraction

from rlsp_rewards.outcome.algebra import Monomial, Poly, Ratio
from rlsp_rewards.outcome.expressions import read_expression

__all__ = ["Point", "RealSet", "read_set", "split_top"]


@dataclasses.dataclass(frozen=True)
class Point:
    """An end of an interval: an exact real number, or an infinity (``exact`` None).

    Example:
        >>> Point.infinity(-1).approx
        -inf
    """

    approx: float
    exact: Ratio | None

    @staticmethod
    def infinity(sign: int) -> Point:
        return Point(math.copysign(math.inf, sign), None)

    def same(self, other: Point) -> bool:
        if self.exact is None or other.exact is None:
            return self.approx == other.approx
        if abs(self.approx - other.approx) > 1e-9 * max(1.0, abs(self.approx)):
            return False
        return self.exact.equals(other.exact)

    def below(self, other: Point) -> bool:
        return not self.same(other) and self.approx < other.approx


@dataclasses.dataclass(frozen=True)
class _Piece:
    low: Point
    low_closed: bool
    high: Point
    high_closed: bool


@dataclasses.dataclass(frozen=True, eq=False)
class RealSet:
    """A union of disjoint intervals, sorted (a point is a closed interval of length 0).

    Example:
        >>> RealSet.everything() == read_set(r"\\mathbb{R}"), RealSet.empty().pieces
        (True, ())
    """

    pieces: tuple[_Piece, ...]

    @staticmethod
    def empty() -> RealSet:
        return RealSet(())

    @staticmethod
    def everything() -> RealSet:
        return RealSet((_Piece(Point.infinity(-1), False, Point.infinity(1), False),))

    @staticmethod
    def interval(low: Point, low_closed: bool, high: Point, high_closed: bool) -> RealSet:
        low_closed = low_closed and low.exact is not None
        high_closed = high_closed and high.exact is not None
        if low.same(high):
            if low_closed and high_closed:
                return RealSet((_Piece(low, True, high, True),))
            return RealSet.empty()
        if high.below(low):
            return RealSet.empty()
        return RealSet((_Piece(low, low_closed, high, high_closed),))

    @staticmethod
    def point(value: Point) -> RealSet:
        return RealSet.interval(value, True, value, True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RealSet) or len(self.pieces) != len(other.pieces):
            return False
        for a, b in zip(self.pieces, other.pieces, strict=True):
            if (a.low_closed, a.high_closed) != (b.low_closed, b.high_closed):
                return False
            if not (a.low.same(b.low) and a.high.same(b.high)):
                return False
        return True

    def __hash__(self) -> int:
        return hash(len(self.pieces))

    def union(self, other: RealSet) -> RealSet:
        pieces = sorted(self.pieces + other.pieces, key=lambda p: (p.low.approx, not p.low_closed))
        merged: list[_Piece] = []
        for piece in pieces:
            if merged and _touch(merged[-1], piece):
                last = merged[-1]
                high, high_closed = last.high, last.high_closed
                if piece.high.below(high) or (piece.high.same(high) and not piece.high_closed):
                    pass
                elif piece.high.same(high):
                    high_closed = high_closed or piece.high_closed
                else:
                    high, high_closed = piece.high, piece.high_closed
                merged[-1] = _Piece(last.low, last.low_closed, high, high_closed)
            else:
                merged.append(piece)
        return RealSet(tuple(merged))

    def intersection(self, other: RealSet) -> RealSet:
        result = RealSet.empty()
        for a in self.pieces:
            for b in other.pieces:
                low, low_closed = _later_start(a, b)
                high, high_closed = _earlier_end(a, b)
                result = result.union(RealSet.interval(low, low_closed, high, high_closed))
        return result

    def complement(self) -> RealSet:
        result = RealSet.empty()
        start, start_closed = Point.infinity(-1), False
        for piece in self.pieces:
            gap = RealSet.interval(start, start_closed, piece.low, not piece.low_closed)
            result = result.union(gap)
            start, start_closed = piece.high, not piece.high_closed
        return result.union(RealSet.interval(start, start_closed, Point.infinity(1), False))

    def scaled(self, factor: Ratio, shift: Ratio) -> RealSet | None:
        """``{factor * t + shift : t in self}`` for a non-zero real constant ``factor``."""
        size = factor.real_value()
        if size is None or size == 0:
            return None
        result = RealSet.empty()
        for piece in self.pieces:
            ends = [
                _affine(piece.low, factor, shift, size),
                _affine(piece.high, factor, shift, size),
            ]
            if None in ends:
                return None
            low, high = ends
            closed = (piece.low_closed, piece.high_closed)
            if size < 0:
                low, high, closed = high, low, closed[::-1]
            result = result.union(RealSet.interval(low, closed[0], high, closed[1]))  # type: ignore[arg-type]
        return result

    def is_points(self) -> bool:
        return all(p.low.same(p.high) for p in self.pieces)


def _affine(point: Point, factor: Ratio, shift: Ratio, size: float) -> Point | None:
    if point.exact is None:
        return Point.infinity(int(math.copysign(1, point.approx * size)))
    return _point(point.exact * factor + shift)


def _touch(a: _Piece, b: _Piece) -> bool:
    """Whether ``b`` (starting no earlier than ``a``) overlaps or joins ``a``."""
    if b.low.below(a.high):
        return True
    return b.low.same(a.high) and (a.high_closed or b.low_closed)


def _later_start(a: _Piece, b: _Piece) -> tuple[Point, bool]:
    if a.low.same(b.low):
        return a.low, a.low_closed and b.low_closed
    return (b.low, b.low_closed) if a.low.below(b.low) else (a.low, a.low_closed)


def _earlier_end(a: _Piece, b: _Piece) -> tuple[Point, bool]:
    if a.high.same(b.high):
        return a.high, a.high_closed and b.high_closed
    return (a.high, a.high_closed) if a.high.below(b.high) else (b.high, b.high_closed)


def _point(value: Ratio) -> Point | None:
    approx = value.real_value()
    return None if approx is None else Point(approx, value)


# -- reading ----------------------------------------------------------------------------------

_OPENERS, _CLOSERS = "([{", ")]}"
#: Longest text the backtracking patterns (set-builder, absolute value) are tried on.
_MAX_PATTERN_CHARS = 500
#: Most intervals or inequalities joined in one answer.
_MAX_PIECES = 64
_ZERO, _ONE = Ratio.of(Poly.number(0)), Ratio.of(Poly.number(1))


def split_top(text: str, separator: re.Pattern[str]) -> list[str] | None:
    """Split ``text`` at matches of ``separator`` outside brackets (``[a, b)`` counts as one
    bracket pair); None when the brackets do not balance.

    Example:
        >>> split_top("[1, 2) or (3, 4]", re.compile(" or "))
        ['[1, 2)', '(3, 4]']
    """
    parts, depth, start = [], 0, 0
    for match in _scanner(separator).finditer(text):  # visits only brackets and separators
        if match.lastgroup == "open":
            depth += 1
        elif match.lastgroup == "close":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0 and match.end() > match.start():
            parts.append(text[start : match.start()])
            start = match.end()
    if depth != 0:
        return None
    parts.append(text[start:])
    return parts


@functools.lru_cache(maxsize=64)
def _scanner(separator: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(
        rf"(?P<open>[(\[{{])|(?P<close>[)\]}}])|(?P<separator>{separator.pattern})",
        separator.flags,
    )


_UNION = re.compile(r"\\cup(?![A-Za-z])|\s*\\(?:text|mbox|textrm)\{\s*or\s*\}\s*|\s+or\s+")
_INTERSECTION = re.compile(r"\\cap(?![A-Za-z])|\s*\\(?:text|mbox|textrm)\{\s*and\s*\}\s*|\s+and\s+")
_COMMA = re.compile(r",")
_RELATIONS = {
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "=": "=",
    "!=": "!=",
    "\\lt": "<",
    "\\gt": ">",
    "\\le": "<=",
    "\\leq": "<=",
    "\\leqslant": "<=",
    "\\ge": ">=",
    "\\geq": ">=",
    "\\geqslant": ">=",
    "\\ne": "!=",
    "\\neq": "!=",
}
_RELATION = re.compile(
    r"<=|>=|!=|\\(?:leqslant|geqslant|leq|geq|neq|le|ge|ne|lt|gt)(?![A-Za-z])|[<>=]"
)
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
_EVERYTHING = re.compile(
    r"\\mathbb\{R\}|\\mathbb R|\\R|\\reals|\(-\\infty,\s*\+?\\infty\)"
    r"|(?:all|any)\s+real(?:\s+numbers?|s)?|\\text\{\s*(?:all|any)\s+real(?:\s+numbers?|s)?\s*\}",
    re.IGNORECASE,
)
_EMPTY = re.compile(r"\\emptyset|\\varnothing|\\\{\s*\\\}|\\O(?![A-Za-z])|\{\s*\}")
_IN = re.compile(r"\\in(?![A-Za-z])")
_BUILDER = re.compile(r"\\\{(.*?)(?:\\mid|\||:)(.*)\\\}$")
_MINUS_SET = re.compile(r"\\setminus|\\backslash|-")


def read_set(text: str) -> RealSet | None:
    """Read ``text`` (a normalised answer) as a set of real numbers, or None.

    Example:
        >>> read_set(r"x \\neq -2") == read_set(r"(-\\infty, -2) \\cup (-2, \\infty)")
        True
        >>> read_set("1 > x") == read_set(r"(-\\infty, 1)")
        True
    """
    try:
        return _read(text.strip(), depth=0)
    except (RecursionError, ValueError, ZeroDivisionError, OverflowError):
        return None


def _read(text: str, depth: int) -> RealSet | None:
    if not text or depth > 6:
        return None
    for pattern, combine in ((_UNION, RealSet.union), (_INTERSECTION, RealSet.intersection)):
        parts = split_top(text, pattern)
        if parts is not None and len(parts) > _MAX_PIECES:
            return None
        if parts is not None and len(parts) > 1:
            sets = [_read(part.strip(), depth + 1) for part in parts]
            if any(s is None for s in sets):
                return None
            total = sets[0]
            for other in sets[1:]:
                total = combine(total, other)  # type: ignore[arg-type]
            return total
    return _read_one(text, depth)


def _read_one(text: str, depth: int) -> RealSet | None:
    if _EVERYTHING.fullmatch(text):
        return RealSet.everything()
    if _EMPTY.fullmatch(text):
        return RealSet.empty()
    member = split_top(text, _IN)
    if member is not None and len(member) == 2 and _is_unknown(member[0].strip()):
        return _read(member[1].strip(), depth + 1)
    builder = _BUILDER.match(text) if len(text) <= _MAX_PATTERN_CHARS else None
    if builder:
        head = split_top(builder.group(1), _IN)
        if head is not None and len(head) <= 2 and _is_unknown(head[0].strip()):
            inner = _read(builder.group(2).strip(), depth + 1)
            domain = _read(head[1].strip(), depth + 1) if len(head) == 2 else RealSet.everything()
            return None if inner is None or domain is None else inner.intersection(domain)
    difference = _difference(text, depth)
    if difference is not None:
        return difference
    interval = _interval(text)
    if interval is not None:
        return interval
    roster = _roster(text)
    if roster is not None:
        return roster
    return _relation_chain(text)


def _difference(text: str, depth: int) -> RealSet | None:
    """``\\mathbb{R} \\setminus \\{2\\}`` and ``\\mathbb{R} - \\{2\\}``."""
    for match in _MINUS_SET.finditer(text):
        left, right = text[: match.start()].strip(), text[match.end() :].strip()
        if _EVERYTHING.fullmatch(left) and right.startswith("\\{"):
            removed = _roster(right)
            return (
                None if removed is None else RealSet.everything().intersection(removed.complement())
            )
    return None


def _interval(text: str) -> RealSet | None:
    if len(text) < 5 or text[0] not in "([" or text[-1] not in ")]":
        return None
    parts = split_top(text[1:-1], _COMMA)
    if parts is None or len(parts) != 2:
        return None
    low, high = _end(parts[0]), _end(parts[1])
    if low is None or high is None or not low.below(high):
        return None
    if (low.exact is None and low.approx > 0) or (high.exact is None and high.approx < 0):
        return None
    return RealSet.interval(low, text[0] == "[", high, text[-1] == "]")


def _roster(text: str) -> RealSet | None:
    if not (text.startswith("\\{") and text.endswith("\\}")):
        return None
    inner = text[2:-2].strip()
    if not inner:
        return RealSet.empty()
    parts = split_top(inner, _COMMA)
    if parts is None:
        return None
    total = RealSet.empty()
    for part in parts:
        end = _end(part)
        if end is None or end.exact is None:
            return None
        total = total.union(RealSet.point(end))
    return total


def _end(text: str) -> Point | None:
    text = text.strip()
    sign = 1
    while text[:1] in ("+", "-"):
        sign = -sign if text[0] == "-" else sign
        text = text[1:].strip()
    if text in ("\\infty", "\\inf", "oo"):
        return Point.infinity(sign)
    expression = read_expression(text)
    if expression is None or expression.value.names():
        return None
    value = expression.value if sign > 0 else -expression.value
    return _point(value)


def _is_unknown(text: str) -> bool:
    """A plain name: ``x``, ``t``, ``x_1``, ``\\theta``, ``f(x)``."""
    return bool(_UNKNOWN.fullmatch(text.replace(" ", "")))


_UNKNOWN = re.compile(r"(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?(?:\([A-Za-z]\))?")
_ABS = re.compile(r"^(?:\\left)?(?:\||\\lvert|\\vert)(.*?)(?:\\right)?(?:\||\\rvert|\\vert)$")


def _relation_chain(text: str) -> RealSet | None:
    """``a R1 b R2 c ...`` in one unknown: the intersection of each link."""
    sides, relations, start = [], [], 0
    for match in _RELATION.finditer(text):
        sides.append(text[start : match.start()].strip())
        relations.append(_RELATIONS[match.group()])
        start = match.end()
    sides.append(text[start:].strip())
    if not relations or not all(sides) or len(relations) > 3:
        return None
    total = RealSet.everything()
    unknown = None
    for left, relation, right in zip(sides, relations, sides[1:], strict=False):
        link = _link(left, relation, right)
        if link is None:
            return None
        name, solutions = link
        if unknown is not None and name != unknown:
            return None
        unknown = name
        total = total.intersection(solutions)
    return total if unknown is not None else None


def _link(left: str, relation: str, right: str) -> tuple[str, RealSet] | None:
    """``left R right`` where one side is in the unknown, the other a real constant."""
    constant = _end(right)
    side = left
    if constant is None:
        constant, side, relation = _end(left), right, _FLIP[relation]
    if constant is None or (constant.exact is None and relation in ("=", "!=")):
        return None
    values = _solutions_of_relation(relation, constant)
    return _unknown_set(side, values)


def _solutions_of_relation(relation: str, bound: Point) -> RealSet:
    """``{t : t R bound}``."""
    below = RealSet.interval(Point.infinity(-1), False, bound, relation == "<=")
    above = RealSet.interval(bound, relation == ">=", Point.infinity(1), False)
    if relation in ("<", "<="):
        return below
    if relation in (">", ">="):
        return above
    point = RealSet.point(bound) if bound.exact is not None else RealSet.empty()
    return point if relation == "=" else point.complement()


def _unknown_set(side: str, values: RealSet) -> tuple[str, RealSet] | None:
    """The set of the unknown when ``side`` (linear in it, or ``|linear|``) lies in ``values``."""
    absolute = _ABS.match(side.replace(" ", "")) if len(side) <= _MAX_PATTERN_CHARS else None
    if absolute:
        inner = absolute.group(1)
        nonnegative = RealSet.interval(Point(0.0, _ZERO), True, Point.infinity(1), False)
        values = values.intersection(nonnegative)
        mirrored = values.scaled(-_ONE, _ZERO)
        if mirrored is None:
            return None
        values = values.union(mirrored)
        side = inner
    if _is_unknown(side) and not _is_plain_letter(side):
        return side.replace(" ", ""), values  # f(x), \theta
    expression = read_expression(side)
    if expression is None:
        return None
    value = expression.value
    names = value.names()
    bottom = value.den.constant()
    if len(names) != 1 or bottom is None or bottom == 0:
        return None
    (name,) = names
    slope, shift = _linear(value, name)
    if slope is None or shift is None:
        return None
    solutions = values.scaled(_ONE / slope, -shift / slope)
    return None if solutions is None else (name, solutions)


def _is_plain_letter(text: str) -> bool:
    return len(text.strip()) == 1


def _linear(value: Ratio, name: str) -> tuple[Ratio | None, Ratio | None]:
    """``value = slope * name + shift`` with real constant slope (non-zero) and shift."""
    slope: dict[Monomial, Fraction] = {}
    shift: dict[Monomial, Fraction] = {}
    for (radicand, powers), coefficient in value.num.items:
        if radicand < 0:
            return None, None
        if powers == ((name, 1),):
            slope[(radicand, ())] = coefficient
        elif not powers:
            shift[(radicand, ())] = coefficient
        else:
            return None, None
    if not slope:
        return None, None
    bottom = Ratio.of(value.den)
    return Ratio.of(Poly.of(slope)) / bottom, Ratio.of(Poly.of(shift)) / bottom
