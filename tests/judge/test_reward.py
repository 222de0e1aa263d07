"""The LLM judge against a real, scripted OpenAI-compatible server on 127.0.0.1.

The stub server (aiohttp.web on its own thread) reads a ``SCENARIO:<name>`` marker from the
response text it is asked to grade and answers accordingly (a clean grade, fenced JSON, HTTP 500
once, 429 with Retry-After, a slow reply, a body cut short...). Each test uses a fresh response
text, so the server's per-text request counts show how many attempts a judgement took.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import pickle
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from rlsp_rewards.bench.judge import run_judge_bench
from rlsp_rewards.core import RESULT_KEYS, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.judge.client import chat_url
from rlsp_rewards.judge.prompt import (
    NO_PROBLEM,
    JudgeReplyError,
    load_template,
    parse_reply,
    render_prompt,
    truncate_middle,
)
from rlsp_rewards.judge.reward import JudgeConfig, JudgeExploration, JudgeGrade, judge

SLACK_S = 2.0  # generous: the machine is shared; only "finishes within its budget" is checked


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": "stub-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


CLEAN = '{"rationale": "two approaches and a check", "grade": 0.7}'
#: What the stub answers with HTTP 200, by scenario.
REPLIES = {
    "clean": CLEAN,
    "fenced": 'Here you go:\n```json\n{"rationale": "fine", "grade": 0.6}\n```',
    "prose": 'My assessment follows. {"rationale": "some effort", "grade": 0.4} Hope this helps.',
    "trailing": '{"rationale": "brief", "grade": 0.3,}',
    "stringgrade": '{"rationale": "thorough", "grade": "0.8"}',
    "think": '<think>maybe {"grade": 1.0}?</think>{"rationale": "one idea", "grade": 0.2}',
    "garbage": "The response shows considerable effort overall.",
    "toohigh": '{"rationale": "amazing", "grade": 1.7}',
    "nograde": '{"rationale": "no number here"}',
    "boolgrade": '{"rationale": "yes", "grade": true}',
}


class StubJudge:
    """A scripted chat-completions server in a background thread; records what it receives."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        threading.Thread(target=self._run, name="stub-judge", daemon=True).start()
        assert self._ready.wait(30), "the stub judge did not start"
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()

    def requests_for(self, token: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if token in r["content"]]

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stub-model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        content = body["messages"][-1]["content"]
        found = re.search(r"SCENARIO:(\w+)", content)
        scenario = found.group(1) if found else "clean"
        found_group = re.search(r"GROUP:(\w+)", content)
        group = found_group.group(1) if found_group else None
        with self._lock:
            self.requests.append(
                {
                    "body": body,
                    "headers": dict(request.headers),
                    "path": request.path,
                    "content": content,
                    "peer": request.transport and request.transport.get_extra_info("peername"),
                }
            )
            self.hits[content] += 1
            attempt = self.hits[content]
            if group:
                self.active[group] += 1
                self.peak[group] = max(self.peak[group], self.active[group])
        try:
            return await self._answer(request, scenario, attempt)
        finally:
            if group:
                with self._lock:
                    self.active[group] -= 1

    async def _answer(
        self, request: web.Request, scenario: str, attempt: int
    ) -> web.StreamResponse:
        if scenario in REPLIES:
            return web.json_response(_completion(REPLIES[scenario]))
        if scenario == "notchat":
            return web.Response(text="<html>gateway page</html>", content_type="text/html")
        if scenario == "error500once" and attempt == 1:
            return web.json_response({"error": "overloaded"}, status=500)
        if scenario == "ratelimited" and attempt == 1:
            return web.json_response({"error": "later"}, status=429, headers={"Retry-After": "1"})
        if scenario == "ratelimitedlong":
            return web.json_response({"error": "later"}, status=429, headers={"Retry-After": "120"})
        if scenario == "redirected":
            return web.Response(status=307, headers={"Location": "https://elsewhere/v1"})
        if scenario == "badrequest":
            return web.json_response({"error": "bad model"}, status=400)
        if scenario == "huge":  # a hostile server: 5 MB of body
            return web.Response(body=b"x" * 5_000_000, content_type="application/json")
        if scenario == "slow":
            await asyncio.sleep(30)
        if scenario == "slowish":
            await asyncio.sleep(0.15)
        if (scenario == "dropped" and attempt == 1) or scenario == "alwaysdropped":
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.content_length = 5000
            await response.prepare(request)
            await response.write(b'{"choices": [{"index": 0, "mess')
            assert request.transport is not None
            request.transport.close()  # the connection dies mid-body
            return response
        return web.json_response(_completion(CLEAN))


@pytest.fixture(scope="module")
def stub() -> Iterator[StubJudge]:
    yield StubJudge()


@pytest.fixture(autouse=True)
def _no_judge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RLSP_JUDGE_URL", "OPENAI_BASE_URL", "RLSP_JUDGE_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def make_judge(stub: StubJudge, **settings: Any) -> JudgeExploration:
    values: dict[str, Any] = {
        "judge_url": stub.url,
        "judge_model": "judge-x",
        "judge_timeout_s": 2.0,
        "judge_budget_s": 5.0,
        "judge_retries": 2,
    }
    values.update(settings)
    return JudgeExploration(**values)


def text(scenario: str = "clean", extra: str = "") -> str:
    """A response never seen before, carrying its scenario for the stub."""
    return f"SCENARIO:{scenario} {extra} Let me try it. Wait, check it. {uuid.uuid4().hex}"


def timed(reward: JudgeExploration, response: str, **kw: Any) -> tuple[JudgeGrade, float]:
    start = time.monotonic()
    judged = reward.grade(Sample(response=response, **kw))
    return judged, time.monotonic() - start


# -- parsing and the prompt (no server) ------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        (CLEAN, 0.7),  # bare JSON
        (REPLIES["fenced"], 0.6),  # ```json fence with prose before it
        ('```\n{"grade": 0.5}\n```', 0.5),  # fence without a language
        (REPLIES["prose"], 0.4),  # prose on both sides
        (REPLIES["trailing"], 0.3),  # trailing comma
        (REPLIES["stringgrade"], 0.8),  # grade as a string
        ('{"grade": " 1 "}', 1.0),  # string with spaces, integer form
        ('{"grade": 0}', 0.0),  # the lowest band
        (REPLIES["think"], 0.2),  # a <think> block is skipped
        ('{"Grade": 0.9, "Rationale": "x"}', 0.9),  # keys in another case
        ('draft {"grade": 0.1} final {"rationale": "r", "grade": 0.6}', 0.6),  # the last one wins
        ('{"rationale": {"depth": "good"}, "grade": 0.5}', 0.5),  # a structured rationale
        ('{"rationale": null, "grade": 0.5}', 0.5),  # no rationale
    ],
)
def test_replies_read(reply: str, grade: float) -> None:
    assert parse_reply(reply).grade == grade


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (REPLIES["garbage"], "no JSON object"),  # prose only
        (REPLIES["nograde"], "no JSON object with a grade"),  # no grade key
        (REPLIES["toohigh"], "less than or equal to 1"),  # out of range
        ('{"grade": -0.1}', "greater than or equal to 0"),  # out of range
        ('{"grade": "high"}', "grade"),  # not a number
        (REPLIES["boolgrade"], "must be a number"),  # JSON true is not 1.0
        ('{"grade": NaN}', "grade"),  # not finite
        ("", "no JSON object"),  # empty
        ("{" * 10_000, "no JSON object"),  # hostile: many openings
    ],
)
def test_replies_rejected(reply: str, message: str) -> None:
    with pytest.raises(JudgeReplyError, match=message):
        parse_reply(reply)


def test_prompt_has_the_rubric_and_no_gold() -> None:
    prompt = render_prompt(load_template("rlsp-effort-v1"), "Find x if 2x = 6.", "x = 3")
    for phrase in (
        "Diversity of strategies",
        "Depth of exploration",
        "Creativity",
        "Persistence and rigor",
        '"rationale"',
        '"grade"',
        "Find x if 2x = 6.",
    ):
        assert phrase in prompt
    assert "correct" in prompt  # it tells the judge to ignore correctness
    assert prompt.count("x = 3") == 1


def test_prompt_truncates_long_texts_in_the_middle() -> None:
    response = "HEAD " + "filler " * 20_000 + " TAIL"
    prompt = render_prompt("{problem}|{response}", "P" * 10_000, response, max_chars=4_000)
    assert len(prompt) <= 4_001
    assert "HEAD" in prompt and "TAIL" in prompt and "characters omitted" in prompt
    assert len(truncate_middle("x" * 100, 60)) <= 60


def test_braces_in_texts_are_not_expanded() -> None:
    rendered = render_prompt("{problem}/{response}", "{response}", "{problem}")
    assert rendered == "{response}/{problem}"
    assert NO_PROBLEM in render_prompt("{problem}", "  ", "r")


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions"),  # verl's router address
        ("http://h:8000/v1", "http://h:8000/v1/chat/completions"),  # base URL
        ("http://h:8000/v1/", "http://h:8000/v1/chat/completions"),  # trailing slash
        ("https://api.x.com/v1/chat/completions", "https://api.x.com/v1/chat/completions"),  # full
    ],
)
def test_chat_url(base: str, url: str) -> None:
    assert chat_url(base) == url


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"judge_url": "localhost:8000"}, "localhost:8000"),  # no scheme
        ({"judge_prompt": "effort-v9"}, "rlsp-effort-v1"),  # unknown version: the known ones
        ({"judge_fallback": 1.5}, "judge_fallback"),  # outside [0, 1]
        ({"judge_timeout_s": 0}, "judge_timeout_s"),
        ({"judge_max_in_flight": 0}, "judge_max_in_flight"),
        ({"judge_api_key": "sk-x"}, "unknown setting"),  # keys never go in the settings
    ],
)
def test_bad_settings_are_named(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        JudgeExploration(**settings)


def test_user_template_file(
    stub: StubJudge, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Grade {problem} please", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \{response\} placeholder"):
        JudgeExploration(judge_prompt=str(bad))
    good = tmp_path / "mine.txt"
    good.write_text('Effort of [{response}] on [{problem}]? JSON {"grade": x}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    reward = make_judge(stub, judge_prompt="mine.txt")  # relative: kept as an absolute path
    assert reward.config.judge_prompt == str(good.resolve())
    response = text()
    judged, _ = timed(reward, response, prompt="P1")
    assert not judged.failed
    (sent,) = stub.requests_for(response)
    assert sent["content"] == f'Effort of [{response}] on [P1]? JSON {{"grade": x}}'


def test_ready_instance_builds_without_environment() -> None:
    assert judge.config.judge_url is None and judge.config.judge_model is None
    out = judge(solution_str="Let me try.", ground_truth="1")
    assert out["judge_failed"] == 1.0 and out["score"] == 0.5 and list(out) == list(RESULT_KEYS)


def test_import_stays_light() -> None:
    code = (
        "import sys, rlsp_rewards.judge; "
        "print([m for m in ('httptools', 'asyncio', 'aiohttp') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


# -- scripted replies over HTTP -------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "grade", "failed", "attempts"),
    [
        ("clean", 0.7, False, 1),
        ("fenced", 0.6, False, 1),
        ("prose", 0.4, False, 1),
        ("trailing", 0.3, False, 1),
        ("stringgrade", 0.8, False, 1),
        ("think", 0.2, False, 1),
        ("garbage", 0.5, True, 1),  # unreadable: fallback, not retried
        ("toohigh", 0.5, True, 1),  # grade 1.7: a failure, not a number
        ("nograde", 0.5, True, 1),
        ("notchat", 0.5, True, 1),  # 200 but not a chat completion
        ("error500once", 0.7, False, 2),  # 5xx retried
        ("badrequest", 0.5, True, 1),  # other 4xx not retried
        ("redirected", 0.5, True, 1),  # 3xx: not followed, not retried
        ("huge", 0.5, True, 1),  # a body over the 4 MiB cap is refused, not retried
        ("dropped", 0.7, False, 2),  # connection lost mid-body, then fine
        ("alwaysdropped", 0.5, True, 3),  # 1 attempt + 2 retries, then the fallback
    ],
)
def test_scripted_reply(
    stub: StubJudge, scenario: str, grade: float, failed: bool, attempts: int
) -> None:
    reward = make_judge(stub)
    response = text(scenario)
    out = reward(solution_str=response, ground_truth="4", extra_info={"question": "2+2?"})
    assert list(out) == list(RESULT_KEYS)
    assert (out["score"], out["judge_grade"], out["judge_failed"]) == (grade, grade, float(failed))
    assert out["error"] == 0.0 and out["backtracking"] == 1.0
    assert len(stub.requests_for(response)) == attempts


def test_429_honours_retry_after(stub: StubJudge) -> None:
    judged, elapsed = timed(make_judge(stub), text("ratelimited"))
    assert (judged.grade, judged.failed) == (0.7, False)
    assert elapsed >= 0.9  # waited the server's Retry-After: 1


def test_429_beyond_the_budget_fails_at_once(stub: StubJudge) -> None:
    response = text("ratelimitedlong")
    judged, elapsed = timed(make_judge(stub), response)
    assert judged.failed and "429" in judged.reason and "budget" in judged.reason
    assert elapsed < 5.0 and len(stub.requests_for(response)) == 1


def test_slow_reply_is_cut_at_the_budget(stub: StubJudge) -> None:
    reward = make_judge(stub, judge_timeout_s=0.3, judge_budget_s=1.0, judge_retries=10)
    judged, elapsed = timed(reward, text("slow"))
    assert judged.failed and judged.grade == 0.5
    assert "within" in judged.reason
    assert elapsed < 1.0 + SLACK_S


def test_queued_calls_stay_within_their_budget(stub: StubJudge) -> None:
    # One slot, slow replies: waiting for the slot counts toward each sample's budget.
    reward = make_judge(
        stub, judge_max_in_flight=1, judge_timeout_s=5.0, judge_budget_s=1.0, judge_retries=0
    )

    def one(response: str) -> tuple[JudgeGrade, float]:
        return timed(reward, response)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(one, [text("slow") for _ in range(6)]))
    assert all(judged.failed for judged, _ in results)
    assert max(elapsed for _, elapsed in results) < 1.0 + SLACK_S


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),  # delta-seconds
        ("0.5", 0.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP date in the past
        ("soon", None),  # unreadable: ordinary back-off
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    from rlsp_rewards.judge.client import _retry_after_s

    assert _retry_after_s(header) == seconds


def test_redirect_names_the_fix(stub: StubJudge) -> None:
    judged, _ = timed(make_judge(stub), text("redirected"))
    assert "HTTP 307" in judged.reason and "set judge_url" in judged.reason


def free_port() -> int:
    """A port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("no_proxy", "via_proxy"),
    [
        ("", True),  # an https:// judge goes through HTTPS_PROXY
        ("127.0.0.1", False),  # unless NO_PROXY exempts its host
    ],
)
def test_https_judges_use_the_environment_proxy(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, via_proxy: bool
) -> None:
    proxy_port, judge_port = free_port(), free_port()  # nothing listens: the reason says where
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    reward = JudgeExploration(
        judge_url=f"https://127.0.0.1:{judge_port}/v1",
        judge_model="m",
        judge_retries=0,
        judge_budget_s=2.0,
    )
    judged = asyncio.run(reward.agrade(Sample(response="any")))  # a fresh loop: fresh pools
    assert judged.failed
    assert (f"the proxy 127.0.0.1:{proxy_port}" in judged.reason) is via_proxy, judged.reason
    assert (f"cannot connect to 127.0.0.1:{judge_port}" in judged.reason) is not via_proxy


def test_connection_refused(stub: StubJudge) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reward = JudgeExploration(
        judge_url=f"http://127.0.0.1:{port}/v1",
        judge_model="m",
        judge_budget_s=2.0,
        judge_fallback=0.25,
    )
    judged, elapsed = timed(reward, "any")
    assert (judged.grade, judged.failed) == (0.25, True)
    assert "connection failed" in judged.reason
    assert elapsed < 2.0 + SLACK_S


def test_request_carries_model_rubric_problem_and_key(
    stub: StubJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-test-123")
    reward = make_judge(
        stub, judge_api_key_env="MY_JUDGE_KEY", judge_temperature=0.3, judge_max_tokens=300
    )
    response = text()
    timed(reward, response, extra_info={"question": "How many primes are below 20?"})
    (sent,) = stub.requests_for(response)
    body = sent["body"]
    assert sent["path"] == "/v1/chat/completions"
    assert body["model"] == "judge-x" and body["temperature"] == 0.3 and body["max_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert "Diversity of strategies" in sent["content"]
    assert "How many primes are below 20?" in sent["content"]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-123"
    assert b"sk-test-123" not in pickle.dumps(reward)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ({"prompt": "From prompt.", "extra_info": {"question": "From extra."}}, "From prompt."),
        ({"extra_info": {"question": "From extra."}}, "From extra."),
        ({"extra_info": {"problem": "Custom key."}}, "Custom key."),  # question_key="problem"
        ({"extra_info": {"other": 1}}, NO_PROBLEM),  # no problem: judged on its own
    ],
)
def test_problem_text_sources(stub: StubJudge, call: dict[str, Any], expected: str) -> None:
    settings = {"question_key": "problem"} if "problem" in call.get("extra_info", {}) else {}
    response = text()
    out = make_judge(stub, **settings)(solution_str=response, **call)
    assert out["judge_failed"] == 0.0
    (sent,) = stub.requests_for(response)
    assert expected in sent["content"]


def test_verl_router_address_is_the_endpoint(stub: StubJudge) -> None:
    response = text()
    out = JudgeExploration(judge_model="m")(
        solution_str=response, reward_router_address=f"127.0.0.1:{stub.port}"
    )
    assert (out["score"], out["judge_failed"]) == (0.7, 0.0)
    assert stub.requests_for(response)[0]["path"] == "/v1/chat/completions"


def test_environment_url_and_model_discovery(
    stub: StubJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RLSP_JUDGE_URL", stub.url)
    response = text()
    judged = JudgeExploration().grade(Sample(response=response))
    assert (judged.grade, judged.failed) == (0.7, False)
    assert stub.requests_for(response)[0]["body"]["model"] == "stub-model"  # from /v1/models
    monkeypatch.setenv("RLSP_JUDGE_MODEL", "env-model")
    response = text()
    JudgeExploration().grade(Sample(response=response))
    assert stub.requests_for(response)[0]["body"]["model"] == "env-model"


def test_no_endpoint_is_a_counted_failure() -> None:
    judged = JudgeExploration(judge_fallback=0.3).grade(Sample(response="x"))
    assert (judged.grade, judged.failed) == (0.3, True) and "judge_url" in judged.reason


def test_odd_inputs_never_raise(stub: StubJudge) -> None:
    reward = make_judge(stub)
    for kwargs in (
        {"solution_str": None},
        {"solution_str": b"\xff\xfe junk"},
        {"solution_str": "x" * 300_000, "extra_info": "not a dict"},
        {"solution_str": "ok", "extra_info": {"question": 123}},
    ):
        out = reward(**kwargs)
        assert list(out) == list(RESULT_KEYS) and out["error"] == 0.0


# -- cache ------------------------------------------------------------------------------------


def test_identical_judgements_are_cached_and_bounded(stub: StubJudge) -> None:
    reward = make_judge(stub, judge_cache_size=2)
    first, second, third = text(), text(), text()
    for response in (first, first, second, third, first):
        assert reward.grade(Sample(response=response, prompt="p")).grade == 0.7
    assert len(stub.requests_for(first)) == 2  # cached once, then evicted by two others
    reward.grade(Sample(response=first, prompt="another problem"))
    assert len(stub.requests_for(first)) == 3  # a different problem is a different judgement

    uncached = make_judge(stub, judge_cache_size=0)
    response = text()
    uncached.grade(Sample(response=response))
    uncached.grade(Sample(response=response))
    assert len(stub.requests_for(response)) == 2


def test_failures_are_not_cached(stub: StubJudge) -> None:
    reward = make_judge(stub)
    response = text("garbage")
    assert reward.grade(Sample(response=response)).failed
    assert reward.grade(Sample(response=response)).failed
    assert len(stub.requests_for(response)) == 2


# -- concurrency: threads, event loops, processes ----------------------------------------------


def test_sixteen_threads_at_once_with_bounded_flight(stub: StubJudge) -> None:
    reward = make_judge(stub, judge_max_in_flight=4, judge_budget_s=20.0)
    responses = [text("slowish", "GROUP:threads16") for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        grades = list(pool.map(lambda r: reward.grade(Sample(response=r)), responses))
    assert all((g.grade, g.failed) == (0.7, False) for g in grades)
    assert 1 <= stub.peak["threads16"] <= 4


def test_inside_a_running_event_loop(stub: StubJudge) -> None:
    reward = make_judge(stub)

    async def main() -> list[JudgeGrade]:
        ticks = 0

        async def ticker() -> None:  # proves the loop keeps running while judgements wait
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        samples = [Sample(response=text("slowish")) for _ in range(8)]
        many = await asyncio.gather(*(reward.agrade(s) for s in samples))
        threaded = await asyncio.to_thread(reward.grade, Sample(response=text()))
        blocking = reward.grade(Sample(response=text()))  # sync call on a loop's own thread
        as_dict = await reward.acall(solution_str=text())
        ticking.cancel()
        assert ticks >= 5 and as_dict["judge_grade"] == 0.7
        return [*many, threaded, blocking]

    grades = asyncio.run(main())
    assert all((g.grade, g.failed) == (0.7, False) for g in grades)


def test_async_calls_are_bounded_per_loop(stub: StubJudge) -> None:
    reward = make_judge(stub, judge_max_in_flight=3, judge_budget_s=20.0)

    async def main() -> list[JudgeGrade]:
        samples = [Sample(response=text("slowish", "GROUP:async12")) for _ in range(12)]
        return await asyncio.gather(*(reward.agrade(s) for s in samples))

    assert all(not g.failed for g in asyncio.run(main()))
    assert 1 <= stub.peak["async12"] <= 3


@pytest.mark.parametrize(
    ("scenario", "settings", "failed"),
    [
        ("clean", {}, False),
        ("error500once", {}, False),  # the retry path
        ("slow", {"judge_timeout_s": 0.3, "judge_budget_s": 1.0, "judge_retries": 10}, True),
    ],
)
def test_python_310_timeouts(
    stub: StubJudge,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    settings: dict[str, Any],
    failed: bool,
) -> None:
    # Python 3.10 has no asyncio.timeout_at: the client falls back to wait_for; same bounds.
    monkeypatch.setattr(sys.modules["rlsp_rewards.judge.client"], "_timeout_at", None)
    judged, elapsed = timed(make_judge(stub, **settings), text(scenario))
    assert judged.failed is failed and elapsed < 5.0 + SLACK_S


def test_connections_are_kept_alive(stub: StubJudge) -> None:
    # Sequential judgements, sync and async, each reuse one connection instead of reconnecting.
    reward = make_judge(stub)
    sync_texts = [text("GROUP:keepsync") for _ in range(8)]
    for response in sync_texts:
        assert not reward.grade(Sample(response=response)).failed

    async def sequential() -> list[str]:
        texts = [text("GROUP:keepasync") for _ in range(8)]
        for response in texts:
            assert not (await reward.agrade(Sample(response=response))).failed
        return texts

    async_texts = asyncio.run(sequential())
    for texts in (sync_texts, async_texts):
        peers = {r["peer"] for t in texts for r in stub.requests_for(t)}
        assert len(peers) == 1, peers


def test_the_bound_holds_across_event_loops_and_threads(stub: StubJudge) -> None:
    # Four threads, each with its own event loop, plus sync callers: one bound per process.
    reward = make_judge(stub, judge_max_in_flight=3, judge_budget_s=30.0)

    def own_loop(_: int) -> list[JudgeGrade]:
        async def main() -> list[JudgeGrade]:
            samples = [Sample(response=text("slowish", "GROUP:loops")) for _ in range(5)]
            return await asyncio.gather(*(reward.agrade(s) for s in samples))

        return asyncio.run(main())

    def sync_call(_: int) -> list[JudgeGrade]:
        return [reward.grade(Sample(response=text("slowish", "GROUP:loops")))]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        runs = [pool.submit(own_loop, i) for i in range(4)]
        runs += [pool.submit(sync_call, i) for i in range(4)]
        grades = [g for run in runs for g in run.result(timeout=60)]
    assert len(grades) == 24 and not any(g.failed for g in grades)
    assert stub.peak["loops"] == 3


def test_event_loops_close_their_sessions(stub: StubJudge) -> None:
    # asyncio.run shuts the loop's async generators down, which closes the judge's session:
    # no "Unclosed client session" complaint, and nothing kept alive per finished loop.
    code = f"""
import asyncio, gc, weakref
from rlsp_rewards.core import Sample
from rlsp_rewards.judge.reward import JudgeExploration
from rlsp_rewards.judge import client as judge_client
reward = JudgeExploration(judge_url="{stub.url}", judge_model="m")
loops = []
async def main():
    loops.append(weakref.ref(asyncio.get_running_loop()))
    return await reward.agrade(Sample(response="SCENARIO:clean GROUP:none x"))
for _ in range(3):
    assert asyncio.run(main()).grade == 0.7
gc.collect()
print(len(judge_client._states), sum(ref() is not None for ref in loops))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0", "0"], out.stderr
    assert "Unclosed" not in out.stderr, out.stderr


def test_cancelled_agrade_does_not_leak(stub: StubJudge) -> None:
    reward = make_judge(stub, judge_budget_s=30.0)

    async def main() -> None:
        task = asyncio.create_task(reward.agrade(Sample(response=text("slow"))))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert reward.grade(Sample(response=text())).grade == 0.7  # the judge loop is still fine


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pickled_and_forked_rewards_work(stub: StubJudge, method: str) -> None:
    reward = make_judge(stub)
    assert reward.grade(Sample(response=text())).grade == 0.7  # the parent's loop is running
    restored = pickle.loads(pickle.dumps(reward))
    assert restored.config == reward.config
    # The child gets the pickled reward (its bound method), nothing from this test module.
    with multiprocessing.get_context(method).Pool(1) as pool:
        judged = pool.apply_async(reward.grade, (Sample(response=text()),)).get(timeout=60)
    assert (judged.grade, judged.failed) == (0.7, False)


def test_unexpected_failure_scores_the_fallback() -> None:
    reward = JudgeExploration(judge_fallback=0.4)
    result = reward.failure(Sample(response="x"), RuntimeError("boom"))
    flags = (result.score, result.judge_grade, result.judge_failed, result.error)
    assert flags == (0.4, 0.4, 1.0, 1.0)


def test_judge_config_names() -> None:
    # RlspReward exposes these names flat; keep them stable.
    assert set(JudgeConfig.model_fields) == {
        "judge_url",
        "judge_model",
        "judge_api_key_env",
        "judge_temperature",
        "judge_max_tokens",
        "judge_timeout_s",
        "judge_budget_s",
        "judge_retries",
        "judge_max_in_flight",
        "judge_fallback",
        "judge_cache_size",
        "judge_max_chars",
        "judge_prompt",
        "question_key",
    }


# -- the benchmark (structure only; the numbers come from `rlsp-rewards bench --judge`) --------


def test_judge_bench_runs() -> None:
    result = run_judge_bench(count=30, in_flight=4, latency_s=0.005)
    assert (result.count, result.failures, result.in_flight) == (30, 0, 4)
    assert result.requests_per_s > 0 and result.cpu_ms_per_request > 0
    assert result.ideal_per_s == 800.0 and "of ideal" in result.summary()


def test_missing_http_client_is_a_counted_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlsp_rewards.errors import DependencyError, require

    judge_module = sys.modules["rlsp_rewards.judge.reward"]  # the package's `judge` is the instance

    def missing(module: str, extra: str) -> None:
        require(f"{module}_not_installed_here", extra)

    monkeypatch.setattr(judge_module, "require", missing)
    monkeypatch.delitem(sys.modules, "httptools")  # as if never imported (restored afterwards)
    reward = JudgeExploration(judge_url="http://127.0.0.1:9/v1")  # building never needs it
    judged = reward.grade(Sample(response="x"))
    assert judged.failed and 'pip install "rlsp-rewards[judge]"' in judged.reason
    assert DependencyError.__name__ in judged.reason


def test_judge_meets_the_reward_contract(stub: StubJudge) -> None:
    from rlsp_rewards.testing import check_reward

    reward = make_judge(stub, judge_budget_s=3.0)
    for fn in (reward, reward.acall):  # verl's sync call, and its async one
        report = check_reward(fn, framework="verl", budget_s=5.0)
        assert report.ok, str(report)
