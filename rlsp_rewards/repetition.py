"""Repetition detection: how much of a response repeats text it already contains.

The paper reports that models learn to hack a length reward by repeating themselves. The
``guarded`` preset counts length on non-repetitive content only; this module measures it.

The rule, exactly:

1. The text is cut into *pieces*: runs of word characters of at most 16 characters (a longer
   run is cut into 16-character chunks, so ``"aaaa..."`` without spaces is many pieces), and
   every other non-space character on its own. Whitespace separates pieces and is not counted.
2. Every window of ``n`` consecutive pieces (an n-gram, ``n = 10`` by default) is compared with
   all earlier windows. When a window occurred before, all its ``n`` pieces are *repeated*.
   The first occurrence of any text counts once; every later copy of an n-gram is repeated.
3. ``repetition`` is the share of characters (of all pieces) that belong to repeated pieces, in
   [0, 1]. A text with fewer than ``n`` pieces has repetition 0.

Time and memory are linear in the length of the text (a few passes over the pieces, no
pairwise comparison). Pieces are numbered by first appearance and windows are tuples
of those numbers, hashed, so results do not depend on Python's string-hash seed.

Example:
    >>> repetition("one two three four " * 10, ngram=4)
    0.9
"""

from __future__ import annotations

import re
from itertools import accumulate, chain, compress, count, repeat
from operator import gt, mul, ne

__all__ = ["DEFAULT_NGRAM", "repetition"]

#: The default window, in pieces: long enough that ordinary restated formulas rarely match.
DEFAULT_NGRAM = 10

_PIECE = re.compile(r"\w{1,16}|[^\w\s]")


def repetition(text: str, ngram: int = DEFAULT_NGRAM) -> float:
    """The fraction of a text (by characters of its pieces) that repeats earlier n-grams.

    Args:
        text: the response (anything else counts as empty).
        ngram: the window length in pieces, at least 2.

    Returns:
        A number in [0, 1]: 0 for text without any repeated ``ngram``-piece window.

    Raises:
        ValueError: when ``ngram`` is below 2.

    Example:
        >>> repetition("The answer is 4. " * 3, ngram=4)
        0.6666666666666666
        >>> repetition("A short, original sentence.")
        0.0
    """
    if ngram < 2:
        raise ValueError(f"ngram must be at least 2, got {ngram}")
    if not isinstance(text, str):
        return 0.0
    pieces = _PIECE.findall(text)
    if len(pieces) < ngram:
        return 0.0
    # Each step below runs in C (map, zip, dict, accumulate): about 1 s per MB of dense text.
    number = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    ids = list(map(number.__getitem__, pieces))
    hashes = list(map(hash, zip(*(ids[k:] for k in range(ngram)))))
    windows = len(hashes)
    first_seen = dict(zip(reversed(hashes), range(windows - 1, -1, -1)))
    # A window starting at s that occurred earlier covers pieces s .. s+ngram-1: record its end.
    is_copy = map(ne, map(first_seen.__getitem__, hashes), range(windows))
    copy_ends = map(mul, is_copy, range(ngram, windows + ngram))
    # Piece j is repeated when some copied window starting at or before j ends after j.
    reach = accumulate(chain(copy_ends, repeat(0, ngram - 1)), max)
    sizes = list(map(len, pieces))
    repeated_chars = sum(compress(sizes, map(gt, reach, count())))
    return repeated_chars / sum(sizes)
