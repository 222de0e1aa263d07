"""``rlsp-rewards bench --ray ADDRESS``: the local path and a Ray cluster on the same rollouts.

The rollouts are the bench workload's (:mod:`rlsp_rewards.bench.workload`, 64 responses per
problem), written as ``shards`` JSONL files (kept in ``data_dir`` between runs when one is given:
generating them costs about as much as scoring them). Ray runs first, then the local path in
this process (so the local peak memory includes Ray's driver); both start warm:

* **local**: :func:`~rlsp_rewards.cli.runs.score_file` on each shard in turn, in this process,
  as ``rlsp-rewards score`` does (one process; its verification workers);
* **ray**: :func:`~rlsp_rewards.distributed.job.score_dataset` on the cluster at ``ray_address``.

Reported: rows/s of each and their ratio; per row, the CPU seconds of the local process and of
the actors; the time an actor spends outside the reward (reading, Parquet, the progress report)
against the local path's (reading, JSON); the Ray overhead per row (actor-seconds neither busy
nor scoring: start-up, scheduling, the tail when shards run out); each actor's peak memory and
its workers' memory. On a shared machine wall-clock rates move with the load; CPU seconds per
row move much less.

Example:
    >>> report = run_ray_bench(128, shards=2, ray_address="local", console=None)  # doctest: +SKIP
    >>> report["ray"]["rows"], report["local"]["rows"]  # doctest: +SKIP
    (128, 128)
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsp_rewards.cli.runs import build_reward, score_file

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["run_ray_bench", "write_workload"]


def write_workload(folder: Path, rows: int, shards: int, seed: int = 0) -> list[Path]:
    """``rows`` workload rollouts in ``shards`` JSONL files (reused when already there).

    Example:
        >>> import pathlib, tempfile
        >>> paths = write_workload(pathlib.Path(tempfile.mkdtemp()), 128, 2)
        >>> [sum(1 for _ in p.open()) for p in paths]
        [64, 64]
    """
    from rlsp_rewards.bench.workload import generate

    folder.mkdir(parents=True, exist_ok=True)
    per_shard = -(-rows // shards)
    paths = []
    for index in range(shards):
        count = max(0, min(per_shard, rows - index * per_shard))
        path = folder / f"rollouts-{rows}-{index:04d}-of-{shards:04d}.jsonl"
        if not path.is_file():
            part = generate(problems=-(-count // 64), samples=64, seed=seed + index)[:count]
            temp = path.with_suffix(".tmp")
            temp.write_text("".join(json.dumps(row) + "\n" for row in part))
            temp.replace(path)
        paths.append(path)
    return paths


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _local(paths: list[Path], out: Path) -> dict[str, Any]:
    reward = build_reward("paper")
    reward.warm_up()
    rows = scored = 0
    reward_s = 0.0
    started, cpu = time.perf_counter(), _cpu_s()
    for path in paths:
        summary = score_file(path, reward, out=out / f"{path.stem}.jsonl")
        rows, scored, reward_s = (
            rows + summary.rows,
            scored + summary.scored,
            reward_s + summary.seconds,
        )
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "cpu_s_per_row": (_cpu_s() - cpu) / rows,
        "outside_reward_s_per_row": (seconds - reward_s) / rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _ray(source: str, out: Path, ray_address: str, actors: int | None) -> dict[str, Any]:
    from rlsp_rewards.distributed.job import score_dataset

    result = score_dataset(source, out, ray_address=ray_address, actors=actors)
    stats = [s.stats for s in result.shards if s.stats is not None]
    rows = sum(s.rows for s in stats)
    pool = result.plan.max_actors if result.plan is not None else 0
    busy = sum(s.busy_s for s in stats)
    by_actor: dict[int, dict[str, float]] = {}
    for s in stats:
        actor = by_actor.setdefault(s.pid, {"rows": 0, "busy_s": 0.0})
        actor["rows"] += s.rows
        actor["busy_s"] += s.busy_s
        actor["peak_rss_mb"] = max(actor.get("peak_rss_mb", 0.0), s.peak_rss_mb)
        actor["workers_rss_mb"] = max(actor.get("workers_rss_mb", 0.0), s.workers_rss_mb)
    return {
        "rows": rows,
        "failed_shards": len(result.failed),
        "actors": pool,
        "seconds": result.seconds,
        "rows_per_s": rows / result.seconds,
        "cpu_s_per_row": sum(s.cpu_s for s in stats) / rows,
        "outside_reward_s_per_row": (busy - sum(s.reward_s for s in stats)) / rows,
        "overhead_s_per_row": (result.seconds * pool - busy) / rows,
        "by_actor": by_actor,
    }


def run_ray_bench(
    rows: int,
    *,
    shards: int = 16,
    ray_address: str = "local",
    actors: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    json_path: str | os.PathLike[str] | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Score the same ``rows`` rollouts locally and on Ray; the report (also as JSON).

    Args:
        rows: rollouts in the workload.
        shards: JSONL files they are written as (Ray scores one shard per actor at a time).
        ray_address: the cluster (``"local"``: a fresh Ray on this machine).
        actors: the pool size (``None``: one per CPU, at most one per shard).
        seed: the workload's seed.
        data_dir: where the rollouts are kept between runs (``None``: a temporary folder).
        json_path: also write the report here.
        console: where to print the results (``None``: print nothing).
    """
    root = Path(tempfile.mkdtemp(prefix="rlsp-ray-bench-"))
    try:
        folder = Path(data_dir) if data_dir is not None else root / "rollouts"
        paths = write_workload(folder, rows, shards, seed)
        pattern = str(folder / f"rollouts-{rows}-*-of-{shards:04d}.jsonl")  # these, not others
        ray = _ray(pattern, root / "ray", ray_address, actors)
        local = _local(paths, _made(root / "local"))
    finally:
        shutil.rmtree(root, ignore_errors=True)  # the scored copies; data_dir is kept
    report = {
        "workload": {"rows": rows, "shards": shards, "samples_per_problem": 64, "seed": seed},
        "cpus_here": os.cpu_count(),
        "load_average": os.getloadavg(),
        "local": local,
        "ray": ray,
        "ray_over_local": ray["rows_per_s"] / local["rows_per_s"],
    }
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
    if console is not None:
        _show(console, report)
    return report


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _show(console: Console, report: dict[str, Any]) -> None:
    local, ray = report["local"], report["ray"]
    console.print(
        f"{report['workload']['rows']:,} rows in {report['workload']['shards']} shards; "
        f"load average {report['load_average'][0]:.1f} on {report['cpus_here']} CPUs"
    )
    console.print(
        f"local: {local['rows_per_s']:,.0f} rows/s, {local['cpu_s_per_row'] * 1e3:.2f} ms CPU "
        f"per row, {local['outside_reward_s_per_row'] * 1e6:.0f} us per row outside the reward"
    )
    console.print(
        f"ray:   {ray['rows_per_s']:,.0f} rows/s with {ray['actors']} actor(s), "
        f"{ray['cpu_s_per_row'] * 1e3:.2f} ms actor CPU per row, "
        f"{ray['outside_reward_s_per_row'] * 1e6:.0f} us per row outside the reward, "
        f"{ray['overhead_s_per_row'] * 1e6:.0f} us per row idle (start-up, scheduling, tail)"
    )
    for pid, actor in ray["by_actor"].items():
        console.print(
            f"  actor {pid}: {actor['rows']:,} rows, peak {actor['peak_rss_mb']:.0f} MB, "
            f"workers {actor['workers_rss_mb']:.0f} MB"
        )
    console.print(f"ray / local: {report['ray_over_local']:.2f}x the rows/s")
