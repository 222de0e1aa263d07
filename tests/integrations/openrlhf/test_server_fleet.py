"""``rlsp-rewards serve --processes N``: N real servers on consecutive ports, supervised.

Everything runs as real processes on 127.0.0.1: the supervisor (``python -m rlsp_rewards
serve --processes 2``), its servers, and this test as the client.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from rlsp_rewards.integrations.openrlhf.fleet import UP_BEFORE_RESTART_S, urls

BODY = {"query": ["So the answer is \\boxed{4}."], "prompts": [""], "labels": ["4"]}


def _free_pair() -> int:
    """A port whose next port is free too."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def _fleet(port: int, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "rlsp_rewards", "serve", "--processes", "2"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError):
                pass
    return found


def _server_on(port: int, fleet: int) -> int:
    """The pid of the fleet's server on ``port``."""
    for child in _children(fleet):
        try:
            with open(f"/proc/{child}/cmdline") as cmdline:
                if f"\0--port\0{port}\0" in cmdline.read():
                    return child
        except OSError:  # gone meanwhile (the server just killed, now reaped)
            pass
    raise AssertionError(f"no server on port {port}")


def _score(port: int) -> float:
    reply = httpx.post(f"http://127.0.0.1:{port}/get_reward", json=BODY, timeout=30)
    reply.raise_for_status()
    return reply.json()["scores"][0]


@pytest.fixture
def fleet() -> Iterator[tuple[subprocess.Popen, int]]:
    port = _free_pair()
    process = _fleet(port, "--scoring-threads", "1")
    line = process.stdout.readline()  # type: ignore[union-attr]  # printed once all answer
    assert urls("127.0.0.1", [port, port + 1]) in line, (line, process.stderr)
    yield process, port
    servers = _children(process.pid)  # before the supervisor goes: then they have no parent
    if process.poll() is None:
        process.kill()
        process.wait()
    for server in servers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)


def test_every_server_answers_and_sigterm_stops_them_all(
    fleet: tuple[subprocess.Popen, int],
) -> None:
    process, port = fleet
    assert [_score(port), _score(port + 1)] == [1.0, 1.0]
    servers = [_server_on(port, process.pid), _server_on(port + 1, process.pid)]
    for server in servers:  # the supervisor passes the server options on
        with open(f"/proc/{server}/cmdline") as cmdline:
            args = cmdline.read().split("\0")
        assert args[args.index("--scoring-threads") + 1] == "1"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    for server in servers:  # none left behind (each stopped, and reaped by the supervisor)
        assert not os.path.exists(f"/proc/{server}")


def test_a_crashed_server_is_started_again(fleet: tuple[subprocess.Popen, int]) -> None:
    process, port = fleet
    time.sleep(UP_BEFORE_RESTART_S + 1)  # up long enough to count as running, not starting
    crashed = _server_on(port + 1, process.pid)
    os.kill(crashed, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, "the server was not started again"
        try:
            if _server_on(port + 1, process.pid) != crashed and _score(port + 1) == 1.0:
                break
        except (AssertionError, httpx.HTTPError):
            time.sleep(0.5)
    assert process.poll() is None and _score(port) == 1.0  # the other one never stopped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel guard is Linux's")
def test_a_killed_supervisor_takes_its_servers_along(fleet: tuple[subprocess.Popen, int]) -> None:
    process, port = fleet
    servers = [_server_on(port, process.pid), _server_on(port + 1, process.pid)]
    process.kill()  # no chance to stop them itself
    process.wait()
    deadline = time.monotonic() + 30
    while any(_alive(server) for server in servers):
        assert time.monotonic() < deadline, "servers outlived their supervisor"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and not yet reaped by init, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_taken_port_fails_before_anything_starts() -> None:
    port = _free_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        process = _fleet(port)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert f"port {port + 1} is in use" in err


def test_a_bad_setting_fails_once_before_anything_starts() -> None:
    process = _fleet(_free_pair(), "--config", '{"alpah": 0.8}')
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.count("unknown setting 'alpah'") == 1
