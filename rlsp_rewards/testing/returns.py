"""What each framework reads from a reward's return value: its shape, its keys, its numbers.

verl takes a number or a dict with ``score`` and builds a metric column from every key of the
first sample; OpenRLHF reads ``{"rewards", "scores", "extra_logs"}``, one value per query; TRL
reads a list of one number or ``None`` per completion. Every number must be finite.

Example:
    >>> from rlsp_rewards.testing.checker import Checker
    >>> checker = Checker(lambda **kw: 0.0, "trl", 10.0, (), "math")
    >>> check_value(checker, [1.0, float("nan")], 2)
    >>> [str(p) for p in checker.problems]
    ['reward = nan is not finite; it poisons the batch mean']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rlsp_rewards.testing.values import is_number

if TYPE_CHECKING:
    from rlsp_rewards.testing.checker import Checker

__all__ = ["check_keys", "check_value"]


def check_value(checker: Checker, value: Any, n: int) -> None:
    """Check one call's plain return value for ``n`` samples against its framework's reading."""
    if checker.framework == "verl":
        _check_verl_value(checker, value)
    elif checker.framework == "trl":
        _check_trl_value(checker, value, n)
    else:
        _check_openrlhf_value(checker, value, n)


def check_keys(checker: Checker) -> None:
    """Check that every call returned the first call's keys (verl's dict, OpenRLHF's logs)."""
    if not checker.key_sets:
        return
    first_where, first = checker.key_sets[0]
    for where, keys in checker.key_sets[1:]:
        if keys == first:
            continue
        checker.where = where
        if checker.framework == "verl":
            why = (
                "verl builds each per-sample column from the first sample's keys: a key "
                "missing there is silently dropped, a key missing later raises KeyError in "
                "the trainer"
            )
        else:
            why = "OpenRLHF stacks extra_logs per key across samples: each needs every key"
        checker.problem(
            "keys",
            f"returns {_describe(keys)}, but the first input ({first_where!r}) returns "
            f"{_describe(first)}; {why}",
        )
    checker.where = None


def _check_trl_value(checker: Checker, value: Any, n: int) -> None:
    if not isinstance(value, list):
        checker.problem(
            "shape",
            f"returned {type(value).__name__}, not a list: TRL needs one reward per "
            "completion, a number or None",
        )
        return
    if len(value) != n:
        checker.problem(
            "shape",
            f"returned {len(value)} rewards for {n} completions: TRL raises ValueError",
        )
    for item in value:
        if item is not None:  # None: "not applicable", which TRL leaves out
            _check_number(checker, "reward", item, "TRL builds a float tensor from the list")


def _check_verl_value(checker: Checker, value: Any) -> None:
    checker.key_sets.append((checker.where, frozenset(value) if isinstance(value, dict) else None))
    if isinstance(value, dict):
        if "score" not in value:
            checker.problem("shape", "the dict has no 'score' key; verl reads result['score']")
        for key, item in value.items():
            if key == "pred" and isinstance(item, str):
                continue
            _check_number(checker, key, item, "verl builds metric arrays from every key")
    elif is_number(value):
        _check_number(checker, "score", value, "")
    else:
        checker.problem(
            "shape",
            f"returned {type(value).__name__}; verl needs a number or a dict with 'score'",
        )


def _check_openrlhf_value(checker: Checker, value: Any, n: int) -> None:
    if not isinstance(value, dict):
        checker.problem(
            "shape",
            f"returned {type(value).__name__}, not a dict: OpenRLHF logs it at INFO and the "
            "reward becomes None. Return {'rewards': [...], 'scores': [...], "
            "'extra_logs': {...}}",
        )
        return
    if "rewards" not in value:
        checker.problem("shape", "the dict has no 'rewards' key, the reward OpenRLHF trains on")
    for key in ("scores", "extra_logs"):
        if key not in value:
            checker.problem(
                "shape",
                f"the dict has no {key!r} key (scores drive dynamic filtering, extra_logs the "
                "logged metrics); return both with the same length as queries",
                "warn",
            )
    for key in ("rewards", "scores"):
        if key in value:
            _check_column(checker, key, value[key], n)
    logs = value.get("extra_logs", {})
    if isinstance(logs, dict):
        checker.key_sets.append((checker.where, frozenset(logs)))
    else:
        checker.problem("shape", f"extra_logs is {type(logs).__name__}, not a dict of lists")
        return
    for key, column in logs.items():
        _check_column(checker, f"extra_logs[{key!r}]", column, n)


def _check_column(checker: Checker, key: str, column: Any, n: int) -> None:
    items = column if isinstance(column, list) else [column]
    if not isinstance(column, list) and n != 1:
        checker.problem("shape", f"{key} is a single value for {n} queries")
        return
    if len(items) != n:
        checker.problem("shape", f"{key} has {len(items)} values for {n} queries (need one each)")
    for item in items:
        _check_number(checker, key, item, "OpenRLHF builds float tensors from it")


def _check_number(checker: Checker, key: str, item: Any, why: str) -> None:
    reason = f"; {why}" if why else ""
    if not is_number(item):
        checker.problem("values", f"{key} = {_short(item)} is not a number{reason}")
    elif not math.isfinite(float(item)):
        checker.problem("values", f"{key} = {item} is not finite; it poisons the batch mean")


def _describe(keys: frozenset[str] | None) -> str:
    return "a bare number" if keys is None else "keys {" + ", ".join(sorted(keys)) + "}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
