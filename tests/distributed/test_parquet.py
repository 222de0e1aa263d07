"""The shard writer: schemaless JSONL rows into one Parquet file, never half written."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rlsp_rewards.cli.runs import Row, input_record
from rlsp_rewards.core import RESULT_KEYS, RewardResult
from rlsp_rewards.distributed.parquet import ShardWriter, read_metadata, read_outcomes

RESULT = RewardResult(score=0.6, acc=1.0, pred="4").to_dict()


def _write(path: Path, chunks: list[list[dict]], row_group_rows: int = 8192) -> list[dict]:
    line = 0
    with ShardWriter(path, {"source": "x"}, row_group_rows=row_group_rows) as writer:
        for chunk in chunks:
            rows = []
            for data in chunk:
                line += 1
                rows.append(Row(line, data))
            writer.write(rows, [RESULT] * len(rows))
        writer.commit()
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize(
    ("chunks", "column", "expected"),
    [
        # the same types throughout: kept
        ([[{"n": 1}], [{"n": 2}]], "n", [1, 2]),
        # int, then float in a later chunk: widened, earlier rows rewritten
        ([[{"n": 1}], [{"n": 2.5}]], "n", [1.0, 2.5]),
        # a number and a string in one chunk: text
        ([[{"g": 42}, {"g": "42"}]], "g", ["42", "42"]),
        # ... or in different chunks, after rows were written
        ([[{"g": 42}], [{"g": "x"}]], "g", ["42", "x"]),
        # a field that appears halfway: null before
        ([[{"a": 1}], [{"a": 2, "b": "new"}]], "b", [None, "new"]),
        # nested objects gaining keys: structs merge
        (
            [[{"e": {"x": 1}}], [{"e": {"y": "z"}}]],
            "e",
            [{"x": 1, "y": None}, {"x": None, "y": "z"}],
        ),
        # an empty object (Parquet has no empty struct): text
        ([[{"e": {}}, {"e": {}}]], "e", ["{}", "{}"]),
        # an integer past int64: text
        ([[{"n": 10**30}]], "n", [str(10**30)]),
        # a lone surrogate from a JSON escape: written escaped
        ([[{"s": "a\ud800b"}]], "s", ["a\\ud800b"]),
    ],
)
def test_columns_take_the_type_all_rows_fit(tmp_path, chunks, column, expected) -> None:
    table = _write(tmp_path / "s.parquet", chunks, row_group_rows=1)
    assert [row[column] for row in table] == expected
    assert [row["line"] for row in table] == list(range(1, len(expected) + 1))
    assert all(list(row["reward"]) == list(RESULT_KEYS) for row in table)


def test_input_fields_named_like_ours_are_kept_aside(tmp_path) -> None:
    row = {"line": "x", "reward": 3, "skipped": 1, "raw": "r", "k": 0}
    table = _write(tmp_path / "s.parquet", [[row]])
    assert list(table[0]) == ["k", "input_fields", "line", "reward", "skipped"]
    assert table[0]["line"] == 1 and table[0]["reward"]["pred"] == "4"
    # nothing lost, and as the local path writes it (rlsp-rewards score's JSONL)
    assert table[0]["input_fields"] == {"line": "x", "reward": 3, "skipped": 1, "raw": "r"}
    assert input_record(Row(1, row))["input_fields"] == table[0]["input_fields"]


def test_nothing_is_at_the_target_until_commit(tmp_path) -> None:
    target = tmp_path / "s.parquet"
    with pytest.raises(RuntimeError), ShardWriter(target, {}, row_group_rows=1) as writer:
        writer.write([Row(1, {"a": 1})], [RESULT])
        raise RuntimeError("the actor dies here")
    assert list(tmp_path.iterdir()) == []  # no target, no temporary file


def test_outcomes_and_metadata_read_back(tmp_path) -> None:
    target = tmp_path / "s.parquet"
    with ShardWriter(target, {"source": "in.jsonl", "size": 7}) as writer:
        writer.write([Row(1, {}), Row(2, None, "invalid JSON", "{x")], [RESULT, "invalid JSON"])
        writer.commit()
    assert read_metadata(target) == {"source": "in.jsonl", "size": 7}
    (line1, reward, none), (line2, nothing, reason) = read_outcomes(target)
    assert (line1, reward["acc"], none, line2, nothing, reason) == (
        1,
        1.0,
        None,
        2,
        None,
        "invalid JSON",
    )
