"""Answers that are not one answer, and a choice named after an answer.

* :func:`is_hedged`: an answer that hedges between candidates (``5 \\text{ or maybe } 6``,
  ``either 3 or 4``, ``3 or possibly 4``) or lists every option of a multiple choice
  (``(A), (B), (C), (D)``). One candidate said with doubt (``probably 5``) is an answer.
* :func:`offers_alternative`: text right after an answer that offers another candidate for
  it (``..., though it could also be 1/2``); an equivalent form (``could also be written as
  0.25``) is not one.
* :func:`named_choice`: the option letter the sentence after an answer names as the choice
  (``48, which is option (D)``).

All of them read a bounded window (a few hundred characters).

Example:
    >>> is_hedged("either 3 or 4"), offers_alternative(", or maybe 6."), named_choice(" (option B)")
    (True, True, 'B')
"""

from __future__ import annotations

import re

from rlsp_rewards.outcome.sentences import sentence_end

__all__ = ["is_hedged", "named_choice", "offers_alternative"]

#: An answer that offers more than one candidate.
_HEDGED = re.compile(
    r"\bor\s+(?:maybe|perhaps|possibly|probably|even|else)\b|\beither\b.{0,80}?\bor\b|"
    r"\b(?:could|might|may)\s+also\s+be\b|\bor\s+it\s+(?:could|might|may)\s+be\b",
    re.IGNORECASE | re.DOTALL,
)
#: Another candidate offered after an answer: the answer ("it", "this") could be something else,
#: or "or maybe" another one, and a value right after. "n could be 1 or 2, but 1 fails" speaks
#: of something else and is no hedge.
_ALTERNATIVE = re.compile(
    r"(?:\b(?:it|this|that|the\s+answer)\s+(?:could|might|may)\s+"
    r"(?:also\s+|instead\s+|equally\s+|just\s+as\s+well\s+)?be|"
    r"\b(?:could|might|may)\s+also\s+be|\bor\s+(?:maybe|perhaps|possibly|probably|even))"
    r"(?:\s+(?:it's|it\s+is|the\s+answer\s+is|equal\s+to))?\s*"
    r"(?:[$\\\d\-]|\((?-i:[A-J])\)|\(\s*-?\d|(?-i:[A-J])\b)",
    re.IGNORECASE,
)
_OPTION_LIST = re.compile(r"\s*(?:,|;|/|\bor\b|\band\b|\\quad)\s*")
_OPTION_WRAPPING = re.compile(r"\\text(?:bf|rm)?\{|\\mathrm\{|[{}()\s]")
_NAMED_CHOICE = re.compile(
    r"\b(?:option|choice)\s*\(?\s*((?-i:[A-J]))\s*\)?(?![A-Za-z])", re.IGNORECASE
)


def is_hedged(answer: str) -> bool:
    """Whether an answer is not one answer: it hedges, or it lists every option.

    Example:
        >>> is_hedged(r"5 \\text{ or maybe } 6"), is_hedged("either 3 or 4"), is_hedged("3, 4")
        (True, True, False)
        >>> is_hedged("(A), (B), (C), (D)")
        True
    """
    head = answer[:2_000].lower()
    if ("or" in head or "also" in head) and _HEDGED.search(head):
        return True
    return _every_option(answer)


def offers_alternative(context: str) -> bool:
    """Whether text right after an answer offers another candidate for it.

    Example:
        >>> offers_alternative(r"$, though it could also be $\\frac{1}{2}$.")
        True
        >>> offers_alternative(", which could also be written as 0.25.")
        False
    """
    head = context[:300]
    lowered = head.lower()
    if not any(word in lowered for word in ("could", "might", "may", "or")):
        return False
    return _ALTERNATIVE.search(head) is not None


def named_choice(context: str) -> str | None:
    """The option letter the first sentence of ``context`` names as the choice, or ``None``.

    Example:
        >>> named_choice(", which is option (D). Next...")
        'D'
    """
    lowered = context[:300].lower()
    if "option" not in lowered and "choice" not in lowered:
        return None
    cut = sentence_end(context)
    sentence = context[: cut if cut >= 0 else 300]
    match = _NAMED_CHOICE.search(sentence)
    return match.group(1) if match else None


def _every_option(answer: str) -> bool:
    """Whether an answer lists four or more option letters, A to D among them."""
    if len(answer) > 200 or "D" not in answer or "A" not in answer:
        return False
    letters = set()
    for part in _OPTION_LIST.split(answer):
        part = _OPTION_WRAPPING.sub("", part)
        if len(part) == 1 and part in "ABCDEFGHIJ":
            letters.add(part)
        elif part:
            return False
    return len(letters) >= 4 and set("ABCD") <= letters
