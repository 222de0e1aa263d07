"""TRL integration: our rewards as ``GRPOTrainer`` reward functions (see :mod:`.reward`).

Ready instances, picklable (TRL's async GRPO scores in a spawned process):

* :data:`combined`: the RLSP reward, ``paper`` preset (``rewards/rlsp_combined/mean``);
* :data:`outcome`: correctness alone (``rlsp_outcome``);
* :data:`length`: the length term ``-C/|o|`` alone (``rlsp_length``).

All read the gold from the dataset column ``solution`` (TRL passes each column as a keyword
list) and the exact token count from ``completion_ids``. Other settings::

    from rlsp_rewards.integrations.trl import RlspTrlReward
    reward = RlspTrlReward(preset="guarded", gold_column="answer")
    trainer = GRPOTrainer(model=..., reward_funcs=[reward], args=..., train_dataset=...)

This package imports neither TRL nor torch: it only speaks TRL's call convention.

Example:
    >>> from rlsp_rewards.integrations import trl
    >>> out = trl.combined(prompts=["2+2?"], completions=["\\\\boxed{4}"],
    ...                    completion_ids=[[0] * 1000], solution=["4"])
    >>> [round(x, 9) for x in out], trl.combined.__name__
    ([0.6], 'rlsp_combined')
"""

from __future__ import annotations

from .batch import message_text, prompt_text, samples
from .reward import COLUMN_KEYS, METRIC_KEYS, AsyncRlspTrlReward, RlspTrlReward

__all__ = [
    "COLUMN_KEYS",
    "METRIC_KEYS",
    "AsyncRlspTrlReward",
    "RlspTrlReward",
    "combined",
    "length",
    "message_text",
    "outcome",
    "prompt_text",
    "samples",
]

#: The RLSP reward, ``paper`` preset: ``0.8*v + 0.2*(-1000/|o|)``.
combined = RlspTrlReward("combined")
#: Correctness alone: 1 when the final answer equals the gold, else 0.
outcome = RlspTrlReward("outcome")
#: The length exploration term alone: ``-C/|o|``, ``|o|`` from ``completion_ids``.
length = RlspTrlReward("length")
