"""OpenRLHF's ``reward_func(queries, prompts, labels)`` built on an rlsp-rewards reward.

:class:`OpenRLHFReward` turns OpenRLHF's three lists into :class:`~rlsp_rewards.core.Sample`
objects (response split from the query, gold read from a string or dict label), scores them
with the wrapped reward, and returns what OpenRLHF consumes: ``rewards`` (the reward's total, or
pure correctness in evaluation mode), ``scores`` (0/1 correctness, used by dynamic filtering)
and ``extra_logs`` (every numeric key of :class:`~rlsp_rewards.core.RewardResult`).

The same object serves the file adapter (``__call__``: float32 torch tensors) and the HTTP
server's ``/get_reward`` (:meth:`OpenRLHFReward.score_lists`: plain lists). It never raises
while scoring: a failure is logged at WARNING and every sample gets the reward's error score
with ``error`` = 1.

Example:
    >>> from rlsp_rewards.exploration.length import LengthExploration
    >>> adapter = OpenRLHFReward(LengthExploration())
    >>> out = adapter.score_lists(["Q: 2+2?<|im_start|>assistant\\n4<|im_end|>"], None, ["4"])
    >>> sorted(out) == ["extra_logs", "rewards", "scores"] and len(out["rewards"]) == 1
    True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from rlsp_rewards.core import NUMERIC_KEYS, Reward, RewardResult, Sample, as_text
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.registry import build

from .settings import CONFIG_ENV, AdapterSettings, settings_from_env, split_settings
from .split import split_response

__all__ = ["PER_SAMPLE_CALLS", "OpenRLHFReward"]

logger = logging.getLogger("rlsp_rewards.openrlhf")

#: The ``data_source`` given to samples scored through OpenRLHF.
DATA_SOURCE = "openrlhf"
#: Why a group shape cannot serve OpenRLHF, and what can.
PER_SAMPLE_CALLS = (
    f"OpenRLHF calls its reward once per sample (the {CONFIG_ENV} file adapter, and one HTTP "
    "request per sample to /get_reward), so in OpenRLHF choose a per-sample shape; group "
    "shapes run where whole groups are scored: the server's /v1/score, TRL (RlspTrlReward), "
    "`rlsp-rewards score` offline"
)


class OpenRLHFReward:
    """OpenRLHF's reward function: ``reward_func(queries, prompts, labels) -> dict``.

    Args:
        reward: the reward to apply; the ``paper`` preset of
            :class:`~rlsp_rewards.combine.RlspReward` when ``None``.
        settings: how labels and the evaluation switch are read.

    Example:
        >>> from rlsp_rewards.exploration.length import LengthExploration
        >>> adapter = OpenRLHFReward(LengthExploration(), AdapterSettings(label_key="gold"))
        >>> adapter.settings.label_key
        'gold'
    """

    def __init__(self, reward: Reward | None = None, settings: AdapterSettings | None = None):
        self.reward = reward if reward is not None else build()
        self.settings = settings or AdapterSettings()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OpenRLHFReward:
        """Build from flat settings: the adapter's plus :class:`RlspReward`'s.

        Raises:
            ConfigError: naming the bad setting and the known ones.

        Example:
            >>> adapter = OpenRLHFReward.from_settings({"preset": "guarded", "eval_mode": True})
            >>> adapter.settings.eval_mode
            True
        """
        adapter_settings, reward_settings = split_settings(settings)
        try:
            reward = build(adapter_settings.reward, **reward_settings)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (adapter settings: label_key, eval_mode, reward)") from None
        return cls(reward, adapter_settings)

    @classmethod
    def from_env(cls) -> OpenRLHFReward:
        """Build from ``RLSP_REWARD_CONFIG`` (inline JSON or a JSON/YAML/TOML path).

        This is the file adapter's path, and OpenRLHF calls that file once per sample, so a group
        shape (``exploration`` ``kimi`` or ``shorter_better``) is refused here.

        Raises:
            ConfigError: when the variable or the file it names holds invalid settings, or
                names a group shape.

        Example:
            >>> import os
            >>> os.environ["RLSP_REWARD_CONFIG"] = '{"preset": "guarded", "label_key": "gold"}'
            >>> OpenRLHFReward.from_env().settings.label_key
            'gold'
            >>> del os.environ["RLSP_REWARD_CONFIG"]
        """
        adapter = cls.from_settings(settings_from_env())
        problem = adapter.reward.per_sample_problem()
        if problem is not None:
            raise ConfigError(f"{problem}. {PER_SAMPLE_CALLS}")
        return adapter

    # -- turning OpenRLHF's lists into samples -------------------------------------------------

    def samples(self, queries: Any, prompts: Any, labels: Any) -> tuple[list[Sample], list[bool]]:
        """One sample per query, plus whether each asks for evaluation mode.

        Missing or short ``prompts``/``labels`` are read as ``None``.

        Example:
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> adapter = OpenRLHFReward(LengthExploration())
            >>> label = {"answer": "7", "eval_mode": True}
            >>> samples, evals = adapter.samples(["P: x</s>"], ["P:"], [label])
            >>> samples[0].response, samples[0].gold, evals
            (' x', '7', [True])
        """
        queries, prompts, labels = _as_list(queries), _as_list(prompts), _as_list(labels)
        samples, evals = [], []
        for i, query in enumerate(queries):
            prompt = prompts[i] if i < len(prompts) else None
            prompt = None if prompt is None else as_text(prompt)
            label = labels[i] if i < len(labels) else None
            gold, wants_eval = self._read_label(label)
            samples.append(
                Sample(
                    response=split_response(as_text(query), prompt),
                    gold=gold,
                    data_source=DATA_SOURCE,
                    prompt=prompt,
                )
            )
            evals.append(self.settings.eval_mode or wants_eval)
        return samples, evals

    def _read_label(self, label: Any) -> tuple[Any, bool]:
        if isinstance(label, Mapping):
            return label.get(self.settings.label_key), _is_true(label.get("eval_mode"))
        return label, False

    # -- scoring --------------------------------------------------------------------------------

    def score_lists(self, queries: Any, prompts: Any, labels: Any) -> dict[str, Any]:
        """Score a batch; plain lists (``/get_reward``'s response body). Never raises.

        Example:
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> OpenRLHFReward(LengthExploration()).score_lists([], [], [])["rewards"]
            []
        """
        try:
            samples, evals = self.samples(queries, prompts, labels)
            results = self.reward.score_batch(samples)
            if len(results) != len(samples):
                raise RuntimeError(f"{len(results)} results for {len(samples)} samples")
        except Exception as exc:  # the contract: never raise into the trainer
            return self._fallback(len(_as_list(queries)), exc)
        return self.payload(results, evals)

    async def ascore_lists(self, queries: Any, prompts: Any, labels: Any) -> dict[str, Any]:
        """Async twin of :meth:`score_lists` on the reward's async path. Never raises.

        Example:
            >>> import asyncio
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> adapter = OpenRLHFReward(LengthExploration())
            >>> asyncio.run(adapter.ascore_lists(["a"], None, None))["scores"]
            [0.0]
        """
        import asyncio

        try:
            samples, evals = self.samples(queries, prompts, labels)
            results = await asyncio.gather(*(self.reward.asafe_score(s) for s in samples))
        except Exception as exc:
            return self._fallback(len(_as_list(queries)), exc)
        return self.payload(list(results), evals)

    def payload(self, results: Sequence[RewardResult], evals: Sequence[bool]) -> dict[str, Any]:
        """OpenRLHF's response shape from per-sample results (lists of floats).

        Example:
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> adapter = OpenRLHFReward(LengthExploration())
            >>> out = adapter.payload([RewardResult(score=0.3, acc=1.0)], [True])
            >>> out["rewards"], out["scores"], out["extra_logs"]["score"]
            ([1.0], [1.0], [0.3])
        """
        rows = [r.to_dict() for r in results]
        return {
            "rewards": [
                row["acc"] if ev else row["score"] for row, ev in zip(rows, evals, strict=False)
            ],
            "scores": [row["acc"] for row in rows],
            "extra_logs": {key: [row[key] for row in rows] for key in NUMERIC_KEYS},
        }

    def _fallback(self, size: int, exc: BaseException) -> dict[str, Any]:
        logger.warning(
            "OpenRLHF reward failed on a batch of %d: %s: %s",
            size,
            type(exc).__name__,
            str(exc)[:200],
        )
        failed = RewardResult(score=self.reward.error_score, error=1.0)
        return self.payload([failed] * size, [False] * size)

    def __call__(self, queries: Any, prompts: Any, labels: Any) -> dict[str, Any]:
        """OpenRLHF's call: float32 1-D tensors of ``len(queries)``. Never raises.

        Example:
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> out = OpenRLHFReward(LengthExploration())(["q1", "q2"], None, None)
            >>> out["rewards"].dtype, tuple(out["rewards"].shape), len(out["extra_logs"]) > 10
            (torch.float32, (2,), True)
        """
        import torch

        out = self.score_lists(queries, prompts, labels)
        return {
            "rewards": torch.tensor(out["rewards"], dtype=torch.float32),
            "scores": torch.tensor(out["scores"], dtype=torch.float32),
            "extra_logs": {
                key: torch.tensor(values, dtype=torch.float32)
                for key, values in out["extra_logs"].items()
            },
        }

    def __repr__(self) -> str:
        return f"OpenRLHFReward({self.reward!r}, {self.settings!r})"


def _is_true(value: Any) -> bool:
    """A label's flag: JSON true, 1, or the strings "true"/"1"/"yes" (a "false" string is false)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return value is True or (isinstance(value, int) and value == 1)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]
