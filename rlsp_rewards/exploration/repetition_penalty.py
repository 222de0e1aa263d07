"""The n-gram repetition penalty (``exploration="repetition_penalty"``, or added to any shape).

``(1 - unique n-grams / total n-grams) * p`` with ``p <= 0``: 0 for a response that never
repeats an n-gram, approaching ``p`` for one that repeats nothing else. It comes from Appendix C.2
of "Demystifying Long Chain-of-Thought Reasoning in LLMs" (arXiv 2502.03373); TRL ships it as
``get_repetition_penalty_reward`` and open-r1 as ``get_repetition_penalty_reward``.

This is not the ``guarded`` preset's repetition guard (:mod:`rlsp_rewards.exploration.repetition`,
reported as ``repetition``): that one discounts the length; this one is a penalty term.

Example:
    >>> ngram_penalty([1, 2, 3, 4], ngram=2, max_penalty=-1.0)
    0.0
    >>> ngram_penalty([5, 5, 5, 5, 5], ngram=2, max_penalty=-1.0)
    -0.75
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Literal

from pydantic import Field, field_validator

from rlsp_rewards.core import RewardConfig, recoverable
from rlsp_rewards.exploration.shaping import Shape, ShapeInput, finite
from rlsp_rewards.exploration.tokens import TokenCounter, TokenizerLoadError

__all__ = [
    "DEFAULT_MAX_PENALTY",
    "RepetitionPenalty",
    "RepetitionPenaltyConfig",
    "RepetitionPenaltyShape",
    "ngram_penalty",
]

logger = logging.getLogger("rlsp_rewards")

#: ``p`` of the shape used alone when ``repetition_max_penalty`` is not set (TRL's default).
DEFAULT_MAX_PENALTY = -1.0


class RepetitionPenaltyConfig(RewardConfig):
    """Settings of the repetition penalty.

    Attributes:
        repetition_max_penalty: ``p`` <= 0, the penalty of a response made of one repeated
            n-gram. Unset (``None``): the shape ``repetition_penalty`` uses -1.0 (TRL's default)
            and no other shape adds it; set: every other shape adds it to its term.
        repetition_penalty_ngram: ``n``, the n-gram size, >= 1 (TRL and open-r1: 3).
        repetition_penalty_unit: ``"words"`` (lower-cased, split on whitespace, as open-r1 and
            the paper's authors count) or ``"tokens"`` (token ids, as TRL 1.16 counts; needs the
            ``tokenizer`` setting).

    Example:
        >>> RepetitionPenaltyConfig(repetition_max_penalty=-0.5).repetition_penalty_ngram
        3
    """

    repetition_max_penalty: float | None = Field(default=None, le=0.0)
    repetition_penalty_ngram: int = Field(default=3, ge=1, le=1024)
    repetition_penalty_unit: Literal["words", "tokens"] = "words"

    @field_validator("repetition_max_penalty")
    @classmethod
    def _finite_penalty(cls, value: float | None) -> float | None:
        return value if value is None else finite("repetition_max_penalty", value)


def ngram_penalty(pieces: Sequence[Hashable], ngram: int, max_penalty: float) -> float:
    """``(1 - unique / total) * max_penalty`` over the ``ngram``-grams of ``pieces``.

    A sequence shorter than ``ngram`` has no n-gram and gets 0.0 (never -0.0).

    Example:
        >>> ngram_penalty("a b a b a b".split(), ngram=2, max_penalty=-1.0)  # 2 unique of 5
        -0.6
    """
    windows = len(pieces) - ngram + 1
    if windows < 1:
        return 0.0
    unique = len(set(zip(*(pieces[k:] for k in range(ngram)), strict=False)))
    scaling = 1.0 - unique / windows
    return scaling * max_penalty if scaling else 0.0


class RepetitionPenalty:
    """Measures one response's repetition penalty with the configured unit and ``p``.

    Args:
        config: the penalty's settings.
        tokenizer: the tokenizer path (the ``tokenizer`` setting), needed for ``"tokens"``.
        max_penalty: ``p`` (default: ``config.repetition_max_penalty``, else -1.0).

    Raises:
        ValueError: for ``"tokens"`` without a tokenizer.
        DependencyError: for ``"tokens"`` without ``transformers`` installed.

    Example:
        >>> RepetitionPenalty(RepetitionPenaltyConfig()).measure("the cat the cat the cat")
        (-0.5, False)
    """

    def __init__(
        self,
        config: RepetitionPenaltyConfig,
        tokenizer: str | None = None,
        max_penalty: float | None = None,
    ) -> None:
        self.config = config
        chosen = config.repetition_max_penalty if max_penalty is None else max_penalty
        self.max_penalty = DEFAULT_MAX_PENALTY if chosen is None else chosen
        self._counter: TokenCounter | None = None
        if config.repetition_penalty_unit == "tokens":
            if tokenizer is None:
                raise ValueError(
                    "repetition_penalty_unit='tokens' counts token ids, which needs the "
                    "tokenizer setting (a local tokenizer path); or use 'words'"
                )
            self._counter = TokenCounter(tokenizer)

    def measure(self, text: str) -> tuple[float, bool]:
        """The penalty of a response, and whether its tokenizer failed (the penalty is then 0).

        Example:
            >>> RepetitionPenalty(RepetitionPenaltyConfig()).measure("")
            (0.0, False)
        """
        n = self.config.repetition_penalty_ngram
        if self._counter is None:
            return ngram_penalty(text.lower().split(), n, self.max_penalty), False
        try:
            ids = self._counter.ids(text)
        except TokenizerLoadError:  # logged once when loading failed; counted in ``error``
            return 0.0, True
        except BaseException as exc:  # one text the tokenizer refuses (or panics on)
            if not recoverable(exc):
                raise
            logger.warning(
                "repetition penalty: tokenizing failed (%s); penalty 0", type(exc).__name__
            )
            return 0.0, True
        return ngram_penalty(ids, n, self.max_penalty), False


class RepetitionPenaltyShape(Shape):
    """The repetition penalty as a shape of its own: additive, ``alpha*v + (1-alpha)*term``.

    ``term = (1 - unique n-grams / total n-grams) * p`` (``n = repetition_penalty_ngram``,
    default 3; ``p = repetition_max_penalty``, default -1.0). With no n-gram (a response of fewer
    than ``n`` pieces) the term is 0.

    Followed: TRL 1.16's ``get_repetition_penalty_reward`` (token ids; ``unit="tokens"``) and
    open-r1's (lower-cased words, empty text 0; ``unit="words"``, the default, which needs no
    tokenizer); the two differ only in the unit. The paper's authors apply it to wrong answers
    only, inside their cosine reward; here it applies to every response.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> shape = RepetitionPenaltyShape(RepetitionPenalty(RepetitionPenaltyConfig()))
        >>> shape.term(ShapeInput(6.0, True, Sample(response="go go go go go go")))
        -0.75
    """

    name = "repetition_penalty"
    formula = "(1 - unique n-grams / total n-grams) * p"

    def __init__(self, penalty: RepetitionPenalty) -> None:
        self.penalty = penalty

    def term(self, x: ShapeInput) -> float | None:
        """The penalty of one response, or None when its tokenizer failed."""
        value, failed = self.penalty.measure(x.sample.response)
        return None if failed else value
