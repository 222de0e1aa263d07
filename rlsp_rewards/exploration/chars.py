"""A text as a numpy array of its characters, for the measures that scan every character.

The repetition detector and the behaviour scan work on whole responses (up to megabytes), so
they run as a few vectorised passes over the characters instead of a Python step per word. A
text becomes one array of code points: ``uint8`` when it is ASCII (a copy of its bytes), else
``uint32`` (UTF-32, lone surrogates kept as their own code unit, as ``str`` holds them). Either
way element ``i`` is character ``text[i]``, so positions and lengths are the ``str``'s own.

Whitespace is exactly what ``str.split()`` and the regular expression ``\\s`` split on
(``str.isspace``): the table is computed from Python's own Unicode database when first needed;
no whitespace character lies above U+3000.

numpy is imported on first use, not with the package (``import rlsp_rewards`` stays light);
:func:`warm_up` imports it ahead of time.

Example:
    >>> chars = code_points("a b\\u3000c")
    >>> chars.tolist(), is_space(chars).tolist()
    ([97, 32, 98, 12288, 99], [False, True, False, True, False])
"""

from __future__ import annotations

import functools
import re
from types import ModuleType
from typing import Any

__all__ = [
    "PAD",
    "code_points",
    "is_space",
    "numpy",
    "padded_bytes",
    "space_table",
    "warm_up",
    "word_table",
]

#: Characters of zero padding :func:`padded_bytes` adds after the text.
PAD = 16
#: The highest whitespace code point (U+3000, the ideographic space).
_MAX_SPACE = 0x3000


@functools.lru_cache(maxsize=1)
def numpy() -> ModuleType:
    """The numpy module, imported once, on first use.

    Example:
        >>> numpy().__name__
        'numpy'
    """
    import numpy as np

    return np


def warm_up() -> None:
    """Import numpy and build the tables now, so that no sample pays for it.

    Example:
        >>> warm_up()
    """
    space_table()


def padded_bytes(text: str) -> tuple[bytes, int]:
    """The text's characters as bytes (1 per character if ASCII, else 4, little-endian), plus
    :data:`PAD` zero characters; and the width of one character in bytes.

    Example:
        >>> padded_bytes("ab")
        (b'ab\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00', 1)
    """
    if text.isascii():
        return text.encode("ascii") + bytes(PAD), 1
    return text.encode("utf-32-le", "surrogatepass") + bytes(4 * PAD), 4


def code_points(text: str) -> Any:
    """The code points of ``text`` as an array: ``uint8`` for ASCII text, else ``uint32``.

    Example:
        >>> code_points("h\\u00e9").tolist(), code_points("ab").dtype.name
        ([104, 233], 'uint8')
    """
    np = numpy()
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def is_space(chars: Any) -> Any:
    """A boolean array: which of the code points are whitespace (``str.isspace``).

    Example:
        >>> is_space(code_points("\\u00a0x\\n")).tolist()
        [True, False, True]
    """
    np = numpy()
    # ASCII whitespace is 9-13, 28-31 and 32: three comparisons beat a table lookup.
    low = chars <= 32
    space = low & ((chars >= 28) | ((chars >= 9) & (chars <= 13)))
    if chars.dtype != np.uint8:
        wide = np.flatnonzero(chars > 127)  # few in most texts: look them up one by one
        if wide.size:
            space[wide] = space_table().take(np.minimum(chars[wide], _MAX_SPACE + 1))
    return space


@functools.lru_cache(maxsize=1)
def space_table() -> Any:
    """``table[c]``: whether ``chr(c)`` is whitespace, for every c up to U+3001 (none above).

    Example:
        >>> bool(space_table()[0x3000]), len(space_table())
        (True, 12290)
    """
    np = numpy()
    return np.array([chr(c).isspace() for c in range(_MAX_SPACE + 2)], dtype=bool)


@functools.lru_cache(maxsize=1)
def word_table() -> Any:
    """``table[c]``: whether ``chr(c)`` is a word character as the regular expression ``\\w``
    (and so ``\\b``) reads it, for every code point; asked of :mod:`re` itself, once (about
    0.03 s).

    Example:
        >>> table = word_table()
        >>> [bool(table[ord(c)]) for c in "a_1\u00e9\u4e00 -"]
        [True, True, True, True, True, False, False]
    """
    np = numpy()
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    table = np.zeros(len(every), dtype=bool)
    for run in re.finditer(r"\w+", every):
        table[run.start() : run.end()] = True
    return table
