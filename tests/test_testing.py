"""The contract checker catches each kind of breach, in plain words, and passes good rewards.

The small rewards below are deliberately broken, one breach each. They live at module level so
that only the ones meant to be unpicklable (a lambda, a closure) fail the pickle check.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.testing import CASES, CHECKS, Problem, assert_reward_contract, check_reward

# -- good rewards ----------------------------------------------------------------------------


def good_verl(data_source=None, solution_str=None, ground_truth=None, extra_info=None, **kwargs):
    correct = float("\\boxed{2}" in (solution_str or ""))
    return {"score": correct, "acc": correct, "pred": "2" if correct else ""}


async def good_verl_async(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    await asyncio.sleep(0)
    return good_verl(solution_str=solution_str)


def good_openrlhf(queries, prompts, labels):
    rewards = [float("\\boxed{2}" in q) for q in queries]
    return {"rewards": rewards, "scores": rewards, "extra_logs": {"acc": rewards}}


class FakeTensor:
    """Quacks like a torch tensor (``tolist``) so the test needs no torch."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def tolist(self) -> list[float]:
        return list(self.values)


def good_openrlhf_tensors(queries, prompts, labels):
    rewards = FakeTensor([0.5] * len(queries))
    logs = {"n": FakeTensor([1.0] * len(queries))}
    return {"rewards": rewards, "scores": rewards, "extra_logs": logs}


# -- one breach each -------------------------------------------------------------------------


def raises_on_none(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    return {"score": len(solution_str) / 100}  # TypeError when solution_str is None


def varying_keys(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    if solution_str and "\\boxed{3}" in solution_str:
        return {"score": 0.0, "wrong": 1.0}
    return {"score": 1.0}


def returns_nan(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    return {"score": float("nan") if not solution_str else 1.0}


def returns_text(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    return {"score": 1.0, "status": "ok"}


def no_score_key(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    return {"reward": 1.0}


def slow(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    time.sleep(0.3)
    return 0.0


_NEVER = threading.Event()


def hangs(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    _NEVER.wait(60)  # abandoned by the checker; a daemon thread, gone with the test process
    return 0.0


def make_closure():
    offset = 0.0

    def closure(data_source=None, solution_str=None, ground_truth=None, **kwargs):
        return offset

    return closure


class ThreadUnsafe:
    """Keeps the sample on the instance between two steps: calls from threads mix them up."""

    def __call__(self, data_source=None, solution_str=None, ground_truth=None, **kwargs):
        self.current = solution_str or ""
        time.sleep(0.002)
        return {"score": float(len(self.current))}


class AsyncCall:
    """An async __call__: verl only awaits `async def` functions, so it gets a coroutine."""

    async def __call__(self, data_source=None, solution_str=None, ground_truth=None, **kwargs):
        return 1.0


async def async_openrlhf(queries, prompts, labels):
    return {"rewards": [0.0] * len(queries)}


def openrlhf_bare_list(queries, prompts, labels):
    return [0.0] * len(queries)


def openrlhf_wrong_length(queries, prompts, labels):
    return {"rewards": [1.0], "scores": [1.0], "extra_logs": {}}


def no_kwargs(data_source, solution_str, ground_truth, extra_info):
    return 1.0


class UnprintableError(Exception):
    def __str__(self) -> str:
        return "%s and %s" % self.args  # noqa: UP031  (one argument given: str() raises TypeError)


def raises_unprintable(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    if not solution_str:
        raise UnprintableError("only one")
    return 1.0


def openrlhf_slices_the_prompt_off(queries, prompts, labels):
    # The usual OpenRLHF reward: the response is the query after the templated prompt.
    if not queries[0].startswith(prompts[0]):
        raise ValueError("the query does not start with the prompt")
    return good_openrlhf(
        [q[len(p) :] for q, p in zip(queries, prompts, strict=False)], prompts, labels
    )


# -- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "framework"),
    [
        (good_verl, "verl"),  # a plain function returning fixed keys
        (good_verl_async, "verl"),  # verl awaits `async def` functions
        (good_openrlhf, "openrlhf"),  # lists
        (good_openrlhf_tensors, "openrlhf"),  # anything with tolist(), e.g. torch tensors
        # Bug: prompts were the bare question while queries held the chat-templated prompt,
        # so query.startswith(prompt), true in OpenRLHF, was false here: a false failure.
        (openrlhf_slices_the_prompt_off, "openrlhf"),
    ],
)
def test_good_rewards_pass(fn: Any, framework: Any) -> None:
    report = assert_reward_contract(fn, framework=framework)
    assert report.ok and report.problems == ()
    assert "passed" in str(report)
    assert report.calls >= len(CASES) + 8 * 4  # the battery, then 8 threads x 4 inputs


@pytest.mark.parametrize(
    ("fn", "framework", "check", "words"),
    [
        # an exception on one input is named with the input and what the framework does
        (raises_on_none, "verl", "exceptions", "'None response': raised TypeError"),
        # keys that vary: verl's drop/KeyError behaviour explained
        (varying_keys, "verl", "keys", "KeyError"),
        (returns_nan, "verl", "values", "score = nan is not finite"),
        (returns_text, "verl", "values", "'ok' is not a number"),
        (no_score_key, "verl", "shape", "no 'score' key"),
        (lambda **kw: 1.0, "verl", "pickle", "cannot be pickled"),
        (make_closure(), "verl", "pickle", "closure"),
        (ThreadUnsafe(), "verl", "threads", "8 threads at once"),
        (AsyncCall(), "verl", "async", "inspect.iscoroutinefunction"),
        (async_openrlhf, "openrlhf", "async", "never awaits"),
        (openrlhf_bare_list, "openrlhf", "shape", "returned list, not a dict"),
        (openrlhf_wrong_length, "openrlhf", "shape", "rewards has 1 values for 4 queries"),
        # a verl-style signature called the OpenRLHF way: the hint shows the expected call
        (no_kwargs, "openrlhf", "exceptions", "fn(queries, prompts, labels)"),
        # Bug: an exception whose __str__ raises escaped the checker instead of being reported
        (raises_unprintable, "verl", "exceptions", "raised UnprintableError: <unprintable"),
    ],
)
def test_each_breach_is_caught_in_plain_words(
    fn: Any, framework: Any, check: str, words: str
) -> None:
    report = check_reward(fn, framework=framework)
    assert check in report.failed_checks, str(report)
    assert words in str(report)
    with pytest.raises(AssertionError, match="FAILED"):
        assert_reward_contract(fn, framework=framework)


def test_slow_calls_are_over_budget() -> None:
    report = check_reward(slow, budget_s=0.1, cases=CASES[:2])
    assert report.failed_checks == ["budget"]
    assert "took longer than the 0.1 s budget" in str(report)
    assert report.slowest_s >= 0.3


def test_a_hanging_reward_does_not_hang_the_checker() -> None:
    start = time.monotonic()
    report = check_reward(hangs, budget_s=0.1, cases=CASES[:3])
    assert time.monotonic() - start < 30  # two abandoned calls of 3 * 0.1 + 2 s, plus slack
    assert "budget" in report.failed_checks
    assert "never returned" in str(report)


def dispatches_on_source(data_source=None, solution_str=None, ground_truth=None, **kwargs):
    if data_source != "gsm8k":
        raise NotImplementedError(f"no reward for {data_source}")
    return 0.0


def test_the_data_source_reaches_the_reward() -> None:
    assert "exceptions" in check_reward(dispatches_on_source, cases=CASES[:2]).failed_checks
    assert_reward_contract(dispatches_on_source, cases=CASES[:2], data_source="gsm8k")


def test_missing_kwargs_is_a_warning_not_a_failure() -> None:
    report = check_reward(no_kwargs, cases=CASES[:2])
    assert report.ok
    assert [p.severity for p in report.problems] == ["warn"]
    assert "reward_router_address" in str(report)


def test_the_same_problem_on_many_inputs_is_one_line() -> None:
    report = check_reward(returns_nan, cases=CASES)
    (problem,) = [p for p in report.problems if p.check == "values"]
    assert problem.inputs == ("empty response", "None response")
    assert str(problem).startswith("on 'empty response', 'None response': score = nan")


def test_rows_cover_every_check_in_order() -> None:
    report = check_reward(good_verl, cases=CASES[:1])
    assert [status for _, status, _ in report.rows()] == ["ok"] * len(CHECKS)
    assert str(Problem("keys", "x", inputs=tuple("abcde"))) == "on 'a', 'b', 'c' and 2 more: x"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"framework": "nemo"}, "framework must be one of verl, openrlhf, trl, got 'nemo'"),
        ({"budget_s": 0}, "budget_s must be > 0"),
        ({"cases": []}, "cases must not be empty"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        check_reward(good_verl, **kwargs)
