"""How many CPUs this process may use: the default size of a worker pool.

Inside a container or under ``taskset`` that is fewer than the machine has.

Example:
    >>> 1 <= available_cpus() <= (os.cpu_count() or 1)
    True
"""

from __future__ import annotations

import os

__all__ = ["available_cpus"]


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
