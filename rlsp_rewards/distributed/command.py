"""``rlsp-rewards score --ray``: the command line's side of :func:`~.job.score_dataset`.

Example:
    >>> from rich.console import Console
    >>> from rlsp_rewards.cli.runs import Summary
    >>> report_shards(Console(quiet=True), DatasetResult(Summary(), [], None, 0.0))
    0
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsp_rewards.cli.runs import FieldMap
from rlsp_rewards.distributed.job import DatasetResult, score_dataset
from rlsp_rewards.distributed.limits import parse_actors
from rlsp_rewards.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["report_shards", "score_on_ray"]


def score_on_ray(
    console: Console,
    input_path: Path,
    out: Path | None,
    ray_address: str,
    actors: str | None,
    fields: FieldMap,
    **options: Any,
) -> DatasetResult:
    """Run :func:`~.job.score_dataset` for ``score --ray`` with a progress bar on ``console``.

    Raises:
        ConfigError: without ``--out`` (the scored shards need a folder), or for bad options.
        DependencyError: without Ray.

    Example:
        >>> from rich.console import Console
        >>> score_on_ray(Console(quiet=True), Path("in.jsonl"), None, "local", None, FieldMap())
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: --ray needs --out FOLDER: one Parquet file per input ...
    """
    if out is None:
        raise ConfigError("--ray needs --out FOLDER: one Parquet file per input shard goes there")
    return score_dataset(
        input_path,
        out,
        ray_address=ray_address,
        actors=parse_actors(actors),
        fields=fields,
        console=console,
        **options,
    )


def report_shards(console: Console, result: DatasetResult) -> int:
    """Print what happened to the shards (and any that failed); the number that failed."""
    counts: dict[str, int] = {}
    for outcome in result.shards:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if result.plan is not None:
        plan = result.plan
        size = (
            f"{plan.min_actors}"
            if plan.min_actors == plan.max_actors
            else (f"{plan.min_actors}-{plan.max_actors}")
        )
        console.print(f"Ray: {size} actor(s), {plan.cpus_per_actor:g} CPU each")
        for note in plan.notes:
            console.print(f"  note: {note}")
    if counts:
        shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        console.print(f"Shards: {shown} in {result.seconds:.1f} s")
    for outcome in result.failed:
        console.print(f"[red]shard {outcome.shard.source} failed[/red]: {outcome.error}")
    return len(result.failed)
