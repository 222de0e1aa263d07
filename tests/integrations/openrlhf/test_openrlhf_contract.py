"""The OpenRLHF adapter passes the OpenRLHF contract checker (runs in the OpenRLHF environment).

The adapter returns float32 torch tensors, so this file runs where torch is installed
(``make test-openrlhf``). ``rlsp-rewards check`` is run on the shipped one-line adapter file
exactly as a user would, loaded by path as OpenRLHF loads it.
"""

from __future__ import annotations

import openrlhf  # noqa: F401  (the real framework must be installed here)
import pytest
import torch  # noqa: F401
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app
from rlsp_rewards.combine import RlspReward
from rlsp_rewards.integrations.openrlhf import OpenRLHFReward, adapter_file
from rlsp_rewards.testing import check_reward


@pytest.mark.parametrize("preset", ["paper", "reference", "guarded"])
def test_the_adapter_passes_the_openrlhf_contract(preset: str) -> None:
    report = check_reward(OpenRLHFReward(RlspReward(preset=preset)), framework="openrlhf")
    assert report.ok, str(report)
    assert report.problems == ()  # not even a warning


def test_check_passes_the_shipped_adapter_file() -> None:
    result = CliRunner().invoke(
        app, ["check", f"{adapter_file()}:reward_func", "--framework", "openrlhf"]
    )
    assert result.exit_code == 0, result.output
    assert "passed" in result.output
