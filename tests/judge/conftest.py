"""The scripted judge both judge test files talk to: a real OpenAI-compatible server on 127.0.0.1.

The stub server (aiohttp.web on its own thread) reads a ``SCENARIO:<name>`` marker from the
response text it is asked to grade and answers accordingly (a clean grade, fenced JSON, HTTP 500
once, 429 with a chosen Retry-After, a slow reply, a body cut short...). Each test uses a fresh
response text (:meth:`StubJudge.text`), so the server's per-text request counts show how many
attempts a judgement took. A ``GROUP:<name>`` marker makes the server count how many requests of
that group it holds at once (``peak``), which is how the in-flight bounds are checked.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import ssl
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from rlsp_rewards.core import Sample
from rlsp_rewards.judge.reward import JudgeExploration, JudgeGrade

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
_RETRY_AFTER = re.compile(r"RETRYAFTER\[([^\]]*)\]")


def completion(content: str) -> dict[str, Any]:
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


def _gzip_bomb(size: int) -> bytes:
    """``size`` bytes of spaces, gzip-compressed piece by piece (a few hundred kB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    piece = b" " * (1 << 20)
    return b"".join(packer.compress(piece) for _ in range(size >> 20)) + packer.flush()


class StubJudge:
    """A scripted chat-completions server in a background thread; records what it receives.

    Args:
        tls: a server TLS context, to serve ``https://``.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._tls = tls
        self._bomb = b""
        self.port = 0
        threading.Thread(target=self._run, name="stub-judge", daemon=True).start()
        assert self._ready.wait(30), "the stub judge did not start"
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/v1"

    # -- helpers for the tests ------------------------------------------------------------------

    def reward(self, **settings: Any) -> JudgeExploration:
        """A judge pointed at this server, with short bounds (overridable)."""
        values: dict[str, Any] = {
            "judge_url": self.url,
            "judge_model": "judge-x",
            "judge_timeout_s": 2.0,
            "judge_budget_s": 5.0,
            "judge_retries": 2,
        }
        values.update(settings)
        return JudgeExploration(**values)

    @staticmethod
    def text(scenario: str = "clean", extra: str = "") -> str:
        """A response never seen before, carrying its scenario for the stub."""
        return f"SCENARIO:{scenario} {extra} Let me try it. Wait, check it. {uuid.uuid4().hex}"

    @staticmethod
    def timed(reward: JudgeExploration, response: str, **kw: Any) -> tuple[JudgeGrade, float]:
        """A sync judgement and the seconds it took."""
        start = time.monotonic()
        judged = reward.grade(Sample(response=response, **kw))
        return judged, time.monotonic() - start

    def requests_for(self, token: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if token in r["content"]]

    def peers_for(self, token: str) -> set[Any]:
        """The client addresses (one per connection) of the requests carrying ``token``."""
        return {r["peer"] for r in self.requests_for(token)}

    # -- the server -----------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._tls)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()

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
            return await self._answer(request, scenario, attempt, content)
        finally:
            if group:
                with self._lock:
                    self.active[group] -= 1

    async def _answer(
        self, request: web.Request, scenario: str, attempt: int, content: str
    ) -> web.StreamResponse:
        if scenario in REPLIES:
            return web.json_response(completion(REPLIES[scenario]))
        if scenario == "notchat":
            return web.Response(text="<html>gateway page</html>", content_type="text/html")
        if scenario == "error500once" and attempt == 1:
            return web.json_response({"error": "overloaded"}, status=500)
        if scenario == "ratelimited" and attempt == 1:
            return web.json_response({"error": "later"}, status=429, headers={"Retry-After": "1"})
        if scenario == "retryafteralways" or (scenario == "retryafteronce" and attempt == 1):
            found = _RETRY_AFTER.search(content)  # the header's value is named in the text
            headers = {"Retry-After": found.group(1)} if found else {}
            return web.json_response({"error": "later"}, status=429, headers=headers)
        if scenario == "redirected":
            return web.Response(status=307, headers={"Location": "https://elsewhere/v1"})
        if scenario == "badrequest":
            return web.json_response({"error": "bad model"}, status=400)
        if scenario == "huge":  # a hostile server: 5 MB of body
            return web.Response(body=b"x" * 5_000_000, content_type="application/json")
        if scenario == "hugechunked":  # the same without a length: cut while it streams
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(50):
                await response.write(b" " * (1 << 20))
            await response.write_eof()
            return response
        if scenario == "gzipped":  # compressed although the client asked for none
            packed = gzip.compress(json.dumps(completion(CLEAN)).encode())
            return web.Response(
                body=packed,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        if scenario == "gzipbomb":  # 64 MiB of spaces in a few hundred kB
            if not self._bomb:
                self._bomb = _gzip_bomb(64 << 20)
            return web.Response(
                body=self._bomb,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
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
        return web.json_response(completion(CLEAN))


@pytest.fixture(scope="session")
def stub() -> Iterator[StubJudge]:
    yield StubJudge()


@pytest.fixture(autouse=True)
def _no_judge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "RLSP_JUDGE_URL",
        "OPENAI_BASE_URL",
        "RLSP_JUDGE_MODEL",
        "OPENAI_API_KEY",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
