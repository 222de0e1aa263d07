"""The outcome verifier inside a Ray actor, the way verl's reward workers run it.

verl scores in ``RewardLoopWorker`` Ray actors: a sync reward runs in the loop's thread pool, an
async one on the actor's event loop. The verifier is pickled into the actor and starts its own
killable worker processes there (a Ray worker has threads, so they come from a fork server).
"""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
import ray
from ray import cloudpickle

from rlsp_rewards.outcome.verifier import OutcomeVerifier

BUDGET_S = 1.0
SLACK_S = 1.0

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers cannot import tests/


@ray.remote
class RewardActor:
    """Holds a pickled verifier and scores like verl's reward loop: sync in a thread, or async."""

    def __init__(self, verifier: OutcomeVerifier) -> None:
        self.verifier = verifier

    async def score_in_thread(self, gold: str, response: str) -> tuple[dict, float]:
        started = time.monotonic()
        result = await asyncio.to_thread(self.verifier, solution_str=response, ground_truth=gold)
        return result, time.monotonic() - started

    async def score_async(self, gold: str, response: str) -> tuple[dict, float]:
        started = time.monotonic()
        result = await self.verifier.acall(solution_str=response, ground_truth=gold)
        return result, time.monotonic() - started

    def warm_up(self) -> bool:
        return self.verifier.warm_up()

    async def score_batch(self, pairs: list[tuple[str, str]]) -> list[bool]:
        verdicts = await asyncio.to_thread(self.verifier.verify_batch, pairs)
        return [v.correct for v in verdicts]


@pytest.fixture(scope="module")
def actor():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        handle = RewardActor.remote(OutcomeVerifier(timeout_s=BUDGET_S))
        # Start the worker pool first, as verl's rlsp manager does: the first start of a pool is
        # waited for once and not charged to a sample's budget, so the timing tests need it done.
        assert ray.get(handle.warm_up.remote(), timeout=120)
        yield handle
    finally:
        ray.shutdown()


@pytest.mark.parametrize("method", ["score_in_thread", "score_async"])
@pytest.mark.parametrize(
    ("gold", "response", "acc"),
    [
        ("42", r"so $\boxed{42}$", 1.0),  # fast path in the actor
        ("x^2+1", r"\boxed{1+x^2}", 1.0),  # a check in the actor's worker processes
        ("42", r"\boxed{41 = 42}", 0.0),  # math-verify's false positive, fixed
    ],
)
def test_scores_inside_an_actor(actor, method, gold, response, acc):
    result, _ = ray.get(getattr(actor, method).remote(gold, response), timeout=60)
    assert result["acc"] == acc and result["timeout"] == 0.0 and result["error"] == 0.0


@pytest.mark.parametrize(("method", "gold"), [("score_in_thread", "2"), ("score_async", "5")])
def test_timeout_inside_an_actor(actor, method, gold, slow_answer):
    result, seconds = ray.get(getattr(actor, method).remote(gold, slow_answer), timeout=60)
    assert result["timeout"] == 1.0 and result["score"] == 0.0
    assert seconds < BUDGET_S + SLACK_S
    after, _ = ray.get(getattr(actor, method).remote("3", r"\boxed{3}"), timeout=60)
    assert after["acc"] == 1.0  # the actor keeps working after its worker was killed


def test_concurrent_calls_inside_an_actor(actor):
    calls = [actor.score_in_thread.remote(str(i), rf"\boxed{{{i}}}") for i in range(16)]
    results = ray.get(calls, timeout=120)
    assert [r["acc"] for r, _ in results] == [1.0] * 16


def test_batch_inside_an_actor(actor):
    pairs = [("3", r"\boxed{3}"), ("x^2", r"\boxed{x \cdot x}"), ("3", r"\boxed{4}")] * 5
    assert ray.get(actor.score_batch.remote(pairs), timeout=120) == [True, True, False] * 5
