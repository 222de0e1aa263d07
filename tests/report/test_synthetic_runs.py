"""The report's numbers and warnings on synthetic 30-step runs in verl 0.9.1's dump format.

The runs (see conftest.py) are scored by the real reward and written as verl writes them; the
generator's own truth per step is compared with what the report reads back.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.core import BEHAVIOUR_KEYS
from rlsp_rewards.report.metrics import MetricTable, RunStats
from rlsp_rewards.report.rules import Finding, evaluate
from rlsp_rewards.report.sources import RunReader

#: The generator's shape (conftest.py): 30 steps of 48 responses, a 700-token cap.
STEPS, ROWS, CAP = 30, 48, 700

EXACT = ["rows", "accuracy", "length_mean", "no_answer"]
EXACT += [f"{key}_{kind}" for key in BEHAVIOUR_KEYS for kind in ("share", "count")]


def analyse(path: Path) -> tuple[MetricTable, dict[str, Finding], RunStats]:
    stats = RunStats()
    for rollout in RunReader(path):
        stats.add(rollout)
    table = stats.table()
    return table, {f.key: f for f in evaluate(table)}, stats


def fired(findings: dict[str, Finding]) -> set[str]:
    return {key for key, f in findings.items() if f.fired}


def window_mean(table: MetricTable, metric: str, first: int, last: int) -> float:
    values = [table.at(step)[metric] for step in range(first, last + 1)]
    return sum(values) / len(values)


@pytest.mark.parametrize("name", ["healthy", "hacking", "collapse", "healthy_paper"])
def test_per_step_numbers_are_the_generators(synthetic_runs: dict[str, Any], name: str) -> None:
    run = synthetic_runs[name]
    assert (run.steps, run.rows, run.cap) == (STEPS, ROWS, CAP)
    table, _, stats = analyse(run.path)
    assert table.steps == list(range(1, STEPS + 1))
    assert stats.rows == STEPS * ROWS and stats.length_sources == {"framework": STEPS * ROWS}
    for step in table.steps:
        got, truth = table.at(step), run.truth[step]
        for metric in EXACT:
            assert got[metric] == pytest.approx(truth[metric], abs=1e-12), (step, metric)
        # Exact token counts, all scored without trouble.
        assert got["timeout"] == got["error"] == got["judge_failed"] == 0.0
        assert got["length_p50"] <= got["length_p90"] <= CAP


def test_healthy_run_rises_without_warnings(synthetic_runs: dict[str, Any]) -> None:
    table, findings, stats = analyse(synthetic_runs["healthy"].path)
    for metric in (
        "accuracy",
        "length_mean",
        "length_p90",
        *(f"{k}_share" for k in BEHAVIOUR_KEYS),
    ):
        assert window_mean(table, metric, 26, 30) > window_mean(table, metric, 1, 5), metric
    assert all(value == 0.0 for value in table.values["repetition"])
    assert all(value == 0.0 for value in table.values["inversions"])  # guarded: correct on top
    assert fired(findings) == set()
    assert all(f.evaluated for f in findings.values())
    # No response reaches the cap, and the longest one is alone: no cap is inferred.
    assert stats.length_cap()[0] is None and all(math.isnan(v) for v in table.values["truncated"])


def test_repetition_hacking_from_step_20_is_flagged(synthetic_runs: dict[str, Any]) -> None:
    run = synthetic_runs["hacking"]
    table, findings, stats = analyse(run.path)
    assert all(table.at(step)["repetition"] == 0.0 for step in range(1, 20))
    assert table.at(24)["repetition"] > 0.3
    # Accuracy stops at step 19's; length keeps growing and hits the 700-token cap.
    assert {table.at(step)["accuracy"] for step in range(20, 31)} == {table.at(19)["accuracy"]}
    assert stats.length_cap() == (CAP, stats.length_cap()[1])
    assert [table.at(s)["truncated"] for s in table.steps] == [
        pytest.approx(run.truth[s]["truncated"]) for s in table.steps
    ]
    assert table.at(30)["truncated"] == 1.0 and table.at(19)["truncated"] == 0.0
    assert fired(findings) == {"repetition", "length_without_accuracy"}
    repetition, length = findings["repetition"], findings["length_without_accuracy"]
    assert 20 <= repetition.episodes[0][0] <= 24 and repetition.steps[-1] == 30
    assert 20 <= length.episodes[0][0] <= 29 and min(length.steps) >= 20


def test_format_collapse_from_step_15_is_flagged(synthetic_runs: dict[str, Any]) -> None:
    table, findings, _ = analyse(synthetic_runs["collapse"].path)
    assert table.at(14)["no_answer"] == 0.0 and table.at(30)["no_answer"] == 29 / ROWS  # ~60%
    assert fired(findings) == {"format_collapse", "length_without_accuracy"}
    collapse = findings["format_collapse"]
    assert 15 <= collapse.episodes[0][0] <= 20 and collapse.episodes[-1][1] == 30
    # Length stops growing at step 15: its windows see growth only while they reach back before
    # it, and accuracy falls meanwhile (the unanswered responses are wrong).
    assert max(findings["length_without_accuracy"].steps) <= 20
    assert findings["repetition"].steps == ()


def test_the_paper_length_term_outweighs_correctness_early(
    synthetic_runs: dict[str, Any],
) -> None:
    # The same texts as the healthy run, scored with the paper preset: short correct answers
    # (80 tokens: 0.8 - 0.2 * 1000/80 = -1.7) score below long wrong ones, until lengths grow.
    table, findings, _ = analyse(synthetic_runs["healthy_paper"].path)
    dominates = findings["exploration_dominates"]
    assert fired(findings) == {"exploration_dominates"}
    assert dominates.episodes[0][0] == 1 and dominates.steps[-1] < 30
    assert table.at(1)["inversions"] > 0.3 and table.at(30)["inversions"] == 0.0


def test_timeouts_and_errors_above_one_percent_are_flagged_at_their_steps(
    synthetic_runs: dict[str, Any], tmp_path: Path
) -> None:
    # The healthy dump with one timeout at step 25 and one error at step 7 (1 of 48 = 2.1%),
    # as the reward would have reported them.
    run = tmp_path / "run"
    shutil.copytree(synthetic_runs["healthy"].path, run)
    for step, flag in ((25, "timeout"), (7, "error")):
        path = run / f"{step}.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        rows[3].update({flag: 1.0, "acc": 0.0, "score": 0.0})
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    table, findings, _ = analyse(run)
    assert table.at(25)["timeout"] == pytest.approx(1 / ROWS)
    assert findings["timeouts"].steps == (25,) and findings["errors"].steps == (7,)
    assert fired(findings) == {"timeouts", "errors"}
