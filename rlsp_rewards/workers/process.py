"""Inside a worker process: its main loop, a lean start, and functions sent by name.

A worker is started with :func:`worker_main` as its target. It ties its life to its owner,
ignores Ctrl-C, caps its memory if asked, imports the ``preload`` modules, then runs the tasks
it is sent, several per message, and answers each one as soon as it ends. Functions and
arguments travel pickled; a function pickles by its module and name (:func:`by_name`).

:func:`install_lean_start` makes multiprocessing start processes named :data:`WORKER_NAME`
without re-running the parent's ``__main__``: a worker only needs its target function.

Example:
    >>> from multiprocessing import spawn
    >>> install_lean_start()
    >>> hasattr(spawn.get_preparation_data, "__wrapped__")
    True
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rlsp_rewards.processes import die_with_owner

__all__ = ["WORKER_NAME", "by_name", "install_lean_start", "worker_main"]

#: The name of every worker process (the lean start recognises our workers by it).
WORKER_NAME = "rlsp-worker"


def _lean_preparation_data(original: Callable[[str], dict]) -> Callable[[str], dict]:
    """Wrap multiprocessing's start-up data so that our workers skip the parent's ``__main__``.

    A forkserver or spawn child normally re-runs the parent's main script or module, which
    imports the whole trainer (seconds per replacement worker) or, in a script without an
    ``if __name__ == "__main__"`` guard, starts pools recursively. Our workers only need their
    target function, so processes named ``rlsp-worker`` start without it; others are untouched.
    """

    def preparation_data(name: str) -> dict:
        data = original(name)
        if name == WORKER_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    preparation_data.__wrapped__ = original  # type: ignore[attr-defined]
    return preparation_data


def install_lean_start() -> None:
    """Make workers start without the parent's ``__main__`` (once per process)."""
    from multiprocessing import spawn

    if not hasattr(spawn.get_preparation_data, "__wrapped__"):
        spawn.get_preparation_data = _lean_preparation_data(  # type: ignore[assignment]
            spawn.get_preparation_data
        )


def worker_main(conn: Any, preload: tuple[str, ...], memory_mb: int | None) -> None:
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


def by_name(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function its module currently holds under its name (what pickling looks up).

    After a module is imported a second time (``importlib.reload``, some test runners), an old
    reference no longer pickles; the current one does and runs the same code.

    Example:
        >>> import operator
        >>> by_name(operator.neg) is operator.neg
        True
    """
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    current = getattr(module, getattr(fn, "__qualname__", ""), None)
    return current if callable(current) else fn
