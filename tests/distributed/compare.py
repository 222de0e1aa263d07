"""Reading scored output back, local JSONL and Ray Parquet alike, for row-by-row comparisons."""

from __future__ import annotations

import json
from pathlib import Path

from rlsp_rewards.core import STATUS_KEYS

#: What must agree between the local path and Ray, row for row.
COMPARED = ("score", "acc", *STATUS_KEYS)


def local_rows(path: Path) -> list[tuple[int, tuple | None, str | None]]:
    """(line, compared reward values or None, skip reason or None) of a local JSONL output."""
    rows = []
    for text in path.read_text().splitlines():
        record = json.loads(text)
        reward = record.get("reward")
        values = tuple(reward[k] for k in COMPARED) if "skipped" not in record else None
        rows.append((record["line"], values, record.get("skipped")))
    return rows


def ray_rows(path: Path) -> list[tuple[int, tuple | None, str | None]]:
    """The same from a shard written by ``score_dataset``."""
    from rlsp_rewards.distributed.parquet import read_outcomes

    return [
        (line, None if reward is None else tuple(reward[k] for k in COMPARED), reason)
        for line, reward, reason in read_outcomes(path)
    ]
