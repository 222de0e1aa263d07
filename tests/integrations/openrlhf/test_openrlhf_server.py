"""OpenRLHF 0.11.2's real HTTP client against our reward server on 127.0.0.1.

``SingleTurnAgentExecutor("http://.../get_reward")`` posts with OpenRLHF's own aiohttp code
(5 attempts, 1 s apart), so these tests cover the exact wire format, retries after transient
500s, round-robin over several servers, and the token in the URL.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import httpx
import openrlhf  # noqa: F401
import pytest
import torch
from openrlhf.utils.agent import SingleTurnAgentExecutor

from rlsp_rewards.core import NUMERIC_KEYS
from rlsp_rewards.integrations.openrlhf.server import create_app

PROMPT = "<|im_start|>user\nWhat is 6 times 7?<|im_end|>\n<|im_start|>assistant\n"


class WordTokenizer:
    """Just enough of a tokenizer for ``execute``: one id per character, decode joins them."""

    def __call__(self, text, add_special_tokens=False, return_tensors=None):
        return {"input_ids": torch.tensor([[ord(c) for c in text]])}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(chr(i) for i in ids)


class TinyEngine:
    def __init__(self, text: str) -> None:
        self.text = text + "<|im_end|>"

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        output = SimpleNamespace(
            token_ids=[ord(c) for c in self.text],
            text=self.text,
            finish_reason="stop",
            logprobs=None,
        )
        return SimpleNamespace(outputs=[output])


class FailingFirst:
    """Test-only ASGI wrapper: answers 500 to the first ``n`` requests (a flaky server)."""

    def __init__(self, app, n: int) -> None:
        self.app, self.left = app, n

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.left > 0:
            self.left -= 1
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"transient"})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def rlsp_reward():
    from rlsp_rewards.combine import RlspReward

    return RlspReward(preset="paper")


@pytest.fixture
def agent_log(caplog):
    caplog.set_level(logging.INFO, logger="openrlhf.utils.agent")
    return caplog


def failed(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Failed" in r.getMessage()]


def execute(url, response: str, label):
    executor = SingleTurnAgentExecutor(url)
    params = SimpleNamespace(max_tokens=64, logprobs=None)
    return asyncio.run(
        executor.execute(PROMPT, label, params, 4096, WordTokenizer(), TinyEngine(response))
    )


def test_openrlhf_client_gets_rewards(serve_app, rlsp_reward, agent_log) -> None:
    url = serve_app(create_app(rlsp_reward, token=""))
    right = execute(f"{url}/get_reward", "6*7 = \\boxed{42}", "42")
    wrong = execute(f"{url}/get_reward", "\\boxed{41}", {"answer": "42"})
    assert not failed(agent_log), failed(agent_log)
    assert right["scores"] == [1.0] and wrong["scores"] == [0.0]
    assert right["reward"][0] > wrong["reward"][0]
    assert set(right["extra_logs"]) == set(NUMERIC_KEYS)


def test_openrlhf_client_retries_through_transient_500s(serve_app, rlsp_reward, agent_log) -> None:
    url = serve_app(FailingFirst(create_app(rlsp_reward, token=""), n=2))
    out = execute(f"{url}/get_reward", "\\boxed{42}", "42")
    assert out["scores"] == [1.0]
    retries = [r for r in agent_log.records if "Request error" in r.getMessage()]
    assert len(retries) == 2 and not failed(agent_log)


def test_round_robin_over_several_servers(serve_app, rlsp_reward, agent_log) -> None:
    urls = [serve_app(create_app(rlsp_reward, token="")) for _ in range(2)]
    executor = SingleTurnAgentExecutor(
        [f"{u}/get_reward" for u in urls]
    )  # what a comma list becomes
    params = SimpleNamespace(max_tokens=64, logprobs=None)

    async def four() -> list[dict]:
        return [
            await executor.execute(
                PROMPT, "42", params, 4096, WordTokenizer(), TinyEngine("\\boxed{42}")
            )
            for _ in range(4)
        ]

    outs = asyncio.run(four())
    assert [o["scores"] for o in outs] == [[1.0]] * 4 and not failed(agent_log)
    for u in urls:  # two requests each
        assert (
            'rlsp_requests_total{code="200",route="/get_reward"} 2.0'
            in httpx.get(f"{u}/metrics").text
        )


def test_token_in_the_url(serve_app, rlsp_reward, agent_log) -> None:
    url = serve_app(create_app(rlsp_reward, token="s3cret"))
    with_token = url.replace("http://", "http://openrlhf:s3cret@")
    assert execute(f"{with_token}/get_reward", "\\boxed{42}", "42")["scores"] == [1.0]
    assert not failed(agent_log)


def test_a_burst_as_openrlhf_sends_it(serve_app, rlsp_reward, agent_log) -> None:
    """Every sample of a rollout batch at once, one new connection each, no client limit."""
    url = serve_app(create_app(rlsp_reward, token=""))
    executor = SingleTurnAgentExecutor(f"{url}/get_reward")
    params = SimpleNamespace(max_tokens=64, logprobs=None)
    tokenizer = WordTokenizer()

    async def burst() -> list[dict]:
        return await asyncio.gather(
            *(
                executor.execute(
                    PROMPT, str(i % 4), params, 4096, tokenizer, TinyEngine(f"\\boxed{{{i % 3}}}")
                )
                for i in range(BURST)
            )
        )

    outs = asyncio.run(burst())
    assert not failed(agent_log), failed(agent_log)[:3]
    assert [o["scores"] for o in outs] == [[float(i % 4 == i % 3)] for i in range(BURST)]


BURST = 512
