"""Emergent-behaviour counters: backtracking, self-verification, alternative approaches.

The RLSP paper reports that these behaviours emerge as RL goes on. We count them per response
with fixed marker phrases, so every reward result can carry the three counts and a training
run's logs show them rising (or not).

A marker is a phrase from the lists below, matched case-insensitively, on word boundaries,
with any run of whitespace between its words and a straight or curly apostrophe. The text is
scanned once, left to right, by one precompiled regular expression; matches do not overlap, so
"let me verify" counts once (as verification), not twice. The pattern is a plain alternation
of literal phrases (no nested repetition), so the scan is linear in the text's length.

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

import re
from typing import TypedDict

from rlsp_rewards.core import BEHAVIOUR_KEYS

__all__ = ["BEHAVIOUR_KEYS", "MARKERS", "BehaviourFields", "behaviour_fields", "count_behaviours"]


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


def _compile() -> re.Pattern[str]:
    groups = []
    for key in BEHAVIOUR_KEYS:
        # Longest phrases first, so a phrase wins over a word it contains at the same position.
        phrases = sorted(MARKERS[key], key=len, reverse=True)
        body = "|".join(_phrase_pattern(p) for p in phrases)
        if key == "backtracking":
            body += "|" + _WAIT
        groups.append(f"(?P<{key}>{body})")
    # The text is lower-cased before the scan (faster than IGNORECASE); the lookahead on the
    # possible first letters rejects most positions before the alternation is tried.
    firsts = "".join(sorted({p[0].lower() for ps in MARKERS.values() for p in ps} | {"w"}))
    return re.compile(rf"\b(?=[{firsts}])(?:" + "|".join(groups) + r")\b")


_PATTERN = _compile()


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
    if not isinstance(text, str) or not text:
        return counts
    for match in _PATTERN.finditer(text.lower()):
        counts[match.lastgroup] += 1  # type: ignore[index]
    return counts


class BehaviourFields(TypedDict):
    """The :class:`~rlsp_rewards.core.RewardResult` fields of the behaviour counts."""

    backtracking: float
    verification: float
    alternatives: float


def behaviour_fields(text: str) -> BehaviourFields:
    """The behaviour counts of one response as result fields (floats); the one place rewards
    count behaviours, once per sample.

    Example:
        >>> behaviour_fields("Wait, let me check.")
        {'backtracking': 1.0, 'verification': 1.0, 'alternatives': 0.0}
    """
    counts = count_behaviours(text)
    return {
        "backtracking": float(counts["backtracking"]),
        "verification": float(counts["verification"]),
        "alternatives": float(counts["alternatives"]),
    }
