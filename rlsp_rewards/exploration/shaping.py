"""What every length shape shares: the input it sees, its kind, and how its term becomes a score.

A *shape* maps a response's length in tokens (``|o|``, from
:class:`~rlsp_rewards.exploration.length.LengthMeasure`), and for some shapes its correctness
``v`` and the other responses to the same prompt, to a number: the shape's term, reported as
``shape_term``. Shapes are of two kinds, and the kind says how the term enters the score:

* **additive** shapes (``dapo_overlong``, ``kimi``, ``repetition_penalty``) take the place of
  RLSP's exploration term: ``score = alpha * v + (1 - alpha) * shape_term``;
* **whole-reward** shapes (``cosine``, ``l1_exact``, ``l1_max``, ``shorter_better``) already
  hold the correctness in their formula: ``score = shape_term``, and ``alpha`` is not used.

A *group* shape (``kimi``, ``shorter_better``) needs every response to the prompt at once
(:meth:`Shape.terms` on the whole group); the others score one response at a time
(:meth:`Shape.term`). A term of ``None`` means the shape cannot score that response (an L1
shape without a target length): the reward then gives its error score with ``error = 1``.

Example:
    >>> from rlsp_rewards.core import Sample
    >>> x = ShapeInput(length=120.0, correct=True, sample=Sample(response="..."))
    >>> x.length, x.correct
    (120.0, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import ClassVar

from pydantic import field_validator

from rlsp_rewards.core import RewardConfig, Sample

__all__ = ["MaxTokensConfig", "Shape", "ShapeInput", "finite"]


@dataclasses.dataclass(frozen=True, slots=True)
class ShapeInput:
    """What a shape sees of one response.

    Attributes:
        length: ``|o|``, the response length in tokens (the length measure's ``length``:
            exact when the framework passed a count, else a tokenizer's or characters / 4).
        correct: whether the verifier found the final answer right (``acc == 1``).
        sample: the response itself (its text, prompt and ``extra_info``).

    Example:
        >>> ShapeInput(10.0, False, Sample(response="x")).sample.response
        'x'
    """

    length: float
    correct: bool
    sample: Sample


class Shape:
    """Base of the length shapes: one response's term, or a whole group's terms.

    Subclasses set the class attributes and implement :meth:`term` (per-sample shapes) or
    :meth:`terms` (group shapes).

    Attributes:
        name: the value of the ``exploration`` setting that selects the shape.
        formula: the term, in one line (shown by ``rlsp-rewards compare``).
        whole_reward: True when the term is the whole reward (it includes correctness).
        grouped: True when the term depends on the other responses to the same prompt.

    Example:
        >>> class Half(Shape):
        ...     name, formula = "half", "|o| / 2"
        ...     def term(self, x):
        ...         return x.length / 2
        >>> round(Half().total(alpha=0.8, v=1.0, term=5.0), 9)  # additive: 0.8*1 + 0.2*5
        1.8
    """

    name: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    whole_reward: ClassVar[bool] = False
    grouped: ClassVar[bool] = False

    def term(self, x: ShapeInput) -> float | None:
        """The term of one response (per-sample shapes), or None when it cannot be computed."""
        raise NotImplementedError(f"{type(self).__name__} scores whole groups: call terms()")

    def terms(self, group: Sequence[ShapeInput]) -> list[float | None]:
        """The terms of every response to one prompt, in order (per-sample shapes: one each)."""
        return [self.term(x) for x in group]

    def total(self, alpha: float, v: float, term: float) -> float:
        """The score of a response from its outcome ``v`` and its term (see the module doc)."""
        return term if self.whole_reward else alpha * v + (1.0 - alpha) * term

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MaxTokensConfig(RewardConfig):
    """The generation limit ``L`` that ``dapo_overlong`` and ``cosine`` measure lengths against.

    Attributes:
        max_tokens: ``L``, in tokens: the most a response may have (verl's
            ``data.max_response_length``, TRL's ``max_completion_length``); default 4096, the
            RLSP paper's generation limit.

    Example:
        >>> MaxTokensConfig(max_tokens=8192).max_tokens
        8192
    """

    max_tokens: int = 4096

    @field_validator("max_tokens")
    @classmethod
    def _positive_max_tokens(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"max_tokens must be >= 1 (the generation limit, e.g. 4096), got {value}"
            )
        return value


def finite(name: str, value: float) -> float:
    """``value`` if it is a finite number; else a ValueError naming the setting.

    Example:
        >>> finite("l1_alpha", 0.0003)
        0.0003
    """
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value
