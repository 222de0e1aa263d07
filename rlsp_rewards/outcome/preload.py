"""What the outcome verifier's worker processes load before their first check.

The fork server imports this module once and every worker is forked from it, so a new or
replacement worker starts with math-verify and sympy imported and the LaTeX parser warmed up.
The parser (ANTLR) builds its prediction tables lazily, per kind of expression: the first
polynomial, tuple or matrix it sees costs tenths of a second, the next ones milliseconds. Running
one check of each common kind here pays that once, in the fork server, for every worker.

Example:
    >>> from rlsp_rewards.outcome import preload
    >>> all(preload.WARM_UP)
    True
"""

from __future__ import annotations

from rlsp_rewards.outcome.grade import math_verify_equal

__all__ = ["WARM_UP"]

#: One check of each common kind of answer that reaches math-verify (all equal pairs).
_SHAPES = (
    (r"\frac{\sqrt{2}}{2}", r"\sin(\pi/4)"),  # trigonometry, radicals
    ("1 + x^2", "x^2 + 1"),  # polynomials
    (r"\frac{x+1}{2}", r"\frac{1}{2}x + \frac{1}{2}"),  # rational expressions
    ("(1, a)", "(1,a)"),  # tuples with symbols
    (r"[b, \infty)", r"[b,\infty)"),  # intervals with symbols
    (r"\{a, 2\}", r"\{2, a\}"),  # sets
    (
        r"\begin{pmatrix} 1 & y \\ 0 & 1 \end{pmatrix}",
        r"\begin{pmatrix} 1 & y \\ 0 & 1 \end{pmatrix}",
    ),
    ("y = 2x + 1", "y = 1 + 2x"),  # equations
    (r"3 e^{x}", r"e^{x} \cdot 3"),  # exponentials
    (r"\log_{2}(x)", r"\frac{\ln x}{\ln 2}"),  # logarithms
    (r"2\pi r", r"2 r \pi"),  # products of symbols
    (r"\sum_{k=0}^{n-1} F_k", r"\sum_{k=0}^{n-1} F_{k}"),  # sums (seconds to parse cold)
)

#: The verdicts of the warm-up checks, run at import (math-verify alone, no fast path).
WARM_UP = tuple(math_verify_equal(gold, pred) for gold, pred in _SHAPES)
