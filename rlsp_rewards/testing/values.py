"""What a reward returned, as plain values, and how two results compare.

Rewards may return tensors and arrays; the checker reads them as lists and numbers, compares
the results of the same input across calls, threads and a pickled copy (numbers within a
rounding error, NaN equal to NaN), and names the exceptions it saw, even one whose
``__str__`` is broken.

Example:
    >>> same(plain({"score": (1.0, 2)}), {"score": [1, 2.0]})
    True
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["exc_text", "is_number", "plain", "same"]


def plain(value: Any) -> Any:
    """Tensors and arrays as Python lists and numbers, dicts and sequences recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return value
    if hasattr(value, "tolist"):  # torch tensors, numpy arrays and scalars
        try:
            return value.tolist()
        except Exception:
            return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Whether two plain results are the same: equal, numbers within a rounding error.

    Example:
        >>> same({"score": float("nan")}, {"score": float("nan")}), same(1, "1")
        (True, False)
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if is_number(a) and is_number(b):
        x, y = float(a), float(b)
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def is_number(value: Any) -> bool:
    """Whether a framework can read ``value`` as a number (``bool`` and numpy scalars too)."""
    return isinstance(value, numbers.Real)


def exc_text(exc: BaseException) -> str:
    """``str(exc)``, never raising: a reward's exception class may have a broken ``__str__``."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"
