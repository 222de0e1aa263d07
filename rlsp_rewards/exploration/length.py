"""Length exploration: ``R_ex = -C / |o|``, the RLSP paper's exploration reward.

``|o|`` is the response length in tokens, from the best source available (reported in
``length_source``):

1. an exact count passed by the framework (the ``response_tokens=`` keyword or
   ``extra_info["response_tokens"]``; our verl and OpenRLHF adapters fill it);
2. a local tokenizer, when the ``tokenizer`` setting names one (loaded once per process);
3. otherwise an approximation: characters / 4, as a float, not rounded.

The penalty shrinks as the response grows: ``|o| = 100`` gives -10, ``1000`` gives -1, ``4096``
gives about -0.244. The divisor is never below 1 (an empty response counts as one token), so
the term is always finite and at least ``-C``.

Two options implement the presets' variants (:mod:`rlsp_rewards.combine` sets them):

* ``length_span="before_first_box"`` (the authors' reference code): the length is the number of
  characters before the first ``\\boxed``, divided by 4, whatever token count is available.
* ``repetition_aware=True`` (the ``guarded`` preset): the length counts non-repetitive content
  only, ``effective_length = length * (1 - repetition)``, with ``repetition`` from
  :func:`rlsp_rewards.exploration.repetition.repetition`; and ``length_floor`` /
  ``length_cap`` clamp the term, so it cannot outweigh the outcome.

``repetition`` and the behaviour counts are measured for every response (they are metrics even
when nothing uses them). Of a response longer than a million characters they read the first
and last half million, and the tokenizer is not run (the length is characters / 4): the result
says so with ``capped = 1`` (see :mod:`rlsp_rewards.exploration.cap`).

Example:
    >>> out = length(solution_str="x" * 400)  # 400 characters ~ 100 tokens
    >>> out["score"], out["length"], out["length_source"]
    (-10.0, 100.0, 0.0)
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rlsp_rewards.behaviours import BehaviourFields, behaviour_fields
from rlsp_rewards.core import LengthSource, Reward, RewardConfig, RewardResult, Sample, recoverable
from rlsp_rewards.exploration.cap import measured_part
from rlsp_rewards.exploration.repetition import DEFAULT_NGRAM
from rlsp_rewards.exploration.scan import Scan, Scans, begin_scans, scan_one
from rlsp_rewards.exploration.tokens import TokenCounter, TokenizerLoadError
from rlsp_rewards.outcome.extract import text_before_first_box

__all__ = [
    "BatchMeasure",
    "LengthConfig",
    "LengthExploration",
    "LengthFields",
    "LengthMeasure",
    "length",
    "measure_fields",
]

logger = logging.getLogger("rlsp_rewards")

#: Characters per token of the approximation used when no token count is available.
CHARS_PER_TOKEN = 4.0


class LengthConfig(RewardConfig):
    """Settings of :class:`LengthExploration`.

    Attributes:
        C: the scale of the penalty ``-C/|o|``; must be > 0 (the paper uses 1000).
        tokenizer: a path ``transformers.AutoTokenizer`` can load, used when the framework
            passes no token count (needs ``pip install "rlsp-rewards[tokenizer]"``). It is
            loaded once per process, by :meth:`LengthExploration.warm_up` or else by the
            first sample that needs it; prefer a local directory (a hub name may wait for a
            download). If it cannot be loaded (or fails on a text), lengths fall back to
            characters / 4 with ``error = 1``.
        length_span: ``"response"`` (the paper) or ``"before_first_box"`` (the authors' code:
            characters before the first ``\\boxed`` / 4).
        repetition_aware: count only non-repetitive content (the ``guarded`` rule).
        repetition_ngram: the window, in pieces, of the repetition detector (2 to 64).
        length_floor: the lowest value of the term, or ``None`` for no floor.
        length_cap: the highest value of the term, or ``None`` for no cap.

    Example:
        >>> LengthConfig(C=500, length_floor=-1.0).length_floor
        -1.0
    """

    C: float = 1000.0
    tokenizer: str | None = None
    length_span: Literal["response", "before_first_box"] = "response"
    repetition_aware: bool = False
    repetition_ngram: int = Field(default=DEFAULT_NGRAM, ge=2, le=64)
    length_floor: float | None = None
    length_cap: float | None = None

    @field_validator("C")
    @classmethod
    def _positive_c(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"C must be a finite number > 0 (the paper uses 1000), got {value}")
        return value

    @field_validator("length_floor", "length_cap")
    @classmethod
    def _finite_bound(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"a length bound must be a finite number or None, got {value}")
        return value

    @field_validator("tokenizer")
    @classmethod
    def _tokenizer_path(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("tokenizer must be a path or model name, or None; got ''")
        return value

    @model_validator(mode="after")
    def _ordered_bounds(self) -> LengthConfig:
        floor, cap = self.length_floor, self.length_cap
        if floor is not None and cap is not None and floor > cap:
            raise ValueError(
                f"length_floor must not exceed length_cap, got floor={floor} and cap={cap} "
                "(the guarded preset uses -1.0 and 0.0)"
            )
        return self


@dataclasses.dataclass(frozen=True, slots=True)
class LengthMeasure:
    """One response's length and its exploration term.

    Attributes:
        length: the length in tokens (or characters / 4), before any repetition discount.
        source: where ``length`` came from.
        repetition: the fraction of the response that repeats itself, in [0, 1].
        effective_length: the length the term used (``length`` unless repetition-aware).
        term: the exploration term ``-C / max(effective_length, 1)``, clamped when configured.
        tokenizer_failed: True when the configured tokenizer could not be loaded or failed on
            this text (the length then falls back to characters / 4).
        capped: True when the response was longer than the measures read (see
            :mod:`~rlsp_rewards.exploration.cap`).
        behaviours: the behaviour counts (:func:`~rlsp_rewards.behaviours.behaviour_fields`)
            of the part read: measured here, with the rest, once per sample.

    Example:
        >>> LengthExploration().measure(Sample(response="abcd" * 250)).term
        -4.0
    """

    length: float
    source: LengthSource
    repetition: float
    effective_length: float
    term: float
    tokenizer_failed: bool
    capped: bool = False
    behaviours: BehaviourFields = dataclasses.field(default_factory=lambda: behaviour_fields(""))


class LengthExploration(Reward):
    """The length exploration reward ``R_ex = -C / max(|o|, 1)``, clamped when configured.

    Metric keys: ``score`` and ``length_term`` (both ``R_ex``), ``length``, ``length_source``,
    ``effective_length``, ``repetition``, ``backtracking``, ``verification``, ``alternatives``;
    ``error`` is 1.0 when the configured tokenizer could not be loaded. ``acc`` and ``outcome``
    stay 0: this reward does not look at the answer.

    Raises:
        DependencyError: when ``tokenizer`` is set and ``transformers`` is not installed.

    Example:
        >>> out = LengthExploration(C=1000)(solution_str="...", response_tokens=4096)
        >>> round(out["score"], 6), out["length_source"]
        (-0.244141, 2.0)
    """

    config_class = LengthConfig
    config: LengthConfig

    def __init__(self, config: LengthConfig | None = None, **settings: object) -> None:
        super().__init__(config, **settings)
        path = self.config.tokenizer
        self._counter = TokenCounter(path) if path is not None else None

    def warm_up(self) -> None:
        """Import numpy, load the compiled scans and build the measures' tables now, so that no
        sample pays for it (about 0.7 s, once per process; the first run after installing
        compiles the scans, several seconds once).

        Example:
            >>> LengthExploration().warm_up()
        """
        from rlsp_rewards.exploration import compiled

        compiled.wait()
        self.measure(Sample(response="Wait, let me check: caf\u00e9\u3000x " * 4))

    def measure(self, sample: Sample) -> LengthMeasure:
        """Measure one response: length, source, repetition and the exploration term.

        Example:
            >>> text = "a b c d e f g h i j " * 2  # its second half repeats the first
            >>> m = LengthExploration(repetition_aware=True).measure(
            ...     Sample(response=text, response_tokens=1000))
            >>> m.repetition, m.effective_length, m.term
            (0.5, 500.0, -2.0)
        """
        part, capped = measured_part(sample.response)
        scanned = scan_one(part, self.config.repetition_ngram)
        return self._measured(scanned, capped, *self._size(sample, capped))

    def begin_batch(self, samples: Sequence[Sample]) -> BatchMeasure:
        """Start measuring a batch: its scans go to worker processes when that pays (see
        :func:`~rlsp_rewards.exploration.scan.begin_scans`), so the caller can do other work
        (verify the answers) meanwhile; :meth:`BatchMeasure.results` collects the measures.
        They are the same as :meth:`measure`'s, one by one; token counts use the tokenizer's
        batch call.

        Example:
            >>> batch = LengthExploration().begin_batch([Sample("x" * 8), Sample("")])
            >>> [m.length for m in batch.results()]
            [2.0, 0.0]
        """
        samples = list(samples)
        parts = [measured_part(s.response) for s in samples]
        scans = begin_scans([part for part, _ in parts], self.config.repetition_ngram)
        return BatchMeasure(self, samples, [capped for _, capped in parts], scans)

    def _size(self, sample: Sample, capped: bool) -> tuple[float, LengthSource, bool]:
        """The length, its source, and whether the tokenizer failed, for one sample."""
        text = sample.response
        if self.config.length_span == "before_first_box":
            return len(text_before_first_box(text)) / CHARS_PER_TOKEN, LengthSource.CHARS, False
        if sample.response_tokens is not None:
            return float(sample.response_tokens), LengthSource.FRAMEWORK, False
        if capped or self._counter is None:
            return len(text) / CHARS_PER_TOKEN, LengthSource.CHARS, False
        return self._count(text)

    def _sizes(
        self, samples: Sequence[Sample], capped: Sequence[bool]
    ) -> list[tuple[float, LengthSource, bool]]:
        """:meth:`_size` of every sample; the tokenizer counts all that need it in one call."""
        sizes = [
            self._size(s, c) if not self._needs_tokens(s, c) else None
            for s, c in zip(samples, capped, strict=True)
        ]
        pending = [i for i, size in enumerate(sizes) if size is None]
        if pending and self._counter is not None:
            try:
                counts = self._counter.count_batch([samples[i].response for i in pending])
                for i, count in zip(pending, counts, strict=True):
                    sizes[i] = (float(count), LengthSource.TOKENIZER, False)
            except BaseException as exc:  # one text refused: count them one by one
                if not recoverable(exc):
                    raise
        return [
            size if size is not None else self._count(s.response)
            for size, s in zip(sizes, samples, strict=True)
        ]

    def _needs_tokens(self, sample: Sample, capped: bool) -> bool:
        return (
            self._counter is not None
            and self.config.length_span == "response"
            and sample.response_tokens is None
            and not capped
        )

    def _measured(
        self,
        scanned: Scan,
        capped: bool,
        size: float,
        source: LengthSource,
        tokenizer_failed: bool,
    ) -> LengthMeasure:
        cfg = self.config
        repeated = scanned.repetition
        effective = size * (1.0 - repeated) if cfg.repetition_aware else size
        term = -cfg.C / max(effective, 1.0)
        if cfg.length_floor is not None:
            term = max(term, cfg.length_floor)
        if cfg.length_cap is not None:
            term = min(term, cfg.length_cap)
        return LengthMeasure(
            length=size,
            source=source,
            repetition=repeated,
            effective_length=effective,
            term=term,
            tokenizer_failed=tokenizer_failed,
            capped=capped,
            behaviours=scanned.behaviours,
        )

    def _count(self, text: str) -> tuple[float, LengthSource, bool]:
        if self._counter is not None:
            try:
                return float(self._counter.count(text)), LengthSource.TOKENIZER, False
            except TokenizerLoadError:
                pass  # logged once when loading failed; counted in ``error`` per sample
            except BaseException as exc:  # one text the tokenizer refuses (or panics on)
                if not recoverable(exc):  # must not lose the sample
                    raise
                logger.warning(
                    "counting tokens failed: %s; this length is characters / 4", type(exc).__name__
                )
        return len(text) / CHARS_PER_TOKEN, LengthSource.CHARS, self._counter is not None

    def score(self, sample: Sample) -> RewardResult:
        """Score one sample: ``score`` is the length term."""
        return _result(self.measure(sample))

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score many samples through :meth:`begin_batch`; never raises.

        Example:
            >>> [r.score for r in length.score_batch([Sample("x" * 4000)])]
            [-1.0]
        """
        samples = list(samples)
        try:
            measures = self.begin_batch(samples).results()
        except Exception:  # should not happen; the guarded one-by-one path then
            return super().score_batch(samples)
        return [self.checked(s, _result(m)) for s, m in zip(samples, measures, strict=True)]


class BatchMeasure:
    """The measures of a batch under way (see :meth:`LengthExploration.begin_batch`).

    Example:
        >>> LengthExploration().begin_batch([Sample("abcd")]).results()[0].length
        1.0
    """

    def __init__(
        self,
        reward: LengthExploration,
        samples: list[Sample],
        capped: list[bool],
        scans: Scans,
    ) -> None:
        self._reward = reward
        self._samples = samples
        self._capped = capped
        self._scans = scans

    def results(self) -> list[LengthMeasure]:
        """Every sample's measure, in order (waits for the workers, within their bound)."""
        sizes = self._reward._sizes(self._samples, self._capped)
        scans = self._scans.results()
        return [
            self._reward._measured(scanned, capped, *size)
            for scanned, capped, size in zip(scans, self._capped, sizes, strict=True)
        ]


def _result(m: LengthMeasure) -> RewardResult:
    return RewardResult(
        score=m.term, length_term=m.term, error=float(m.tokenizer_failed), **measure_fields(m)
    )


class LengthFields(BehaviourFields):
    """The :class:`~rlsp_rewards.core.RewardResult` fields a length measure fills."""

    length: float
    length_source: float
    effective_length: float
    repetition: float
    capped: float


def measure_fields(m: LengthMeasure) -> LengthFields:
    """The :class:`RewardResult` fields a length measure fills: length, its source,
    repetition, whether the measures were capped, and the behaviour counts.

    Example:
        >>> m = LengthExploration().measure(Sample(response="Wait, no."))
        >>> measure_fields(m)["length"], measure_fields(m)["length_source"]
        (2.25, 0.0)
    """
    return {
        "length": m.length,
        "length_source": float(m.source),
        "effective_length": m.effective_length,
        "repetition": m.repetition,
        "capped": float(m.capped),
        **m.behaviours,
    }


#: The ready instance: the paper's length term, ``C = 1000``.
length = LengthExploration()
