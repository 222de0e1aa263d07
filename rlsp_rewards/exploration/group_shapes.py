"""Group shapes: ``kimi`` and ``shorter_better`` score a response against the other responses to
the same prompt, so they work only where a whole group is scored at once.

:func:`group_key` says which group a response belongs to: ``extra_info["prompt_id"]`` when the
dataset row has one, else the prompt text. A batch (``RlspReward.score_batch``, the TRL adapter,
``rlsp-rewards score``, the server's ``/v1/score``) is split into groups by that key; a response
with neither has no group, and gets the reward's error score with ``error = 1``.

Example:
    >>> from rlsp_rewards.core import Sample
    >>> batch = [Sample(response="a", prompt="p"), Sample(response="b", prompt="q"),
    ...          Sample(response="c", prompt="p"), Sample(response="d")]
    >>> group_indices(batch)
    ({'prompt:p': [0, 2], 'prompt:q': [1]}, [3])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, field_validator

from rlsp_rewards.core import RewardConfig, Sample, as_text
from rlsp_rewards.exploration.shaping import Shape, ShapeInput, finite

__all__ = [
    "PROMPT_ID_KEY",
    "Kimi",
    "ShorterBetter",
    "ShorterBetterConfig",
    "group_indices",
    "group_key",
]

#: The ``extra_info`` key that names a response's prompt (its group), when the data has one.
PROMPT_ID_KEY = "prompt_id"


def group_key(sample: Sample) -> str | None:
    """The group a response belongs to: its prompt id, else its prompt text; None without both.

    Example:
        >>> group_key(Sample(response="", prompt="2+2?", extra_info={"prompt_id": 7}))
        'id:7'
        >>> group_key(Sample(response="", prompt="2+2?"))
        'prompt:2+2?'
    """
    info = sample.extra_info
    if isinstance(info, Mapping):
        try:
            prompt_id = info.get(PROMPT_ID_KEY)
        except Exception:  # a mapping whose reads raise
            prompt_id = None
        if prompt_id is not None:
            return f"id:{as_text(prompt_id)}"
    return None if sample.prompt is None else f"prompt:{sample.prompt}"


def group_indices(samples: Sequence[Sample]) -> tuple[dict[str, list[int]], list[int]]:
    """The positions of each group's responses (in first-seen order), and of those without one.

    Example:
        >>> group_indices([Sample(response="", prompt="p")] * 2)
        ({'prompt:p': [0, 1]}, [])
    """
    groups: dict[str, list[int]] = {}
    loose: list[int] = []
    for i, sample in enumerate(samples):
        key = group_key(sample)
        if key is None:
            loose.append(i)
        else:
            groups.setdefault(key, []).append(i)
    return groups, loose


class Kimi(Shape):
    """The length penalty of the Kimi k1.5 report (arXiv 2501.12599, section 2.3.3), an additive
    group shape (``score = alpha*v + (1-alpha)*term``).

    Over the responses to one prompt, with ``min`` and ``max`` their shortest and longest
    lengths::

        lam  = 0.5 - (|o| - min) / (max - min)
        term = lam             for a correct response
        term = min(0, lam)     for a wrong one
        term = 0               for every response when all lengths are equal

    so the shortest correct response gets +0.5, the longest -0.5, and a wrong response is never
    rewarded for being short.

    Followed: the report (per prompt, over its sampled responses, lengths in tokens), which adds
    the term to the outcome reward with a weight: here ``1 - alpha``. Where they differ:
    open-r1's ``len_reward`` takes ``min`` and ``max`` over the whole batch it is given (several
    prompts at once, in TRL), counts characters, and treats an unparseable gold as correct.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> s = Sample(response="")
        >>> rows = ((100.0, True), (200.0, True), (300.0, False))
        >>> group = [ShapeInput(n, ok, s) for n, ok in rows]
        >>> Kimi().terms(group)
        [0.5, 0.0, -0.5]
    """

    name = "kimi"
    formula = "lam = 0.5 - (|o| - min) / (max - min) in the group; right: lam, wrong: min(0, lam)"
    grouped = True

    def terms(self, group: Sequence[ShapeInput]) -> list[float | None]:
        """The terms of every response to one prompt."""
        lengths = [x.length for x in group]
        if not lengths:
            return []
        shortest, longest = min(lengths), max(lengths)
        if longest == shortest:
            return [0.0] * len(group)
        span = longest - shortest
        out: list[float | None] = []
        for x in group:
            lam = 0.5 - (x.length - shortest) / span
            out.append(lam if x.correct else min(0.0, lam))
        return out


class ShorterBetterConfig(RewardConfig):
    """Settings of :class:`ShorterBetter`.

    Attributes:
        sb_alpha: the reward of a correct answer (the paper and its code: 2.0).
        sb_beta: the penalty per token of distance to the sample optimal length, >= 0 (0.001).

    Example:
        >>> ShorterBetterConfig(sb_alpha=1.0).sb_beta
        0.001
    """

    sb_alpha: float = 2.0
    sb_beta: float = Field(default=0.001, ge=0.0)

    @field_validator("sb_alpha", "sb_beta")
    @classmethod
    def _finite_sb(cls, value: float, info: Any) -> float:
        return finite(info.field_name, value)


class ShorterBetter(Shape):
    """ShorterBetter (Yi, Wang and Li, 2025, arXiv 2504.21370), a whole-reward group shape.

    Over the responses to one prompt, the sample optimal length ``l_sol`` is the length of the
    shortest correct response, or the mean length of all of them when none is correct; with
    ``v`` = 1 for a correct answer, else 0::

        term = sb_alpha * v - sb_beta * | |o| - l_sol |        (sb_alpha 2.0, sb_beta 0.001)

    Followed: the paper's reward, with the constants of its released training code (its verl
    ``naive`` reward manager: ``alpha = 2.0``, ``beta = 0.001``, lengths in response tokens,
    grouped by prompt); the paper and the code agree.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> s = Sample(response="")
        >>> rows = ((100.0, False), (300.0, True), (500.0, True))
        >>> group = [ShapeInput(n, ok, s) for n, ok in rows]
        >>> [round(t, 9) for t in ShorterBetter().terms(group)]  # l_sol = 300
        [-0.2, 2.0, 1.8]
    """

    name = "shorter_better"
    formula = "sb_alpha * v - sb_beta * | |o| - l_sol |, l_sol: shortest right (else mean) |o|"
    whole_reward = True
    grouped = True

    def __init__(self, config: ShorterBetterConfig | None = None) -> None:
        self.config = config or ShorterBetterConfig()

    def terms(self, group: Sequence[ShapeInput]) -> list[float | None]:
        """The terms of every response to one prompt."""
        if not group:
            return []
        correct = [x.length for x in group if x.correct]
        optimal = min(correct) if correct else math.fsum(x.length for x in group) / len(group)
        cfg = self.config
        return [
            cfg.sb_alpha * float(x.correct) - cfg.sb_beta * abs(x.length - optimal) for x in group
        ]
