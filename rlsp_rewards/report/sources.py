"""Reading a run: verl's rollout dumps and our scored files, one :class:`Rollout` at a time.

Two layouts are read, and may be mixed in one folder:

* **verl 0.9.1 rollout dumps** (``trainer.rollout_data_dir``; ``trainer.validation_data_dir``
  has the same layout): the trainer's ``_write_generations`` writes one ``{step}.jsonl`` per
  step, a line per rollout with ``input`` (the decoded prompt), ``output`` (the decoded
  response), ``gts`` (the ground truth), ``score`` (the summed token-level reward), ``step``
  (the global step), and one column per key the reward function returned, so a run that used
  our reward has every :data:`~rlsp_rewards.core.RESULT_KEYS` column (verl copies ``score``
  too: it is our reward's own). verl does not dump ``data_source``; a row that has one is read.
* **our scored files** (``rlsp-rewards score`` outputs): every input row plus ``line`` and
  ``reward`` (the result dict), or ``skipped`` (why it could not be scored).

A row's step is its ``step`` field; else the last number in its file's name (``12.jsonl``,
``scored-step12.jsonl.gz``); else 0, so a file without steps (the demo sample) is one step.

A row carries our reward's result when it has a ``reward`` dict or the columns
:data:`RESULT_MARKERS`. A run scored by another reward (or by verl's v1 trainer, whose dumps have
no reward columns) is re-scored: pass a reward, and every row is scored again through its batch
path, the response, gold and prompt read from ``output``/``gts``/``input`` (verl) or
``response``/``gold``/``prompt`` (ours; ``problem`` when there is no ``prompt``).

Memory stays flat: rows are read lazily and re-scored ``chunk_size`` at a time.

Example:
    >>> import json, pathlib, tempfile
    >>> from rlsp_rewards.core import RewardResult
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> row = {"input": "1+1?", "output": "\\\\boxed{2}", "gts": "2", "step": 3,
    ...        **RewardResult(score=0.6, acc=1.0, outcome=1.0).to_dict()}
    >>> _ = (run / "3.jsonl").write_text(json.dumps(row) + "\\n")
    >>> [(r.step, r.result["acc"], r.response) for r in RunReader(run)]
    [(3, 1.0, '\\\\boxed{2}')]
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rlsp_rewards.cli.runs import BatchReward, FieldMap, Row, count_rows, read_rows
from rlsp_rewards.core import NUMERIC_KEYS, Sample, as_text
from rlsp_rewards.errors import ConfigError

__all__ = ["RESULT_MARKERS", "Rollout", "RunReader", "file_step", "run_files"]

#: Columns only our reward writes: a row with all of them carries our result.
RESULT_MARKERS: tuple[str, ...] = ("outcome", "length_term", "no_answer")
#: The file names read in a run folder.
SUFFIXES: tuple[str, ...] = (".jsonl", ".jsonl.gz", ".parquet")

_VERL_FIELDS = FieldMap(response="output", gold="gts", prompt="input")
_OUR_FIELDS = FieldMap()
_PROBLEM_FIELDS = FieldMap(prompt="problem")  # the demo sample's layout
_NUMBER = re.compile(r"(\d+)")


@dataclasses.dataclass(frozen=True, slots=True)
class Rollout:
    """One scored response of a run, as the report uses it.

    Attributes:
        step: the training step it was generated at.
        data_source: the dataset it came from (``""`` when the row does not say).
        response: the response text.
        prompt: the prompt text (``""`` when unknown).
        gold: the reference answer, as text.
        result: every numeric result key (:data:`~rlsp_rewards.core.NUMERIC_KEYS`) as a float.
        pred: the extracted final answer.

    Example:
        >>> Rollout(1, "", "ok", "", "1", dict.fromkeys(NUMERIC_KEYS, 0.0)).result["acc"]
        0.0
    """

    step: int
    data_source: str
    response: str
    prompt: str
    gold: str
    result: dict[str, float]
    pred: str = ""


def file_step(path: str | os.PathLike[str]) -> int | None:
    """The step a file's name gives: its last number (``None`` when it has none).

    Example:
        >>> file_step("run/12.jsonl"), file_step("scored-step7.jsonl.gz"), file_step("a.jsonl")
        (12, 7, None)
    """
    name = Path(path).name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    numbers = _NUMBER.findall(name)
    return int(numbers[-1]) if numbers else None


def run_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files of a run: the file itself, or a folder's ``.jsonl``/``.jsonl.gz``/``.parquet``
    files (not its sub-folders), in step order (by the number in their names).

    Raises:
        ConfigError: when the path does not exist or the folder holds no such file.

    Example:
        >>> import pathlib, tempfile
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ("10.jsonl", "9.jsonl", "notes.txt"):
        ...     _ = (run / name).write_text("")
        >>> [p.name for p in run_files(run)]
        ['9.jsonl', '10.jsonl']
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(
            f"run {str(path)!r} does not exist: pass verl's trainer.rollout_data_dir, a folder "
            "of rlsp-rewards score outputs, or one such file"
        )
    files = [p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(SUFFIXES)]
    if not files:
        raise ConfigError(
            f"no {', '.join(SUFFIXES)} files in {str(path)!r}: pass verl's "
            "trainer.rollout_data_dir (one {step}.jsonl per step) or a folder of score outputs"
        )

    def order(p: Path) -> tuple[float, str]:
        step = file_step(p)
        return (math.inf if step is None else step, p.name)

    return sorted(files, key=order)


class RunReader:
    """The rollouts of a run, streamed; re-scored through ``reward`` when one is given.

    Attributes:
        files: the files read, in order.
        skipped: rows that could not be read or scored.
        skip_reasons: how many rows were skipped for each reason (its first words).
        first_skips: the first ten skipped rows as ``(file name, line, reason)``.
        step_sources: how many rows took their step from the ``step`` field, the file name, or
            neither (``"none"``: step 0).

    Args:
        path: a run folder or one file (see :func:`run_files`).
        reward: re-score every row with this reward (``None``: read the results in the rows).
        chunk_size: rows per ``score_batch`` call when re-scoring.

    Raises:
        ConfigError: for a missing run or a bad chunk size; while reading, for a row without
            a result when no reward is given (the message says to re-score).

    Example:
        >>> import pathlib, tempfile
        >>> from rlsp_rewards.exploration.length import LengthExploration
        >>> run = pathlib.Path(tempfile.mkdtemp()) / "rollouts.jsonl"
        >>> _ = run.write_text('{"response": "four", "gold": "4"}\\n')
        >>> [r.result["length"] for r in RunReader(run, reward=LengthExploration())]
        [1.0]
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        reward: BatchReward | None = None,
        chunk_size: int = 512,
    ) -> None:
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be >= 1 (e.g. 512), got {chunk_size}")
        self.files = run_files(path)
        self.reward = reward
        self.chunk_size = chunk_size
        self.skipped = 0
        self.skip_reasons: collections.Counter[str] = collections.Counter()
        self.first_skips: list[tuple[str, int, str]] = []
        self.step_sources: collections.Counter[str] = collections.Counter()

    def total_rows(self) -> int:
        """How many rows the files hold (one fast pass; for a progress bar)."""
        return sum(count_rows(path) for path in self.files)

    def __iter__(self) -> Iterator[Rollout]:
        return self.rollouts()

    def rollouts(self, on_rows: Callable[[int], None] | None = None) -> Iterator[Rollout]:
        """Every rollout of the run, in file order; ``on_rows(n)`` after each ``n`` rows read."""
        for path in self.files:
            named_step = file_step(path)
            pending: list[tuple[int, Sample]] = []
            done = 0
            for row in read_rows(path):
                done += 1
                if on_rows is not None and done % 256 == 0:
                    on_rows(256)
                made = self._read(path, named_step, row)
                if isinstance(made, Rollout):
                    yield made
                elif made is not None:
                    pending.append(made)
                    if len(pending) >= self.chunk_size:
                        yield from self._rescore(pending)
                        pending = []
            yield from self._rescore(pending)
            if on_rows is not None and done % 256:
                on_rows(done % 256)

    def _read(
        self, path: Path, named_step: int | None, row: Row
    ) -> Rollout | tuple[int, Sample] | None:
        """The row's rollout, or its (step, sample) to re-score, or ``None`` when skipped."""
        if row.data is None:
            self._skip(path, row.line, row.problem or "unreadable")
            return None
        data = row.data
        step = self._step(data, named_step)
        fields = _fields_for(data)
        made = fields.sample(data)
        if self.reward is not None:
            if isinstance(made, str):
                self._skip(path, row.line, made)
                return None
            return step, made
        result = _result_of(data)
        if result is None:
            if "skipped" in data:
                self._skip(path, row.line, f"skipped when scored: {as_text(data['skipped'])}")
                return None
            raise ConfigError(
                f"{path.name} line {row.line} has no rlsp-rewards result (no 'reward' dict, no "
                f"{'/'.join(RESULT_MARKERS)} columns): this run was not scored by our reward. "
                "Re-score it: add --rescore --preset guarded (or the preset you want to see)"
            )
        sample = made if isinstance(made, Sample) else Sample(response="")
        numbers, pred = result
        return _rollout(step, sample, numbers, pred)

    def _step(self, data: Mapping[str, Any], named_step: int | None) -> int:
        step = _as_step(data.get("step"))
        if step is not None:
            self.step_sources["field"] += 1
            return step
        self.step_sources["file name" if named_step is not None else "none"] += 1
        return named_step if named_step is not None else 0

    def _rescore(self, pending: list[tuple[int, Sample]]) -> Iterator[Rollout]:
        if not pending or self.reward is None:
            return
        results = self.reward.score_batch([sample for _, sample in pending])
        for (step, sample), result in zip(pending, results, strict=True):
            out = result.to_dict()
            yield _rollout(step, sample, _numbers(out), as_text(out.get("pred", "")))

    def _skip(self, path: Path, line: int, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason.split(":")[0]] += 1
        if len(self.first_skips) < 10:
            self.first_skips.append((path.name, line, reason))


def _fields_for(data: Mapping[str, Any]) -> FieldMap:
    if "output" in data and "gts" in data:
        return _VERL_FIELDS
    if "prompt" not in data and "problem" in data:
        return _PROBLEM_FIELDS
    return _OUR_FIELDS


def _result_of(data: Mapping[str, Any]) -> tuple[dict[str, float], str] | None:
    """The numeric result keys and ``pred`` of a row that carries our result, else ``None``."""
    source = data.get("reward")
    if not isinstance(source, Mapping):
        if not all(key in data for key in RESULT_MARKERS):
            return None
        source = data
    return _numbers(source), as_text(source.get("pred", ""))


def _numbers(source: Mapping[str, Any]) -> dict[str, float]:
    """Every numeric result key as a finite float (missing, odd or non-finite values: 0)."""
    out = {}
    for key in NUMERIC_KEYS:
        try:
            value = float(source.get(key, 0.0))
        except (TypeError, ValueError, OverflowError):
            value = 0.0
        out[key] = value if math.isfinite(value) else 0.0
    return out


def _as_step(value: Any) -> int | None:
    """A ``step`` field as an int: ints, integral floats and digit strings; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _rollout(step: int, sample: Sample, numbers: dict[str, float], pred: str) -> Rollout:
    return Rollout(
        step=step,
        data_source=sample.data_source,
        response=sample.response,
        prompt=sample.prompt or "",
        gold=as_text(sample.gold),
        result=numbers,
        pred=pred,
    )
