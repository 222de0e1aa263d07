"""The shared shapes: :class:`Sample`, :class:`RewardResult`, and the base :class:`Reward`.

Every reward in this library is a picklable object whose ``__call__`` has verl's keyword
signature and returns a plain ``dict`` with the same keys for every sample (:data:`RESULT_KEYS`),
whatever happened. The base class owns that contract, so a reward only implements
:meth:`Reward.score` for one :class:`Sample` and returns a :class:`RewardResult`.

Example:
    >>> from rlsp_rewards.core import RESULT_KEYS, RewardResult
    >>> d = RewardResult(score=1.0, acc=1.0, pred="42").to_dict()
    >>> list(d) == list(RESULT_KEYS) and d["score"] == 1.0 and d["pred"] == "42"
    True
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import operator
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from rlsp_rewards.errors import ConfigError

__all__ = [
    "BEHAVIOUR_KEYS",
    "COMPONENT_KEYS",
    "NUMERIC_KEYS",
    "RESULT_KEYS",
    "SAMPLE_KWARGS",
    "STATUS_KEYS",
    "LengthSource",
    "OutcomeStatus",
    "Reward",
    "RewardConfig",
    "RewardResult",
    "Sample",
    "as_text",
    "plain",
    "plain_settings",
    "recoverable",
]

logger = logging.getLogger("rlsp_rewards")

R = TypeVar("R", bound="Reward")


class LengthSource(enum.IntEnum):
    """Where a response's length came from, reported as the number in ``length_source``.

    Example:
        >>> LengthSource.FRAMEWORK.value, LengthSource(0).name
        (2, 'CHARS')
    """

    CHARS = 0  #: approximation: characters / 4
    TOKENIZER = 1  #: a local tokenizer (``tokenizer=`` setting)
    FRAMEWORK = 2  #: an exact count passed by the framework (``response_tokens``)


class OutcomeStatus(str, enum.Enum):
    """What the outcome verifier concluded about one response.

    Example:
        >>> OutcomeStatus("timeout") is OutcomeStatus.TIMEOUT
        True
    """

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NO_ANSWER = "no_answer"  #: no final answer could be extracted from the response
    GOLD_UNPARSEABLE = "gold_unparseable"  #: the reference answer could not be read
    TIMEOUT = "timeout"  #: verification ran out of its time budget (its worker was killed)
    ERROR = "error"  #: anything else went wrong


#: Call keywords that describe the sample rather than configure the reward.
SAMPLE_KWARGS: frozenset[str] = frozenset(
    {"response_tokens", "prompt", "reward_router_address", "reward_model_tokenizer"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """One response to score, normalised from whatever the framework passed.

    Attributes:
        response: the model's response text (never ``None``; bytes are decoded leniently).
        gold: the reference answer exactly as given (string, number, dict, list...).
        data_source: the dataset name verl passes (``""`` when unknown).
        extra_info: the dataset row's extra dict, if any (read only).
        prompt: the decoded prompt when the framework passes it.
        response_tokens: the exact response token count when the framework passes it.
        judge_url: a judge endpoint passed by the framework (verl's ``reward_router_address``).

    Example:
        >>> info = {"response_tokens": 7}
        >>> s = Sample.from_call(solution_str=None, ground_truth="2", extra_info=info)
        >>> s.response, s.response_tokens
        ('', 7)
    """

    response: str
    gold: Any = None
    data_source: str = ""
    extra_info: Mapping[str, Any] | None = None
    prompt: str | None = None
    response_tokens: int | None = None
    judge_url: str | None = None

    @classmethod
    def from_call(
        cls,
        data_source: Any = None,
        solution_str: Any = None,
        ground_truth: Any = None,
        extra_info: Any = None,
        **kwargs: Any,
    ) -> Sample:
        """Build a sample from verl-style keyword arguments, never raising on odd values."""
        info = extra_info if isinstance(extra_info, Mapping) else None
        tokens = kwargs.get("response_tokens")
        if tokens is None and info is not None:
            try:
                tokens = info.get("response_tokens")
            except Exception:  # a mapping whose reads raise (a DictConfig with a '???' value)
                tokens = None
        prompt = kwargs.get("prompt")
        router = kwargs.get("reward_router_address")
        return cls(
            response=as_text(solution_str),
            gold=ground_truth,
            data_source=as_text(data_source),
            extra_info=info,
            prompt=None if prompt is None else as_text(prompt),
            response_tokens=_as_count(tokens),
            judge_url=(None if router is None else as_text(router)) or None,
        )


def as_text(value: Any) -> str:
    """Any value as text, never raising: ``None`` is ``""``, bytes are decoded leniently.

    Example:
        >>> as_text(None), as_text(b"caf\\xc3\\xa9"), as_text(7)
        ('', 'café', '7')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not break scoring
        return ""


def recoverable(exc: BaseException) -> bool:
    """Whether a failure belongs to one sample: any ``Exception``, and a panic of Rust code
    (pyo3's ``PanicException``, which derives from ``BaseException``: a tokenizer's, say);
    never an interrupt, an exit or a cancellation.

    Example:
        >>> recoverable(ValueError("bad")), recoverable(KeyboardInterrupt())
        (True, False)
    """
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _as_count(value: Any) -> int | None:
    try:
        count = int(value)  # also accepts numpy and 0-d torch integers
    except Exception:  # TypeError, ValueError, OverflowError, or a hostile __int__
        return None
    return count if count >= 0 else None


@dataclasses.dataclass(slots=True)
class RewardResult:
    """The typed result of scoring one sample; :meth:`to_dict` is the framework contract.

    Every field is always present. Fields a reward does not compute stay at their default 0.
    Status flags are 0.0 or 1.0, so their mean over a batch is a rate.

    Attributes:
        score: the training reward.
        acc: pure correctness, 0.0 or 1.0 (use it for evaluation and dynamic filtering).
        outcome: the outcome term ``v`` (0/1, or the ``reference`` preset's -0.5 without a box).
        length_term: the length exploration term, e.g. ``-C/|o|``.
        judge_grade: the judge's grade in [0, 1] (the fallback value when the judge failed).
        shape_term: the term of the length shape chosen by ``exploration`` (``dapo_overlong``,
            ``cosine``, ``kimi``, ...), plus the added repetition penalty; 0.0 where unused
            (see :mod:`rlsp_rewards.exploration.shapes`).
        length: the response length in tokens (see ``length_source``).
        length_source: a :class:`LengthSource` value.
        effective_length: the length the length term used (non-repetitive tokens in ``guarded``).
        repetition: the fraction of the response found repetitive, in [0, 1].
        no_answer: 1.0 when no final answer could be extracted.
        gold_unparseable: 1.0 when the gold answer could not be read.
        timeout: 1.0 when verification ran out of its time budget.
        error: 1.0 when anything else failed while scoring.
        judge_failed: 1.0 when the judge gave no usable grade.
        capped: 1.0 when the response was longer than the per-sample measures read
            (:data:`~rlsp_rewards.exploration.cap.MAX_MEASURED_CHARS`, one million characters):
            repetition and behaviours are then of its first and last half million.
        backtracking: count of backtracking markers ("wait", "let me reconsider", ...).
        verification: count of self-verification markers ("let me check", ...).
        alternatives: count of alternative-approach markers ("another approach", ...).
        pred: the extracted final answer ("" when none); verl uses it for majority voting.
    """

    score: float = 0.0
    acc: float = 0.0
    outcome: float = 0.0
    length_term: float = 0.0
    judge_grade: float = 0.0
    shape_term: float = 0.0
    length: float = 0.0
    length_source: float = 0.0
    effective_length: float = 0.0
    repetition: float = 0.0
    no_answer: float = 0.0
    gold_unparseable: float = 0.0
    timeout: float = 0.0
    error: float = 0.0
    judge_failed: float = 0.0
    capped: float = 0.0
    backtracking: float = 0.0
    verification: float = 0.0
    alternatives: float = 0.0
    pred: str = ""

    def to_dict(self) -> dict[str, float | str]:
        """The plain dict with :data:`RESULT_KEYS`, numbers as finite ``float`` (else 0.0)."""
        try:
            values = list(map(float, _numeric_values(self)))
        except (TypeError, ValueError, OverflowError):
            values = [_finite_or_zero(v) for v in _numeric_values(self)]
        if not all(map(math.isfinite, values)):
            values = [v if math.isfinite(v) else 0.0 for v in values]
        out: dict[str, float | str] = dict(zip(NUMERIC_KEYS, values, strict=False))
        pred = self.pred
        out["pred"] = pred if type(pred) is str else str(as_text(pred))  # always a plain str
        return out

    def is_finite(self) -> bool:
        """True when every numeric field is a finite number."""
        try:
            return all(map(math.isfinite, map(float, _numeric_values(self))))
        except (TypeError, ValueError, OverflowError):
            return False


def _finite_or_zero(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0


#: Every key of every result dict, in order. ``pred`` is the only string.
RESULT_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RewardResult))
#: The keys whose values are numbers (all but ``pred``).
NUMERIC_KEYS: tuple[str, ...] = tuple(k for k in RESULT_KEYS if k != "pred")
#: The reward components, in the order tables and plots show them.
COMPONENT_KEYS: tuple[str, ...] = ("score", "outcome", "length_term", "judge_grade", "shape_term")
#: The status flags (0/1: their mean over a batch is a rate).
STATUS_KEYS: tuple[str, ...] = (
    "no_answer",
    "gold_unparseable",
    "timeout",
    "error",
    "judge_failed",
    "capped",
)
#: The emergent-behaviour counts.
BEHAVIOUR_KEYS: tuple[str, ...] = ("backtracking", "verification", "alternatives")
#: A result's numeric values as a tuple, in :data:`NUMERIC_KEYS` order (one C call: hot path).
_numeric_values = operator.attrgetter(*NUMERIC_KEYS)


class RewardConfig(BaseModel):
    """Base of every reward's settings: frozen, validated, unknown names rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_SCALARS = (str, int, float, bool, type(None))
_TEXT = (str, bytes, bytearray)


def plain(value: Any) -> Any:
    """A value with every Mapping as a ``dict``, every tuple as a tuple and every other non-text
    Sequence as a ``list``, recursively; by duck type, so OmegaConf containers are read too.

    Example:
        >>> plain({"a": range(2), "b": (1, "x")})
        {'a': [0, 1], 'b': (1, 'x')}
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(map(plain, value))
    if isinstance(value, Sequence) and not isinstance(value, _TEXT):
        return list(map(plain, value))
    return value


def plain_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with every Mapping as a ``dict`` and every non-text Sequence as a ``list``.

    verl passes ``reward_kwargs`` lists and dicts as OmegaConf ``ListConfig`` / ``DictConfig``
    objects; they are read here by duck type (the core never imports omegaconf), recursively.

    Raises:
        ConfigError: when a container cannot be read (e.g. an OmegaConf ``???`` value).

    Example:
        >>> from types import MappingProxyType
        >>> plain_settings({"C": 5, "x": MappingProxyType({"a": range(2)})})
        {'C': 5, 'x': {'a': [0, 1]}}
    """
    out = {}
    for name, value in settings.items():
        try:
            out[name] = plain(value)
        except Exception as exc:  # a missing or broken value in a config container
            raise ConfigError(
                f"the setting {name!r} could not be read: {type(exc).__name__}: {exc}"
            ) from None
    return out


def _settings_error(config_class: type[BaseModel], exc: ValidationError) -> ConfigError:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(config_class.model_fields))
            problems.append(f"unknown setting {where!r} (known: {allowed})")
        else:
            problems.append(f"{where}={err.get('input')!r}: {err['msg']}")
    return ConfigError(f"invalid {config_class.__name__}: " + "; ".join(problems))


class Reward:
    """Base of every reward: verl's call convention, fixed keys, and a no-raise guard.

    Subclasses set ``config_class`` and implement :meth:`score`. Settings can be given as a
    config object, as keywords, or per call (verl's ``reward_kwargs`` arrive that way); a call
    with settings uses a derived reward built once and cached.

    The only exception a call can raise is :class:`~rlsp_rewards.errors.ConfigError`, for
    invalid settings, on the first call that passes them, and on every single-sample call of a
    reward that scores whole groups only (:meth:`per_sample_problem`). Everything that goes
    wrong with a sample becomes a defined score and a status flag.
    """

    config_class: ClassVar[type[RewardConfig]] = RewardConfig
    #: The score given when scoring a sample fails unexpectedly.
    error_score: ClassVar[float] = 0.0

    def __init__(self, config: RewardConfig | None = None, **settings: Any) -> None:
        if config is not None and not isinstance(config, self.config_class):
            raise ConfigError(
                f"{type(self).__name__} takes a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        base = config if config is not None else None
        self.config = self.build_config(base, settings)
        self._variants: dict[tuple[tuple[str, str], ...], Reward] = {}
        self._variants_lock = threading.Lock()

    @classmethod
    def build_config(cls, base: RewardConfig | None, settings: Mapping[str, Any]) -> RewardConfig:
        """Validate ``settings`` on top of ``base`` (or the defaults); raise ConfigError."""
        values = base.model_dump() if base is not None else {}
        values.update(plain_settings(settings))
        try:
            return cls.config_class.model_validate(values)
        except ValidationError as exc:
            raise _settings_error(cls.config_class, exc) from None

    # -- the work ---------------------------------------------------------------------------

    def score(self, sample: Sample) -> RewardResult:
        """Score one sample. Subclasses implement this; it may raise, the guard catches."""
        raise NotImplementedError

    async def ascore(self, sample: Sample) -> RewardResult:
        """Async version of :meth:`score`; the default runs it in a worker thread."""
        import asyncio  # not at module level: keeps ``import rlsp_rewards`` fast

        return await asyncio.to_thread(self.score, sample)

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score many samples; never raises. Subclasses override where batching pays."""
        return [self.safe_score(s) for s in samples]

    def per_sample_problem(self) -> str | None:
        """Why this reward cannot score one sample on its own, or None (every reward but a
        group shape's, which needs the other responses to the prompt: see
        :mod:`rlsp_rewards.exploration.shapes`). Framework adapters that call one sample at a
        time check it when they build the reward.

        Example:
            >>> Reward().per_sample_problem() is None
            True
        """
        return None

    def safe_score(self, sample: Sample) -> RewardResult:
        """:meth:`score` behind the guard: always a finite result, never an exception."""
        try:
            result = self.score(sample)
        except BaseException as exc:  # the contract: never raise into the trainer
            if not recoverable(exc):
                raise
            return self.failure(sample, exc)
        return self.checked(sample, result)

    async def asafe_score(self, sample: Sample) -> RewardResult:
        """:meth:`ascore` behind the guard."""
        try:
            result = await self.ascore(sample)
        except BaseException as exc:
            if not recoverable(exc):
                raise
            return self.failure(sample, exc)
        return self.checked(sample, result)

    def failure(self, sample: Sample, exc: BaseException) -> RewardResult:
        """The defined result for an unexpected failure, logged without the response text."""
        logger.warning(
            "%s failed on a sample from %r: %s: %s",
            type(self).__name__,
            sample.data_source,
            type(exc).__name__,
            as_text(exc)[:200],
        )
        return RewardResult(score=self.error_score, error=1.0)

    def checked(self, sample: Sample, result: Any) -> RewardResult:
        """Turn a wrong-typed or non-finite result into a failure result."""
        if isinstance(result, RewardResult) and result.is_finite():
            return result
        return self.failure(
            sample, TypeError(f"non-finite or wrong result {type(result).__name__}")
        )

    # -- the framework-facing calls -----------------------------------------------------------

    def __call__(
        self,
        data_source: Any = None,
        solution_str: Any = None,
        ground_truth: Any = None,
        extra_info: Any = None,
        **kwargs: Any,
    ) -> dict[str, float | str]:
        """Score one sample with verl's keyword signature; returns the fixed-key dict.

        Keywords other than the sample's own (:data:`SAMPLE_KWARGS`) are settings.
        """
        reward, sample = self._split_call(
            data_source, solution_str, ground_truth, extra_info, kwargs
        )
        return reward.safe_score(sample).to_dict()

    async def acall(
        self,
        data_source: Any = None,
        solution_str: Any = None,
        ground_truth: Any = None,
        extra_info: Any = None,
        **kwargs: Any,
    ) -> dict[str, float | str]:
        """Async twin of :meth:`__call__` (for event loops such as verl's reward workers)."""
        reward, sample = self._split_call(
            data_source, solution_str, ground_truth, extra_info, kwargs
        )
        return (await reward.asafe_score(sample)).to_dict()

    def _split_call(
        self,
        data_source: Any,
        solution_str: Any,
        ground_truth: Any,
        extra_info: Any,
        kwargs: dict[str, Any],
    ) -> tuple[Reward, Sample]:
        """The reward with this call's settings, and the sample the call describes."""
        reward = self.with_settings(**{k: v for k, v in kwargs.items() if k not in SAMPLE_KWARGS})
        problem = reward.per_sample_problem()
        if problem is not None:  # a group shape: never a silent per-sample fallback
            raise ConfigError(problem)
        return reward, Sample.from_call(
            data_source, solution_str, ground_truth, extra_info, **kwargs
        )

    def with_settings(self: R, **settings: Any) -> R:
        """This reward with some settings changed; built once per distinct set, then cached.

        Raises:
            ConfigError: when a setting is unknown or invalid.

        Example:
            >>> from rlsp_rewards.exploration.length import LengthExploration
            >>> LengthExploration().with_settings(C=500).config.C
            500.0
        """
        if not settings:
            return self
        settings = plain_settings(settings)
        try:
            key = tuple(sorted((k, repr(v)) for k, v in settings.items()))
        except Exception as exc:  # a hostile __repr__: still only ever a ConfigError
            raise ConfigError(f"a setting's value cannot be shown: {type(exc).__name__}") from None
        variant = self._variants.get(key)
        if variant is None:
            with self._variants_lock:
                variant = self._variants.get(key)
                if variant is None:
                    variant = type(self)(self.build_config(self.config, settings))
                    if len(self._variants) >= 64:  # settings come from a config: few distinct
                        self._variants.clear()
                    self._variants[key] = variant
        return variant  # type: ignore[return-value]

    # -- pickling: config only; live handles are rebuilt lazily -------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"])  # type: ignore[misc]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.config.model_dump().items())
        return f"{type(self).__name__}({fields})"
