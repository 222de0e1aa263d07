"""The warning rules, row by row: windows, thresholds at their boundaries, short runs, episodes."""

from __future__ import annotations

import math

import pytest

from rlsp_rewards.report.metrics import MetricTable
from rlsp_rewards.report.rules import Thresholds, evaluate

FLAT = {
    "length_mean": 100.0,
    "accuracy": 0.5,
    "repetition": 0.0,
    "no_answer": 0.0,
    "timeout": 0.0,
    "error": 0.0,
    "judge_failed": 0.0,
    "inversions": 0.0,
}


def table(n: int = 10, **changes: list[float]) -> MetricTable:
    """``n`` steps of a flat, healthy run, with some metrics replaced by the given series."""
    values = {name: [value] * n for name, value in FLAT.items()}
    values.update(changes)
    return MetricTable(list(range(1, n + 1)), values)


def fired(t: MetricTable, thresholds: Thresholds | None = None) -> dict[str, tuple[int, ...]]:
    return {f.key: f.steps for f in evaluate(t, thresholds) if f.fired}


def step_up(before: float, after: float, n: int = 10, at: int = 6) -> list[float]:
    """``before`` up to step ``at - 1``, ``after`` from step ``at`` (steps start at 1)."""
    return [before if step < at else after for step in range(1, n + 1)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # a flat run: nothing
        ({}, {}),
        # length +10% between the two windows, accuracy flat: flagged at the 10th step
        ({"length_mean": step_up(100, 110)}, {"length_without_accuracy": (10,)}),
        # +9%: below the rise
        ({"length_mean": step_up(100, 109)}, {}),
        # length +50% but accuracy up 0.02: the run is learning, not flagged
        ({"length_mean": step_up(100, 150), "accuracy": step_up(0.5, 0.52)}, {}),
        # accuracy up exactly 0.01 still counts as flat (0.5 and 0.51 are exact enough here)
        (
            {"length_mean": step_up(100, 150), "accuracy": step_up(0.5, 0.51)},
            {"length_without_accuracy": (10,)},
        ),
        # accuracy falling while length rises: flagged
        (
            {"length_mean": step_up(100, 150), "accuracy": step_up(0.5, 0.3)},
            {"length_without_accuracy": (10,)},
        ),
        # repetition +0.05 to 0.10: flagged (rise and level both met)
        ({"repetition": step_up(0.05, 0.10)}, {"repetition": (10,)}),
        # repetition +0.05 but only to 0.09: below the level
        ({"repetition": step_up(0.04, 0.09)}, {}),
        # repetition +0.04: below the rise
        ({"repetition": step_up(0.10, 0.14)}, {}),
        # no-answer rate +0.2 to 0.2: format collapse
        ({"no_answer": step_up(0.0, 0.2)}, {"format_collapse": (10,)}),
        # no-answer rate high but steady: not a trend
        ({"no_answer": [0.3] * 10}, {}),
        # timeouts: exactly 1% is fine, above is flagged, step by step
        ({"timeout": [0.0, 0.01, 0.0101, 0.0, 0.5, 0, 0, 0, 0, 0]}, {"timeouts": (3, 5)}),
        ({"error": [0.0] * 9 + [0.02]}, {"errors": (10,)}),
        ({"judge_failed": [0.02] * 10}, {"judge_failures": tuple(range(1, 11))}),
        # exploration outweighs correctness at a step: more than 5% of pairs inverted
        ({"inversions": [0.05, 0.06, math.nan] + [0.0] * 7}, {"exploration_dominates": (2,)}),
    ],
)
def test_rule_rows(changes: dict[str, list[float]], expected: dict[str, tuple[int, ...]]) -> None:
    assert fired(table(**changes)) == expected


def test_a_step_change_is_flagged_while_the_windows_straddle_it() -> None:
    # Repetition 0 -> 0.3 at step 11 of 20, windows of 5. Step 11: recent (7..11) averages
    # 0.06, under the 0.10 level. Steps 12..19: recent minus before is 0.12 to 0.30, and still
    # 0.06 at 19 (0.30 against 10..14's 0.24). Step 20: both windows are 0.30, flat again.
    series = step_up(0.0, 0.3, n=20, at=11)
    found = {f.key: f for f in evaluate(table(20, repetition=series))}
    assert found["repetition"].steps == tuple(range(12, 20))
    assert found["repetition"].episodes == ((12, 19),)


def test_episodes_group_consecutive_steps() -> None:
    found = {f.key: f for f in evaluate(table(timeout=[0, 1, 1, 0, 1, 0, 0, 1, 1, 1]))}
    assert found["timeouts"].episodes == ((2, 3), (5, 5), (8, 10))


def test_steps_are_the_runs_own_not_consecutive_numbers() -> None:
    # A run dumped every 10 steps: windows count dumps, episodes name the dumped steps.
    t = table(10, timeout=[0.0] * 8 + [0.5, 0.5])
    t.steps = [10 * k for k in range(1, 11)]
    found = {f.key: f for f in evaluate(t)}
    assert found["timeouts"].steps == (90, 100) and found["timeouts"].episodes == ((90, 100),)


def test_short_runs_shrink_the_window_and_say_so() -> None:
    # 6 steps: windows of 3; the rule text says so.
    t = table(6, repetition=step_up(0.0, 0.2, n=6, at=4))
    found = {f.key: f for f in evaluate(t)}
    assert found["repetition"].steps == (6,)
    assert "last 3 steps" in found["repetition"].rule


@pytest.mark.parametrize("n", [1, 2, 3])
def test_runs_under_four_steps_skip_the_trend_rules_with_a_note(n: int) -> None:
    found = evaluate(table(n, repetition=[0.0] * (n - 1) + [0.9]))
    trend = [f for f in found if f.key in ("length_without_accuracy", "repetition")]
    assert all(not f.evaluated and not f.fired for f in trend)
    assert all(f"the run has {n}" in f.note for f in trend)
    level = {f.key: f for f in found}["timeouts"]
    assert level.evaluated


def test_an_undefined_pair_ranking_is_not_evaluated() -> None:
    # Every step all correct (or all wrong): no (correct, wrong) pair exists.
    found = {f.key: f for f in evaluate(table(inversions=[math.nan] * 10))}
    assert not found["exploration_dominates"].evaluated
    assert "both correct and wrong" in found["exploration_dominates"].note


def test_thresholds_are_settings() -> None:
    t = table(repetition=step_up(0.0, 0.04))
    assert fired(t) == {}
    # Windows of 3: only at step 8 (recent 6..8 = 0.04, before 3..5 = 0) is the rise >= 0.03.
    strict = Thresholds(repetition_rise=0.03, repetition_level=0.03, window=3)
    assert fired(t, strict) == {"repetition": (8,)}


def test_every_rule_is_written_out_with_its_numbers() -> None:
    texts = {f.key: f.rule for f in evaluate(table())}
    assert texts["length_without_accuracy"] == (
        "the mean response length over the last 5 steps is at least 10% above its mean over "
        "the 5 steps before, while mean accuracy over the same windows rose by at most 0.01 "
        "(flat or falling)"
    )
    assert texts["repetition"].endswith("above its mean over the 5 steps before, and at least 0.1")
    assert "above 1%" in texts["timeouts"] and "above 5%" in texts["exploration_dominates"]
