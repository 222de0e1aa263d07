"""The dispatcher thread of a worker pool: it owns the workers, feeds them and kills overruns.

:class:`Dispatcher` is the base of :class:`~rlsp_rewards.workers.WorkerPool`: callers put tasks
in its two queues (single calls first, then batch tasks) and wait on their futures; one thread
starts the worker processes, sends each idle worker a task or a chunk of batch tasks, receives
each answer as soon as it comes, kills a worker whose task overran its budget and replaces any
worker that died. A dead fork server is noticed through its workers' pipes: every worker is then
killed by id and replaced, and the tasks they held run again (:data:`_MAX_REQUEUES` times).

Example:
    >>> import time
    >>> from rlsp_rewards.workers import WorkerPool
    >>> with WorkerPool(size=1) as pool:
    ...     [r.status.value for r in pool.map(time.sleep, [(0,), (60,)], timeout_s=0.5)]
    ['ok', 'timeout']
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from rlsp_rewards.processes import fork_server_alive
from rlsp_rewards.workers.lifecycle import WorkerProcess, start_worker, stop_worker
from rlsp_rewards.workers.process import by_name
from rlsp_rewards.workers.tasks import TaskResult, TaskStatus

__all__ = ["Dispatcher"]

logger = logging.getLogger("rlsp_rewards.workers")

_MAX_CHUNK = 16
#: A task killed after using this fraction of its budget counts as TIMEOUT, else EXPIRED.
_FULL_BUDGET = 0.9
#: How many times a task may lose its worker to a dead fork server before it fails with ERROR.
_MAX_REQUEUES = 2
#: The pool's counters (see :meth:`~rlsp_rewards.workers.WorkerPool.stats`).
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
class _Worker(WorkerProcess):
    inflight: collections.deque[_Task] = dataclasses.field(default_factory=collections.deque)
    started: float = 0.0  # when the first in-flight task started running

    def kill_time(self) -> float:
        task = self.inflight[0]
        return min(self.started + task.budget_s, task.deadline)


class Dispatcher:
    """The queues of a pool and the thread that serves them (the base of ``WorkerPool``).

    Args:
        size: the number of worker processes.
        context: the multiprocessing context (start method) the workers start from.
        preload: modules each worker imports before any task.
        memory_mb: an address-space limit per worker, or ``None``.
    """

    def __init__(
        self, size: int, context: Any, preload: tuple[str, ...], memory_mb: int | None
    ) -> None:
        self.size = size
        self._preload = preload
        self._memory_mb = memory_mb
        self._context = context
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._urgent: collections.deque[_Task] = collections.deque()  # single calls go first
        self._batch: collections.deque[_Task] = collections.deque()
        self._workers: list[_Worker] = []
        self._counters = collections.Counter({k: 0 for k in _COUNTERS})
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe already means a wake-up is pending
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="rlsp-workers", daemon=True)
        self._thread.start()

    # -- the callers' side: into the queues ---------------------------------------------------

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
                    by_name(fn),
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
        return start_worker(self._context, self._preload, self._memory_mb, _Worker)

    def _replace(self, worker: _Worker) -> None:
        stop_worker(worker)
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
            stop_worker(worker)
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
            stop_worker(worker)
        self._workers.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)
