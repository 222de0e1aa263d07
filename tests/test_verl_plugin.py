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

import pytest
import verl  # noqa: F401  (a framework test imports its framework first)

LOOK_UP = (
    "import verl\n"
    "from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls\n"
    "print(get_reward_manager_cls('rlsp').__module__)\n"
)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, **env}, check=False,
    )


def test_import_verl_alone_registers_rlsp() -> None:
    done = run_python(LOOK_UP)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "rlsp_rewards.integrations.verl.manager"


def test_a_failed_registration_is_logged_at_warning() -> None:
    # Make the manager module unimportable, as a broken install would.
    sabotage = "import sys; sys.modules['rlsp_rewards.integrations.verl.manager'] = None\n"
    done = run_python(sabotage + LOOK_UP)
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
