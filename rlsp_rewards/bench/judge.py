"""The judge client's throughput against a local stub server (``rlsp-rewards bench --judge``).

A stub OpenAI-compatible server that answers every chat completion after a fixed latency runs in
a separate process (so its CPU is not counted). The client side sends ``count`` judgements of
distinct responses through :meth:`~rlsp_rewards.judge.JudgeExploration.agrade`, the path verl's
async reward workers use, as a stream: ``in_flight`` callers each start their next judgement
when the previous one returns, as rollouts reach a reward worker during training. With a
latency ``L`` the best possible rate is ``in_flight / L``; the report gives the achieved rate
as a fraction of that, and the client process's CPU time per judgement (prompt building, HTTP,
reading the reply).

Two figures (:data:`JUDGE_BENCH_MODES`): a judge as a real one behaves, answering after 1 s
with 256 requests in flight (ideal 256/s; the goal: at least 95% of it, at most 0.5 ms of client
CPU per judgement), and a stress figure, 20 ms with 64 in flight (ideal 3,200/s), that shows
the client's own cost when the judge is much faster than any real one.

The baseline, in the same run against the same server: the same requests sent with bare
aiohttp (one session, prompts rendered before the clock starts, no budget, retries or
validation). :func:`compare_judge_clients` alternates the two for several rounds, since a
shared machine's speed drifts between runs.

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
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from rlsp_rewards.core import Sample

__all__ = [
    "GOAL_CPU_MS",
    "GOAL_FRACTION",
    "JUDGE_BENCH_MODES",
    "JudgeBenchComparison",
    "JudgeBenchMode",
    "JudgeBenchResult",
    "compare_judge_clients",
    "run_aiohttp_floor",
    "run_judge_bench",
]

T = TypeVar("T")

#: The goal at the real judge's pace: the fraction of the ideal rate reached, at least...
GOAL_FRACTION = 0.95
#: ... and the client CPU per judgement, at most (milliseconds).
GOAL_CPU_MS = 0.5


@dataclasses.dataclass(frozen=True)
class JudgeBenchMode:
    """One figure of the judge benchmark: the stub's latency and the requests in flight.

    Attributes:
        name: how the report names it.
        latency_s: the stub server's delay before each reply.
        in_flight: callers, hence requests on the wire at once (``judge_max_in_flight``).
        count: judgements per round by default (a multiple of ``in_flight``: whole waves).
        goal: whether :data:`GOAL_FRACTION` and :data:`GOAL_CPU_MS` apply to it.

    Example:
        >>> [(m.name, m.in_flight / m.latency_s) for m in JUDGE_BENCH_MODES]
        [('1 s judge', 256.0), ('20 ms stress', 3200.0)]
    """

    name: str
    latency_s: float
    in_flight: int
    count: int
    goal: bool


#: What ``rlsp-rewards bench --judge`` measures: a real judge's pace, then the stress figure.
JUDGE_BENCH_MODES = (
    JudgeBenchMode("1 s judge", latency_s=1.0, in_flight=256, count=2048, goal=True),
    JudgeBenchMode("20 ms stress", latency_s=0.020, in_flight=64, count=2048, goal=False),
)

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
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_REPLY)
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


@dataclasses.dataclass(frozen=True)
class JudgeBenchComparison:
    """Rounds of ours and the baseline, alternated against one stub server.

    Attributes:
        ours: our client's rounds.
        baseline: bare aiohttp's rounds.
    """

    ours: list[JudgeBenchResult]
    baseline: list[JudgeBenchResult]

    def verdict(self, goal: bool = True) -> str:
        """The medians side by side, and (with ``goal``) whether ours meets the goal.

        Example:
            >>> ours = [JudgeBenchResult(512, 256, 1.0, 2.05, 0.15, 0)]
            >>> bare = [JudgeBenchResult(512, 256, 1.0, 2.02, 0.12, 0)]
            >>> print(JudgeBenchComparison(ours, bare).verdict())
            median of 1 round(s): ours 98% of ideal, 0.293 ms CPU per judgement;
            bare aiohttp 99%, 0.234 ms; goal (>= 95%, <= 0.5 ms): met
        """
        ours, bare = self.median(self.ours), self.median(self.baseline)
        line = (
            f"median of {len(self.ours)} round(s): ours {ours.fraction_of_ideal:.0%} of ideal, "
            f"{ours.cpu_ms_per_request:.3f} ms CPU per judgement; bare aiohttp "
            f"{bare.fraction_of_ideal:.0%}, {bare.cpu_ms_per_request:.3f} ms"
        )
        if not goal:
            return line
        met = ours.fraction_of_ideal >= GOAL_FRACTION and ours.cpu_ms_per_request <= GOAL_CPU_MS
        return (
            f"{line}; goal (>= {GOAL_FRACTION:.0%}, <= {GOAL_CPU_MS:g} ms): "
            f"{'met' if met else 'not met'}"
        )

    @staticmethod
    def median(results: list[JudgeBenchResult]) -> JudgeBenchResult:
        """The round with the median rate (the middle one; the slower middle for an even count).

        Example:
            >>> rounds = [JudgeBenchResult(100, 4, 0.01, w, 0.05, 0) for w in (0.5, 0.4, 0.6)]
            >>> JudgeBenchComparison.median(rounds).wall_s
            0.5
        """
        ranked = sorted(results, key=lambda r: r.requests_per_s)
        return ranked[(len(ranked) - 1) // 2]


def run_judge_bench(
    count: int = 2000, in_flight: int = 64, latency_s: float = 0.020
) -> JudgeBenchResult:
    """Time ``count`` judgements against a stub server with ``latency_s`` per request.

    Args:
        count: judgements to time (after a warm-up of ``in_flight`` that opens the connections).
        in_flight: callers, hence requests on the wire at once (``judge_max_in_flight``).
        latency_s: the stub server's delay before each reply.

    Returns:
        The measurements; see :class:`JudgeBenchResult`.
    """
    with _stub_server(latency_s) as port:
        return asyncio.run(_drive(port, count, in_flight, latency_s))


def run_aiohttp_floor(
    count: int = 2000, in_flight: int = 64, latency_s: float = 0.020
) -> JudgeBenchResult:
    """The same requests sent with bare aiohttp: the baseline :func:`run_judge_bench` is read
    against.

    One session, the same request bodies (rendered before the clock starts) and replies; no
    budget, retries or reply validation.

    Example:
        >>> run_aiohttp_floor(count=8, in_flight=4, latency_s=0.005).failures
        0
    """
    with _stub_server(latency_s) as port:
        return asyncio.run(_drive_bare(port, count, in_flight, latency_s))


def compare_judge_clients(
    count: int = 2000,
    in_flight: int = 64,
    latency_s: float = 0.020,
    rounds: int = 3,
    on_round: Callable[[str, JudgeBenchResult], None] | None = None,
) -> JudgeBenchComparison:
    """``rounds`` of ours then the baseline, alternated, against one stub server.

    Args:
        count: judgements per round.
        in_flight: callers, hence requests on the wire at once.
        latency_s: the stub server's delay before each reply.
        rounds: rounds of each client.
        on_round: called with ``"ours"`` or ``"baseline"`` and each round's result.

    Example:
        >>> both = compare_judge_clients(count=8, in_flight=4, latency_s=0.005, rounds=1)
        >>> [r.failures for r in both.ours + both.baseline]
        [0, 0]
    """
    ours: list[JudgeBenchResult] = []
    baseline: list[JudgeBenchResult] = []
    with _stub_server(latency_s) as port:
        for _ in range(rounds):
            for name, drive, results in (
                ("ours", _drive, ours),
                ("baseline", _drive_bare, baseline),
            ):
                result = asyncio.run(drive(port, count, in_flight, latency_s))
                results.append(result)
                if on_round is not None:
                    on_round(name, result)
    return JudgeBenchComparison(ours=ours, baseline=baseline)


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


def _question(i: int) -> str:
    return f"Problem {i}: find x."


async def _stream(
    jobs: list[T], one: Callable[[T], Awaitable[bool]], in_flight: int
) -> tuple[float, float, int]:
    """Run ``one`` over ``jobs`` from ``in_flight`` callers, each taking the next job when its
    last one returns; the wall and CPU seconds taken, and the failures."""
    pending = iter(jobs)
    failures = 0

    async def caller() -> None:
        nonlocal failures
        for job in pending:
            failures += await one(job)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    return time.perf_counter() - wall, time.process_time() - cpu, failures


async def _drive(port: int, count: int, in_flight: int, latency_s: float) -> JudgeBenchResult:
    from rlsp_rewards.judge.reward import JudgeExploration

    reward = JudgeExploration(
        judge_url=f"http://127.0.0.1:{port}/v1",
        judge_model="bench",
        judge_max_in_flight=in_flight,
        judge_cache_size=0,
        judge_timeout_s=30.0,
        judge_budget_s=120.0,
    )

    def sample(i: int) -> Sample:
        return Sample(response=_response(i), extra_info={"question": _question(i)})

    async def one(job: Sample) -> bool:
        return (await reward.agrade(job)).failed

    await asyncio.gather(*(one(sample(-1 - i)) for i in range(in_flight)))  # connections open
    wall, cpu, failures = await _stream([sample(i) for i in range(count)], one, in_flight)
    return JudgeBenchResult(count, in_flight, latency_s, wall, cpu, failures)


async def _drive_bare(port: int, count: int, in_flight: int, latency_s: float) -> JudgeBenchResult:
    import aiohttp

    from rlsp_rewards.judge.prompt import DEFAULT_TEMPLATE, load_template, render_prompt

    template = load_template(DEFAULT_TEMPLATE)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    headers = {"Content-Type": "application/json"}

    def body(i: int) -> bytes:
        content = render_prompt(template, _question(i), _response(i), 32000)
        return json.dumps(
            {
                "model": "bench",
                "messages": [{"role": "user", "content": content}],
                "temperature": 0.0,
                "max_tokens": 512,
            }
        ).encode()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(payload: bytes) -> bool:
            async with session.post(url, data=payload, headers=headers) as reply:
                data = await reply.read()
                return reply.status != 200 or not json.loads(data)["choices"]

        await asyncio.gather(*(one(body(-1 - i)) for i in range(in_flight)))
        wall, cpu, failures = await _stream([body(i) for i in range(count)], one, in_flight)
    return JudgeBenchResult(count, in_flight, latency_s, wall, cpu, failures)


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
