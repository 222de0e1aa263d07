"""The LLM judge: an independent model grades a response's reasoning effort in [0, 1].

* :mod:`~rlsp_rewards.judge.reward`: :class:`JudgeExploration`, the reward (budget, cache,
  fallback grade);
* :mod:`~rlsp_rewards.judge.prompt`: the rubric, the prompt and the reading of the judge's reply;
* :mod:`~rlsp_rewards.judge.client`: the OpenAI-compatible chat client on aiohttp (budgets,
  retries, ``Retry-After``);
* :mod:`~rlsp_rewards.judge.loops`: where the calls run (each event loop's sessions, the
  process's in-flight bound, the private loop of sync callers and batches).

Example:
    >>> from rlsp_rewards.judge import JudgeExploration
    >>> JudgeExploration().config.judge_fallback
    0.5
"""

from __future__ import annotations

from rlsp_rewards.judge.reward import JudgeConfig, JudgeExploration, JudgeGrade, judge

__all__ = ["JudgeConfig", "JudgeExploration", "JudgeGrade", "judge"]
