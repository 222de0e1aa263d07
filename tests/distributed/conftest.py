"""Real Ray for the distributed tests: a two-node cluster on 127.0.0.1, and the rollouts they score.

The cluster is two ``ray start --block`` processes (a head and a worker node, one CPU each) in a
temporary folder of their own, so nothing is shared with another Ray on the machine. Every start
is bounded in time; at the end the processes this fixture started, and their descendants, are
ended by their process ids (never ``ray stop``, which ends every Ray of the user).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How long a cluster may take to come up (a loaded 2-core machine takes tens of seconds).
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pids: list[int]) -> list[int]:
    """Every living process below ``pids`` (read from /proc), deepest last."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], list(pids)
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def end_processes(pids: list[int], grace_s: float = 20.0) -> None:
    """SIGTERM each process, then SIGKILL what is left after ``grace_s``."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if running(pid)]
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def running(pid: int) -> bool:
    """True while ``pid`` runs (not exited, not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class TwoNodeCluster:
    """A head and a worker node started by ``ray start --block``; see the module docstring."""

    def __init__(self, cpus_per_node: int = 1) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="rr", dir="/tmp")  # short: socket paths
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.cpus_per_node = cpus_per_node
        self.processes: list[subprocess.Popen] = []
        self.ray = str(Path(sys.executable).parent / "ray")

    def _start(self, *args: str) -> None:
        ports = [
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
        ]
        command = [
            self.ray,
            "start",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={self.cpus_per_node}",
            "--object-store-memory=100000000",
            "--disable-usage-stats",
            *ports,
            *args,
        ]
        log = open(Path(self.temp_dir) / f"start-{len(self.processes)}.log", "w")  # noqa: SIM115
        env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        )

    def start(self) -> None:
        self._start(
            "--head",
            f"--port={self.port}",
            "--include-dashboard=false",
            f"--temp-dir={self.temp_dir}",
        )
        self._wait_for_nodes(1)
        self._start(f"--address={self.address}")
        self._wait_for_nodes(2)

    def _wait_for_nodes(self, count: int) -> None:
        probe = (
            "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
            "print(sum(n['Alive'] for n in ray.nodes()))"
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"ray start exited early; see {self.temp_dir}/start-*.log")
            try:
                done = subprocess.run(
                    [sys.executable, "-c", probe, self.address],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    env={**os.environ, "RAY_AUTH_MODE": "disabled"},
                )
            except subprocess.TimeoutExpired:
                continue
            if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            time.sleep(1)
        raise RuntimeError(f"{count} Ray node(s) did not come up in {START_TIMEOUT_S} s")

    def pids(self) -> list[int]:
        """The processes of this cluster: the two ``ray start`` and all below them."""
        mine = [p.pid for p in self.processes]
        return mine + descendants(mine)

    def actor_pids(self, marker: str = "MapWorker") -> list[int]:
        """Our actors' processes (Ray Data titles its actors MapWorker)."""
        return [
            pid
            for pid in descendants([p.pid for p in self.processes])
            if marker in command_line(pid)
        ]

    def stop(self) -> None:
        below = descendants([p.pid for p in self.processes])
        end_processes([p.pid for p in self.processes])
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        end_processes([pid for pid in below if Path(f"/proc/{pid}").exists()], grace_s=5)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def two_node_cluster() -> Iterator[TwoNodeCluster]:
    """A two-node Ray cluster on 127.0.0.1, one CPU per node; yields it (see ``.address``)."""
    cluster = TwoNodeCluster()
    try:
        cluster.start()
        os.environ["RAY_AUTH_MODE"] = "disabled"
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """``ray.init(num_cpus=2)`` in this process, in a temporary folder of its own."""
    import ray

    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp_dir = tempfile.mkdtemp(prefix="rr", dir="/tmp")  # short: socket paths
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", _temp_dir=temp_dir)
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def write_rollouts(path: Path, rows: list[dict]) -> Path:
    """Rows as JSONL (``.jsonl.gz`` compressed, ``.parquet`` through pyarrow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if path.name.endswith(".gz"):
        import gzip

        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def workload(rows: int, seed: int = 0) -> list[dict]:
    """``rows`` rollouts of the bench workload's shape (64 per problem), no adversarial ones (their
    timeouts would depend on the machine's load)."""
    from rlsp_rewards.bench.workload import generate

    return generate(problems=-(-rows // 64), samples=64, seed=seed, adversarial=0.0)[:rows]
