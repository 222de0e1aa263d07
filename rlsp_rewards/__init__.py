"""rlsp-rewards: RLSP reward functions for verl, OpenRLHF and TRL that never crash or hang a run.

The ready instances have verl's keyword signature and return a dict with fixed keys:

    >>> import rlsp_rewards
    >>> response = "so $\\\\boxed{\\\\frac12}$"
    >>> r = rlsp_rewards.outcome(data_source="demo", solution_str=response, ground_truth="0.5")
    >>> r["acc"], r["pred"]
    (1.0, '\\\\frac12')

``rlsp_rewards.combined`` (the paper preset), ``outcome``, ``length`` and ``judge`` are
*instances*; their classes live in the sub-packages of the same names
(``from rlsp_rewards.outcome import OutcomeVerifier``). ``import rlsp_rewards`` stays fast:
no sympy, no torch, no framework, no HTTP client is imported.
"""

from __future__ import annotations

# The sub-packages are imported before the instances are bound: importing a sub-package sets the
# package attribute of the same name, so this order keeps `rlsp_rewards.outcome` the instance.
from rlsp_rewards import combine as _combine
from rlsp_rewards import exploration as _exploration
from rlsp_rewards import judge as _judge
from rlsp_rewards import outcome as _outcome
from rlsp_rewards.combine import RlspConfig, RlspReward
from rlsp_rewards.core import RESULT_KEYS, LengthSource, OutcomeStatus, Reward, RewardResult, Sample
from rlsp_rewards.errors import ConfigError, DependencyError, RlspRewardsError
from rlsp_rewards.exploration import LengthConfig, LengthExploration
from rlsp_rewards.judge import JudgeConfig, JudgeExploration, JudgeGrade
from rlsp_rewards.outcome import OutcomeConfig, OutcomeVerifier, Verdict

__version__ = "0.1.0"

combined: RlspReward = _combine.combined
outcome: OutcomeVerifier = _outcome.outcome
length: LengthExploration = _exploration.length
judge: JudgeExploration = _judge.judge

__all__ = [
    "RESULT_KEYS",
    "ConfigError",
    "DependencyError",
    "JudgeConfig",
    "JudgeExploration",
    "JudgeGrade",
    "LengthConfig",
    "LengthExploration",
    "LengthSource",
    "OutcomeConfig",
    "OutcomeStatus",
    "OutcomeVerifier",
    "Reward",
    "RewardResult",
    "RlspConfig",
    "RlspReward",
    "RlspRewardsError",
    "Sample",
    "Verdict",
    "__version__",
    "combined",
    "judge",
    "length",
    "outcome",
]
