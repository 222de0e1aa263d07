"""How many actors a job runs, and what each one may use: worker processes, judge requests.

**The judge's limit is one number for the whole job.** ``judge_max_in_flight`` (default 64)
bounds the judge requests on the wire at once across every actor: each actor gets
``judge_max_in_flight // max_actors`` of it (at least one, so a job runs at most
``judge_max_in_flight`` actors when the judge is on), and enforces its share with the judge
client's own per-process bound. The sum over actors never exceeds the limit, whatever the
pool's size, with no extra actor in the request path and nothing to leak when an actor dies;
the cost is that an idle actor's share is not lent to a busy one. (A named Ray actor handing
out tokens would lend them, at a round trip per request and a single point of failure.)

**Worker processes.** An actor reserves ``cpus_per_actor`` CPUs (default 1) and starts that
many verification worker processes (rounded up), unless ``workers`` is set: a verifier on its
own starts one per CPU of the host, which on a 64-core node with 64 actors means 4096.

Example:
    >>> plan = plan_actors(None, shards=10, cluster_cpus=4, judge_limit=6)
    >>> plan.min_actors, plan.max_actors, plan.settings
    (4, 4, {'workers': 1, 'judge_max_in_flight': 1})
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from rlsp_rewards.errors import ConfigError

__all__ = ["ActorPlan", "parse_actors", "plan_actors"]


@dataclasses.dataclass(frozen=True)
class ActorPlan:
    """The actor pool of one job.

    Attributes:
        min_actors: the pool's smallest size.
        max_actors: its largest size (Ray Data scales between the two).
        cpus_per_actor: CPUs each actor reserves.
        settings: reward settings every actor adds to the job's (worker processes, its share
            of the judge's limit).
        notes: what was changed from the request, and why.

    Example:
        >>> ActorPlan(1, 2, 1.0, {}).max_actors
        2
    """

    min_actors: int
    max_actors: int
    cpus_per_actor: float
    settings: Mapping[str, Any]
    notes: tuple[str, ...] = ()


def parse_actors(text: str | None) -> int | tuple[int, int] | None:
    """The ``--actors`` option: ``N`` (a fixed pool) or ``MIN:MAX`` (autoscaling).

    Raises:
        ConfigError: for anything else.

    Example:
        >>> parse_actors("4"), parse_actors("2:8"), parse_actors(None)
        (4, (2, 8), None)
    """
    if text is None:
        return None
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ConfigError(f"--actors takes N or MIN:MAX (e.g. 8 or 2:16), got {text!r}")


def plan_actors(
    requested: int | tuple[int, int] | None,
    *,
    shards: int,
    cluster_cpus: float,
    cpus_per_actor: float = 1.0,
    judge_limit: int | None = None,
    settings: Mapping[str, Any] | None = None,
) -> ActorPlan:
    """The pool for a job of ``shards`` shards on a cluster with ``cluster_cpus`` CPUs.

    Args:
        requested: ``None`` (one actor per ``cpus_per_actor`` CPUs, at most one per shard), a
            fixed size, or ``(min, max)``.
        shards: shards still to score (more actors than shards would idle).
        cluster_cpus: the cluster's CPUs (``ray.cluster_resources()["CPU"]``).
        cpus_per_actor: CPUs each actor reserves.
        judge_limit: the job's ``judge_max_in_flight`` when the judge is on, else ``None``.
        settings: the job's reward settings (a ``workers`` there is kept).

    Raises:
        ConfigError: for a pool size below 1 or a minimum above the maximum.

    Example:
        >>> plan_actors((1, 32), shards=8, cluster_cpus=64).max_actors
        8
    """
    if cpus_per_actor <= 0:
        raise ConfigError(f"cpus_per_actor must be > 0 (e.g. 1), got {cpus_per_actor}")
    if requested is None:
        low = high = max(1, min(shards, math.floor(cluster_cpus / cpus_per_actor)))
    elif isinstance(requested, int):
        low = high = requested
    else:
        low, high = requested
    if low < 1 or high < low:
        raise ConfigError(
            f"actors must be N >= 1 or (MIN, MAX) with 1 <= MIN <= MAX, got {requested}"
        )
    notes = []
    if high > shards:
        notes.append(f"{shards} shard(s) to score: {shards} actor(s) at most, not {high}")
        high, low = shards, min(low, shards)
    extra: dict[str, Any] = {}
    if "workers" not in (settings or {}):
        extra["workers"] = max(1, math.ceil(cpus_per_actor))
    if judge_limit is not None:
        if high > judge_limit:
            notes.append(
                f"judge_max_in_flight={judge_limit} for the whole job: {judge_limit} actor(s) "
                f"at most, not {high}"
            )
            high, low = judge_limit, min(low, judge_limit)
        extra["judge_max_in_flight"] = judge_limit // high
    return ActorPlan(low, high, float(cpus_per_actor), extra, tuple(notes))
