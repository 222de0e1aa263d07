"""rlsp-rewards: RLSP reward functions for verl and OpenRLHF that never crash or hang a run.

``import rlsp_rewards`` stays fast: no sympy, no torch, no framework is imported.
"""

from __future__ import annotations

from .core import RESULT_KEYS, LengthSource, OutcomeStatus, Reward, RewardResult, Sample
from .errors import ConfigError, DependencyError, RlspRewardsError

__version__ = "0.1.0"

__all__ = [
    "RESULT_KEYS",
    "ConfigError",
    "DependencyError",
    "LengthSource",
    "OutcomeStatus",
    "Reward",
    "RewardResult",
    "RlspRewardsError",
    "Sample",
    "__version__",
]
