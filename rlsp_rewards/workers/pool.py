"""The worker pool that callers use: submit, run, map, wait, start up, count, close.

A :class:`WorkerPool` runs module-level functions in killable worker processes, with a time
budget per task (see :mod:`rlsp_rewards.workers` for the design). Its dispatcher thread is
:class:`~rlsp_rewards.workers.dispatch.Dispatcher`; this module holds what callers see:

* a single call (:meth:`WorkerPool.run`, :meth:`WorkerPool.arun`) gets an absolute deadline
  from the moment it was called, so time spent waiting for a free worker counts, and it returns
  within its budget plus :data:`GRACE_S` even when every worker is busy;
* a batch task (:meth:`WorkerPool.map`) gets ``timeout_s`` of worker time from when it starts;
* the first start imports the ``preload`` modules once, outside any task's budget
  (:meth:`WorkerPool.ensure_started`).

Example:
    >>> import operator
    >>> with WorkerPool(size=1) as pool:
    ...     pool.run(operator.add, 2, 3, timeout_s=30).value
    5
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.workers.cpus import available_cpus
from rlsp_rewards.workers.dispatch import Dispatcher
from rlsp_rewards.workers.tasks import TaskResult, TaskStatus

__all__ = ["GRACE_S", "STARTUP_TIMEOUT_S", "WorkerPool"]

logger = logging.getLogger("rlsp_rewards.workers")

#: Extra time a waiting caller allows the dispatcher to deliver a timeout it enforces itself.
GRACE_S = 0.5
#: How long the first start of a pool may take before callers stop waiting for it.
STARTUP_TIMEOUT_S = 120.0


class WorkerPool(Dispatcher):
    """A pool of killable worker processes; tasks are module-level functions and their args.

    Args:
        size: number of worker processes (default: the CPUs this process may use).
        preload: modules the fork server and each worker import before any task.
        memory_mb: an address-space limit per worker; a task that needs more fails with ERROR.
        start_method: ``"forkserver"`` (the default) or ``"spawn"`` (the default in a process
            forked by ``os.fork`` after a pool existed: the fork server belongs to the parent).

    Raises:
        ConfigError: when ``size`` is below 1 or ``start_method`` is unknown.

    Example:
        >>> import operator
        >>> with WorkerPool(size=1) as pool:
        ...     [r.value for r in pool.map(operator.mul, [(2, 3), (4, 5)], timeout_s=30)]
        [6, 20]
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        preload: Sequence[str] = (),
        memory_mb: int | None = None,
        start_method: str | None = None,
    ) -> None:
        from rlsp_rewards.workers import shared  # the process's pools (it imports this module)

        if size is None:
            size = available_cpus()
        if size < 1:
            raise ConfigError(f"a worker pool needs size >= 1, got {size}")
        modules = tuple(preload)
        context = shared.worker_context(start_method, modules)
        self._started = threading.Event()
        self._start_lock = threading.Lock()
        self._start_tried = False
        self._start_launched = False  # a background start is under way (or done)
        super().__init__(size, context, modules, memory_mb)  # starts the dispatcher thread
        shared.track(self)

    # -- the caller's side --------------------------------------------------------------------

    def submit(
        self, fn: Callable[..., Any], *args: Any, timeout_s: float, deadline: float | None = None
    ) -> Future:
        """Queue one task; the future resolves to a :class:`TaskResult`, never to an exception.

        Args:
            fn: a module-level function (it is pickled by reference).
            *args: its picklable arguments.
            timeout_s: the most worker time the task may use once it runs.
            deadline: an absolute :func:`time.monotonic` time after which the task is given up,
                queued or running. Tasks with a deadline are served before batch tasks.

        Example:
            >>> import operator
            >>> with WorkerPool(size=1) as pool:
            ...     pool.submit(operator.neg, 7, timeout_s=30).result().value
            -7
        """
        return self._enqueue([(fn, args)], timeout_s, deadline)[0]

    def run(self, fn: Callable[..., Any], *args: Any, timeout_s: float) -> TaskResult:
        """Run one task and wait for it; returns within ``timeout_s`` + :data:`GRACE_S`.

        The budget counts from this call, including time spent waiting for a free worker.

        Example:
            >>> import time
            >>> with WorkerPool(size=1) as pool:
            ...     pool.run(time.sleep, 60, timeout_s=0.2).status.value
            'timeout'
        """
        deadline = time.monotonic() + timeout_s
        future = self.submit(fn, *args, timeout_s=timeout_s, deadline=deadline)
        return self.wait(future, deadline)

    async def arun(self, fn: Callable[..., Any], *args: Any, timeout_s: float) -> TaskResult:
        """Async :meth:`run`: awaits the worker without blocking the event loop.

        Example:
            >>> import asyncio, operator
            >>> with WorkerPool(size=1) as pool:
            ...     asyncio.run(pool.arun(operator.abs, -3, timeout_s=30)).value
            3
        """
        import asyncio

        deadline = time.monotonic() + timeout_s
        future = self.submit(fn, *args, timeout_s=timeout_s, deadline=deadline)
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), deadline + GRACE_S - time.monotonic()
            )
        except asyncio.TimeoutError:
            future.cancel()
            return TaskResult(TaskStatus.EXPIRED, detail="no result within the deadline")

    def map(
        self, fn: Callable[..., Any], arg_tuples: Iterable[tuple[Any, ...]], *, timeout_s: float
    ) -> list[TaskResult]:
        """Run ``fn(*args)`` for each args tuple over all workers; results in input order.

        Each task gets ``timeout_s`` of worker time from when it starts. The whole call is
        bounded too: tasks not finished when every one of them could have used its full budget
        are given up as EXPIRED.

        Example:
            >>> with WorkerPool(size=2) as pool:
            ...     [r.status.value for r in pool.map(int, [("7",), ("x",)], timeout_s=30)]
            ['ok', 'error']
        """
        futures = self._enqueue([(fn, args) for args in arg_tuples], timeout_s, None)
        return self.wait_all(futures, timeout_s=timeout_s)

    def wait_all(self, futures: Sequence[Future], *, timeout_s: float) -> list[TaskResult]:
        """Wait for batch tasks submitted with ``timeout_s`` each, bounded like :meth:`map`.

        Example:
            >>> import operator
            >>> with WorkerPool(size=1) as pool:
            ...     futures = [pool.submit(operator.neg, i, timeout_s=30) for i in range(3)]
            ...     [r.value for r in pool.wait_all(futures, timeout_s=30)]
            [0, -1, -2]
        """
        rounds = math.ceil(len(futures) / self.size) + 2
        deadline = time.monotonic() + rounds * (timeout_s + 1.0) + 10.0
        return [self.wait(f, deadline) for f in futures]

    def wait(self, future: Future, deadline: float) -> TaskResult:
        """Wait for a submitted task until ``deadline`` + :data:`GRACE_S`, then give it up."""
        try:
            return future.result(timeout=max(0.0, deadline + GRACE_S - time.monotonic()))
        except Exception:  # TimeoutError or CancelledError
            future.cancel()
            return TaskResult(TaskStatus.EXPIRED, detail="no result within the deadline")

    def warm_up(self, timeout_s: float = 120.0) -> bool:
        """Start the workers (and the fork server) now; True once they answer.

        The first start imports the ``preload`` modules, which can take seconds: warming up
        before scoring keeps that out of the first samples' budgets.

        Example:
            >>> with WorkerPool(size=1) as pool:
            ...     pool.warm_up()
            True
        """
        return self.run(os.getpid, timeout_s=timeout_s).ok

    @property
    def started(self) -> bool:
        """True once :meth:`ensure_started` has seen the workers answer (or given up trying)."""
        return self._started.is_set()

    def ensure_started(self, timeout_s: float = STARTUP_TIMEOUT_S, *, wait: bool = True) -> bool:
        """Wait, once per pool, for the first start of the workers; later calls return at once.

        The first start of a pool imports the ``preload`` modules (seconds on a busy host).
        Callers with per-sample budgets call this first, so that one-time cost is never charged
        to a sample's budget. Every thread waits on the same start; if the workers do not answer
        within ``timeout_s`` the pool stops waiting for them (later tasks then time out as usual).
        With ``wait=False`` the wait happens in a background thread and the call returns at once
        (:attr:`started` says when it is over): start a pool early without blocking anyone.

        Example:
            >>> with WorkerPool(size=1) as pool:
            ...     pool.ensure_started(), pool.started
            (True, True)
        """
        if not wait:
            with self._lock:
                launch, self._start_launched = not self._start_launched, True
            if launch and not self._started.is_set():
                threading.Thread(
                    target=self.ensure_started, args=(timeout_s,), name="rlsp-start", daemon=True
                ).start()
            return self._started.is_set()
        if not self._started.is_set():
            with self._start_lock:
                if not self._start_tried:
                    self._start_tried = True
                    ok = self.warm_up(timeout_s)
                    if not ok and not self._closed:
                        logger.warning("worker pool did not start within %.0f s", timeout_s)
                    self._started.set()
                    return ok
        return self._started.is_set()

    def stats(self) -> dict[str, int]:
        """Counters since the pool started, for logs and metrics.

        Keys: ``tasks`` submitted, ``ok``, ``errors`` (the function raised or its worker died),
        ``timeouts`` (killed at the end of its budget), ``expired`` (its caller's deadline
        passed first), ``crashes`` (workers that died by themselves), ``restarts`` (workers
        replaced after a kill or crash), ``fork_server_restarts`` (times the fork server was
        found dead and every worker replaced), ``workers`` alive, ``queued`` and ``running`` now.

        Example:
            >>> with WorkerPool(size=1) as pool:
            ...     sorted(pool.stats())[:3]
            ['crashes', 'errors', 'expired']
        """
        with self._lock:
            out = dict(self._counters)
            out["queued"] = len(self._urgent) + len(self._batch)
            out["running"] = sum(len(w.inflight) for w in self._workers)
            out["workers"] = len(self._workers)
        return out

    def close(self) -> None:
        """Stop the workers (killing any still busy) and fail queued tasks with ERROR."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
