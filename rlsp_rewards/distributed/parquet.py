"""Writing one shard's scored rows to Parquet: fixed result columns, input columns as they come.

Every output file has the input's columns (in the order first seen) and then three of ours:

* ``line`` (int64): the row's 1-based line number in its shard (row number for Parquet input);
* ``reward`` (a struct of :data:`~rlsp_rewards.core.RESULT_KEYS`: float64, ``pred`` a string),
  null when the row could not be scored;
* ``skipped`` (string): why the row could not be scored, null when it was.

An unreadable JSONL line keeps its start in a ``raw`` column. Input fields named like the
output's own (``line``, ``reward``, ``skipped``, ``raw``, ``unwritten``, ``input_fields``) are
kept in an ``input_fields`` struct column, as ``rlsp-rewards score`` keeps them in JSONL.

JSONL has no schema: a field may be ``42`` in one row and ``"42"`` in another, or gain keys
halfway through a file. Each column keeps the type Arrow infers; when rows disagree, numbers
widen (int64 to float64), structs merge their fields, and anything else becomes text (strings
as they are, other values as JSON). A column that changes type after rows were written has the
file rewritten once with the wider type, row group by row group, so memory stays bounded.

The file is written under a temporary name in the target folder and renamed when complete:
a file at the target name is always whole.

Example:
    >>> import pathlib, tempfile
    >>> import pyarrow.parquet as pq
    >>> from rlsp_rewards.cli.runs import Row
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "s.parquet"
    >>> with ShardWriter(target, {"source": "s.jsonl"}) as writer:
    ...     writer.write([Row(1, {"gold": 42}), Row(2, {"gold": "x"})], [{"score": 1.0}, "bad"])
    ...     rows = writer.commit()
    >>> table = pq.read_table(target)
    >>> rows, table.column_names, table.column("gold").to_pylist()
    (2, ['gold', 'line', 'reward', 'skipped'], ['42', 'x'])
    >>> read_metadata(target)["source"], table.column("skipped").to_pylist()
    ('s.jsonl', [None, 'bad'])
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rlsp_rewards.core import NUMERIC_KEYS
from rlsp_rewards.errors import require

if TYPE_CHECKING:
    import pyarrow as pa

    from rlsp_rewards.cli.runs import Row

__all__ = ["OWN_COLUMNS", "ShardWriter", "read_metadata", "read_outcomes", "records_table"]

#: The columns every output file ends with, in order.
OWN_COLUMNS: tuple[str, ...] = ("line", "reward", "skipped")
#: The schema metadata key holding the job's description of the file (JSON).
METADATA_KEY = b"rlsp_rewards"
#: Rows gathered before a row group is written.
ROW_GROUP_ROWS = 8192


def _pa() -> Any:
    require("pyarrow", "ray")
    import pyarrow

    return pyarrow


def result_type() -> pa.DataType:
    """The Arrow type of the ``reward`` column: every result key, always.

    Example:
        >>> result_type().field("pred").type
        DataType(string)
    """
    pa = _pa()
    return pa.struct([(k, pa.float64()) for k in NUMERIC_KEYS] + [("pred", pa.string())])


def _utf8(text: str) -> str:
    """Text Arrow accepts: lone surrogates (from JSON escapes like "\\ud800") written escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _as_text(values: Sequence[Any]) -> pa.Array:
    """A text column: strings as they are, other values as JSON, nulls kept."""
    pa = _pa()
    texts = [
        None
        if v is None
        else _utf8(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))
        for v in values
    ]
    return pa.array(texts, pa.string())


def _writable(kind: pa.DataType) -> bool:
    """False for types Parquet cannot store (a struct without fields, at any depth)."""
    pa = _pa()
    if pa.types.is_struct(kind):
        return kind.num_fields > 0 and all(
            _writable(kind.field(i).type) for i in range(kind.num_fields)
        )
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _writable(kind.value_type)
    if pa.types.is_map(kind):
        return _writable(kind.key_type) and _writable(kind.item_type)
    return True


def _column(values: Sequence[Any]) -> pa.Array:
    """Values as one Arrow column: the inferred type when the rows agree, else text."""
    pa = _pa()
    try:
        array = pa.array(values)
    except Exception:  # mixed types, huge integers, lone surrogates: text is always possible
        return _as_text(values)
    return array if _writable(array.type) else _as_text(values)


def _rewards(outcomes: Sequence[Mapping[str, Any] | str]) -> pa.Array:
    pa = _pa()
    values = [o if not isinstance(o, str) else None for o in outcomes]
    try:
        return pa.array(values, result_type())
    except Exception:  # a pred with a lone surrogate
        safe = [None if v is None else {**v, "pred": _utf8(str(v.get("pred", "")))} for v in values]
        return pa.array(safe, result_type())


def records_table(rows: Sequence[Row], outcomes: Sequence[Mapping[str, Any] | str]) -> pa.Table:
    """The output rows of one chunk: input fields, then ``line``, ``reward`` and ``skipped``.

    Args:
        rows: the input rows (:class:`~rlsp_rewards.cli.runs.Row`).
        outcomes: per row, its result dict, or the reason it was not scored.

    Example:
        >>> from rlsp_rewards.cli.runs import Row
        >>> records_table([Row(3, None, "invalid JSON", "{oops")], ["invalid JSON"]).column_names
        ['raw', 'line', 'reward', 'skipped']
    """
    from rlsp_rewards.cli.runs import input_record

    pa = _pa()
    datas = [input_record(row) for row in rows]
    names = [n for n in dict.fromkeys(k for d in datas for k in d) if n not in OWN_COLUMNS]
    columns = {name: _column([d.get(name) for d in datas]) for name in names}
    columns["line"] = pa.array([row.line for row in rows], pa.int64())
    columns["reward"] = _rewards(outcomes)
    reasons = [o if isinstance(o, str) else None for o in outcomes]
    columns["skipped"] = pa.array([None if r is None else _utf8(r) for r in reasons], pa.string())
    return pa.table(columns)


def _merged_type(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """The narrowest type holding both: equal, the non-null one, numbers widened, structs merged;
    text when nothing else fits."""
    pa = _pa()
    if old == new or pa.types.is_null(new):
        return old
    if pa.types.is_null(old):
        return new
    try:
        both = [pa.schema([("c", old)]), pa.schema([("c", new)])]
        kind = pa.unify_schemas(both, promote_options="permissive").field("c").type
    except Exception:  # e.g. int64 and string
        return pa.string()
    return kind if _writable(kind) else pa.string()


def merge_schemas(old: pa.Schema, new: pa.Schema) -> pa.Schema:
    """``old`` with ``new``'s columns added and disagreeing types widened; ours stay last.

    Example:
        >>> import pyarrow as pa
        >>> merge_schemas(pa.schema([("a", pa.int64())]), pa.schema([("a", pa.float64())]))
        a: double
    """
    pa = _pa()
    kinds = {f.name: f.type for f in old}
    for field in new:
        kinds[field.name] = _merged_type(kinds.get(field.name, pa.null()), field.type)
    order = [n for n in kinds if n not in OWN_COLUMNS] + [n for n in OWN_COLUMNS if n in kinds]
    return pa.schema([(name, kinds[name]) for name in order])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns, in its order and types (missing ones null)."""
    pa = _pa()
    if table.schema == schema:
        return table
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(field.name)
        if column.type == field.type:
            arrays.append(column)
        elif pa.types.is_string(field.type):
            arrays.append(_as_text(column.to_pylist()))
        else:
            arrays.append(column.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class ShardWriter:
    """A Parquet file written under a temporary name and renamed to ``target`` by :meth:`commit`.

    Leaving the ``with`` block without :meth:`commit` (an exception, a retry) removes the
    temporary file; nothing is ever left at ``target`` half written.

    Args:
        target: the final path.
        metadata: JSON-able facts stored in the file's schema metadata (see
            :func:`read_metadata`).
        row_group_rows: rows gathered before a row group is written.

    Example:
        >>> import pathlib, tempfile
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "empty.parquet"
        >>> with ShardWriter(target, {}) as writer:
        ...     writer.commit()
        0
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        metadata: Mapping[str, Any],
        row_group_rows: int = ROW_GROUP_ROWS,
    ) -> None:
        self.target = Path(target)
        self.rows = 0
        self._metadata = {METADATA_KEY: json.dumps(dict(metadata)).encode()}
        self._row_group_rows = row_group_rows
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: Any = None
        self._temp = self._temp_name()
        self.target.parent.mkdir(parents=True, exist_ok=True)

    def _temp_name(self) -> Path:
        return self.target.parent / f".{self.target.name}.{uuid.uuid4().hex[:12]}.tmp"

    def write(self, rows: Sequence[Row], outcomes: Sequence[Mapping[str, Any] | str]) -> None:
        """Add one chunk of rows and their outcomes (result dicts or skip reasons)."""
        table = records_table(rows, outcomes)
        if self._schema is None:
            self._schema = table.schema
        elif table.schema != self._schema:
            merged = merge_schemas(self._schema, table.schema)
            if merged != self._schema:
                self._widen(merged)
            table = conform(table, merged)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self._row_group_rows:
            self._flush()

    def commit(self) -> int:
        """Finish the file and rename it to ``target``; the number of rows written."""
        if self._schema is None:
            self._schema = records_table([], []).schema
        self._flush(always=True)
        self._writer.close()
        self._writer = None
        os.replace(self._temp, self.target)
        return self.rows

    def abort(self) -> None:
        """Drop the temporary file (nothing happens at ``target``)."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # a broken file is removed just below anyway
                pass
            self._writer = None
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()  # after commit() there is no temporary file left: a no-op

    # -- the pieces ---------------------------------------------------------------------------

    def _open(self, path: Path, schema: pa.Schema) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema.with_metadata(self._metadata))

    def _flush(self, always: bool = False) -> None:
        if not self._pending and not always:
            return
        assert self._schema is not None
        if self._writer is None:
            self._writer = self._open(self._temp, self._schema)
        if self._pending:
            self._writer.write_table(_pa().concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0

    def _widen(self, schema: pa.Schema) -> None:
        """Switch to a wider schema; rows already written are copied over once."""
        import pyarrow.parquet as pq

        self._pending = [conform(t, schema) for t in self._pending]
        if self._writer is not None:
            self._writer.close()
            old, self._temp = self._temp, self._temp_name()
            self._writer = self._open(self._temp, schema)
            written = pq.ParquetFile(old)
            for group in range(written.num_row_groups):
                table = written.read_row_group(group).replace_schema_metadata(None)
                self._writer.write_table(conform(table, schema))
            old.unlink()
        self._schema = schema


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The facts a :class:`ShardWriter` stored in ``path``; None when it has none or is broken.

    Example:
        >>> read_metadata("/no/such.parquet") is None
        True
    """
    try:
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
        return json.loads(metadata[METADATA_KEY])
    except Exception:  # missing, unreadable, or not one of ours: all mean "not done"
        return None


def read_outcomes(
    path: str | os.PathLike[str],
) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    """``(line, reward dict or None, skip reason or None)`` for each row of an output file.

    Example:
        >>> import pathlib, tempfile
        >>> from rlsp_rewards.cli.runs import Row
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "s.parquet"
        >>> with ShardWriter(target, {}) as writer:
        ...     writer.write([Row(1, {})], ["missing field 'response'"])
        ...     _ = writer.commit()
        >>> list(read_outcomes(target))
        [(1, None, "missing field 'response'")]
    """
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS, columns=OWN_COLUMNS):
        columns = batch.to_pydict()
        yield from zip(columns["line"], columns["reward"], columns["skipped"], strict=True)
