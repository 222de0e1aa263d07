"""The RLSP reward: ``R = alpha * v + (1 - alpha) * R_ex``, its presets, and the judge seam.

``v`` is the outcome term from :class:`~rlsp_rewards.outcome.OutcomeVerifier`; ``R_ex`` is the
exploration term, chosen by ``exploration``:

* ``"length"``: ``-C/|o|`` from :class:`~rlsp_rewards.exploration.length.LengthExploration`;
* ``"judge"``: the grade ``g`` in [0, 1] of :class:`~rlsp_rewards.judge.reward.JudgeExploration`;
* ``"length+judge"``: both (only the ``reference`` formula defines how they mix);
* ``"none"``: no exploration term, ``R = v``.

The exploration term is given to correct and wrong answers alike. Three presets (see
:data:`PRESETS`) pick every default at once; explicit settings override them, in Python
(``RlspReward(preset="guarded", alpha=0.7)``), per call (``combined(..., preset="guarded")``,
which is how verl's ``reward_kwargs`` arrive) and in the adapters' configuration.

**paper**: ``R = 0.8*v + 0.2*(-C/|o|)`` with ``v`` in {0, 1} from the last ``\\boxed{}`` (with
text fallbacks), ``|o|`` in tokens; with the judge ``R = 0.8*v + 0.2*g``.

**reference** (the authors' released code): ``v`` from the *first* ``\\boxed{}``, ``v = -0.5``
without one; ``R = v - C/L`` (the length term at full weight) with ``L`` = characters before
the first ``\\boxed`` / 4; with the judge as well ``R = 0.8*(v - C/L) + 0.2*g``; with the judge
alone ``R = 0.8*v + 0.2*g``; a failed judge call gives ``g = 0.5``; a verifier timeout or error
gives ``R = 0``, as the authors' catch-all does. Their trainer clips rewards to [-10, 10]: we do
not clip here; use the framework's clip (verl: our manager's ``clip_range``; OpenRLHF:
``--reward.clip_range``).

**guarded** (our recommendation): the paper's formula with the length counted on non-repetitive
content only (``effective_length = |o| * (1 - repetition)``, see
:mod:`rlsp_rewards.exploration.repetition`) and the length term clamped to [-1, 0]:
``R = 0.8*v + 0.2*clamp(-C/effective_length, -1, 0)``.
So a correct answer scores in [0.6, 0.8] and a wrong one in [-0.2, 0]: whatever the length, a
correct answer always outscores a wrong one. In general the total lies in
``[alpha*min(0, no_answer_score) + (1-alpha)*length_floor, alpha + (1-alpha)*length_cap]``, and
the preset requires ``alpha > (1-alpha)*(length_cap - length_floor)``. With the judge,
``R = 0.8*v + 0.2*g`` in [0, 1].

In every preset a failed judge call gives the neutral grade ``g = judge_fallback`` (0.5, the
authors' value) and is counted in ``judge_failed``; an unexpected failure gives
``R = 0`` with ``error = 1``, and the three behaviour counts, ``repetition`` and
``effective_length`` are filled.

Example:
    >>> out = combined(solution_str="So the answer is \\\\boxed{4}.", ground_truth="4",
    ...                response_tokens=1000)
    >>> round(out["score"], 9), out["acc"], out["length_term"]
    (0.6, 1.0, -1.0)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field, PrivateAttr, model_validator

from rlsp_rewards.core import OutcomeStatus, Reward, RewardConfig, RewardResult, Sample
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.exploration.length import (
    LengthConfig,
    LengthExploration,
    LengthMeasure,
    measure_fields,
)
from rlsp_rewards.exploration.shapes import SHAPE_NAMES, ShapeConfig, Shaper
from rlsp_rewards.judge.reward import JudgeConfig, JudgeExploration, JudgeGrade
from rlsp_rewards.judge.reward import judge as shared_judge
from rlsp_rewards.outcome.verifier import OutcomeConfig, OutcomeVerifier, Verdict
from rlsp_rewards.outcome.verifier import outcome as shared_outcome

__all__ = ["PRESETS", "Preset", "RlspConfig", "RlspReward", "combined"]

C = TypeVar("C", bound=RewardConfig)


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named set of defaults for :class:`RlspConfig`, with the formula it implements.

    Attributes:
        name: the value of the ``preset`` setting.
        formula: the reward it computes, in one line per exploration mode.
        settings: the settings it changes from the field defaults (which are the paper's).

    Example:
        >>> PRESETS["reference"].settings["no_answer_score"]
        -0.5
    """

    name: str
    formula: str
    settings: Mapping[str, Any]


#: The presets by name. Each one's ``formula`` is the reward it computes.
PRESETS: dict[str, Preset] = {
    "paper": Preset(
        name="paper",
        formula="length: 0.8*v + 0.2*(-C/|o|), v in {0,1}, |o| in tokens; judge: 0.8*v + 0.2*g",
        settings={},
    ),
    "reference": Preset(
        name="reference",
        formula="length: v - C/L, v from the first box (-0.5 without one), L = chars before "
        "the first box / 4; length+judge: 0.8*(v - C/L) + 0.2*g; "
        "verifier timeout or error: 0",
        settings={
            "formula": "reference",
            "extraction": "first_box",
            "no_answer_score": -0.5,
            "length_span": "before_first_box",
        },
    ),
    "guarded": Preset(
        name="guarded",
        formula="length: 0.8*v + 0.2*clamp(-C/(|o|*(1-repetition)), -1, 0), total in "
        "[-0.2, 0.8], correct always above wrong; judge: 0.8*v + 0.2*g",
        settings={
            "repetition_aware": True,
            "length_floor": -1.0,
            "length_cap": 0.0,
        },
    ),
}


class RlspConfig(LengthConfig, OutcomeConfig, JudgeConfig, ShapeConfig):
    """Settings of :class:`RlspReward`: flat, so that every one can be overridden by keyword.

    ``preset`` picks the defaults of every other setting (see :data:`PRESETS`); settings given
    explicitly override them, and keep overriding them when a later call changes the preset.
    The length settings are :class:`~rlsp_rewards.exploration.length.LengthConfig`'s, the verifier's
    :class:`~rlsp_rewards.outcome.verifier.OutcomeConfig`'s, the judge's (``judge_url``,
    ``judge_model``, ``judge_fallback``...) :class:`~rlsp_rewards.judge.reward.JudgeConfig`'s
    and the length shapes' (``max_tokens``, ``cosine_*``, ``l1_*``, ``sb_*``,
    ``repetition_max_penalty``...) :class:`~rlsp_rewards.exploration.shapes.ShapeConfig`'s.

    Attributes:
        preset: ``"paper"``, ``"reference"`` or ``"guarded"``.
        alpha: the weight of the outcome, in [0, 1] (the paper uses 0.8).
        exploration: ``"length"``, ``"judge"``, ``"length+judge"``, ``"none"``, or a length
            shape from the related work: ``"dapo_overlong"``, ``"cosine"``, ``"kimi"``,
            ``"l1_exact"``, ``"l1_max"``, ``"shorter_better"``, ``"repetition_penalty"`` (see
            :mod:`rlsp_rewards.exploration.shapes`; ``kimi`` and ``shorter_better`` score whole
            groups only).
        formula: how the terms combine: ``"paper"`` (``alpha*v + (1-alpha)*R_ex``) or
            ``"reference"`` (the authors' code: the length term at full weight).

    Example:
        >>> cfg = RlspConfig(preset="guarded", alpha=0.7)
        >>> cfg.alpha, cfg.length_floor, cfg.repetition_aware
        (0.7, -1.0, True)
    """

    preset: Literal["paper", "reference", "guarded"] = "paper"
    alpha: float = Field(default=0.8, ge=0.0, le=1.0)
    exploration: Literal[
        "length",
        "judge",
        "length+judge",
        "none",
        "dapo_overlong",
        "cosine",
        "kimi",
        "l1_exact",
        "l1_max",
        "shorter_better",
        "repetition_penalty",
    ] = "length"
    formula: Literal["paper", "reference"] = "paper"

    _explicit: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="wrap")
    @classmethod
    def _apply_preset(cls, data: Any, handler: Any) -> RlspConfig:
        if not isinstance(data, Mapping):
            return handler(data)
        name = data.get("preset", "paper")
        preset = PRESETS.get(name) if isinstance(name, str) else None
        defaults = preset.settings if preset is not None else {}  # a bad name: handler says so
        config = handler({**defaults, **data})
        config._explicit = frozenset(data)
        return config

    @model_validator(mode="after")
    def _coherent(self) -> RlspConfig:
        if self.exploration == "length+judge" and self.formula != "reference":
            raise ValueError(
                "exploration='length+judge' is defined only by the reference formula; use "
                "preset='reference' (or formula='reference'), or exploration 'length' or 'judge'"
            )
        if self.preset == "guarded" and self.exploration != "none":
            spread = 1.0  # a judge grade lies in [0, 1]
            if "length" in self.exploration:
                floor, cap = self.length_floor, self.length_cap
                if floor is None or cap is None:
                    raise ValueError(
                        "the guarded preset needs length_floor and length_cap (its defaults "
                        f"are -1.0 and 0.0), got {floor} and {cap}"
                    )
                spread = cap - floor
            if not self.alpha > (1.0 - self.alpha) * spread:
                raise ValueError(
                    "the guarded preset keeps every correct answer above every wrong one, which "
                    f"needs alpha > (1-alpha)*{spread:g}: got alpha={self.alpha}; use alpha > "
                    f"{spread / (1.0 + spread):g} (default 0.8) or narrow the length bounds"
                )
        return self

    @model_validator(mode="after")
    def _shape_coherent(self) -> RlspConfig:
        shape = self.exploration
        related = shape in SHAPE_NAMES and shape != "length"
        adds_penalty = self.repetition_max_penalty is not None and shape != "repetition_penalty"
        what = f"exploration={shape!r}" if related else "an added repetition_max_penalty"
        if (related or adds_penalty) and self.formula == "reference":
            raise ValueError(
                "the reference formula (the authors' code) knows only the length and judge "
                f"terms; {what} needs formula='paper' (the paper preset)"
            )
        if (related or adds_penalty) and self.preset == "guarded":
            raise ValueError(
                "the guarded preset's bound (correct always above wrong) holds for its clamped "
                f"length term and the judge only; {what} needs preset='paper'"
            )
        if adds_penalty and shape in ("judge", "length+judge", "none"):
            raise ValueError(
                f"repetition_max_penalty adds to a length shape's term, and exploration={shape!r} "
                "has none; use exploration='repetition_penalty' (or another shape), or leave "
                "repetition_max_penalty unset"
            )
        penalised = shape == "repetition_penalty" or adds_penalty
        if penalised and self.repetition_penalty_unit == "tokens" and self.tokenizer is None:
            raise ValueError(
                "repetition_penalty_unit='tokens' counts token ids, which needs the tokenizer "
                "setting (a local tokenizer path); or use repetition_penalty_unit='words'"
            )
        return self

    def explicit_settings(self) -> dict[str, Any]:
        """The settings given explicitly (the rest come from the preset or the defaults).

        Example:
            >>> RlspConfig(preset="guarded", C=500).explicit_settings()
            {'C': 500.0, 'preset': 'guarded'}
        """
        return {k: getattr(self, k) for k in sorted(self._explicit)}

    def section(self, config_class: type[C]) -> C:
        """The settings of one component, e.g. ``section(LengthConfig)``.

        Example:
            >>> RlspConfig(C=250).section(LengthConfig).C
            250.0
        """
        return config_class.model_validate(self.changes(config_class))

    def changes(self, config_class: type[RewardConfig]) -> dict[str, Any]:
        """The settings of one component that differ from that component's defaults.

        Example:
            >>> RlspConfig(preset="reference").changes(OutcomeConfig)
            {'extraction': 'first_box', 'no_answer_score': -0.5}
        """
        defaults = config_class.model_fields
        return {
            name: getattr(self, name)
            for name, field in defaults.items()
            if getattr(self, name) != field.get_default(call_default_factory=True)
        }


class RlspReward(Reward):
    """The RLSP reward: outcome plus exploration, by preset (see the module docstring).

    Formula by ``formula`` setting, with ``v`` the outcome term and ``E`` the exploration term:
    ``"paper"``: ``alpha*v + (1-alpha)*E``; ``"reference"``: ``v + R_ex`` with the length,
    then ``alpha*(...) + (1-alpha)*g`` with the judge. ``exploration="none"``: ``R = v``. With a
    length shape from the related work (``exploration="cosine"``, ``"kimi"``...; see
    :mod:`rlsp_rewards.exploration.shapes`), ``T`` the shape's term: ``alpha*v + (1-alpha)*T``
    for the additive shapes, ``T`` alone for the whole-reward shapes (their formula holds the
    correctness, so it replaces the sum and ``alpha`` is not used).

    Metric keys: ``score``, ``acc``, ``outcome`` (``v``), ``length_term`` (``R_ex``, also
    reported when only the judge is used), ``judge_grade`` (``g``), ``shape_term`` (``T``),
    ``length``, ``length_source``, ``effective_length``, ``repetition``, the verifier's flags
    (``no_answer``, ``gold_unparseable``, ``timeout``, ``error``), ``judge_failed``, the
    behaviour counts (``backtracking``, ``verification``, ``alternatives``) and ``pred``.

    Example:
        >>> guarded = RlspReward(preset="guarded")
        >>> out = guarded(solution_str="\\\\boxed{5}", ground_truth="4", response_tokens=10)
        >>> round(out["score"], 9), out["length_term"]
        (-0.2, -1.0)
    """

    config_class = RlspConfig
    config: RlspConfig

    def __init__(self, config: RlspConfig | None = None, **settings: Any) -> None:
        super().__init__(config, **settings)
        cfg = self.config
        self._length = LengthExploration(cfg.section(LengthConfig))
        # The verifier and the judge come from the shared instances, so every reward of the
        # process with the same settings shares one verdict cache and one judge cache.
        self._verifier: OutcomeVerifier = shared_outcome.with_settings(**cfg.changes(OutcomeConfig))
        self._judge: JudgeExploration | None = None
        if "judge" in cfg.exploration:
            self._judge = shared_judge.with_settings(**cfg.changes(JudgeConfig))
        self._shaper = Shaper(
            cfg.exploration, cfg.alpha, cfg.section(ShapeConfig), cfg.tokenizer, self.error_score
        )

    @classmethod
    def build_config(cls, base: RewardConfig | None, settings: Mapping[str, Any]) -> RlspConfig:
        """Validate ``settings`` on top of ``base``'s explicit settings, preset first.

        Example:
            >>> cfg = RlspReward.build_config(RlspConfig(alpha=0.9), {"preset": "reference"})
            >>> cfg.alpha, cfg.extraction
            (0.9, 'first_box')
        """
        explicit = base.explicit_settings() if isinstance(base, RlspConfig) else {}
        return super().build_config(None, {**explicit, **settings})  # type: ignore[return-value]

    def warm_up(self) -> bool:
        """Start the verifier's worker processes now (see :meth:`OutcomeVerifier.warm_up`),
        and prepare the per-sample measures (:meth:`LengthExploration.warm_up`).

        Example:
            >>> combined.warm_up()
            True
        """
        self._length.warm_up()
        return self._verifier.warm_up()

    def cache_stats(self) -> dict[str, int]:
        """The verifier's cache counters (see :meth:`OutcomeVerifier.cache_stats`)."""
        return self._verifier.cache_stats()

    def per_sample_problem(self) -> str | None:
        """Why a group shape (``kimi``, ``shorter_better``) cannot score one sample; else None.

        Example:
            >>> RlspReward(exploration="kimi").per_sample_problem()[:25]
            "exploration='kimi' scores"
        """
        return self._shaper.per_sample_problem()

    # -- the work ---------------------------------------------------------------------------

    def score(self, sample: Sample) -> RewardResult:
        """Score one sample: verify, measure, grade (when the judge is on), combine.

        Raises:
            ConfigError: for a group shape, which scores whole batches only.
        """
        self._require_per_sample()
        verdict = self._verifier.verify(sample.gold, sample.response)
        grade = self._judge.grade(sample) if self._judge is not None else None
        return self._combine(sample, verdict, grade)

    async def ascore(self, sample: Sample) -> RewardResult:
        """Async :meth:`score`: the verification and the judge's call run concurrently."""
        import asyncio  # here, not at the top: keeps ``import rlsp_rewards`` fast

        self._require_per_sample()
        verifying = self._verifier.averify(sample.gold, sample.response)
        if self._judge is None:
            return self._combine(sample, await verifying, None)
        verdict, grade = await asyncio.gather(verifying, self._judge.agrade(sample))
        return self._combine(sample, verdict, grade)

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score many samples: one verifier batch (deduplicated, parallel), then combine.

        With the judge on, its calls run concurrently (see
        :meth:`~rlsp_rewards.judge.reward.JudgeExploration.start_batch`) while the batch is
        verified, each sample's within its own ``judge_budget_s``; the length measures run in
        worker processes meanwhile when the batch is large (see
        :meth:`~rlsp_rewards.exploration.LengthExploration.begin_batch`). Never raises: a sample
        whose combination fails gets the error result.
        """
        samples = list(samples)
        try:
            measuring = self._length.begin_batch(samples)
            verdicts, grades = self._verify_and_grade(samples)
            measures = measuring.results()
        except Exception:  # a broken batch falls back to the guarded single-sample path
            return [self.safe_score(s) for s in samples]
        results, failed = [], []
        for sample, verdict, grade, m in zip(samples, verdicts, grades, measures, strict=False):
            try:
                combined = self._combine(sample, verdict, grade, m)
                results.append(self.checked(sample, combined))
                failed.append(results[-1] is not combined)
            except Exception as exc:
                results.append(self.failure(sample, exc))
                failed.append(True)
        return self._group_pass(samples, results, failed)

    # -- the pieces ---------------------------------------------------------------------------

    def _require_per_sample(self) -> None:
        problem = self._shaper.per_sample_problem()
        if problem is not None:
            raise ConfigError(problem)

    def _group_pass(
        self, samples: list[Sample], results: list[RewardResult], failed: list[bool]
    ) -> list[RewardResult]:
        """A group shape's step of :meth:`score_batch`: each group's terms (see
        :meth:`~rlsp_rewards.exploration.shapes.Shaper.group_pass`); a no-op for the others."""
        if not self._shaper.grouped:
            return results
        try:
            shaped = self._shaper.group_pass(samples, results, failed)
            return [self.checked(s, r) for s, r in zip(samples, shaped, strict=True)]
        except Exception as exc:  # never raise into the trainer: the batch gets error results
            return [self.failure(sample, exc) for sample in samples]

    def _verify_and_grade(
        self, samples: list[Sample]
    ) -> tuple[list[Verdict], list[JudgeGrade | None]]:
        pairs = [(s.gold, s.response) for s in samples]
        if self._judge is None or not samples:
            return self._verifier.verify_batch(pairs), [None] * len(samples)
        grading = self._judge.start_batch(samples)  # concurrent, each within its own budget
        verdicts = self._verifier.verify_batch(pairs)
        return verdicts, list(grading.result())

    def _combine(
        self,
        sample: Sample,
        verdict: Verdict,
        grade: JudgeGrade | None,
        measure: LengthMeasure | None = None,
    ) -> RewardResult:
        cfg = self.config
        outcome = self._verifier.to_result(verdict)
        v = outcome.outcome
        m = measure if measure is not None else self._length.measure(sample)
        g = 0.0
        judge_failed = False
        if grade is not None:
            judge_failed = grade.failed
            g = cfg.judge_fallback if judge_failed else grade.grade
        if cfg.exploration == "none":
            total = v
        elif cfg.formula == "reference":
            if verdict.status in (OutcomeStatus.TIMEOUT, OutcomeStatus.ERROR):
                total = 0.0  # the authors' catch-all: any exception scores 0
            else:
                base = v + m.term if "length" in cfg.exploration else v
                total = cfg.alpha * base + (1 - cfg.alpha) * g if grade is not None else base
        else:
            explore = g if grade is not None else m.term
            total = cfg.alpha * v + (1 - cfg.alpha) * explore
        result = dataclasses.replace(
            outcome,
            score=total,
            length_term=m.term,
            judge_grade=g,
            judge_failed=float(judge_failed),
            error=max(outcome.error, float(m.tokenizer_failed)),
            **measure_fields(m),
        )
        return self._shaper.apply(result, sample)  # the length shape, when one is chosen


#: The ready instance: the ``paper`` preset with length exploration.
combined = RlspReward()
