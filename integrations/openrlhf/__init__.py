"""OpenRLHF 0.11.2 adapter: ``reward_func`` for ``--reward.remote_url /path/reward_func.py``.

OpenRLHF executes the file it is given without registering it as a module, so anything
defined there cannot be pickled; the shipped ``reward_func.py`` (its path is printed by
``rlsp-rewards openrlhf-path``) is therefore one import line, and the object lives here.

``reward_func`` is built on first access from ``RLSP_REWARD_CONFIG``, so a bad setting fails
when OpenRLHF loads the file, not at training step 300; the verifier's worker processes start
then, in the background, so the first rollouts' rewards do not pay for their start. Importing
this package alone reads no settings and imports no torch.

Example:
    >>> from rlsp_rewards.integrations.openrlhf import split_response
    >>> split_response("<|im_start|>assistant\\nhi<|im_end|>", None)
    'hi'
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rlsp_rewards.errors import require

from .adapter import OpenRLHFReward
from .settings import CONFIG_ENV, AdapterSettings, load_settings
from .split import split_response

__all__ = [
    "CONFIG_ENV",
    "AdapterSettings",
    "OpenRLHFReward",
    "adapter_file",
    "load_settings",
    "reward_func",
    "split_response",
]

_lock = threading.Lock()


def adapter_file() -> Path:
    """The absolute path of the one-line file to pass to ``--reward.remote_url``.

    Example:
        >>> adapter_file().name
        'reward_func.py'
    """
    return Path(__file__).resolve().with_name("reward_func.py")


def __getattr__(name: str) -> Any:
    if name != "reward_func":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        built = globals().get("reward_func")
        if built is None:
            require(
                "torch", "openrlhf"
            )  # the file adapter returns tensors: fail at load, not per call
            built = OpenRLHFReward.from_env()
            globals()["reward_func"] = built
            warm_up = getattr(built.reward, "warm_up", None)
            if callable(warm_up):  # the worker processes start while the first rollouts run
                threading.Thread(target=_quietly, args=(warm_up,), daemon=True).start()
    return built


def _quietly(warm_up: Any) -> None:
    try:
        warm_up()
    except Exception:  # a cold first call is better than a failed load; it starts them again
        pass
