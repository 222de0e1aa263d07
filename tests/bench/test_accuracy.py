"""rlsp_rewards.bench.accuracy: the labelled set, our accuracy on it, and plain math-verify's."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from rlsp_rewards.bench.accuracy import AccuracyReport, evaluate, labelled_rows, our_verdict
from rlsp_rewards.core import OutcomeStatus
from rlsp_rewards.outcome.extract import extract_answer, gold_answer
from rlsp_rewards.outcome.grade import fast_compare

#: Rows of the labelled set our verifier is known to get wrong: index -> reason. Empty today.
KNOWN_MISSES: dict[int, str] = {}

ROWS = labelled_rows()


@pytest.fixture(scope="module")
def report() -> AccuracyReport:
    return evaluate()


def test_labelled_set_shape() -> None:
    assert len(ROWS) >= 180
    for row in ROWS:
        assert set(row) == {"gold", "response", "label", "kind", "note"}
        assert isinstance(row["label"], bool) and isinstance(row["response"], str)
    kinds = Counter(row["kind"] for row in ROWS)
    for kind in (
        "fraction",
        "radical",
        "interval",
        "set",
        "tuple",
        "matrix",
        "units",
        "percent",
        "text",
        "base_n",
        "near_miss",
        "truncated",
        "equation",
        "degrees",
        "dfrac",
        "left_right",
        "scientific",
        "negative",
        "pi",
        "false_positive",
    ):
        assert kinds[kind] >= 3, kind
    # both verdicts well represented
    assert 0.3 < sum(row["label"] for row in ROWS) / len(ROWS) < 0.8


def test_our_accuracy(report: AccuracyReport) -> None:
    assert report.rows == len(ROWS)
    wrong = {miss.index for miss in report.misses}
    assert wrong <= set(KNOWN_MISSES), [m for m in report.misses if m.index not in KNOWN_MISSES]
    assert report.accuracy >= 0.99


def test_we_beat_plain_math_verify(report: AccuracyReport) -> None:
    assert report.baseline_accuracy is not None
    assert report.accuracy > report.baseline_accuracy
    baseline_wrong = {miss.index for miss in report.baseline_misses}
    # the known math-verify weaknesses are in the set and are among its misses
    notes = {ROWS[i]["note"] for i in baseline_wrong}
    assert any("unequal sides" in note for note in notes)
    assert any("chopped" in note for note in notes)
    assert any("last number equals the gold" in note for note in notes)


def test_fast_path_never_contradicts_a_label() -> None:
    decided = 0
    for index, row in enumerate(ROWS):
        gold, pred = gold_answer(row["gold"]), extract_answer(row["response"])
        if gold is None or pred is None:
            continue
        verdict = fast_compare(gold, pred)
        if verdict is not None:
            decided += 1
            assert (verdict is OutcomeStatus.CORRECT) == row["label"], (index, row["note"])
    assert decided >= len(ROWS) // 2  # the fast path carries most of the set


def test_no_answer_rows_are_never_correct() -> None:
    for row in ROWS:
        if row["kind"] == "truncated":
            assert not our_verdict(row["gold"], row["response"])


def test_evaluate_custom_rows_and_thread() -> None:
    rows = [
        {"gold": "2", "response": r"1 + 1 = \boxed{2}", "label": True},
        {"gold": "2", "response": r"\boxed{3}", "label": True, "kind": "k", "note": "n"},
    ]
    result = evaluate(rows, baseline=False)
    assert (result.rows, result.accuracy, result.baseline_accuracy) == (2, 0.5, None)
    assert [(m.index, m.gold, m.pred, m.kind) for m in result.misses] == [(1, "2", "3", "k")]
    # off the main thread, math-verify's signal timeouts cannot run: the baseline is skipped
    box: list[AccuracyReport] = []
    worker = threading.Thread(target=lambda: box.append(evaluate(rows)))
    worker.start()
    worker.join(timeout=120)
    assert box and box[0].baseline_accuracy is None and box[0].accuracy == 0.5
    assert evaluate([], baseline=False).accuracy == 0.0


# -- bench --accuracy: labelled files, per category, disagreements -------------------------------

PEER_ROWS = [
    # a peer's bare pred, wrapped as "The final answer is \boxed{PRED}."
    {
        "id": 1,
        "source": "peer/a:tests/x.py",
        "gold": "1/2",
        "pred": "0.5",
        "expected": True,
        "expectation": "sound",
    },
    # a whole response, and a wrong verdict the label catches
    {
        "id": 2,
        "source": "peer/b:tests/y.py",
        "gold": "3",
        "response": r"\boxed{4}",
        "expected": True,
        "expectation": "sound",
    },
    # not counted: the peer's expectation is not sound
    {
        "id": 3,
        "source": "peer/b:tests/y.py",
        "gold": "1-1/e",
        "pred": "1+1/e",
        "expected": True,
        "expectation": "wrong",
    },
]


def _write(path: Path, rows: list[dict]) -> None:
    import json

    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_load_cases_reads_peer_files(tmp_path: Path) -> None:
    from rlsp_rewards.bench.accuracy import load_cases

    path = tmp_path / "peer.jsonl"
    _write(path, PEER_ROWS)
    rows, skipped = load_cases(path)
    assert skipped == 1 and [row["id"] for row in rows] == [1, 2]
    assert rows[0]["response"] == r"The final answer is \boxed{0.5}."
    assert [row["kind"] for row in rows] == ["a", "b"]  # grouped by the source's repository
    assert all(row["label"] is True for row in rows)


def test_report_per_category_and_disagreements(tmp_path: Path) -> None:
    from rlsp_rewards.bench.accuracy import report_json, run_accuracy

    path = tmp_path / "peer.jsonl"
    _write(path, PEER_ROWS)
    (report,) = run_accuracy([path])  # main thread: plain math-verify runs too
    assert (report.rows, report.skipped, report.accuracy) == (2, 1, 0.5)
    assert report.by_category() == {"a": (1, 1.0, 1.0), "b": (1, 0.0, 0.0)}
    assert [case.name for case in report.disagreements()] == ["2"]
    data = report_json([report])["sets"][0]
    assert data["categories"]["b"] == {"cases": 1, "ours": 0.0, "math_verify": 0.0}
    assert data["disagreements"][0]["pred"] == "4"


def test_bench_accuracy_command(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from rlsp_rewards.cli.app import app

    path, out = tmp_path / "cases.jsonl", tmp_path / "acc.json"
    _write(path, PEER_ROWS)
    result = CliRunner().invoke(app, ["bench", "--accuracy", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "cases where a method differs from the label" in result.output
    assert json.loads(out.read_text())["sets"][0]["cases"] == 2
    missing = CliRunner().invoke(app, ["bench", "--accuracy", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no such labelled JSONL file" in missing.output
    (tmp_path / "bad.jsonl").write_text('{"response": "x"}\n')
    bad = CliRunner().invoke(app, ["bench", "--accuracy", str(tmp_path / "bad.jsonl")])
    assert bad.exit_code == 2 and "each line needs gold" in bad.output
