"""The exception hierarchy of rlsp-rewards.

Exceptions are raised only while *building* something (a config, a reward, the CLI, the
server). Scoring never raises: a failure becomes a defined score and a 1.0 in a status key.

Example:
    >>> from rlsp_rewards.errors import ConfigError, RlspRewardsError
    >>> issubclass(ConfigError, ValueError) and issubclass(ConfigError, RlspRewardsError)
    True
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DependencyError",
    "JudgeError",
    "RlspRewardsError",
    "TokenizerError",
    "require",
]


class RlspRewardsError(Exception):
    """Base class of every exception this library raises on purpose."""


class ConfigError(RlspRewardsError, ValueError):
    """A setting is invalid; the message names the bad value and what would work."""


class DependencyError(RlspRewardsError, ImportError):
    """An optional dependency is missing; the message gives the exact ``pip install`` line."""


class JudgeError(RlspRewardsError):
    """A judge call or its reply failed: the endpoint, the status or what was wrong with it.

    Raised inside the judge only; a reward that scores turns it into ``judge_failed = 1``.
    """


class TokenizerError(RlspRewardsError):
    """A tokenizer could not be loaded (the path and the cause are in the message).

    Raised inside the length measure only; scoring falls back to characters / 4 with
    ``error = 1``.
    """


def require(module: str, extra: str) -> None:
    """Raise :class:`DependencyError` unless ``module`` can be imported.

    Args:
        module: the importable module name, e.g. ``"httpx"``.
        extra: the rlsp-rewards extra that provides it, e.g. ``"judge"``.

    Raises:
        DependencyError: with the ``pip install`` line that fixes it.

    Example:
        >>> require("json", "core")
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DependencyError(
            f'{module!r} is not installed; run: pip install "rlsp-rewards[{extra}]"'
        )
