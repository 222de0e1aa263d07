"""Repetition detection: how much of a response repeats text it already contains.

The paper reports that models learn to hack a length reward by repeating themselves. The
``guarded`` preset counts length on non-repetitive content only; this module measures it.

The rule, exactly:

1. The text is cut into *pieces*: its whitespace-separated words, each cut into chunks of at
   most 16 characters (so ``"aaaa..."`` without spaces is many pieces too).
2. Every window of ``n`` consecutive pieces (an n-gram, ``n = 10`` by default) is compared with
   all earlier windows. When a window occurred before, all its ``n`` pieces are *repeated*.
   The first occurrence of any text counts once; every later copy of an n-gram is repeated.
3. ``repetition`` is the share of characters (of all pieces) that belong to repeated pieces, in
   [0, 1]. A text with fewer than ``n`` pieces has repetition 0.

Time and memory are linear in the length of the text: a few passes over the pieces, each in
C (``str.split``, ``map``, ``zip``, ``dict``, ``accumulate``): a few milliseconds for a
4,000-word response.
Pieces are numbered by first appearance and windows are hashed tuples of those numbers, so the
result does not depend on Python's string-hash seed.

Example:
    >>> repetition("one two three four " * 10, ngram=4)
    0.9
"""

from __future__ import annotations

from itertools import accumulate, chain, compress, repeat
from operator import ne, sub

__all__ = ["DEFAULT_NGRAM", "MAX_PIECE_CHARS", "repetition"]

#: The default window, in pieces: long enough that ordinary restated formulas rarely match.
DEFAULT_NGRAM = 10

#: The longest piece: longer words are cut into chunks of this many characters.
MAX_PIECE_CHARS = 16


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
    pieces = _pieces(text)
    windows = len(pieces) - ngram + 1
    if windows < 1:
        return 0.0
    number = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    ids = list(map(number.__getitem__, pieces))
    hashes = list(map(hash, zip(*(ids[k:] for k in range(ngram)), strict=False)))
    first_seen = dict(zip(reversed(hashes), range(windows - 1, -1, -1), strict=False))
    is_copy = map(ne, map(first_seen.__getitem__, hashes), range(windows))
    # copies[k]: how many of the windows starting before k are copies. Piece j lies in the
    # windows starting at j-ngram+1 .. j, so it is repeated when that range holds a copy.
    copies = [0, *accumulate(is_copy)]
    upto = chain(copies[1:], repeat(copies[-1], ngram - 1))
    before = chain(repeat(0, ngram - 1), copies[:windows])
    sizes = list(map(len, pieces))
    return sum(compress(sizes, map(sub, upto, before))) / sum(sizes)


def _pieces(text: str) -> list[str]:
    words = text.split()
    if words and max(map(len, words)) > MAX_PIECE_CHARS:
        size = MAX_PIECE_CHARS
        words = [w[i : i + size] for w in words for i in range(0, len(w), size)]
    return words
