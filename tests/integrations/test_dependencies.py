"""The framework adapters fail at load time, with the pip line, when a dependency is missing."""

from __future__ import annotations

import importlib.util

import pytest

from rlsp_rewards.errors import DependencyError


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_openrlhf_file_adapter_without_torch_fails_when_loaded() -> None:
    # OpenRLHF swallows exceptions raised per call; the file adapter must fail when it is built.
    import rlsp_rewards.integrations.openrlhf as adapter

    with pytest.raises(DependencyError, match=r'pip install "rlsp-rewards\[openrlhf\]"'):
        adapter.reward_func  # noqa: B018
