"""The ``rlsp`` reward manager for verl 0.9.1: our rewards with the facts only verl knows.

verl's default ``naive`` manager calls a reward with the decoded response alone. The ``rlsp``
manager (``reward.reward_manager.name=rlsp``) also passes the exact response token count
(``response_tokens``, also put in a copy of ``extra_info``) and the prompt (for the judge), and
awaits our rewards' async path on the worker's event loop, so a judge request never holds a
thread. Its ``reward_extra_info`` is always the fixed key set of
:data:`rlsp_rewards.core.RESULT_KEYS`. When it is built, the manager starts the verifier's
worker processes in the background (the reward's ``warm_up()``), so they are up before the
first rollout finishes.

Which reward it runs:

* ``reward.custom_reward_function.path=pkg://rlsp_rewards`` with ``name=combined`` (or
  ``outcome``, ``length``, ``judge``, or any :class:`~rlsp_rewards.core.Reward`): that reward,
  with ``reward_kwargs`` as its settings (validated when the manager is built).
* no custom function: ``rlsp_rewards.combined`` (the ``paper`` preset).
* any other function: called as ``naive`` calls it, plus ``prompt`` and ``response_tokens``
  when its signature accepts them (a named parameter or ``**kwargs``). Its errors are its own.

Manager setting (verl has no reward clip of its own):
``+reward.reward_kwargs.clip_range=[-10,10]`` clips ``reward_score`` to that range, as the paper's
trainer did; ``reward_extra_info["score"]`` keeps the reward's own value.

Example:
    >>> from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
    >>> get_reward_manager_cls("rlsp") is RlspRewardManager
    True
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from verl import DataProto
from verl.experimental.reward_loop.reward_manager import register
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
from verl.trainer.ppo.reward import _call_with_kwargs, _call_with_kwargs_async
from verl.utils.reward_score import default_compute_score

from rlsp_rewards.core import Reward
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.registry import build

__all__ = ["RlspRewardManager", "clip_range_from_config"]

logger = logging.getLogger("rlsp_rewards.integrations.verl")

#: The wrappers verl's loader puts around a configured function (they merge its reward_kwargs).
_VERL_WRAPPERS = (_call_with_kwargs, _call_with_kwargs_async)


@register("rlsp")
class RlspRewardManager(RewardManagerBase):
    """verl reward manager that feeds our rewards the exact token count and the prompt.

    Args:
        config: verl's full config (``config.reward`` is read).
        tokenizer: the policy's tokenizer, used to decode prompt and response.
        compute_score: what verl loaded from ``reward.custom_reward_function`` (or its default).
        reward_router_address: a verl-managed reward model's router, passed on to the reward
            (our judge uses it as its endpoint).
        reward_model_tokenizer: that reward model's tokenizer, passed on like ``naive`` does.
        **kwargs: anything a later verl passes; ignored.

    Raises:
        ConfigError: when ``reward_kwargs`` are not valid settings of the configured reward,
            ``reward.reward_kwargs.clip_range`` is not two increasing finite numbers, or the
            reward is a group shape (``exploration=kimi`` or ``shorter_better``), which
            verl's one-sample-at-a-time Reward Loop cannot feed.

    Example:
        >>> from omegaconf import OmegaConf
        >>> from rlsp_rewards.exploration.length import LengthExploration
        >>> cfg = OmegaConf.create({"reward": {}})
        >>> manager = RlspRewardManager(cfg, tokenizer=None, compute_score=LengthExploration())
        >>> type(manager.reward).__name__
        'LengthExploration'
    """

    def __init__(
        self,
        config: Any,
        tokenizer: Any,
        compute_score: Callable[..., Any] | None = None,
        reward_router_address: str | None = None,
        reward_model_tokenizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, tokenizer, compute_score)
        self.reward_router_address = reward_router_address
        self.reward_model_tokenizer = reward_model_tokenizer
        self.clip_range = clip_range_from_config(config)
        self.compute_score: Callable[..., Any] = compute_score or default_compute_score
        #: our reward with its reward_kwargs applied (validated here, not on the first sample),
        #: or None when compute_score is a user function
        self.reward = _our_reward(compute_score)
        _require_per_sample(self.reward)
        self._extra_names = _accepted_extras(compute_score)
        self._is_async = _is_async(compute_score)
        warm_up = _warm_up_of(self.reward)
        if warm_up is not None:  # start the verifier's worker processes while rollouts generate
            threading.Thread(target=_warm_up, args=(warm_up,), daemon=True).start()

    async def run_single(self, data: DataProto) -> dict[str, Any]:
        """Score the last sequence of ``data`` (verl's multi-sequence convention).

        Returns:
            ``{"reward_score": float, "reward_extra_info": dict}``; for our rewards the dict
            has exactly :data:`~rlsp_rewards.core.RESULT_KEYS`.
        """
        item = data[-1:][0]
        loop = asyncio.get_running_loop()
        response_ids = item.batch["responses"]
        response_tokens = int(item.batch["attention_mask"][-response_ids.shape[-1] :].sum())
        response = await loop.run_in_executor(
            None,
            functools.partial(
                self.tokenizer.decode, response_ids[:response_tokens], skip_special_tokens=True
            ),
        )
        prompt = await loop.run_in_executor(None, self._prompt_text, item)
        rows = item.non_tensor_batch
        call = {
            "data_source": rows.get("data_source", ""),
            "solution_str": response,
            "ground_truth": (rows.get("reward_model") or {}).get("ground_truth"),
            "extra_info": _extra_info(rows, response_tokens),
        }
        if self.reward_router_address is not None:
            call["reward_router_address"] = self.reward_router_address
            call["reward_model_tokenizer"] = self.reward_model_tokenizer
        if self.reward is not None:
            result = await self.reward.acall(**call, response_tokens=response_tokens, prompt=prompt)
        else:
            result = await self._call_user_function(call, response_tokens, prompt)
        return self._output(result)

    async def _call_user_function(
        self, call: dict[str, Any], response_tokens: int, prompt: str
    ) -> Any:
        extras = {"response_tokens": response_tokens, "prompt": prompt}
        if self._extra_names is not None:
            extras = {k: v for k, v in extras.items() if k in self._extra_names}
        kwargs = {**call, **extras}
        if self._is_async:
            return await self.compute_score(**kwargs)
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(self.compute_score, **kwargs)
        )

    def _output(self, result: Any) -> dict[str, Any]:
        if isinstance(result, Mapping):
            score, extra = result["score"], dict(result)
        else:
            score, extra = result, {"acc": result}
        score = float(score)
        if self.clip_range is not None:
            score = min(max(score, self.clip_range[0]), self.clip_range[1])
        return {"reward_score": score, "reward_extra_info": extra}

    def _prompt_text(self, item: Any) -> str:
        """The problem as the user wrote it: the last user message of the dataset's chat prompt
        (``raw_prompt``), else the decoded prompt tokens."""
        chat = item.non_tensor_batch.get("raw_prompt")
        if isinstance(chat, Sequence) or hasattr(chat, "tolist"):
            messages = list(chat)
            for message in reversed(messages):
                if isinstance(message, Mapping) and message.get("role") == "user":
                    return str(message.get("content", ""))
        prompt_ids = item.batch["prompts"]
        mask = item.batch["attention_mask"][: prompt_ids.shape[-1]].bool()
        return self.tokenizer.decode(prompt_ids[mask], skip_special_tokens=True)


def _require_per_sample(reward: Reward | None) -> None:
    """Refuse a reward that needs whole groups: verl's Reward Loop calls it once per rollout.

    Example:
        >>> from rlsp_rewards.registry import build
        >>> _require_per_sample(build("combined", exploration="kimi"))
        Traceback (most recent call last):
        ...
        rlsp_rewards.errors.ConfigError: exploration='kimi' scores each response against ...
    """
    problem = reward.per_sample_problem() if reward is not None else None
    if problem is not None:
        raise ConfigError(
            f"{problem}. verl's Reward Loop scores each rollout alone as it finishes (with the "
            "rlsp, naive, dapo and gdpo managers alike), so in verl choose a per-sample shape; "
            "group shapes run where whole groups are scored: TRL (RlspTrlReward), the server's "
            "/v1/score, `rlsp-rewards score` offline"
        )


def _warm_up_of(reward: Reward | None) -> Callable[[], Any] | None:
    """The reward's ``warm_up`` (the verifier-backed rewards have one), else None."""
    warm_up = getattr(reward, "warm_up", None)
    return warm_up if callable(warm_up) else None


def _warm_up(warm_up: Callable[[], Any]) -> None:
    """Run a reward's ``warm_up`` so its first samples do not pay for starting its workers."""
    try:
        problem = None if warm_up() is not False else "the workers did not answer in time"
    except Exception as exc:  # a background nicety: scoring still works, only colder
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        logger.warning(
            "rlsp-rewards: warming up the verifier's worker processes failed (%s); the first "
            "samples may use up their time budget",
            problem,
        )


def clip_range_from_config(config: Any) -> tuple[float, float] | None:
    """Read ``reward.reward_kwargs.clip_range`` (verl's manager-level kwargs) or ``None``.

    Raises:
        ConfigError: when it is not two finite numbers ``[low, high]`` with ``low < high``.

    Example:
        >>> from omegaconf import OmegaConf
        >>> config = OmegaConf.create({"reward": {"reward_kwargs": {"clip_range": [-10, 10]}}})
        >>> clip_range_from_config(config)
        (-10.0, 10.0)
    """
    reward_cfg = config.get("reward") or {}
    value = (reward_cfg.get("reward_kwargs") or {}).get("clip_range")
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(
            f"reward.reward_kwargs.clip_range must be [low, high] with low < high, e.g. [-10,10] "
            f"(the paper's clip); got {value!r}"
        )
    return low, high


def _our_reward(compute_score: Any) -> Reward | None:
    """Our reward behind what verl loaded, with its ``reward_kwargs`` applied; None if not ours."""
    if compute_score is None or compute_score is default_compute_score:
        return build()
    if isinstance(compute_score, Reward):
        return compute_score
    reward = _user_function(compute_score)
    if isinstance(reward, Reward) and isinstance(compute_score, functools.partial):
        settings = compute_score.args[1]
        return reward.with_settings(**settings)  # OmegaConf containers are read by duck type
    return None


def _user_function(compute_score: Any) -> Any:
    """The configured function, unwrapped from verl's reward_kwargs wrapper."""
    if (
        isinstance(compute_score, functools.partial)
        and compute_score.func in _VERL_WRAPPERS
        and len(compute_score.args) == 2
    ):
        return compute_score.args[0]
    return compute_score


def _is_async(compute_score: Any) -> bool:
    function = _user_function(compute_score)
    method = getattr(function, "__call__", None)  # noqa: B004  (an object with an async __call__)
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(method)


def _accepted_extras(compute_score: Any) -> frozenset[str] | None:
    """The keyword names a user function accepts; ``None`` when it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(_user_function(compute_score)).parameters.values()
    except (TypeError, ValueError):  # builtins and odd callables: pass nothing extra
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


def _extra_info(rows: Mapping[str, Any], response_tokens: int) -> dict[str, Any]:
    """A copy of the row's ``extra_info`` with what ``naive`` adds, plus ``response_tokens``."""
    source = rows.get("extra_info")
    info = dict(source) if isinstance(source, Mapping) else {}
    tool_fields = rows.get("tool_extra_fields")
    if isinstance(tool_fields, Mapping):
        info.update(tool_fields)
    info["num_turns"] = rows.get("__num_turns__")
    info["rollout_reward_scores"] = rows.get("reward_scores", {})
    info["response_tokens"] = response_tokens
    return info
