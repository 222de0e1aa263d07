"""Chunks of rows for offline scoring: fixed-size, or closed only between whole groups.

A group shape (``exploration`` ``kimi`` or ``shorter_better``) scores a response against the
other responses to its prompt, so ``rlsp-rewards score`` must hand each prompt's responses to
the reward in one batch. :func:`whole_group_chunks` keeps input order and closes a chunk only
once every group it holds is complete; it knows where each group ends from a first pass over
the file (:func:`group_ends`, which keeps 16 bytes per prompt). Memory is the open chunk: a file
sorted by prompt needs one chunk at a time, a file that interleaves every prompt with every
other is read whole.

Example:
    >>> from rlsp_rewards.cli.runs import FieldMap, Row
    >>> rows = [Row(i, {"response": "", "gold": "1", "prompt": p}) for i, p in enumerate("aabb", 1)]
    >>> ends = group_ends(rows, FieldMap())
    >>> [[r.line for r in chunk] for chunk in whole_group_chunks(rows, FieldMap(), ends, 1)]
    [[1, 2], [3, 4]]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from rlsp_rewards.core import Sample
from rlsp_rewards.exploration.group_shapes import group_key

if TYPE_CHECKING:
    from rlsp_rewards.cli.runs import FieldMap, Row

__all__ = ["fixed_chunks", "group_ends", "whole_group_chunks"]


def fixed_chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Consecutive chunks of ``size`` rows (the last one shorter).

    Example:
        >>> [len(c) for c in fixed_chunks(range(5), 2)]
        [2, 2, 1]
    """
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _group_of(row: Row, fields: FieldMap) -> bytes | None:
    """A row's group as a 16-byte digest (of its prompt id or prompt), or None without one."""
    if row.data is None:
        return None
    sample = fields.sample(row.data)
    key = group_key(sample) if isinstance(sample, Sample) else None
    if key is None:
        return None
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def group_ends(rows: Iterable[Row], fields: FieldMap) -> dict[bytes, int]:
    """The line of each group's last row (the first pass of :func:`whole_group_chunks`).

    Example:
        >>> from rlsp_rewards.cli.runs import FieldMap, Row
        >>> rows = [Row(1, {"response": "", "gold": 1, "prompt": "p"}), Row(2, None, "bad JSON")]
        >>> list(group_ends(rows, FieldMap()).values())
        [1]
    """
    ends: dict[bytes, int] = {}
    for row in rows:
        group = _group_of(row, fields)
        if group is not None:
            ends[group] = row.line
    return ends


def whole_group_chunks(
    rows: Iterable[Row], fields: FieldMap, ends: dict[bytes, int], size: int
) -> Iterator[list[Row]]:
    """Chunks in input order, each at least ``size`` rows (but the last) and holding every row
    of each group it touches; rows without a group (unreadable, no prompt) go along.

    Example:
        >>> from rlsp_rewards.cli.runs import FieldMap, Row
        >>> rows = [Row(i, {"response": "", "gold": 1, "prompt": p}) for i, p in enumerate("aba")]
        >>> ends = group_ends(rows, FieldMap())
        >>> [len(c) for c in whole_group_chunks(rows, FieldMap(), ends, 1)]  # a is open until 2
        [3]
    """
    chunk: list[Row] = []
    horizon = 0  # the last line any group in the chunk reaches
    for row in rows:
        chunk.append(row)
        group = _group_of(row, fields)
        if group is not None:
            horizon = max(horizon, ends.get(group, row.line))
        if len(chunk) >= size and row.line >= horizon:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
