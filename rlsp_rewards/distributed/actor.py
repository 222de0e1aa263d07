"""The actor UDF: each actor builds one reward, warms it once, and scores whole shards.

Ray Data calls :class:`ShardScorer` with one shard per call (``batch_size=1``). The actor reads
the shard as the local path does (:func:`~rlsp_rewards.cli.runs.read_rows`: line numbers,
unreadable lines kept with the reason), scores it ``batch_size`` rows at a time through the
reward's batch path (its own worker processes and verdict cache, shared by every shard the
actor scores), and writes the rows in input order with a
:class:`~rlsp_rewards.distributed.parquet.ShardWriter`: under a temporary name, renamed when the
shard is complete. A retried shard (its actor died) starts again from its first row, so no row
is lost or written twice.

A shard that cannot be read from some line on (a truncated gzip, a broken Parquet file) keeps
the rows before it and one row saying where reading stopped; only a shard this node cannot see
at all fails, with the reason in its result.

Example:
    >>> import json, pathlib, tempfile
    >>> import pyarrow.parquet as pq
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> row = json.dumps({"response": "so \\\\boxed{2}", "gold": "2"})
    >>> _ = (folder / "a.jsonl").write_text(row + "\\nnope\\n")
    >>> scorer = ShardScorer({"preset": "paper"})
    >>> out = scorer({"index": [0], "source": [str(folder / "a.jsonl")],
    ...               "target": [str(folder / "a.parquet")], "metadata": ["{}"]})
    >>> out["rows"], out["scored"], out["skipped"], out["error"]
    ([2], [1], [1], [''])
    >>> pq.read_table(folder / "a.parquet").column("reward").to_pylist()[0]["acc"]
    1.0
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlsp_rewards.cli.runs import FieldMap, Row, build_reward, read_rows
from rlsp_rewards.core import Sample
from rlsp_rewards.distributed.parquet import ShardWriter
from rlsp_rewards.errors import ConfigError, DependencyError

__all__ = ["ShardScorer", "ShardStats", "score_shard"]

#: Called with (shard index, rows of it done so far).
Report = Callable[[int, int], None]


@dataclasses.dataclass
class ShardStats:
    """What scoring one shard did (one row of the job's Ray Data output).

    Attributes:
        index: the shard's index in the job.
        rows: rows written (scored and skipped).
        scored: rows scored.
        skipped: rows kept with a reason.
        reward_s: seconds inside the reward's batch calls.
        busy_s: seconds for the whole shard (reading, scoring, writing).
        cpu_s: CPU seconds of the actor process over the shard.
        peak_rss_mb: the actor process's peak resident memory so far.
        workers_rss_mb: the resident memory of its verification workers at the end.
        pid: the actor's process id.
        error: why the shard could not be scored (``""`` when it was).

    Example:
        >>> ShardStats(0).error
        ''
    """

    index: int
    rows: int = 0
    scored: int = 0
    skipped: int = 0
    reward_s: float = 0.0
    busy_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    workers_rss_mb: float = 0.0
    pid: int = 0
    error: str = ""


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _workers_rss_mb() -> float:
    """The resident memory of this process's children (the verification workers), if psutil
    (a Ray dependency) is there."""
    try:
        import psutil

        children = psutil.Process().children(recursive=True)
        return sum(child.memory_info().rss for child in children) / 2**20
    except Exception:  # psutil missing, or a worker exited meanwhile: not worth a failure
        return 0.0


def _rows(path: Path) -> Iterator[Row]:
    """The shard's rows; when reading breaks off, one last row says where and why."""
    last = 0
    try:
        for row in read_rows(path):
            last = row.line
            yield row
    except (ConfigError, DependencyError, FileNotFoundError, PermissionError):
        raise  # the shard is not there for this node: the whole shard fails, with the reason
    except Exception as exc:  # a truncated gzip, a corrupt Parquet file
        reason = f"unreadable from here: {type(exc).__name__}: {str(exc)[:200]}"
        yield Row(last + 1, None, reason)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes(
    chunk: Sequence[Row], reward: Any, fields: FieldMap
) -> tuple[list[Mapping[str, Any] | str], int, float]:
    """Per row its result dict or skip reason; the rows scored; seconds in the reward."""
    samples: list[Sample] = []
    made_all: list[Sample | str] = []
    for row in chunk:
        made = fields.sample(row.data) if row.data is not None else (row.problem or "unreadable")
        made_all.append(made)
        if isinstance(made, Sample):
            samples.append(made)
    start = time.perf_counter()
    results = iter(reward.score_batch(samples) if samples else [])
    seconds = time.perf_counter() - start
    outcomes = [next(results).to_dict() if isinstance(m, Sample) else m for m in made_all]
    return outcomes, len(samples), seconds


def score_shard(
    index: int,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    reward: Any,
    *,
    fields: FieldMap = FieldMap(),
    batch_size: int = 512,
    metadata: Mapping[str, Any] | None = None,
    report: Report | None = None,
) -> ShardStats:
    """Score one shard into ``target``; never raises for what is in the shard.

    Args:
        index: the shard's index (for ``report`` and the stats).
        source: the rollouts file.
        target: the Parquet file to write (complete, or not there at all).
        reward: a reward with ``score_batch``.
        fields: which row fields hold the response, gold...
        batch_size: rows per ``score_batch`` call.
        metadata: stored in the file (see :func:`~rlsp_rewards.distributed.parquet.read_metadata`).
        report: called with ``(index, rows done)`` after each chunk.

    Returns:
        The :class:`ShardStats`; ``error`` says why when the shard could not be read at all.
    """
    stats = ShardStats(index, pid=os.getpid())
    started, cpu = time.perf_counter(), _cpu_s()
    try:
        with ShardWriter(target, metadata or {}) as writer:
            for chunk in _chunks(_rows(Path(source)), batch_size):
                outcomes, scored, seconds = _outcomes(chunk, reward, fields)
                writer.write(chunk, outcomes)
                stats.scored += scored
                stats.skipped += len(chunk) - scored
                stats.reward_s += seconds
                if report is not None:
                    report(index, writer.rows)
            stats.rows = writer.commit()
    except (ConfigError, DependencyError, OSError) as exc:  # unreadable input, unwritable output
        stats = ShardStats(index, pid=stats.pid, error=f"{type(exc).__name__}: {exc}")
    stats.busy_s = time.perf_counter() - started
    stats.cpu_s = _cpu_s() - cpu
    stats.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats.workers_rss_mb = _workers_rss_mb()
    return stats


class ShardScorer:
    """The class-based UDF of ``map_batches``: one reward per actor, whole shards per call.

    Args:
        reward: keyword arguments of :func:`~rlsp_rewards.cli.runs.build_reward` (``preset``,
            ``settings``, ``judge_url``, ``judge_model``).
        fields: which row fields hold the response, gold...
        batch_size: rows per ``score_batch`` call.
        progress: a progress counter actor (``report.remote(index, rows)``), or None.

    Example:
        >>> ShardScorer({"preset": "guarded"}).reward.config.preset
        'guarded'
    """

    def __init__(
        self,
        reward: Mapping[str, Any],
        fields: FieldMap = FieldMap(),
        batch_size: int = 512,
        progress: Any = None,
    ) -> None:
        self.reward = build_reward(**reward)
        warm_up = getattr(self.reward, "warm_up", None)
        if warm_up is not None:
            warm_up()  # once per actor: the worker processes start before the first shard
        self._fields = fields
        self._batch_size = batch_size
        self._progress = progress

    def _report(self, index: int, rows: int) -> None:
        try:
            self._progress.report.remote(index, rows)
        except Exception:  # the bar is not worth a shard
            pass

    def __call__(self, batch: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        """Score each shard of ``batch`` (columns ``index``, ``source``, ``target``,
        ``metadata``); one row of :class:`ShardStats` per shard."""
        report = self._report if self._progress is not None else None
        results = [
            score_shard(
                int(index),
                str(source),
                str(target),
                self.reward,
                fields=self._fields,
                batch_size=self._batch_size,
                metadata=json.loads(str(metadata)),
                report=report,
            )
            for index, source, target, metadata in zip(
                batch["index"], batch["source"], batch["target"], batch["metadata"], strict=True
            )
        ]
        names = [f.name for f in dataclasses.fields(ShardStats)]
        return {name: [getattr(r, name) for r in results] for name in names}
