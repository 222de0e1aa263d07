"""Exploration terms: how a response is rewarded for what it explores, whatever its answer.

* :mod:`~rlsp_rewards.exploration.length`: the RLSP length term ``-C/|o|`` (and its guard);
* :mod:`~rlsp_rewards.exploration.tokens`: exact token counts with a local tokenizer;
* :mod:`~rlsp_rewards.exploration.repetition`: how much of a response repeats itself;
* :mod:`~rlsp_rewards.exploration.scan`: that and the behaviour counts, for one response or,
  over worker processes, a batch;
* :mod:`~rlsp_rewards.exploration.cap`: how much of a huge response the measures read;
* :mod:`~rlsp_rewards.exploration.chars`: a text as a numpy array of code points.
* :mod:`~rlsp_rewards.exploration.shapes`: the length shapes of the related work behind
  ``exploration=`` (``dapo_overlong``, ``cosine``, ``kimi``, ``l1_exact``, ``l1_max``,
  ``shorter_better``, ``repetition_penalty``), by family: :mod:`.overlong`,
  :mod:`.outcome_shapes`, :mod:`.group_shapes`, :mod:`.repetition_penalty`, on the common
  ground of :mod:`.shaping`.

The LLM judge, the other RLSP exploration term, has its own folder: :mod:`rlsp_rewards.judge`.

Example:
    >>> from rlsp_rewards.exploration import LengthExploration
    >>> LengthExploration()(solution_str="...", response_tokens=1000)["score"]
    -1.0
"""

from __future__ import annotations

from rlsp_rewards.exploration.length import LengthConfig, LengthExploration, LengthMeasure, length

__all__ = ["LengthConfig", "LengthExploration", "LengthMeasure", "length"]
