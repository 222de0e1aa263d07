"""Our worker processes by process id: kill them for sure, and tie their lives to their owner.

:mod:`multiprocessing` learns a forkserver child's exit status from the fork server. Once the
fork server is gone (killed by an operator or the OOM killer), every such child reads as exited
(code 255) and ``Process.kill`` sends nothing, so a worker that overran its budget would run on,
owned by nobody. This module does not ask multiprocessing:

* :class:`ProcessHandle`, held by the pool for each worker, signals and waits by process id:
  through a pidfd where the kernel has them (Linux 5.3+: no risk of hitting a reused id), else
  by plain id.
* :func:`die_with_owner`, called first thing in a worker, makes the worker die when its owner
  does: on Linux the kernel sends SIGKILL when the worker's parent (the fork server, which exits
  when the owner does) dies, even in the middle of a C call that holds the GIL; everywhere a
  watchdog thread exits the worker once its owner's end of the start-up pipe closes.
* :func:`parent_death_guard`, for a child started with :mod:`subprocess` (the servers of
  ``rlsp-rewards serve --processes``): the same kernel guard, on Linux.
* :func:`fork_server_alive` tells the pool whether the fork server a worker came from
  (:func:`fork_server_pid` when it started) still runs, without reaping it (multiprocessing
  restarts a dead one on the next start).

Example:
    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    >>> handle = ProcessHandle(child.pid)
    >>> handle.kill(); child.wait(timeout=10) < 0
    True
    >>> handle.close()
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

__all__ = [
    "ProcessHandle",
    "die_with_owner",
    "fork_server_alive",
    "fork_server_pid",
    "parent_death_guard",
]

#: ``prctl`` option: the signal a process gets when its parent thread dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


class ProcessHandle:
    """A process we started, by id: signal it and wait for it whoever its parent is now.

    Args:
        pid: the process id, taken while the process is known to run (just after its start).

    Example:
        >>> handle = ProcessHandle(os.getpid())
        >>> handle.exited()
        False
        >>> handle.close()
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd: int | None = None
        opener = getattr(os, "pidfd_open", None)
        if opener is not None:
            try:
                self._fd = opener(pid)
            except ProcessLookupError:  # it is gone already
                self._fd = -1
            except OSError:  # no pidfds in this kernel, or too many open files
                self._fd = None

    def kill(self) -> None:
        """Send SIGKILL (nothing happens when the process is gone)."""
        if self._fd == -1:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if self._fd is not None:
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the process to end; True once it has."""
        if self._fd == -1:
            return True
        if self._fd is not None:
            try:
                return bool(select.select([self._fd], [], [], max(0.0, timeout_s))[0])
            except (OSError, ValueError):  # closed meanwhile
                return True
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except OSError:
                return False
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def exited(self) -> bool:
        """True when the process has ended (without waiting)."""
        return self.wait(0.0)

    def close(self) -> None:
        """Release the pidfd (the process itself is not touched)."""
        fd, self._fd = self._fd, -1
        if fd is not None and fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def die_with_owner() -> None:
    """In a worker process: be killed when the process that owns the pool dies.

    Two guards. On Linux, ``PR_SET_PDEATHSIG`` has the kernel SIGKILL the worker when its
    parent dies; the parent is the fork server, which exits as soon as the owner does (the
    worker first closes its inherited copy of the fork server's "owner alive" pipe, which would
    keep it running). Everywhere, a daemon thread waits on the owner's end of the start-up pipe
    (:func:`multiprocessing.parent_process`'s sentinel) and exits the process when it closes;
    it also covers the moment before the first guard was set.

    Example:
        >>> callable(die_with_owner)  # called inside worker processes only
        True
    """
    import multiprocessing

    if sys.platform.startswith("linux"):
        _set_parent_death_signal()
        _close_inherited_alive_pipe()
    owner = multiprocessing.parent_process()
    sentinel = getattr(owner, "sentinel", None)
    if sentinel is not None:
        threading.Thread(
            target=_exit_when_readable, args=(sentinel,), name="rlsp-owner-watch", daemon=True
        ).start()


def parent_death_guard() -> Callable[[], None] | None:
    """For :class:`subprocess.Popen`'s ``preexec_fn``, on Linux: a function that has the kernel
    SIGKILL the child when its parent dies, however the parent dies; ``None`` elsewhere. The
    C function is looked up here, in the parent, so that the child only calls it between fork
    and exec (no import, no lock there).

    Example:
        >>> guard = parent_death_guard()
        >>> guard is None or callable(guard)
        True
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not glibc/musl
        return None
    return functools.partial(prctl, _PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _set_parent_death_signal() -> None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not glibc/musl: the other guards remain
        pass


def _close_inherited_alive_pipe() -> None:
    """Close this worker's copy of the fork server's "owner alive" pipe.

    The fork server exits when every holder of that pipe's write end is gone; the owner holds it,
    and multiprocessing hands a copy to each child for children of its own, which a worker never
    starts. Without this, a busy worker would keep its own fork server (and so itself) alive
    after the owner died.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int) and fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def _exit_when_readable(fd: int) -> None:
    try:
        select.select([fd], [], [])
    except (OSError, ValueError):  # not a pipe we can watch: the other guards remain
        return
    os._exit(1)  # the owner is gone: nobody will read this worker's answers


def fork_server_pid() -> int | None:
    """The process id of this process's multiprocessing fork server (None: none started).

    Example:
        >>> fork_server_pid() is None or fork_server_pid() > 0
        True
    """
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def fork_server_alive(pid: int | None) -> bool:
    """Whether the fork server ``pid`` (from :func:`fork_server_pid`) still runs.

    Checked with ``waitid(..., WNOWAIT)``, so a dead server stays to be reaped, and replaced,
    by multiprocessing's next process start; one already replaced is dead. ``None`` (no fork
    server) and platforms without ``waitid`` read as alive: there is nothing to detect.

    Example:
        >>> fork_server_alive(None)
        True
    """
    waitid = getattr(os, "waitid", None)
    if pid is None or waitid is None:
        return True
    if fork_server_pid() != pid:  # multiprocessing found it dead and started another
        return False
    try:
        return waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:  # already reaped: gone
        return False
    except OSError:
        return True
