"""Emergent-behaviour counters: backtracking, self-verification, alternative approaches.

The RLSP paper reports that these behaviours emerge as RL goes on. We count them per response
with fixed marker phrases, so every reward result can carry the three counts and a training
run's logs show them rising (or not).

A marker is a phrase from the lists below, matched case-insensitively, on word boundaries,
with any run of whitespace between its words and a straight or curly apostrophe. The text is
scanned once, left to right; at each position the markers are tried behaviour by behaviour,
longest phrase first, and matches do not overlap, so "let me verify" counts once (as
verification), not twice. The expression is a plain alternation of literal phrases (no nested
repetition), so the scan is linear in the text's length.

How it runs (the counts are exactly those of that scan): a marker can only start where the
lower-cased text holds the first three characters of one (a trigram such as ``let``, ``wai``,
or ``a``, whitespace, ``d``) after a character that is not an ASCII letter, digit or ``_``.
numpy finds those positions in a few vectorised passes
(:mod:`~rlsp_rewards.exploration.chars`), and the expression is tried at each of them, in
order, skipping those inside an earlier match: the same matches as ``finditer`` over the whole
text, which tries every position (``tests/test_behaviours.py`` checks this on random text, and
``tests/exploration/test_golden.py`` on a fixed corpus). On realistic 16 KB responses (valgrind
instruction counts, which a loaded machine does not blur): 7.2 million instructions per
response for ``finditer`` over the whole text, 1.4 million with the pre-filter; in time, on
this repository's loaded 2-core machine, about 1.3 ms against 0.2-0.3 ms.

Markers (``...`` marks a word boundary):

* **backtracking**: "wait" followed (after at most one space) by one of ``, . ! ? : -`` or an
  em dash ("Wait, ..."; not "wait for"), "hold on",
  "let me reconsider", "let me rethink", "let me re-examine", "let's reconsider",
  "on second thought", "that's not right", "that is not right", "that's wrong", "that's incorrect",
  "that can't be right", "I made a mistake", "I made an error", "my mistake", "scratch that",
  "I was wrong", "this is wrong".
* **verification**: "let me check", "let me verify", "let me confirm", "let's check",
  "let's verify", "let's confirm", "double-check" (or "double check"), "sanity check",
  "verify", "verifying", "verification", "to confirm", "plugging back", "substituting back",
  "check the answer", "check our answer", "check my answer".
* **alternatives**: "alternatively", "another approach", "another way", "another method",
  "a different approach", "a different method", "a different strategy", "let's try a different",
  "let me try a different", "let me try another", "let's try another", "other approach",
  "instead, let's", "instead, let me".

Example:
    >>> count_behaviours("Wait, that's not right. Let me verify. Alternatively, use symmetry.")
    {'backtracking': 2, 'verification': 1, 'alternatives': 1}
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any, TypedDict

from rlsp_rewards.core import BEHAVIOUR_KEYS

__all__ = [
    "BEHAVIOUR_KEYS",
    "MARKERS",
    "BehaviourFields",
    "as_fields",
    "behaviour_fields",
    "count_behaviours",
    "marker_table",
]


#: The marker phrases per behaviour, as written (see the module docstring for matching rules).
MARKERS: dict[str, tuple[str, ...]] = {
    "backtracking": (
        "hold on",
        "let me reconsider",
        "let me rethink",
        "let me re-examine",
        "let's reconsider",
        "on second thought",
        "that's not right",
        "that is not right",
        "that's wrong",
        "that's incorrect",
        "that can't be right",
        "I made a mistake",
        "I made an error",
        "my mistake",
        "scratch that",
        "I was wrong",
        "this is wrong",
    ),
    "verification": (
        "let me check",
        "let me verify",
        "let me confirm",
        "let's check",
        "let's verify",
        "let's confirm",
        "double-check",
        "double check",
        "sanity check",
        "verify",
        "verifying",
        "verification",
        "to confirm",
        "plugging back",
        "substituting back",
        "check the answer",
        "check our answer",
        "check my answer",
    ),
    "alternatives": (
        "alternatively",
        "another approach",
        "another way",
        "another method",
        "a different approach",
        "a different method",
        "a different strategy",
        "let's try a different",
        "let me try a different",
        "let me try another",
        "let's try another",
        "other approach",
        "instead, let's",
        "instead, let me",
    ),
}

# "wait" alone is too common ("wait for"); as an interjection it is followed by punctuation.
_WAIT = r"wait(?=\s?[,.!?:\-\u2014])"


def _phrase_pattern(phrase: str) -> str:
    """A lower-cased phrase as a regex: whitespace runs between words, either apostrophe."""
    words = [re.escape(w).replace("'", "['\u2019]") for w in phrase.lower().split()]
    return r"\s+".join(words)


def _compile() -> tuple[re.Pattern[str], dict[str, str]]:
    """The scan's expression, and the behaviour each of its named groups counts.

    The markers are tried behaviour by behaviour, longest phrase first (so a phrase wins over
    a shorter one it starts with). They are grouped by first letter, in that order within a
    letter: markers with different first letters never match at the same place, so the first
    marker that matches is the same as in one plain alternation, and the regex engine skips
    every letter but the right one with a single comparison.
    """
    by_letter: dict[str, dict[str, list[str]]] = {}
    for key in BEHAVIOUR_KEYS:
        phrases = [_phrase_pattern(p) for p in sorted(MARKERS[key], key=len, reverse=True)]
        if key == "backtracking":
            phrases.append(_WAIT)
        for regex in phrases:
            by_letter.setdefault(regex[0], {}).setdefault(key, []).append(regex[1:])
    behaviour_of = {}
    letters = []
    for letter, keys in by_letter.items():
        groups = []
        for key, rests in keys.items():
            behaviour_of[f"{key}_{letter}"] = key
            groups.append(f"(?P<{key}_{letter}>{'|'.join(rests)})")
        letters.append(f"{letter}(?:{'|'.join(groups)})")
    return re.compile(rf"\b(?:{'|'.join(letters)})\b"), behaviour_of


_PATTERN, _BEHAVIOUR_OF = _compile()


def count_behaviours(text: str) -> dict[str, int]:
    """Count backtracking, verification and alternative-approach markers in one response.

    Args:
        text: the response text (anything else counts as empty).

    Returns:
        ``{"backtracking": n, "verification": n, "alternatives": n}``, always all three keys.

    Example:
        >>> count_behaviours("Let me double-check: 2 + 2 = 4. Another way: count.")
        {'backtracking': 0, 'verification': 1, 'alternatives': 1}
    """
    counts = dict.fromkeys(BEHAVIOUR_KEYS, 0)
    if not isinstance(text, str) or len(text) < _SHORTEST:
        return counts
    from rlsp_rewards.exploration import compiled  # not at the top: exploration imports this
    from rlsp_rewards.exploration.chars import code_points

    lowered = text.lower()
    if compiled.available():
        per_behaviour = compiled.count_markers(code_points(lowered), marker_table())
        return dict(zip(BEHAVIOUR_KEYS, per_behaviour, strict=True))
    starts = _candidates(lowered)  # in order; a marker never starts anywhere else
    end = 0
    for found in filter(None, map(_PATTERN.match, itertools.repeat(lowered), starts)):
        if found.start() >= end:  # a scan of the whole text would skip overlapping ones
            counts[_BEHAVIOUR_OF[found.lastgroup]] += 1  # type: ignore[index]
            end = found.end()
    return counts


@functools.lru_cache(maxsize=1)
def marker_table() -> Any:
    """The markers as the compiled scan reads them
    (:class:`~rlsp_rewards.exploration.compiled.MarkerTable`), in the order the expression
    tries them: behaviour by behaviour (the index of :data:`BEHAVIOUR_KEYS`), longest phrase
    first, "wait" and its look-ahead last among backtracking.

    Example:
        >>> int(marker_table().count)
        3
    """
    from rlsp_rewards.exploration import compiled

    markers = []
    for index, key in enumerate(BEHAVIOUR_KEYS):
        for phrase in sorted(MARKERS[key], key=len, reverse=True):
            markers.append((" ".join(phrase.lower().split()), index))
        if key == "backtracking":
            markers.append(("wait\x00", index))  # \x00: the look-ahead of _WAIT
    return compiled.MarkerTable(markers)


# -- the pre-filter -------------------------------------------------------------------------

#: Symbols of the pre-filter: 0 other, 1-26 the letters a-z, then whitespace and other word
#: characters of ASCII (digits, "_"; a marker never starts right after one of those, nor
#: after a letter).
_SPACE, _WORD, _SYMBOLS = 27, 28, 29


def _symbol(char: str) -> int:
    if "a" <= char <= "z":
        return ord(char) - 96
    if char.isspace():
        return _SPACE
    return _WORD if char.isascii() and (char.isalnum() or char == "_") else 0


def _marker_starts() -> set[tuple[int, ...]]:
    """The symbol trigrams a marker can start with: its first three characters, with each
    gap between words (any run of whitespace) one, two or three characters wide."""
    starts = set()
    for phrase in [*(p.lower() for ps in MARKERS.values() for p in ps), "wait"]:
        first, *rest = phrase.split(" ")
        for widths in itertools.product((1, 2, 3), repeat=len(rest)):
            spaced = first + "".join(" " * w + word for w, word in zip(widths, rest, strict=True))
            starts.add(tuple(map(_symbol, spaced[:3])))
    return starts


#: The shortest marker, in characters: a shorter text holds none.
_SHORTEST = min(len(p) for p in [*(p for ps in MARKERS.values() for p in ps), "wait"])


def _candidates(lowered: str) -> list[int]:
    """The positions, in order, where a marker could start in the lower-cased text."""
    from rlsp_rewards.exploration.chars import code_points, numpy

    np = numpy()
    chars = code_points(lowered)
    table, allowed = _tables()
    if chars.dtype != np.uint8:
        chars = np.minimum(chars, len(table) - 1)  # no whitespace, no ASCII above U+3001
    symbols = table.take(chars)
    trigram = symbols[:-2] * np.uint16(_SYMBOLS * _SYMBOLS)
    trigram += symbols[1:-1] * np.uint16(_SYMBOLS)
    trigram += symbols[2:]
    ok = allowed.take(trigram)
    before = symbols[:-3]
    ok[1:] &= (before == 0) | (before == _SPACE)
    return np.flatnonzero(ok).tolist()


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[Any, Any]:
    """The symbol of every code point up to U+3001 (higher ones are 0), and the allowed
    trigrams as a lookup table."""
    from rlsp_rewards.exploration.chars import numpy

    np = numpy()
    table = np.zeros(0x3002, dtype=np.uint16)
    table[:] = [_symbol(chr(code)) for code in range(len(table))]
    allowed = np.zeros(_SYMBOLS**3, dtype=bool)
    for a, b, c in _marker_starts():
        allowed[(a * _SYMBOLS + b) * _SYMBOLS + c] = True
    return table, allowed


class BehaviourFields(TypedDict):
    """The :class:`~rlsp_rewards.core.RewardResult` fields of the behaviour counts."""

    backtracking: float
    verification: float
    alternatives: float


def behaviour_fields(text: str) -> BehaviourFields:
    """The behaviour counts of one response as result fields (floats); the one place rewards
    count behaviours, once per sample (in
    :meth:`~rlsp_rewards.exploration.length.LengthExploration.measure`, on the part of the
    response the measures read: :mod:`~rlsp_rewards.exploration.cap`).

    Example:
        >>> behaviour_fields("Wait, let me check.")
        {'backtracking': 1.0, 'verification': 1.0, 'alternatives': 0.0}
    """
    return as_fields(count_behaviours(text))


def as_fields(counts: dict[str, int]) -> BehaviourFields:
    """Behaviour counts as result fields (floats).

    Example:
        >>> as_fields({"backtracking": 1, "verification": 0, "alternatives": 2})
        {'backtracking': 1.0, 'verification': 0.0, 'alternatives': 2.0}
    """
    return {
        "backtracking": float(counts["backtracking"]),
        "verification": float(counts["verification"]),
        "alternatives": float(counts["alternatives"]),
    }
