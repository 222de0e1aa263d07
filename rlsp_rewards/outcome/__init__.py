"""The outcome verifier: is the response's final answer equal to the gold?

The steps, in the order a response meets them:

* :mod:`~rlsp_rewards.outcome.extract`: the final answer of a response, the answer of a gold;
* :mod:`~rlsp_rewards.outcome.spelling`: one canonical spelling of an answer (Unicode, escapes,
  units, words, choices);
* :mod:`~rlsp_rewards.outcome.screen`: answers too costly to parse (power towers, huge factorials);
* :mod:`~rlsp_rewards.outcome.values`: an exact reading of answer values, built on
  :mod:`~rlsp_rewards.outcome.algebra` (exact arithmetic), :mod:`~rlsp_rewards.outcome.expressions`
  (its grammar), :mod:`~rlsp_rewards.outcome.sets` (intervals and inequalities) and
  :mod:`~rlsp_rewards.outcome.labels` (equations and their labels);
* :mod:`~rlsp_rewards.outcome.equality`: exact comparison of two values (the rules for decimals,
  percent and degrees);
* :mod:`~rlsp_rewards.outcome.grade`: the fast comparison in the caller, and the full check with
  math-verify that runs in a worker process;
* :mod:`~rlsp_rewards.outcome.verifier`: :class:`OutcomeVerifier`, the reward (cache,
  de-duplication, batching, the killable worker pool).

Example:
    >>> from rlsp_rewards.outcome import OutcomeVerifier
    >>> OutcomeVerifier().verify("4", r"so \\boxed{4}").correct
    True
"""

from __future__ import annotations

from rlsp_rewards.outcome.extract import extract_answer, gold_answer
from rlsp_rewards.outcome.verifier import OutcomeConfig, OutcomeVerifier, Verdict, outcome

__all__ = [
    "OutcomeConfig",
    "OutcomeVerifier",
    "Verdict",
    "extract_answer",
    "gold_answer",
    "outcome",
]
