"""Killable worker processes with per-task deadlines, and no signals.

A :class:`WorkerPool` runs module-level functions in worker processes. A task that overruns its
time budget has its worker killed (``Process.kill``) and replaced; a worker that dies (segfault,
out of memory, ``os._exit``) fails only the task it was running. Nothing here uses
SIGALRM timers: the budget is enforced from the outside, so it holds in any thread, in an
asyncio loop and inside a Ray actor.

Design:
    * Workers start from a ``forkserver`` context. ``fork`` from a process with threads (Ray
      actors, verl's thread pools) can deadlock the child; ``spawn`` re-imports everything for
      every replacement. The fork server is a clean single-threaded process that imports the
      ``preload`` modules once, so a replacement worker is a cheap fork of a warm process.
    * One dispatcher thread per pool owns the workers. Callers put tasks in a queue and wait on a
      :class:`concurrent.futures.Future`; the dispatcher sends tasks over a pipe, several per
      message for batches, and the worker answers each task as soon as it finishes, so every task
      keeps its own deadline.
    * Two kinds of budget: a batch task (:meth:`WorkerPool.map`) gets ``timeout_s`` of worker
      time from when it starts; a single call (:meth:`WorkerPool.run`) gets an absolute deadline
      from the moment it was called, so time spent waiting for a free worker counts, and the call
      returns within its budget plus a small grace even when every worker is busy.
    * :func:`shared_pool` gives one pool per process and settings, shared by every thread,
      forgotten in a forked child and closed at exit.
    * :class:`Lanes` skip the dispatcher for short tasks from many threads: a thread takes an
      idle worker, sends its task and reads the answer itself (or hears at once that every
      lane is busy, and does the work itself); :func:`shared_lanes` shares them like pools.
    * Workers are ours by process id (:mod:`rlsp_rewards.processes`): they are killed through a
      handle of the pool's own, so a kill works even after the fork server is gone; a dead fork
      server is noticed, its workers are killed and replaced (a new fork server starts), and
      the tasks they held run again. A worker dies with its owner, even mid-task.

Modules:
    * :mod:`.tasks`: how a task ended (:class:`TaskStatus`, :class:`TaskResult`);
    * :mod:`.process`: inside a worker process (its loop, its lean start, functions by name);
    * :mod:`.lifecycle`: starting and stopping one worker process;
    * :mod:`.dispatch`: the dispatcher thread (queues, workers, kills, restarts);
    * :mod:`.lanes`: :class:`Lanes`, workers a calling thread talks to itself;
    * :mod:`.pool`: :class:`WorkerPool`, the callers' side (budgets, waiting, start-up, stats);
    * :mod:`.shared`: the pools of this process (:func:`shared_pool`, exit and fork hooks);
    * :mod:`.cpus`: :func:`available_cpus`, the default pool size.

Example:
    >>> import operator
    >>> pool = WorkerPool(size=1)
    >>> pool.run(operator.add, 2, 3, timeout_s=30).value
    5
    >>> pool.close()
"""

from __future__ import annotations

from rlsp_rewards.workers.cpus import available_cpus
from rlsp_rewards.workers.lanes import Lanes
from rlsp_rewards.workers.pool import GRACE_S, STARTUP_TIMEOUT_S, WorkerPool
from rlsp_rewards.workers.shared import close_shared_pools, shared_lanes, shared_pool, shared_pools
from rlsp_rewards.workers.tasks import TaskResult, TaskStatus

__all__ = [
    "GRACE_S",
    "STARTUP_TIMEOUT_S",
    "Lanes",
    "TaskResult",
    "TaskStatus",
    "WorkerPool",
    "available_cpus",
    "close_shared_pools",
    "shared_lanes",
    "shared_pool",
    "shared_pools",
]
