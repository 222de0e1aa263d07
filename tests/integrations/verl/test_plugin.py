"""The ``rlsp`` manager's registration, as a Ray reward worker meets it: a fresh process that
only runs ``import verl``. And a registration that fails says so at WARNING level (verl itself
logs a plugin's failure only at DEBUG).
"""

from __future__ import annotations

import doctest
import importlib
import os
import subprocess
import sys
from typing import Any

import pytest
import verl  # noqa: F401  (a framework test imports its framework first)

LOOK_UP = (
    "import verl\n"
    "from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls\n"
    "print(get_reward_manager_cls('rlsp').__module__)\n"
)


# Make the manager module unimportable, as a broken install would.
SABOTAGE = "import sys; sys.modules['rlsp_rewards.integrations.verl.manager'] = None\n"


@pytest.fixture(scope="module")
def fresh_processes() -> dict[str, subprocess.CompletedProcess[str]]:
    """Both fresh interpreters, run at the same time (each spends seconds importing verl)."""
    scripts = {"plain": LOOK_UP, "sabotaged": SABOTAGE + LOOK_UP}
    running = {
        name: subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for name, code in scripts.items()
    }
    done = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=180)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done


def test_import_verl_alone_registers_rlsp(fresh_processes: dict[str, Any]) -> None:
    done = fresh_processes["plain"]
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "rlsp_rewards.integrations.verl.manager"


def test_a_failed_registration_is_logged_at_warning(fresh_processes: dict[str, Any]) -> None:
    done = fresh_processes["sabotaged"]
    assert done.returncode != 0  # the lookup fails: reward.reward_manager.name=rlsp cannot work
    assert "WARNING" in done.stderr
    assert "'rlsp' verl reward manager could not be registered" in done.stderr


@pytest.mark.parametrize(
    "module",
    [
        "rlsp_rewards.integrations.verl",
        "rlsp_rewards.integrations.verl.manager",
        "rlsp_rewards.integrations.verl.plugin",
    ],
)
def test_doc_examples(module: str) -> None:
    # integrations/ is outside the core doctest run (it needs verl): run its examples here
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
