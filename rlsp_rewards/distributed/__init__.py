"""Offline scoring on a Ray cluster: shards of rollouts in, one Parquet file per shard out.

A front end, like ``cli``: it imports the core, the core never imports it, and Ray is imported
only when a job runs (``pip install "rlsp-rewards[ray]"``). The modules, one job each:

* :mod:`.shards`: which input files a job has and the output file of each;
* :mod:`.actor`: the Ray Data UDF, one reward per actor, whole shards per call;
* :mod:`.limits`: the actor pool's size, worker processes per actor, the job-wide judge limit;
* :mod:`.parquet`: writing a shard (fixed result columns plus the input's), atomically;
* :mod:`.resume`: which shards an earlier run finished;
* :mod:`.progress`: the progress bar in rows;
* :mod:`.job`: :func:`score_dataset`, the driver;
* :mod:`.command`: ``rlsp-rewards score --ray``;
* :mod:`.bench`: ``rlsp-rewards bench --ray``, the local path and the cluster side by side.

See docs/distributed.md for running it on a cluster.

Example:
    >>> from rlsp_rewards.distributed import score_dataset
    >>> score_dataset.__name__
    'score_dataset'
"""

from __future__ import annotations

from rlsp_rewards.distributed.job import DatasetResult, ShardOutcome, score_dataset

__all__ = ["DatasetResult", "ShardOutcome", "score_dataset"]
