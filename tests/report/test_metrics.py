"""Per-step aggregates: exact means, bounded reservoirs, examples, pair ranking, length cap."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rlsp_rewards.core import NUMERIC_KEYS, LengthSource
from rlsp_rewards.report.metrics import EXAMPLE_CHARS, METRICS, RunStats, StepStats
from rlsp_rewards.report.sources import Rollout


def rollout(step: int = 1, source: str = "", text: str = "", **values: float) -> Rollout:
    result = dict.fromkeys(NUMERIC_KEYS, 0.0)
    result["length_source"] = float(LengthSource.FRAMEWORK)
    result.update(values)
    return Rollout(step, source, text, "prompt", "gold", result, pred="p")


def test_memory_is_bounded_per_step_while_means_stay_exact() -> None:
    # 20,000 responses into one step: the reservoir keeps 100, three examples, exact means.
    stats = StepStats(1, reservoir=100)
    for i in range(20_000):
        stats.add(rollout(length=float(i % 1000), acc=float(i % 4 == 0), repetition=i / 20_000))
    assert len(stats.lengths) == len(stats.scores) == len(stats.accs) == 100
    assert len(stats.examples) == 3
    got = stats.metrics()
    assert got["rows"] == 20_000 and got["accuracy"] == 0.25
    assert got["length_mean"] == pytest.approx(499.5)
    assert 350 < got["length_p50"] < 650  # a uniform sample of 0..999
    assert set(got) == {m.name for m in METRICS}


def test_percentiles_are_exact_while_the_step_fits_the_reservoir() -> None:
    stats = StepStats(1)
    for n in range(1, 11):
        stats.add(rollout(length=float(n)))
    got = stats.metrics()
    assert (got["length_p50"], got["length_p90"]) == (5.5, 9.1)  # inclusive quantiles


def test_the_examples_are_the_shortest_correct_longest_wrong_most_repetitive() -> None:
    stats = StepStats(3)
    rows = [
        ("a", 1.0, 300.0, 0.0),
        ("b", 1.0, 120.0, 0.1),  # the shortest correct
        ("c", 0.0, 900.0, 0.2),  # the longest wrong
        ("d", 0.0, 400.0, 0.7),  # the most repetitive
        ("e", 1.0, 120.0, 0.0),  # a tie: the first one stays
    ]
    for text, acc, length, repetition in rows:
        stats.add(rollout(3, "math", text, acc=acc, length=length, repetition=repetition))
    picked = {kind: ex.response for kind, ex in stats.examples.items()}
    assert picked == {"shortest correct": "b", "longest wrong": "c", "most repetitive": "d"}
    assert stats.examples["longest wrong"].data_source == "math"


def test_example_texts_are_clipped_at_both_ends() -> None:
    stats = StepStats(1)
    text = "start " + "x" * 10_000 + " end"
    stats.add(rollout(text=text, acc=0.0, length=5000.0))
    example = stats.examples["longest wrong"]
    assert example.chars == len(text) and len(example.response) < EXAMPLE_CHARS + 60
    assert example.response.startswith("start ") and example.response.endswith(" end")
    assert "characters left out" in example.response


def test_no_repetition_means_no_most_repetitive_example() -> None:
    stats = StepStats(1)
    stats.add(rollout(acc=1.0, length=10.0))
    assert set(stats.examples) == {"shortest correct"}


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # (score, acc) rows of a step -> share of (correct, wrong) pairs with wrong >= correct
        ([(0.8, 1), (0.6, 1), (0.0, 0), (-0.2, 0)], 0.0),  # guarded: correct always on top
        ([(0.8, 1), (-1.2, 1), (-0.1, 0), (-0.3, 0)], 0.5),  # a short correct one sinks
        ([(0.5, 1), (0.5, 0)], 1.0),  # a tie counts as ranked wrong
        ([(1.0, 1), (0.9, 1)], math.nan),  # no wrong response: undefined
        ([(0.0, 0)], math.nan),  # no correct response: undefined
    ],
)
def test_the_pair_ranking(pairs: list[tuple[float, int]], expected: float) -> None:
    stats = StepStats(1)
    for score, acc in pairs:
        stats.add(rollout(score=score, acc=float(acc)))
    got = stats.metrics()["inversions"]
    assert math.isnan(got) if math.isnan(expected) else got == expected


def add_lengths(stats: RunStats, step: int, lengths: list[float], **values: Any) -> None:
    for n in lengths:
        stats.add(rollout(step, length=n, **values))


def test_the_length_cap_given() -> None:
    stats = RunStats(max_response_tokens=100)
    add_lengths(stats, 1, [50.0, 100.0, 120.0, 99.0])
    assert stats.length_cap() == (100, "given: 100 tokens")
    assert stats.table().values["truncated"] == [0.5]


def test_the_length_cap_inferred_from_a_pile_up_at_one_exact_length() -> None:
    stats = RunStats()
    add_lengths(stats, 1, [50.0, 80.0])
    add_lengths(stats, 2, [60.0, 700.0, 700.0, 700.0])
    cap, how = stats.length_cap()
    assert cap == 700.0 and how.startswith("inferred: 3 responses")
    assert stats.table().values["truncated"] == [0.0, 0.75]


def test_no_cap_is_inferred_from_one_longest_response_or_from_character_counts() -> None:
    alone = RunStats()
    add_lengths(alone, 1, [50.0, 700.0])
    add_lengths(alone, 2, [60.0, 700.0])  # one per step: a coincidence, not a cap
    assert alone.length_cap()[0] is None
    chars = RunStats()
    add_lengths(chars, 1, [700.0, 700.0], length_source=float(LengthSource.CHARS))
    cap, how = chars.length_cap()
    assert cap is None and "--max-response-tokens" in how
    assert math.isnan(chars.table().values["truncated"][0])


def test_per_source_tables_split_the_steps() -> None:
    stats = RunStats()
    for step in (1, 2):
        stats.add(rollout(step, "math", acc=1.0, length=100.0))
        stats.add(rollout(step, "aime", acc=0.0, length=300.0))
    stats.add(rollout(2, "aime", acc=1.0, length=200.0))
    assert stats.sources == ["aime", "math"]
    aime = stats.source_table("aime")
    assert aime.steps == [1, 2] and aime.values["accuracy"] == [0.0, 0.5]
    assert stats.table().values["accuracy"] == [0.5, pytest.approx(2 / 3)]
    assert stats.source_table("math").values["length_mean"] == [100.0, 100.0]
    assert not stats.judge_used


def test_the_judge_is_seen_when_any_row_has_a_grade_or_a_failure() -> None:
    stats = RunStats()
    stats.add(rollout(judge_failed=1.0, judge_grade=0.5))
    assert stats.judge_used
