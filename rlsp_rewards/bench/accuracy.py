"""How often the outcome verifier is right: ``rlsp-rewards bench --accuracy [FILE ...]``.

A labelled file is JSONL, one case a line: ``gold``; ``response`` (a whole model response) or
``pred`` (a bare answer, read as the response ``The final answer is \\boxed{PRED}.``); ``label``
or ``expected`` (whether the response's final answer is truly correct); and optionally
``kind`` (the category), ``id``, ``note``. The peers' grader cases
(``shared/peer_cases/*.jsonl``) also carry ``source`` and ``expectation``: only the cases whose
expectation is ``"sound"`` are counted, and they are grouped by source.

Each case is scored two ways:

* **ours**: :meth:`~rlsp_rewards.outcome.OutcomeVerifier.verify_batch` with its defaults (the
  real pipeline: extraction, fast path, math-verify in killable workers, budgets);
* **plain math-verify**, per case, with its defaults: ``verify(parse(gold), parse(response))``,
  the gold wrapped in ``\\boxed{}`` as verl's math-verify reward does. Its defaults include
  5-second signal-based timeouts, so this half runs only in the main thread (elsewhere it is
  skipped and reported as ``None``).

The shipped sets (``rlsp_rewards/bench/data/*.jsonl``) are the default: the labelled set the
fast paths were written with, and the hand-labelled development and evaluation sets.

Example:
    >>> rows = [{"gold": "2", "response": "1 + 1 = 2, so $\\\\boxed{2}$.", "label": True}]
    >>> evaluate(rows, baseline=False).accuracy
    1.0
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from rlsp_rewards.outcome.extract import extract_answer, gold_answer

__all__ = [
    "AccuracyReport",
    "Case",
    "Miss",
    "evaluate",
    "labelled_rows",
    "load_cases",
    "our_verdict",
    "print_reports",
    "report_json",
    "run_accuracy",
    "shipped_sets",
]


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
class Case:
    """One scored case.

    Attributes:
        index: its position among the counted cases.
        name: its id (or position) in its file.
        category: its ``kind``, or the repository of its ``source``.
        label: the true verdict.
        ours: our verdict (True: correct).
        status: our status (``correct``, ``incorrect``, ``error``, ``timeout``...).
        baseline: plain math-verify's verdict, ``None`` when it was not run.
        gold: the gold answer as read.
        pred: the answer our extraction found.
        note: the case's note.

    Example:
        >>> Case(0, "0", "integer", True, True, "correct", False, "2", "2", "").baseline
        False
    """

    index: int
    name: str
    category: str
    label: bool
    ours: bool
    status: str
    baseline: bool | None
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
        cases: every scored case.
        name: where the rows came from.
        skipped: rows not counted (an expectation other than ``sound``).

    Example:
        >>> AccuracyReport(rows=2, accuracy=1.0, baseline_accuracy=0.5).rows
        2
    """

    rows: int
    accuracy: float
    baseline_accuracy: float | None = None
    misses: tuple[Miss, ...] = ()
    baseline_misses: tuple[Miss, ...] = ()
    cases: tuple[Case, ...] = ()
    name: str = ""
    skipped: int = 0

    def by_category(self) -> dict[str, tuple[int, float, float | None]]:
        """Per category: cases, our accuracy, math-verify's (None when not run).

        Example:
            >>> evaluate([{"gold": "1", "pred": "1", "label": True, "kind": "k"}],
            ...          baseline=False).by_category()
            {'k': (1, 1.0, None)}
        """
        groups: dict[str, list[Case]] = collections.defaultdict(list)
        for case in self.cases:
            groups[case.category].append(case)
        table = {}
        for category in sorted(groups):
            cases = groups[category]
            ours = sum(c.ours == c.label for c in cases) / len(cases)
            base = None
            if self.baseline_accuracy is not None:
                base = sum(c.baseline == c.label for c in cases) / len(cases)
            table[category] = (len(cases), ours, base)
        return table

    def disagreements(self) -> list[Case]:
        """The cases where ours or plain math-verify differs from the label.

        Example:
            >>> evaluate([{"gold": "1", "pred": "2", "label": True}], baseline=False)\\
            ...     .disagreements()[0].pred
            '2'
        """
        return [c for c in self.cases if c.ours != c.label or c.baseline not in (None, c.label)]


def shipped_sets() -> list[Path]:
    """The labelled sets shipped with the package (``rlsp_rewards/bench/data/*.jsonl``).

    Example:
        >>> "labelled_answers.jsonl" in [p.name for p in shipped_sets()]
        True
    """
    folder = resources.files("rlsp_rewards.bench").joinpath("data")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".jsonl"))


def labelled_rows() -> list[dict[str, Any]]:
    """The labelled set the fast paths were written with, one dict per row.

    Example:
        >>> rows = labelled_rows()
        >>> len(rows) >= 180 and {"gold", "response", "label", "kind", "note"} <= set(rows[0])
        True
    """
    path = resources.files("rlsp_rewards.bench").joinpath("data/labelled_answers.jsonl")
    text = path.read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_cases(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The counted rows of a labelled JSONL file, and how many were skipped.

    Rows with a bare ``pred`` get the response ``The final answer is \\boxed{PRED}.``;
    ``expected`` is read as ``label``; rows whose ``expectation`` is not ``sound`` are skipped.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        ...     _ = f.write('{"gold": "1", "pred": "1", "expected": true}\\n')
        >>> rows, skipped = load_cases(Path(f.name))
        >>> rows[0]["response"], rows[0]["label"], skipped
        ('The final answer is \\\\boxed{1}.', True, 0)
    """
    rows, skipped = [], 0
    for number, line in enumerate(path.read_text("utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("expectation", "sound") != "sound":
            skipped += 1
            continue
        if "response" not in row:
            row["response"] = "The final answer is \\boxed{" + str(row.get("pred", "")) + "}."
        row["label"] = bool(row["label"] if "label" in row else row["expected"])
        row.setdefault("id", number)
        if "kind" not in row and "source" in row:
            row["kind"] = str(row["source"]).split(":")[0].split("/")[-1]
        rows.append(row)
    return rows, skipped


def our_verdict(gold: Any, response: str) -> bool:
    """Our pipeline's verdict on one response (the default verifier).

    Example:
        >>> our_verdict(42, "So the answer is $\\\\boxed{41 = 42}$.")
        False
    """
    from rlsp_rewards.outcome import outcome

    return outcome.verify(gold, response).correct


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
    rows: Iterable[Mapping[str, Any]] | None = None, *, baseline: bool = True, name: str = ""
) -> AccuracyReport:
    """Score labelled rows with our verifier and, optionally, with plain math-verify.

    Args:
        rows: rows with ``gold``, ``response`` (or ``pred``) and ``label`` (or ``expected``);
            ``kind``, ``id`` and ``note`` optional; the shipped labelled set when ``None``.
        baseline: also run plain math-verify (main thread only; see the module docstring).
        name: where the rows came from, for the report.

    Returns:
        An :class:`AccuracyReport`.

    Example:
        >>> rows = [{"gold": "7", "response": "I think it is", "label": False}]
        >>> report = evaluate(rows, baseline=False)
        >>> report.accuracy, report.misses
        (1.0, ())
    """
    from rlsp_rewards.outcome import OutcomeVerifier

    table = [_counted(row) for row in (labelled_rows() if rows is None else rows)]
    run_baseline = baseline and threading.current_thread() is threading.main_thread()
    verdicts = OutcomeVerifier().verify_batch([(row["gold"], row["response"]) for row in table])
    cases = []
    for index, (row, verdict) in enumerate(zip(table, verdicts, strict=True)):
        base = _baseline_verdict(row["gold"], row["response"]) if run_baseline else None
        cases.append(
            Case(
                index=index,
                name=str(row.get("id", index)),
                category=str(row.get("kind", "")),
                label=row["label"],
                ours=verdict.correct,
                status=verdict.status.value,
                baseline=base,
                gold=gold_answer(row["gold"]),
                pred=extract_answer(row["response"]),
                note=str(row.get("note", "")),
            )
        )
    count = len(cases)
    misses = tuple(_miss(c) for c in cases if c.ours != c.label)
    baseline_misses = tuple(_miss(c) for c in cases if run_baseline and c.baseline != c.label)
    return AccuracyReport(
        rows=count,
        accuracy=_rate(count, len(misses)),
        baseline_accuracy=_rate(count, len(baseline_misses)) if run_baseline else None,
        misses=misses,
        baseline_misses=baseline_misses,
        cases=tuple(cases),
        name=name,
    )


def _counted(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if "response" not in out:
        out["response"] = "The final answer is \\boxed{" + str(out.get("pred", "")) + "}."
    out["response"] = str(out["response"] or "")
    out["label"] = bool(out["label"] if "label" in out else out.get("expected"))
    return out


def _rate(count: int, wrong: int) -> float:
    return 1.0 - wrong / count if count else 0.0


def _miss(case: Case) -> Miss:
    return Miss(case.index, case.category, case.label, case.gold, case.pred, case.note)


# -- the command ----------------------------------------------------------------------------------


def run_accuracy(
    paths: list[Path] | None = None, *, baseline: bool = True, limit: int | None = None
) -> list[AccuracyReport]:
    """``rlsp-rewards bench --accuracy``: score each file (the shipped sets by default), print
    per-category tables and every disagreement, and return the reports.

    Args:
        paths: labelled JSONL files (see the module docstring); the shipped sets when empty.
        baseline: also run plain math-verify.
        limit: score at most this many cases of each file.

    Example:
        >>> run_accuracy(shipped_sets()[-1:], baseline=False, limit=2)[0].rows
        2
    """
    reports = []
    for path in paths or shipped_sets():
        rows, skipped = load_cases(path)
        report = evaluate(rows[:limit], baseline=baseline, name=path.name)
        reports.append(dataclasses.replace(report, skipped=skipped))
    return reports


def report_json(reports: list[AccuracyReport]) -> dict[str, Any]:
    """The reports as a JSON-ready dict.

    Example:
        >>> report_json([evaluate([], baseline=False, name="x")])["sets"][0]["name"]
        'x'
    """
    return {
        "sets": [
            {
                "name": r.name,
                "cases": r.rows,
                "skipped": r.skipped,
                "ours": r.accuracy,
                "math_verify": r.baseline_accuracy,
                "categories": {
                    k: {"cases": n, "ours": a, "math_verify": b}
                    for k, (n, a, b) in r.by_category().items()
                },
                "disagreements": [dataclasses.asdict(c) for c in r.disagreements()],
            }
            for r in reports
        ]
    }


def print_reports(reports: list[AccuracyReport], console: Any) -> None:
    """Per-category tables, then every case where a method differs from the label.

    Example:
        >>> import io
        >>> from rich.console import Console
        >>> out = Console(file=io.StringIO(), width=100)
        >>> rows = [{"gold": "1", "pred": "2", "label": True}]
        >>> print_reports([evaluate(rows, baseline=False)], out)
        >>> "differs from the label" in out.file.getvalue()
        True
    """
    from rich.table import Table

    for report in reports:
        title = f"{report.name or 'labelled rows'}: {report.rows} cases"
        if report.skipped:
            title += f" ({report.skipped} not counted: expectation not sound)"
        table = Table(title=title)
        for column in ("category", "cases", "rlsp-rewards", "plain math-verify"):
            table.add_column(column, justify="left" if column == "category" else "right")
        for category, (count, ours, base) in report.by_category().items():
            table.add_row(category or "-", str(count), f"{ours:.1%}", _percent(base))
        table.add_row(
            "[bold]all[/bold]",
            str(report.rows),
            f"[bold]{report.accuracy:.1%}[/bold]",
            _percent(report.baseline_accuracy),
        )
        console.print(table)
        wrong = report.disagreements()
        if not wrong:
            continue
        detail = Table(title=f"{report.name}: cases where a method differs from the label")
        for column in ("id", "category", "label", "ours", "math-verify", "gold", "pred", "note"):
            detail.add_column(column, overflow="fold")
        for case in wrong:
            detail.add_row(
                case.name,
                case.category,
                _verdict(case.label),
                _verdict(case.ours) + _flag(case.status),
                "-" if case.baseline is None else _verdict(case.baseline),
                (case.gold or "")[:60],
                (case.pred or "")[:60],
                case.note[:80],
            )
        console.print(detail)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _verdict(correct: bool) -> str:
    return "correct" if correct else "incorrect"


def _flag(status: str) -> str:
    return "" if status in ("correct", "incorrect") else f" ({status})"


if __name__ == "__main__":
    from rich.console import Console

    print_reports(run_accuracy(), Console())
