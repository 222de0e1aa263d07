"""The battery of inputs every reward is called on: normal, empty, ``None``, huge, hostile.

Each :class:`Case` is a response, a gold answer and the prompt they belong to; :data:`CASES`
covers what a trainer really sends (an equivalent form, a worked-solution gold, a list of golds)
and what breaks rewards (a truncated response, unparseable gold, adversarial LaTeX, binary
junk). Pass your own to :func:`~rlsp_rewards.testing.check_reward` with ``cases=``.

Example:
    >>> [case.name for case in CASES[:3]]
    ['correct answer', 'wrong answer', 'equivalent form']
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["CASES", "Case"]

_PROMPT = "What is 1 + 1? Put the final answer in \\boxed{}."
_HUGE = "Let me think about this step by step. " * 10_000 + "So the answer is \\boxed{2}."
_JUNK = "".join(map(chr, range(256))) * 8 + "\x00\\boxed{\x00\x07}\ufffd"


@dataclasses.dataclass(frozen=True)
class Case:
    """One input of the battery: a response, a gold answer and the prompt they belong to.

    Example:
        >>> Case("empty response", "", "2").response
        ''
    """

    name: str
    response: str | None
    gold: Any
    prompt: str = _PROMPT


#: The battery of inputs every reward is called on, in order.
CASES: tuple[Case, ...] = (
    Case("correct answer", "1 + 1 = 2, so the answer is \\boxed{2}.", "2"),
    Case("wrong answer", "1 + 1 = 3, so the answer is \\boxed{3}.", "2"),
    Case("equivalent form", "Half of one is \\boxed{0.5}.", "\\frac{1}{2}"),
    Case("worked-solution gold", "The sum is \\boxed{2}.", "Adding gives $1+1=\\boxed{2}$."),
    Case("numeric gold", "The answer is \\boxed{2}.", 2),
    Case("list gold", "The answer is \\boxed{2}.", ["2", "two"]),
    Case("no final answer", "I am not sure how to do this.", "2"),
    Case("truncated response", "Let me compute. So x = \\boxed{\\frac{1", "2"),
    Case("empty response", "", "2"),
    Case("None response", None, "2"),
    Case("None gold", "The answer is \\boxed{2}.", None),
    Case("unparseable gold", "The answer is \\boxed{2}.", "\\frac{{}}{\\left( ]]"),
    Case("huge response", _HUGE, "2"),
    Case("unicode", "Rechnung: 1 + 1 = ２ ✓ 😀 数学 \u200b\u202eעברית\u202c \\boxed{２}", "2"),
    Case("nested LaTeX", "\\boxed{" + "\\frac{1}{" * 300 + "2" + "}" * 301, "2"),
    Case("unbalanced LaTeX", "\\boxed{\\sqrt{\\frac{1}{2" + "{" * 5000, "2"),
    Case("power tower", "\\boxed{9^{9^{9^{9^{9}}}}}", "9^{9^{9^{9^{9}}}}"),
    Case("binary junk", _JUNK, "2"),
)
