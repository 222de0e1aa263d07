"""Settings for the OpenRLHF adapter, read from ``RLSP_REWARD_CONFIG`` (or given directly).

OpenRLHF passes no arguments to a reward file, so the adapter reads one environment variable:
inline JSON, or the path of a ``.json``, ``.yaml``/``.yml`` or ``.toml`` file. The settings
are flat: the adapter's own (:class:`AdapterSettings`) plus the reward's
(:class:`~rlsp_rewards.combine.RlspReward` settings such as ``preset``, ``alpha``, ``C``).

Example:
    >>> adapter, reward = split_settings(load_settings('{"preset": "guarded", "eval_mode": true}'))
    >>> adapter.eval_mode, reward
    (True, {'preset': 'guarded'})
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from rlsp_rewards.errors import ConfigError, DependencyError

__all__ = ["CONFIG_ENV", "AdapterSettings", "load_settings", "settings_from_env", "split_settings"]

#: The environment variable the file adapter reads its settings from.
CONFIG_ENV = "RLSP_REWARD_CONFIG"


class AdapterSettings(BaseModel):
    """How OpenRLHF's ``label`` and the evaluation switch are read.

    Attributes:
        label_key: the key holding the gold answer when a label is a dict (``--data.label_key``
            passes the dataset's value unchanged, so a dict label arrives as a dict).
        eval_mode: when true, ``rewards`` is pure 0/1 correctness (for eval pass@k). A single
            sample can ask for it too with ``"eval_mode": true`` inside a dict label.
        reward: which reward to serve, by its name in :func:`rlsp_rewards.registry.build`
            (``combined``, ``outcome``, ``length`` or ``judge``).

    Example:
        >>> AdapterSettings(label_key="solution").label_key
        'solution'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    label_key: str = "answer"
    eval_mode: bool = False
    reward: str = "combined"


def load_settings(source: str) -> dict[str, Any]:
    """Read flat settings from inline JSON or from a JSON, YAML or TOML file.

    Args:
        source: inline JSON (``'{"preset": "guarded"}'``) or a file path.

    Returns:
        The settings as a dict (empty for an empty ``source``).

    Raises:
        ConfigError: when the text or the file cannot be read, or is not a mapping.
        DependencyError: for a YAML file without PyYAML installed.

    Example:
        >>> load_settings('{"alpha": 0.9}')
        {'alpha': 0.9}
    """
    text = source.strip()
    if not text:
        return {}
    if text[0] in "{[":  # inline JSON (a list is read, then rejected as not a mapping)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{CONFIG_ENV} is not valid JSON ({exc}); got {text[:80]!r}"
            ) from None
        return _mapping(data, "the inline JSON")
    return _mapping(_read_file(Path(text).expanduser()), text)


def _read_file(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in {".json", ".yaml", ".yml", ".toml"}:
        raise ConfigError(
            f"settings file {str(path)!r} must end in .json, .yaml, .yml or .toml "
            "(or pass inline JSON starting with '{')"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read settings file {str(path)!r}: {exc.strerror or exc}"
        ) from None
    try:
        if suffix == ".json":
            return json.loads(raw)
        if suffix == ".toml":
            return _toml_module(path).loads(raw.decode("utf-8"))
        return _yaml_module(path).safe_load(raw)
    except DependencyError:
        raise
    except Exception as exc:  # each parser has its own error type
        raise ConfigError(f"cannot parse settings file {str(path)!r}: {exc}") from None


def _toml_module(path: Path) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:
        import tomli  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise DependencyError(
            f"reading {str(path)!r} on Python 3.10 needs tomli; run: pip install tomli"
        ) from None
    return tomli


def _yaml_module(path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        raise DependencyError(
            f"reading {str(path)!r} needs PyYAML; run: pip install pyyaml (or use JSON/TOML)"
        ) from None
    return yaml


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must hold a mapping of settings, got {type(data).__name__}")
    return dict(data)


def split_settings(settings: Mapping[str, Any]) -> tuple[AdapterSettings, dict[str, Any]]:
    """Separate the adapter's own settings from the reward's; validate the adapter's.

    Raises:
        ConfigError: when an adapter setting has a wrong value.

    Example:
        >>> split_settings({"label_key": "gold", "C": 500})[1]
        {'C': 500}
    """
    own = {k: v for k, v in settings.items() if k in AdapterSettings.model_fields}
    rest = {k: v for k, v in settings.items() if k not in AdapterSettings.model_fields}
    try:
        return AdapterSettings(**own), rest
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid OpenRLHF adapter setting: {problems}") from None


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings in ``RLSP_REWARD_CONFIG`` (empty when the variable is unset).

    Example:
        >>> settings_from_env({CONFIG_ENV: '{"preset": "paper"}'})
        {'preset': 'paper'}
    """
    env = os.environ if environ is None else environ
    return load_settings(env.get(CONFIG_ENV, ""))
