"""The length shapes by name, and how :class:`~rlsp_rewards.combine.RlspReward` applies one.

``exploration=<name>`` picks the shape; every shape fills the same fixed result keys (its term in
``shape_term``, 0.0 where unused), so switching shapes never changes the key set.

======================  =====================================================  ==============
name                    term (``|o|`` response tokens, ``v`` 0/1 outcome)       score
======================  =====================================================  ==============
``length`` (RLSP)       ``-C/|o|``, reported as ``length_term``                 additive
``dapo_overlong``       DAPO's soft overlong punishment                         additive
``cosine``              cosine schedule between per-outcome values              whole reward
``kimi`` (group)        Kimi k1.5's ``0.5 - (|o|-min)/(max-min)``               additive
``l1_exact``            ``v - alpha*|n_gold - |o||``                            whole reward
``l1_max``              ``v * clip(beta*(n_gold - |o|) + delta, 0, 1)``         whole reward
``shorter_better``      ``2v - 0.001*||o| - l_sol|`` (group)                    whole reward
``repetition_penalty``  ``(1 - unique/total n-grams) * p``                      additive
======================  =====================================================  ==============

*Additive*: ``score = alpha*v + (1-alpha)*shape_term`` (the shape takes the place of RLSP's
exploration term). *Whole reward*: ``score = shape_term`` (the formula holds the correctness;
``alpha`` is not used). Formulas, constants and sources: each shape's class docstring.

The repetition penalty can also be added to any other shape: with ``repetition_max_penalty``
set, its value ``P`` joins the shape's term, ``shape_term = term + P`` (so an additive shape's
``P`` is weighted by ``1 - alpha``, a whole-reward shape's is not); with ``length``,
``shape_term = P`` and ``score = alpha*v + (1-alpha)*(length_term + P)``.

Example:
    >>> from rlsp_rewards.core import RewardResult, Sample
    >>> shaper = Shaper("cosine", alpha=0.8, config=ShapeConfig(max_tokens=1000))
    >>> out = shaper.apply(RewardResult(acc=1.0, outcome=1.0, length=500.0), Sample(response=""))
    >>> round(out.score, 9), round(out.shape_term, 9)
    (0.75, 0.75)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TypeVar

from rlsp_rewards.core import RewardConfig, RewardResult, Sample
from rlsp_rewards.exploration.group_shapes import (
    PROMPT_ID_KEY,
    Kimi,
    ShorterBetter,
    ShorterBetterConfig,
    group_indices,
)
from rlsp_rewards.exploration.outcome_shapes import Cosine, CosineConfig, L1Config, L1Exact, L1Max
from rlsp_rewards.exploration.overlong import DapoOverlong, DapoOverlongConfig
from rlsp_rewards.exploration.repetition_penalty import (
    RepetitionPenalty,
    RepetitionPenaltyConfig,
    RepetitionPenaltyShape,
)
from rlsp_rewards.exploration.shaping import Shape, ShapeInput

__all__ = [
    "GROUP_SHAPES",
    "SHAPE_NAMES",
    "SHAPE_TYPES",
    "ShapeConfig",
    "Shaper",
    "build_shape",
]

logger = logging.getLogger("rlsp_rewards")

#: Every length shape by its ``exploration`` name, in the order the docs list them, with its
#: class (``length`` is RLSP's own term, computed by the reward itself).
SHAPE_TYPES: dict[str, type[Shape] | None] = {
    "length": None,
    "dapo_overlong": DapoOverlong,
    "cosine": Cosine,
    "kimi": Kimi,
    "l1_exact": L1Exact,
    "l1_max": L1Max,
    "shorter_better": ShorterBetter,
    "repetition_penalty": RepetitionPenaltyShape,
}
#: The names of :data:`SHAPE_TYPES`.
SHAPE_NAMES: tuple[str, ...] = tuple(SHAPE_TYPES)
#: The shapes that score a response against the other responses to its prompt.
GROUP_SHAPES: frozenset[str] = frozenset(n for n, t in SHAPE_TYPES.items() if t and t.grouped)

C = TypeVar("C", bound=RewardConfig)


class ShapeConfig(
    DapoOverlongConfig, CosineConfig, L1Config, ShorterBetterConfig, RepetitionPenaltyConfig
):
    """Every shape's settings, flat (they are part of :class:`~rlsp_rewards.combine.RlspConfig`).

    See :class:`~rlsp_rewards.exploration.overlong.DapoOverlongConfig` (``max_tokens``,
    ``overlong_buffer_tokens``, ``overlong_penalty_factor``),
    :class:`~rlsp_rewards.exploration.outcome_shapes.CosineConfig` (``cosine_*``),
    :class:`~rlsp_rewards.exploration.outcome_shapes.L1Config` (``l1_alpha``, ``l1_beta``,
    ``l1_delta``), :class:`~rlsp_rewards.exploration.group_shapes.ShorterBetterConfig`
    (``sb_alpha``, ``sb_beta``) and
    :class:`~rlsp_rewards.exploration.repetition_penalty.RepetitionPenaltyConfig`
    (``repetition_max_penalty``, ``repetition_penalty_ngram``, ``repetition_penalty_unit``).

    Example:
        >>> ShapeConfig(max_tokens=2048, sb_alpha=1.0).buffer_tokens
        512
    """


def _part(config: ShapeConfig, part: type[C]) -> C:
    return part.model_validate({name: getattr(config, name) for name in part.model_fields})


def build_shape(name: str, config: ShapeConfig, tokenizer: str | None = None) -> Shape | None:
    """The shape called ``name`` with its settings from ``config``; None for RLSP's own terms
    (``length``, ``judge``, ``length+judge``, ``none``), which the reward computes itself.

    Raises:
        ValueError: for ``repetition_penalty_unit="tokens"`` without a tokenizer.

    Example:
        >>> build_shape("kimi", ShapeConfig()).grouped, build_shape("length", ShapeConfig())
        (True, None)
    """
    if name == "dapo_overlong":
        return DapoOverlong(_part(config, DapoOverlongConfig))
    if name == "cosine":
        return Cosine(_part(config, CosineConfig))
    if name == "kimi":
        return Kimi()
    if name == "l1_exact":
        return L1Exact(_part(config, L1Config))
    if name == "l1_max":
        return L1Max(_part(config, L1Config))
    if name == "shorter_better":
        return ShorterBetter(_part(config, ShorterBetterConfig))
    if name == "repetition_penalty":
        return RepetitionPenaltyShape(
            RepetitionPenalty(_part(config, RepetitionPenaltyConfig), tokenizer)
        )
    return None


class Shaper:
    """The chosen shape and the added repetition penalty, applied to RLSP's per-sample results.

    :meth:`apply` finishes one response (per-sample shapes; for a group shape it records the
    added penalty, and :meth:`group_pass` finishes the batch). With ``length``, ``judge`` or
    ``none`` and no added penalty both leave the results as they are.

    Args:
        exploration: the ``exploration`` setting.
        alpha: the outcome's weight in additive shapes.
        config: the shape settings.
        tokenizer: the ``tokenizer`` setting (for ``repetition_penalty_unit="tokens"``).
        error_score: the score of a response the shape cannot score (no target, no group).

    Raises:
        ValueError: for ``repetition_penalty_unit="tokens"`` without a tokenizer.

    Example:
        >>> Shaper("kimi", alpha=0.8).grouped, Shaper("length", alpha=0.8).grouped
        (True, False)
    """

    def __init__(
        self,
        exploration: str,
        alpha: float,
        config: ShapeConfig | None = None,
        tokenizer: str | None = None,
        error_score: float = 0.0,
    ) -> None:
        config = config or ShapeConfig()
        self.exploration = exploration
        self.alpha = alpha
        self.error_score = error_score
        self.shape = build_shape(exploration, config, tokenizer)
        added = config.repetition_max_penalty is not None and exploration != "repetition_penalty"
        self.penalty = (
            RepetitionPenalty(_part(config, RepetitionPenaltyConfig), tokenizer) if added else None
        )
        self._warned_loose = False

    @property
    def grouped(self) -> bool:
        """True for a group shape (``kimi``, ``shorter_better``)."""
        return self.shape is not None and self.shape.grouped

    def per_sample_problem(self) -> str | None:
        """Why this shape cannot score one sample on its own, or None when it can.

        Example:
            >>> Shaper("dapo_overlong", alpha=0.8).per_sample_problem() is None
            True
        """
        if not self.grouped:
            return None
        per_sample = ", ".join(n for n in SHAPE_NAMES if n not in GROUP_SHAPES)
        return (
            f"exploration={self.exploration!r} scores each response against the other responses "
            "to its prompt (a group shape), so it cannot score one sample on its own: score "
            "whole groups with RlspReward.score_batch (the TRL adapter, `rlsp-rewards score` and "
            f"the server's /v1/score do), or choose a per-sample shape ({per_sample})"
        )

    # -- one response -------------------------------------------------------------------------

    def apply(self, result: RewardResult, sample: Sample) -> RewardResult:
        """One response's result with the shape's term and score (see the module docstring)."""
        if self.shape is None and self.penalty is None:
            return result
        added, failed = self.penalty.measure(sample.response) if self.penalty else (0.0, False)
        error = max(result.error, float(failed))
        if self.shape is None:  # RLSP's length term: the penalty joins it
            score = result.score + (1.0 - self.alpha) * added
            return dataclasses.replace(result, score=score, shape_term=added, error=error)
        if self.shape.grouped:  # the penalty, until group_pass adds the group's term
            return dataclasses.replace(result, shape_term=added, error=error)
        return self._finish(result, self.shape.term(_input(result, sample)), added, error)

    def _finish(
        self, result: RewardResult, term: float | None, added: float, error: float
    ) -> RewardResult:
        assert self.shape is not None
        if term is None:  # the shape is undefined for this response (e.g. no L1 target)
            return dataclasses.replace(result, score=self.error_score, shape_term=0.0, error=1.0)
        shaped = term + added
        score = self.shape.total(self.alpha, result.outcome, shaped)
        return dataclasses.replace(result, score=score, shape_term=shaped, error=error)

    # -- a batch of groups --------------------------------------------------------------------

    def group_pass(
        self, samples: Sequence[Sample], results: Sequence[RewardResult], failed: Sequence[bool]
    ) -> list[RewardResult]:
        """The results of a batch finished by a group shape, group by group.

        Args:
            samples: the batch.
            results: their results from :meth:`apply`, in order.
            failed: for each, whether scoring it failed (it then keeps its error result and
                takes no part in its group).

        Returns:
            The results, each with the group's term: a response without a prompt id or prompt
            gets the error score with ``error = 1``.

        Example:
            >>> shaper = Shaper("kimi", alpha=0.8)
            >>> batch = [Sample(response="", prompt="p")] * 2
            >>> results = [RewardResult(acc=1.0, outcome=1.0, length=n) for n in (10.0, 30.0)]
            >>> [round(r.score, 9) for r in shaper.group_pass(batch, results, [False, False])]
            [0.9, 0.7]
        """
        out = list(results)
        if self.shape is None or not self.shape.grouped:
            return out
        groups, loose = group_indices(samples)
        loose = [i for i in loose if not failed[i]]
        for i in loose:
            out[i] = dataclasses.replace(out[i], score=self.error_score, shape_term=0.0, error=1.0)
        if loose and not self._warned_loose:
            self._warned_loose = True
            logger.warning(
                "exploration=%r: %d of %d samples have neither extra_info[%r] nor a prompt, so "
                "they belong to no group; they score %s with error=1 (pass the prompt, or a "
                "prompt id, with every sample)",
                self.exploration,
                len(loose),
                len(samples),
                PROMPT_ID_KEY,
                self.error_score,
            )
        for members in groups.values():
            members = [i for i in members if not failed[i]]
            terms = self.shape.terms([_input(out[i], samples[i]) for i in members])
            for i, term in zip(members, terms, strict=True):
                out[i] = self._finish(out[i], term, out[i].shape_term, out[i].error)
        return out


def _input(result: RewardResult, sample: Sample) -> ShapeInput:
    return ShapeInput(length=result.length, correct=result.acc == 1.0, sample=sample)
