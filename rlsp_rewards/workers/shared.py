"""The pools of this process: one shared pool per settings, and every pool's end.

* :func:`shared_pool` gives one pool per process and settings, shared by every thread;
  :func:`shared_pools` lists them (for metrics) and :func:`close_shared_pools` closes them
  (and the shared lanes: :func:`shared_lanes`, one set per process and settings, too).
* Every pool, shared or not, is closed at exit, before multiprocessing's own exit handler
  terminates the workers (:func:`close_before_multiprocessing_exits`).
* A forked child forgets its parent's pools (their workers and dispatcher threads are the
  parent's), and its new pools spawn their workers, since the fork server is the parent's too
  (:func:`default_start_method`).
* :func:`worker_context` is where a new pool or set of lanes gets its start method, with all
  of the above in place.

Example:
    >>> pool = shared_pool(1)
    >>> pool is shared_pool(1) and pool in shared_pools()
    True
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.workers.cpus import available_cpus
from rlsp_rewards.workers.lanes import Lanes
from rlsp_rewards.workers.pool import WorkerPool

__all__ = [
    "close_before_multiprocessing_exits",
    "close_shared_pools",
    "default_start_method",
    "note_start_method",
    "shared_lanes",
    "shared_pool",
    "shared_pools",
    "track",
    "worker_context",
]

T = TypeVar("T")

_shared: dict[tuple[Any, ...], WorkerPool] = {}
_shared_lanes: dict[tuple[Any, ...], Lanes] = {}
_fork_server_used = False  # a pool of this process uses the fork server
_fork_server_is_the_parents = False  # this process was forked after that: the server is not ours
_shared_lock = threading.Lock()
_every_pool: weakref.WeakSet[WorkerPool | Lanes] = weakref.WeakSet()
_exit_order_fixed = False


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
    return _one_per_key(
        _shared, key, lambda: WorkerPool(key[0], preload=preload, memory_mb=memory_mb)
    )


def shared_lanes(size: int, *, preload: Sequence[str] = (), memory_mb: int | None = None) -> Lanes:
    """The process-wide lanes for these settings, created (not started) on first use.

    Example:
        >>> shared_lanes(1) is shared_lanes(1)
        True
    """
    key = (size, tuple(preload), memory_mb)
    return _one_per_key(
        _shared_lanes, key, lambda: Lanes(size, preload=preload, memory_mb=memory_mb)
    )


def _one_per_key(made: dict[tuple[Any, ...], T], key: tuple[Any, ...], make: Callable[[], T]) -> T:
    """``made[key]``, made once (under the lock) when it is missing."""
    found = made.get(key)
    if found is None:
        with _shared_lock:
            found = made.get(key)
            if found is None:
                found = made[key] = make()
    return found


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
        pools: list[WorkerPool | Lanes] = [*_shared.values(), *_shared_lanes.values()]
        _shared.clear()
        _shared_lanes.clear()
    for pool in pools:
        pool.close()


def worker_context(start_method: str | None, preload: tuple[str, ...]) -> Any:
    """The multiprocessing context a new pool (or lanes) starts its workers from.

    ``None`` picks :func:`default_start_method`. Workers start without the parent's
    ``__main__``, every pool is closed at exit before multiprocessing's own handler runs, and a
    fork server imports ``preload`` once (when this is the first to start it).

    Raises:
        ConfigError: for a start method other than ``"forkserver"`` and ``"spawn"``.

    Example:
        >>> worker_context("spawn", ()).get_start_method()
        'spawn'
    """
    import multiprocessing

    from rlsp_rewards.workers.process import install_lean_start

    start_method = start_method or default_start_method()
    if start_method not in ("forkserver", "spawn"):
        raise ConfigError(
            f"start_method must be 'forkserver' or 'spawn' (fork is unsafe with threads), "
            f"got {start_method!r}"
        )
    install_lean_start()
    close_before_multiprocessing_exits()
    context: Any = multiprocessing.get_context(start_method)
    note_start_method(start_method)
    if start_method == "forkserver" and preload:
        context.set_forkserver_preload(list(preload))
    return context


def default_start_method() -> str:
    """The start method of a new pool: ``"forkserver"``, or ``"spawn"`` in a forked child.

    A process forked after one of its pools used the fork server cannot use that server (it
    is the parent's), so its pools spawn their workers.
    """
    return "spawn" if _fork_server_is_the_parents else "forkserver"


def note_start_method(start_method: str) -> None:
    """Remember that a pool of this process uses the fork server (a forked child must not)."""
    global _fork_server_used
    _fork_server_used = _fork_server_used or start_method == "forkserver"


def track(pool: WorkerPool | Lanes) -> None:
    """Have ``pool`` (or lanes) closed at exit, if it is still open then (it is held weakly)."""
    _every_pool.add(pool)


def close_before_multiprocessing_exits() -> None:
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


def _close_every_pool() -> None:
    """At exit: close the shared pools, then any other pool still open."""
    close_shared_pools()
    for pool in list(_every_pool):
        pool.close()


def _forget_shared_pools_in_child() -> None:
    global _shared_lock, _fork_server_is_the_parents
    _fork_server_is_the_parents = _fork_server_is_the_parents or _fork_server_used
    _shared.clear()  # the parent's workers and dispatcher thread do not exist here
    _shared_lanes.clear()
    _every_pool.clear()
    _shared_lock = threading.Lock()  # it may have been held by another thread at fork time


atexit.register(_close_every_pool)
os.register_at_fork(after_in_child=_forget_shared_pools_in_child)
