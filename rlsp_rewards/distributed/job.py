"""``score_dataset``: score shards of rollouts on Ray Data, one Parquet file per shard.

The driver plans the shards (:mod:`.shards`), skips those already done when resuming
(:mod:`.resume`), sizes the actor pool (:mod:`.limits`), and runs one Ray Data pipeline:
``from_items(shards).map_batches(ShardScorer, batch_size=1, compute=ActorPoolStrategy(...))``.
Each actor scores whole shards (:mod:`.actor`) and writes them (:mod:`.parquet`); the driver
only collects one small row of statistics per shard and reads the result columns of the
finished files back, in shard order, into the same :class:`~rlsp_rewards.cli.runs.Summary` the
local path prints.

Failures: an actor that dies (killed, out of memory, its node lost) is replaced by Ray and its
shard scored again from the first row, up to ``max_retries`` times; a shard that still fails,
or that its node cannot read, is reported in :attr:`DatasetResult.failed` (nothing is written
for it: ``--resume`` retries it) while every other shard completes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rlsp_rewards.cli.runs import FieldMap, Summary, build_reward, count_rows
from rlsp_rewards.distributed.actor import ShardScorer, ShardStats
from rlsp_rewards.distributed.limits import ActorPlan, plan_actors
from rlsp_rewards.distributed.parquet import read_outcomes
from rlsp_rewards.distributed.progress import RowsBar, start_counter
from rlsp_rewards.distributed.resume import clean_temporaries, is_done, job_facts, shard_facts
from rlsp_rewards.distributed.shards import Shard, plan_shards
from rlsp_rewards.errors import ConfigError, require

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DatasetResult", "ShardOutcome", "score_dataset"]

logger = logging.getLogger("rlsp_rewards.distributed")


@dataclasses.dataclass(frozen=True)
class ShardOutcome:
    """What happened to one shard.

    Attributes:
        shard: the shard.
        status: ``"scored"``, ``"resumed"`` (complete from an earlier run) or ``"failed"``.
        stats: the actor's statistics (``None`` unless scored by this run, or failed there).
        error: why it failed (``""`` otherwise).

    Example:
        >>> from pathlib import Path
        >>> ShardOutcome(Shard(0, Path("a.jsonl"), Path("o/a.parquet")), "resumed").error
        ''
    """

    shard: Shard
    status: str
    stats: ShardStats | None = None
    error: str = ""


@dataclasses.dataclass
class DatasetResult:
    """The outcome of :func:`score_dataset`.

    Attributes:
        summary: every row of every written shard (resumed ones included), as the local path
            summarises them.
        shards: per shard, in input order, what happened to it.
        plan: the actor pool (``None`` when every shard was already done).
        seconds: wall time of the whole call.

    Example:
        >>> DatasetResult(Summary(), [], None, 0.0).failed
        []
    """

    summary: Summary
    shards: list[ShardOutcome]
    plan: ActorPlan | None
    seconds: float

    @property
    def failed(self) -> list[ShardOutcome]:
        """The shards that could not be written."""
        return [s for s in self.shards if s.status == "failed"]


def _address(ray_address: str | None) -> str | None:
    """``--ray`` as ``ray.init``'s address: ``local`` starts a fresh instance on this machine."""
    if ray_address is None or ray_address in ("auto", "local"):
        return ray_address
    if "://" in ray_address or ":" in ray_address:
        return ray_address
    raise ConfigError(
        f"--ray takes 'local', 'auto' or a cluster address such as 10.0.0.1:6379, "
        f"got {ray_address!r}"
    )


def score_dataset(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    preset: str = "paper",
    settings: Mapping[str, Any] | None = None,
    judge_url: str | None = None,
    judge_model: str | None = None,
    ray_address: str | None = None,
    actors: int | tuple[int, int] | None = None,
    cpus_per_actor: float = 1.0,
    batch_size: int = 512,
    fields: FieldMap = FieldMap(),
    resume: bool = False,
    max_retries: int = 3,
    console: Console | None = None,
) -> DatasetResult:
    """Score every shard of ``input`` on Ray into one Parquet file per shard under ``output``.

    Args:
        input: a ``.jsonl``, ``.jsonl.gz`` or ``.parquet`` file, a folder of them, or a glob.
        output: the folder for the scored shards (created; see :mod:`.shards` for the names).
        preset: the reward preset (``paper``, ``reference``, ``guarded``).
        settings: reward settings on top of the preset (as ``--set KEY=VALUE``).
        judge_url: an OpenAI-compatible judge endpoint (turns the judge term on).
        judge_model: the judge's model name.
        ray_address: ``"local"`` (a new Ray instance on this machine), ``"auto"`` (the cluster
            this machine belongs to), a cluster address, or ``None`` (Ray's own default); an
            already initialised Ray is used as it is.
        actors: the pool: ``None`` (one actor per ``cpus_per_actor`` CPUs, at most one per
            shard), ``N``, or ``(min, max)``.
        cpus_per_actor: CPUs each actor reserves (and its verification worker processes).
        batch_size: rows per ``score_batch`` call inside an actor.
        fields: which row fields hold the response, gold, prompt...
        resume: skip the shards whose output is complete and made from the same input.
        max_retries: attempts at a shard after its actor died, before it is reported failed.
        console: where the progress bar is drawn (``None``: no bar).

    Returns:
        A :class:`DatasetResult`.

    Raises:
        ConfigError: for no input, a bad setting, an output folder written with other settings
            (when resuming), or a bad ``ray_address``.
        DependencyError: without Ray (``pip install "rlsp-rewards[ray]"``).

    Example:
        >>> import json, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> row = json.dumps({"response": "so \\\\boxed{2}", "gold": "2"})
        >>> _ = (folder / "a.jsonl").write_text((row + "\\n") * 3)
        >>> result = score_dataset(folder, folder / "scored", ray_address="local")  # doctest: +SKIP
        >>> result.summary.scored, [s.status for s in result.shards]  # doctest: +SKIP
        (3, ['scored'])
    """
    started = time.perf_counter()
    require("ray", "ray")
    require("pyarrow", "ray")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1 (e.g. 512), got {batch_size}")
    address = _address(ray_address)
    shards = plan_shards(input, output)
    reward = build_reward(preset, settings, judge_url, judge_model)  # a bad setting fails here
    job = job_facts(reward.config.explicit_settings(), fields)
    done = {s.index for s in shards if resume and is_done(s, job)}
    todo = [s for s in shards if s.index not in done]
    stats: dict[int, ShardStats] = {}
    plan = None
    if todo:
        judge_limit = (
            reward.config.judge_max_in_flight if "judge" in reward.config.exploration else None
        )
        reward_args = {
            "preset": preset,
            "settings": dict(settings or {}),
            "judge_url": judge_url,
            "judge_model": judge_model,
        }
        plan, stats = _run(
            todo,
            job,
            reward_args,
            address=address,
            actors=actors,
            cpus_per_actor=cpus_per_actor,
            judge_limit=judge_limit,
            batch_size=batch_size,
            fields=fields,
            max_retries=max_retries,
            console=console,
            resumed=[s for s in shards if s.index in done],
        )
    clean_temporaries(shards)
    outcomes = [_outcome(s, s.index in done, stats.get(s.index)) for s in shards]
    summary = Summary()
    for outcome in outcomes:
        if outcome.status == "failed":
            continue
        for line, result, reason in read_outcomes(outcome.shard.target):
            if result is not None:
                summary.add(result)
            else:
                summary.skip(line, reason or "unreadable")
        if outcome.stats is not None:
            summary.seconds += outcome.stats.reward_s
            summary.scored_now += outcome.stats.scored
    return DatasetResult(summary, outcomes, plan, time.perf_counter() - started)


def _outcome(shard: Shard, resumed: bool, stats: ShardStats | None) -> ShardOutcome:
    if resumed:
        return ShardOutcome(shard, "resumed")
    if stats is None:
        return ShardOutcome(
            shard,
            "failed",
            error="its task failed on every attempt (actors killed or out of memory?); see the "
            "Ray logs, then run again with --resume",
        )
    if stats.error:
        return ShardOutcome(shard, "failed", stats, stats.error)
    return ShardOutcome(shard, "scored", stats)


def _run(
    todo: list[Shard],
    job: Mapping[str, Any],
    reward_args: dict[str, Any],
    *,
    address: str | None,
    actors: int | tuple[int, int] | None,
    cpus_per_actor: float,
    judge_limit: int | None,
    batch_size: int,
    fields: FieldMap,
    max_retries: int,
    console: Console | None,
    resumed: list[Shard],
) -> tuple[ActorPlan, dict[int, ShardStats]]:
    """Score ``todo`` on the actor pool; the pool and each shard's statistics."""
    import ray
    import ray.data

    ours = not ray.is_initialized()
    if ours:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    context = ray.data.DataContext.get_current()
    saved = (context.max_errored_blocks, context.enable_progress_bars)
    ray_data_log = logging.getLogger("ray.data")
    level = ray_data_log.level
    ray_data_log.setLevel(logging.WARNING)  # not the execution plan of every job
    counter = None
    try:
        plan = plan_actors(
            actors,
            shards=len(todo),
            cluster_cpus=ray.cluster_resources().get("CPU", 1.0),
            cpus_per_actor=cpus_per_actor,
            judge_limit=judge_limit,
            settings=reward_args["settings"],
        )
        for note in plan.notes:
            logger.warning("%s", note)
        reward_args["settings"].update(plan.settings)
        context.max_errored_blocks = -1  # a shard failing every attempt must not end the job
        context.enable_progress_bars = False  # ours counts rows; Ray Data's would count shards
        counter = start_counter() if console is not None else None
        items = [
            {
                "index": s.index,
                "source": str(s.source.resolve()),
                "target": str(s.target.resolve()),
                "metadata": json.dumps(shard_facts(s, job)),
            }
            for s in todo
        ]
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameters for the retry bounds yet; the [ray] extra pins it.
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = _pipeline(items, plan, reward_args, fields, batch_size, counter, max_retries)
        stats: dict[int, ShardStats] = {}
        with _bar(console, todo, resumed, counter):
            for row in dataset.iter_rows():
                item = ShardStats(**{k: _python(v) for k, v in row.items()})
                stats[item.index] = item
        return plan, stats
    finally:
        context.max_errored_blocks, context.enable_progress_bars = saved
        ray_data_log.setLevel(level)
        if counter is not None:
            ray.kill(counter)
        if ours:
            ray.shutdown()


def _pipeline(
    items: list[dict[str, Any]],
    plan: ActorPlan,
    reward_args: dict[str, Any],
    fields: FieldMap,
    batch_size: int,
    counter: Any,
    max_retries: int,
) -> Any:
    """The Ray Data pipeline: one block per shard, through the actor pool."""
    import ray.data

    return ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardScorer,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(
            min_size=plan.min_actors,
            max_size=plan.max_actors,
            max_tasks_in_flight_per_actor=1,  # a queued shard would wait behind a long one
        ),
        num_cpus=plan.cpus_per_actor,
        fn_constructor_kwargs={
            "reward": reward_args,
            "fields": fields,
            "batch_size": batch_size,
            "progress": counter,
        },
        max_restarts=-1,  # a dead actor is replaced...
        max_task_retries=max_retries,  # ...and its shard tried again, a bounded number of times
    )


def _python(value: Any) -> Any:
    """A numpy scalar from Ray Data as the plain Python value."""
    return value.item() if hasattr(value, "item") else value


def _rows_in(shard: Shard) -> int:
    try:
        return count_rows(shard.source)
    except Exception:  # a broken shard: its actor says what is wrong; the bar just runs short
        return 0


def _bar(console: Console | None, todo: list[Shard], resumed: list[Shard], counter: Any) -> RowsBar:
    from rich.console import Console

    if console is None or not console.is_terminal:
        return RowsBar(Console(quiet=True), "", total=0)
    import pyarrow.parquet as pq

    done = sum(pq.ParquetFile(s.target).metadata.num_rows for s in resumed)
    total = done + sum(map(_rows_in, todo))
    label = f"scoring {len(todo)} shard(s) on Ray"
    return RowsBar(console, label, total=total, done=done, counter=counter)
