"""The compiled loops behind :mod:`~rlsp_rewards.exploration.compiled` (numba, no GIL).

Importing this module imports numba; :func:`~rlsp_rewards.exploration.compiled.available`
does that, once, and falls back to the numpy scans when it fails. Each kernel is one call per
text, compiled per character width (``uint8`` for ASCII, ``uint32`` otherwise) and cached on
disk by numba.

Example:
    >>> import numpy as np
    >>> space = np.zeros(64, dtype=np.bool_); space[32] = True
    >>> repetition_kernel(np.frombuffer(b"a b a b", dtype=np.uint8), space, 2)
    0.5
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["markers_kernel", "repetition_kernel", "scan_kernel", "scan_kernel_holding_gil"]


def _compiled(nogil: bool) -> Any:
    """numba's decorator, with the machine code cached on disk where numba finds a writable
    place for it (beside this file, or the user's cache folder), else compiled in each process."""

    def decorate(function: Any) -> Any:
        try:
            return numba.njit(nogil=nogil, cache=True)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(nogil=nogil)(function)

    return decorate


_jit = _compiled(nogil=True)

#: The odd 64-bit multipliers of :mod:`~rlsp_rewards.exploration.repetition`'s hashes.
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
#: The longest piece (as in :mod:`~rlsp_rewards.exploration.repetition`).
MAX_PIECE_CHARS = 16
#: The marker tokens that are not a code point (as in
#: :class:`~rlsp_rewards.exploration.compiled.MarkerTable`).
_GAP, _APOSTROPHE, _WAIT_AHEAD = -1, -2, -3


@_jit
def _mix(h: Any) -> Any:
    """A 64-bit finaliser: the hash-table slot (its low bits) depends on every input bit."""
    h ^= h >> np.uint64(31)
    h *= _MIX
    h ^= h >> np.uint64(29)
    return h


@_jit
def _is_space(c: Any, space: Any) -> bool:
    return c < space.shape[0] and space[c]


@_jit
def _table_size(count: int) -> int:
    """Slots of an open-addressing table for ``count`` keys: a power of two, at most half full."""
    size = 2
    while size < 2 * count:
        size *= 2
    return size


@_jit
def _pieces(chars: Any, space: Any) -> tuple[Any, Any]:
    """Start and length of every piece (a word, cut into chunks of 16), in order."""
    n = chars.shape[0]
    starts = np.empty(n, np.int64)
    sizes = np.empty(n, np.int64)
    count = 0
    i = 0
    while i < n:
        if _is_space(chars[i], space):
            i += 1
            continue
        end = i
        while end < n and not _is_space(chars[end], space):
            end += 1
        for start in range(i, end, MAX_PIECE_CHARS):
            starts[count] = start
            sizes[count] = min(MAX_PIECE_CHARS, end - start)
            count += 1
        i = end
    return starts[:count], sizes[:count]


@_jit
def _piece_ids(chars: Any, starts: Any, sizes: Any) -> Any:
    """For each piece, the index of the first piece with the same characters (exact: a
    shared hash is only a hint, the characters decide)."""
    count = starts.shape[0]
    mask = _table_size(count) - 1
    slots = np.full(mask + 1, -1, np.int64)
    ids = np.empty(count, np.int64)
    for q in range(count):
        start, size = starts[q], sizes[q]
        h = np.uint64(size)
        for t in range(start, start + size):
            h = h * _MUL + np.uint64(chars[t])
        slot = np.int64(_mix(h) & np.uint64(mask))
        while True:
            other = slots[slot]
            if other < 0:
                slots[slot] = q
                ids[q] = q
                break
            if sizes[other] == size:
                first = starts[other]
                same = True
                for t in range(size):
                    if chars[first + t] != chars[start + t]:
                        same = False
                        break
                if same:
                    ids[q] = other
                    break
            slot = (slot + 1) & mask
    return ids


@_jit
def repetition_kernel(chars: Any, space: Any, ngram: int) -> float:
    """The repetition of the text of code points ``chars`` (``space[c]``: whether ``c`` is
    whitespace; above the table none is): each piece gets the index of its first copy, each
    window of ``ngram`` of those a hash-table lookup, decided exactly."""
    starts, sizes = _pieces(chars, space)
    count = starts.shape[0]
    windows = count - ngram + 1
    if windows < 1:
        return 0.0
    ids = _piece_ids(chars, starts, sizes)
    mask = _table_size(windows) - 1
    slots = np.full(mask + 1, -1, np.int64)
    power = np.uint64(1)  # _MUL ** (ngram - 1), to drop a window's first piece
    for _ in range(ngram - 1):
        power = power * _MUL
    h = np.uint64(0)
    for t in range(ngram):
        h = h * _MUL + np.uint64(ids[t])
    covered = -1  # the last piece inside a window that is a copy
    repeated = 0
    total = 0
    for w in range(count):
        if w < windows:
            if w > 0:
                h = (h - np.uint64(ids[w - 1]) * power) * _MUL + np.uint64(ids[w + ngram - 1])
            slot = np.int64(_mix(h) & np.uint64(mask))
            while True:
                other = slots[slot]
                if other < 0:
                    slots[slot] = w
                    break
                same = True
                for t in range(ngram):
                    if ids[other + t] != ids[w + t]:
                        same = False
                        break
                if same:
                    covered = w + ngram - 1
                    break
                slot = (slot + 1) & mask
        total += sizes[w]
        if w <= covered:
            repeated += sizes[w]
    return repeated / total


@_jit
def _is_word(c: Any, word: Any) -> bool:
    return c < word.shape[0] and word[c]


@_jit
def _wait_ahead(text: Any, j: int, space: Any) -> bool:
    """``(?=\\s?[,.!?:\\-\\u2014])`` at ``j``."""
    n = text.shape[0]
    if j < n and _is_space(text[j], space):
        j += 1
    if j >= n:
        return False
    c = text[j]
    return c in (44, 46, 33, 63, 58, 45, 0x2014)


@_jit
def _match_end(text: Any, i: int, tokens: Any, begin: int, end: int, space: Any) -> int:
    """Where marker ``tokens[begin:end]`` ends when it matches at ``i``, else -1."""
    n = text.shape[0]
    j = i
    for k in range(begin, end):
        token = tokens[k]
        if token >= 0:
            if j >= n or text[j] != token:
                return -1
            j += 1
        elif token == _GAP:
            if j >= n or not _is_space(text[j], space):
                return -1
            while j < n and _is_space(text[j], space):
                j += 1
        elif token == _APOSTROPHE:
            if j >= n or (text[j] != 39 and text[j] != 0x2019):
                return -1
            j += 1
        elif not _wait_ahead(text, j, space):  # _WAIT_AHEAD
            return -1
    return j


@_jit
def markers_kernel(
    text: Any,
    space: Any,
    word: Any,
    tokens: Any,
    offsets: Any,
    behaviours: Any,
    first: Any,
    last: Any,
) -> Any:
    """The marker counts per behaviour of a lower-cased text: left to right, at each word start
    the markers that begin with its letter (``first[c]`` to ``last[c]``, in the order they are
    tried), the first that matches and ends on a word boundary counts, and the scan goes on
    after it (see :class:`~rlsp_rewards.exploration.compiled.MarkerTable`)."""
    counts = np.zeros(behaviours.max() + 1, np.int64)
    n = text.shape[0]
    i = 0
    while i < n:
        c = text[i]
        found = -1
        if c < 128 and first[c] < last[c] and (i == 0 or not _is_word(text[i - 1], word)):
            for m in range(first[c], last[c]):
                end = _match_end(text, i, tokens, offsets[m], offsets[m + 1], space)
                # the closing \b: a word character on exactly one side of the end
                if end > i and _is_word(text[end - 1], word) != (
                    end < n and _is_word(text[end], word)
                ):
                    counts[behaviours[m]] += 1
                    found = end
                    break
        i = found if found > 0 else i + 1
    return counts


@_jit
def scan_kernel(
    chars: Any,
    lowered: Any,
    ngram: int,
    space: Any,
    word: Any,
    tokens: Any,
    offsets: Any,
    behaviours: Any,
    first: Any,
    last: Any,
) -> tuple[float, Any]:
    """Both scans of one text in one call (the GIL released once): the repetition of
    ``chars`` and the marker counts of ``lowered`` (the lower-cased text)."""
    return (
        repetition_kernel(chars, space, ngram),
        markers_kernel(lowered, space, word, tokens, offsets, behaviours, first, last),
    )


@_compiled(nogil=False)
def scan_kernel_holding_gil(
    chars: Any,
    lowered: Any,
    ngram: int,
    space: Any,
    word: Any,
    tokens: Any,
    offsets: Any,
    behaviours: Any,
    first: Any,
    last: Any,
) -> tuple[float, Any]:
    """:func:`scan_kernel` holding the GIL, for short texts (see
    :data:`~rlsp_rewards.exploration.compiled.RELEASE_GIL_CHARS`)."""
    return scan_kernel(chars, lowered, ngram, space, word, tokens, offsets, behaviours, first, last)
