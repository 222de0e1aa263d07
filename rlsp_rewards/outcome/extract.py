"""Reading final answers: from a model's response, and from a dataset's gold field.

Everything here is cheap, linear in the input and bounded: boxes are found with ``str.rfind`` /
``str.find`` and closed with a brace counter, never with a backtracking regular expression, so
a megabyte of adversarial text costs milliseconds. The extracted answer is capped at
:data:`MAX_ANSWER_CHARS` characters.

Extraction modes (the ``mode`` argument of :func:`extract_answer`):

* ``"last_box"`` (default): the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5``; when the
  response has no box at all, the last of the markers ``Answer:``, ``The answer is``,
  ``Final Answer`` (also as markdown, ``**Final Answer**``) and ``#### 42``.
* ``"boxed_only"``: the last box, no fallbacks.
* ``"first_box"``: the first box alone, no fallbacks (what the RLSP authors' reference code
  reads).

In the two last-box modes, boxes right before the last one that only ``and``, ``or`` or a comma
separate from it belong to the answer: ``$\\boxed{2}$ and $\\boxed{3}$`` reads ``"2, 3"``.

A response whose last box is never closed (a generation cut off inside it) has no answer: we do
not fall back to an earlier, intermediate box.

Example:
    >>> extract_answer(r"So $x = \\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> gold_answer({"ground_truth": 42})
    '42'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "EXTRACTION_MODES",
    "MAX_ANSWER_CHARS",
    "extract_answer",
    "gold_answer",
    "text_before_first_box",
]

#: The extraction modes :func:`extract_answer` accepts.
EXTRACTION_MODES: tuple[str, ...] = ("last_box", "first_box", "boxed_only")
#: Longest answer we return; longer ones are cut to this length (room for 20,000-digit integers).
MAX_ANSWER_CHARS = 20_000

_BOX_COMMANDS = ("\\boxed", "\\fbox")
#: What may stand between two boxes that form one answer.
_CONNECTORS = ("\\text{", "\\quad", "\\(", "\\)", "\\[", "\\]", "$", "}", ",", ";", "and", "or")
#: Most boxes joined into one answer (``\\boxed{2}, \\boxed{3}`` reads ``"2, 3"``).
_MAX_JOINED_BOXES = 8
#: How far from the end of a response the text fallbacks look for their markers.
_FALLBACK_WINDOW = 4_000
#: Text fallbacks, lower case; the rightmost marker in the response wins.
_MARKERS = (
    "the final answer is",
    "final answer:",
    "final answer",
    "the answer is",
    "answer:",
    "####",
)
#: A comma and a word that starts a new clause after the answer ("12, which is even").
_CLAUSE = re.compile(
    r",\s*(?:which|as|since|because|so|but|where|hence|thus|therefore|meaning|that|this|it|we)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: A gold longer than this without a box is searched for "The answer is" style markers.
_SHORT_GOLD_CHARS = 40
#: Keys of a dict-shaped gold, in the order they are tried.
_GOLD_KEYS = ("ground_truth", "answer", "solution", "target")
_WRAPPERS = ("\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "\\textrm{")


def extract_answer(text: str, mode: str = "last_box") -> str | None:
    """The final answer of a response, or ``None`` when it gives none.

    Args:
        text: the model's response.
        mode: ``"last_box"``, ``"first_box"`` or ``"boxed_only"`` (see the module docstring).

    Returns:
        The answer with ``$`` delimiters, a whole-answer ``\\text{}`` wrapper and trailing
        periods removed, at most :data:`MAX_ANSWER_CHARS` characters; ``None`` when nothing is
        found. An unknown mode also gives ``None``: this function never raises on any input.

    Example:
        >>> extract_answer(r"First \\boxed{1}, then \\boxed{2}.")
        '2'
        >>> extract_answer(r"First \\boxed{1}, then \\boxed{2}.", mode="first_box")
        '1'
        >>> extract_answer("Adding them up gives 12.\\n\\nThe answer is 12.")
        '12'
        >>> extract_answer("Let me compute 3 + 4 = 7, and then") is None
        True
    """
    if not isinstance(text, str) or mode not in EXTRACTION_MODES:
        return None
    box = _find_box(text, last=mode != "first_box")
    if box is not None:
        if mode == "first_box":
            return _clean(_box_content(text, box[1]))
        return _last_boxes(text, box)
    if mode != "last_box":
        return None
    return _clean(_marker_answer(text))


def text_before_first_box(text: str) -> str:
    """The part of a response before its first ``\\boxed`` (all of it when there is none).

    The ``reference`` preset measures length on this text, as the RLSP authors' code does.

    Example:
        >>> text_before_first_box(r"2 + 2 = 4, so \\boxed{4}")
        '2 + 2 = 4, so '
    """
    if not isinstance(text, str):
        return ""
    cut = text.find("\\boxed")
    return text if cut < 0 else text[:cut]


def gold_answer(gold: Any) -> str | None:
    """The reference answer as a string, from whatever a dataset stores.

    Accepted: a bare answer (``"\\\\frac{1}{2}"``, ``"(1,2)"``, ``"Tuesday"``, ``42``, ``0.5``); a
    worked solution (its last ``\\boxed{}``, a GSM8K-style ``#### 42`` line, or, in a solution
    longer than 40 characters without either, the answer after a marker such as
    ``The answer is``); a dict with one of the keys ``ground_truth``, ``answer``, ``solution``,
    ``target`` (tried in that order); a list or tuple, whose first usable entry is taken.
    ``None``, booleans, non-finite numbers, empty strings and anything else unusable give
    ``None``.

    Example:
        >>> gold_answer(r"Adding, we get $\\boxed{7}$ apples.")
        '7'
        >>> gold_answer(0.5), gold_answer([None, "", "x+1"]), gold_answer(float("nan"))
        ('0.5', 'x+1', None)
    """
    return _gold(gold, depth=0)


# -- boxes ------------------------------------------------------------------------------------


def _find_box(text: str, *, last: bool, before: int | None = None) -> tuple[int, int] | None:
    """Start and end of the chosen box command (``\\boxed`` / ``\\fbox``), or None.

    ``last`` picks the last one (ending before ``before``, when given), else the first.
    """
    end_limit = len(text) if before is None else before
    best: tuple[int, int] | None = None
    for command in _BOX_COMMANDS:
        at = text.rfind(command, 0, end_limit) if last else text.find(command)
        while at >= 0 and _continues_name(text, at + len(command)):
            # "\boxedx" is another macro: look further (rare, so this loop is short)
            at = text.rfind(command, 0, at) if last else text.find(command, at + 1)
        if at >= 0 and (best is None or (at > best[0] if last else at < best[0])):
            best = (at, at + len(command))
    return best


def _last_boxes(text: str, box: tuple[int, int]) -> str | None:
    """The last box's answer; with the boxes just before it when only "and"/","/"or" part
    them (``$\\boxed{2}$ and $\\boxed{3}$`` gives ``"2, 3"``)."""
    answers = [_clean(_box_content(text, box[1]))]
    if answers[0] is None:
        return None
    start = box[0]
    for _ in range(_MAX_JOINED_BOXES - 1):
        previous = _find_box(text, last=True, before=start)
        if previous is None:
            break
        content = _box_content(text, previous[1])
        close = _box_close(text, previous[1])
        if content is None or close is None or not _only_connectors(text[close + 1 : start]):
            break
        answers.append(_clean(content))
        start = previous[0]
    unique = list(dict.fromkeys(reversed(answers)))
    if None in unique:
        return answers[0]
    return ", ".join(unique)  # type: ignore[arg-type]


def _only_connectors(gap: str) -> bool:
    """Whether the text between two boxes joins them as one answer (", ", " and ", "$ or $")."""
    if len(gap) > 40 or not any(word in gap for word in (",", ";", "and", "or")):
        return False
    for connector in _CONNECTORS:
        gap = gap.replace(connector, " ")
    return not gap.strip()


def _continues_name(text: str, at: int) -> bool:
    return at < len(text) and text[at].isascii() and text[at].isalpha()


def _box_close(text: str, start: int) -> int | None:
    """Index of the last character of the box argument starting at ``start`` (see below)."""
    at = start
    while at < len(text) and text[at] in " \t":
        at += 1
    if at < len(text) and text[at] == "{":
        return _matching_brace(text, at)
    return None


def _box_content(text: str, start: int) -> str | None:
    """The argument of the box command ending at ``start``: ``{...}`` or a bare token."""
    at = start
    end = len(text)
    while at < end and text[at] in " \t":
        at += 1
    if at >= end:
        return None
    if text[at] == "{":
        close = _matching_brace(text, at)
        return None if close is None else text[at + 1 : close]
    if at == start:  # "\boxed5" without a space is not the space form
        return None
    stop = at
    while stop < end and not text[stop].isspace() and text[stop] != "$":
        stop += 1
    return text[at:stop]


def _matching_brace(text: str, open_at: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_at``; escaped braces do not count."""
    depth = 0
    at = open_at
    end = len(text)
    while at < end:
        char = text[at]
        if char == "\\":
            at += 2  # skip the escaped character: \{ and \} are literal braces
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return None


# -- text markers -----------------------------------------------------------------------------


def _marker_answer(text: str) -> str | None:
    """The answer after the rightmost text marker near the end of the response."""
    offset = max(0, len(text) - _FALLBACK_WINDOW)
    tail = text[offset:]
    lowered = tail.translate(_ASCII_LOWER)  # ASCII only: keeps indexes aligned with ``tail``
    best_at, best_marker = -1, ""
    for marker in _MARKERS:
        at = lowered.rfind(marker)
        if at > best_at or (at == best_at and len(marker) > len(best_marker)):
            best_at, best_marker = at, marker
    if best_at < 0:
        return None
    rest = tail[best_at + len(best_marker) :]
    if best_marker == "####":  # GSM8K style: the answer is on the marker's own line
        return rest.split("\n", 1)[0].strip() or None
    return _first_sentence(rest)


def _first_line(rest: str) -> str | None:
    """The first non-empty line of ``rest`` (markdown decorations removed)."""
    for line in rest.split("\n", 8)[:8]:
        for _ in range(3):  # "**12**." loses its period, then its bold
            line = line.strip().strip("*#").strip().rstrip(".")
        line = line.strip()
        if line.startswith((":", "is ", "is:")):
            line = line.split(":", 1)[-1] if line.startswith(":") else line[2:]
            line = line.strip().lstrip(":").strip().strip("*").strip()
        if line:
            return line
    return None


def _first_sentence(rest: str) -> str | None:
    """The first line after a marker, cut at the end of its sentence."""
    line = _first_line(rest)
    if line is None:
        return None
    cut = _sentence_end(line)
    if cut >= 0:
        line = line[:cut]
    clause = _clause_start(line)
    if clause >= 0:  # "12, which is even": the answer ends at the comma
        line = line[:clause]
    verb = line.translate(_ASCII_LOWER).rfind(" is ")  # "Answer: the total is 12" -> "12"
    return line[verb + 4 :] if verb >= 0 and "$" not in line[:verb] else line


def _sentence_end(line: str) -> int:
    """Index of a period that ends a sentence (followed by a space), outside ``$...$``."""
    in_math = False
    for at, char in enumerate(line):
        if char == "$":
            in_math = not in_math
        elif char == "." and not in_math and at + 1 < len(line) and line[at + 1] == " ":
            return at
    return -1


def _clause_start(line: str) -> int:
    """Index of a comma that starts a new clause (", which", ", so"), outside ``$...$``."""
    for match in _CLAUSE.finditer(line):
        if line.count("$", 0, match.start()) % 2 == 0:
            return match.start()
    return -1


# -- clean-up ---------------------------------------------------------------------------------


def _clean(answer: str | None) -> str | None:
    """Strip delimiters, whole-answer wrappers and trailing punctuation; cap the length."""
    if answer is None:
        return None
    answer = answer[:MAX_ANSWER_CHARS].strip()
    for _ in range(4):  # a few layers, e.g. "$\text{Tuesday}$."
        before = answer
        answer = answer.rstrip(" .")
        answer = _strip_delimiters(answer)
        answer = _strip_wrapper(answer)
        if answer == before:
            break
    return answer or None


def _strip_delimiters(answer: str) -> str:
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**")):
        long_enough = len(answer) >= len(left) + len(right)
        if long_enough and answer.startswith(left) and answer.endswith(right):
            return answer[len(left) : len(answer) - len(right)].strip()
    return answer


def _strip_wrapper(answer: str) -> str:
    """``\\text{Tuesday}`` -> ``Tuesday`` when the wrapper encloses the whole answer."""
    for wrapper in _WRAPPERS:
        if answer.startswith(wrapper) and answer.endswith("}"):
            close = _matching_brace(answer, len(wrapper) - 1)
            if close == len(answer) - 1:
                return answer[len(wrapper) : -1].strip()
    return answer


# -- gold -------------------------------------------------------------------------------------


def _gold(gold: Any, depth: int) -> str | None:
    if gold is None or isinstance(gold, bool) or depth > 4:
        return None
    if isinstance(gold, str):
        return _gold_text(gold)
    if isinstance(gold, (bytes, bytearray)):
        return _gold_text(bytes(gold).decode("utf-8", errors="replace"))
    if isinstance(gold, int):
        return _int_text(gold)
    if isinstance(gold, float):
        return repr(gold) if math.isfinite(gold) else None
    if isinstance(gold, Mapping):
        for key in _GOLD_KEYS:
            if key in gold:
                found = _gold(gold[key], depth + 1)
                if found is not None:
                    return found
        return None
    if hasattr(gold, "tolist"):  # numpy arrays and scalars, torch tensors
        try:
            return _gold(gold.tolist(), depth + 1)
        except Exception:
            return None
    if isinstance(gold, (list, tuple)):
        for entry in gold[:64]:
            found = _gold(entry, depth + 1)
            if found is not None:
                return found
        return None
    try:  # Fraction, Decimal and other number-like objects
        return _gold_text(str(gold))
    except Exception:
        return None


def _gold_text(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if any(command in text for command in _BOX_COMMANDS):
        return extract_answer(text, mode="boxed_only")
    marker = text.rfind("####")
    if marker >= 0:
        return _clean(_first_line(text[marker + 4 :]))
    if len(text) > _SHORT_GOLD_CHARS:  # a solution in words: "... so the answer is 5."
        found = _clean(_marker_answer(text))
        if found is not None:
            return found
    return _clean(text)


def _int_text(value: int) -> str:
    """Decimal digits of any int, also past Python's 4,300-digit ``str()`` limit."""
    if -(10**4000) < value < 10**4000:
        return str(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    chunks = []
    base = 10**4000
    while value:
        value, low = divmod(value, base)
        chunks.append(low)
    parts = [str(chunks[-1])] + [str(chunk).zfill(4000) for chunk in reversed(chunks[:-1])]
    return sign + "".join(parts)
