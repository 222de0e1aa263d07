"""The TRL adapter with the length shapes, called TRL's way (no TRL needed): TRL passes the whole
generation batch, so group shapes see each prompt's completions together."""

from __future__ import annotations

import logging
import pickle
import sys
import types

import pytest

from rlsp_rewards.integrations.trl import RlspTrlReward
from rlsp_rewards.integrations.trl.reward import COLUMN_KEYS, METRIC_KEYS

TOL = 1e-9
RIGHT, WRONG = "\\boxed{4}", "\\boxed{5}"


def batch() -> dict:
    """Two prompts, three completions each, as TRL passes them (interleaving is allowed)."""
    return {
        "prompts": ["2+2?", "2+2?", "1+3?", "2+2?", "1+3?", "1+3?"],
        "completions": [RIGHT, WRONG, RIGHT, RIGHT, RIGHT, WRONG],
        "completion_ids": [[0] * n for n in (100, 400, 50, 250, 50, 300)],
        "solution": ["4"] * 6,
    }


def test_kimi_groups_trl_batches_by_prompt() -> None:
    logged: dict[str, object] = {}
    columns: dict[str, list] = {}
    reward = RlspTrlReward(exploration="kimi")
    out = reward(**batch(), log_metric=logged.__setitem__, log_extra=columns.__setitem__)
    # 2+2?: lengths 100, 400, 250 -> lam 0.5, -0.5 (wrong), 0.0; 1+3?: 50, 50, 300 -> 0.5, 0.5,
    # -0.5 (wrong); score 0.8*v + 0.2*term
    terms = [0.5, -0.5, 0.5, 0.0, 0.5, -0.5]
    right = [1, 0, 1, 1, 1, 0]
    assert out == pytest.approx(
        [0.8 * v + 0.2 * t for v, t in zip(right, terms, strict=True)], abs=TOL
    )
    assert columns["rlsp_combined/shape_term"] == pytest.approx(terms, abs=TOL)
    assert logged["rlsp_combined/shape_term"] == pytest.approx(sum(terms) / 6, abs=TOL)
    assert "shape_term" in COLUMN_KEYS and "shape_term" in METRIC_KEYS


def test_shorter_better_and_per_sample_shapes_through_trl() -> None:
    out = RlspTrlReward(exploration="shorter_better", name="sb")(**batch())
    # 2+2?: l_sol 100 -> 2, -0.3, 1.85; 1+3?: l_sol 50 -> 2, 2, -0.25
    assert out == pytest.approx([2.0, -0.3, 2.0, 1.85, 2.0, -0.25], abs=TOL)
    cosine = RlspTrlReward(exploration="cosine", max_tokens=400, name="cos")(**batch())
    assert cosine[1] == pytest.approx(-0.5, abs=TOL)  # wrong at the limit


def test_group_shapes_pickle_for_trls_spawned_workers() -> None:
    reward = RlspTrlReward(exploration="kimi", name="kimi")
    clone = pickle.loads(pickle.dumps(reward))
    assert clone(**batch()) == reward(**batch())


def test_a_distributed_run_is_warned_once_about_split_groups(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dist = types.SimpleNamespace(
        is_available=lambda: True, is_initialized=lambda: True, get_world_size=lambda: 4
    )
    monkeypatch.setitem(sys.modules, "torch.distributed", dist)
    reward = RlspTrlReward(exploration="kimi")
    with caplog.at_level(logging.WARNING, logger="rlsp_rewards"):
        reward(**batch())
        reward(**batch())
        RlspTrlReward(exploration="cosine")(**batch())  # per-sample: nothing to split
    warned = [r for r in caplog.records if "split across processes" in r.getMessage()]
    assert len(warned) == 1 and "4 processes" in warned[0].getMessage()
