"""TRL 1.16's real ``GRPOTrainer`` trains with our rewards on CPU (the TRL environment).

A tiny Qwen2 with random weights and a byte-level BPE trained here (both saved with
``save_pretrained``), 16 addition problems with their answers in a ``solution`` column, and
two GRPO steps: with ``rlsp_rewards.integrations.trl.combined`` as is; with the ``guarded``
preset beside the async outcome reward; and with the judge, on a chat dataset, against a
scripted OpenAI-compatible server on 127.0.0.1. Each run checks that the steps ran, what TRL
passed to our reward, that what it trained on is what our reward gives for those completions,
and that our components reached TRL's logged metrics and its completions table.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
import trl
from transformers import PreTrainedTokenizerFast
from trl import GRPOConfig, GRPOTrainer
from trl.trainer.utils import get_callable_name, is_async_callable

import rlsp_rewards.integrations.trl as rlsp_trl
from rlsp_rewards.core import Sample
from rlsp_rewards.integrations.trl import AsyncRlspTrlReward, RlspTrlReward
from rlsp_rewards.integrations.trl.reward import COLUMN_KEYS, METRIC_KEYS

PROBLEMS = [(a, a + 3) for a in range(16)]  # "What is a + b?", gold a + b (as in conftest.py)
STEPS = 2
BATCH = 4  # completions per step: one prompt, four generations


def question(a: int, b: int) -> str:
    return f"What is {a} + {b}? Put the final answer in \\boxed{{}}."


def dataset(chat: bool) -> datasets.Dataset:
    rows = []
    for a, b in PROBLEMS:
        text = question(a, b)
        prompt: Any = [{"role": "user", "content": text}] if chat else text
        rows.append({"prompt": prompt, "solution": str(a + b), "level": a % 3})
    return datasets.Dataset.from_list(rows)


class Calls:
    """Records every call TRL makes to our reward classes, and what each returned."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def wrap(self, cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
        original = cls.__call__
        calls = self

        if is_async_callable(original):

            async def recorded(self, prompts=None, completions=None, completion_ids=None, **kw):
                out = await original(self, prompts, completions, completion_ids, **kw)
                calls.record(self, prompts, completions, completion_ids, kw, out)
                return out

        else:

            def recorded(self, prompts=None, completions=None, completion_ids=None, **kw):
                out = original(self, prompts, completions, completion_ids, **kw)
                calls.record(self, prompts, completions, completion_ids, kw, out)
                return out

        monkeypatch.setattr(cls, "__call__", recorded)

    def record(self, reward, prompts, completions, completion_ids, kwargs, out) -> None:
        self.seen.append(
            {
                "name": reward.__name__,
                "reward": reward,
                "prompts": prompts,
                "completions": completions,
                "completion_ids": completion_ids,
                "kwargs": kwargs,
                "out": out,
            }
        )

    def of(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.seen if c["name"] == name]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    recorder = Calls()
    recorder.wrap(RlspTrlReward, monkeypatch)
    recorder.wrap(AsyncRlspTrlReward, monkeypatch)
    return recorder


def train(model_dir: str, out: Path, reward_funcs: list[Any], chat: bool = False) -> GRPOTrainer:
    args = GRPOConfig(
        output_dir=str(out),
        per_device_train_batch_size=BATCH,
        num_generations=BATCH,
        max_completion_length=24,
        max_steps=STEPS,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        log_completions=True,  # the completions table, with our log_extra columns
        num_completions_to_print=0,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model_dir,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=dataset(chat),
        processing_class=PreTrainedTokenizerFast.from_pretrained(model_dir),
    )
    trainer.train()
    return trainer


def check_run(
    trainer: GRPOTrainer, calls: Calls, name: str, chat: bool = False, measures_length: bool = True
) -> None:
    """The steps ran, TRL called our reward as documented, and logged what it returned."""
    assert trainer.state.global_step == STEPS
    steps = [h for h in trainer.state.log_history if "loss" in h]
    assert len(steps) == STEPS
    seen = calls.of(name)
    assert len(seen) == STEPS  # once per generation batch
    golds = {question(a, b): str(a + b) for a, b in PROBLEMS}
    for call in seen:
        prompts, completions, ids = call["prompts"], call["completions"], call["completion_ids"]
        kwargs = call["kwargs"]
        assert len(prompts) == len(completions) == len(ids) == BATCH
        assert {"solution", "level", "trainer_state", "log_extra", "log_metric"} <= set(kwargs)
        texts = [p[-1]["content"] if chat else p for p in prompts]
        assert kwargs["solution"] == [golds[t] for t in texts]  # each row's own gold
        if chat:
            assert all(c[0]["role"] == "assistant" for c in completions)
        else:
            assert all(isinstance(c, str) for c in completions)
        assert all(isinstance(t, int) for row in ids for t in row)
        # what TRL trained on is our reward's score for those completions, exact token counts
        reward = call["reward"]
        direct = reward.reward.score_batch(
            [
                Sample(
                    response=c[0]["content"] if chat else c,
                    gold=g,
                    prompt=t,
                    response_tokens=len(i),
                    data_source="trl",
                )
                for c, g, t, i in zip(completions, kwargs["solution"], texts, ids, strict=True)
            ]
        )
        assert call["out"] == pytest.approx([r.score for r in direct])
    for step, call in zip(steps, seen, strict=True):
        assert step[f"rewards/{name}/mean"] == pytest.approx(
            sum(call["out"]) / BATCH, rel=1e-5, abs=1e-5
        )
        for key in METRIC_KEYS:
            assert math.isfinite(step[f"{name}/{key}"]), key
        assert step[f"{name}/error"] == 0.0 and step[f"{name}/timeout"] == 0.0
        if measures_length:
            assert step[f"{name}/length_source"] == 2.0  # exact counts from completion_ids
            lengths = [len(i) for i in call["completion_ids"]]
            assert step[f"{name}/length"] == pytest.approx(sum(lengths) / BATCH)
    table = pd.concat(
        pd.read_parquet(p) for p in sorted(Path(trainer.args.output_dir).glob("completions/*"))
    )
    for key in COLUMN_KEYS:
        assert f"{name}/{key}" in table.columns, key
    assert table[f"{name}/pred"].map(lambda v: isinstance(v, str)).all()


@pytest.fixture(autouse=True)
def no_reward_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing of ours warned (a failed batch, a missing column, a logging failure)."""
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards"):
        yield
    ours = [r for r in caplog.records if r.name.startswith("rlsp_rewards")]
    assert not ours, [r.getMessage() for r in ours]


def test_trl_reads_our_names_and_sync_or_async() -> None:
    assert get_callable_name(rlsp_trl.combined) == "rlsp_combined"
    assert get_callable_name(rlsp_trl.outcome) == "rlsp_outcome"
    assert get_callable_name(RlspTrlReward(name="mine")) == "mine"
    assert not is_async_callable(rlsp_trl.combined)
    assert is_async_callable(AsyncRlspTrlReward("outcome"))
    assert trl.__version__ == "1.16.0"


def test_grpo_trains_with_combined(model_dir: str, tmp_path: Path, calls: Calls) -> None:
    trainer = train(model_dir, tmp_path, [rlsp_trl.combined])
    check_run(trainer, calls, "rlsp_combined")
    # the paper preset: 0.8*v + 0.2*(-1000/|o|) with |o| the completion's token count
    for call in calls.of("rlsp_combined"):
        for out, ids in zip(call["out"], call["completion_ids"], strict=True):
            assert out == pytest.approx(-200 / len(ids)) or out == pytest.approx(
                0.8 - 200 / len(ids)
            )


def test_grpo_trains_with_guarded_and_async_outcome(
    model_dir: str, tmp_path: Path, calls: Calls
) -> None:
    guarded = RlspTrlReward(preset="guarded", name="rlsp_guarded")
    outcome = AsyncRlspTrlReward("outcome")
    trainer = train(model_dir, tmp_path, [guarded, outcome])
    check_run(trainer, calls, "rlsp_guarded")
    check_run(trainer, calls, "rlsp_outcome", measures_length=False)
    for call in calls.of("rlsp_guarded"):
        assert all(-0.2 - 1e-9 <= out <= 0.8 + 1e-9 for out in call["out"])  # the guard's bounds
    for step in [h for h in trainer.state.log_history if "loss" in h]:
        summed = step["rewards/rlsp_guarded/mean"] + step["rewards/rlsp_outcome/mean"]
        assert step["reward"] == pytest.approx(summed, abs=1e-5)  # TRL sums its reward funcs


class ScriptedJudge:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 with a scripted grade."""

    GRADE = 0.7

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def reply(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.reply({"object": "list", "data": [{"id": "judge", "object": "model"}]})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                judge.requests.append(request)
                content = json.dumps({"rationale": "one strategy", "grade": judge.GRADE})
                message = {"role": "assistant", "content": content}
                self.reply(
                    {
                        "id": "c",
                        "object": "chat.completion",
                        "model": "judge",
                        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                    }
                )

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted_judge() -> Iterator[ScriptedJudge]:
    judge = ScriptedJudge()
    yield judge
    judge.close()


def test_grpo_trains_with_the_judge_on_a_chat_dataset(
    model_dir: str, tmp_path: Path, calls: Calls, scripted_judge: ScriptedJudge
) -> None:
    reward = RlspTrlReward(
        exploration="judge", judge_url=scripted_judge.url, judge_model="judge", judge_retries=0
    )
    trainer = train(model_dir, tmp_path, [reward], chat=True)
    check_run(trainer, calls, "rlsp_combined", chat=True)
    for step in [h for h in trainer.state.log_history if "loss" in h]:
        assert step["rlsp_combined/judge_grade"] == pytest.approx(ScriptedJudge.GRADE)
        assert step["rlsp_combined/judge_failed"] == 0.0
    # every distinct (problem, completion) was judged, with its problem: the prompt TRL passed
    asked = [json.dumps(r["messages"]) for r in scripted_judge.requests]
    pairs = {
        (p[-1]["content"], c[0]["content"])
        for call in calls.of("rlsp_combined")
        for p, c in zip(call["prompts"], call["completions"], strict=True)
    }
    assert len(pairs) <= len(asked) <= STEPS * BATCH
    for prompt, _ in pairs:
        assert any(json.dumps(prompt)[1:-1] in text for text in asked)
    for call in calls.of("rlsp_combined"):  # 0.8*v + 0.2*g
        assert all(out in (pytest.approx(0.14), pytest.approx(0.94)) for out in call["out"])
