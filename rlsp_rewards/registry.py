"""Names to rewards: :func:`build` is the one factory every front end uses.

verl's manager, the OpenRLHF adapter and its HTTP server, the TRL adapter and the command line
all build their reward here, from a name and flat settings, so a setting means the same thing
everywhere and a typo fails the same way everywhere (a :class:`~rlsp_rewards.errors.ConfigError`
naming the setting and the known ones).

The names are those of the ready instances at the package top level:

* ``"combined"``: :class:`~rlsp_rewards.combine.RlspReward` (the RLSP reward, by ``preset``);
* ``"outcome"``: :class:`~rlsp_rewards.outcome.OutcomeVerifier` (correctness alone);
* ``"length"``: :class:`~rlsp_rewards.exploration.LengthExploration` (the length term alone);
* ``"judge"``: :class:`~rlsp_rewards.judge.JudgeExploration` (the judge's grade alone).

A reward is derived from the shared instance of its name (``instance.with_settings``), so every
reward of a process with the same settings is one object with one verdict cache.

Example:
    >>> build("combined", preset="guarded").config.length_floor
    -1.0
    >>> build("combined", preset="guarded") is build("combined", preset="guarded")
    True
    >>> build("outcome").config.extraction
    'last_box'
"""

from __future__ import annotations

from typing import Any

from rlsp_rewards.core import Reward
from rlsp_rewards.errors import ConfigError

__all__ = ["REWARD_NAMES", "build"]

#: The names :func:`build` knows, in the order the docs list them.
REWARD_NAMES: tuple[str, ...] = ("combined", "outcome", "length", "judge")


def _instances() -> dict[str, Reward]:
    from rlsp_rewards.combine import combined
    from rlsp_rewards.exploration import length
    from rlsp_rewards.judge import judge
    from rlsp_rewards.outcome import outcome

    return {"combined": combined, "outcome": outcome, "length": length, "judge": judge}


def build(name: str = "combined", **settings: Any) -> Reward:
    """The reward called ``name``, with ``settings`` on top of its defaults.

    Args:
        name: one of :data:`REWARD_NAMES`.
        **settings: the reward's settings, flat (``preset``, ``alpha``, ``C``, ``timeout_s``...);
            OmegaConf containers are read as plain lists and dicts.

    Returns:
        A picklable reward with verl's call convention and the fixed result keys.

    Raises:
        ConfigError: for an unknown name, or an unknown or invalid setting.

    Example:
        >>> build("lenght")
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: unknown reward 'lenght'; known: combined, ..., judge
    """
    instance = _instances().get(name) if isinstance(name, str) else None
    if instance is None:
        raise ConfigError(f"unknown reward {name!r}; known: {', '.join(REWARD_NAMES)}")
    return instance.with_settings(**settings)
