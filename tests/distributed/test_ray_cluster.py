"""A real two-node Ray cluster on 127.0.0.1: the CLI against the local path on the same 20,000
rows, and a job that loses an actor halfway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray  # noqa: F401  (a broken install fails here, loudly)

from rlsp_rewards.cli.runs import build_reward, score_file
from rlsp_rewards.distributed import score_dataset

from .compare import local_rows, ray_rows
from .conftest import TwoNodeCluster, running, workload, write_rollouts

pytestmark = pytest.mark.ray


@pytest.mark.timeout(900)  # 20,000 rows twice, on a shared 2-core machine
def test_cli_on_the_cluster_matches_the_local_path(
    two_node_cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    rollouts = write_rollouts(tmp_path / "rollouts.jsonl", workload(20_000, seed=11))
    local = tmp_path / "local.jsonl"
    score_file(rollouts, build_reward("paper"), out=local)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "rlsp-rewards"),
            "score",
            str(rollouts),
            "-o",
            str(tmp_path / "scored"),
            "--ray",
            two_node_cluster.address,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Overview" in done.stdout and "Shards: 1 scored" in done.stdout
    assert ray_rows(tmp_path / "scored" / "rollouts.parquet") == local_rows(local)


def test_a_killed_actor_is_replaced_and_every_row_is_written_once(
    two_node_cluster: TwoNodeCluster, tmp_path: Path
) -> None:
    rows = workload(3_000, seed=12)
    for i in range(6):
        write_rollouts(tmp_path / "in" / f"part-{i}.jsonl", rows[i * 500 : (i + 1) * 500])
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_one_actor_mid_shard() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            finished = len(list(out.glob("*.parquet"))) if out.is_dir() else 0
            pids = two_node_cluster.actor_pids()
            if 1 <= finished <= 3 and pids:  # 3 or more shards left: both actors are busy
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_actor_mid_shard, daemon=True)
    killer.start()
    result = score_dataset(tmp_path / "in", out, ray_address=two_node_cluster.address, actors=2)
    killer.join(timeout=5)
    assert killed, "the job ended before an actor could be killed"
    assert [s.status for s in result.shards] == ["scored"] * 6
    for outcome in result.shards:
        assert [line for line, _, _ in ray_rows(outcome.shard.target)] == list(range(1, 501))
    assert result.summary.rows == result.summary.scored == 3_000
    assert not running(killed[0])  # it really died; Ray started another in its place
    assert not list(out.glob(".*.tmp"))
