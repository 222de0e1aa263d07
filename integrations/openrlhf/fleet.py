"""Several reward servers on consecutive ports, kept running: ``rlsp-rewards serve --processes N``.

One server process answers 1,350-2,100 ``/get_reward`` POSTs a second at 16 KB on a 2-core
machine, with 0.6-0.9 ms of CPU per request, about a third of it HTTP, JSON and the
micro-batcher under one GIL, so a host with more cores runs several. OpenRLHF spreads its
requests over every URL listed in ``--reward.remote_url``, so the servers need no shared port:
each one is a whole server (its own ``/metrics``, admission bound and worker pool; the pool gets
the host's CPUs divided among the servers unless ``--workers`` says otherwise). Two servers
answered 1.07-1.40x of one at 16 KB in ``rlsp-rewards bench --reward`` on that machine
(2026-12-04), whose 2 CPUs the benchmark's client shares.

The supervisor starts every server, waits until each accepts connections, prints the URLs, and
then restarts a server that exits after it had been up (a crash); a server that fails while
starting stops the whole fleet, with its exit code. SIGINT or SIGTERM stops them all
gracefully (each finishes its requests in flight); should the supervisor itself be killed, the
kernel kills the servers too (Linux).

Example:
    >>> urls("127.0.0.1", [8000, 8001])
    'http://127.0.0.1:8000/get_reward,http://127.0.0.1:8001/get_reward'
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from rlsp_rewards.errors import ConfigError

__all__ = ["serve_fleet", "urls"]

#: A server that ran at least this long before it exited is restarted; sooner, the fleet stops.
UP_BEFORE_RESTART_S = 10.0


def urls(host: str, ports: Sequence[int]) -> str:
    """The ``--reward.remote_url`` value that lists the servers on ``ports``."""
    return ",".join(f"http://{_reachable(host)}:{port}/get_reward" for port in ports)


def _reachable(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine."""
    return "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host


def serve_fleet(
    processes: int,
    host: str,
    port: int,
    options: Sequence[str],
    workers: int | None = None,
    ready: Callable[[str], None] = print,
    say: Callable[[str], None] | None = None,
    startup_s: float = 300.0,
    graceful_timeout_s: float = 30.0,
) -> int:
    """Run ``processes`` servers on ``port`` .. ``port + processes - 1`` until SIGINT/SIGTERM.

    Args:
        processes: how many servers.
        host: the interface each one binds.
        port: the first port.
        options: further ``rlsp-rewards serve`` options for every server (not ``--host``,
            ``--port``, ``--workers``, ``--processes``).
        workers: verification worker processes per server (default: the CPUs divided among
            the servers, at least one each).
        ready: called once with the ``--reward.remote_url`` value when every server answers.
        say: where restarts and failures are told (default: standard error).
        startup_s: how long the servers may take to start.
        graceful_timeout_s: how long stopping waits for requests in flight.

    Returns:
        The exit code: 0 when stopped by a signal, else that of the server that failed.

    Raises:
        ConfigError: when a port is taken or the numbers make no sense, before anything starts.
    """
    from rlsp_rewards.workers import available_cpus

    say = say or _to_stderr
    if processes < 1:
        raise ConfigError(f"processes must be at least 1, got {processes}")
    ports = [port + k for k in range(processes)]
    for taken in ports:
        if not _free(host, taken):
            raise ConfigError(
                f"port {taken} is in use: choose another --port (servers use {ports})"
            )
    each = workers if workers is not None else max(1, available_cpus() // processes)
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in _SIGNALS}
    servers: dict[int, tuple[subprocess.Popen, float]] = {}
    try:
        for taken in ports:
            servers[taken] = (_start(host, taken, each, options), time.monotonic())
        if not _wait_ready(host, servers, startup_s, stopping):
            return _failed(servers, stopping, say)
        ready(urls(host, ports))
        while not stopping.wait(0.5):
            for taken, (server, since) in list(servers.items()):
                code = server.poll()
                if code is None:
                    continue
                if time.monotonic() - since < UP_BEFORE_RESTART_S:
                    say(f"the server on port {taken} exited ({code}) right after it started")
                    return code or 1
                say(f"the server on port {taken} exited ({code}): restarting it")
                servers[taken] = (_start(host, taken, each, options), time.monotonic())
        return 0
    finally:
        _stop([server for server, _ in servers.values()], graceful_timeout_s)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _start(host: str, port: int, workers: int, options: Sequence[str]) -> subprocess.Popen:
    """One server; on Linux the kernel kills it should the supervisor die without stopping it
    (SIGKILL, the OOM killer), so that no server is left holding its port."""
    from rlsp_rewards.processes import parent_death_guard

    command = [sys.executable, "-m", "rlsp_rewards", "serve", "--host", host, "--port", str(port)]
    command += ["--workers", str(workers), *options]
    return subprocess.Popen(command, preexec_fn=parent_death_guard())


def _wait_ready(
    host: str,
    servers: dict[int, tuple[subprocess.Popen, float]],
    startup_s: float,
    stopping: threading.Event,
) -> bool:
    """Whether every server accepts connections within ``startup_s`` (and none exited)."""
    deadline = time.monotonic() + startup_s
    waiting = set(servers)
    while waiting and not stopping.is_set() and time.monotonic() < deadline:
        for taken in list(waiting):
            if servers[taken][0].poll() is not None:
                return False
            try:
                with socket.create_connection((_reachable(host), taken), timeout=0.5):
                    waiting.discard(taken)
            except OSError:
                pass
        stopping.wait(0.2)
    return not waiting


def _failed(
    servers: dict[int, tuple[subprocess.Popen, float]],
    stopping: threading.Event,
    say: Callable[[str], None],
) -> int:
    if stopping.is_set():
        return 0
    for taken, (server, _) in servers.items():
        code = server.poll()
        if code is not None:
            say(f"the server on port {taken} exited ({code}) while starting")
            return code or 1
    say("the servers did not all start in time")
    return 1


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stop(servers: list[subprocess.Popen], graceful_timeout_s: float) -> None:
    for server in servers:
        if server.poll() is None:
            server.terminate()  # uvicorn: stop accepting, finish what is in flight
    deadline = time.monotonic() + graceful_timeout_s + 5
    for server in servers:
        try:
            server.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
