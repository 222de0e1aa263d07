"""How a task of a worker pool ended: :class:`TaskStatus` and :class:`TaskResult`.

A pool never raises for a task: every call gives back a :class:`TaskResult`, whose status says
whether the function returned, raised (or lost its worker), ran out of its budget, or was given
up because its caller's deadline came first.

Example:
    >>> result = TaskResult(TaskStatus.TIMEOUT, detail="killed after 5.00 s")
    >>> result.ok, result.status.value
    (False, 'timeout')
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

__all__ = ["TaskResult", "TaskStatus"]


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
