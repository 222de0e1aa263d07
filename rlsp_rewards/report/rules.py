"""The warning rules: where a run goes wrong, from which step, by which exact rule.

Rules read the per-step metrics (:mod:`~rlsp_rewards.report.metrics`), in step order. Steps
are the steps present in the run (a run dumped every 10 steps has windows of dumps).

**Trend rules** compare two windows of ``W`` steps (``W = 5`` by default): at the ``i``-th step,
``recent`` is a metric's mean over steps ``i-W+1 .. i`` and ``before`` its mean over the ``W``
steps before those, so they are evaluated from the ``2W``-th step on. A run with fewer than
``2W`` steps uses ``W`` = half its steps; with fewer than 4 steps the trend rules are not
evaluated. A trend rule reads the ``2W`` steps up to the step it flags, so a change shows at
most ``2W - 1`` steps after it began (sooner when it is large).

* **Length up, accuracy flat or falling**: ``recent`` mean length >= 1.10 x ``before``, and
  ``recent`` accuracy - ``before`` accuracy <= 0.01.
* **Repetition rising (length hacking)**: ``recent`` - ``before`` mean repetition >= 0.05,
  and ``recent`` >= 0.10.
* **No-answer rate rising (format collapse)**: ``recent`` - ``before`` no-answer rate
  >= 0.05, and ``recent`` >= 0.10.

**Level rules** look at each step alone:

* **Verifier timeouts**, **scoring errors**, **judge failures**: more than 1% of the step's
  responses have ``timeout`` (``error``, ``judge_failed``) = 1.
* **Exploration term outweighs correctness**: in more than 5% of the step's (correct, wrong)
  response pairs the wrong one scores at least as high (the ``inversions`` metric).

A finding lists the steps where its rule holds, grouped into episodes of consecutive steps.

Example:
    >>> from rlsp_rewards.report.metrics import MetricTable
    >>> table = MetricTable([1, 2, 3], {"timeout": [0.0, 0.02, 0.0]})
    >>> finding = level_finding(LEVEL_RULES[0], table, Thresholds())
    >>> finding.steps, finding.episodes
    ((2,), ((2, 2),))
"""

from __future__ import annotations

import dataclasses
import math

from rlsp_rewards.report.metrics import MetricTable

__all__ = [
    "LEVEL_RULES",
    "TREND_RULES",
    "Finding",
    "LevelRule",
    "Thresholds",
    "TrendRule",
    "evaluate",
    "level_finding",
    "trend_finding",
]


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The numbers in the rules; the defaults are the ones the docs state.

    Example:
        >>> Thresholds(window=10).window
        10
    """

    window: int = 5  #: steps per window of the trend rules
    length_rise: float = 0.10  #: relative rise of the mean length
    accuracy_flat: float = 0.01  #: the most accuracy may rise and still count as flat
    repetition_rise: float = 0.05  #: absolute rise of the mean repetition
    repetition_level: float = 0.10  #: the least recent mean repetition that is flagged
    no_answer_rise: float = 0.05  #: absolute rise of the no-answer rate
    no_answer_level: float = 0.10  #: the least recent no-answer rate that is flagged
    failure_rate: float = 0.01  #: timeouts, errors, judge failures: the most that is fine
    inversion_rate: float = 0.05  #: the most (correct, wrong) pairs ranked wrong that is fine


@dataclasses.dataclass(frozen=True)
class Finding:
    """What one rule found: the steps where it holds, and the rule written out.

    Example:
        >>> Finding("x", "X", "a rule", ("accuracy",), (3, 4, 7), ((3, 4), (7, 7))).fired
        True
    """

    key: str
    title: str
    rule: str  #: the rule with its numbers, as the report prints it
    metrics: tuple[str, ...]  #: the metrics it reads (their figures mark the steps)
    steps: tuple[int, ...]  #: the steps where the rule holds
    episodes: tuple[tuple[int, int], ...]  #: runs of consecutive flagged steps: (first, last)
    evaluated: bool = True
    note: str = ""  #: why it was not evaluated

    @property
    def fired(self) -> bool:
        """True when the rule holds at some step."""
        return bool(self.steps)


@dataclasses.dataclass(frozen=True)
class TrendRule:
    """A rule on the change of a metric between two windows (see the module docstring).

    ``subject`` must rise by at least ``rise`` (relative when ``relative``) and reach
    ``level``; when ``flat`` is set, that metric must rise by at most ``flat`` meanwhile.
    Thresholds are read from :class:`Thresholds` by attribute name.

    Example:
        >>> rule = TREND_RULES[1]  # repetition
        >>> rule.holds({"repetition": 0.2}, {"repetition": 0.1}, Thresholds())
        True
    """

    key: str
    title: str
    subject: str
    label: str
    rise: str
    relative: bool = False
    level: str | None = None
    flat: str | None = None  #: metric that must stay flat, read with ``accuracy_flat``

    def holds(self, recent: dict[str, float], before: dict[str, float], t: Thresholds) -> bool:
        """Whether the rule holds for these window means."""
        now, then = recent[self.subject], before[self.subject]
        rise = getattr(t, self.rise)
        if self.relative:
            up = then > 0 and _at_least(now, (1.0 + rise) * then)
        else:
            up = _at_least(now - then, rise)
        if self.level is not None and not _at_least(now, getattr(t, self.level)):
            return False
        if self.flat is not None and not _at_least(
            t.accuracy_flat, recent[self.flat] - before[self.flat]
        ):
            return False
        return up

    def text(self, t: Thresholds, window: int) -> str:
        """The rule written out with its numbers."""
        rise = getattr(t, self.rise)
        amount = f"at least {rise:.0%} above" if self.relative else f"at least {rise:g} above"
        out = (
            f"the mean {self.label} over the last {window} steps is {amount} its mean over the "
            f"{window} steps before"
        )
        if self.level is not None:
            out += f", and at least {getattr(t, self.level):g}"
        if self.flat is not None:
            out += (
                f", while mean {self.flat} over the same windows rose by at most "
                f"{t.accuracy_flat:g} (flat or falling)"
            )
        return out


@dataclasses.dataclass(frozen=True)
class LevelRule:
    """A rule on one step's value of a metric: flagged when it exceeds a threshold.

    Example:
        >>> LEVEL_RULES[1].text(Thresholds())
        'the share of responses whose scoring failed (error = 1) is above 1% at the step'
    """

    key: str
    title: str
    metric: str
    threshold: str
    what: str
    undefined: str = "no step has a value"  #: why a metric can be undefined at every step

    def text(self, t: Thresholds) -> str:
        """The rule written out with its numbers."""
        return f"{self.what} is above {getattr(t, self.threshold):.0%} at the step"


#: The trend rules, in the order the report lists them.
TREND_RULES: tuple[TrendRule, ...] = (
    TrendRule(
        "length_without_accuracy",
        "Length up, accuracy flat or falling",
        subject="length_mean",
        label="response length",
        rise="length_rise",
        relative=True,
        flat="accuracy",
    ),
    TrendRule(
        "repetition",
        "Repetition rising (length hacking)",
        subject="repetition",
        label="repetition",
        rise="repetition_rise",
        level="repetition_level",
    ),
    TrendRule(
        "format_collapse",
        "No-answer rate rising (format collapse)",
        subject="no_answer",
        label="no-answer rate",
        rise="no_answer_rise",
        level="no_answer_level",
    ),
)

#: The level rules, in the order the report lists them.
LEVEL_RULES: tuple[LevelRule, ...] = (
    LevelRule(
        "timeouts",
        "Verifier timeouts",
        "timeout",
        "failure_rate",
        "the share of responses whose verification ran out of time (timeout = 1)",
    ),
    LevelRule(
        "errors",
        "Scoring errors",
        "error",
        "failure_rate",
        "the share of responses whose scoring failed (error = 1)",
    ),
    LevelRule(
        "judge_failures",
        "Judge failures",
        "judge_failed",
        "failure_rate",
        "the share of responses the judge gave no usable grade (judge_failed = 1)",
    ),
    LevelRule(
        "exploration_dominates",
        "Exploration term outweighs correctness",
        "inversions",
        "inversion_rate",
        "the share of the step's (correct, wrong) response pairs in which the wrong response "
        "scores at least as high as the correct one",
        undefined="no step has both correct and wrong responses",
    ),
)


def _episodes(steps: list[int], flags: list[bool]) -> tuple[tuple[int, int], ...]:
    """Runs of consecutive flagged entries as (first step, last step)."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, flag in enumerate(flags):
        if flag and start is None:
            start = i
        if start is not None and (not flag or i == len(flags) - 1):
            end = i if flag else i - 1
            out.append((steps[start], steps[end]))
            start = None
    return tuple(out)


def _finding(
    key: str, title: str, rule: str, metrics: tuple[str, ...], steps: list[int], flags: list[bool]
) -> Finding:
    flagged = tuple(s for s, f in zip(steps, flags, strict=True) if f)
    return Finding(key, title, rule, metrics, flagged, _episodes(steps, flags))


def trend_finding(rule: TrendRule, table: MetricTable, t: Thresholds) -> Finding:
    """Evaluate one trend rule over the table's steps.

    Example:
        >>> table = MetricTable(list(range(1, 5)), {"no_answer": [0.0, 0.0, 0.3, 0.3]})
        >>> trend_finding(TREND_RULES[2], table, Thresholds()).steps  # windows of 2
        (4,)
    """
    metrics = (rule.subject,) + ((rule.flat,) if rule.flat else ())
    n = len(table.steps)
    window = min(t.window, n // 2)
    if window < 2:
        note = f"not evaluated: trend rules need at least 4 steps, the run has {n}"
        return Finding(rule.key, rule.title, rule.text(t, t.window), metrics, (), (), False, note)
    flags = [False] * n
    for i in range(2 * window - 1, n):
        recent = {m: _mean(table.values[m][i - window + 1 : i + 1]) for m in metrics}
        before = {m: _mean(table.values[m][i - 2 * window + 1 : i - window + 1]) for m in metrics}
        flags[i] = rule.holds(recent, before, t)
    return _finding(rule.key, rule.title, rule.text(t, window), metrics, table.steps, flags)


def level_finding(rule: LevelRule, table: MetricTable, t: Thresholds) -> Finding:
    """Evaluate one level rule at every step (a step where the metric is undefined: not flagged).

    Example:
        >>> table = MetricTable([5, 6], {"error": [0.5, 0.0]})
        >>> level_finding(LEVEL_RULES[1], table, Thresholds()).steps
        (5,)
    """
    limit = getattr(t, rule.threshold)
    values = table.values[rule.metric]
    flags = [not math.isnan(v) and v > limit for v in values]
    evaluated = any(not math.isnan(v) for v in values)
    finding = _finding(rule.key, rule.title, rule.text(t), (rule.metric,), table.steps, flags)
    if evaluated:
        return finding
    note = f"not evaluated: {rule.undefined}"
    return dataclasses.replace(finding, evaluated=False, note=note)


def evaluate(table: MetricTable, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every rule over a run's per-step table: trend rules first, then level rules.

    Example:
        >>> from rlsp_rewards.report.metrics import MetricTable
        >>> steps = list(range(1, 11))
        >>> table = MetricTable(steps, {
        ...     "length_mean": [100.0] * 5 + [150.0] * 5, "accuracy": [0.5] * 10,
        ...     "repetition": [0.0] * 10, "no_answer": [0.0] * 10, "timeout": [0.0] * 10,
        ...     "error": [0.0] * 10, "judge_failed": [0.0] * 10, "inversions": [0.0] * 10})
        >>> [(f.key, f.steps) for f in evaluate(table) if f.fired]
        [('length_without_accuracy', (10,))]
    """
    t = thresholds or Thresholds()
    found = [trend_finding(rule, table, t) for rule in TREND_RULES]
    return found + [level_finding(rule, table, t) for rule in LEVEL_RULES]


def _at_least(value: float, bound: float) -> bool:
    """``value >= bound``, forgiving float rounding (``0.51 - 0.5`` is at most ``0.01``)."""
    return value >= bound - 1e-9 * max(1.0, abs(bound))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
