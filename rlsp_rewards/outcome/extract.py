"""Reading final answers: from a model's response, and from a dataset's gold field.

Everything here is cheap, linear in the input and bounded: boxes are found with ``str.rfind`` /
``str.find`` and closed with a brace counter (:mod:`~rlsp_rewards.outcome.boxes`), words are
read in a bounded window near the end (:mod:`~rlsp_rewards.outcome.sentences`), hedges are
recognised in a few hundred characters (:mod:`~rlsp_rewards.outcome.hedges`). Only
delimiters, a wrapper around the whole answer and trailing periods are taken off; the answer's
spelling (unicode maths, escapes a Python string mangled, choice letters, thousands separators)
is the comparer's job, which normalises the gold and the answer alike. An answer longer than
:data:`MAX_ANSWER_CHARS` is no answer: it is never cut (a cut answer would be compared on its
prefix).

Extraction modes (the ``mode`` argument of :func:`extract_answer`):

* ``"last_box"`` (default): what a careful reader takes for the final answer:

  1. the part that counts: the text after ``</think>`` when something follows it; the text
     before the first end-of-turn token (``<|im_end|>``, ``<|eot_id|>``...); inside the last
     ``<answer>...</answer>`` (an unclosed one at the end counts: ``</answer>`` is often the
     stop string), where a short answer alone is taken whole;
  2. the last ``\\boxed{...}`` / ``\\fbox{...}`` / ``\\boxed 5`` (with the boxes joined to it,
     below), unless an explicit statement after it (``The final answer is 10.``) gives
     another value: the later statement wins. An empty box (``put your answer in
     \\boxed{}``) names the format and is passed over;
  3. with no box: the rightmost marker (``The final answer is``, ``Final Answer``, also as
     markdown, ``The (correct) answer is``, ``Answer:``, ``#### 42``);
  4. with neither: the closing sentence, when it states a result (``So the area is $16\\pi$
     square units.``); a closing sentence that states none gives no answer.

  A hedged answer is no answer (``None``, so the verifier flags ``no_answer`` and scores it
  ``no_answer_score``, never correct): ``5 \\text{ or maybe } 6``, ``either 3 or 4``, every
  option of a multiple choice listed, or a box followed by another candidate (``\\boxed{\\frac14},
  though it could also be \\frac12``). A letter the response names as its choice right after
  its answer (``\\boxed{48}, which is option (D)``) is the answer.
* ``"boxed_only"``: the last box of the whole response (joined as below), nothing else.
* ``"first_box"``: the first box alone, nothing else (what the RLSP authors' reference code
  reads).

In the two last-box modes, boxes right before the last one that only ``and``, ``or`` or a comma
separate from it, or nothing but spacing on the same line, belong to the answer: ``$\\boxed{2}$
and $\\boxed{3}$`` and ``\\boxed{2}\\boxed{3}`` read ``"2, 3"``; so do boxes that a name
labels after the connector (``$x = \\boxed{2}$ or $x = \\boxed{3}$`` reads ``"2, 3"``,
``a = \\boxed{2}, b = \\boxed{5}`` reads ``"a = 2, b = 5"``).

A response whose last box is never closed (a generation cut off inside it) has no answer: we do
not fall back to an earlier, intermediate box.

Example:
    >>> extract_answer(r"So $x = \\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> extract_answer("<think>maybe \\\\boxed{3}</think>\\n<answer>5</answer>")
    '5'
    >>> gold_answer({"ground_truth": 42})
    '42'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from rlsp_rewards.outcome.boxes import (
    MAX_ANSWER_CHARS,
    box_close,
    box_content,
    find_box,
    joined_boxes,
    matching_brace,
)
from rlsp_rewards.outcome.hedges import is_hedged, named_choice, offers_alternative
from rlsp_rewards.outcome.sentences import (
    MARKERS,
    Reading,
    bare_reading,
    closing_reading,
    first_line,
    marker_reading,
)

__all__ = [
    "EXTRACTION_MODES",
    "MAX_ANSWER_CHARS",
    "extract_answer",
    "gold_answer",
    "text_before_first_box",
]

#: The extraction modes :func:`extract_answer` accepts.
EXTRACTION_MODES: tuple[str, ...] = ("last_box", "first_box", "boxed_only")
_BOX_COMMANDS = ("\\boxed", "\\fbox")
#: Markers that, after the last box, override it ("####" is also a markdown heading).
_LATER_MARKERS = tuple(marker for marker in MARKERS if marker != "####")
_THINK_ENDS = ("</think>", "</thinking>")
#: What follows the ``<`` that begins an end-of-turn token (a one-character slice of the text).
_TURN_BARS = frozenset({"|", "\uff5c"})
_TURN_ENDS = (
    "<|im_end|>",
    "<|im_start|>",
    "<|eot_id|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|end|>",
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
)
#: An ``<answer>`` block this short, on one line or a few, is taken whole when it has no box
#: and no marker.
_SHORT_TAG_CHARS = 300
#: How much text after a box is read for a doubt or a named choice (to the paragraph's end).
_AFTER_BOX_CHARS = 300
#: How much text before the first of the joined boxes, on its line, is read for "either".
_BEFORE_BOX_CHARS = 60
_WORD = re.compile(r"[A-Za-z]{2}")
_EMPTY_BOX = re.compile(r"[ \t]*\{\s*\}")
_NAMES_FORMAT = re.compile(r"\\(?:boxed|fbox)[ \t]*\{\s*\}")
#: An answer that starts with an option letter ("C", "(C) 12", "\\textbf{(C)}", "option C").
_CHOICE = re.compile(
    r"(?:(?i:option|choice)\s*)?(?:\\text(?:bf|rm)?\{|\\mathrm\{)?\s*\(?[A-J](?![A-Za-z0-9])"
)
#: "either" right before the first box ("is either $\boxed{3}$ or $\boxed{4}$").
_EITHER = re.compile(r"\beither\s*(?:\$|\\\(|[A-Za-z]\s*=\s*)*$", re.IGNORECASE)
#: A gold longer than this without a box is searched for "The answer is" style markers.
_SHORT_GOLD_CHARS = 40
#: Keys of a dict-shaped gold, in the order they are tried.
_GOLD_KEYS = ("ground_truth", "answer", "solution", "target")
_COMMANDS = re.compile(r"\\[A-Za-z]+")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
#: The opening of a phrase rather than a value ("the number of ways", "that there are").
_PHRASE = re.compile(
    r"(?:the|a|an|that|this|these|it|its|there|we|to|in|of|our|my)\s", re.IGNORECASE
)
#: Words that, after a box, only comment on it ("the answer is correct").
_COMMENT = re.compile(
    r"(?:the\s+)?(?:correct|right|wrong|incorrect|above|below|boxed|shown|same|consistent|"
    r"verified|confirmed|unchanged|valid)(?![A-Za-z])",
    re.IGNORECASE,
)


def extract_answer(text: str, mode: str = "last_box") -> str | None:
    """The final answer of a response, or ``None`` when it gives none (or hedges).

    Args:
        text: the model's response.
        mode: ``"last_box"``, ``"first_box"`` or ``"boxed_only"`` (see the module docstring).

    Returns:
        The answer with ``$`` delimiters, a whole-answer ``\\text{}`` wrapper and trailing
        periods removed, at most :data:`MAX_ANSWER_CHARS` characters; ``None`` when nothing
        is found. An unknown mode also gives ``None``: this function never raises
        on any input.

    Example:
        >>> extract_answer(r"First \\boxed{1}, then \\boxed{2}.")
        '2'
        >>> extract_answer(r"First \\boxed{1}, then \\boxed{2}.", mode="first_box")
        '1'
        >>> extract_answer("Adding them up gives 12.\\n\\nThe answer is 12.")
        '12'
        >>> extract_answer("Let me compute 3 + 4 = 7, and then") is None
        True
        >>> extract_answer(r"\\boxed{\\frac14}, though it could also be $\\frac12$.") is None
        True
    """
    if not isinstance(text, str) or mode not in EXTRACTION_MODES:
        return None
    if mode == "first_box":
        box = find_box(text, last=False)
        return None if box is None else _clean(box_content(text, box[1]))
    if mode == "boxed_only":
        box = find_box(text, last=True)
        return None if box is None else _joined(text, box)
    return _read(*_answer_scope(_final_part(text)))


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
    ``None``. The gold is cleaned as answers are.

    Example:
        >>> gold_answer(r"Adding, we get $\\boxed{7}$ apples.")
        '7'
        >>> gold_answer(0.5), gold_answer([None, "", "x+1"]), gold_answer(float("nan"))
        ('0.5', 'x+1', None)
    """
    return _gold(gold, depth=0)


# -- the part of a response that counts ---------------------------------------------------------


def _final_part(text: str) -> str:
    """The response before its first end-of-turn token, and after ``</think>`` when something
    follows it.

    Every token here begins with ``<``, and a single character is looked for first
    (``memchr``, nearly free): many responses hold no ``<``, and then no token is searched
    for at all.
    """
    if _has_turn_token(text):
        found = (text.find(token) for token in _TURN_ENDS)
        cut = min((at for at in found if at >= 0), default=-1)
        if cut >= 0 and text[:cut].strip():
            text = text[:cut]
    if "<" in text and "</think" in text:
        for token in _THINK_ENDS:
            at = text.rfind(token)
            if at >= 0 and text[at + len(token) :].strip():
                return text[at + len(token) :]
    return text


def _has_turn_token(text: str) -> bool:
    """Whether ``<|`` (or ``<`` and DeepSeek's wide bar) occurs: every end-of-turn token
    begins so. The few ``<`` of a response (``x < 3``) are checked one by one with
    ``str.find`` (``memchr``), which is much faster than a two-character search."""
    at = text.find("<")
    for _ in range(32):
        if at < 0:
            return False
        if text[at + 1 : at + 2] in _TURN_BARS:
            return True
        at = text.find("<", at + 1)
    return "<|" in text or "<\uff5c" in text


def _answer_scope(text: str) -> tuple[str, bool]:
    """Inside the last ``<answer>`` block (to its ``</answer>`` or the end), else all of it;
    and whether it is such a block."""
    if "<" not in text or "answer>" not in text:  # "<" first: one memchr
        return text, False
    opened = text.rfind("<answer>")
    if opened < 0:
        closed = text.rfind("</answer>")
        return (text[:closed], True) if closed >= 0 else (text, False)
    inside = text[opened + len("<answer>") :]
    closed = inside.find("</answer>")
    inside = inside if closed < 0 else inside[:closed]
    return (inside, True) if inside.strip() else (text, False)  # "<answer></answer>" named


# -- reading ----------------------------------------------------------------------------------


def _read(scope: str, tagged: bool) -> str | None:
    """The final answer in the part of a response that counts (steps 2 to 4 above); a short
    ``<answer>`` block (``tagged``) with no box and no marker is taken whole."""
    box = find_box(scope, last=True)
    if box is not None and not _EMPTY_BOX.match(scope, box[1]):
        return _boxed(scope, box)
    # no box, or an empty one that only names the format ("put the answer in \boxed{}")
    reading = marker_reading(scope)
    if reading is None and tagged:
        whole = scope.strip()
        if whole and len(whole) <= _SHORT_TAG_CHARS and "\n\n" not in whole:
            reading = Reading(whole, whole)
    if reading is None:
        reading = closing_reading(scope) or bare_reading(scope)
    return _decided(reading)


def _boxed(text: str, box: tuple[int, int]) -> str | None:
    """The answer of the last box: joined boxes, a later explicit statement, hedges."""
    joined = joined_boxes(text, box)
    if joined is None:
        return None
    answer = _joined_answer(joined.contents)
    if answer is None or joined.close is None:
        return answer  # a bare-token box ("\\boxed 5")
    after = text[joined.close + 1 :]
    if "nswer" in after or "NSWER" in after:  # every later marker holds "answer"
        later = _decided(marker_reading(after, _LATER_MARKERS))
        if later is not None and _states_value(later):
            return later
    if is_hedged(answer) or _hedged_before(text, joined.start):
        return None
    if _WORD.search(after, 0, _AFTER_BOX_CHARS) is None:  # the common case: "$.", "\n\\]"
        return answer
    paragraph = after[:_AFTER_BOX_CHARS].split("\n\n", 1)[0]
    if offers_alternative(paragraph):
        return None
    if _CHOICE.match(answer):
        return answer  # already a choice: "\\boxed{(C) 12}, not option (B)" stays (C) 12
    return named_choice(paragraph) or answer


def _states_value(answer: str) -> bool:
    """Whether a later statement gives a value, not a comment on the box ("the answer is
    correct"), a phrase ("the number of pairs, 12") or a value among words ("12 apples and 3
    oranges"): mathematics alone, or a short text answer ("Sunday", "infinitely many")."""
    if _COMMENT.match(answer) or _PHRASE.match(answer):
        return False
    bare = _COMMANDS.sub(" ", answer)
    if _LONG_WORD.search(bare) is None:
        return True
    return not any(char.isdigit() for char in bare) and len(answer.split()) <= 3


def _joined(text: str, box: tuple[int, int]) -> str | None:
    joined = joined_boxes(text, box)
    return None if joined is None else _joined_answer(joined.contents)


def _joined_answer(contents: list[str]) -> str | None:
    if len(contents) == 1:
        return _clean(contents[0])
    answers = [_clean(content) for content in contents]
    if None in answers:
        return answers[-1]
    return ", ".join(dict.fromkeys(answers))  # type: ignore[arg-type]


def _hedged_before(text: str, first_start: int) -> bool:
    """Whether a hedge stands right before the answer's first box: "either" on its line (``is
    either $\\boxed{3}$ or ...``), or between it and a box just before (``\\boxed{5} or maybe
    \\boxed{6}``)."""
    near = text[max(0, first_start - _BEFORE_BOX_CHARS) : first_start]
    if "ither" in near and _EITHER.search(near[near.rfind("\n") + 1 :]) is not None:
        return True
    if "\\boxed" not in near and "\\fbox" not in near:
        return False  # no box ends close enough before: the common case, decided cheaply
    previous = find_box(text, last=True, before=first_start)
    close = None if previous is None else box_close(text, previous[1])
    if close is None:
        return False
    gap = text[close + 1 : first_start]
    return len(gap) <= _BEFORE_BOX_CHARS and "\n\n" not in gap and is_hedged(gap)


def _decided(reading: Reading | None) -> str | None:
    """The cleaned answer of a reading, ``None`` when it hedges; a named choice wins."""
    if reading is None:
        return None
    answer = _clean(reading.answer)
    if answer is None or is_hedged(answer) or offers_alternative(reading.context):
        return None
    if "{}" in answer and _NAMES_FORMAT.search(answer):
        return None  # "(put your final answer) within \boxed{}": an instruction, not an answer
    if _CHOICE.match(answer):
        return answer
    return named_choice(reading.context) or answer


# -- clean-up ---------------------------------------------------------------------------------

_WRAPPERS = ("\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "\\textrm{", "\\mbox{")
_DELIMITERS = (
    ("$$", "$$"),
    ("$", "$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
    ("**", "**"),
    ('\\"', '\\"'),
    ('"', '"'),
    ("\u201c", "\u201d"),
)
_DELIMITERS_BY_START = {
    start: tuple(pair for pair in _DELIMITERS if pair[0][0] == start)
    for start in {left[0] for left, _ in _DELIMITERS}
}
#: First characters of an answer that may have a layer to take off (a delimiter, a wrapper).
_LAYERED = frozenset(_DELIMITERS_BY_START) | {"\\"}
#: Whitespace stripped from answers: not ``str.strip()``'s, which also takes the form feed and
#: vertical tab that a mangled ``\\f`` or ``\\v`` left (the comparer reads those back).
_SPACE = " \t\n\r"


def _clean(answer: str | None) -> str | None:
    """Delimiters, a wrapper around the whole answer and trailing periods taken off.

    The answer's spelling (unicode maths, mangled escapes, choice letters) is left to the
    comparer, which normalises gold and answer alike. ``None`` when nothing is left, or when
    the answer is longer than :data:`MAX_ANSWER_CHARS` (it is never cut).
    """
    if answer is None or len(answer) > MAX_ANSWER_CHARS:
        return None
    answer = answer.strip(_SPACE)
    for _ in range(4):  # a few layers, e.g. "$\text{Tuesday}$."
        if not answer or (answer[0] not in _LAYERED and answer[-1] != "."):
            break  # the common case: nothing to take off, decided by two characters
        before = answer
        answer = _strip_delimiters(answer.rstrip(_SPACE + "."))
        answer = _strip_wrapper(answer)
        if answer == before:
            break
    return answer or None


def _strip_delimiters(answer: str) -> str:
    for left, right in _DELIMITERS_BY_START.get(answer[:1], ()):
        long_enough = len(answer) >= len(left) + len(right)
        if long_enough and answer.startswith(left) and answer.endswith(right):
            inside = answer[len(left) : len(answer) - len(right)]
            if "$" in left and "$" in inside:  # "$x = 2$ and $x = 3$": several spans
                if "\\$" in answer or answer.count("$") % 2:
                    return answer
                return " ".join(answer.replace("$", " ").split())
            return inside.strip(_SPACE)
    return answer


def _strip_wrapper(answer: str) -> str:
    """``\\text{Tuesday}`` -> ``Tuesday`` when the wrapper encloses the whole answer."""
    if not (answer.endswith("}") and answer.startswith(_WRAPPERS)):
        return answer
    for wrapper in _WRAPPERS:
        if answer.startswith(wrapper):
            close = matching_brace(answer, len(wrapper) - 1)
            if close == len(answer) - 1:
                return answer[len(wrapper) : -1].strip(_SPACE)
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
    text = text.strip(_SPACE)  # not str.strip(): it would eat a form feed (the \f of \frac)
    if not text:
        return None
    if any(command in text for command in _BOX_COMMANDS):
        return extract_answer(text, mode="boxed_only")
    marker = text.rfind("####")
    if marker >= 0:
        return _clean(first_line(text[marker + 4 :]))
    if len(text) > _SHORT_GOLD_CHARS:  # a solution in words: "... so the answer is 5."
        reading = marker_reading(text)
        found = _clean(reading.answer) if reading is not None else None
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
