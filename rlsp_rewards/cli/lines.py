"""The lines of a JSONL file, plain or gzip-compressed, read as far as its damage allows.

A ``.jsonl.gz`` that was cut short (an interrupted copy or write) or damaged in the middle
makes :mod:`gzip` raise at the damage and lose everything read with the current block. Here
compressed data is decompressed in small pieces, so every line before the damage is read; at
the damage the line in progress becomes a :class:`Line` with a ``damage`` reason, and reading
goes on where the format allows: at the next gzip member (a file written by several
``gzip`` runs or appends has one member per run). Inside one member nothing after the damage
can be recovered: deflate has no resynchronisation points.

Lines end at ``\\n`` only (JSONL's separator; a bare ``\\r`` is JSON whitespace inside a row),
a UTF-8 byte order mark at the start is dropped, and bad UTF-8 is replaced.

Example:
    >>> import gzip, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl.gz"
    >>> data = gzip.compress(b'{"a": 1}\\n{"a": 2}\\n' * 1000)
    >>> _ = path.write_bytes(data[: len(data) // 2])  # cut short
    >>> lines = list(text_lines(path))
    >>> lines[0].text, lines[-1].damage.startswith("the compressed data ends early")
    ('{"a": 1}\\n', True)
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["Line", "text_lines"]

_MAGIC = b"\x1f\x8b\x08"  # a gzip member header: ID1, ID2, deflate
_PIECE = 64 * 1024  # compressed bytes fed at a time: the most one damaged spot can lose


@dataclasses.dataclass(frozen=True, slots=True)
class Line:
    """One line of text; ``damage`` says why it is incomplete (``""``: it is whole).

    Example:
        >>> Line("{}\\n").damage
        ''
    """

    text: str
    damage: str = ""


def text_lines(path: Path) -> Iterator[Line]:
    """Every line of ``path`` (gzip-compressed when it ends in ``.gz``), damage marked.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
        >>> _ = path.write_bytes(b'\\xef\\xbb\\xbf{"a": 1}\\n{"b":\\r 2}')
        >>> [line.text for line in text_lines(path)]
        ['{"a": 1}\\n', '{"b":\\r 2}']
    """
    if path.suffix.lower() == ".gz":
        yield from _split(_gzip_pieces(path))
        return
    with path.open(encoding="utf-8-sig", errors="replace", newline="\n") as handle:
        for text in handle:
            yield Line(text)


def _split(pieces: Iterator[bytes | str]) -> Iterator[Line]:
    """Lines from decompressed bytes; a ``str`` item is damage: it ends the line in progress."""
    partial = b""
    first = True
    for piece in pieces:
        if isinstance(piece, str):
            yield Line(_decode(partial, first), piece)
            partial, first = b"", False
            continue
        *whole, partial = (partial + piece).split(b"\n")
        for raw in whole:
            yield Line(_decode(raw + b"\n", first))
            first = False
    if partial:
        yield Line(_decode(partial, first))


def _decode(raw: bytes, first: bool) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff") if first else text


def _gzip_pieces(path: Path) -> Iterator[bytes | str]:
    """Decompressed bytes of every gzip member; a ``str`` (the reason) wherever data is lost."""
    with path.open("rb") as handle:
        source = _Compressed(handle)
        while source.fill():
            if not source.buffer.strip(b"\0"):  # padding between or after members
                source.drop(len(source.buffer))
                continue
            if not source.buffer.startswith(_MAGIC):
                yield f"not gzip data at byte {source.offset}; skipped to the next gzip member"
                source.skip_to_member()
                continue
            yield from _member(source)


def _member(source: _Compressed) -> Iterator[bytes | str]:
    """One gzip member from its header on: its bytes, then a reason if it was cut or damaged."""
    decompressor = zlib.decompressobj(wbits=31)
    while True:
        piece = source.buffer[:_PIECE]
        try:
            out = decompressor.decompress(piece)
        except zlib.error as exc:
            yield (
                f"damaged compressed data near byte {source.offset} ({exc}); "
                "skipped to the next gzip member"
            )
            source.drop(1)
            source.skip_to_member()
            return
        if out:
            yield out
        if decompressor.eof:  # the member ended here; what follows is the next one's
            source.drop(len(piece) - len(decompressor.unused_data))
            return
        source.drop(len(piece))
        if not source.fill():
            tail = decompressor.flush()
            if tail:
                yield tail
            yield "the compressed data ends early: the file is truncated"
            return


class _Compressed:
    """The compressed file as a sliding buffer, with the file offset of its first byte."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.buffer = b""
        self.offset = 0
        self.ended = False

    def fill(self) -> bool:
        """Read on until a piece is buffered (or the file ends); True while bytes remain."""
        while not self.ended and len(self.buffer) < _PIECE:
            more = self.handle.read(_PIECE)
            self.ended = not more
            self.buffer += more
        return bool(self.buffer)

    def drop(self, count: int) -> None:
        self.offset += count
        self.buffer = self.buffer[count:]

    def skip_to_member(self) -> None:
        """Drop bytes up to the next gzip member header (all of them when there is none)."""
        start = 1  # the damaged byte (or the bad header) itself is not a header
        while True:
            found = self.buffer.find(_MAGIC, start)
            if found >= 0:
                self.drop(found)
                return
            keep = 0 if self.ended else len(_MAGIC) - 1  # a header may straddle two reads
            self.drop(max(0, len(self.buffer) - keep))
            if self.ended or not self.fill():
                self.drop(len(self.buffer))
                return
            start = 0
