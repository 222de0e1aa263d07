"""The reward a ``module:name`` or ``path/to/file.py:name`` spec names (``rlsp-rewards check``).

Example:
    >>> load_target("operator:add")(2, 3)
    5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlsp_rewards.errors import ConfigError

__all__ = ["load_target"]


def load_target(spec: str) -> Callable[..., Any]:
    """The reward named by ``"package.module:name"`` or ``"path/to/file.py:name"``.

    A file is loaded the way verl and OpenRLHF load one: executed as a module that is *not*
    registered in ``sys.modules``, so its own functions cannot be pickled, as in the frameworks.
    ``name`` may be dotted (``module:obj.attr``).

    Raises:
        ConfigError: when the spec is malformed, or the module or name cannot be loaded.

    Example:
        >>> from rlsp_rewards.testing import check_reward
        >>> load_target("rlsp_rewards.testing:check_reward") is check_reward
        True
    """
    module_part, sep, name = spec.rpartition(":")
    if not sep or not module_part or not name:
        raise ConfigError(
            f"give the reward as module:name or path/to/file.py:name "
            f"(e.g. mypkg.rewards:my_reward), got {spec!r}"
        )
    try:
        obj: Any = _load_module(module_part)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot load {module_part!r}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{module_part!r} has no attribute {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{spec!r} is a {type(obj).__name__}, not a callable reward")
    return obj


def _load_module(module_part: str) -> Any:
    import importlib
    import importlib.util
    import os

    if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
        if not os.path.isfile(module_part):
            raise ConfigError(f"reward file {module_part!r} does not exist")
        unique = f"reward_file_{abs(hash(os.path.abspath(module_part)))}"
        spec = importlib.util.spec_from_file_location(unique, module_part)
        if spec is None or spec.loader is None:
            raise ConfigError(f"{module_part!r} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(module_part)
