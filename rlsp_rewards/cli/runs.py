"""Offline scoring of a rollouts file: stream rows, score them in chunks, write JSONL, summarise.

A rollouts file is JSONL (one JSON object per line; ``.jsonl.gz`` is read compressed) or
parquet. The scored output is JSONL, gzip-compressed when its name ends in ``.gz`` (then it
cannot be resumed). Rows are read lazily, scored ``chunk_size`` at a time through the reward's
batch path, and written out as they are done, so memory stays flat however large the file is:
only one chunk and a fixed-size random sample of the results (for percentiles and plots) are held.

Every input row appears in the output, in input order, with the fields it came with plus:

* ``line``: its 1-based line number (row number for parquet; blank lines are not rows);
* ``reward``: the reward's result dict (:data:`~rlsp_rewards.core.RESULT_KEYS`), or
* ``skipped``: why it could not be scored (invalid JSON, nested too deeply, a missing
  field...); an unreadable line keeps its start in ``raw``.

These names (:data:`OUTPUT_FIELDS`) are ours: an input field with one of them is moved under
``input_fields``, so a row can never bring its own ``reward`` or ``skipped`` into the output.

With ``resume=True`` the rows already in the output are kept (and counted in the summary), a
half-written last line is cut off, and scoring goes on after the last line written. Only rows
that read back as ours are kept (a line number past the previous one, and a valid result dict
or a reason); scoring starts again at the first one that does not.

A ``.jsonl.gz`` that is truncated or damaged is read as far as it can be (see
:mod:`rlsp_rewards.cli.lines`); each damaged spot is a skipped row, named in
:attr:`Summary.damage`, and is scored again by a later ``--resume`` (after the file is fixed).

Example:
    >>> import json, pathlib, tempfile
    >>> from rlsp_rewards.exploration.length import LengthExploration
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "in.jsonl").write_text('{"response": "ok", "gold": "1"}\\nnot json\\n')
    >>> summary = score_file(folder / "in.jsonl", LengthExploration(), out=folder / "out.jsonl")
    >>> summary.rows, summary.scored, summary.skipped
    (2, 1, 1)
    >>> json.loads((folder / "out.jsonl").read_text().splitlines()[1])["skipped"][:12]
    'invalid JSON'
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rlsp_rewards.cli.chunks import fixed_chunks, group_ends, whole_group_chunks
from rlsp_rewards.cli.lines import text_lines
from rlsp_rewards.core import (
    COMPONENT_KEYS,
    NUMERIC_KEYS,
    RESULT_KEYS,
    LengthSource,
    RewardResult,
    Sample,
)
from rlsp_rewards.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "DAMAGED",
    "OUTPUT_FIELDS",
    "FieldMap",
    "Row",
    "Summary",
    "build_reward",
    "count_rows",
    "damage_error",
    "input_record",
    "parse_settings",
    "read_rows",
    "score_file",
    "score_with_progress",
]

#: The keys kept per row in the summary's random sample (percentiles, plots).
SAMPLED_KEYS: tuple[str, ...] = (*COMPONENT_KEYS, "length", "effective_length")

_MISSING = object()

#: The fields the output adds to a row; input fields with these names go under ``input_fields``.
OUTPUT_FIELDS: tuple[str, ...] = ("line", "reward", "skipped", "raw", "unwritten", "input_fields")
#: How the ``skipped`` reason of a damaged spot of the input starts (``--resume`` redoes them).
DAMAGED = "damaged input"


class BatchReward(Protocol):
    """Anything with the batch path of :class:`~rlsp_rewards.core.Reward`."""

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]: ...


@dataclasses.dataclass(frozen=True)
class FieldMap:
    """Which field of a row holds what; dotted names reach into nested objects.

    Example:
        >>> fields = FieldMap(gold="reward_model.ground_truth")
        >>> fields.get({"reward_model": {"ground_truth": 7}}, "gold")
        7
    """

    response: str = "response"
    gold: str = "gold"
    prompt: str = "prompt"  #: optional in rows
    data_source: str = "data_source"  #: optional in rows
    tokens: str = "response_tokens"  #: optional in rows: an exact response token count

    def get(self, row: Mapping[str, Any], role: str) -> Any:
        """The value of the field mapped to ``role``, or a private sentinel when missing."""
        value: Any = row
        for part in getattr(self, role).split("."):
            if not isinstance(value, Mapping) or part not in value:
                return _MISSING
            value = value[part]
        return value

    def sample(self, row: Mapping[str, Any]) -> Sample | str:
        """The row as a :class:`Sample`, or the reason it cannot be scored.

        Example:
            >>> FieldMap().sample({"gold": "1"})
            "missing field 'response'"
        """
        for role in ("response", "gold"):
            if self.get(row, role) is _MISSING:
                return f"missing field {getattr(self, role)!r}"
        optional = {role: self.get(row, role) for role in ("prompt", "data_source", "tokens")}
        optional = {k: (None if v is _MISSING else v) for k, v in optional.items()}
        extra = row.get("extra_info")
        return Sample.from_call(
            data_source=optional["data_source"],
            solution_str=self.get(row, "response"),
            ground_truth=self.get(row, "gold"),
            extra_info=extra if isinstance(extra, Mapping) else None,
            prompt=_prompt_text(optional["prompt"]),
            response_tokens=optional["tokens"],
        )


def _prompt_text(prompt: Any) -> str | None:
    """A prompt as text; chat messages (verl's parquet ``prompt`` column) are joined."""
    if isinstance(prompt, list):
        return "\n".join(
            str(m.get("content", "")) if isinstance(m, Mapping) else str(m) for m in prompt
        )
    return prompt


@dataclasses.dataclass(frozen=True)
class Row:
    """One input row: its line number, its fields, or why it could not be read.

    Example:
        >>> Row(3, None, "invalid JSON").data is None
        True
    """

    line: int
    data: dict[str, Any] | None
    problem: str | None = None
    raw: str = ""  #: the start of an unreadable line, kept in the output for inspection
    damaged: bool = False  #: the file itself is damaged here (truncated or corrupt gzip data)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_rows(path: str | os.PathLike[str]) -> Iterator[Row]:
    """Stream the rows of a JSONL or parquet file, never holding more than a small batch.

    Raises:
        ConfigError: when the file does not exist.
        DependencyError: for parquet without pyarrow.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
        >>> _ = path.write_text('{"a": 1}\\n\\n[2]\\n')
        >>> [(r.line, r.problem) for r in read_rows(path)]
        [(1, None), (3, 'not a JSON object (a list)')]
    """
    path = _existing(path)
    if _is_parquet(path):
        yield from _read_parquet(path)
        return
    for number, line in enumerate(text_lines(path), start=1):
        text = line.text
        if line.damage:
            yield Row(number, None, f"{DAMAGED}: {line.damage}", text[:200], damaged=True)
        elif text.strip():
            yield _parse(number, text)


def _parse(number: int, text: str) -> Row:
    """One JSONL line as a row, or the reason it cannot be one; never raises."""
    try:
        data = json.loads(text)
    except RecursionError:
        return Row(number, None, "invalid JSON: nested too deeply to read", text[:200])
    except Exception as exc:  # ValueError, and anything a hostile line could provoke
        return Row(number, None, f"invalid JSON: {str(exc)[:200]}", text[:200])
    if isinstance(data, dict):
        return Row(number, data)
    return Row(number, None, f"not a JSON object (a {type(data).__name__})", text[:200])


def _existing(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"input file {str(path)!r} does not exist (.jsonl, .jsonl.gz, .parquet)")
    return path


def _read_parquet(path: Path) -> Iterator[Row]:
    from rlsp_rewards.errors import require

    require("pyarrow", "parquet")
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=512):
        for data in batch.to_pylist():
            number += 1
            yield Row(number, data)


def count_rows(path: str | os.PathLike[str]) -> int:
    """How many rows :func:`read_rows` will yield (for a progress bar); reads in blocks.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
        >>> _ = path.write_text('{"a": 1}\\n\\n{"a": 2}')
        >>> count_rows(path)
        2
    """
    path = _existing(path)
    if _is_parquet(path):
        from rlsp_rewards.errors import require

        require("pyarrow", "parquet")
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return sum(1 for line in text_lines(path) if line.damage or line.text.strip())


def parse_settings(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as settings; values are read as JSON when they parse, else text.

    Raises:
        ConfigError: for a pair without ``=``.

    Example:
        >>> parse_settings(["C=500", "exploration=judge", "repetition_ngram=null"])
        {'C': 500, 'exploration': 'judge', 'repetition_ngram': None}
    """
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"a setting must look like KEY=VALUE (e.g. C=500), got {pair!r}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        settings[key.strip()] = value
    return settings


def build_reward(
    preset: str = "paper",
    settings: Mapping[str, Any] | None = None,
    judge_url: str | None = None,
    judge_model: str | None = None,
) -> Any:
    """The full RLSP reward for offline scoring: a preset, flat settings, optional judge.

    A judge URL switches the exploration term to the judge unless ``exploration`` is set.

    Raises:
        ConfigError: for an unknown preset or an invalid setting.

    Example:
        >>> build_reward("guarded", {"C": 500}).config.C
        500.0
    """
    from rlsp_rewards.registry import build

    values = dict(settings or {})
    if judge_url:
        values.setdefault("exploration", "judge")
        values["judge_url"] = judge_url
    if judge_model:
        values["judge_model"] = judge_model
    return build("combined", preset=preset, **values)


# -- the summary ------------------------------------------------------------------------------


class Summary:
    """Running totals over scored rows; memory is bounded by ``sample_size``.

    Means, rates and counts are exact; percentiles and plots use a uniform random sample of at
    most ``sample_size`` rows (reservoir sampling, seeded, so runs are repeatable).

    Example:
        >>> s = Summary()
        >>> s.add(RewardResult(score=1.0, acc=1.0, length=10.0).to_dict())
        >>> s.skip(2, "missing field 'gold'")
        >>> s.rows, s.mean("acc"), s.percentile("length", 50)
        (2, 1.0, 10.0)
    """

    def __init__(self, sample_size: int = 10_000) -> None:
        self.scored = 0
        self.skipped = 0
        self.skip_reasons: collections.Counter[str] = collections.Counter()
        self.first_skips: list[tuple[int, str]] = []
        self.damage: list[tuple[int, str]] = []  #: (line, reason) of each damaged spot
        self.sums = dict.fromkeys(NUMERIC_KEYS, 0.0)
        self.nonzero = dict.fromkeys(NUMERIC_KEYS, 0)
        self.length_sources: collections.Counter[str] = collections.Counter()
        self.sample: list[dict[str, float]] = []
        self.sample_size = sample_size
        self.scored_now = 0  #: rows scored by this run (not resumed)
        self.seconds = 0.0  #: time spent scoring in this run
        self._random = random.Random(0)

    @property
    def rows(self) -> int:
        """Every row seen, scored or skipped."""
        return self.scored + self.skipped

    def add(self, result: Mapping[str, Any]) -> None:
        """Count one scored row's result dict."""
        self.scored += 1
        for key in NUMERIC_KEYS:
            value = float(result.get(key, 0.0))
            self.sums[key] += value
            self.nonzero[key] += value != 0.0
        source = int(result.get("length_source", 0))
        self.length_sources[LengthSource(source).name.lower() if source in (0, 1, 2) else "?"] += 1
        kept = {key: float(result.get(key, 0.0)) for key in SAMPLED_KEYS}
        if len(self.sample) < self.sample_size:
            self.sample.append(kept)
        else:
            slot = self._random.randrange(self.scored)
            if slot < self.sample_size:
                self.sample[slot] = kept

    def skip(self, line: int, reason: str) -> None:
        """Count one row that could not be scored (a damaged spot of the file is noted too)."""
        self.skipped += 1
        self.skip_reasons[reason.split(":")[0]] += 1
        if len(self.first_skips) < 10:
            self.first_skips.append((line, reason))
        if reason.startswith(DAMAGED):
            self.damage.append((line, reason.removeprefix(DAMAGED + ": ")))

    def mean(self, key: str) -> float:
        """The exact mean of a numeric key over scored rows (0 when none)."""
        return self.sums[key] / self.scored if self.scored else 0.0

    def rate(self, key: str) -> float:
        """The fraction of scored rows where ``key`` is not 0."""
        return self.nonzero[key] / self.scored if self.scored else 0.0

    def percentile(self, key: str, q: float) -> float:
        """The ``q``-th percentile (0-100) of a sampled key, nearest-rank."""
        values = sorted(row[key] for row in self.sample)
        if not values:
            return 0.0
        rank = max(0, math.ceil(q / 100 * len(values)) - 1)
        return values[min(rank, len(values) - 1)]

    @property
    def judge_used(self) -> bool:
        """True when any row carries a judge grade or a judge failure."""
        return self.nonzero["judge_grade"] > 0 or self.nonzero["judge_failed"] > 0

    @property
    def samples_per_s(self) -> float:
        """Scoring throughput of this run."""
        return self.scored_now / self.seconds if self.seconds > 0 else 0.0


def damage_error(path: str | os.PathLike[str], summary: Summary) -> ConfigError:
    """The error that ends a run over a damaged input: the file, the lines, what to do.

    Example:
        >>> s = Summary()
        >>> s.skip(7, "damaged input: the compressed data ends early: the file is truncated")
        >>> print(damage_error("runs.jsonl.gz", s))  # doctest: +ELLIPSIS
        'runs.jsonl.gz' is damaged at line 7 (the compressed data ends early: ...); ...
    """
    (line, reason), *more = summary.damage
    also = f" and {len(more)} more place(s)" if more else ""
    return ConfigError(
        f"{str(path)!r} is damaged at line {line} ({reason}){also}; the {summary.scored} rows "
        "that could be read were scored (line numbers after a damaged spot count the lines "
        "read). Copy or write the file again, then rerun with the same --out and --resume: the "
        "rows already scored are kept and the damaged ones are scored again"
    )


# -- scoring a file ---------------------------------------------------------------------------


def score_file(
    path: str | os.PathLike[str],
    reward: BatchReward,
    out: str | os.PathLike[str] | None = None,
    fields: FieldMap = FieldMap(),
    resume: bool = False,
    chunk_size: int = 512,
    on_progress: Callable[[int], None] | None = None,
) -> Summary:
    """Score every row of ``path`` with ``reward``, write them to ``out``, return the summary.

    Args:
        path: the rollouts, ``.jsonl`` or ``.parquet``.
        reward: a reward with ``score_batch`` (e.g. :class:`~rlsp_rewards.combine.RlspReward`).
        out: the scored JSONL to write (None: only summarise).
        fields: which row fields hold the response, gold, prompt...
        resume: keep the rows already in ``out`` and score only the rest.
        chunk_size: rows per ``score_batch`` call (with a group shape, at least that many:
            a chunk closes only between whole groups, see :mod:`rlsp_rewards.cli.chunks`).
        on_progress: called with the number of rows just handled (resumed rows included).

    Returns:
        The :class:`Summary` of every row, resumed ones included.

    Raises:
        ConfigError: for a missing input, ``out`` equal to the input, ``resume`` without
            ``out`` or with a group shape, or a bad chunk size.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1 (e.g. 512), got {chunk_size}")
    if resume and out is None:
        raise ConfigError("--resume needs --out: it skips the rows already written there")
    problem = getattr(reward, "per_sample_problem", None)
    grouped = callable(problem) and problem() is not None
    if resume and grouped:
        raise ConfigError(
            "--resume cannot be used with a group shape (exploration kimi or shorter_better): "
            "a resumed run could split a prompt's responses; score the file again without it"
        )
    if out is not None and Path(out).resolve() == Path(path).resolve():
        raise ConfigError(f"--out {str(out)!r} is the input file; write the scores elsewhere")
    compressed = out is not None and str(out).endswith(".gz")
    if resume and compressed:
        raise ConfigError(
            f"--resume needs a plain .jsonl --out (a half-written gzip member cannot be cut "
            f"back), got {str(out)!r}"
        )
    summary = Summary()
    done = _resume(Path(out), summary) if resume and out is not None else 0
    if done and on_progress:
        on_progress(summary.rows)
    writer = None
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        if compressed:
            import gzip

            writer = gzip.open(out, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            writer = open(out, "a" if resume else "w", encoding="utf-8")  # noqa: SIM115
    try:
        rows = (row for row in read_rows(path) if row.line > done)
        if grouped:  # a group shape: every prompt's responses in one batch
            chunks = whole_group_chunks(
                rows, fields, group_ends(read_rows(path), fields), chunk_size
            )
        else:
            chunks = fixed_chunks(rows, chunk_size)
        for chunk in chunks:
            _score_chunk(chunk, reward, fields, summary, writer, on_progress)
    finally:
        if writer is not None:
            writer.close()
    return summary


def score_with_progress(
    path: str | os.PathLike[str],
    reward: BatchReward,
    console: Console,
    label: str = "scoring",
    **options: Any,
) -> Summary:
    """:func:`score_file` with a rich progress bar on ``console`` (removed when done).

    Example:
        >>> import pathlib, tempfile
        >>> from rich.console import Console
        >>> from rlsp_rewards.exploration.length import LengthExploration
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
        >>> _ = path.write_text('{"response": "ok", "gold": "1"}\\n')
        >>> score_with_progress(path, LengthExploration(), Console(quiet=True)).scored
        1
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    shown = console.is_terminal  # a log file gets no bar
    with Progress(*columns, console=console, transient=True, disable=not shown) as progress:
        task = progress.add_task(label, total=count_rows(path))
        return score_file(path, reward, on_progress=lambda n: progress.advance(task, n), **options)


def _score_chunk(
    chunk: list[Row],
    reward: BatchReward,
    fields: FieldMap,
    summary: Summary,
    writer: Any,
    on_progress: Callable[[int], None] | None,
) -> None:
    samples: list[Sample] = []
    reasons: list[str | None] = []
    for row in chunk:
        made = fields.sample(row.data) if row.data is not None else (row.problem or "unreadable")
        if isinstance(made, Sample):
            samples.append(made)
            reasons.append(None)
        else:
            reasons.append(made)
    start = time.perf_counter()
    results = iter(reward.score_batch(samples) if samples else [])
    summary.seconds += time.perf_counter() - start
    summary.scored_now += len(samples)
    lines = []
    for row, reason in zip(chunk, reasons, strict=True):
        ours: dict[str, Any] = {"line": row.line}
        if reason is None:
            result = next(results).to_dict()
            ours["reward"] = result
            summary.add(result)
        else:
            ours["skipped"] = reason
            summary.skip(row.line, reason)
        lines.append(_output_line(row, ours))
    if writer is not None:
        writer.write("\n".join(lines) + "\n")
        writer.flush()
    if on_progress:
        on_progress(len(chunk))


#: Characters that str.splitlines() and some JSONL readers break lines on, legal in JSON strings,
#: and lone surrogates (from escapes such as "\\ud800" in the input), which UTF-8 cannot encode:
#: all written as JSON escapes, which read back as the same string.
_LINE_BREAKS = str.maketrans(
    {code: f"\\u{code:04x}" for code in (*range(0xD800, 0xE000), 0x85, 0x2028, 0x2029)}
)


def _json_line(record: Mapping[str, Any]) -> str:
    """One JSONL line: UTF-8 text kept readable, but nothing any reader takes for a line break."""
    return json.dumps(record, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


def input_record(row: Row) -> dict[str, Any]:
    """A row's own fields as the output keeps them: those named like ours
    (:data:`OUTPUT_FIELDS`) moved under ``input_fields``; an unreadable line as ``raw``.

    Example:
        >>> input_record(Row(1, {"gold": "2", "reward": 9}))
        {'gold': '2', 'input_fields': {'reward': 9}}
    """
    if row.data is None:
        return {"raw": row.raw}
    record = {k: v for k, v in row.data.items() if k not in OUTPUT_FIELDS}
    shadowed = {k: row.data[k] for k in OUTPUT_FIELDS if k in row.data}
    if shadowed:
        record["input_fields"] = shadowed
    return record


def _output_line(row: Row, ours: dict[str, Any]) -> str:
    """The output line of a row: its own fields (ours moved aside), then ours; never raises."""
    record = input_record(row)
    record.update(ours)
    try:
        return _json_line(record)
    except Exception as exc:  # e.g. RecursionError: nested too deeply to write back
        note = f"the row's own fields could not be written back ({type(exc).__name__})"
        return _json_line({**ours, "unwritten": note})


def _resume(out: Path, summary: Summary) -> int:
    """Count the rows already in ``out``, cut a half-written last line; the last line number.

    Reading stops at the first line that is not a whole row of ours (see :func:`_ours`), or
    that marks a damaged spot of the input: it and everything after are scored again.
    """
    if not out.is_file():
        return 0
    last = 0
    keep = 0  # bytes of complete, readable lines
    with out.open("rb") as lines:
        for raw in lines:
            record = _ours(raw, last)
            if record is None:
                break
            keep += len(raw)
            last = record["line"]
            if "reward" in record:
                summary.add(record["reward"])
            else:
                summary.skip(last, record["skipped"])
    if keep < out.stat().st_size:
        with out.open("r+b") as handle:
            handle.truncate(keep)
    return last


def _ours(raw: bytes, last: int) -> dict[str, Any] | None:
    """A written output line read back, or None when it is not a whole, valid row of ours.

    Valid: it ends in a newline, holds a JSON object whose ``line`` is an integer after
    ``last``, and exactly one of ``reward`` (a dict with every result key, finite numbers and a
    string ``pred``) and ``skipped`` (a reason that is not a damaged spot of the input).
    """
    if not raw.endswith(b"\n"):
        return None
    try:
        record = json.loads(raw)
    except Exception:  # ValueError, RecursionError
        return None
    if not isinstance(record, dict):
        return None
    line = record.get("line")
    if type(line) is not int or line <= last or ("reward" in record) == ("skipped" in record):
        return None
    if "skipped" in record:
        reason = record["skipped"]
        ok = isinstance(reason, str) and not reason.startswith(DAMAGED)
        return record if ok else None
    return record if _is_result(record["reward"]) else None


def _is_result(value: Any) -> bool:
    """Whether a value is a result dict as :meth:`RewardResult.to_dict` writes it."""
    if not isinstance(value, dict) or set(value) != set(RESULT_KEYS):
        return False
    if not isinstance(value["pred"], str):
        return False
    numbers = [value[key] for key in NUMERIC_KEYS]
    return all(type(v) in (int, float) and math.isfinite(v) for v in numbers)
