"""What the outcome verifier's worker processes load before their first check.

The fork server imports this module once and every worker is forked from it, so a new or
replacement worker starts with math-verify, sympy and the LaTeX parser already imported and
warmed up, instead of spending about half a second of its first check's budget on them.

Example:
    >>> from rlsp_rewards import outcome_worker
    >>> outcome_worker.WARM_UP[0].value
    'correct'
"""

from __future__ import annotations

from .equivalence import compare

__all__ = ["WARM_UP"]

#: One full check that the fast path cannot decide, run at import to warm the parser up.
WARM_UP = (compare(r"\frac{\sqrt{2}}{2}", r"\sin(\pi/4)"),)
