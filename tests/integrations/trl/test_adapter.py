"""The TRL adapter's contract, without TRL: it only speaks TRL's call convention.

Completions as strings and chat messages, golds from the column, exact token counts, the
``None`` mode, the log callbacks on every call (failures included), pickling into a spawned
process, the async twin, threads, bad settings, and the contract checker's ``trl`` mode. The
real ``GRPOTrainer`` runs in test_trl_grpo.py (the TRL environment).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pytest
from typer.testing import CliRunner

import rlsp_rewards.integrations.trl as rlsp_trl
from rlsp_rewards.cli.app import app
from rlsp_rewards.core import RewardResult
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations.trl import (
    COLUMN_KEYS,
    METRIC_KEYS,
    AsyncRlspTrlReward,
    RlspTrlReward,
    message_text,
    prompt_text,
)
from rlsp_rewards.testing import check_reward

BOXED = "Two and two make four. \\boxed{4}"
UNPARSEABLE_GOLD = "\\frac{{}}{\\left( ]]"


class Logs:
    """TRL's ``log_extra`` and ``log_metric`` callbacks, recording what they receive."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = defaultdict(list)
        self.metrics: dict[str, list[float]] = defaultdict(list)

    def kwargs(self) -> dict[str, Any]:
        return {"log_extra": self.log_extra, "log_metric": self.log_metric, "trainer_state": None}

    def log_extra(self, column: str, values: list[Any]) -> None:
        self.columns[column].extend(values)

    def log_metric(self, name: str, value: float) -> None:
        self.metrics[name].append(value)


def batch(completions: list[Any], golds: list[Any] | None = None, **columns: Any) -> dict:
    """A TRL call's keywords for ``completions`` (golds default to "4")."""
    n = len(completions)
    return {
        "prompts": ["What is 2 + 2?"] * n,
        "completions": completions,
        "completion_ids": [[1] * 100] * n,
        "solution": golds if golds is not None else ["4"] * n,
        **columns,
    }


# -- what a completion's text and a prompt's problem are ----------------------------------------


@pytest.mark.parametrize(
    ("completion", "text"),
    [
        ("plain \\boxed{4}", "plain \\boxed{4}"),  # a standard dataset: strings
        ([{"role": "assistant", "content": "\\boxed{4}"}], "\\boxed{4}"),  # conversational
        # TRL's response parsing splits the <think> block off: the reasoning comes first
        (
            [{"role": "assistant", "reasoning_content": "try 2+2", "content": "\\boxed{4}"}],
            "try 2+2\n\n\\boxed{4}",
        ),
        ([{"role": "assistant", "thinking": "hmm", "content": "4"}], "hmm\n\n4"),  # LFM style
        ([{"role": "assistant", "content": [{"type": "text", "text": "a"}]}], "a"),  # blocks
        # a tool call between two assistant turns: the assistant's words only
        (
            [
                {"role": "assistant", "content": "let me compute", "tool_calls": [{}]},
                {"role": "tool", "content": "4"},
                {"role": "assistant", "content": "\\boxed{4}"},
            ],
            "let me compute\n\n\\boxed{4}",
        ),
        ({"role": "assistant", "content": "one message"}, "one message"),  # a bare message
        (None, ""),
        (b"caf\xc3\xa9", "café"),
    ],
)
def test_completion_text(completion: Any, text: str) -> None:
    assert message_text(completion) == text


@pytest.mark.parametrize(
    ("prompt", "problem"),
    [
        ("What is 2 + 2?", "What is 2 + 2?"),
        (
            [
                {"role": "system", "content": "Think."},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "What is 2 + 2?"},
            ],
            "What is 2 + 2?",  # the last user message
        ),
        ([{"role": "system", "content": "no user"}], ""),
        (None, ""),
    ],
)
def test_prompt_text(prompt: Any, problem: str) -> None:
    assert prompt_text(prompt) == problem


# -- scoring a batch ------------------------------------------------------------------------------


def test_gold_column_token_counts_and_chat_messages() -> None:
    reward = RlspTrlReward(gold_column="answer")
    chat = [{"role": "assistant", "content": BOXED}]
    results = reward.score(
        [[{"role": "user", "content": "2+2?"}]] * 3,
        [BOXED, chat, "no idea"],
        [[0] * 1000, [0] * 500, [0] * 10],
        {"answer": ["4", "4", "4"], "solution": ["5", "5", "5"]},
    )
    assert [r.acc for r in results] == [1.0, 1.0, 0.0]  # the gold is `answer`, not `solution`
    assert [r.length for r in results] == [1000.0, 500.0, 10.0]  # len(completion_ids)
    assert {r.length_source for r in results} == {2.0}


def test_without_completion_ids_the_length_is_approximated() -> None:
    [result] = rlsp_trl.length.score(None, ["x" * 400], None, {})
    assert (result.length, result.length_source) == (100.0, 0.0)


def test_returns_the_paper_score_for_each_completion() -> None:
    out = rlsp_trl.combined(**batch([BOXED, "\\boxed{5}", "no idea"]))
    assert out == pytest.approx([0.8 - 2.0, -2.0, -2.0])  # 0.8*v + 0.2*(-1000/100)


@pytest.mark.parametrize(
    ("unscored", "expected"),
    [
        ("fallback", [1.0, 0.0, 0.0]),  # the defined score, counted in gold_unparseable
        ("none", [1.0, 0.0, None]),  # TRL's "not applicable": out of the baseline, advantage 0
    ],
)
def test_unscored_completions(unscored: str, expected: list[float | None]) -> None:
    reward = RlspTrlReward("outcome", unscored=unscored)
    logs = Logs()
    golds = ["4", "4", UNPARSEABLE_GOLD]
    out = reward(**batch([BOXED, "\\boxed{5}", BOXED], golds), **logs.kwargs())
    assert out == expected
    assert logs.metrics["rlsp_outcome/gold_unparseable"] == [pytest.approx(1 / 3)]


def test_the_components_are_logged_under_the_reward_name_every_call() -> None:
    logs = Logs()
    reward = RlspTrlReward(preset="guarded", name="rlsp_guarded")
    for _ in range(2):
        reward(**batch([BOXED, "Wait, let me check. \\boxed{5}"]), **logs.kwargs())
    assert sorted(logs.metrics) == sorted(f"rlsp_guarded/{k}" for k in METRIC_KEYS)
    assert all(len(values) == 2 for values in logs.metrics.values())  # one mean per call
    assert logs.metrics["rlsp_guarded/acc"] == [0.5, 0.5]
    assert logs.metrics["rlsp_guarded/length_term"] == [-1.0, -1.0]  # clamped by the guard
    assert logs.metrics["rlsp_guarded/backtracking"] == [0.5, 0.5]
    assert logs.metrics["rlsp_guarded/verification"] == [0.5, 0.5]
    assert sorted(logs.columns) == sorted(f"rlsp_guarded/{k}" for k in COLUMN_KEYS)
    assert logs.columns["rlsp_guarded/pred"] == ["4", "5", "4", "5"]  # one per completion
    assert "score" not in {name.split("/")[1] for name in logs.metrics}  # TRL logs it itself


def test_a_failing_batch_still_returns_and_logs_every_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reward = RlspTrlReward("outcome")

    def broken(samples: Any) -> Any:
        raise RuntimeError("pool gone")

    monkeypatch.setattr(reward.reward, "score_batch", broken)
    logs = Logs()
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards.integrations.trl"):
        out = reward(**batch([BOXED, BOXED, BOXED]), **logs.kwargs())
    assert out == [0.0, 0.0, 0.0]  # the reward's error score, never an exception
    assert logs.metrics["rlsp_outcome/error"] == [1.0]
    assert sorted(logs.metrics) == sorted(f"rlsp_outcome/{k}" for k in METRIC_KEYS)
    assert all(len(v) == 3 for v in logs.columns.values())  # the table stays aligned
    assert "RuntimeError: pool gone" in caplog.text and "batch of 3" in caplog.text


def test_broken_log_callbacks_do_not_cost_the_rewards(caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any) -> None:
        raise OSError("disk full")

    with caplog.at_level(logging.WARNING, logger="rlsp_rewards.integrations.trl"):
        out = rlsp_trl.outcome(**batch([BOXED]), log_extra=broken, log_metric=broken)
    assert out == [1.0]
    assert "logging to TRL failed: OSError: disk full" in caplog.text


def test_a_missing_gold_column_is_named_once(caplog: pytest.LogCaptureFixture) -> None:
    reward = RlspTrlReward("outcome", gold_column="answer")
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards.integrations.trl"):
        for _ in range(3):
            out = reward(**batch([BOXED]))  # the column is `solution`
    assert out == [0.0]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "no 'answer' column" in warnings[0] and "['solution']" in warnings[0]


@pytest.mark.parametrize(
    "garbage",
    [
        {"completions": [None, 7, {"role": "user"}, [object()]]},  # odd completions
        {"completions": ["a", "b"], "completion_ids": [None, 5]},  # odd token ids
        {"completions": ["a", "b"], "prompts": None, "solution": ["4"]},  # short columns
        {"completions": ["\x00" * 10_000]},
    ],
)
def test_odd_batches_get_one_number_per_completion(garbage: dict[str, Any]) -> None:
    out = rlsp_trl.combined(**garbage)
    assert len(out) == len(garbage["completions"])
    assert all(isinstance(x, float) for x in out)


def test_clip_range_clips_the_rewards_not_the_logged_components() -> None:
    logs = Logs()
    reward = RlspTrlReward(clip_range=[-10, 10])
    out = reward(**batch(["no idea"]) | {"completion_ids": [[0] * 10]}, **logs.kwargs())
    assert out == [-10.0]  # 0.2 * (-1000/10) = -20
    assert logs.metrics["rlsp_combined/length_term"] == [-100.0]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"reward": "lenght"}, "unknown reward 'lenght'"),
        ({"preset": "guard"}, "preset"),
        ({"alpah": 0.8}, "unknown setting 'alpah'"),
        ({"gold_column": ""}, "gold_column must name"),
        ({"unscored": "skip"}, "unscored must be"),
        ({"name": ""}, "name must be"),
        ({"clip_range": (10, -10)}, "clip_range must be"),
        ({"clip_range": "wide"}, "clip_range must be"),
    ],
)
def test_bad_settings_fail_when_built(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        RlspTrlReward(**settings)


# -- process model: pickling, spawned processes, the async twin, threads -------------------------


def test_pickles_to_the_shared_reward_of_the_process() -> None:
    reward = RlspTrlReward(preset="guarded", gold_column="answer", unscored="none", name="g")
    clone = pickle.loads(pickle.dumps(reward))
    assert (clone.__name__, clone.gold_column, clone.unscored) == ("g", "answer", "none")
    assert clone.reward is reward.reward  # one verifier cache per process
    call = batch([BOXED]) | {"answer": ["4"]}
    assert clone(**call) == reward(**call)
    assert pickle.loads(pickle.dumps(rlsp_trl.combined)).reward is rlsp_trl.combined.reward


def test_scores_in_a_spawned_process() -> None:
    # TRL's async GRPO sends the reward functions to a spawned rollout process
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        remote = pool.submit(rlsp_trl.combined, **batch([BOXED, "\\boxed{5}"])).result(120)
    assert remote == rlsp_trl.combined(**batch([BOXED, "\\boxed{5}"]))


def test_the_async_twin_scores_off_the_event_loop(run_counting_ticks: Any) -> None:
    slow = "Let me check this again. " * 20_000 + "\\boxed{4}"  # measurable work
    reward = AsyncRlspTrlReward(preset="guarded")
    logs = Logs()
    call = batch([BOXED, slow] * 8)
    out, ticks = asyncio.run(run_counting_ticks(reward(**call, **logs.kwargs())))
    assert out == RlspTrlReward(preset="guarded")(**call)
    assert ticks > 0  # the loop kept running while the batch was scored
    assert logs.metrics["rlsp_combined/acc"] == [1.0]


def test_calls_from_threads_agree() -> None:
    completions = [BOXED, "\\boxed{5}", "no idea", "\\boxed{\\frac{8}{2}}"]
    expected = rlsp_trl.combined(**batch(completions))
    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(lambda _: rlsp_trl.combined(**batch(completions)), range(16)))
    assert all(out == expected for out in outs)


# -- the contract checker's trl mode --------------------------------------------------------------


@pytest.mark.parametrize(
    "reward",
    [
        rlsp_trl.combined,
        rlsp_trl.outcome,
        rlsp_trl.length,
        RlspTrlReward(preset="reference", unscored="none"),
        AsyncRlspTrlReward(preset="guarded"),
    ],
    ids=["combined", "outcome", "length", "reference-none", "async-guarded"],
)
def test_our_rewards_pass_the_trl_contract(reward: Any) -> None:
    report = check_reward(reward, framework="trl")
    assert report.ok and report.problems == (), str(report)


def no_kwargs(prompts: Any, completions: Any) -> list[float]:
    return [0.0] * len(completions)


def one_reward(prompts: Any = None, completions: Any = None, **kwargs: Any) -> list[float]:
    return [1.0]


def nan_reward(prompts: Any = None, completions: Any = None, **kwargs: Any) -> list[float]:
    return [float("nan")] * len(completions)


def a_dict(prompts: Any = None, completions: Any = None, **kwargs: Any) -> dict[str, float]:
    return {"score": 1.0}


class SyncReturnsCoroutine:
    def __call__(self, prompts: Any = None, completions: Any = None, **kwargs: Any) -> Any:
        async def later() -> list[float]:
            return [1.0] * len(completions)

        return later()


@pytest.mark.parametrize(
    ("fn", "check", "words"),
    [
        (no_kwargs, "signature", "TRL passes every dataset column"),
        (no_kwargs, "exceptions", "TRL's trainer stops"),
        (one_reward, "shape", "returned 1 rewards for 4 completions"),
        (nan_reward, "values", "reward = nan is not finite"),
        (a_dict, "shape", "returned dict, not a list"),
        (SyncReturnsCoroutine(), "async", "TRL awaits only `async def`"),
        (lambda **kw: [0.0], "pickle", "cannot be pickled"),
    ],
)
def test_the_trl_contract_catches(fn: Any, check: str, words: str) -> None:
    report = check_reward(fn, framework="trl")
    assert check in report.failed_checks, str(report)
    assert words in str(report)


def test_none_is_a_valid_trl_reward() -> None:
    def none_reward(prompts: Any = None, completions: Any = None, **kwargs: Any) -> list[None]:
        return [None] * len(completions)

    assert "values" not in check_reward(none_reward, framework="trl").failed_checks


def test_check_command_with_the_trl_framework() -> None:
    target = "rlsp_rewards.integrations.trl:combined"
    result = CliRunner().invoke(app, ["check", target, "--framework", "trl"])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_result_fields_logged_are_the_fixed_keys() -> None:
    assert set(METRIC_KEYS) | {"score", "pred"} == set(RewardResult().to_dict())
    assert set(COLUMN_KEYS) <= set(RewardResult().to_dict())
