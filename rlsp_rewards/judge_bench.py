"""The judge client's throughput against a local stub server (``rlsp-rewards bench --judge``).

A stub OpenAI-compatible server that answers every chat completion after a fixed latency runs in
a separate process (so its CPU is not counted). The client side sends ``count`` judgements of
distinct responses through :meth:`~rlsp_rewards.judge.JudgeExploration.agrade`, the path verl's
async reward workers use, with ``in_flight`` requests on the wire at once. With a latency ``L``
the best possible rate is ``in_flight / L`` (64 / 20 ms = 3,200 requests/s); the report gives the
achieved rate as a fraction of that, and the client process's CPU time per request (prompt
building, HTTP, parsing). :func:`run_aiohttp_floor` sends the same requests with bare aiohttp,
in the same run, as the baseline: what the HTTP client alone achieves on this machine.

Example:
    >>> result = run_judge_bench(count=8, in_flight=4, latency_s=0.005)
    >>> result.count, result.failures, result.ideal_per_s
    (8, 0, 800.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .core import Sample

if TYPE_CHECKING:
    from .judge import JudgeExploration

__all__ = ["JudgeBenchResult", "run_aiohttp_floor", "run_judge_bench"]

_REPLY = json.dumps(
    {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": '{"rationale": "ok", "grade": 0.7}'},
                "finish_reason": "stop",
            }
        ],
    }
).encode()
_RESPONSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    % len(_REPLY)
)


@dataclasses.dataclass(frozen=True)
class JudgeBenchResult:
    """What one benchmark run measured, with the rates derived from it.

    Attributes:
        count: judgements timed.
        in_flight: requests on the wire at once.
        latency_s: the stub server's latency per request.
        wall_s: wall-clock time of the timed judgements.
        cpu_s: the client process's CPU time over the same span.
        failures: judgements that failed (should be 0).
        requests_per_s: achieved judgements per second.
        ideal_per_s: the best possible rate, ``in_flight / latency_s``.
        fraction_of_ideal: achieved rate over the ideal rate.
        cpu_ms_per_request: client CPU milliseconds per judgement.

    Example:
        >>> r = JudgeBenchResult(count=2000, in_flight=64, latency_s=0.02, wall_s=1.0,
        ...                      cpu_s=0.5, failures=0)
        >>> r.requests_per_s, r.ideal_per_s, r.fraction_of_ideal, r.cpu_ms_per_request
        (2000.0, 3200.0, 0.625, 0.25)
    """

    count: int
    in_flight: int
    latency_s: float
    wall_s: float
    cpu_s: float
    failures: int
    # Derived, but fields, so that dataclasses.asdict (the CLI's --json) carries them.
    requests_per_s: float = dataclasses.field(init=False)
    ideal_per_s: float = dataclasses.field(init=False)
    fraction_of_ideal: float = dataclasses.field(init=False)
    cpu_ms_per_request: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        rate = self.count / self.wall_s
        ideal = self.in_flight / self.latency_s
        object.__setattr__(self, "requests_per_s", rate)
        object.__setattr__(self, "ideal_per_s", ideal)
        object.__setattr__(self, "fraction_of_ideal", rate / ideal)
        object.__setattr__(self, "cpu_ms_per_request", 1000.0 * self.cpu_s / self.count)

    def summary(self) -> str:
        """One line for humans.

        Example:
            >>> print(JudgeBenchResult(100, 4, 0.01, 0.5, 0.05, 0).summary().replace("; ", ";\\n"))
            judge: 100 requests, 4 in flight, 10 ms latency: 200 req/s = 50% of ideal 400 req/s;
            client CPU 0.500 ms/request;
            0 failures
        """
        return (
            f"judge: {self.count} requests, {self.in_flight} in flight, "
            f"{self.latency_s * 1000:g} ms latency: {self.requests_per_s:.0f} req/s = "
            f"{self.fraction_of_ideal:.0%} of ideal {self.ideal_per_s:.0f} req/s; "
            f"client CPU {self.cpu_ms_per_request:.3f} ms/request; {self.failures} failures"
        )


def run_judge_bench(
    count: int = 2000, in_flight: int = 64, latency_s: float = 0.020
) -> JudgeBenchResult:
    """Time ``count`` judgements against a stub server with ``latency_s`` per request.

    Args:
        count: judgements to time (after a warm-up of ``in_flight`` that opens the connections).
        in_flight: requests on the wire at once (the judge's ``judge_max_in_flight``).
        latency_s: the stub server's delay before each reply.

    Returns:
        The measurements; see :class:`JudgeBenchResult`.
    """
    from .judge import JudgeExploration

    with _stub_server(latency_s) as port:
        reward = JudgeExploration(
            judge_url=f"http://127.0.0.1:{port}/v1",
            judge_model="bench",
            judge_max_in_flight=in_flight,
            judge_cache_size=0,
            judge_timeout_s=30.0,
            judge_budget_s=120.0,
        )
        return asyncio.run(_drive(reward, count, in_flight, latency_s))


def run_aiohttp_floor(
    count: int = 2000, in_flight: int = 64, latency_s: float = 0.020
) -> JudgeBenchResult:
    """The same requests sent with bare aiohttp: the baseline :func:`run_judge_bench` is read
    against.

    One session, a semaphore for ``in_flight``, the same request body and reply; no prompt
    building, budget, retries or reply validation. Its CPU per request is what the HTTP client
    alone costs on this machine.

    Example:
        >>> run_aiohttp_floor(count=8, in_flight=4, latency_s=0.005).failures
        0
    """
    with _stub_server(latency_s) as port:
        return asyncio.run(_drive_bare(port, count, in_flight, latency_s))


@contextlib.contextmanager
def _stub_server(latency_s: float) -> Iterator[int]:
    """The stub server in its own process (its CPU is not the client's); yields its port."""
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-c", f"from {__name__} import _serve; _serve({latency_s!r})"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())  # the server prints its port once it listens
    finally:
        server.kill()
        server.wait(10.0)


def _response(i: int) -> str:
    return f"Attempt {i}: let me try factoring first. " + "Then check the result. " * 80


async def _drive_bare(port: int, count: int, in_flight: int, latency_s: float) -> JudgeBenchResult:
    import aiohttp

    from .judge_prompt import DEFAULT_TEMPLATE, load_template, render_prompt

    template = load_template(DEFAULT_TEMPLATE)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    headers = {"Content-Type": "application/json"}
    gate = asyncio.Semaphore(in_flight)

    def body(i: int) -> bytes:
        content = render_prompt(template, f"Problem {i}: find x.", _response(i), 32000)
        return json.dumps({"model": "bench", "messages": [{"role": "user", "content": content}],
                           "temperature": 0.0, "max_tokens": 512}).encode()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(payload: bytes) -> bool:
            async with gate, session.post(url, data=payload, headers=headers) as reply:
                data = await reply.read()
                return reply.status != 200 or not json.loads(data)["choices"]

        await asyncio.gather(*(one(body(-1 - i)) for i in range(in_flight)))
        payloads = [body(i) for i in range(count)]
        wall, cpu = time.perf_counter(), time.process_time()
        failed = await asyncio.gather(*(one(p) for p in payloads))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return JudgeBenchResult(count=count, in_flight=in_flight, latency_s=latency_s, wall_s=wall,
                            cpu_s=cpu, failures=sum(failed))


async def _drive(
    reward: JudgeExploration, count: int, in_flight: int, latency_s: float
) -> JudgeBenchResult:
    def sample(i: int) -> Sample:
        return Sample(response=_response(i), extra_info={"question": f"Problem {i}: find x."})

    await asyncio.gather(*(reward.agrade(sample(-1 - i)) for i in range(in_flight)))
    samples = [sample(i) for i in range(count)]
    wall, cpu = time.perf_counter(), time.process_time()
    grades = await asyncio.gather(*(reward.agrade(s) for s in samples))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return JudgeBenchResult(
        count=count,
        in_flight=in_flight,
        latency_s=latency_s,
        wall_s=wall,
        cpu_s=cpu,
        failures=sum(g.failed for g in grades),
    )


def _serve(latency_s: float) -> None:
    """The stub server process: minimal HTTP/1.1 keep-alive on the standard library.

    Prints its port on standard output once it listens.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(latency_s)
                writer.write(_RESPONSE_HEAD + _REPLY)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
