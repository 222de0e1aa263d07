"""The ``rlsp-rewards serve`` process: load with a worker killed, start-up errors, SIGTERM.

The server runs as its own process (``python -m rlsp_rewards serve``), as in production; the
test process is only the client. The load test prints p50/p99 latencies and asserts only that
every request is answered correctly (no timing asserts).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rlsp_rewards.core import NUMERIC_KEYS

PROMPT = "<|im_start|>user\nSimplify.<|im_end|>\n<|im_start|>assistant\n"
LOAD_REQUESTS = int(os.environ.get("RLSP_LOAD_REQUESTS", "5000"))
LOAD_IN_FLIGHT = 64
UNIQUE_EVERY = 50  # one request in 50 carries a new symbolic answer for the worker processes


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rlsp_rewards",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.stdout.read()
        assert time.monotonic() < deadline, "the server did not start within 120 s"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen, str]]:
    server, url = start_server()
    yield server, url
    stop(server)


def pool_workers(root: int) -> list[int]:
    """PIDs of the worker-pool processes under ``root``: the children of its fork server."""
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            commands[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    fork_servers = [
        pid
        for pid, parent in parents.items()
        if parent == root and b"forkserver" in commands.get(pid, b"")
    ]
    return [pid for pid, parent in parents.items() if parent in fork_servers]


def load_body(i: int) -> dict:
    # Mostly repeated answers (the rollouts of one prompt agree), some new ones that only
    # math-verify in the worker processes can decide (the in-process fast path cannot).
    if i % UNIQUE_EVERY == 0:
        response, gold = f"\\boxed{{{i + 3}}}", f"\\log_2 8+{i}"
    else:
        response, gold = f"\\boxed{{{i % 7}}}", "3"
    return {"query": [PROMPT + response + "<|im_end|>"], "prompts": [PROMPT], "labels": [gold]}


def test_load_5000_requests_64_in_flight_with_a_worker_killed(served) -> None:
    import aiohttp

    server, url = served
    latencies: list[float] = []
    answers: dict[int, dict] = {}
    killed: list[int] = []

    async def one(session: aiohttp.ClientSession, i: int, gate: asyncio.Semaphore) -> None:
        async with gate:
            started = time.perf_counter()
            async with session.post(f"{url}/get_reward", json=load_body(i)) as response:
                assert response.status == 200, await response.text()
                answers[i] = await response.json()
            latencies.append(time.perf_counter() - started)
        if i == LOAD_REQUESTS // 2:
            workers = pool_workers(server.pid)
            assert workers, "no worker-pool process found to kill"
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    async def main() -> None:
        gate = asyncio.Semaphore(LOAD_IN_FLIGHT)
        connector = aiohttp.TCPConnector(limit=LOAD_IN_FLIGHT)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=180)
        ) as session:
            await asyncio.gather(*(one(session, i, gate) for i in range(LOAD_REQUESTS)))

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    assert len(answers) == LOAD_REQUESTS and killed
    assert all(
        len(a["rewards"]) == 1 and set(a["extra_logs"]) == set(NUMERIC_KEYS)
        for a in answers.values()
    )
    wrong = [
        i
        for i, a in answers.items()
        if a["extra_logs"]["error"] == [0.0]
        and a["scores"] != [float(i % UNIQUE_EVERY == 0 or i % 7 == 3)]
    ]
    assert not wrong, f"wrong verdicts for requests {wrong[:10]}"
    errors = sum(a["extra_logs"]["error"][0] for a in answers.values())
    metrics = httpx.get(f"{url}/metrics").text
    restarts = next(
        line for line in metrics.splitlines() if line.startswith("rlsp_pool_restarts_total")
    )
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\nload: {LOAD_REQUESTS} requests, {LOAD_IN_FLIGHT} in flight, {elapsed:.1f} s, "
        f"{LOAD_REQUESTS / elapsed:.0f} req/s, p50 {q[49] * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms; "
        f"worker {killed[0]} killed, {errors:.0f} samples flagged error, {restarts}"
    )
    assert float(restarts.split()[-1]) >= 1  # the killed worker was replaced


def test_bad_settings_fail_before_binding() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlsp_rewards", "serve", "--config", '{"alpah": 0.8}'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "alpah" in result.stderr


def test_sigterm_finishes_admitted_requests(served) -> None:
    server, url = served  # the last test of the module: it stops the shared server
    try:
        samples = [{"response": f"\\boxed{{{i + 3}}}", "gold": f"\\log_2 8+{i}"} for i in range(40)]
        answer: dict = {}

        def post() -> None:
            answer["response"] = httpx.post(
                f"{url}/v1/score", json={"samples": samples}, timeout=120
            )

        client = threading.Thread(target=post)
        client.start()
        while "rlsp_requests_in_flight 1.0" not in httpx.get(f"{url}/metrics").text:
            assert client.is_alive(), "the request finished before it was seen in flight"
            time.sleep(0.005)
        server.send_signal(signal.SIGTERM)
        client.join(120)
        assert server.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal when done
        response = answer["response"]
        assert response.status_code == 200 and len(response.json()["results"]) == 40
        assert all(r["acc"] == 1.0 for r in response.json()["results"])
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/health", timeout=2)
    finally:
        stop(server)
