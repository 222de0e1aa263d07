"""How often the outcome verifier is right, measured on a labelled set shipped with the package.

The set (``rlsp_rewards/bench/data/labelled_answers.jsonl``) holds rows
``{"gold", "response", "label", "kind", "note"}``: a gold answer, a realistic model response,
whether that response's final answer is truly correct, a category and a note. :func:`evaluate`
scores it two ways:

* **ours**: :func:`~rlsp_rewards.outcome.extract.gold_answer` +
  :func:`~rlsp_rewards.outcome.extract.extract_answer` (``last_box``) +
  :func:`~rlsp_rewards.outcome.grade.fast_compare`, falling back to
  :func:`~rlsp_rewards.outcome.grade.compare` (in-process here: the answers are bounded);
* **plain math-verify**, per sample, with its defaults: ``verify(parse(gold), parse(response))``.
  The gold is wrapped in ``\\boxed{}`` first, as verl's math-verify reward does; math-verify's
  default extraction finds no bare LaTeX otherwise. Its defaults include 5-second signal-based
  timeouts, so this half runs only in the main thread (elsewhere it is skipped and reported as
  ``None``).

Run ``python -m rlsp_rewards.bench.accuracy`` for a table.

Example:
    >>> rows = [{"gold": "2", "response": "1 + 1 = 2, so $\\\\boxed{2}$.", "label": True}]
    >>> evaluate(rows, baseline=False).accuracy
    1.0
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.extract import extract_answer, gold_answer
from rlsp_rewards.outcome.grade import compare, fast_compare

__all__ = ["AccuracyReport", "Miss", "evaluate", "labelled_rows", "our_verdict"]


@dataclasses.dataclass(frozen=True)
class Miss:
    """One labelled row a method got wrong.

    Attributes:
        index: the row's position in the set.
        kind: the row's category.
        label: the true verdict.
        gold: the gold answer as read by :func:`~rlsp_rewards.outcome.extract.gold_answer`.
        pred: the answer our extraction found (``None`` when none).
        note: the row's note.

    Example:
        >>> Miss(3, "integer", True, "42", "41", "off by one").label
        True
    """

    index: int
    kind: str
    label: bool
    gold: str | None
    pred: str | None
    note: str


@dataclasses.dataclass(frozen=True)
class AccuracyReport:
    """Accuracy of our verifier and of plain math-verify on the same labelled rows.

    Attributes:
        rows: how many rows were scored.
        accuracy: our fraction of rows judged as labelled.
        baseline_accuracy: plain math-verify's, or ``None`` when it was not run.
        misses: the rows we got wrong.
        baseline_misses: the rows plain math-verify got wrong.

    Example:
        >>> AccuracyReport(rows=2, accuracy=1.0, baseline_accuracy=0.5).rows
        2
    """

    rows: int
    accuracy: float
    baseline_accuracy: float | None = None
    misses: tuple[Miss, ...] = ()
    baseline_misses: tuple[Miss, ...] = ()


def labelled_rows() -> list[dict[str, Any]]:
    """The labelled set shipped with the package, one dict per row.

    Example:
        >>> rows = labelled_rows()
        >>> len(rows) >= 180 and {"gold", "response", "label", "kind", "note"} <= set(rows[0])
        True
    """
    path = resources.files("rlsp_rewards.bench").joinpath("data/labelled_answers.jsonl")
    text = path.read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def our_verdict(gold: Any, response: str) -> bool:
    """Our pipeline's verdict on one response: extraction, gold reading, fast path, full check.

    Example:
        >>> our_verdict(42, "So the answer is $\\\\boxed{41 = 42}$.")
        False
    """
    gold_text = gold_answer(gold)
    pred = extract_answer(response)
    if gold_text is None or pred is None:
        return False
    status = fast_compare(gold_text, pred)
    if status is None:
        status = compare(gold_text, pred)
    return status is OutcomeStatus.CORRECT


def _baseline_verdict(gold: Any, response: str) -> bool:
    """Plain math-verify with its defaults (the gold wrapped in ``\\boxed{}``, as verl does)."""
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # its timeout warnings
    gold_text = gold_answer(gold)
    if gold_text is None:
        return False
    try:
        return bool(verify(parse("\\boxed{" + gold_text + "}"), parse(response)))
    except Exception:
        return False


def evaluate(
    rows: Iterable[Mapping[str, Any]] | None = None, *, baseline: bool = True
) -> AccuracyReport:
    """Score labelled rows with our verifier and, optionally, with plain math-verify.

    Args:
        rows: rows with ``gold``, ``response`` and ``label`` (``kind`` and ``note`` optional);
            the shipped set when ``None``.
        baseline: also run plain math-verify (main thread only; see the module docstring).

    Returns:
        An :class:`AccuracyReport`.

    Example:
        >>> rows = [{"gold": "7", "response": "I think it is", "label": False}]
        >>> report = evaluate(rows, baseline=False)
        >>> report.accuracy, report.misses
        (1.0, ())
    """
    table = list(labelled_rows() if rows is None else rows)
    run_baseline = baseline and threading.current_thread() is threading.main_thread()
    misses: list[Miss] = []
    baseline_misses: list[Miss] = []
    for index, row in enumerate(table):
        label = bool(row["label"])
        response = str(row.get("response") or "")
        if our_verdict(row["gold"], response) != label:
            misses.append(_miss(index, row, response))
        if run_baseline and _baseline_verdict(row["gold"], response) != label:
            baseline_misses.append(_miss(index, row, response))
    count = len(table)
    return AccuracyReport(
        rows=count,
        accuracy=_rate(count, len(misses)),
        baseline_accuracy=_rate(count, len(baseline_misses)) if run_baseline else None,
        misses=tuple(misses),
        baseline_misses=tuple(baseline_misses),
    )


def _rate(count: int, wrong: int) -> float:
    return 1.0 - wrong / count if count else 0.0


def _miss(index: int, row: Mapping[str, Any], response: str) -> Miss:
    return Miss(
        index=index,
        kind=str(row.get("kind", "")),
        label=bool(row["label"]),
        gold=gold_answer(row["gold"]),
        pred=extract_answer(response),
        note=str(row.get("note", "")),
    )


def _print(report: AccuracyReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = Table(title=f"Outcome verifier accuracy on {report.rows} labelled answers")
    summary.add_column("method")
    summary.add_column("accuracy", justify="right")
    summary.add_column("wrong", justify="right")
    summary.add_row("rlsp-rewards", f"{report.accuracy:.1%}", str(len(report.misses)))
    if report.baseline_accuracy is not None:
        summary.add_row(
            "plain math-verify",
            f"{report.baseline_accuracy:.1%}",
            str(len(report.baseline_misses)),
        )
    console.print(summary)
    methods = (("rlsp-rewards", report.misses), ("plain math-verify", report.baseline_misses))
    for title, misses in methods:
        if not misses:
            continue
        detail = Table(title=f"rows {title} gets wrong")
        for column in ("row", "kind", "label", "gold", "pred", "note"):
            detail.add_column(column, overflow="fold")
        for miss in misses:
            detail.add_row(
                str(miss.index),
                miss.kind,
                str(miss.label),
                (miss.gold or "")[:40],
                (miss.pred or "")[:40],
                miss.note,
            )
        console.print(detail)


if __name__ == "__main__":
    _print(evaluate())
