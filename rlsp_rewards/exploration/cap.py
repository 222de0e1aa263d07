"""How much of a response the per-sample measures read: at most :data:`MAX_MEASURED_CHARS`.

The repetition detector, the behaviour counts and a local tokenizer read the whole response,
in the caller, outside any worker's budget. Their cost grows with the text (0.1-0.2 s per
million characters for the first two on one loaded core, more for a tokenizer), so a response of
several megabytes (a degenerate loop until the length limit; the reward server accepts 8 MB
bodies) would hold the caller, and the GIL, for seconds. Past the cap they read the first and
the last ``MAX_MEASURED_CHARS // 2`` characters (the start of the reasoning and the end, where a
degenerate loop sits), and the result says so with ``capped = 1``:

* ``repetition`` and ``effective_length``: of the part read;
* ``backtracking``, ``verification``, ``alternatives``: counted in the part read;
* ``length``: still exact when the framework passes a token count; otherwise characters / 4 of
  the whole response (``length_source`` 0), even when a tokenizer is configured.

No framework's ordinary responses come near the cap: 32,768 tokens are about 130,000
characters. The verifier has its own bound (``max_response_chars``).

Example:
    >>> part, capped = measured_part("x" * 10)
    >>> part, capped
    ('xxxxxxxxxx', False)
    >>> len(measured_part("ab" * MAX_MEASURED_CHARS)[0]) == MAX_MEASURED_CHARS
    True
"""

from __future__ import annotations

__all__ = ["MAX_MEASURED_CHARS", "measured_part"]

#: The most characters of one response the per-sample measures read.
MAX_MEASURED_CHARS = 1_000_000


def measured_part(text: str) -> tuple[str, bool]:
    """The part of ``text`` the measures read, and whether it is less than the whole.

    A capped text is its first ``MAX_MEASURED_CHARS // 2`` characters and its last ones,
    joined by a newline (so that no word spans the cut): :data:`MAX_MEASURED_CHARS` in all.

    Example:
        >>> part, capped = measured_part("a " * MAX_MEASURED_CHARS)
        >>> capped, part.count("\\n")
        (True, 1)
    """
    if len(text) <= MAX_MEASURED_CHARS:
        return text, False
    half = MAX_MEASURED_CHARS // 2
    return f"{text[:half]}\n{text[half + 1 - MAX_MEASURED_CHARS :]}", True
