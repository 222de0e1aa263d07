"""Finding ``\\boxed{...}`` answers in a response: linear scans and a brace counter.

Boxes are found with ``str.rfind`` / ``str.find`` and closed with a brace counter, never with a
backtracking regular expression, so a megabyte of adversarial text costs milliseconds.

Example:
    >>> text = r"so $\\boxed{\\frac{1}{2}}$."
    >>> box = find_box(text, last=True)
    >>> box_content(text, box[1])
    '\\\\frac{1}{2}'
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "MAX_ANSWER_CHARS",
    "JoinedBoxes",
    "box_close",
    "box_content",
    "find_box",
    "joined_boxes",
    "matching_brace",
]

#: Longest answer read (room for 200,000-digit integers); a longer one is no answer, never a
#: cut one. A box whose argument would be longer is not closed (the brace counter stops).
MAX_ANSWER_CHARS = 200_000

#: A box command; ``\\boxedx`` is another macro.
_BOX = re.compile(r"(\\(?:boxed|fbox))(?![A-Za-z])")
#: What the brace counter looks at: braces, and escapes (``\\{`` is a literal brace).
_BRACE_TOKENS = re.compile(r"\\.|[{}]", re.DOTALL)
_LAST_BOX = re.compile(r"(?s:.*)(\\(?:boxed|fbox))(?![A-Za-z])")
#: What may stand between two boxes that form one answer.
_CONNECTORS = ("\\text{", "\\quad", "\\(", "\\)", "\\[", "\\]", "$", "}", ",", ";", "and", "or")
#: What may stand between two boxes on one line that are one answer with no word between them
#: (``\\boxed{1}\\boxed{2}``, ``$\\boxed{1}$ $\\boxed{2}$``).
_ADJACENT = ("\\quad", "\\qquad", "\\,", "\\;", "\\ ", "~", "$", "\\(", "\\)")
#: A plain name labelling the next box (``x =``, ``x_2 =``), after a connector.
_NEXT_LABEL = re.compile(r"(?:(?<=[\s$(])|^)[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=\s*\$?\s*$")
#: Longest text between two boxes that form one answer.
_MAX_GAP = 40
#: Most boxes joined into one answer (``\\boxed{2}, \\boxed{3}`` reads ``"2, 3"``).
_MAX_JOINED_BOXES = 8


def find_box(text: str, *, last: bool, before: int | None = None) -> tuple[int, int] | None:
    """Start and end of the chosen box command (``\\boxed`` / ``\\fbox``), or ``None``.

    Args:
        text: the text to search.
        last: the last box (starting before ``before``, when given), else the first.
        before: with ``last``, only boxes that start before this index count.

    Returns:
        ``(start, end)`` of the command's name; its argument starts at ``end``.

    Example:
        >>> find_box(r"a \\boxed{1} b \\fbox{2}", last=True)
        (14, 19)
        >>> find_box(r"\\boxedfoo{1}", last=False) is None
        True
    """
    end = len(text) if before is None else before
    # the second name is looked for only where it could win: a long response is read once,
    # not once per name (most hold no \fbox at all)
    if last:
        boxed = text.rfind("\\boxed", 0, end)
        at = max(boxed, text.rfind("\\fbox", boxed + 1, end))
    else:
        boxed = text.find("\\boxed")
        fbox = text.find("\\fbox", 0, len(text) if boxed < 0 else boxed)
        at = boxed if fbox < 0 else fbox
    if at < 0:
        return None
    stop = at + (6 if text.startswith("\\boxed", at) else 5)
    if stop >= len(text) or not (text[stop].isascii() and text[stop].isalpha()):
        return at, stop
    # "\boxedx" is another macro: the rest is searched by a pattern (linear, in C), not by a
    # Python loop over each such macro; the greedy prefix makes it scan back from ``at`` once
    match = _LAST_BOX.match(text, 0, at) if last else _BOX.search(text, at + 1)
    return None if match is None else match.span(1)


class JoinedBoxes(NamedTuple):
    """The boxes that form the final answer.

    Attributes:
        contents: their contents in reading order, repeats removed.
        start: where the first of them starts.
        close: the index of the last box's closing ``}`` (``None`` for ``\\boxed 5``).

    Example:
        >>> JoinedBoxes(["3"], 0, 8).contents
        ['3']
    """

    contents: list[str]
    start: int
    close: int | None


def joined_boxes(text: str, box: tuple[int, int]) -> JoinedBoxes | None:
    """The last box and the boxes right before it that form one answer with it.

    Boxes that only ``and``, ``or``, a comma or a semicolon separate (``$\\boxed{2}$ and
    $\\boxed{3}$``, also when a name labels the next one: ``x = \\boxed{2}`` or ``x =
    \\boxed{3}``), and boxes on one line with nothing but spacing or math delimiters between
    them (``\\boxed{1}\\boxed{2}``) are one answer. A box on a line of its own after another
    is a new answer, not a second part.

    Args:
        text: the response.
        box: the last box, as :func:`find_box` gives it.

    Returns:
        The joined boxes; ``None`` when the last box never closes (or has no argument).

    Example:
        >>> text = r"$\\boxed{3}\\boxed{7}$"
        >>> joined = joined_boxes(text, find_box(text, last=True))
        >>> joined.contents, joined.start
        (['3', '7'], 1)
    """
    span = _argument(text, box[1])
    if span is None:
        last = box_content(text, box[1])  # the space form, "\boxed 5"
        return None if last is None else JoinedBoxes([last], box[0], None)
    contents = [text[span[0] + 1 : span[1]]]
    labels: list[str] = []
    start = box[0]
    for _ in range(_MAX_JOINED_BOXES - 1):
        if "}" not in text[max(0, start - _MAX_GAP - 1) : start]:
            break  # no box closes close enough before this one: decided without a search
        previous = find_box(text, last=True, before=start)
        if previous is None:
            break
        previous_span = _argument(text, previous[1])
        label = None if previous_span is None else _join(text[previous_span[1] + 1 : start])
        if previous_span is None or label is None:
            break
        labels.append(label)
        contents.append(text[previous_span[0] + 1 : previous_span[1]])
        start = previous[0]
    if len(contents) > 1 and all(labels):
        first = _NEXT_LABEL.search(text, max(0, start - 12), start)
        labels.append(first.group().split("=")[0].strip("$( \t") if first else "")
        if all(labels) and len(set(labels)) == len(labels):  # "a = 2 and b = 5": keep names
            contents = [
                f"{name} = {content}" for name, content in zip(labels, contents, strict=True)
            ]
    return JoinedBoxes(list(dict.fromkeys(reversed(contents))), start, span[1])


def _argument(text: str, start: int) -> tuple[int, int] | None:
    """The ``{`` and ``}`` of the braced argument starting at ``start`` (after spaces)."""
    at = start
    while at < len(text) and text[at] in " \t":
        at += 1
    if at < len(text) and text[at] == "{":
        close = matching_brace(text, at)
        return None if close is None else (at, close)
    return None


def box_close(text: str, start: int) -> int | None:
    """Index of the ``}`` that closes the box argument starting at ``start``, or ``None``.

    Example:
        >>> box_close(r"\\boxed{a{b}}", 6)
        11
    """
    span = _argument(text, start)
    return None if span is None else span[1]


def box_content(text: str, start: int) -> str | None:
    """The argument of the box command ending at ``start``: ``{...}`` or a bare token.

    Returns ``None`` when a ``{`` argument never closes (within :data:`MAX_ANSWER_CHARS`) or
    there is no argument.

    Example:
        >>> box_content("\\\\boxed 5$.", 6), box_content("\\\\boxed{5", 6)
        ('5', None)
    """
    at = start
    end = len(text)
    while at < end and text[at] in " \t":
        at += 1
    if at >= end:
        return None
    if text[at] == "{":
        close = matching_brace(text, at)
        return None if close is None else text[at + 1 : close]
    if at == start:  # "\boxed5" without a space is not the space form
        return None
    stop = at
    while stop < end and not text[stop].isspace() and text[stop] != "$":
        stop += 1
    return text[at:stop]


def matching_brace(text: str, open_at: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_at``; escaped braces do not count.

    ``None`` when it never closes, or not within :data:`MAX_ANSWER_CHARS` characters. Braces
    are counted between successive ``}`` with ``str.find`` and ``str.count`` (in C); only an
    argument holding an escape (``\\{``, ``\\}``) is walked token by token.

    Example:
        >>> matching_brace(r"{a\\}b}", 0), matching_brace("{{", 0), matching_brace("{a{b}}", 0)
        (5, None, 5)
    """
    end = min(len(text), open_at + MAX_ANSWER_CHARS + 2)
    depth, at = 1, open_at + 1
    while True:
        close = text.find("}", at, end)
        if close < 0:
            break
        depth += text.count("{", at, close) - 1
        if depth == 0:
            break
        at = close + 1
    stop = end if close < 0 else close
    if text.find("\\{", open_at, stop) < 0 and text.find("\\}", open_at, stop + 1) < 0:
        return None if close < 0 else close
    return _matching_brace_escaped(text, open_at, end)


def _matching_brace_escaped(text: str, open_at: int, end: int) -> int | None:
    """:func:`matching_brace` for an argument with escapes: each escape pair is one token."""
    depth = 0
    for token in _BRACE_TOKENS.finditer(text, open_at, end):
        char = token.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return token.start()
    return None


def _join(gap: str) -> str | None:
    """Whether the text between two boxes joins them as one answer: ``None`` when not; else
    the name labelling the second box (``"x"`` in ``$ or $x = ``), or ``""``."""
    if len(gap) > _MAX_GAP:
        return None
    if any(word in gap for word in (",", ";", "and", "or")):
        label = _NEXT_LABEL.search(gap)  # "$x = \boxed{2}$ or $x = \boxed{3}$": two solutions
        if label is not None:
            gap = gap[: label.start()]
        for connector in _CONNECTORS:
            gap = gap.replace(connector, " ")
        if gap.strip():
            return None
        return "" if label is None else label.group().split("=")[0].strip("$( \t")
    if "\n" in gap:
        return None
    for spacing in _ADJACENT:
        gap = gap.replace(spacing, " ")
    return None if gap.strip() else ""
