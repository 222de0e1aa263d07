"""The doctests of the adapters, run against the installed package (``rlsp_rewards.integrations``).

``pytest --doctest-modules integrations/`` would import those files a second time under another
name; running ``doctest`` on the imported modules checks the examples users read.
"""

from __future__ import annotations

import doctest
import importlib
import os

import pytest

#: The modules with examples, by the environment that can import them.
MODULES = {
    "core": [
        "rlsp_rewards.integrations.openrlhf",
        "rlsp_rewards.integrations.openrlhf.batcher",
        "rlsp_rewards.integrations.openrlhf.gate",
        "rlsp_rewards.integrations.openrlhf.metrics",
        "rlsp_rewards.integrations.openrlhf.server",
        "rlsp_rewards.integrations.openrlhf.settings",
        "rlsp_rewards.integrations.openrlhf.split",
        # the TRL adapter speaks TRL's call convention without importing TRL
        "rlsp_rewards.integrations.trl",
        "rlsp_rewards.integrations.trl.batch",
        "rlsp_rewards.integrations.trl.reward",
    ],
    # the file adapter returns torch tensors
    "openrlhf": ["rlsp_rewards.integrations.openrlhf.adapter"],
    "verl": [
        "rlsp_rewards.integrations.verl",
        "rlsp_rewards.integrations.verl.manager",
        "rlsp_rewards.integrations.verl.plugin",
    ],
}


@pytest.mark.parametrize("name", MODULES.get(os.environ.get("RLSP_TEST_FRAMEWORK", "core"), []))
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
