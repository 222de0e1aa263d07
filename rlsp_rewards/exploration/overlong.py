"""DAPO's soft overlong punishment (``exploration="dapo_overlong"``): a length-only shape.

DAPO (Yu et al., 2025, arXiv 2503.14476, Eq. 13) penalises only responses that run into the
generation limit, linearly over the last ``B`` tokens before it, so that truncated responses stop
being noise in the reward. verl ships it in its ``dapo`` reward manager, TRL as
``get_soft_overlong_punishment``.

Example:
    >>> from rlsp_rewards.core import Sample
    >>> shape = DapoOverlong(DapoOverlongConfig(max_tokens=100, overlong_buffer_tokens=20))
    >>> shape.term(ShapeInput(90.0, False, Sample(response="")))
    -0.5
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from rlsp_rewards.exploration.shaping import MaxTokensConfig, Shape, ShapeInput, finite

__all__ = ["DapoOverlong", "DapoOverlongConfig"]


class DapoOverlongConfig(MaxTokensConfig):
    """Settings of :class:`DapoOverlong`.

    Attributes:
        max_tokens: ``L``, the generation limit (see
            :class:`~rlsp_rewards.exploration.shaping.MaxTokensConfig`).
        overlong_buffer_tokens: ``B``, the length of the soft band before ``L``, in (0, L];
            unset: a quarter of ``L`` (1024 for the default 4096). DAPO used L = 20480 with
            B = 4096: set both for that.
        overlong_penalty_factor: ``f`` >= 0, the penalty at ``L`` (verl's
            ``overlong_buffer_cfg.penalty_factor``; DAPO and TRL: 1).

    Example:
        >>> DapoOverlongConfig(max_tokens=20480, overlong_buffer_tokens=4096).buffer_tokens
        4096
        >>> DapoOverlongConfig(max_tokens=2048).buffer_tokens
        512
    """

    overlong_buffer_tokens: int | None = None
    overlong_penalty_factor: float = Field(default=1.0, ge=0.0)

    @field_validator("overlong_penalty_factor")
    @classmethod
    def _finite_factor(cls, value: float) -> float:
        return finite("overlong_penalty_factor", value)

    @property
    def buffer_tokens(self) -> int:
        """``B``: ``overlong_buffer_tokens``, or a quarter of ``max_tokens`` when unset."""
        buffer = self.overlong_buffer_tokens
        return max(1, self.max_tokens // 4) if buffer is None else buffer

    @model_validator(mode="after")
    def _buffer_within_limit(self) -> DapoOverlongConfig:
        buffer = self.overlong_buffer_tokens
        if buffer is not None and not 0 < buffer <= self.max_tokens:
            raise ValueError(
                f"overlong_buffer_tokens must be in (0, max_tokens={self.max_tokens}], got "
                f"{self.overlong_buffer_tokens} (DAPO used max_tokens=20480 with 4096)"
            )
        return self


class DapoOverlong(Shape):
    """DAPO's soft overlong punishment, an additive shape (``score = alpha*v + (1-alpha)*term``).

    With ``L = max_tokens``, ``B = overlong_buffer_tokens`` (default ``L / 4``) and
    ``f = overlong_penalty_factor``::

        term = 0                            if |o| <= L - B
        term = f * ((L - B) - |o|) / B      if L - B < |o| <= L
        term = -f                           if |o| > L

    Followed: DAPO's Eq. 13 (and TRL's ``get_soft_overlong_punishment``, which is the same with
    ``f = 1``), scaled by verl's ``penalty_factor``. Where they differ: verl's ``dapo`` manager
    computes ``min(-f * (|o| - (L - B)) / B, 0)``, which keeps falling past ``L``; in verl a
    response never exceeds ``L`` (generation stops there), so the two agree on every response
    verl produces. DAPO adds the term to a +1/-1 correctness reward at full weight; here it takes
    the place of RLSP's exploration term, weighted by ``1 - alpha`` like ``-C/|o|``.

    Example:
        >>> from rlsp_rewards.core import Sample
        >>> shape = DapoOverlong(DapoOverlongConfig(max_tokens=100, overlong_buffer_tokens=20,
        ...                                         overlong_penalty_factor=2.0))
        >>> [shape.term(ShapeInput(n, True, Sample(response=""))) for n in (80.0, 90.0, 150.0)]
        [0.0, -1.0, -2.0]
    """

    name = "dapo_overlong"
    formula = "0 if |o| <= L - B; f * ((L - B) - |o|) / B up to L; -f beyond L"

    def __init__(self, config: DapoOverlongConfig | None = None) -> None:
        self.config = config or DapoOverlongConfig()

    def term(self, x: ShapeInput) -> float:
        """The penalty of one response (0 when it ends well before the limit)."""
        cfg = self.config
        limit, buffer, factor = cfg.max_tokens, cfg.buffer_tokens, cfg.overlong_penalty_factor
        if x.length <= limit - buffer:
            return 0.0
        if x.length <= limit:
            return factor * ((limit - buffer) - x.length) / buffer
        return -factor
