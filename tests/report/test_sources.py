"""Reading runs: verl's dump layout, our score outputs, steps, skipped rows, re-scoring."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rlsp_rewards.cli.runs import score_file
from rlsp_rewards.core import RewardResult, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.registry import build
from rlsp_rewards.report.sources import RunReader, file_step, run_files


def write_jsonl(path: Path, rows: Sequence[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def verl_row(step: int | None, output: str = "so \\boxed{2}", **result: float) -> dict[str, Any]:
    """A row as verl 0.9.1's _write_generations writes it for a run that used our reward."""
    out = RewardResult(**result).to_dict()  # type: ignore[arg-type]
    row: dict[str, Any] = {"input": "what is 1+1?", "output": output, "gts": "2", "score": 0.0}
    if step is not None:
        row["step"] = step
    row.update(out)
    return row


def test_verl_dump_rows_are_read_with_prompt_response_and_gold(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "7.jsonl", [verl_row(7, acc=1.0, outcome=1.0, length=12.0)])
    [rollout] = list(RunReader(tmp_path))
    assert (rollout.step, rollout.prompt, rollout.response, rollout.gold) == (
        7,
        "what is 1+1?",
        "so \\boxed{2}",
        "2",
    )
    assert rollout.result["acc"] == 1.0 and rollout.result["length"] == 12.0
    assert rollout.data_source == ""  # verl does not dump it


def test_score_outputs_are_read_and_their_skipped_rows_counted(tmp_path: Path) -> None:
    inputs = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"response": "\\boxed{4}", "gold": "4", "data_source": "math", "step": 3},
            {"response": "no gold here", "step": 3},
            "not json",
        ],
    )
    out = tmp_path / "run" / "scored.jsonl"
    score_file(inputs, build("combined", preset="guarded"), out=out)
    reader = RunReader(out.parent)
    [rollout] = list(reader)
    assert (rollout.step, rollout.data_source, rollout.result["acc"]) == (3, "math", 1.0)
    assert reader.skipped == 2
    assert set(reader.skip_reasons) == {"skipped when scored"}
    assert reader.first_skips[0][:2] == ("scored.jsonl", 2)


def test_unreadable_lines_are_skipped_with_their_reason(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "1.jsonl", [verl_row(1), "{broken", "[1, 2]"])
    reader = RunReader(tmp_path)
    assert len(list(reader)) == 1 and reader.skipped == 2
    assert set(reader.skip_reasons) == {"invalid JSON", "not a JSON object (a list)"}


def test_rows_without_our_result_ask_for_a_rescore(tmp_path: Path) -> None:
    # verl's own math reward returns a float: the dump has score and acc, none of our keys.
    write_jsonl(tmp_path / "1.jsonl", [{"input": "q", "output": "a", "gts": "1", "score": 1.0,
                                         "step": 1, "acc": 1.0}])  # fmt: skip
    with pytest.raises(ConfigError, match="--rescore --preset guarded"):
        list(RunReader(tmp_path))


class CountingReward:
    """The real reward, counting its batch calls."""

    def __init__(self) -> None:
        self.reward = build("combined", preset="guarded")
        self.batches: list[int] = []

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        self.batches.append(len(samples))
        return self.reward.score_batch(samples)


def test_rescoring_scores_every_row_again_in_chunks(tmp_path: Path) -> None:
    # A dump of a run scored by another reward: its acc says 1 for every row; ours decides.
    rows = [
        {
            "input": "q",
            "output": f"so \\boxed{{{n}}}",
            "gts": "2",
            "score": 1.0,
            "step": 4,
            "acc": 1,
        }
        for n in (1, 2, 3, 2, 2)
    ]
    write_jsonl(tmp_path / "4.jsonl", rows)
    reward = CountingReward()
    rollouts = list(RunReader(tmp_path, reward=reward, chunk_size=2))
    assert [r.result["acc"] for r in rollouts] == [0.0, 1.0, 0.0, 1.0, 1.0]
    assert [r.pred for r in rollouts] == ["1", "2", "3", "2", "2"]
    assert reward.batches == [2, 2, 1]  # the batch path, a chunk at a time


def test_rescoring_the_demo_sample_reads_its_problem_as_the_prompt() -> None:
    from rlsp_rewards.cli.demo import sample_rollouts_path

    rollouts = list(RunReader(sample_rollouts_path(), reward=build("combined")))
    assert len(rollouts) == 207 and {r.step for r in rollouts} == {0}
    assert rollouts[0].prompt.startswith("What is") and rollouts[0].data_source == "math"


@pytest.mark.parametrize(
    ("name", "row_step", "expected", "origin"),
    [
        ("12.jsonl", 12, 12, "field"),  # verl: both agree
        ("12.jsonl", 30, 30, "field"),  # the row's own step wins
        ("scored-step9.jsonl", None, 9, "file name"),  # our outputs, one file per step
        ("run-2026-05-01.jsonl", None, 1, "file name"),  # the last number in the name
        ("rollouts.jsonl", None, 0, "none"),  # no step anywhere: one step, 0
    ],
)
def test_a_rows_step(
    tmp_path: Path, name: str, row_step: int | None, expected: int, origin: str
) -> None:
    write_jsonl(tmp_path / name, [verl_row(row_step)])
    reader = RunReader(tmp_path)
    assert [r.step for r in reader] == [expected]
    assert reader.step_sources == {origin: 1}


@pytest.mark.parametrize("value", ["5", 5.0, 5])
def test_step_fields_as_numbers_or_digits(tmp_path: Path, value: Any) -> None:
    row = verl_row(None) | {"step": value}
    write_jsonl(tmp_path / "x.jsonl", [row])
    assert [r.step for r in RunReader(tmp_path)] == [5]


def test_run_files_are_in_step_order_and_compressed_files_are_read(tmp_path: Path) -> None:
    for step in (10, 2, 1):
        write_jsonl(tmp_path / f"{step}.jsonl", [verl_row(step)])
    with gzip.open(tmp_path / "3.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(verl_row(3)) + "\n")
    (tmp_path / "notes.txt").write_text("not a run file")
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "99.jsonl", [verl_row(99)])  # sub-folders are not read
    assert [p.name for p in run_files(tmp_path)] == ["1.jsonl", "2.jsonl", "3.jsonl.gz", "10.jsonl"]
    assert [r.step for r in RunReader(tmp_path)] == [1, 2, 3, 10]
    assert file_step("3.jsonl.gz") == 3


def test_missing_and_empty_runs_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        RunReader(tmp_path / "nope")
    with pytest.raises(ConfigError, match="rollout_data_dir"):
        RunReader(tmp_path)
    with pytest.raises(ConfigError, match="chunk_size"):
        RunReader(write_jsonl(tmp_path / "1.jsonl", [verl_row(1)]), chunk_size=0)


def test_progress_counts_every_row_read(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "1.jsonl", [verl_row(1)] * 300 + ["bad"])
    write_jsonl(tmp_path / "2.jsonl", [verl_row(2)] * 5)
    reader = RunReader(tmp_path)
    seen: list[int] = []
    assert len(list(reader.rollouts(on_rows=seen.append))) == 305
    assert sum(seen) == reader.total_rows() == 306
