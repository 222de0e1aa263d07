"""The sides of an answer that is an equation, and which of them are labels.

``x = 3`` names its value ``3``; ``x = \\frac{20}{2} = 10`` is a chain whose value sides must
all be right; ``2x - y + 3z + 8 = 0`` is an equation, and only an equivalent equation can equal
it. A *label* is a plain name: ``y``, ``f(x)``, ``k``, ``\\angle ABC``, ``|AB|``, ``A:B``,
``(p, q)``. A gold's label must be one (:func:`value_sides` with ``strict``); in an answer, an
expression of names alone also labels its value (``m + n = 47``, AIME's "find m + n").

Example:
    >>> value_sides("y = 2x + 3", strict=True), value_sides("x + y = 1", strict=True)
    (('y', ['2x + 3']), ('', ['x + y', '1']))
"""

from __future__ import annotations

import re

from rlsp_rewards.outcome.expressions import GREEK
from rlsp_rewards.outcome.sets import split_top
from rlsp_rewards.outcome.spelling import squeeze

__all__ = ["equation_sides", "same_function", "value_sides"]

_EQUALS = re.compile("=")
#: Most sides an equation chain is read with.
_MAX_SIDES = 16
#: Signs of several answers ("x = 2 or x = 3", "a = 1, b = 2"): not one equation chain.
_SEVERAL = re.compile(r"[,;]|\\(?:text|quad|qquad)(?![A-Za-z])|\s(?:or|and)\s")
_APPROX = re.compile(r"\\approx(?![A-Za-z])")
_RELATION = re.compile(r"[<>]|\\(?:le|ge|ne|lt|gt|approx|in|subset|pm|mp)(?![A-Za-z])")
_GREEK_NAMES = "|".join(sorted(GREEK, key=len, reverse=True))
_SUBSCRIPT = r"_(?:\{[A-Za-z0-9\\]+\}|[A-Za-z0-9])"
_NAME = rf"(?:[A-Za-z]|\\(?:{_GREEK_NAMES})(?![A-Za-z]))(?:{_SUBSCRIPT}|')*"
#: A set named by letters: ``A``, ``A'``, ``\\complement_U A``, ``(A \\cup B)`` (squeezed).
_SET_TERM = r"(?:(?:\\complement|C)_\{?[A-Z]\}?)?(?:[A-Z]|\([A-Z](?:\\(?:cap|cup)[A-Z])*\))'?"
#: A plain name: the only kind of left side a gold's label may have.
_PLAIN_NAME = re.compile(
    rf"{_NAME}|(?:m|\\measuredangle|\\angle|\\triangle|\\overline\{{)?\\?(?:angle)?[A-Z]{{2,4}}\}}?"
    rf"|{_NAME}(?:\^\{{-1\}})?\((?:{_NAME}|-?\d+)(?:,(?:{_NAME}|-?\d+))*\)(?:{_SUBSCRIPT})?"
    rf"|\|[A-Z]{{1,4}}\||{_NAME}:{_NAME}|\\frac\{{(?:{_NAME})+\}}\{{(?:{_NAME})+\}}"
    rf"|\({_NAME}(?:,{_NAME})+\)"
    rf"|\\angle[A-Z]{{1,3}}|m\\angle[A-Z]{{1,3}}|\\text\{{[A-Za-z ]{{1,30}}\}}"
    rf"|{_SET_TERM}(?:\\(?:cap|cup|setminus){_SET_TERM})+|(?:\\complement|C)_\{{?[A-Z]\}}?[A-Z]"
)
#: Labels that name the same function of ``x``: ``y`` and ``f(x)`` (not ``f^{-1}(x)``).
_FUNCTION_LABEL = re.compile(r"y|[a-z]\(x\)")
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


def same_function(first: str, second: str) -> bool:
    """Whether two (squeezed) labels name the same thing: equal, or ``y`` and ``f(x)``.

    Example:
        >>> same_function("y", "f(x)"), same_function("y", "x"), same_function("f(x)", "f^{-1}(x)")
        (True, False, False)
    """
    if first == second:
        return True
    return bool(_FUNCTION_LABEL.fullmatch(first) and _FUNCTION_LABEL.fullmatch(second))


def equation_sides(text: str) -> list[str]:
    """The sides of an equation chain ``a = b = c`` (one side when there is no ``=``).

    Example:
        >>> equation_sides("x = 2 = 2"), equation_sides("x < 3")
        (['x', '2', '2'], ['x < 3'])
    """
    if "=" not in text or _RELATION.search(text) or _SEVERAL.search(text):
        if "=" in text and _SEVERAL.search(text) and not _RELATION.search(text):
            return _labelled_list(text)
        return [text]
    parts = split_top(text, _EQUALS)
    if parts is None or not 2 <= len(parts) <= _MAX_SIDES or not all(p.strip() for p in parts):
        return [text]
    return [p.strip() for p in parts]


def _labelled_list(text: str) -> list[str]:
    """``(x, y) = (5, 8) \\text{ and } (8, 5)`` and ``A \\cap B = \\{3, 5\\}`` keep their
    label; other lists stay whole."""
    parts = split_top(text, _EQUALS)
    if parts is None or len(parts) != 2 or not _is_name(parts[0]):
        return [text]
    if "," not in parts[0] and not _ONE_GROUP.fullmatch(squeeze(parts[1])):
        return [text]
    return [parts[0].strip(), parts[1].strip()]


#: One bracketed group: a roster, a tuple, an interval (its inner brackets are not checked).
_ONE_GROUP = re.compile(r"\\\{[^=]*\\\}|[(\[][^=()\[\]]*[)\]]")


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
    sides = equation_sides(text)
    labels = []
    is_label = _is_name if strict else _is_loose_name
    while len(sides) > 1 and is_label(sides[0]):
        labels.append(squeeze(sides.pop(0)))
    return "=".join(labels), sides
