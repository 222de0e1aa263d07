"""The judge's transport (rlsp_rewards/judge/client.py, on aiohttp) against servers on 127.0.0.1.

What is checked is what a caller sees: a judgement's grade or failure, its reason, how long it
took against its budget, and what the servers received (request counts, connections). The
scripted judge is ``StubJudge`` (``conftest.py``); a few tests script raw bytes on a socket
instead (a server that drops kept-alive connections), and the TLS tests use a ``trustme`` CA
with a ``CONNECT`` proxy written here. Only budget promises are checked against the clock, with
generous margins.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import concurrent.futures
import multiprocessing
import pickle
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from rlsp_rewards.core import Sample
from rlsp_rewards.judge.client import chat_url, retry_after_s
from rlsp_rewards.judge.reward import JudgeExploration, JudgeGrade
from tests.judge.conftest import StubJudge

NOW = float(calendar.timegm((2020, 1, 1, 0, 0, 0)))  # the clock of the Retry-After dates
SLACK_S = 2.0  # generous: the machine is shared; only "finishes within its budget" is checked


def free_port() -> int:
    """A port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def agrade(reward: JudgeExploration, response: str) -> tuple[JudgeGrade, float]:
    """An async judgement on a fresh event loop (fresh sessions) and the seconds it took."""
    start = time.monotonic()
    judged = asyncio.run(reward.agrade(Sample(response=response)))
    return judged, time.monotonic() - start


def judged_by(path: str, reward: JudgeExploration, response: str) -> tuple[JudgeGrade, float]:
    """A judgement on the sync path (the private judge loop) or the async one."""
    return StubJudge.timed(reward, response) if path == "sync" else agrade(reward, response)


# -- URLs ---------------------------------------------------------------------------------------


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


# -- statuses, retries and Retry-After -----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),  # delta-seconds
        ("0.5", 0.5),
        (" 2 ", 2.0),  # spaces around
        ("3600", 3600.0),  # huge but finite: the caller's budget caps it
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP date in the past: now
        (
            "Fri, 31 Dec 2100 23:59:59 GMT",
            calendar.timegm((2100, 12, 31, 23, 59, 59)) - NOW,
        ),  # a future date
        ("nan", None),  # not a number: no hint
        ("NaN", None),
        ("inf", None),  # not finite
        ("-inf", None),
        ("-1", None),  # negative
        ("1e309", None),  # an exponent is not delta-seconds
        ("9" * 400, None),  # digits beyond any float: not finite
        ("1_000", None),  # Python's digit separators are not HTTP
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),  # a year out of range
        ("soon", None),  # unreadable: ordinary back-off
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(header: str | None, seconds: float | None) -> None:
    assert retry_after_s(header, now=NOW) == seconds


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize(
    ("header", "failed", "attempts"),
    [
        ("0.2", False, 2),  # a usable hint: waited, then fine
        ("Wed, 21 Oct 2015 07:28:00 GMT", False, 2),  # a past date: retried at once
        ("nan", False, 2),  # no hint: the ordinary back-off, then fine
        ("inf", False, 2),
        ("-1", False, 2),
        ("1e309", False, 2),
        ("9" * 400, False, 2),
        ("3600", True, 1),  # past the budget: fails at once instead of waiting
        ("1e300", False, 2),  # not delta-seconds: no hint
        ("Fri, 31 Dec 2100 23:59:59 GMT", True, 1),  # a future date past the budget
    ],
)
def test_retry_after_never_breaks_the_budget(
    stub: StubJudge, path: str, header: str, failed: bool, attempts: int
) -> None:
    response = stub.text("retryafteronce", f"RETRYAFTER[{header}]")
    judged, elapsed = judged_by(path, stub.reward(judge_budget_s=3.0), response)
    assert judged.failed is failed, judged.reason
    assert len(stub.requests_for(response)) == attempts
    assert elapsed < 3.0 + SLACK_S
    if failed:
        assert "429" in judged.reason and "overrun the budget" in judged.reason


def test_429_honours_retry_after(stub: StubJudge) -> None:
    judged, elapsed = stub.timed(stub.reward(), stub.text("ratelimited"))
    assert (judged.grade, judged.failed) == (0.7, False)
    assert elapsed >= 0.9  # waited the server's Retry-After: 1


@pytest.mark.parametrize("header", ["nan", "inf", "-1"])
def test_endless_429s_with_bad_hints_keep_every_budget_on_the_loop(
    stub: StubJudge, header: str
) -> None:
    # The red-team case: many retries of "Retry-After: nan" on one loop, next to a judge call
    # that hangs and to unrelated later timers; each call still ends by its own budget.
    rate_limited = stub.reward(judge_budget_s=2.0, judge_timeout_s=1.0, judge_retries=20)
    hanging = stub.reward(judge_budget_s=2.0, judge_timeout_s=1.0, judge_retries=20)

    async def timed(reward: JudgeExploration, response: str) -> tuple[JudgeGrade, float]:
        start = time.monotonic()
        judged = await reward.agrade(Sample(response=response))
        return judged, time.monotonic() - start

    async def main() -> list[tuple[JudgeGrade, float]]:
        later = [asyncio.create_task(asyncio.sleep(30 + i)) for i in range(10)]
        calls = [
            timed(rate_limited, stub.text("retryafteralways", f"RETRYAFTER[{header}]"))
            for _ in range(6)
        ]
        calls.append(timed(hanging, stub.text("slow")))
        results = await asyncio.gather(*calls)
        for task in later:
            task.cancel()
        return results

    results = asyncio.run(main())
    assert all(judged.failed for judged, _ in results)
    assert max(elapsed for _, elapsed in results) < 2.0 + SLACK_S
    # The sync path (the private loop, shared with every other sync caller) too.
    judged, elapsed = stub.timed(
        rate_limited, stub.text("retryafteralways", f"RETRYAFTER[{header}]")
    )
    assert judged.failed and elapsed < 2.0 + SLACK_S


def test_slow_reply_is_cut_at_the_budget(stub: StubJudge) -> None:
    reward = stub.reward(judge_timeout_s=0.3, judge_budget_s=1.0, judge_retries=10)
    judged, elapsed = stub.timed(reward, stub.text("slow"))
    assert judged.failed and judged.grade == 0.5
    assert "within" in judged.reason
    assert elapsed < 1.0 + SLACK_S


def test_queued_calls_stay_within_their_budget(stub: StubJudge) -> None:
    # One slot, slow replies: waiting for the slot counts toward each sample's budget.
    reward = stub.reward(
        judge_max_in_flight=1, judge_timeout_s=5.0, judge_budget_s=1.0, judge_retries=0
    )

    def one(response: str) -> tuple[JudgeGrade, float]:
        return stub.timed(reward, response)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(one, [stub.text("slow") for _ in range(6)]))
    assert all(judged.failed for judged, _ in results)
    assert max(elapsed for _, elapsed in results) < 1.0 + SLACK_S


def test_redirect_names_the_fix(stub: StubJudge) -> None:
    response = stub.text("redirected")
    judged, _ = stub.timed(stub.reward(), response)
    assert "HTTP 307" in judged.reason and "set judge_url" in judged.reason
    assert len(stub.requests_for(response)) == 1  # neither followed nor retried


@pytest.mark.parametrize(
    ("scenario", "failed", "attempts", "reason"),
    [
        ("huge", True, 1, "over 4194304 bytes"),  # a length over the cap: refused, not retried
        ("hugechunked", True, 1, "over 4194304 bytes"),  # no length: cut as it streams
        ("gzipbomb", True, 1, "over 4194304 bytes"),  # 64 MiB unpacked: cut as it unpacks
        ("gzipped", False, 1, "two approaches"),  # compressed although not asked: unpacked
        ("dropped", False, 2, "two approaches"),  # the body cut short once: retried
        ("alwaysdropped", True, 3, "cut short"),  # every time: 1 attempt + 2 retries
        ("notchat", True, 1, "not a chat completion"),
    ],
)
def test_reply_bodies(
    stub: StubJudge, scenario: str, failed: bool, attempts: int, reason: str
) -> None:
    response = stub.text(scenario)
    judged, _ = stub.timed(stub.reward(), response)
    assert judged.failed is failed and reason in judged.reason, judged.reason
    assert len(stub.requests_for(response)) == attempts


def test_connection_refused() -> None:
    port = free_port()
    reward = JudgeExploration(
        judge_url=f"http://127.0.0.1:{port}/v1",
        judge_model="m",
        judge_budget_s=2.0,
        judge_fallback=0.25,
    )
    judged, elapsed = StubJudge.timed(reward, "any")
    assert (judged.grade, judged.failed) == (0.25, True)
    assert f"cannot connect to 127.0.0.1:{port}" in judged.reason
    assert elapsed < 2.0 + SLACK_S


class DroppingServer:
    """Raw HTTP/1.1 on a socket: answers the first request of each connection, keeps it open,
    and closes it without a word when a second request arrives on it (a keep-alive connection
    the server dropped just as the client reused it)."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                if served:
                    break
                served += 1
                body = b'{"choices": [{"message": {"content": "{\\"grade\\": 0.6}"}}]}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def test_a_dropped_keep_alive_connection_is_replaced_at_no_cost() -> None:
    # With no retries at all, the second judgement meets a connection the server closes on it:
    # it is retried once at once, on a new connection, and succeeds.
    server = DroppingServer()

    async def main() -> list[JudgeGrade]:
        port = await server.start()
        reward = JudgeExploration(
            judge_url=f"http://127.0.0.1:{port}/v1", judge_model="m", judge_retries=0
        )
        try:
            return [await reward.agrade(Sample(response=f"r{i}")) for i in range(2)]
        finally:
            await server.stop()

    grades = asyncio.run(main())
    assert [(g.grade, g.failed) for g in grades] == [(0.6, False), (0.6, False)]
    assert (server.connections, server.requests) == (2, 3)


# -- concurrency: threads, event loops, processes ----------------------------------------------


def test_sixteen_threads_at_once_with_bounded_flight(stub: StubJudge) -> None:
    reward = stub.reward(judge_max_in_flight=4, judge_budget_s=20.0)
    responses = [stub.text("slowish", "GROUP:threads16") for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        grades = list(pool.map(lambda r: reward.grade(Sample(response=r)), responses))
    assert all((g.grade, g.failed) == (0.7, False) for g in grades)
    assert 1 <= stub.peak["threads16"] <= 4


def test_inside_a_running_event_loop(stub: StubJudge) -> None:
    reward = stub.reward()

    async def main() -> list[JudgeGrade]:
        ticks = 0

        async def ticker() -> None:  # proves the loop keeps running while judgements wait
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        samples = [Sample(response=stub.text("slowish")) for _ in range(8)]
        many = await asyncio.gather(*(reward.agrade(s) for s in samples))
        threaded = await asyncio.to_thread(reward.grade, Sample(response=stub.text()))
        blocking = reward.grade(Sample(response=stub.text()))  # sync call on a loop's own thread
        as_dict = await reward.acall(solution_str=stub.text())
        ticking.cancel()
        assert ticks >= 5 and as_dict["judge_grade"] == 0.7
        return [*many, threaded, blocking]

    grades = asyncio.run(main())
    assert all((g.grade, g.failed) == (0.7, False) for g in grades)


def test_async_calls_are_bounded_per_loop(stub: StubJudge) -> None:
    reward = stub.reward(judge_max_in_flight=3, judge_budget_s=20.0)

    async def main() -> list[JudgeGrade]:
        samples = [Sample(response=stub.text("slowish", "GROUP:async12")) for _ in range(12)]
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
    judged, elapsed = stub.timed(stub.reward(**settings), stub.text(scenario))
    assert judged.failed is failed and elapsed < 5.0 + SLACK_S


def test_connections_are_kept_alive(stub: StubJudge) -> None:
    # Sequential judgements, sync and async, each reuse one connection instead of reconnecting.
    reward = stub.reward()
    sync_texts = [stub.text("GROUP:keepsync") for _ in range(8)]
    for response in sync_texts:
        assert not reward.grade(Sample(response=response)).failed

    async def sequential() -> list[str]:
        texts = [stub.text("GROUP:keepasync") for _ in range(8)]
        for response in texts:
            assert not (await reward.agrade(Sample(response=response))).failed
        return texts

    async_texts = asyncio.run(sequential())
    for texts in (sync_texts, async_texts):
        peers = {r["peer"] for t in texts for r in stub.requests_for(t)}
        assert len(peers) == 1, peers


def test_the_bound_holds_across_event_loops_and_threads(stub: StubJudge) -> None:
    # Four threads, each with its own event loop, plus sync callers: one bound per process.
    reward = stub.reward(judge_max_in_flight=3, judge_budget_s=30.0)

    def own_loop(_: int) -> list[JudgeGrade]:
        async def main() -> list[JudgeGrade]:
            samples = [Sample(response=stub.text("slowish", "GROUP:loops")) for _ in range(5)]
            return await asyncio.gather(*(reward.agrade(s) for s in samples))

        return asyncio.run(main())

    def sync_call(_: int) -> list[JudgeGrade]:
        return [reward.grade(Sample(response=stub.text("slowish", "GROUP:loops")))]

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
from rlsp_rewards.judge import loops as judge_loops
reward = JudgeExploration(judge_url="{stub.url}", judge_model="m")
loops = []
async def main():
    loops.append(weakref.ref(asyncio.get_running_loop()))
    return await reward.agrade(Sample(response="SCENARIO:clean GROUP:none x"))
for _ in range(3):
    assert asyncio.run(main()).grade == 0.7
gc.collect()
print(len(judge_loops._states), sum(ref() is not None for ref in loops))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0", "0"], out.stderr
    assert "Unclosed" not in out.stderr, out.stderr


def test_sync_callers_leave_nothing_unclosed_at_exit(stub: StubJudge) -> None:
    # The private loop's sessions are closed when the process exits: no complaint on stderr.
    code = f"""
from rlsp_rewards.core import Sample
from rlsp_rewards.judge.reward import JudgeExploration
reward = JudgeExploration(judge_url="{stub.url}", judge_model="m")
print(reward.grade(Sample(response="SCENARIO:clean x")).grade)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0.7"], out.stderr
    assert "Unclosed" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_cancelled_agrade_does_not_leak(stub: StubJudge) -> None:
    reward = stub.reward(judge_budget_s=30.0)

    async def main() -> None:
        task = asyncio.create_task(reward.agrade(Sample(response=stub.text("slow"))))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert reward.grade(Sample(response=stub.text())).grade == 0.7  # the judge loop is still fine


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pickled_and_forked_rewards_work(stub: StubJudge, method: str) -> None:
    reward = stub.reward()
    assert reward.grade(Sample(response=stub.text())).grade == 0.7  # the parent's loop is running
    restored = pickle.loads(pickle.dumps(reward))
    assert restored.config == reward.config
    # The child gets the pickled reward (its bound method), nothing from this test module.
    with multiprocessing.get_context(method).Pool(1) as pool:
        judged = pool.apply_async(reward.grade, (Sample(response=stub.text()),)).get(timeout=60)
    assert (judged.grade, judged.failed) == (0.7, False)


# -- TLS and proxies ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture(scope="module")
def https_stub(ca: trustme.CA) -> Iterator[StubJudge]:
    yield StubJudge(tls=tls_server(ca, "127.0.0.1"))


@pytest.fixture
def trusting(ca: trustme.CA, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test CA as the client's certificate store, through ``SSL_CERT_FILE`` (what a user
    with a private CA sets); read when a loop makes its session, so each test uses a new loop."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    yield


def test_https_request_and_reuse(https_stub: StubJudge, trusting: None) -> None:
    reward = https_stub.reward()

    async def main() -> list[JudgeGrade]:
        return [await reward.agrade(Sample(response=https_stub.text("GROUP:tls"))) for _ in "abc"]

    assert [(g.grade, g.failed) for g in asyncio.run(main())] == [(0.7, False)] * 3
    assert len(https_stub.peers_for("GROUP:tls")) == 1  # one TLS connection, kept alive


@pytest.mark.parametrize(
    ("names", "trusted", "reason"),
    [
        pytest.param(  # a CA the client does not trust
            ["127.0.0.1"], False, "certificate verify failed", id="untrusted-ca"
        ),
        pytest.param(  # a trusted CA, a certificate for another name
            ["localhost"], True, "IP address mismatch", id="wrong-name"
        ),
    ],
)
def test_https_certificate_rejected(
    ca: trustme.CA,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    names: list[str],
    trusted: bool,
    reason: str,
) -> None:
    if trusted:
        bundle = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    server = StubJudge(tls=tls_server(ca, *names))
    response = server.text()
    judged, _ = agrade(server.reward(judge_retries=0), response)
    assert judged.failed
    assert f"the TLS certificate of 127.0.0.1:{server.port} was rejected" in judged.reason
    assert reason in judged.reason, judged.reason
    assert server.requests_for(response) == []  # nothing was sent


class TunnelProxy:
    """A CONNECT proxy on 127.0.0.1: answers ``answer`` and, on 200, relays bytes both ways."""

    def __init__(self, answer: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n") -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        writer.write(self.answer)
        if not self.answer.startswith(b"HTTP/1.1 200"):
            writer.close()
            return
        host, port = head.split()[1].decode().rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.parametrize(
    ("proxy_url", "authorization"),
    [
        pytest.param("http://127.0.0.1:{port}", None, id="plain"),
        pytest.param(  # credentials in the URL, percent-encoded, become Basic auth
            "http://judge%40team:s3cr%3At@127.0.0.1:{port}",
            "Basic " + base64.b64encode(b"judge@team:s3cr:t").decode(),
            id="credentials",
        ),
    ],
)
def test_https_through_a_proxy_tunnel(
    https_stub: StubJudge,
    trusting: None,
    monkeypatch: pytest.MonkeyPatch,
    proxy_url: str,
    authorization: str | None,
) -> None:
    proxy = TunnelProxy()
    reward = https_stub.reward()
    group = f"GROUP:proxy{len(proxy_url)}"

    async def main() -> list[JudgeGrade]:
        await proxy.start()
        try:
            monkeypatch.setenv("HTTPS_PROXY", proxy_url.format(port=proxy.port))
            return [await reward.agrade(Sample(response=https_stub.text(group))) for _ in "abc"]
        finally:
            await proxy.stop()

    assert [(g.grade, g.failed) for g in asyncio.run(main())] == [(0.7, False)] * 3
    assert len(proxy.requests) == 1 and len(https_stub.peers_for(group)) == 1  # one tunnel
    (head,) = proxy.requests
    assert head.startswith(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n" % https_stub.port)
    sent = f"Proxy-Authorization: {authorization}\r\n".encode()
    assert (sent in head) is (authorization is not None)


def test_proxy_refusing_the_tunnel_fails_with_its_status(
    https_stub: StubJudge, trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = TunnelProxy(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
    reward = https_stub.reward(judge_retries=0)

    async def main() -> JudgeGrade:
        await proxy.start()
        try:
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
            return await reward.agrade(Sample(response=https_stub.text()))
        finally:
            await proxy.stop()

    judged = asyncio.run(main())
    assert judged.failed and "the proxy refused a tunnel (HTTP 407" in judged.reason, judged.reason


@pytest.mark.parametrize(
    ("scheme", "variable", "no_proxy", "via_proxy"),
    [
        ("https", "HTTPS_PROXY", "", True),  # an https:// judge goes through HTTPS_PROXY
        ("https", "https_proxy", "", True),  # lower-case names work too
        ("https", "HTTPS_PROXY", "127.0.0.1", False),  # unless NO_PROXY exempts its host
        ("https", "HTTP_PROXY", "", False),  # HTTP_PROXY is not for https://
        ("http", "HTTP_PROXY", "", True),  # an http:// judge goes through HTTP_PROXY
        ("http", "HTTP_PROXY", "localhost,127.0.0.1", False),
        ("http", "HTTPS_PROXY", "", False),
    ],
)
def test_proxies_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, scheme: str, variable: str, no_proxy: str, via_proxy: bool
) -> None:
    proxy_port, judge_port = free_port(), free_port()  # nothing listens: the reason says where
    monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy_port}")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    reward = JudgeExploration(
        judge_url=f"{scheme}://127.0.0.1:{judge_port}/v1",
        judge_model="m",
        judge_retries=0,
        judge_budget_s=2.0,
    )
    judged, _ = agrade(reward, "any")  # a fresh loop: fresh sessions
    assert judged.failed
    assert (f"the proxy 127.0.0.1:{proxy_port}" in judged.reason) is via_proxy, judged.reason
    assert (f"cannot connect to 127.0.0.1:{judge_port}" in judged.reason) is not via_proxy


def test_a_proxy_that_cannot_be_used_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    reward = JudgeExploration(judge_url="https://127.0.0.1:9/v1", judge_model="m")
    judged, elapsed = agrade(reward, "any")
    assert (
        judged.failed and "socks5://127.0.0.1" in judged.reason and "http:// URL" in judged.reason
    )
    assert elapsed < 1.0 + SLACK_S  # not retried: nothing was sent
