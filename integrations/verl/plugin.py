"""verl's plugin entry point: ``import verl`` imports this module in every process.

Listed in ``pyproject.toml`` under ``[project.entry-points."verl.plugins"]``, so the driver and
every Ray reward worker register the ``rlsp`` reward manager just by importing verl. verl logs a
plugin's import failure only at DEBUG level; this module logs it at WARNING first, so a broken
install is visible, then re-raises.

Example:
    >>> import verl
    >>> from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
    >>> get_reward_manager_cls("rlsp").__name__
    'RlspRewardManager'
"""

from __future__ import annotations

import logging

logger = logging.getLogger("rlsp_rewards.integrations.verl")

try:
    from .manager import RlspRewardManager
except Exception as exc:
    logger.warning(
        "rlsp-rewards: the 'rlsp' verl reward manager could not be registered "
        "(reward.reward_manager.name=rlsp will fail): %s: %s",
        type(exc).__name__,
        exc,
    )
    raise

__all__ = ["RlspRewardManager"]
