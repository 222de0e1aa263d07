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
    * Workers are ours by process id (:mod:`rlsp_rewards.processes`): they are killed through a
      handle of the pool's own, so a kill works even after the fork server is gone; a dead fork
      server is noticed, its workers are killed and replaced (a new fork server starts), and
      the tasks they held run again. A worker dies with its owner, even mid-task.

Example:
    >>> import operator
    >>> pool = WorkerPool(size=1)
    >>> pool.run(operator.add, 2, 3, timeout_s=30).value
    5
    >>> pool.close()
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import enum
import itertools
import logging
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.processes import (
    ProcessHandle,
    die_with_owner,
    fork_server_alive,
    fork_server_pid,
)

__all__ = [
    "GRACE_S",
    "STARTUP_TIMEOUT_S",
    "TaskResult",
    "TaskStatus",
    "WorkerPool",
    "available_cpus",
    "close_shared_pools",
    "shared_pool",
    "shared_pools",
]

logger = logging.getLogger("rlsp_rewards.workers")

#: Extra time a waiting caller allows the dispatcher to deliver a timeout it enforces itself.
GRACE_S = 0.5
#: How long the first start of a pool may take before callers stop waiting for it.
STARTUP_TIMEOUT_S = 120.0
_MAX_CHUNK = 16
#: A task killed after using this fraction of its budget counts as TIMEOUT, else EXPIRED.
_FULL_BUDGET = 0.9
#: How many times a task may lose its worker to a dead fork server before it fails with ERROR.
_MAX_REQUEUES = 2


class TaskStatus(str, enum.Enum):
    """How a task ended.

    Example:
        >>> TaskStatus("expired").name
        'EXPIRED'
    """

    OK = "ok"  #: the function returned; the value is in :attr:`TaskResult.value`
    ERROR = "error"  #: the function raised, or its worker died while running it
    TIMEOUT = "timeout"  #: it ran for (nearly) its whole budget and its worker was killed
    EXPIRED = "expired"  #: its caller's deadline came before it could use most of its budget


@dataclasses.dataclass(frozen=True, slots=True)
class TaskResult:
    """The outcome of one task.

    Attributes:
        status: how the task ended.
        value: the function's return value when ``status`` is OK, else ``None``.
        detail: for errors, the exception type and message (shortened).

    Example:
        >>> TaskResult(TaskStatus.OK, 4).ok
        True
    """

    status: TaskStatus
    value: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.status is TaskStatus.OK


@dataclasses.dataclass(slots=True, eq=False)
class _Task:
    task_id: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    budget_s: float
    deadline: float  # absolute (monotonic); math.inf for batch tasks
    future: Future
    requeued: int = 0  # times it lost its worker to a dead fork server


@dataclasses.dataclass(slots=True, eq=False)
class _Worker:
    process: Any
    conn: Any
    handle: ProcessHandle
    fork_server: int | None  # the fork server it was forked from (None: spawned)
    inflight: collections.deque[_Task] = dataclasses.field(default_factory=collections.deque)
    started: float = 0.0  # when the first in-flight task started running

    def kill_time(self) -> float:
        task = self.inflight[0]
        return min(self.started + task.budget_s, task.deadline)


_WORKER_NAME = "rlsp-worker"


def _lean_preparation_data(original: Callable[[str], dict]) -> Callable[[str], dict]:
    """Wrap multiprocessing's start-up data so that our workers skip the parent's ``__main__``.

    A forkserver or spawn child normally re-runs the parent's main script or module, which
    imports the whole trainer (seconds per replacement worker) or, in a script without an
    ``if __name__ == "__main__"`` guard, starts pools recursively. Our workers only need their
    target function, so processes named ``rlsp-worker`` start without it; others are untouched.
    """

    def preparation_data(name: str) -> dict:
        data = original(name)
        if name == _WORKER_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    preparation_data.__wrapped__ = original  # type: ignore[attr-defined]
    return preparation_data


def _install_lean_start() -> None:
    from multiprocessing import spawn

    if not hasattr(spawn.get_preparation_data, "__wrapped__"):
        spawn.get_preparation_data = _lean_preparation_data(  # type: ignore[assignment]
            spawn.get_preparation_data
        )


def _worker_main(conn: Any, preload: tuple[str, ...], memory_mb: int | None) -> None:
    """The loop inside a worker process: run each task, answer each one as soon as it ends."""
    import importlib
    import signal

    die_with_owner()  # never outlive the pool's process, even in the middle of a task
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    if memory_mb is not None:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for name in preload:  # no-ops when the fork server already imported them
        try:
            importlib.import_module(name)
        except Exception:  # the tasks that need it will fail with their own error
            pass
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        for task_id, fn, args in message:
            try:
                reply = (task_id, True, fn(*args))
            except Exception as exc:
                reply = (task_id, False, f"{type(exc).__name__}: {str(exc)[:200]}")
            try:
                conn.send(reply)
            except (EOFError, OSError):
                return
            except Exception as exc:  # an unpicklable return value
                conn.send((task_id, False, f"{type(exc).__name__}: result not picklable"))


class WorkerPool:
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
        import multiprocessing

        if size is None:
            size = available_cpus()
        if start_method is None:
            start_method = "spawn" if _fork_server_is_the_parents else "forkserver"
        if size < 1:
            raise ConfigError(f"a worker pool needs size >= 1, got {size}")
        if start_method not in ("forkserver", "spawn"):
            raise ConfigError(
                f"start_method must be 'forkserver' or 'spawn' (fork is unsafe with threads), "
                f"got {start_method!r}"
            )
        self.size = size
        self._preload = tuple(preload)
        self._memory_mb = memory_mb
        _install_lean_start()
        _close_before_multiprocessing_exits()
        self._context: Any = multiprocessing.get_context(start_method)  # a start-method context
        _note_start_method(start_method)
        if start_method == "forkserver" and self._preload:
            self._context.set_forkserver_preload(list(self._preload))
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._urgent: collections.deque[_Task] = collections.deque()  # single calls go first
        self._batch: collections.deque[_Task] = collections.deque()
        self._workers: list[_Worker] = []
        self._counters = collections.Counter({k: 0 for k in _COUNTERS})
        self._started = threading.Event()
        self._start_lock = threading.Lock()
        self._start_tried = False
        self._start_launched = False  # a background start is under way (or done)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe already means a wake-up is pending
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="rlsp-workers", daemon=True)
        self._thread.start()
        _every_pool.add(self)

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

    def _enqueue(
        self,
        calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
        timeout_s: float,
        deadline: float | None,
    ) -> list[Future]:
        tasks = []
        for fn, args in calls:
            future: Future = Future()
            tasks.append(
                _Task(
                    next(self._ids),
                    _by_name(fn),
                    tuple(args),
                    timeout_s,
                    math.inf if deadline is None else deadline,
                    future,
                )
            )
        with self._lock:
            if self._closed:
                for task in tasks:
                    task.future.set_result(TaskResult(TaskStatus.ERROR, detail="pool is closed"))
                return [t.future for t in tasks]
            (self._batch if deadline is None else self._urgent).extend(tasks)
            self._counters["tasks"] += len(tasks)
        self._wake()
        return [t.future for t in tasks]

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):  # the pipe is full: a wake-up is pending anyway
            pass

    # -- the dispatcher thread ----------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            try:
                if self._dispatch_until_closed():
                    return
            except Exception as exc:  # a bug here must not strand waiting callers
                logger.error("worker pool dispatcher failed: %s: %s", type(exc).__name__, exc)
                self._fail_everything(f"dispatcher failed: {type(exc).__name__}")
                time.sleep(0.1)

    def _dispatch_until_closed(self) -> bool:
        from multiprocessing.connection import wait

        while True:
            with self._lock:
                closed = self._closed
            if closed:
                self._shutdown()
                return True
            while len(self._workers) < self.size:
                self._workers.append(self._start_worker())
            self._assign_work()
            now = time.monotonic()
            next_kill = min(
                (w.kill_time() for w in self._workers if w.inflight), default=now + 60.0
            )
            # idle workers' pipes too: one that closes is a worker (or a fork server) that died
            by_conn = {w.conn: w for w in self._workers}
            ready = wait([self._wake_r, *by_conn], max(0.0, next_kill - now))
            for item in ready:
                if item == self._wake_r:
                    self._drain_wake_pipe()
                elif by_conn[item] in self._workers:  # not replaced meanwhile
                    self._receive(by_conn[item])
            self._kill_overdue()

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_by_name(_worker_main),
            args=(child_conn, self._preload, self._memory_mb),
            name=_WORKER_NAME,
            daemon=True,
        )
        process.start()
        child_conn.close()
        server = fork_server_pid() if self._context.get_start_method() == "forkserver" else None
        return _Worker(process, parent_conn, ProcessHandle(process.pid), server)

    def _replace(self, worker: _Worker) -> None:
        _stop(worker)
        with self._lock:
            # the tasks sent with the lost one go back to the front of their queue
            self._requeue(worker.inflight, counted=False)
            worker.inflight.clear()
            self._workers.remove(worker)
            self._counters["restarts"] += 1
        self._workers.append(self._start_worker())

    def _restart_all(self) -> None:
        """The fork server died: kill every worker (by id), run their tasks again elsewhere.

        On Linux the workers died with their fork server; elsewhere they run on as orphans that
        only their process ids can still reach. Replacements start at the top of the dispatch
        loop, and multiprocessing starts a new fork server for them.
        """
        logger.warning("the worker pool's fork server died: restarting its %d workers", self.size)
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.handle.kill()
        for worker in workers:
            _stop(worker)
        with self._lock:
            for worker in workers:
                self._requeue(worker.inflight, counted=True)
                worker.inflight.clear()
            self._counters["restarts"] += len(workers)
            self._counters["fork_server_restarts"] += 1

    def _requeue(self, tasks: Iterable[_Task], *, counted: bool) -> None:
        """Put tasks back at the front of their queue; the caller holds ``self._lock``.

        ``counted``: the tasks lost their worker through no fault of theirs (a dead fork
        server); each may be run again :data:`_MAX_REQUEUES` times, then fails with ERROR.
        """
        for task in reversed(list(tasks)):
            if counted:
                task.requeued += 1
                if task.requeued > _MAX_REQUEUES:
                    self._finish(task, TaskResult(TaskStatus.ERROR, detail="lost its workers"))
                    continue
            (self._batch if task.deadline == math.inf else self._urgent).appendleft(task)

    def _lost(self, worker: _Worker, detail: str) -> None:
        """A worker died by itself: its task fails, unless its fork server is what died."""
        if not fork_server_alive(worker.fork_server):
            self._restart_all()
            return
        with self._lock:
            self._counters["crashes"] += 1
        self._fail_worker(worker, detail)

    def _assign_work(self) -> None:
        now = time.monotonic()
        while True:  # a replaced worker is idle again, so look for idle ones afresh each time
            worker = next((w for w in self._workers if not w.inflight), None)
            if worker is None:
                return
            chunk = self._take_chunk(now)
            if not chunk:
                return
            worker.inflight.extend(chunk)
            worker.started = now
            try:
                worker.conn.send([(t.task_id, t.fn, t.args) for t in chunk])
            except Exception as exc:  # unpicklable task, or the worker is gone
                if isinstance(exc, OSError) and worker.handle.wait(0.1):
                    # it died while idle: nothing was sent, its replacement takes the chunk
                    if not fork_server_alive(worker.fork_server):
                        self._restart_all()
                        return
                    with self._lock:
                        self._counters["crashes"] += 1
                    self._replace(worker)  # puts the chunk back at the front of its queue
                else:
                    self._fail_worker(worker, f"could not send task: {type(exc).__name__}: {exc}")

    def _take_chunk(self, now: float) -> list[_Task]:
        with self._lock:
            while self._urgent:
                task = self._urgent.popleft()
                if task.future.done():  # its caller gave up
                    continue
                if task.deadline <= now:
                    self._finish(
                        task, TaskResult(TaskStatus.EXPIRED, detail="deadline passed in queue")
                    )
                    continue
                return [task]
            size = min(_MAX_CHUNK, max(1, len(self._batch) // (2 * self.size)))
            chunk: list[_Task] = []
            while self._batch and len(chunk) < size:
                task = self._batch.popleft()
                if not task.future.done():
                    chunk.append(task)
            return chunk

    def _receive(self, worker: _Worker) -> None:
        try:
            task_id, ok, payload = worker.conn.recv()
        except Exception as exc:  # EOF: the worker died (while running a task, or idle)
            worker.handle.wait(0.1)
            self._lost(worker, f"worker died ({type(exc).__name__})")
            return
        if not worker.inflight:  # an idle worker has nothing to say: cannot happen; be safe
            self._fail_worker(worker, "an idle worker sent a message")
            return
        task = worker.inflight.popleft()
        worker.started = time.monotonic()
        if task.task_id != task_id:  # cannot happen with an honest worker; be safe anyway
            self._fail_worker(worker, "worker answered out of order")
            return
        with self._lock:
            result = (
                TaskResult(TaskStatus.OK, payload)
                if ok
                else TaskResult(TaskStatus.ERROR, detail=payload)
            )
            self._finish(task, result)

    def _fail_worker(self, worker: _Worker, detail: str) -> None:
        task = worker.inflight.popleft() if worker.inflight else None
        if task is not None:
            with self._lock:
                self._finish(task, TaskResult(TaskStatus.ERROR, detail=detail))
        self._replace(worker)

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for worker in [w for w in self._workers if w.inflight and w.kill_time() <= now]:
            task = worker.inflight.popleft()
            used_budget = now - worker.started >= _FULL_BUDGET * task.budget_s
            status = TaskStatus.TIMEOUT if used_budget else TaskStatus.EXPIRED
            with self._lock:
                self._finish(
                    task, TaskResult(status, detail=f"killed after {now - worker.started:.2f} s")
                )
            self._replace(worker)

    def _finish(self, task: _Task, result: TaskResult) -> None:
        """Resolve a task's future and count it; the caller holds ``self._lock``."""
        key = {
            TaskStatus.OK: "ok",
            TaskStatus.ERROR: "errors",
            TaskStatus.TIMEOUT: "timeouts",
            TaskStatus.EXPIRED: "expired",
        }[result.status]
        self._counters[key] += 1
        try:
            task.future.set_result(result)
        except InvalidStateError:  # the caller cancelled it meanwhile
            pass

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _fail_everything(self, detail: str) -> None:
        with self._lock:
            tasks = [*self._urgent, *self._batch, *(t for w in self._workers for t in w.inflight)]
            self._urgent.clear()
            self._batch.clear()
            for worker in self._workers:
                worker.inflight.clear()
            for task in tasks:
                self._finish(task, TaskResult(TaskStatus.ERROR, detail=detail))

    def _shutdown(self) -> None:
        self._fail_everything("pool is closed")
        for worker in self._workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        for worker in self._workers:
            if not worker.handle.wait(0.5):  # by id: the fork server may be gone
                worker.handle.kill()
            _stop(worker)
        self._workers.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)


def _stop(worker: _Worker) -> None:
    """Kill a worker by its id, wait for it to end, and release what the pool held of it.

    ``Process.kill`` is not enough: after the fork server died it reports every worker as
    exited and signals none of them.
    """
    worker.handle.kill()
    worker.handle.wait(2.0)
    worker.process.join(timeout=0.1)  # lets multiprocessing collect its bookkeeping
    worker.conn.close()
    worker.handle.close()


def _by_name(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function its module currently holds under its name (what pickling looks up).

    After a module is imported a second time (``importlib.reload``, some test runners), an old
    reference no longer pickles; the current one does and runs the same code.
    """
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    current = getattr(module, getattr(fn, "__qualname__", ""), None)
    return current if callable(current) else fn


def available_cpus() -> int:
    """The number of CPUs this process may run on (its affinity mask where there is one).

    Example:
        >>> available_cpus() >= 1
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: The pool's counters (see :meth:`WorkerPool.stats`).
_COUNTERS = (
    "tasks",
    "ok",
    "errors",
    "timeouts",
    "expired",
    "crashes",
    "restarts",
    "fork_server_restarts",
)

_shared: dict[tuple[Any, ...], WorkerPool] = {}
_fork_server_used = False  # a pool of this process uses the fork server
_fork_server_is_the_parents = False  # this process was forked after that: the server is not ours


def _note_start_method(start_method: str) -> None:
    global _fork_server_used
    _fork_server_used = _fork_server_used or start_method == "forkserver"


_shared_lock = threading.Lock()


def shared_pool(
    size: int | None = None, *, preload: Sequence[str] = (), memory_mb: int | None = None
) -> WorkerPool:
    """The process-wide pool for these settings, created on first use; safe from any thread.

    A forked child gets its own pool on first use (the parent's workers belong to the parent),
    and every shared pool is closed when the interpreter exits.

    Example:
        >>> shared_pool(1) is shared_pool(1)
        True
    """
    key = (size or available_cpus(), tuple(preload), memory_mb)
    pool = _shared.get(key)
    if pool is None:
        with _shared_lock:
            pool = _shared.get(key)
            if pool is None:
                pool = WorkerPool(key[0], preload=preload, memory_mb=memory_mb)
                _shared[key] = pool
    return pool


def shared_pools() -> list[WorkerPool]:
    """Every shared pool of this process (for metrics).

    Example:
        >>> shared_pool(1) in shared_pools()
        True
    """
    with _shared_lock:
        return list(_shared.values())


def close_shared_pools() -> None:
    """Close every shared pool; the next :func:`shared_pool` call starts a fresh one.

    Example:
        >>> first = shared_pool(1)
        >>> close_shared_pools()
        >>> shared_pool(1) is first
        False
    """
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


def _forget_shared_pools_in_child() -> None:
    global _shared_lock, _fork_server_is_the_parents
    _fork_server_is_the_parents = _fork_server_is_the_parents or _fork_server_used
    _shared.clear()  # the parent's workers and dispatcher thread do not exist here
    _every_pool.clear()
    _shared_lock = threading.Lock()  # it may have been held by another thread at fork time


def _close_every_pool() -> None:
    """At exit: close the shared pools, then any other pool still open."""
    close_shared_pools()
    for pool in list(_every_pool):
        pool.close()


def _close_before_multiprocessing_exits() -> None:
    """Have the pools closed at exit before multiprocessing's own exit handler runs.

    That handler terminates daemon processes (our workers) one by one; a pool still open then
    would take each death for a crash and start a replacement. Exit handlers run last
    registered first, and multiprocessing registers its handler when it is first imported (after
    this module), so ours is registered again once multiprocessing is loaded.
    """
    global _exit_order_fixed
    if not _exit_order_fixed:
        import multiprocessing.util  # noqa: F401  (registers multiprocessing's exit handler)

        atexit.unregister(_close_every_pool)
        atexit.register(_close_every_pool)
        _exit_order_fixed = True


_every_pool: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
_exit_order_fixed = False
atexit.register(_close_every_pool)
os.register_at_fork(after_in_child=_forget_shared_pools_in_child)
