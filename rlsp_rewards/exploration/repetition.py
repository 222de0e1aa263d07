"""Repetition detection: how much of a response repeats text it already contains.

The paper reports that models learn to hack a length reward by repeating themselves. The
``guarded`` preset counts length on non-repetitive content only; this module measures it.

The rule, exactly:

1. The text is cut into *pieces*: its whitespace-separated words (as ``str.split()`` cuts
   them), each cut into chunks of at most 16 characters (so ``"aaaa..."`` without spaces is
   many pieces too).
2. Every window of ``n`` consecutive pieces (an n-gram, ``n = 10`` by default) is compared with
   all earlier windows. When a window occurred before, all its ``n`` pieces are *repeated*.
   The first occurrence of any text counts once; every later copy of an n-gram is repeated.
3. ``repetition`` is the share of characters (of all pieces) that belong to repeated pieces, in
   [0, 1]. A text with fewer than ``n`` pieces has repetition 0.

How it runs: a few vectorised numpy passes over the characters
(:mod:`~rlsp_rewards.exploration.chars`), no Python step per word. Pieces and windows are
grouped by sorting 64-bit hashes, and every group is then checked element by element, so the
result is exact: should two different pieces or windows ever share a hash, an exact grouping
of the rows themselves (``numpy.unique`` on rows) decides instead. The result never depends on
Python's hash seed. Time is ``O(N log N)`` in the characters, memory a few dozen bytes per
character.

Why numpy, and not threads or worker processes for one sample (measured on this repository's
2-core machine, loaded; realistic reasoning responses): the previous pure-Python rule
(``str.split``, a ``dict`` numbering the words, hashed 10-tuples) spent 21.9 million instructions
(valgrind) on a 16 KB response, 3-4 ms, almost all of it in one Python object per word and per
window, holding the GIL; this implementation, with the same results to the last bit
(``tests/exploration/test_golden.py``), spends 3.5 million or fewer, under 1 ms, most of it in
numpy loops that release the GIL. A worker process per sample would cost the caller about
0.2 ms of CPU for the round trip alone; batches do go to workers
(:mod:`~rlsp_rewards.exploration.scan`). ``rlsp-rewards bench --reward`` times the whole reward.

Example:
    >>> repetition("one two three four " * 10, ngram=4)
    0.9
"""

from __future__ import annotations

import functools
from typing import Any

from rlsp_rewards.exploration import compiled
from rlsp_rewards.exploration.chars import PAD, code_points, is_space, numpy, padded_bytes

__all__ = ["DEFAULT_NGRAM", "MAX_PIECE_CHARS", "repetition"]

#: The default window, in pieces: long enough that ordinary restated formulas rarely match.
DEFAULT_NGRAM = 10

#: The longest piece: longer words are cut into chunks of this many characters.
MAX_PIECE_CHARS = 16

#: Odd 64-bit multipliers of the polynomial hashes (any odd constant works; these mix well).
_MUL = 0x9E3779B97F4A7C15
_MIX = 0xBF58476D1CE4E5B9
#: The most cells (row x column) one step of the exact check gathers at once.
_CHECK_CELLS = 1 << 20


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
    if not isinstance(text, str) or not text:
        return 0.0
    if compiled.available():
        return compiled.repetition(code_points(text), ngram)
    np = numpy()
    data, width = padded_bytes(text)
    starts, sizes = _pieces(np, data, width)
    windows = len(starts) - ngram + 1
    if windows < 1:
        return 0.0
    table = _piece_table(np, data, width, starts, sizes)
    copy = _copies(np, table, ngram)
    # copies[k]: how many of the windows starting before k are copies. Piece j lies in the
    # windows starting at j-ngram+1 .. j, so it is repeated when that range holds a copy.
    copies = np.zeros(windows + 1, dtype=np.int64)
    np.cumsum(copy, out=copies[1:])
    upto = np.concatenate((copies[1:], np.full(ngram - 1, copies[-1])))
    before = np.concatenate((np.zeros(ngram - 1, dtype=np.int64), copies[:windows]))
    return int(sizes[upto > before].sum()) / int(sizes.sum())


def _pieces(np: Any, data: bytes, width: int) -> tuple[Any, Any]:
    """Start (character index) and length of every piece, in text order."""
    dtype = np.uint8 if width == 1 else np.dtype("<u4")
    chars = np.frombuffer(data, dtype=dtype)[:-PAD]
    edges = np.flatnonzero(np.diff(~is_space(chars), prepend=False, append=False))
    starts, ends = edges[0::2], edges[1::2]
    sizes = ends - starts
    extra = (sizes - 1) // MAX_PIECE_CHARS  # chunks of a word after its first (0 for most)
    long_words = np.flatnonzero(extra)
    if not long_words.size:
        return starts, sizes
    # Each long word's later chunks go right after its first one, in text order.
    chunks = extra[long_words]
    place = np.arange(len(starts)) + np.cumsum(extra) - extra  # where each first chunk goes
    word_of = np.repeat(long_words, chunks)
    nth = np.arange(len(word_of)) - np.repeat(np.cumsum(chunks) - chunks, chunks) + 1
    piece_starts = np.empty(len(starts) + len(word_of), dtype=starts.dtype)
    piece_starts[place] = starts
    piece_starts[place[word_of] + nth] = starts[word_of] + MAX_PIECE_CHARS * nth
    piece_ends = np.empty_like(piece_starts)
    piece_ends[place] = ends
    piece_ends[place[word_of] + nth] = ends[word_of]
    return piece_starts, np.minimum(MAX_PIECE_CHARS, piece_ends - piece_starts)


def _piece_table(np: Any, data: bytes, width: int, starts: Any, sizes: Any) -> list[Any]:
    """The pieces as a table of 64-bit columns: their lengths, then their characters as words.

    A piece (at most 16 characters) is read straight from the text's bytes: word ``k`` holds
    its characters ``k*c .. k*c+c-1`` (``c`` = 8, or 2 when the text is not ASCII), masked to
    the piece's length. Two pieces are equal exactly when their rows are. (Columns, not a 2-D
    array: gathering from contiguous columns is several times faster.)
    """
    per_word = 8 // width
    count = len(data) // width - per_word + 1  # every position a full word can start at
    view = np.ndarray((count,), dtype="<u8", buffer=data, strides=(width,))
    masks = _masks(np, width)
    table = [sizes.astype(np.uint64)]
    for k in range(-(-int(sizes.max()) // per_word)):
        chars = np.minimum(np.maximum(sizes - k * per_word, 0), per_word)
        table.append(view.take(starts + k * per_word) & masks.take(chars))
    return table


def _copies(np: Any, table: list[Any], ngram: int) -> Any:
    """For each window of ``ngram`` pieces: True when the same window occurred earlier.

    Windows are grouped by a 64-bit hash (see :func:`_window_hash`); each window found to be a
    copy is then compared with the first window of its group, piece by piece and character by
    character. Should any differ (two hashes collided), :func:`_exact_copies` decides.
    """
    windows = len(table[0]) - ngram + 1
    hashes = _window_hash(np, _row_hash(np, table), ngram)
    n_bits = max(1, (windows - 1).bit_length())
    low = np.uint64((1 << n_bits) - 1)
    # The hash's high bits above the window's index, in one key: one plain sort groups equal
    # hashes and orders each group by index, so the head of a group is its first window.
    keys = (hashes & ~low) | np.arange(windows, dtype=np.uint64)
    keys.sort()
    order = (keys & low).astype(np.intp)
    high = keys >> np.uint64(n_bits)
    later = np.flatnonzero(high[1:] == high[:-1]) + 1  # sorted positions that are not heads
    if not later.size:
        return np.zeros(windows, dtype=bool)
    heads = np.concatenate(([True], high[1:] != high[:-1]))
    head = np.maximum.accumulate(np.where(heads, np.arange(windows), 0))
    first = np.arange(windows)
    first[order[later]] = order[head[later]]
    copy = first != np.arange(windows)
    if not _same_windows(np, table, first, copy, ngram):
        return _exact_copies(np, table, ngram)
    return copy


def _same_windows(np: Any, table: list[Any], first: Any, copy: Any, ngram: int) -> bool:
    """Whether every window equals window ``first[i]``, piece by piece (exactly).

    A copy that follows a copy at the same distance from its original shares all but its
    last piece with the one before, so only that piece is compared; the first copy of each
    such run is compared whole. Highly repetitive text (long runs) costs one comparison per
    window, not ``ngram``.
    """
    index = np.arange(len(first))
    distance = index - first
    run_on = np.zeros(len(first), dtype=bool)
    run_on[1:] = copy[1:] & copy[:-1] & (distance[1:] == distance[:-1])
    ends = np.flatnonzero(run_on) + (ngram - 1)  # the new last piece of a window in a run
    if not _same_pieces(np, table, ends, ends - distance[ends + 1 - ngram]):
        return False
    starts = np.flatnonzero(copy & ~run_on)
    offsets = np.arange(ngram)
    step = max(1, _CHECK_CELLS // ngram)  # a bounded temporary, whatever the size
    for i in range(0, len(starts), step):
        pieces = (starts[i : i + step, None] + offsets).ravel()
        originals = (first[starts[i : i + step], None] + offsets).ravel()
        if not _same_pieces(np, table, pieces, originals):
            return False
    return True


def _same_pieces(np: Any, table: list[Any], a: Any, b: Any) -> bool:
    """Whether piece ``a[i]`` equals piece ``b[i]`` for every ``i``."""
    return all(np.array_equal(column.take(a), column.take(b)) for column in table)


def _exact_copies(np: Any, table: list[Any], ngram: int) -> Any:
    """:func:`_copies` without hashes: rows numbered by a lexicographic sort, twice."""
    ids = _dense_ids(np, table)
    windows = len(ids) - ngram + 1
    window_ids = _dense_ids(np, [ids[k : k + windows] for k in range(ngram)])
    first_seen = np.full(int(window_ids.max()) + 1, windows)
    np.minimum.at(first_seen, window_ids, np.arange(windows))
    return first_seen[window_ids] != np.arange(windows)


def _dense_ids(np: Any, columns: list[Any]) -> Any:
    """Numbers 0..k-1 for the rows given by their columns: equal rows, equal numbers."""
    order = np.lexsort(columns)
    new = np.zeros(len(order), dtype=bool)
    for column in columns:
        ordered = column[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    ids = np.empty(len(order), dtype=np.intp)
    ids[order] = np.cumsum(new)
    return ids


def _row_hash(np: Any, table: list[Any]) -> Any:
    """A 64-bit hash of each row (a polynomial in wrapping arithmetic, then a final mix)."""
    h = table[0].copy()
    mul = np.uint64(_MUL)
    for column in table[1:]:
        h *= mul
        h += column
    return _mix(np, h)


def _window_hash(np: Any, values: Any, ngram: int) -> Any:
    """``sum(values[i+k] * MUL**(ngram-1-k))`` for every window ``i`` (mod 2**64), mixed; by
    doubling, ``O(log ngram)`` passes instead of ``ngram``."""
    spans = {1: values}  # spans[m][i]: the hash of values[i : i+m]
    m = 1
    while 2 * m <= ngram:
        h = spans[m]
        spans[2 * m] = h[:-m] * np.uint64(pow(_MUL, m, 1 << 64)) + h[m:]
        m *= 2
    total, done = spans[m], m
    for size in sorted(spans, reverse=True):  # the binary digits of the rest
        if done + size <= ngram:
            tail = spans[size][done:]
            total = total[: len(tail)] * np.uint64(pow(_MUL, size, 1 << 64)) + tail
            done += size
    return _mix(np, total)


def _mix(np: Any, h: Any) -> Any:
    """A 64-bit finaliser, so that the high bits (which :func:`_copies` sorts on) depend on
    every input bit."""
    h ^= h >> np.uint64(31)
    h *= np.uint64(_MIX)
    h ^= h >> np.uint64(29)
    return h


@functools.lru_cache(maxsize=2)
def _masks(np: Any, width: int) -> Any:
    """``masks[m]``: the low ``m`` characters of a 64-bit word of ``width``-byte characters."""
    per_word = 8 // width
    return np.array([(1 << (8 * width * m)) - 1 for m in range(per_word + 1)], dtype=np.uint64)
