"""Lanes: worker processes that a calling thread talks to itself, for short tasks from threads.

A :class:`~rlsp_rewards.workers.WorkerPool` call passes through the pool's dispatcher thread:
the caller queues the task and waits on a future, the dispatcher sends it, reads the answer
and resolves the future, and every one of those steps takes the GIL from the other threads.
From 8 threads on 2 CPUs, with 16 KB scans as tasks, that cost the calling process 0.2-0.35 ms
of CPU per task, as much as half of the task itself, and 8 threads scored at 0.73-0.87x of one.
A *lane* is one worker process and its pipe, taken by one thread for one task: the thread sends
the task, waits on the pipe without the GIL and reads the answer itself, about 0.07 ms of its
CPU (0.13 ms from 8 threads); 8 threads then score 16 KB samples at 0.97-1.10x of one thread and
64 KB samples at 1.46-1.66x (``rlsp-rewards bench --reward``, 2026-12-03; on this 2-CPU machine
two processes that share nothing reach 1.4-1.75x of one).

Lanes never queue: :meth:`Lanes.try_run` gives ``None`` at once when every lane is busy, not
started or closed, and the caller does the work itself (its result must not depend on where it
was done). The budget holds as in the pool: a task that overruns has its worker killed, and a
worker that dies fails only its own task; either way a fresh worker takes the lane, started in
the background so that the caller that met the failure returns at once.

Example:
    >>> import operator
    >>> lanes = Lanes(1)
    >>> lanes.start()
    True
    >>> lanes.try_run(operator.add, 2, 3, timeout_s=30).value
    5
    >>> lanes.close()
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.workers.lifecycle import WorkerProcess, start_worker, stop_worker
from rlsp_rewards.workers.process import by_name
from rlsp_rewards.workers.tasks import TaskResult, TaskStatus

__all__ = ["Lanes"]

logger = logging.getLogger("rlsp_rewards.workers")

#: The counters of :meth:`Lanes.stats`.
_COUNTERS = ("tasks", "ok", "errors", "timeouts", "crashes", "restarts", "busy")
#: Attempts to start a replacement worker before the lane is given up (logged).
_START_ATTEMPTS = 3


class Lanes:
    """``size`` worker processes, each used by one calling thread at a time, without queues.

    Args:
        size: the number of lanes (worker processes).
        preload: modules each worker imports before any task.
        memory_mb: an address-space limit per worker; a task that needs more fails with ERROR.
        start_method: ``"forkserver"`` (the default) or ``"spawn"`` (the default in a process
            forked after a pool or lanes used the fork server).

    Raises:
        ConfigError: when ``size`` is below 1 or ``start_method`` is unknown.

    Example:
        >>> with Lanes(1) as lanes:
        ...     lanes.try_run(abs, -3, timeout_s=30) is None  # not started: no lane is free
        True
    """

    def __init__(
        self,
        size: int,
        *,
        preload: Sequence[str] = (),
        memory_mb: int | None = None,
        start_method: str | None = None,
    ) -> None:
        from rlsp_rewards.workers import shared  # the process's pools (it imports this module)

        if size < 1:
            raise ConfigError(f"lanes need size >= 1, got {size}")
        self._preload = tuple(preload)
        self._context = shared.worker_context(start_method, self._preload)
        self.size = size
        self._memory_mb = memory_mb
        self._idle: queue.SimpleQueue[WorkerProcess] = queue.SimpleQueue()
        self._live: set[WorkerProcess] = set()  # started and not yet stopped
        self._lock = threading.Lock()
        self._counters = collections.Counter(dict.fromkeys(_COUNTERS, 0))
        self._closed = False
        self._start_launched = False
        self._started = threading.Event()
        shared.track(self)

    # -- start-up -----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once every lane's worker has answered (or the start was given up)."""
        return self._started.is_set()

    def start(self, *, wait: bool = True, timeout_s: float = 120.0) -> bool:
        """Start the workers, once; True when every one answered within ``timeout_s``.

        The first start imports the ``preload`` modules (seconds on a busy host), outside any
        task's budget. With ``wait=False`` it runs in a background thread and the call returns
        at once (:attr:`started` says when it is over); lanes are usable as they come up.

        Example:
            >>> with Lanes(2) as lanes:
            ...     lanes.start(), lanes.stats()["workers"]
            (True, 2)
        """
        with self._lock:
            launch, self._start_launched = not self._start_launched, True
        if launch:
            if not wait:
                threading.Thread(
                    target=self._start_all, args=(timeout_s,), name="rlsp-lanes", daemon=True
                ).start()
                return False
            self._start_all(timeout_s)
        elif wait:
            self._started.wait(timeout_s + 1.0)
        return self.stats()["workers"] == self.size

    def _start_all(self, timeout_s: float) -> None:
        try:
            for _ in range(self.size):
                self._add_worker(timeout_s)
        finally:
            self._started.set()

    def _add_worker(self, timeout_s: float) -> bool:
        """Start one worker, wait for its first answer, and make it an idle lane."""
        for attempt in range(_START_ATTEMPTS):
            if self._closed:
                return False
            try:
                worker = start_worker(self._context, self._preload, self._memory_mb, WorkerProcess)
            except Exception as exc:  # no memory, too many processes: try again, then give up
                logger.warning("could not start a lane's worker: %s: %s", type(exc).__name__, exc)
                time.sleep(0.5 * (attempt + 1))
                continue
            answer, _ = self._call(worker, os.getpid, (), timeout_s)
            with self._lock:
                closed = self._closed
                if answer.ok and not closed:
                    self._live.add(worker)
            if answer.ok and not closed:
                self._idle.put(worker)
                return True
            stop_worker(worker)  # it did not answer (tried again), or the lanes were closed
        logger.warning(
            "a lane's worker did not start; %d of %d lanes left", len(self._live), self.size
        )
        return False

    # -- the callers' side --------------------------------------------------------------------

    def try_run(self, fn: Callable[..., Any], *args: Any, timeout_s: float) -> TaskResult | None:
        """Run ``fn(*args)`` in a free lane and wait for it; ``None`` when no lane is free.

        Returns within ``timeout_s`` plus the time to send the task and kill an overrunning
        worker; never raises (a failure is a :class:`TaskResult` with its status).

        Example:
            >>> import time
            >>> with Lanes(1) as lanes:
            ...     _ = lanes.start()
            ...     lanes.try_run(time.sleep, 60, timeout_s=0.2).status.value
            'timeout'
        """
        try:
            worker: WorkerProcess = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                self._counters["busy"] += 1
            return None
        result, usable = self._call(worker, by_name(fn), args, timeout_s)
        with self._lock:
            self._counters["tasks"] += 1
            self._counters[_COUNTER_OF[result.status]] += 1
            self._counters["crashes"] += not usable and result.status is TaskStatus.ERROR
            closed = self._closed
            if not usable or closed:
                self._live.discard(worker)
        if usable and not closed:
            self._idle.put(worker)
        else:
            self._retire(worker, replace=not closed)
        return result

    def _call(
        self, worker: WorkerProcess, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float
    ) -> tuple[TaskResult, bool]:
        """Send one task to ``worker`` and read its answer here, within ``timeout_s``; and
        whether the worker can take another task (not when it overran or died)."""
        try:
            worker.conn.send([(0, fn, args)])
            if not worker.conn.poll(timeout_s):
                detail = f"worker killed after {timeout_s:.2f} s"
                return TaskResult(TaskStatus.TIMEOUT, detail=detail), False
            _, ok, payload = worker.conn.recv()
        except (EOFError, OSError) as exc:
            return TaskResult(TaskStatus.ERROR, detail=f"worker died ({type(exc).__name__})"), False
        except Exception as exc:  # an argument or an answer that does not pickle
            detail = f"{type(exc).__name__}: {str(exc)[:200]}"
            return TaskResult(TaskStatus.ERROR, detail=detail), True
        if ok:
            return TaskResult(TaskStatus.OK, payload), True
        return TaskResult(TaskStatus.ERROR, detail=payload), True

    def _retire(self, worker: WorkerProcess, *, replace: bool) -> None:
        """Stop a worker (killed by id) and, unless closing, start its replacement; in the
        background, so that the caller returns at once."""

        def retire() -> None:
            stop_worker(worker)
            if replace and self._add_worker(120.0):
                with self._lock:
                    self._counters["restarts"] += 1

        threading.Thread(target=retire, name="rlsp-lane-restart", daemon=True).start()

    # -- bookkeeping --------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counters since the start: ``tasks`` run, ``ok``, ``errors`` (the function raised or
        its worker died), ``timeouts`` (killed at the end of the budget), ``crashes`` (workers
        that died by themselves), ``restarts`` (replacements started), ``busy`` (calls that
        found no free lane), and ``workers`` alive now.

        Example:
            >>> with Lanes(1) as lanes:
            ...     sorted(lanes.stats())[:3]
            ['busy', 'crashes', 'errors']
        """
        with self._lock:
            out = dict(self._counters)
            out["workers"] = len(self._live)
        return out

    def close(self) -> None:
        """Stop every idle worker now; a busy one is stopped when its task ends."""
        with self._lock:
            self._closed = True
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._live.discard(worker)
            with contextlib.suppress(Exception):
                worker.conn.send(None)
            stop_worker(worker)

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_COUNTER_OF = {
    TaskStatus.OK: "ok",
    TaskStatus.ERROR: "errors",
    TaskStatus.TIMEOUT: "timeouts",
}
