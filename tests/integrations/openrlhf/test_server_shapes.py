"""The length shapes through the reward server, on real sockets (uvicorn on 127.0.0.1): a group
shape groups each /v1/score request by prompt id or prompt, per-sample shapes work on both
routes, and a group shape's /get_reward (OpenRLHF: one sample per request) answers 422 saying
why, never a silent per-sample score. The OpenRLHF file adapter refuses group shapes at load."""

from __future__ import annotations

import httpx
import pytest

from rlsp_rewards.combine import RlspReward
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.integrations.openrlhf import OpenRLHFReward
from rlsp_rewards.integrations.openrlhf.server import SampleResult, ScoreSample, create_app

TOL = 1e-9
RIGHT, WRONG = "So \\boxed{4}.", "So \\boxed{5}."


def sample(response: str, tokens: int, **fields: object) -> dict:
    return {"response": response, "gold": "4", "response_tokens": tokens, **fields}


def test_the_schemas_carry_the_new_fields() -> None:
    assert "shape_term" in SampleResult.model_fields
    assert ScoreSample(response="", extra_info={"prompt_id": 3}).extra_info == {"prompt_id": 3}


def test_v1_score_groups_a_request_by_prompt(serve_app) -> None:
    url = serve_app(create_app(RlspReward(exploration="shorter_better"), token=""))
    samples = [
        sample(WRONG, 100, prompt="p"),
        sample(RIGHT, 300, prompt="q"),  # q alone: its l_sol is its own 300
        sample(RIGHT, 300, prompt="p"),
        sample(RIGHT, 500, prompt="p"),
    ]
    response = httpx.post(f"{url}/v1/score", json={"samples": samples}, timeout=60)
    assert response.status_code == 200, response.text
    scores = [r["score"] for r in response.json()["results"]]
    assert scores == pytest.approx([-0.2, 2.0, 2.0, 1.8], abs=TOL)


def test_v1_score_takes_a_group_shape_per_request_and_prompt_ids(serve_app) -> None:
    url = serve_app(create_app(RlspReward(), token=""))  # a per-sample server
    samples = [
        sample(RIGHT, 100, prompt="2+2?", extra_info={"prompt_id": "a"}),
        sample(WRONG, 400, prompt="2 + 2?", extra_info={"prompt_id": "a"}),  # same group
        sample(RIGHT, 250, prompt="2+2?", extra_info={"prompt_id": "a"}),
    ]
    body = {"samples": samples, "settings": {"exploration": "kimi"}}
    response = httpx.post(f"{url}/v1/score", json=body, timeout=60)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    # min 100, max 400: lam 0.5, -0.5, 0.0; 0.8*v + 0.2*term
    assert [r["shape_term"] for r in results] == pytest.approx([0.5, -0.5, 0.0], abs=TOL)
    assert [r["score"] for r in results] == pytest.approx([0.9, -0.1, 0.8], abs=TOL)


def test_v1_score_l1_reads_the_target_from_extra_info(serve_app) -> None:
    url = serve_app(create_app(RlspReward(), token=""))
    samples = [sample(RIGHT, 1500, extra_info={"target_tokens": 1000})]
    body = {"samples": samples, "settings": {"exploration": "l1_exact"}}
    result = httpx.post(f"{url}/v1/score", json=body, timeout=60).json()["results"][0]
    assert result["score"] == pytest.approx(0.85, abs=TOL) and result["error"] == 0.0


def test_get_reward_of_a_group_shape_answers_422_saying_why(serve_app) -> None:
    url = serve_app(create_app(RlspReward(exploration="kimi"), token=""))
    body = {"query": ["<|im_start|>assistant\n\\boxed{4}<|im_end|>"], "labels": ["4"]}
    response = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "group shape" in detail and "once per sample" in detail and "/v1/score" in detail


def test_get_reward_of_a_per_sample_shape_works(serve_app) -> None:
    url = serve_app(create_app(RlspReward(exploration="dapo_overlong", max_tokens=4), token=""))
    body = {"query": ["<|im_start|>assistant\nSo \\boxed{4}.<|im_end|>"], "labels": ["4"]}
    response = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert response.status_code == 200, response.text
    logs = response.json()["extra_logs"]
    # 13 characters ~ 3.25 tokens: L 4, B 1 -> (3 - 3.25) / 1; score 0.8 + 0.2 * -0.25
    assert logs["shape_term"] == pytest.approx([-0.25], abs=TOL)
    assert response.json()["rewards"] == pytest.approx([0.75], abs=TOL)


@pytest.mark.parametrize("shape", ["kimi", "shorter_better"])
def test_the_file_adapter_refuses_group_shapes_when_it_loads(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLSP_REWARD_CONFIG", f'{{"exploration": "{shape}"}}')
    with pytest.raises(ConfigError, match=r"group shape.*OpenRLHF calls its reward once per"):
        OpenRLHFReward.from_env()
    monkeypatch.setenv("RLSP_REWARD_CONFIG", '{"exploration": "cosine"}')
    assert OpenRLHFReward.from_env().reward.config.exploration == "cosine"
