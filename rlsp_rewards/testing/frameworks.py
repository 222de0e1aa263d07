"""How verl, OpenRLHF and TRL call a reward: the arguments of one call, in each one's words.

* verl: ``fn(data_source=, solution_str=, ground_truth=, extra_info=)`` by keyword, one sample;
* OpenRLHF: ``fn(queries, prompts, labels)`` positionally, lists, the queries chat-templated;
* TRL: ``fn(prompts=, completions=, completion_ids=, solution=, ...)`` by keyword on a batch,
  with ``trainer_state``, ``log_extra`` and ``log_metric``.

Example:
    >>> from rlsp_rewards.testing.cases import CASES
    >>> call = invoke("verl", lambda **kw: kw["ground_truth"], [CASES[0]], "math")
    >>> call()
    '2'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

from rlsp_rewards.testing.cases import Case

__all__ = ["FRAMEWORKS", "Framework", "call_shape", "invoke", "is_async"]

Framework = Literal["verl", "openrlhf", "trl"]
FRAMEWORKS: tuple[str, ...] = ("verl", "openrlhf", "trl")
#: The keywords TRL's GRPOTrainer adds to every call besides the dataset's columns.
_TRL_KWARGS = ("trainer_state", "log_extra", "log_metric")


def invoke(
    framework: str, fn: Callable[..., Any], batch: list[Case], data_source: str
) -> Callable[[], Any]:
    """The call ``framework`` makes of ``fn`` on ``batch`` (verl: its first case), not yet made."""
    if framework == "verl":
        case = batch[0]
        return lambda: fn(
            data_source=data_source,
            solution_str=case.response,
            ground_truth=case.gold,
            extra_info={"split": "test", "index": 0},
        )
    if framework == "trl":
        completions = [c.response or "" for c in batch]  # TRL decodes: never None
        return lambda: fn(
            prompts=[c.prompt for c in batch],
            completions=completions,
            completion_ids=[[0] * max(1, len(text) // 4) for text in completions],
            solution=[c.gold for c in batch],
            **dict.fromkeys(_TRL_KWARGS, _ignore),
        )
    queries = [_query(c) for c in batch]
    prompts = [_templated_prompt(c) for c in batch]
    labels = [c.gold for c in batch]
    return lambda: fn(queries, prompts, labels)


def call_shape(framework: str) -> str:
    """How ``framework`` calls a reward, in words (for a signature error's report)."""
    if framework == "verl":
        return "fn(data_source=..., solution_str=..., ground_truth=..., extra_info=...)"
    if framework == "trl":
        return "fn(prompts=..., completions=..., completion_ids=..., solution=..., " + (
            ", ".join(f"{k}=..." for k in _TRL_KWARGS) + ") with lists"
        )
    return "fn(queries, prompts, labels) with three lists"


def _ignore(*args: Any) -> None:
    """Stands in for TRL's ``log_extra`` and ``log_metric`` callbacks."""


def is_async(fn: Callable[..., Any]) -> bool:
    """Whether TRL awaits ``fn``: an ``async def`` function or ``__call__``."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


def _templated_prompt(case: Case) -> str:
    """The prompt as OpenRLHF passes it: chat-templated, so the query starts with it."""
    return f"<|im_start|>user\n{case.prompt}<|im_end|>\n<|im_start|>assistant\n"


def _query(case: Case) -> str:
    response = case.response if case.response is not None else ""
    return f"{_templated_prompt(case)}{response}<|im_end|>"
