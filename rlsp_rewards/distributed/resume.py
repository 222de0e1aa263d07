"""Resuming a job: which shards are already written completely, by the same job.

A shard's output file exists only once it is complete (it is written under a temporary name and
renamed), and carries in its metadata what produced it: the input file's size and modification
time, and the job's reward settings and field names. ``--resume`` skips a shard whose output
matches its input as it is now; an input changed since is scored again. Output written with
other settings is an error, never a silent mix of two rewards in one folder.

Example:
    >>> import pathlib, tempfile
    >>> from rlsp_rewards.cli.runs import FieldMap
    >>> from rlsp_rewards.distributed.shards import Shard
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.jsonl").write_text("")
    >>> shard = Shard(0, folder / "a.jsonl", folder / "out" / "a.parquet")
    >>> job = job_facts({"preset": "paper"}, FieldMap())
    >>> is_done(shard, job)
    False
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from rlsp_rewards.cli.runs import FieldMap
from rlsp_rewards.distributed.parquet import read_metadata
from rlsp_rewards.distributed.shards import Shard
from rlsp_rewards.errors import ConfigError

__all__ = ["clean_temporaries", "is_done", "job_facts", "shard_facts"]

#: Settings that change how a job runs, not what it computes: a resumed job may change them.
OPERATIONAL_SETTINGS = frozenset(
    {"workers", "judge_max_in_flight", "cache_size", "judge_cache_size"}
)
#: The version of the facts stored in each output file.
FORMAT = 1


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def job_facts(settings: Mapping[str, Any], fields: FieldMap) -> dict[str, Any]:
    """What a job computes: its explicit reward settings (operational ones left out) and fields.

    Example:
        >>> job_facts({"preset": "guarded", "workers": 4}, FieldMap())["reward"]
        {'preset': 'guarded'}
    """
    reward = {k: v for k, v in sorted(settings.items()) if k not in OPERATIONAL_SETTINGS}
    return _plain({"reward": reward, "fields": dataclasses.asdict(fields)})


def shard_facts(shard: Shard, job: Mapping[str, Any]) -> dict[str, Any]:
    """The facts stored in a shard's output: its input as it is now, and the job.

    Example:
        >>> from pathlib import Path
        >>> shard_facts(Shard(0, Path("/no/such.jsonl"), Path("/tmp/x.parquet")), {})["size"]
        -1
    """
    try:
        stat = shard.source.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
    except OSError:  # a shard only the workers see: never counts as unchanged
        size, mtime = -1, -1
    return {
        "format": FORMAT,
        "source": str(shard.source),
        "size": size,
        "mtime_ns": mtime,
        "job": job,
    }


def is_done(shard: Shard, job: Mapping[str, Any]) -> bool:
    """True when the shard's output is complete and was made from its input as it is now.

    Raises:
        ConfigError: when the output was made with other settings or fields.
    """
    stored = read_metadata(shard.target)
    if stored is None:
        return False
    if stored.get("job") != job:
        raise ConfigError(
            f"{str(shard.target)!r} was scored with {stored.get('job')}, this job is {dict(job)}: "
            "write to another --out, or leave out --resume to score every shard again"
        )
    now = shard_facts(shard, job)
    return now["size"] >= 0 and all(stored.get(k) == now[k] for k in ("size", "mtime_ns"))


def clean_temporaries(shards: Iterable[Shard]) -> int:
    """Remove the temporary files that interrupted attempts left; how many there were.

    Example:
        >>> clean_temporaries([])
        0
    """
    removed = 0
    for shard in shards:
        folder = shard.target.parent
        if not folder.is_dir():
            continue
        for leftover in folder.glob(f".{shard.target.name}.*.tmp"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed
