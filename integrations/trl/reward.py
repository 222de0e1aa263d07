"""Our rewards as TRL reward functions: ``f(prompts, completions, completion_ids, **kwargs)``.

:class:`RlspTrlReward` wraps a reward from :func:`rlsp_rewards.registry.build` (same names and
settings as verl, OpenRLHF and the CLI) in the call ``GRPOTrainer`` makes once per generation
batch, and scores the batch on the reward's batch path (deduplicated, parallel verification;
judge calls in threads). It returns one float per completion: the reward's ``score``.

What reaches TRL's logs, besides ``rewards/<name>/mean`` (the returned score):

* ``log_metric``: ``<name>/<key>`` for every numeric key of the fixed result set but ``score``
  (``acc``, ``outcome``, ``length_term``, ``judge_grade``, ``shape_term``, ``length``,
  ``length_source``, the flags, the behaviour counts...), the batch mean: a flag's mean is its
  rate;
* ``log_extra``: the columns ``<name>/acc``, ``<name>/pred``, ``<name>/outcome``,
  ``<name>/length_term``, ``<name>/judge_grade`` and ``<name>/shape_term`` of the completions
  table.

Both are logged on every call with the same names, failures included: TRL gathers them across
ranks by name, and a column that missed a batch would no longer line up with its completions.

``None``: TRL reads a ``None`` reward as "not applicable": a completion whose every reward is
``None`` is left out of its group's baseline and gets advantage 0. By default every completion
gets a number (the reward's defined score for what happened, e.g. 0 for a verifier timeout,
counted in ``<name>/timeout``). With ``unscored="none"``, a completion the reward could not
judge (``timeout``, ``error`` or ``gold_unparseable`` set) gets ``None`` instead, as TRL's own
``accuracy_reward`` does for a gold it cannot parse: use it when a timeout should teach
nothing rather than count as wrong.

Group shapes (``exploration="kimi"`` or ``"shorter_better"``) work here: TRL passes the
generation batch, and the batch is split into groups by prompt (``extra_info["prompt_id"]``,
i.e. a ``prompt_id`` dataset column, else the prompt text). With several processes each one
scores its own share of the batch; a prompt's completions stay together only when
``per_device_train_batch_size * steps_per_generation`` is a multiple of ``num_generations``
(a warning says so once when the run is distributed).

``clip_range=(low, high)`` clips the returned rewards, as the paper's trainer clipped to
[-10, 10] (TRL has no reward clip of its own); the logged components keep their own values.

Example:
    >>> reward = RlspTrlReward("outcome")
    >>> reward(prompts=["2+2?"], completions=["\\\\boxed{4}"], solution=["4"])
    [1.0]
    >>> reward.__name__
    'rlsp_outcome'
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rlsp_rewards.core import NUMERIC_KEYS, Reward, RewardResult, recoverable
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.registry import build

from .batch import TRL_KWARGS, samples

__all__ = ["COLUMN_KEYS", "METRIC_KEYS", "AsyncRlspTrlReward", "RlspTrlReward"]

logger = logging.getLogger("rlsp_rewards.integrations.trl")

#: The result keys logged with ``log_metric`` (batch means), as ``<name>/<key>``.
METRIC_KEYS: tuple[str, ...] = tuple(k for k in NUMERIC_KEYS if k != "score")
#: The result keys logged with ``log_extra`` (completions-table columns), as ``<name>/<key>``.
COLUMN_KEYS: tuple[str, ...] = (
    "acc",
    "pred",
    "outcome",
    "length_term",
    "judge_grade",
    "shape_term",
)
#: The flags that mean a completion could not be judged (``unscored="none"`` gives ``None``).
UNSCORED_FLAGS: tuple[str, ...] = ("timeout", "error", "gold_unparseable")
#: The rewards that read the gold column (a missing column is warned about once).
_NEEDS_GOLD = frozenset({"combined", "outcome"})

Unscored = Literal["fallback", "none"]


class _TrlReward:
    """The work shared by :class:`RlspTrlReward` and its async twin (their ``__call__`` differ)."""

    def __init__(
        self,
        reward: str = "combined",
        *,
        gold_column: str = "solution",
        name: str | None = None,
        unscored: Unscored = "fallback",
        clip_range: Sequence[float] | None = None,
        **settings: Any,
    ) -> None:
        if not isinstance(gold_column, str) or not gold_column:
            raise ConfigError(
                f"gold_column must name the dataset column with the answers (default "
                f"'solution'), got {gold_column!r}"
            )
        if unscored not in ("fallback", "none"):
            raise ConfigError(
                f"unscored must be 'fallback' (the defined score) or 'none' (TRL's 'not "
                f"applicable'), got {unscored!r}"
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"name must be a non-empty string (a metric name), got {name!r}")
        self.clip_range = _clip_range(clip_range)
        self.reward: Reward = build(reward, **settings)
        self.reward_name = reward
        self.gold_column = gold_column
        self.unscored: Unscored = unscored
        self.settings = dict(settings)
        #: the metric name TRL logs this reward under (``rewards/<__name__>/mean``)
        self.__name__ = name or f"rlsp_{reward}"
        self._warned_gold = False
        self._grouped = self.reward.per_sample_problem() is not None
        self._warned_split = False

    # -- scoring --------------------------------------------------------------------------------

    def score(
        self, prompts: Any, completions: Any, completion_ids: Any, kwargs: Mapping[str, Any]
    ) -> list[RewardResult]:
        """One result per completion of a TRL batch. Never raises.

        Example:
            >>> reward = RlspTrlReward("length")
            >>> [r.length for r in reward.score(None, ["abc"], [[1, 2, 3, 4]], {})]
            [4.0]
        """
        if self._grouped and not self._warned_split and _world_size() > 1:
            self._warned_split = True
            logger.warning(
                "%s: a group shape scores each prompt's completions together, and each of the "
                "%d processes scores only its own share of TRL's generation batch; keep "
                "per_device_train_batch_size * steps_per_generation a multiple of "
                "num_generations so that no prompt's completions are split across processes",
                self.__name__,
                _world_size(),
            )
        try:
            batch = samples(prompts, completions, completion_ids, self._golds(kwargs), kwargs)
            results = self.reward.score_batch(batch)
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} completions")
            return list(results)
        except BaseException as exc:  # the contract: never raise into the trainer
            if not recoverable(exc):  # an interrupt or exit still stops the run
                raise
            size = _size(completions)
            logger.warning(
                "%s failed on a TRL batch of %d: %s: %s",
                self.__name__,
                size,
                type(exc).__name__,
                str(exc)[:200],
            )
            return [RewardResult(score=self.reward.error_score, error=1.0)] * size

    def finish(
        self, results: Sequence[RewardResult], kwargs: Mapping[str, Any]
    ) -> list[float | None]:
        """Log the results through TRL's callbacks and return the rewards TRL trains on.

        Example:
            >>> logged = {}
            >>> reward = RlspTrlReward("outcome", unscored="none")
            >>> results = [RewardResult(score=1.0, acc=1.0), RewardResult(timeout=1.0)]
            >>> reward.finish(results, {"log_metric": logged.__setitem__})
            [1.0, None]
            >>> logged["rlsp_outcome/acc"], logged["rlsp_outcome/timeout"]
            (0.5, 0.5)
        """
        rows = [r.to_dict() for r in results]
        self._log(rows, kwargs.get("log_extra"), kwargs.get("log_metric"))
        skip = self.unscored == "none"
        low, high = self.clip_range or (-math.inf, math.inf)
        return [
            None
            if skip and any(row[f] for f in UNSCORED_FLAGS)
            else min(max(float(row["score"]), low), high)
            for row in rows
        ]

    # -- the pieces -----------------------------------------------------------------------------

    def _golds(self, kwargs: Mapping[str, Any]) -> Any:
        golds = kwargs.get(self.gold_column)
        if golds is None and self.reward_name in _NEEDS_GOLD and not self._warned_gold:
            self._warned_gold = True
            columns = sorted(k for k in kwargs if k not in TRL_KWARGS)
            logger.warning(
                "%s: TRL passed no %r column, so every gold is missing (gold_unparseable=1); "
                "the columns passed are %s: set gold_column to the one with the answers",
                self.__name__,
                self.gold_column,
                columns,
            )
        return golds

    def _log(self, rows: list[dict[str, Any]], log_extra: Any, log_metric: Any) -> None:
        prefix = self.__name__
        try:
            if callable(log_metric) and rows:
                for key in METRIC_KEYS:
                    log_metric(f"{prefix}/{key}", math.fsum(r[key] for r in rows) / len(rows))
            if callable(log_extra):
                for key in COLUMN_KEYS:
                    log_extra(f"{prefix}/{key}", [r[key] for r in rows])
        except Exception as exc:  # logging is a nicety: the rewards still reach the trainer
            logger.warning("%s: logging to TRL failed: %s: %s", prefix, type(exc).__name__, exc)

    # -- pickling: the settings; the reward is rebuilt (shared per process) ---------------------

    def __getstate__(self) -> dict[str, Any]:
        return {
            "reward": self.reward_name,
            "gold_column": self.gold_column,
            "name": self.__name__,
            "unscored": self.unscored,
            "clip_range": self.clip_range,
            **self.settings,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__getstate__().items())
        return f"{type(self).__name__}({shown})"


class RlspTrlReward(_TrlReward):
    """A TRL reward function built on one of our rewards (see the module docstring).

    Args:
        reward: the reward's name in :func:`rlsp_rewards.registry.build`: ``"combined"``
            (the RLSP reward, by ``preset``), ``"outcome"``, ``"length"`` or ``"judge"``.
        gold_column: the dataset column with the reference answers (TRL passes each column
            as a keyword list).
        name: the metric name (default ``rlsp_<reward>``); give two instances different names.
        unscored: ``"fallback"`` (the defined score) or ``"none"`` (``None`` for a completion
            that could not be judged).
        clip_range: ``(low, high)`` to clip the returned rewards to, e.g. ``(-10, 10)``.
        **settings: the reward's settings (``preset``, ``alpha``, ``C``, ``judge_url``...).

    Raises:
        ConfigError: for an unknown reward, an unknown or invalid setting, or a bad adapter
            setting.

    Example:
        >>> guarded = RlspTrlReward(preset="guarded", gold_column="answer")
        >>> out = guarded(prompts=["1+1?"] * 2, completions=["\\\\boxed{2}", "\\\\boxed{3}"],
        ...               completion_ids=[[7] * 1000] * 2, answer=["2", "2"])
        >>> [round(x, 9) for x in out]
        [0.6, -0.2]
        >>> clipped = RlspTrlReward(clip_range=(-10, 10))  # 0.2 * -1000/10 = -20, clipped
        >>> clipped(prompts=["?"], completions=["no idea"], completion_ids=[[7] * 10], solution=[4])
        [-10.0]
    """

    def __call__(
        self,
        prompts: Any = None,
        completions: Any = None,
        completion_ids: Any = None,
        **kwargs: Any,
    ) -> list[float | None]:
        """Score TRL's generation batch: one reward per completion. Never raises."""
        return self.finish(self.score(prompts, completions, completion_ids, kwargs), kwargs)


class AsyncRlspTrlReward(_TrlReward):
    """The async twin of :class:`RlspTrlReward` (same arguments), for TRL's async reward path.

    TRL gathers ``async`` reward functions concurrently on its event loop. The batch is scored
    in a worker thread (the same batch path as the sync reward), so the loop stays free for
    the other async rewards meanwhile.

    Example:
        >>> import asyncio
        >>> reward = AsyncRlspTrlReward("outcome")
        >>> asyncio.run(reward(prompts=["?"], completions=["\\\\boxed{3}"], solution=["3"]))
        [1.0]
    """

    async def __call__(
        self,
        prompts: Any = None,
        completions: Any = None,
        completion_ids: Any = None,
        **kwargs: Any,
    ) -> list[float | None]:
        """Score TRL's generation batch off the event loop. Never raises."""
        import asyncio

        results = await asyncio.to_thread(self.score, prompts, completions, completion_ids, kwargs)
        return self.finish(results, kwargs)  # TRL's log callbacks run on the caller's loop


def _clip_range(value: Sequence[float] | None) -> tuple[float, float] | None:
    """``clip_range`` as two increasing finite floats, or None; ConfigError otherwise."""
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(
            f"clip_range must be (low, high) with low < high, e.g. (-10, 10) (the paper's "
            f"trainer clip); got {value!r}"
        )
    return low, high


def _world_size() -> int:
    """The number of processes of a running ``torch.distributed`` job (1 when none; torch is
    only looked at when the trainer has imported it)."""
    dist = sys.modules.get("torch.distributed")
    try:
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_world_size())
    except Exception:  # a half-initialised process group: not distributed for our purpose
        pass
    return 1


def _size(completions: Any) -> int:
    try:
        return len(completions)
    except Exception:  # None or not a sequence
        return 0
