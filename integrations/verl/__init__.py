"""verl 0.9.1 integration: the ``rlsp`` reward manager (see :mod:`.manager`).

Our rewards need nothing from here to work with verl's default ``naive`` manager
(``reward.custom_reward_function.path=pkg://rlsp_rewards``, ``name=combined``). This package adds
the ``rlsp`` manager, registered with verl by the ``verl.plugins`` entry point (:mod:`.plugin`) in
every process that imports verl.

Example:
    >>> from rlsp_rewards.integrations.verl import RlspRewardManager
    >>> RlspRewardManager.__name__
    'RlspRewardManager'
"""

from __future__ import annotations

# verl first: its plugin loading imports .plugin -> .manager, which registers "rlsp"; starting
# with .manager instead would make verl's plugin loading meet a half-initialised .manager.
# Through .plugin, not .manager: .plugin reports a failure at WARNING (verl only at DEBUG).
import verl  # noqa: F401

from .plugin import RlspRewardManager

__all__ = ["RlspRewardManager"]
