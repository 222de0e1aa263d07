"""One call of a reward: made here or in a worker thread that is abandoned if it never returns.

The frameworks call rewards from worker threads, so the checker does too: a reward that needs
the main thread (a SIGALRM timer) fails here as it would there. An awaitable result is awaited
in a fresh event loop, as verl and TRL do for ``async def`` rewards.

Example:
    >>> call = run_in_thread(lambda: 2 + 2, limit_s=5)
    >>> call.value, call.hung, call.awaited
    (4, False, False)
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Call", "call_now", "run_in_thread"]


@dataclasses.dataclass
class Call:
    """What one call gave: its value or exception, how long it took, whether it hung.

    Example:
        >>> Call(seconds=32.0, hung=True).value is None
        True
    """

    value: Any = None
    exc: BaseException | None = None
    seconds: float = 0.0
    hung: bool = False
    awaited: bool = False  # the call returned an awaitable, which was awaited to read it


def call_now(call: Callable[[], Any]) -> Call:
    """Make the call in this thread; an exception is caught and kept, an awaitable awaited.

    Example:
        >>> type(call_now(lambda: 1 / 0).exc).__name__
        'ZeroDivisionError'
    """
    out = Call()
    start = time.perf_counter()
    try:
        out.value, out.awaited = _resolve(call())
    except BaseException as exc:  # the report names it; nothing escapes the checker
        out.exc = exc
    out.seconds = time.perf_counter() - start
    return out


def run_in_thread(call: Callable[[], Any], limit_s: float) -> Call:
    """Run ``call`` in a daemon thread; abandon it after ``limit_s`` (it may still run)."""
    made: list[Call] = []
    thread = threading.Thread(
        target=lambda: made.append(call_now(call)), name="reward-contract-call", daemon=True
    )
    thread.start()
    thread.join(limit_s)
    if thread.is_alive():
        return Call(seconds=limit_s, hung=True)
    return made[0]


def _resolve(value: Any) -> tuple[Any, bool]:
    """The value, awaited in a fresh event loop when it is awaitable; and whether it was."""
    if not inspect.isawaitable(value):
        return value, False

    async def wait() -> Any:
        return await value

    return asyncio.run(wait()), True
