"""The reward server on real sockets: protocol, batch API, bad requests, auth, limits, metrics.

Every test talks HTTP to uvicorn on 127.0.0.1 (the ``serve_app`` fixture in conftest.py). The
``rlsp-rewards serve`` process itself (load, a killed worker, SIGTERM) is in
test_server_process.py.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import rlsp_rewards
from rlsp_rewards.core import NUMERIC_KEYS, RESULT_KEYS, Reward, RewardResult, Sample
from rlsp_rewards.integrations.openrlhf.server import create_app

#: A real template file on the server's disk.
PROMPT_FILE = Path(rlsp_rewards.__file__).parent / "judge/data/judge_prompt_v1.txt"
CHATML_PROMPT = "<|im_start|>user\nWhat is 6 times 7?<|im_end|>\n<|im_start|>assistant\n"


def chatml_query(response: str) -> str:
    return CHATML_PROMPT + response + "<|im_end|>"


@pytest.fixture(scope="module")
def rlsp_reward():
    from rlsp_rewards.combine import RlspReward

    return RlspReward(preset="paper")


@pytest.fixture
def url(serve_app, rlsp_reward) -> str:
    return serve_app(create_app(rlsp_reward, token=""))


class HeldReward(Reward):
    """A test-only reward that blocks until released: holds requests in flight for the gate."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()
        self.entered = threading.Event()
        self.entries = threading.Semaphore(0)  # one per call that has entered

    def score(self, sample: Sample) -> RewardResult:
        self.entered.set()
        self.entries.release()
        self.release.wait(30)
        return RewardResult(score=0.5, acc=1.0)


# -- OpenRLHF's protocol --------------------------------------------------------------------------


def test_get_reward_speaks_openrlhf_protocol(url: str) -> None:
    body = {
        "query": [
            chatml_query("6*7 = \\boxed{42}"),
            chatml_query("I think \\boxed{41}"),
            chatml_query("no idea"),
        ],
        "prompts": [CHATML_PROMPT] * 3,
        "labels": ["42", {"answer": "42"}, "42"],
    }
    response = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["scores"] == [1.0, 0.0, 0.0]
    assert out["rewards"] == out["extra_logs"]["score"]  # the preset's total
    assert out["extra_logs"]["outcome"] == [1.0, 0.0, 0.0]
    assert set(out["extra_logs"]) == set(NUMERIC_KEYS)  # fixed keys, no `pred` string
    assert out["extra_logs"]["no_answer"] == [0.0, 0.0, 1.0]
    assert all(len(v) == 3 for v in out["extra_logs"].values())


def test_get_reward_eval_flag_in_label_gives_pure_correctness(url: str) -> None:
    body = {
        "query": [chatml_query("\\boxed{42}")],
        "prompts": [CHATML_PROMPT],
        "labels": [{"answer": "42", "eval_mode": True}],
    }
    out = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    assert out["rewards"] == [1.0] and out["extra_logs"]["score"][0] != 1.0


def test_get_reward_empty_batch(url: str) -> None:
    out = httpx.post(f"{url}/get_reward", json={"query": [], "prompts": [], "labels": []}).json()
    assert out == {"rewards": [], "scores": [], "extra_logs": {k: [] for k in NUMERIC_KEYS}}


def test_a_slow_to_split_query_does_not_block_the_event_loop(serve_app) -> None:
    # Bug: the query was split into prompt and response on the event loop; a response ending
    # in many end-of-turn tokens takes seconds to strip, and /health, /metrics and every
    # other request waited for it. Splitting a large body now runs in a worker thread.
    from rlsp_rewards.exploration.length import LengthExploration

    url = serve_app(create_app(LengthExploration(), token=""))
    body = {"query": ["x" + "</s>" * 160_000], "labels": ["1"]}
    answer: dict = {}
    heavy = threading.Thread(
        target=lambda: answer.update(r=httpx.post(f"{url}/get_reward", json=body, timeout=120))
    )
    heavy.start()
    time.sleep(0.5)  # the heavy request is being worked on
    started = time.perf_counter()
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200
    waited = time.perf_counter() - started
    heavy.join(120)
    assert answer["r"].status_code == 200 and len(answer["r"].json()["rewards"]) == 1
    assert waited < 1.0, f"/health waited {waited:.1f} s behind one request"


# -- the batch API ---------------------------------------------------------------------------------


def test_v1_score_returns_fixed_keys_per_sample(url: str) -> None:
    samples = [
        {"response": "so \\boxed{\\frac{1}{2}}", "gold": "0.5", "response_tokens": 500},
        {"response": "\\boxed{3}", "gold": "The sum is $\\boxed{4}$."},
        {"response": "", "gold": None},
    ]
    response = httpx.post(f"{url}/v1/score", json={"samples": samples}, timeout=60)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [list(r) for r in results] == [list(RESULT_KEYS)] * 3
    assert [r["acc"] for r in results] == [1.0, 0.0, 0.0]
    assert results[0]["length"] == 500.0 and results[0]["pred"] == "\\frac{1}{2}"


def test_v1_score_per_request_settings(url: str) -> None:
    sample = {"response": "\\boxed{42}", "gold": "42", "response_tokens": 100}
    paper = httpx.post(f"{url}/v1/score", json={"samples": [sample]}).json()["results"][0]
    bigger_c = httpx.post(
        f"{url}/v1/score", json={"samples": [sample], "settings": {"C": 2000}}
    ).json()["results"][0]
    assert bigger_c["length_term"] == pytest.approx(2 * paper["length_term"])


def test_v1_score_lone_surrogate_in_the_answer_is_not_a_500(url: str) -> None:
    # Bug: "\\ud800" in a response (JSON escapes of lone surrogates, as JavaScript clients
    # send them) came back in `pred`, which cannot be encoded as UTF-8: the server answered
    # 500 for the whole batch. The answer is now encoded with the surrogate replaced.
    content = (
        b'{"samples": [{"response": "\\\\boxed{\\ud800}", "gold": "1"},'
        b' {"response": "\\\\boxed{1}", "gold": "1"}]}'
    )
    response = httpx.post(f"{url}/v1/score", content=content, headers=JSON, timeout=60)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["acc"] for r in results] == [0.0, 1.0] and "\ud800" not in results[0]["pred"]


@pytest.mark.parametrize(
    "settings",
    [
        # Bug: any client could point the judge at its own URL and name any environment
        # variable of the server as the judge's key: the server sent that secret to it.
        {"exploration": "judge", "judge_url": "http://127.0.0.1:9/v1"},
        {"judge_api_key_env": "HOME"},
        # Bug: each distinct pool size started a new process pool that was never closed.
        {"workers": 3},
        {"worker_memory_mb": 999},
        # a path on the server's disk (or a hub download) loaded per request
        {"tokenizer": "/etc"},
        # Bug: a template path per request told a client which files exist on the server
        # (/proc/self/environ included) and could send a file's text to the judge.
        {
            "judge_prompt": str(
                Path(rlsp_rewards.__file__).parent / "judge/data/judge_prompt_v1.txt"
            )
        },
    ],
)
def test_v1_score_rejects_server_side_settings_per_request(url: str, settings) -> None:
    sample = {"response": "\\boxed{42}", "gold": "42"}
    response = httpx.post(f"{url}/v1/score", json={"samples": [sample], "settings": settings})
    assert response.status_code == 422, response.text
    assert next(iter(settings.keys() - {"exploration"})) in response.json()["detail"]


def test_openapi_documents_both_apis(url: str) -> None:
    spec = httpx.get(f"{url}/openapi.json").json()
    assert {"/get_reward", "/v1/score", "/health", "/metrics"} <= set(spec["paths"])
    assert {"ScoreRequest", "ScoreResponse", "SampleResult", "OpenRLHFRequest"} <= set(
        spec["components"]["schemas"]
    )
    assert set(spec["components"]["schemas"]["SampleResult"]["properties"]) == set(RESULT_KEYS)


# -- bad requests: 4xx with a message, never 500 ---------------------------------------------------

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "route, content, headers",
    [
        ("/get_reward", b"{", JSON),  # truncated JSON
        ("/get_reward", b"", JSON),  # empty body
        ("/get_reward", b"\xff\xfe\x00junk", JSON),  # binary junk
        ("/get_reward", b"[]", JSON),  # not an object
        ("/get_reward", b'"query"', JSON),  # a bare string
        ("/get_reward", b'{"prompts": []}', JSON),  # query missing
        ("/get_reward", b'{"query": "a string"}', JSON),  # query not a list
        ("/get_reward", b'{"query": [1, 2]}', JSON),  # query items not strings
        ("/get_reward", b'{"query": ["a"], "labels": []}', JSON),  # lengths differ
        ("/get_reward", b'{"query": ["a"], "prompts": ["p", "q"]}', JSON),  # lengths differ
        ("/get_reward", b'{"query": ["a"]}', {"content-type": "text/plain"}),  # not JSON
        ("/get_reward", b"NaN", JSON),  # a JSON-ish non-object
        ("/v1/score", b'{"samples": [{"gold": "1"}]}', JSON),  # response missing
        ("/v1/score", b'{"samples": [{"response": "x", "colour": 1}]}', JSON),  # unknown field
        ("/v1/score", b'{"samples": [{"response": "x", "response_tokens": -3}]}', JSON),
        ("/v1/score", b'{"samples": {"response": "x"}}', JSON),  # samples not a list
        ("/v1/score", b'{"samples": [], "settings": {"alpha": 7}}', JSON),  # invalid setting
        ("/v1/score", b'{"samples": [], "settings": {"nope": 1}}', JSON),  # unknown setting
        ("/v1/score", b'{"samples": [], "settings": []}', JSON),  # settings not a mapping
    ],
)
def test_bad_requests_get_4xx_with_a_message(url: str, route: str, content: bytes, headers) -> None:
    response = httpx.post(f"{url}{route}", content=content, headers=headers, timeout=30)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "content, headers, line",
    [
        (b'{"query": ["a"]}', {"content-type": "text/plain"}, "body: the body must be a JSON"),
        (b"[1]", JSON, "body: the body must be a JSON object"),
        (b"{", JSON, "body: JSON decode error"),
        (b"[" * 100_000, JSON, "body: JSON nested too deeply"),
        (b'{"query": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", JSON, "nested too deeply"),
        (b'{"prompts": []}', JSON, "body.query: Field required"),
        (b'{"query": [1]}', JSON, "body.query.0: Input should be a valid string"),
        (b'{"query": ["a"], "labels": []}', JSON, "labels has 0 entries, query has 1"),
    ],
)
def test_get_reward_says_what_is_wrong_in_one_line_per_problem(
    url: str, content: bytes, headers, line: str
) -> None:
    # /get_reward is plain ASGI (get_reward.py), not a FastAPI route: the same 422 lines
    response = httpx.post(f"{url}/get_reward", content=content, headers=headers, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert isinstance(detail, list) and any(line in each for each in detail), detail


def test_get_reward_takes_lone_surrogates_and_chunked_bodies(url: str) -> None:
    # JSON escapes of lone surrogates (JavaScript clients send them) and a body sent in chunks
    query = chatml_query("x \ud800 so \\boxed{42}")
    surrogate = json.dumps({"query": [query], "labels": ["42"]}).encode()  # ascii: "\\ud800"
    assert b"\\ud800" in surrogate
    out = httpx.post(f"{url}/get_reward", content=surrogate, headers=JSON, timeout=30)
    assert out.status_code == 200 and out.json()["scores"] == [1.0]
    body = json.dumps({"query": [chatml_query("so \\boxed{42}")], "labels": ["42"]}).encode()

    def chunks():
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    chunked = httpx.post(f"{url}/get_reward", content=chunks(), headers=JSON, timeout=30)
    assert chunked.status_code == 200 and chunked.json()["scores"] == [1.0]


def test_get_reward_is_documented_with_its_schemas(url: str) -> None:
    spec = httpx.get(f"{url}/openapi.json").json()
    post = spec["paths"]["/get_reward"]["post"]
    request = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert (request, answer) == (
        "#/components/schemas/OpenRLHFRequest",
        "#/components/schemas/OpenRLHFResponse",
    )
    assert set(spec["components"]["schemas"]["OpenRLHFRequest"]["properties"]) == {
        "query",
        "prompts",
        "labels",
    }
    assert httpx.get(f"{url}/docs").status_code == 200


def test_the_gate_answers_get_reward_posts_itself(serve_app, rlsp_reward, monkeypatch) -> None:
    # OpenRLHF's thousands of POSTs per step skip FastAPI's middleware and router: the gate,
    # which has read the body already, hands it to the endpoint.
    from rlsp_rewards.integrations.openrlhf.get_reward import GetReward

    routed: list[str] = []

    async def through_the_router(self, scope, receive, send) -> None:
        routed.append(scope["method"])
        raise AssertionError("reached through the router")

    monkeypatch.setattr(GetReward, "__call__", through_the_router)
    url = serve_app(create_app(rlsp_reward, token=""))
    body = {"query": [chatml_query("\\boxed{42}")], "prompts": [CHATML_PROMPT], "labels": ["42"]}
    answer = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert answer.status_code == 200 and answer.json()["scores"] == [1.0]
    assert httpx.get(f"{url}/get_reward").status_code == 405  # the router: a wrong method
    assert routed == []


def test_wrong_method_and_unknown_route(url: str) -> None:
    assert httpx.get(f"{url}/get_reward").status_code == 405
    assert httpx.post(f"{url}/nowhere", json={}).status_code == 404


# -- auth, size limit, saturation ------------------------------------------------------------------


def test_token_required_on_scoring_routes(serve_app, rlsp_reward) -> None:
    url = serve_app(create_app(rlsp_reward, token="s3cret"))
    body = {"query": [chatml_query("\\boxed{42}")], "prompts": [CHATML_PROMPT], "labels": ["42"]}
    assert httpx.post(f"{url}/get_reward", json=body).status_code == 401
    wrong = httpx.post(f"{url}/get_reward", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]
    assert httpx.post(f"{url}/v1/score", json={"samples": []}).status_code == 401
    bearer = httpx.post(f"{url}/get_reward", json=body, headers={"Authorization": "Bearer s3cret"})
    assert bearer.json()["scores"] == [1.0]
    basic = httpx.post(f"{url}/get_reward", json=body, auth=("openrlhf", "s3cret"))
    assert basic.status_code == 200  # what aiohttp sends for http://user:TOKEN@host URLs
    assert httpx.get(f"{url}/health").status_code == 200  # health stays open for probes


def test_token_from_environment(serve_app, rlsp_reward, monkeypatch) -> None:
    monkeypatch.setenv("RLSP_SERVER_TOKEN", "from-env")
    url = serve_app(create_app(rlsp_reward))
    assert httpx.post(f"{url}/v1/score", json={"samples": []}).status_code == 401
    ok = httpx.post(
        f"{url}/v1/score", json={"samples": []}, headers={"Authorization": "Bearer from-env"}
    )
    assert ok.status_code == 200


def test_body_size_limit_declared_and_streamed(serve_app, rlsp_reward) -> None:
    url = serve_app(create_app(rlsp_reward, max_body_bytes=1000))
    big = {"samples": [{"response": "x" * 2000}]}
    assert httpx.post(f"{url}/v1/score", json=big).status_code == 413  # Content-Length says so
    sent = []

    def chunks():  # no Content-Length: chunked; the server must stop reading at the limit
        for _ in range(10_000):
            sent.append(1)
            yield b"x" * 1000

    streamed = httpx.post(f"{url}/v1/score", content=chunks(), headers=JSON, timeout=30)
    assert streamed.status_code == 413 and "limit" in streamed.json()["detail"]
    small = httpx.post(
        f"{url}/v1/score", json={"samples": [{"response": "\\boxed{1}", "gold": "1"}]}
    )
    assert small.status_code == 200


def test_saturated_server_answers_503_with_retry_after(serve_app) -> None:
    reward = HeldReward()
    url = serve_app(create_app(reward, max_in_flight=2, retry_after_s=3))
    body = {"samples": [{"response": "x"}]}
    with httpx.Client(timeout=60) as client:
        threads = [
            threading.Thread(target=client.post, args=(f"{url}/v1/score",), kwargs={"json": body})
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        # Both held requests admitted (on a busy machine the second can lag behind the first:
        # a probe sent before it would take its slot and be held itself).
        assert all(reward.entries.acquire(timeout=30) for _ in threads)
        deadline = time.monotonic() + 30
        while True:  # the third is turned away
            busy = client.post(f"{url}/v1/score", json=body)
            if busy.status_code == 503 or time.monotonic() > deadline:
                break
        reward.release.set()
        for thread in threads:
            thread.join(30)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "3"
        assert client.post(f"{url}/v1/score", json=body).status_code == 200
        assert client.get(f"{url}/health").status_code == 200


def test_create_app_rejects_bad_limits() -> None:
    from rlsp_rewards.errors import ConfigError

    with pytest.raises(ConfigError, match="max_in_flight"):
        create_app(HeldReward(), max_in_flight=0)


# -- metrics ---------------------------------------------------------------------------------------


def test_metrics_count_requests_statuses_and_pools(url: str) -> None:
    body = {
        "query": [chatml_query("\\boxed{42}"), chatml_query("nothing")],
        "prompts": [CHATML_PROMPT] * 2,
        "labels": ["42", "42"],
    }
    httpx.post(f"{url}/get_reward", json=body, timeout=60)
    httpx.post(f"{url}/get_reward", content=b"{", headers=JSON)
    text = httpx.get(f"{url}/metrics").text
    assert 'rlsp_requests_total{code="200",route="/get_reward"} 1.0' in text
    assert 'rlsp_requests_total{code="422",route="/get_reward"} 1.0' in text
    assert 'rlsp_samples_total{status="correct"} 1.0' in text
    assert 'rlsp_samples_total{status="no_answer"} 1.0' in text
    assert "rlsp_request_seconds_bucket" in text and "rlsp_pool_restarts_total" in text


class WarmingReward(HeldReward):
    """Test-only: records its warm-up, or fails it."""

    def __init__(self, fail: bool) -> None:
        super().__init__()
        self.fail, self.warmed = fail, False

    def warm_up(self) -> bool:
        self.warmed = True
        if self.fail:
            raise RuntimeError("no workers today")
        return True


@pytest.mark.parametrize("fail", [False, True])
def test_reward_warmed_up_before_serving_and_a_failed_warm_up_is_not_fatal(serve_app, fail) -> None:
    reward = WarmingReward(fail)
    url = serve_app(create_app(reward, token=""))
    assert reward.warmed and httpx.get(f"{url}/health").status_code == 200


class CachingReward(HeldReward):
    """Test-only: a reward that reports cache counters, as the server's metrics read them."""

    def cache_stats(self) -> dict[str, int]:
        return {"hits": 41, "misses": 1, "entries": 7}


def test_metrics_export_a_rewards_cache_counters(serve_app) -> None:
    url = serve_app(create_app(CachingReward(), token=""))
    text = httpx.get(f"{url}/metrics").text
    assert "rlsp_cache_hits_total 41.0" in text and "rlsp_cache_misses_total 1.0" in text
    # Bug: the cache's current size (it shrinks on eviction) was exported as a counter,
    # rlsp_cache_entries_total, which Prometheus reads as a reset each time it goes down.
    assert "# TYPE rlsp_cache_entries gauge" in text and "rlsp_cache_entries 7.0" in text
    assert "rlsp_cache_entries_total" not in text


def test_metrics_count_judge_failures(serve_app) -> None:
    from rlsp_rewards.combine import RlspReward

    unreachable = RlspReward(
        exploration="judge",
        judge_url="http://127.0.0.1:9/v1",  # refused
        judge_retries=0,
        judge_budget_s=5,
    )
    url = serve_app(create_app(unreachable, token=""))
    body = {
        "query": [chatml_query("\\boxed{42}")] * 2,
        "prompts": [CHATML_PROMPT] * 2,
        "labels": ["42", "42"],
    }
    out = httpx.post(f"{url}/get_reward", json=body, timeout=60).json()
    assert out["extra_logs"]["judge_failed"] == [1.0, 1.0] and out["scores"] == [1.0, 1.0]
    assert "rlsp_judge_failures_total 2.0" in httpx.get(f"{url}/metrics").text


# -- the CLI helpers around the OpenRLHF adapter ---------------------------------------------------


def test_openrlhf_path_prints_the_installed_one_line_adapter() -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from rlsp_rewards.cli.app import app

    result = CliRunner().invoke(app, ["openrlhf-path"])
    path = Path(result.output.strip())
    assert result.exit_code == 0 and path.is_absolute() and path.name == "reward_func.py"
    assert "from rlsp_rewards.integrations.openrlhf import reward_func" in path.read_text()


def test_adapter_package_imports_no_torch_and_reads_no_settings() -> None:
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ['RLSP_REWARD_CONFIG'] = '{broken'; "
        "import rlsp_rewards.integrations.openrlhf as a; "
        "assert a.split_response('x', None) == 'x'; "
        "print(sorted(m for m in ('torch', 'fastapi', 'sympy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- reliability: per-request latency, slow bodies, limits, /health -----------------------------


class SleepyReward(Reward):
    """Test-only: a sample's response is how many seconds scoring it takes."""

    def score(self, sample: Sample) -> RewardResult:
        time.sleep(float(sample.response))
        return RewardResult(score=float(sample.response))

    async def ascore(self, sample: Sample) -> RewardResult:
        import asyncio

        await asyncio.sleep(float(sample.response))
        return RewardResult(score=float(sample.response))


def test_each_get_reward_request_is_answered_when_its_own_samples_are_done(serve_app) -> None:
    # Bug: the requests of one micro-batch were all answered when its slowest sample ended:
    # 30 trivial requests waited 5 s behind 2 slow ones.
    url = serve_app(create_app(SleepyReward(), token="", batch_window_s=0.05))
    done: dict[str, list[float]] = {"fast": [], "slow": []}

    def post(kind: str, seconds: str) -> None:
        response = httpx.post(f"{url}/get_reward", json={"query": [seconds]}, timeout=60)
        assert response.status_code == 200
        done[kind].append(time.monotonic())

    threads = [threading.Thread(target=post, args=("slow", "4")) for _ in range(2)]
    threads += [threading.Thread(target=post, args=("fast", "0")) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(done["fast"]) == 20 and len(done["slow"]) == 2
    assert max(done["fast"]) < min(done["slow"])  # no fast request waited for a slow one


class BlockingReward(Reward):
    """Test-only: scoring blocks its thread for 0.2 s, as a compiled scan does (without the
    GIL), and records which threads scored and how many at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.threads: set[str] = set()
        self.running = self.most = 0

    def score(self, sample: Sample) -> RewardResult:
        with self.lock:
            self.threads.add(threading.current_thread().name)
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.2)
        with self.lock:
            self.running -= 1
        return RewardResult(score=1.0)

    async def ascore(self, sample: Sample) -> RewardResult:
        return self.score(sample)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_get_reward_requests_are_dealt_out_to_the_scoring_threads(serve_app, threads) -> None:
    # One scoring thread ran the compiled scans of long responses one after another, while
    # they release the GIL: the server's bottleneck at 16 KB.
    reward = BlockingReward()
    url = serve_app(create_app(reward, token="", batch_window_s=0.05, scoring_threads=threads))
    with ThreadPoolExecutor(8) as pool:
        post = functools.partial(httpx.post, f"{url}/get_reward", json={"query": ["x"]}, timeout=60)
        posts = [pool.submit(post) for _ in range(6)]
        assert [post.result().json()["rewards"] for post in posts] == [[1.0]] * 6
    assert reward.threads == {f"rlsp-scoring-{k}" for k in range(threads)}
    assert reward.most == threads  # they score at once, each one request at a time


def test_scoring_threads_default_to_the_cpus_and_must_be_positive(monkeypatch) -> None:
    from rlsp_rewards.errors import ConfigError
    from rlsp_rewards.integrations.openrlhf import server

    with pytest.raises(ConfigError, match="scoring_threads must be at least 1, got 0"):
        create_app(HeldReward(), scoring_threads=0)
    monkeypatch.setattr("rlsp_rewards.workers.available_cpus", lambda: 64)
    app = create_app(HeldReward())
    assert app.state.scoring_threads == server.MAX_SCORING_THREADS
    monkeypatch.setattr("rlsp_rewards.workers.available_cpus", lambda: 1)
    assert create_app(HeldReward()).state.scoring_threads == 1


def test_queued_checks_of_concurrent_requests_keep_their_deadlines(serve_app, slow_answer):
    # Bug: the micro-batch queued its distinct checks with no deadline, so with one worker 6
    # slow answers took 6 budgets each; now each request returns within its own budget.
    from rlsp_rewards.combine import RlspReward

    budget_s = 1.0
    reward = RlspReward(timeout_s=budget_s, workers=1)
    assert reward.warm_up()
    url = serve_app(create_app(reward, token=""))
    answers: dict[int, tuple[float, dict]] = {}

    def post(i: int) -> None:
        body = {"query": [chatml_query(slow_answer)], "labels": [str(100 + i)]}  # distinct
        started = time.monotonic()
        out = httpx.post(f"{url}/get_reward", json=body, timeout=120).json()
        answers[i] = (time.monotonic() - started, out)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(out["extra_logs"]["timeout"] == [1.0] for _, out in answers.values())
    assert all(seconds < budget_s + 2.0 for seconds, _ in answers.values()), answers


def _slow_sender(port: int, path: str = "/get_reward"):
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n{".encode()
    )
    return sock  # the rest of the body never comes


def test_slow_bodies_do_not_hold_the_in_flight_slots(serve_app) -> None:
    # Bug: a request counted as in flight before its body was read, and the read had no
    # deadline: 17 clients dribbling bodies made every real request get 503.
    from urllib.parse import urlparse

    url = serve_app(create_app(SleepyReward(), token="", max_in_flight=2, body_timeout_s=2.0))
    port = urlparse(url).port
    slow = [_slow_sender(port) for _ in range(6)]
    try:
        deadline = time.monotonic() + 30
        while "rlsp_requests_reading 6.0" not in httpx.get(f"{url}/metrics").text:
            assert time.monotonic() < deadline, "the slow bodies were never being read"
            time.sleep(0.05)
        real = httpx.post(f"{url}/get_reward", json={"query": ["0"]}, timeout=30)
        assert real.status_code == 200  # admitted: the slow senders hold no in-flight slot
        for sock in slow:  # each slow sender is cut off at the body deadline
            sock.settimeout(30)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        for sock in slow:
            sock.close()
    assert 'rlsp_requests_total{code="408",route="/get_reward"} 6.0' in (
        httpx.get(f"{url}/metrics").text
    )


@pytest.mark.parametrize(
    ("settings", "status"),
    [
        ({"timeout_s": 600}, 422),  # would hold a worker for 600 s per sample
        ({"judge_budget_s": 3600}, 422),
        ({"max_response_chars": 10**9}, 422),
        ({"timeout_s": 1.0}, 200),  # asking for less is fine
    ],
)
def test_v1_score_settings_may_tighten_the_servers_limits_not_loosen_them(
    url: str, settings, status
) -> None:
    sample = {"response": "\\boxed{42}", "gold": "42"}
    response = httpx.post(f"{url}/v1/score", json={"samples": [sample], "settings": settings})
    assert response.status_code == status, response.text
    if status == 422:
        assert "over this server's limit" in response.json()["detail"]


def test_v1_score_caps_the_samples_of_one_request(serve_app) -> None:
    # Bug: one 6 MB request produced a 48 MB reply in 43 s.
    from rlsp_rewards.exploration.length import LengthExploration

    url = serve_app(create_app(LengthExploration(), token="", max_samples=100))
    samples = [{"response": "x"}] * 101
    over = httpx.post(f"{url}/v1/score", json={"samples": samples})
    assert over.status_code == 413 and "split the batch" in over.json()["detail"]
    fits = httpx.post(f"{url}/v1/score", json={"samples": samples[:100]}).json()
    assert len(fits["results"]) == 100 and set(fits["results"][0]) == set(RESULT_KEYS)


def test_health_shows_the_configuration_only_behind_the_token(serve_app, rlsp_reward) -> None:
    # Bug: /health showed the whole configuration (judge URL, tokenizer path...) to anyone.
    url = serve_app(create_app(rlsp_reward, token="s3cret"))
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    wrong = httpx.get(f"{url}/health", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"status": "ok"}
    shown = httpx.get(f"{url}/health", headers={"Authorization": "Bearer s3cret"}).json()
    assert shown["status"] == "ok" and "RlspReward(" in shown["reward"] and shown["version"]
