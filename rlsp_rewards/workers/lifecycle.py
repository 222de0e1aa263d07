"""Starting and stopping one worker process: what the dispatcher and the lanes share.

:func:`start_worker` starts a process running
:func:`~rlsp_rewards.workers.process.worker_main` on one end of a pipe and keeps the other
end, a :class:`~rlsp_rewards.processes.ProcessHandle` (to kill it by id even after its fork
server died) and the fork server it came from. :func:`stop_worker` kills it by id, waits for
it and releases what was held of it.

Example:
    >>> import multiprocessing, os
    >>> worker = start_worker(multiprocessing.get_context("spawn"), (), None, WorkerProcess)
    >>> worker.conn.send([(0, os.getpid, ())]); worker.conn.recv()[0:2]
    (0, True)
    >>> stop_worker(worker)
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rlsp_rewards.processes import ProcessHandle, fork_server_pid
from rlsp_rewards.workers.process import WORKER_NAME, by_name, worker_main

__all__ = ["WorkerProcess", "start_worker", "stop_worker"]


@dataclasses.dataclass(slots=True, eq=False)
class WorkerProcess:
    """A running worker: its process, our end of its pipe, a handle by id, its fork server.

    Attributes:
        process: the :class:`multiprocessing.Process`.
        conn: our end of the duplex pipe (tasks go out, answers come back).
        handle: signals and waits by process id.
        fork_server: the fork server's process id (``None`` when spawned).
    """

    process: Any
    conn: Any
    handle: ProcessHandle
    fork_server: int | None


W = TypeVar("W", bound=WorkerProcess)


def start_worker(
    context: Any,
    preload: tuple[str, ...],
    memory_mb: int | None,
    kind: type[W],
) -> W:
    """Start one worker process from ``context``; ``kind`` is the record made of it.

    Raises:
        OSError: when the process cannot be started (no memory, too many processes).
    """
    parent_conn, child_conn = context.Pipe(duplex=True)
    process = context.Process(
        target=by_name(worker_main),
        args=(child_conn, preload, memory_mb),
        name=WORKER_NAME,
        daemon=True,
    )
    try:
        process.start()
    finally:
        child_conn.close()
    server = fork_server_pid() if context.get_start_method() == "forkserver" else None
    return kind(process, parent_conn, ProcessHandle(process.pid), server)


def stop_worker(worker: WorkerProcess) -> None:
    """Kill a worker by its id, wait for it to end, and release what was held of it.

    ``Process.kill`` is not enough: after the fork server died it reports every worker as
    exited and signals none of them.
    """
    worker.handle.kill()
    worker.handle.wait(2.0)
    worker.process.join(timeout=0.1)  # lets multiprocessing collect its bookkeeping
    worker.conn.close()
    worker.handle.close()
