"""Our rewards through the real verl 0.9.1 reward code, on CPU.

verl's ``load_reward_manager`` with the default ``naive`` manager and with our ``rlsp`` manager,
configs composed from verl's own ``ppo_trainer.yaml`` with the overrides the docs show; a user
function through the ``rlsp`` manager; the async judge against a real HTTP server on 127.0.0.1;
a verifier timeout inside verl's threads; and the distributed path, ``RewardLoopManager`` with
Ray reward workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import verl
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from transformers import AutoTokenizer
from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
from verl.trainer.ppo.reward import load_reward_manager, resolve_reward_manager_cls

import rlsp_rewards
from rlsp_rewards.combine import combined
from rlsp_rewards.core import RESULT_KEYS, Reward
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations.verl import RlspRewardManager

VERL_CONFIG_DIR = str(Path(verl.__file__).parent / "trainer" / "config")
QUESTION = "What is 2 + 2? Let's think step by step and output the final answer within \\boxed{}."
SOURCE = "math500"

# (response, gold): one row per case the trainer will meet.
MIXED: list[tuple[str, Any]] = [
    ("Adding, 2 + 2 = 4. Let me check: 4 - 2 = 2. So the answer is \\boxed{4}.", "4"),  # correct
    ("Halving one gives \\boxed{\\frac{1}{2}}.", "0.5"),  # equivalent form
    ("Wait, the order matters, so the pair is \\boxed{(1,2)}.", "(1, 2)"),  # equivalent spacing
    ("The final answer is \\boxed{12}.", "Sum the parts: 5 + 7 = \\boxed{12}."),  # worked gold
    ("So the answer is \\boxed{5}.", "4"),  # wrong
    ("I could not finish this one.", "7"),  # no answer
    ("\\boxed{" + "{" * 3000, "3"),  # adversarial: unbalanced braces
    ("\\boxed{9^{9^{9^{9^{9}}}}}", "3"),  # adversarial: an astronomically large number
    ("\x00\x07 binary \ufffd junk \\boxed{\x01}", "2"),  # binary junk
    ("", "4"),  # empty: the model stopped at once
    ("Twice 21 is \\boxed{42}.", 42),  # a number as the gold
]


# -- helpers ---------------------------------------------------------------------------------


def verl_config(*overrides: str) -> DictConfig:
    """verl's ``ppo_trainer`` config with Hydra command-line overrides, as main_ppo builds it."""
    with initialize_config_dir(config_dir=VERL_CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=list(overrides))


def reward_overrides(manager: str, name: str = "combined", **settings: Any) -> list[str]:
    """The overrides our README shows for a reward and a manager."""
    return [
        "reward.custom_reward_function.path=pkg://rlsp_rewards",
        f"reward.custom_reward_function.name={name}",
        f"reward.reward_manager.name={manager}",
        *(f"+reward.custom_reward_function.reward_kwargs.{k}={v}" for k, v in settings.items()),
    ]


def object_column(values: Sequence[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return column


def make_batch(
    tokenizer: Any, rows: Sequence[tuple[str, Any]], question: str = QUESTION
) -> DataProto:
    """A rollout batch as verl builds it: left-padded prompts, right-padded responses + EOS."""
    eos, pad = tokenizer.eos_token_id, tokenizer.eos_token_id
    prompt_ids = tokenizer.encode(question, add_special_tokens=False)
    responses = [[*tokenizer.encode(r, add_special_tokens=False), eos] for r, _ in rows]
    width = max(len(r) for r in responses) + 3  # some padding on every row
    n, p = len(rows), len(prompt_ids) + 2
    prompts = torch.full((n, p), pad)
    prompts[:, 2:] = torch.tensor(prompt_ids)
    prompt_mask = torch.zeros((n, p), dtype=torch.long)
    prompt_mask[:, 2:] = 1
    response_ids = torch.full((n, width), pad)
    response_mask = torch.zeros((n, width), dtype=torch.long)
    for i, ids in enumerate(responses):
        response_ids[i, : len(ids)] = torch.tensor(ids)
        response_mask[i, : len(ids)] = 1
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    chat = [{"role": "user", "content": question}]
    return DataProto.from_single_dict(
        {
            "prompts": prompts,
            "responses": response_ids,
            "input_ids": torch.cat([prompts, response_ids], dim=1),
            "attention_mask": attention_mask,
            "position_ids": (attention_mask.cumsum(dim=1) - 1).clamp(min=0),
            "data_source": object_column([SOURCE] * n),
            "reward_model": object_column([{"ground_truth": g, "style": "rule"} for _, g in rows]),
            "extra_info": object_column(
                [{"index": i, "split": "test", "question": question} for i in range(n)]
            ),
            "raw_prompt": object_column([chat] * n),
        }
    )


def token_counts(data: DataProto) -> list[int]:
    width = data.batch["responses"].shape[1]
    return data.batch["attention_mask"][:, -width:].sum(dim=1).tolist()


def run_manager(manager: RewardManagerBase, data: DataProto) -> list[dict[str, Any]]:
    """Score every row one at a time, concurrently, on the manager's loop (as a worker does)."""

    async def all_rows() -> list[dict[str, Any]]:
        rows = (manager.run_single(data[i : i + 1]) for i in range(len(data)))
        return await asyncio.gather(*rows)

    return manager.loop.run_until_complete(all_rows())


def check_rows(
    data: DataProto, outputs: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    """Scores equal the direct calls, keys are fixed, rm_scores holds them at the last token."""
    scores = [out["reward_score"] for out in outputs]
    for out, want in zip(outputs, expected, strict=True):
        assert list(out["reward_extra_info"]) == list(RESULT_KEYS)
        assert out["reward_extra_info"] == want
        assert out["reward_score"] == want["score"]
    rm_scores = RewardManagerBase.assemble_rm_scores(data, scores)
    for i, n in enumerate(token_counts(data)):
        assert rm_scores[i, n - 1].item() == pytest.approx(scores[i])
        assert rm_scores[i].count_nonzero() <= 1  # nothing anywhere else


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir: str) -> Any:
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    for response, _ in MIXED:  # the byte-level BPE gives back exactly what it was given
        ids = tok.encode(response, add_special_tokens=False)
        assert tok.decode(ids, skip_special_tokens=True) == response
    return tok


@pytest.fixture(scope="module")
def mixed(tokenizer: Any) -> DataProto:
    return make_batch(tokenizer, MIXED)


@pytest.fixture(scope="module", autouse=True)
def warm_verifier() -> None:
    """Start the shared verifier pool once: its start-up is not what these tests measure."""
    from rlsp_rewards.outcome.verifier import outcome

    assert outcome.warm_up()


def direct(
    data: DataProto, *, framework_facts: bool, reward: Reward = combined, **settings: Any
) -> list[dict[str, Any]]:
    """What calling the reward ourselves gives, with or without what the rlsp manager adds."""
    out = []
    for (response, gold), n in zip(MIXED, token_counts(data), strict=True):
        info: dict[str, Any] = {"index": len(out), "split": "test", "question": QUESTION}
        extra: dict[str, Any] = {}
        if framework_facts:
            extra = {"response_tokens": n, "prompt": QUESTION}
        out.append(reward(SOURCE, response, gold, info, **extra, **settings))
    return out


# -- load_reward_manager, in process ---------------------------------------------------------


@pytest.mark.parametrize(
    "manager, settings",
    [
        ("naive", {}),  # verl's default manager with our reward, unchanged
        ("naive", {"preset": "guarded"}),  # settings through reward_kwargs
        ("rlsp", {}),  # our manager: exact token count and prompt
        ("rlsp", {"preset": "reference"}),
    ],
)
def test_mixed_batch_through_load_reward_manager(
    tokenizer: Any, mixed: DataProto, manager: str, settings: dict[str, Any]
) -> None:
    cfg = verl_config(*reward_overrides(manager, **settings))
    reward_manager = load_reward_manager(cfg, tokenizer)
    outputs = run_manager(reward_manager, mixed)
    expected = direct(mixed, framework_facts=manager == "rlsp", **settings)
    check_rows(mixed, outputs, expected)
    infos = [o["reward_extra_info"] for o in outputs]
    assert infos[0]["acc"] == 1.0 and infos[4]["acc"] == 0.0 and infos[5]["no_answer"] == 1.0
    if manager == "rlsp" and settings.get("preset") != "reference":  # reference: chars / 4
        # the exact count, from the attention mask
        assert [i["length"] for i in infos] == [float(n) for n in token_counts(mixed)]
        assert {i["length_source"] for i in infos} == {2.0}


@pytest.mark.parametrize("manager", ["naive", "rlsp"])
@pytest.mark.parametrize("name", ["outcome", "length", "judge"])
def test_every_ready_reward_through_both_managers(
    tokenizer: Any, mixed: DataProto, manager: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("RLSP_JUDGE_URL", "OPENAI_BASE_URL"):  # the judge has no endpoint here
        monkeypatch.delenv(variable, raising=False)
    cfg = verl_config(*reward_overrides(manager, name=name))
    outputs = run_manager(load_reward_manager(cfg, tokenizer), mixed)
    reward = getattr(rlsp_rewards, name)
    check_rows(mixed, outputs, direct(mixed, framework_facts=manager == "rlsp", reward=reward))
    if name == "judge":  # no endpoint: the fallback grade, counted, never an exception
        assert {o["reward_extra_info"]["judge_failed"] for o in outputs} == {1.0}


def test_rlsp_manager_without_a_custom_function_uses_combined(
    tokenizer: Any, mixed: DataProto
) -> None:
    cfg = verl_config("reward.reward_manager.name=rlsp")
    reward_manager = load_reward_manager(cfg, tokenizer)
    assert reward_manager.reward is combined
    check_rows(mixed, run_manager(reward_manager, mixed), direct(mixed, framework_facts=True))


def test_rlsp_manager_runs_on_any_event_loop(tokenizer: Any, mixed: DataProto) -> None:
    # naive schedules on the loop it was built with; ours on the loop that awaits it
    reward_manager = load_reward_manager(verl_config(*reward_overrides("rlsp")), tokenizer)
    out = asyncio.run(reward_manager.run_single(mixed[:1]))
    assert out["reward_extra_info"] == direct(mixed, framework_facts=True)[0]


def test_manager_importable_without_the_entry_point(tokenizer: Any) -> None:
    cfg = verl_config(
        "reward.reward_manager.source=importlib",
        "reward.reward_manager.module.path=pkg://rlsp_rewards.integrations.verl.manager",
        "reward.reward_manager.name=RlspRewardManager",
    )
    assert resolve_reward_manager_cls(cfg) is RlspRewardManager


def test_constructor_takes_verls_full_keyword_set(tokenizer: Any) -> None:
    cfg = verl_config(*reward_overrides("rlsp"))
    reward_manager = load_reward_manager(
        cfg, tokenizer, reward_router_address="127.0.0.1:9", reward_model_tokenizer=tokenizer
    )
    assert reward_manager.reward_router_address == "127.0.0.1:9"
    assert RlspRewardManager(cfg, tokenizer, combined, future_keyword=1).reward is combined


class WarmingReward(Reward):
    """A reward with a ``warm_up``, to see the manager call it (or survive its failure)."""

    def __init__(self, config: Any = None, fail: bool = False) -> None:
        super().__init__(config)
        self.fail, self.warmed = fail, threading.Event()

    def warm_up(self) -> bool:
        self.warmed.set()
        if self.fail:
            raise OSError("no processes left")
        return True


@pytest.mark.parametrize("fail", [False, True])
def test_rlsp_manager_warms_the_reward_up_in_the_background(
    tokenizer: Any, fail: bool, caplog: pytest.LogCaptureFixture
) -> None:
    reward = WarmingReward(fail=fail)
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards.integrations.verl"):
        RlspRewardManager(verl_config(), tokenizer, reward)
        assert reward.warmed.wait(timeout=30)
        time.sleep(0.2)  # let the warm-up thread log
    assert ("OSError: no processes left" in caplog.text) is fail


def test_combined_is_warmed_through_its_own_verifier() -> None:
    from rlsp_rewards.integrations.verl.manager import _warm_up_of
    from rlsp_rewards.outcome.verifier import OutcomeConfig

    reward = combined.with_settings(workers=1, timeout_s=3, preset="guarded")
    assert _warm_up_of(reward) == reward.warm_up
    assert reward._verifier.config == OutcomeConfig(  # the pool is chosen by these settings
        **{name: getattr(reward.config, name) for name in OutcomeConfig.model_fields}
    )
    # the length reward warms its measures (numpy, the scan's tables)
    assert _warm_up_of(rlsp_rewards.length) == rlsp_rewards.length.warm_up


def test_clip_range_clips_the_training_reward_only(tokenizer: Any, mixed: DataProto) -> None:
    cfg = verl_config(*reward_overrides("rlsp"), "+reward.reward_kwargs.clip_range=[-1,0.5]")
    outputs = run_manager(load_reward_manager(cfg, tokenizer), mixed)
    for out, want in zip(outputs, direct(mixed, framework_facts=True), strict=True):
        assert out["reward_score"] == min(max(want["score"], -1.0), 0.5)
        assert out["reward_extra_info"] == want  # the metrics keep the reward's own value


@pytest.mark.parametrize(
    "override, named",
    [
        ("+reward.custom_reward_function.reward_kwargs.preset=nonsense", "nonsense"),
        ("+reward.custom_reward_function.reward_kwargs.not_a_setting=1", "not_a_setting"),
        ("+reward.reward_kwargs.clip_range=[10,-10]", "clip_range"),
    ],
)
def test_bad_settings_fail_when_the_manager_is_built(
    tokenizer: Any, override: str, named: str
) -> None:
    cfg = verl_config(*reward_overrides("rlsp"), override)
    with pytest.raises(ConfigError, match=named):
        load_reward_manager(cfg, tokenizer)


def test_bad_settings_with_naive_stop_at_the_first_sample(tokenizer: Any, mixed: DataProto) -> None:
    cfg = verl_config(*reward_overrides("naive", preset="nonsense"))
    reward_manager = load_reward_manager(cfg, tokenizer)  # naive cannot check them here
    with pytest.raises(ConfigError, match="nonsense"):
        run_manager(reward_manager, mixed[:1])


USER_FUNCTIONS = """
def plain(data_source, solution_str, ground_truth, extra_info=None, bonus=0):
    return {"score": float(len(solution_str) > 0) + bonus, "tokens": extra_info["response_tokens"]}

def wants_facts(data_source, solution_str, ground_truth, extra_info, prompt, response_tokens):
    return {"score": float(response_tokens), "prompt_chars": float(len(prompt))}

async def takes_kwargs(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return {"score": float(kwargs["response_tokens"]), "has_prompt": float("prompt" in kwargs)}

def bare_number(data_source, solution_str, ground_truth, extra_info=None):
    return 0.25

def echo_prompt(data_source, solution_str, ground_truth, extra_info, prompt):
    return {"score": 0.0, "prompt": prompt}
"""


@pytest.mark.parametrize(
    "name, check",
    [
        # no prompt/response_tokens parameters: neither is passed; extra_info still has the count
        ("plain", lambda out, n: out == {"score": 3.0, "tokens": n}),
        # named parameters: both passed
        ("wants_facts", lambda out, n: out == {"score": float(n), "prompt_chars": len(QUESTION)}),
        # async with **kwargs: awaited, both passed
        ("takes_kwargs", lambda out, n: out == {"score": float(n), "has_prompt": 1.0}),
        # a bare number: verl's naive convention, the score doubles as acc
        ("bare_number", lambda out, n: out == {"acc": 0.25}),
    ],
)
def test_user_functions_through_the_rlsp_manager(
    tokenizer: Any, mixed: DataProto, tmp_path: Path, name: str, check: Any
) -> None:
    path = tmp_path / "my_rewards.py"
    path.write_text(USER_FUNCTIONS)
    overrides = [
        f"reward.custom_reward_function.path={path}",
        f"reward.custom_reward_function.name={name}",
        "reward.reward_manager.name=rlsp",
    ]
    if name == "plain":
        overrides.append("+reward.custom_reward_function.reward_kwargs.bonus=2")
    reward_manager = load_reward_manager(verl_config(*overrides), tokenizer)
    assert reward_manager.reward is None
    out = run_manager(reward_manager, mixed[:1])[0]
    assert check(out["reward_extra_info"], token_counts(mixed)[0]), out


@pytest.mark.parametrize("chat", [True, False])
def test_prompt_is_the_user_message_else_the_decoded_prompt_tokens(
    tokenizer: Any, tmp_path: Path, chat: bool
) -> None:
    path = tmp_path / "my_rewards.py"
    path.write_text(USER_FUNCTIONS)
    data = make_batch(tokenizer, MIXED[:1])
    if not chat:  # a batch built without the dataset's chat messages
        data.non_tensor_batch.pop("raw_prompt")
    cfg = verl_config(
        f"reward.custom_reward_function.path={path}",
        "reward.custom_reward_function.name=echo_prompt",
        "reward.reward_manager.name=rlsp",
    )
    out = run_manager(load_reward_manager(cfg, tokenizer), data)[0]
    assert out["reward_extra_info"]["prompt"] == QUESTION  # left padding excluded


# -- the judge: async, fed the prompt, against a real HTTP server ----------------------------


class JudgeServer:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 that holds every reply until
    ``concurrent`` requests are in flight together, then, after a judge's think time
    (``LATENCY_S``; the loop's heartbeat must tick meanwhile), grades them all 0.7."""

    LATENCY_S = 0.2

    def __init__(self, concurrent: int) -> None:
        self.barrier = threading.Barrier(concurrent, timeout=60)
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.paths.append(self.path)
                server.barrier.wait()
                time.sleep(server.LATENCY_S)
                reply = json.dumps({"rationale": "two approaches, checked", "grade": 0.7})
                message = {"role": "assistant", "content": reply}
                data = json.dumps({"choices": [{"message": message}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def judge_server() -> Iterator[JudgeServer]:
    server = JudgeServer(concurrent=4)
    yield server
    server.close()


def test_rlsp_manager_awaits_the_judge_without_blocking_the_loop(
    tokenizer: Any, mixed: DataProto, judge_server: JudgeServer
) -> None:
    cfg = verl_config(
        *reward_overrides(
            "rlsp",
            exploration="judge",
            judge_url=f"http://{judge_server.address}/v1",
            judge_model="judge",
            judge_retries=0,
        )
    )
    reward_manager = load_reward_manager(cfg, tokenizer)
    ticks = 0

    async def heartbeat(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def scenario() -> list[dict[str, Any]]:
        stop = asyncio.Event()
        beat = asyncio.create_task(heartbeat(stop))
        # the server answers only once all 4 requests are in flight at the same time
        rows = (reward_manager.run_single(mixed[i : i + 1]) for i in range(4))
        outs = await asyncio.gather(*rows)
        stop.set()
        await beat
        return outs

    outputs = reward_manager.loop.run_until_complete(scenario())
    assert ticks > 1  # the loop kept running while the judge calls were pending
    for out in outputs:
        info = out["reward_extra_info"]
        assert list(info) == list(RESULT_KEYS)
        assert info["judge_grade"] == 0.7 and info["judge_failed"] == 0.0
        assert out["reward_score"] == pytest.approx(0.8 * info["outcome"] + 0.2 * 0.7)
    # the judge saw the problem the rlsp manager passed as the prompt
    shown = " ".join(m["content"] for body in judge_server.requests for m in body["messages"])
    assert "What is 2 + 2?" in shown


def test_verl_managed_judge_gets_the_router_address(
    tokenizer: Any, mixed: DataProto, judge_server: JudgeServer
) -> None:
    cfg = verl_config(*reward_overrides("rlsp", exploration="judge", judge_model="judge"))
    reward_manager = load_reward_manager(
        cfg, tokenizer, reward_router_address=judge_server.address, reward_model_tokenizer=tokenizer
    )
    outputs = run_manager(reward_manager, mixed[:4])
    assert {o["reward_extra_info"]["judge_grade"] for o in outputs} == {0.7}
    assert set(judge_server.paths) == {"/v1/chat/completions"}


# -- a verifier timeout inside verl's threads ------------------------------------------------

# math-verify needs tens of seconds on this one (sympy expands a 2000-term sum); nothing cheap
# can decide it, so it reaches a worker process and overruns its budget.
SLOW = ("So the answer is \\boxed{\\sum_{k=1}^{2000} \\frac{\\sin(k x)}{k!}}.", "0")


@pytest.mark.parametrize("manager", ["naive", "rlsp"])  # verl's threads; our async path
def test_verifier_timeout_inside_verl_costs_its_budget_only(tokenizer: Any, manager: str) -> None:
    budget_s = 2.0
    rows = [SLOW, MIXED[0], MIXED[1], MIXED[4]]
    data = make_batch(tokenizer, rows)
    cfg = verl_config(*reward_overrides(manager, name="outcome", timeout_s=budget_s))
    reward_manager = load_reward_manager(cfg, tokenizer)
    run_manager(reward_manager, data[1:2])  # warm the worker pool: its start is not the test

    started = time.monotonic()
    outputs = run_manager(reward_manager, data)  # all four at once, in verl's thread pool
    elapsed = time.monotonic() - started
    infos = [o["reward_extra_info"] for o in outputs]
    # (should the verifier learn to decide SLOW cheaply, pick another answer it cannot)
    assert infos[0]["timeout"] == 1.0 and infos[0]["acc"] == 0.0 and infos[0]["error"] == 0.0
    assert [i["acc"] for i in infos[1:]] == [1.0, 1.0, 0.0]
    assert all(i["timeout"] == 0.0 for i in infos[1:])
    assert elapsed < budget_s + 25  # generous slack for 2 shared cores, far below math-verify's
    # the pool recovered: the next sample is scored normally
    again = run_manager(reward_manager, data[1:2])[0]["reward_extra_info"]
    assert again["acc"] == 1.0 and again["timeout"] == 0.0


# -- the training path: each rollout scored as it finishes, from the dataset row onwards ------


def load_prepare_data() -> Any:
    """examples/verl/prepare_data.py as a module (it is a script, not part of the package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[3] / "examples" / "verl" / "prepare_data.py"
    spec = importlib.util.spec_from_file_location("prepare_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("manager", ["naive", "rlsp"])
def test_agent_loop_scores_each_finished_rollout(
    tokenizer: Any, tokenizer_dir: str, tmp_path: Path, manager: str
) -> None:
    """prepare_data rows -> verl's RLHFDataset and collate_fn -> the agent loop's own
    ``_compute_score`` (verl 0.9.1's training path) -> a RewardLoopWorker -> our reward."""
    from types import SimpleNamespace

    from omegaconf import OmegaConf
    from verl.experimental.agent_loop.agent_loop import (
        AgentLoopMetrics,
        AgentLoopOutput,
        AgentLoopWorker,
    )
    from verl.experimental.reward_loop import RewardLoopWorker
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

    prepare_data = load_prepare_data()
    rows, _ = prepare_data.convert(
        [{"problem": "What is 2 + 2?", "answer": "4"}, {"problem": "Halve 1.", "answer": "0.5"}],
        split="train",
        data_source=SOURCE,
    )
    parquet = tmp_path / "train.parquet"
    prepare_data.write_parquet(rows, parquet)
    data_config = OmegaConf.create({"max_prompt_length": 512, "filter_overlong_prompts": False})
    dataset = RLHFDataset(str(parquet), tokenizer, data_config)
    batch = DataProto.from_single_dict(collate_fn([dataset[0], dataset[1]]))

    cfg = verl_config(*reward_overrides(manager), f"actor_rollout_ref.model.path={tokenizer_dir}")
    reward_worker = RewardLoopWorker(cfg)  # in process; Ray would host it as an actor
    agent_worker = object.__new__(AgentLoopWorker)  # only what _compute_score reads
    agent_worker.processor, agent_worker.mm_processor_kwargs = None, {}
    agent_worker.reward_loop_worker_handles = [
        SimpleNamespace(compute_score=SimpleNamespace(remote=reward_worker.compute_score))
    ]
    responses = ["So 2 + 2 = \\boxed{4}.", "Half of one is \\boxed{\\frac{1}{2}}, I think."]
    for i, response in enumerate(responses):
        kwargs = {k: v[i] for k, v in batch.non_tensor_batch.items()}  # as the agent loop does
        question = kwargs["raw_prompt"][0]["content"]
        response_ids = tokenizer.encode(response, add_special_tokens=False)
        response_ids.append(tokenizer.eos_token_id)
        output = AgentLoopOutput(
            prompt_ids=tokenizer.encode(question, add_special_tokens=False),
            response_ids=response_ids,
            response_mask=[1] * len(response_ids),
            metrics=AgentLoopMetrics(),
        )
        # on the worker's loop: naive schedules on the loop it was built with (as in a Ray actor)
        reward_worker.loop.run_until_complete(agent_worker._compute_score([output], kwargs=kwargs))
        info = output.extra_fields["reward_extra_info"]
        extra = {"response_tokens": len(response_ids), "prompt": question}
        want = combined(
            SOURCE,
            response,
            rows[i]["reward_model"]["ground_truth"],
            rows[i]["extra_info"],
            **(extra if manager == "rlsp" else {}),
        )
        assert info == want and output.reward_score == want["score"]
        assert info["acc"] == 1.0


# -- the distributed path: RewardLoopManager with Ray reward workers --------------------------


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("manager", ["naive", "rlsp"])
def test_reward_loop_manager_on_ray(
    local_ray: None, tokenizer_dir: str, mixed: DataProto, manager: str
) -> None:
    import ray
    from verl.experimental.reward_loop import RewardLoopManager

    cfg = verl_config(
        # a long budget: the verifier pools of fresh Ray workers start cold on 2 shared cores
        *reward_overrides(manager, timeout_s=60),
        "reward.num_workers=2",
        f"actor_rollout_ref.model.path={tokenizer_dir}",
    )
    loop_manager = RewardLoopManager(cfg)
    try:
        result = loop_manager.compute_rm_score(mixed)
    finally:
        for worker in loop_manager.reward_loop_workers:
            ray.kill(worker)
    assert result.meta_info["reward_extra_keys"] == list(RESULT_KEYS)
    expected = direct(mixed, framework_facts=manager == "rlsp", timeout_s=60)
    for key in RESULT_KEYS:
        assert list(result.non_tensor_batch[key]) == [row[key] for row in expected], key
    rm_scores = result.batch["rm_scores"]
    for i, n in enumerate(token_counts(mixed)):
        assert rm_scores[i, n - 1].item() == pytest.approx(expected[i]["score"])
