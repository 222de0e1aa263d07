"""The report reads rollout dumps written by verl 0.9.1's own writers.

verl's trainers write ``trainer.rollout_data_dir`` with a static ``_write_generations``: the
classic ``RayPPOTrainer`` passes every reward key as an extra column, the v1 trainer
(``trainer_base``, which needs ``transfer_queue``, not installed here) passes only ``uid`` to a
writer of the same body. The classic writer is called here both ways, on results of our reward
called the way verl calls it, and read back by the report (no figures: this environment has no
matplotlib).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from verl.trainer.ppo.ray_trainer import RayPPOTrainer

from rlsp_rewards.combine import combined
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.registry import build
from rlsp_rewards.report.metrics import RunStats
from rlsp_rewards.report.rules import evaluate
from rlsp_rewards.report.sources import RunReader

PROMPT = "What is 2 + 2? Put the final answer in \\boxed{}."


def responses(step: int) -> list[tuple[str, int]]:
    """Step ``step``: ``step`` correct answers of 8, longer with the step; (text, tokens)."""
    out = []
    for i in range(8):
        answer = "4" if i < step else "5"
        checks = " ".join(f"Let me check part {k} of it." for k in range(step))  # no repeats
        text = f"{checks} So \\boxed{{{answer}}}."
        out.append((text, 20 * step + i))
    return out


def write_step(writer: Any, folder: Path, step: int) -> list[dict[str, Any]]:
    rows = responses(step)
    results = [
        combined(data_source="math", solution_str=t, ground_truth="4", extra_info={},
                 response_tokens=n, preset="guarded")
        for t, n in rows
    ]  # fmt: skip
    # verl's reward loop: a column per key of sample 0's dict, as numpy object arrays, then
    # _log_rollout_data's `.tolist()` before the writer runs.
    extra: dict[str, list[Any]] = defaultdict(list)
    for result in results:
        for key, value in result.items():
            extra[key].append(value)
    dumped = {k: np.array(v, dtype=object).tolist() for k, v in extra.items()}
    scores = [float(r["score"]) for r in results]
    writer(
        [PROMPT] * len(rows), [t for t, _ in rows], ["4"] * len(rows), scores, dumped,
        str(folder), step,
    )  # fmt: skip
    return results


def test_the_classic_trainers_dumps_carry_our_keys(tmp_path: Path) -> None:
    expected = {
        step: write_step(RayPPOTrainer._write_generations, tmp_path, step)
        for step in (1, 2, 3, 4, 5, 6)
    }
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["1.jsonl", "2.jsonl"]
    stats = RunStats()
    rollouts = list(RunReader(tmp_path))
    for rollout in rollouts:
        stats.add(rollout)
    assert len(rollouts) == 48 and rollouts[0].prompt == PROMPT and rollouts[0].gold == "4"
    first = expected[1][0]
    assert rollouts[0].result == {k: float(v) for k, v in first.items() if k != "pred"}
    assert rollouts[0].pred == first["pred"] == "4"
    table = stats.table()
    assert table.steps == [1, 2, 3, 4, 5, 6]
    assert table.values["accuracy"] == [step / 8 for step in table.steps]
    assert table.values["verification_share"] == [1.0] * 6
    assert stats.length_sources == {"framework": 48}
    assert not any(f.fired for f in evaluate(table))  # longer and more accurate: healthy


def test_the_v1_trainers_dumps_need_a_rescore(tmp_path: Path) -> None:
    # trainer_base._log_rollout_data passes only {"uid": [...]} as the extra columns.
    for step in (1, 2):
        rows = responses(step)
        RayPPOTrainer._write_generations(
            [PROMPT] * 8, [t for t, _ in rows], ["4"] * 8, [0.0] * 8,
            {"uid": [f"p{i}_0_0" for i in range(8)]}, str(tmp_path), step,
        )  # fmt: skip
    with pytest.raises(ConfigError, match="--rescore"):
        list(RunReader(tmp_path))
    rescored = list(RunReader(tmp_path, reward=build("combined", preset="guarded")))
    assert [r.step for r in rescored] == [1] * 8 + [2] * 8
    assert sum(r.result["acc"] for r in rescored) == 1 + 2
    assert {r.result["length_source"] for r in rescored} == {0.0}  # no token counts: chars / 4
