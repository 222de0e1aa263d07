"""Whole-reward shapes that read the outcome: ``cosine``, ``l1_exact`` and ``l1_max``.

Each of these formulas already contains the correctness ``v`` (1 when the verifier finds the
final answer right, else 0), so the shape's term *is* the score: RLSP's
``alpha * v + (1 - alpha) * R_ex`` sum is replaced, and ``alpha`` is not used. The outcome
``v``, ``acc`` and the RLSP length term ``length_term`` are still reported.

The L1 shapes need a target length ``n_gold`` per response, read by :func:`target_tokens`.

Example:
    >>> from rlsp_rewards.core import Sample
    >>> cosine = Cosine(CosineConfig(max_tokens=1000))
    >>> cosine.term(ShapeInput(0.0, True, Sample(response=""))), cosine.term(
    ...     ShapeInput(1000.0, False, Sample(response="")))
    (1.0, -0.5)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from rlsp_rewards.core import RewardConfig, Sample
from rlsp_rewards.exploration.shaping import MaxTokensConfig, Shape, ShapeInput, finite

__all__ = [
    "TARGET_KEY",
    "Cosine",
    "CosineConfig",
    "L1Config",
    "L1Exact",
    "L1Max",
    "target_tokens",
]

#: The ``extra_info`` key holding an L1 response's target length in tokens.
TARGET_KEY = "target_tokens"
#: L1's instruction in the prompt: "Think for N tokens." or "Think for maximum N tokens."
_TARGET_IN_PROMPT = re.compile(r"Think for (?:maximum )?(\d{1,9}) tokens")


class CosineConfig(MaxTokensConfig):
    """Settings of :class:`Cosine` (named as in open-r1's ``get_cosine_scaled_reward``).

    Attributes:
        max_tokens: ``L``, the length at which the schedule ends (see
            :class:`~rlsp_rewards.exploration.shaping.MaxTokensConfig`).
        cosine_max_value_correct: the reward of a correct response of length 0 (default 1.0).
        cosine_min_value_correct: ... of a correct response of length ``L`` or more (0.5).
        cosine_min_value_wrong: ... of a wrong response of length 0 (-1.0).
        cosine_max_value_wrong: ... of a wrong response of length ``L`` or more (-0.5).
        cosine_exceed_value: when set, the reward of any response with ``|o| >= L`` instead
            (the paper's exceed-length penalty; its authors used -10); ``None``: no such case.

    Example:
        >>> CosineConfig(cosine_exceed_value=-10).cosine_exceed_value
        -10.0
    """

    cosine_max_value_correct: float = 1.0
    cosine_min_value_correct: float = 0.5
    cosine_min_value_wrong: float = -1.0
    cosine_max_value_wrong: float = -0.5
    cosine_exceed_value: float | None = None

    @field_validator(
        "cosine_max_value_correct",
        "cosine_min_value_correct",
        "cosine_min_value_wrong",
        "cosine_max_value_wrong",
        "cosine_exceed_value",
    )
    @classmethod
    def _finite_cosine(cls, value: float | None, info: Any) -> float | None:
        return value if value is None else finite(info.field_name, value)


class Cosine(Shape):
    """The cosine length reward of "Demystifying Long Chain-of-Thought Reasoning in LLMs" (Yeo
    et al., 2025, arXiv 2502.03373), a whole-reward shape (``score = term``).

    With ``L = max_tokens`` and ``(v_min, v_max)`` = (``cosine_min_value_correct``,
    ``cosine_max_value_correct``) = (0.5, 1.0) for a correct response and
    (``cosine_max_value_wrong``, ``cosine_min_value_wrong``) = (-0.5, -1.0) for a wrong one::

        term = v_min + (v_max - v_min) * (1 + cos(pi * min(|o| / L, 1))) / 2

    so a short correct answer earns most, a short wrong answer loses most, and both approach their
    value at ``L`` as the response grows. With ``cosine_exceed_value`` set, ``|o| >= L`` scores
    that value instead.

    Followed: the formula above, with open-r1's defaults and setting names. Where they differ:
    open-r1 and the authors' code leave ``|o| / L`` unclamped, so past ``L`` the cosine turns
    back up (a wrong response at ``2L`` would score -1 again); the clamp keeps every response at
    or past ``L`` at its ``L`` value. The authors' code gives the exceed value when
    ``|o| + 16 >= L`` (a margin for their token counting); here ``|o| >= L``. open-r1 counts
    characters and gives 1.0 when the gold cannot be parsed; here ``|o|`` is in tokens and an
    unparseable gold is wrong (``gold_unparseable = 1``). The authors add their repetition
    penalty to wrong answers only; here ``repetition_max_penalty`` adds it to every response.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> shape = Cosine(CosineConfig(max_tokens=1000))
        >>> x = ShapeInput(500.0, True, Sample(response=""))
        >>> round(shape.term(x), 9)  # halfway: (0.5 + 1.0) / 2
        0.75
    """

    name = "cosine"
    formula = "v_min + (v_max - v_min) * (1 + cos(pi * min(|o|/L, 1))) / 2, by correctness"
    whole_reward = True

    def __init__(self, config: CosineConfig | None = None) -> None:
        self.config = config or CosineConfig()

    def term(self, x: ShapeInput) -> float:
        """The reward of one response."""
        cfg = self.config
        if cfg.cosine_exceed_value is not None and x.length >= cfg.max_tokens:
            return cfg.cosine_exceed_value
        if x.correct:
            at_limit, at_zero = cfg.cosine_min_value_correct, cfg.cosine_max_value_correct
        else:
            at_limit, at_zero = cfg.cosine_max_value_wrong, cfg.cosine_min_value_wrong
        progress = min(x.length / cfg.max_tokens, 1.0)
        return at_limit + (at_zero - at_limit) * (1.0 + math.cos(math.pi * progress)) / 2.0


class L1Config(RewardConfig):
    """Settings of :class:`L1Exact` and :class:`L1Max`.

    Attributes:
        l1_alpha: ``alpha`` of L1-Exact, >= 0: the penalty per token of distance to the target
            (the L1 paper: 0.0003).
        l1_beta: ``beta`` of L1-Max, >= 0: the slope of its clip (default 0.0003, see
            :class:`L1Max`).
        l1_delta: ``delta`` of L1-Max: the reward of a correct answer exactly at the target
            (the L1 paper: 0.5).

    Example:
        >>> L1Config().l1_alpha, L1Config().l1_delta
        (0.0003, 0.5)
    """

    l1_alpha: float = Field(default=0.0003, ge=0.0)
    l1_beta: float = Field(default=0.0003, ge=0.0)
    l1_delta: float = 0.5

    @field_validator("l1_alpha", "l1_beta", "l1_delta")
    @classmethod
    def _finite_l1(cls, value: float, info: Any) -> float:
        return finite(info.field_name, value)


def target_tokens(sample: Sample) -> float | None:
    """The L1 target length ``n_gold`` of a response, or None when it has none.

    Read from ``extra_info["target_tokens"]`` (a number >= 0) when present, else from the last
    "Think for N tokens." or "Think for maximum N tokens." in the prompt (L1's instruction).

    Example:
        >>> target_tokens(Sample(response="", prompt="2+2? Think for maximum 512 tokens."))
        512.0
        >>> target_tokens(Sample(response="", extra_info={"target_tokens": 300}))
        300.0
        >>> target_tokens(Sample(response="", prompt="2+2?")) is None
        True
    """
    info = sample.extra_info
    if isinstance(info, Mapping):
        try:
            value = info.get(TARGET_KEY)
        except Exception:  # a mapping whose reads raise
            value = None
        if value is not None:
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                return None
            return number if math.isfinite(number) and number >= 0 else None
    found = _TARGET_IN_PROMPT.findall(sample.prompt or "")
    return float(found[-1]) if found else None


class L1Exact(Shape):
    """L1-Exact (LCPO, Aggarwal and Welleck, 2025, arXiv 2503.04697), a whole-reward shape.

    With ``v`` = 1 for a correct answer, else 0, and ``n_gold`` = :func:`target_tokens`::

        term = v - alpha * |n_gold - |o||          (alpha = l1_alpha = 0.0003)

    Followed: the paper's Eq. 1, whose alpha is 0.0003 (its section 4, "fixed at 0.0003"; the
    released ``scripts/train/run_l1_exact.sh`` sets ``reward_config.alpha=0.0003``, and
    ``math_reward.py`` computes the same sum). A response without a target scores the error
    score with ``error = 1``: the shape is undefined without one.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> x = ShapeInput(1500.0, True, Sample(response="", extra_info={"target_tokens": 1000}))
        >>> round(L1Exact().term(x), 9)  # 1 - 0.0003 * 500
        0.85
    """

    name = "l1_exact"
    formula = "v - alpha * |n_gold - |o||"
    whole_reward = True

    def __init__(self, config: L1Config | None = None) -> None:
        self.config = config or L1Config()

    def term(self, x: ShapeInput) -> float | None:
        """The reward of one response, or None without a target length."""
        target = target_tokens(x.sample)
        if target is None:
            return None
        return float(x.correct) - self.config.l1_alpha * abs(target - x.length)


class L1Max(Shape):
    """L1-Max (LCPO's maximum-length mode, arXiv 2503.04697), a whole-reward shape.

    With ``v`` = 1 for a correct answer, else 0, and ``n_gold`` = :func:`target_tokens`::

        term = v * clip(beta * (n_gold - |o|) + delta, 0, 1)    (beta 0.0003, delta 0.5)

    so a correct answer within budget earns 0.5 to 1 (more when shorter) and one over budget
    loses 0.0003 per extra token down to 0; a wrong answer earns 0.

    Followed: the paper's Eq. 2 with its ``delta = 0.5``. The paper gives no separate slope for
    this mode (its alpha, 0.0003, is stated for Eq. 1), so ``beta`` defaults to the same 0.0003.
    Where they differ: the released ``math_reward.py`` (``get_delta_score_linear_both`` under
    ``multiplier_reward``) computes ``v * (clip(a * (n_gold - |o|), -1, 1) + 1) / 2``, the same
    form with ``beta = a / 2``; its ``run_l1_max.sh`` sets no ``a``. Set ``l1_beta`` to half of
    that code's alpha to reproduce it. A response without a target scores the error score with
    ``error = 1``.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> prompt = "2+2? Think for maximum 1000 tokens."
        >>> x = ShapeInput(500.0, True, Sample(response="", prompt=prompt))
        >>> round(L1Max().term(x), 9)  # 0.0003 * 500 + 0.5
        0.65
    """

    name = "l1_max"
    formula = "v * clip(beta * (n_gold - |o|) + delta, 0, 1)"
    whole_reward = True

    def __init__(self, config: L1Config | None = None) -> None:
        self.config = config or L1Config()

    def term(self, x: ShapeInput) -> float | None:
        """The reward of one response, or None without a target length."""
        target = target_tokens(x.sample)
        if target is None:
            return None
        if not x.correct:
            return 0.0
        cfg = self.config
        return min(max(cfg.l1_beta * (target - x.length) + cfg.l1_delta, 0.0), 1.0)
