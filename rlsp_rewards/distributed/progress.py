"""The job's progress bar in rows: actors report to a small counter actor, the driver draws it.

Each actor reports ``(shard, rows done in it)`` after every chunk, without waiting for an
answer. The counter keeps the largest report per shard, so a shard retried from its first row
(its actor died) does not count its rows twice. The driver polls the total twice a second and
draws the same bar as the local path; a lost counter only freezes the bar, never the job.

Example:
    >>> counter = ProgressCounter()
    >>> counter.report(0, 512); counter.report(1, 100); counter.report(0, 0)  # 0 retried
    >>> counter.total()
    612
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["ProgressCounter", "RowsBar", "start_counter"]

#: Seconds between two polls of the counter.
POLL_S = 0.5


class ProgressCounter:
    """Rows done per shard; the body of the counter actor (see :func:`start_counter`).

    Example:
        >>> ProgressCounter().total()
        0
    """

    def __init__(self) -> None:
        self._done: dict[int, int] = {}

    def report(self, index: int, rows: int) -> None:
        """Shard ``index`` has ``rows`` rows done (a smaller number than before is a retry)."""
        self._done[index] = max(self._done.get(index, 0), rows)

    def total(self) -> int:
        """Rows done over every shard."""
        return sum(self._done.values())


def start_counter() -> Any:
    """A :class:`ProgressCounter` as a Ray actor that takes no CPU (Ray must be initialised).

    Example:
        >>> start_counter()  # doctest: +SKIP
        Actor(ProgressCounter, ...)
    """
    import ray

    return ray.remote(num_cpus=0, max_restarts=0)(ProgressCounter).remote()


class RowsBar:
    """A rich progress bar on ``console`` that follows a counter actor (none: only ``done``).

    Args:
        console: where to draw (a console that is not a terminal gets no bar).
        label: the text before the bar.
        total: rows in the job.
        done: rows already done before it started (resumed shards).
        counter: the counter actor, or None.

    Example:
        >>> from rich.console import Console
        >>> with RowsBar(Console(quiet=True), "scoring", total=10, done=4) as bar:
        ...     bar.completed
        4
    """

    def __init__(
        self, console: Console, label: str, total: int, done: int = 0, counter: Any = None
    ) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        self._progress = Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        )
        self._task = self._progress.add_task(label, total=total, completed=done)
        self._done = done
        self._counter = counter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="rlsp-ray-progress", daemon=True)
        self.completed = done

    def _follow(self) -> None:
        import ray

        while not self._stop.wait(POLL_S):
            try:
                self.completed = self._done + ray.get(self._counter.total.remote(), timeout=5)
            except Exception:  # a lost counter freezes the bar; the job goes on
                continue
            self._progress.update(self._task, completed=self.completed)

    def __enter__(self) -> RowsBar:
        self._progress.start()
        if self._counter is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._progress.stop()
