"""Per-step aggregates in bounded memory, and the metrics the report shows (:data:`METRICS`).

A :class:`StepStats` keeps, for one step (or one step of one data source):

* exact running sums and counts over every rollout: every mean and rate is exact;
* a uniform random reservoir of at most ``reservoir`` rollouts' (length, score, acc), seeded by
  the step, for the length percentiles and the pair ranking (exact while the step has fewer
  rollouts than the reservoir holds);
* the step's largest length and how many rollouts have it (to infer a length cap);
* three example responses: the shortest correct, the longest wrong, the most repetitive, their
  text clipped to :data:`EXAMPLE_CHARS` characters.

So memory grows with the number of steps, never with the number of rollouts per step.
:class:`RunStats` holds the steps (overall and per data source) and turns them into tables.

Example:
    >>> from rlsp_rewards.report.sources import Rollout
    >>> run = RunStats()
    >>> for n, acc in ((100, 1.0), (300, 0.0), (200, 1.0)):
    ...     result = dict.fromkeys(NUMERIC_KEYS, 0.0) | {"length": n, "acc": acc, "score": acc}
    ...     run.add(Rollout(5, "math", "...", "", "1", result))
    >>> table = run.table()
    >>> table.steps, round(table.values["accuracy"][0], 3), table.values["length_p50"][0]
    ([5], 0.667, 200.0)
"""

from __future__ import annotations

import array
import bisect
import collections
import dataclasses
import math
import random
import statistics

from rlsp_rewards.core import BEHAVIOUR_KEYS, NUMERIC_KEYS, LengthSource
from rlsp_rewards.report.sources import Rollout

__all__ = [
    "EXAMPLE_CHARS",
    "EXAMPLE_KINDS",
    "METRICS",
    "Example",
    "Metric",
    "MetricTable",
    "RunStats",
    "StepStats",
]

#: Characters of an example response kept: its start and its end, half each.
EXAMPLE_CHARS = 3000
#: Characters of an example's prompt kept (its start).
PROMPT_CHARS = 600
#: The example responses kept per step, in the order the report shows them.
EXAMPLE_KINDS: tuple[str, ...] = ("shortest correct", "longest wrong", "most repetitive")


@dataclasses.dataclass(frozen=True)
class Metric:
    """One per-step metric: its column name, label and exact definition.

    Example:
        >>> METRIC_BY_NAME["truncated"].share
        True
    """

    name: str
    label: str
    definition: str
    share: bool = False  #: a fraction of responses (shown as a percentage)


_BEHAVIOUR_METRICS = tuple(
    Metric(f"{key}_share", f"{key} (share)", f"share of responses with a {key} marker", True)
    for key in BEHAVIOUR_KEYS
) + tuple(
    Metric(f"{key}_count", f"{key} (mean count)", f"mean count of {key} markers per response")
    for key in BEHAVIOUR_KEYS
)

#: Every metric of a step, in the order the tables show them.
METRICS: tuple[Metric, ...] = (
    Metric("rows", "responses", "responses scored at the step"),
    Metric("accuracy", "accuracy", "mean of acc (pure 0/1 correctness)", True),
    Metric("score", "score", "mean training reward (score)"),
    Metric("outcome", "outcome", "mean outcome term v"),
    Metric("length_term", "length_term", "mean length exploration term (e.g. -C/|o|)"),
    Metric("judge_grade", "judge_grade", "mean judge grade g (the fallback when it failed)"),
    Metric("length_mean", "length (mean)", "mean response length (see length source)"),
    Metric("length_p50", "length (p50)", "median response length"),
    Metric("length_p90", "length (p90)", "90th percentile of response length"),
    Metric("truncated", "truncated", "share of responses at the length cap", True),
    Metric("effective_length", "effective length", "mean length the length term used"),
    Metric("repetition", "repetition", "mean share of the response repeating itself", True),
    *_BEHAVIOUR_METRICS,
    Metric("no_answer", "no_answer", "share of responses without a final answer", True),
    Metric("timeout", "timeout", "share of verifications that ran out of time", True),
    Metric("error", "error", "share of responses whose scoring failed", True),
    Metric("judge_failed", "judge_failed", "share of judge calls without a usable grade", True),
    Metric("gold_unparseable", "gold_unparseable", "share with an unreadable gold answer", True),
    Metric(
        "inversions",
        "wrong >= correct",
        "share of (correct, wrong) response pairs of the step where the wrong one scores at "
        "least as high",
        True,
    ),
)
METRIC_BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
#: The metrics a per-source table shows (means and rates of the data source's responses).
SOURCE_METRICS: tuple[str, ...] = (
    "rows",
    "accuracy",
    "score",
    "length_mean",
    "repetition",
    "no_answer",
    "timeout",
    "error",
    *(f"{key}_share" for key in BEHAVIOUR_KEYS),
)


@dataclasses.dataclass(frozen=True)
class Example:
    """One example response of a step, clipped for the page.

    Example:
        >>> stats = StepStats(2)
        >>> result = dict.fromkeys(NUMERIC_KEYS, 0.0) | {"acc": 1.0, "length": 9.0}
        >>> stats.add(Rollout(2, "math", "so 4", "2+2?", "4", result, pred="4"))
        >>> example = stats.examples["shortest correct"]
        >>> example.kind, example.response, example.length
        ('shortest correct', 'so 4', 9.0)
    """

    kind: str
    step: int
    data_source: str
    response: str
    prompt: str
    gold: str
    pred: str
    length: float
    repetition: float
    score: float
    acc: float
    chars: int  #: the full response's length in characters


def clip(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters, else its start and end with a note.

    Example:
        >>> clip("x" * 10, 4)
        'xx\\n[... 6 characters left out ...]\\nxx'
    """
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - limit} characters left out ...]\n{text[-tail:]}"


def _example(kind: str, rollout: Rollout) -> Example:
    r = rollout.result
    return Example(
        kind=kind,
        step=rollout.step,
        data_source=rollout.data_source,
        response=clip(rollout.response, EXAMPLE_CHARS),
        prompt=clip(rollout.prompt, PROMPT_CHARS),
        gold=clip(rollout.gold, PROMPT_CHARS),
        pred=clip(rollout.pred, PROMPT_CHARS),
        length=r["length"],
        repetition=r["repetition"],
        score=r["score"],
        acc=r["acc"],
        chars=len(rollout.response),
    )


class StepStats:
    """The aggregates of one step (see the module docstring); :meth:`metrics` gives its row.

    Args:
        step: the step.
        reservoir: the most rollouts kept for percentiles and the pair ranking.
        limit: the length cap (``max_response_tokens``), when known; ``None``: inferred later.
        examples: keep the three example responses.

    Example:
        >>> stats = StepStats(1, reservoir=2)
        >>> for n in (10, 20, 30, 40):
        ...     result = dict.fromkeys(NUMERIC_KEYS, 0.0) | {"length": n}
        ...     stats.add(Rollout(1, "", "", "", "", result))
        >>> stats.rows, len(stats.lengths), stats.metrics()["length_mean"]
        (4, 2, 25.0)
    """

    def __init__(
        self, step: int, reservoir: int = 2048, limit: float | None = None, examples: bool = True
    ) -> None:
        self.step = step
        self.rows = 0
        self.sums = dict.fromkeys(NUMERIC_KEYS, 0.0)
        self.with_marker = dict.fromkeys(BEHAVIOUR_KEYS, 0)
        self.exact_lengths = True  #: every length came from a tokenizer or the framework
        self.max_length = -math.inf
        self.at_max = 0
        self.limit = limit
        self.over_limit = 0
        self.reservoir = reservoir
        self.lengths = array.array("d")
        self.scores = array.array("d")
        self.accs = array.array("d")
        self._random = random.Random(step)
        self.keep_examples = examples
        self.examples: dict[str, Example] = {}

    def add(self, rollout: Rollout) -> None:
        """Count one rollout."""
        r = rollout.result
        self.rows += 1
        for key in NUMERIC_KEYS:
            self.sums[key] += r[key]
        for key in BEHAVIOUR_KEYS:
            self.with_marker[key] += r[key] > 0
        length = r["length"]
        self.exact_lengths &= r["length_source"] != LengthSource.CHARS
        if length > self.max_length:
            self.max_length, self.at_max = length, 1
        elif length == self.max_length:
            self.at_max += 1
        if self.limit is not None and length >= self.limit:
            self.over_limit += 1
        self._sample(length, r["score"], r["acc"])
        if self.keep_examples:
            self._consider(rollout)

    def _sample(self, length: float, score: float, acc: float) -> None:
        """Reservoir sampling (algorithm R): every rollout is kept with the same probability."""
        if len(self.lengths) < self.reservoir:
            self.lengths.append(length)
            self.scores.append(score)
            self.accs.append(acc)
            return
        slot = self._random.randrange(self.rows)
        if slot < self.reservoir:
            self.lengths[slot], self.scores[slot], self.accs[slot] = length, score, acc

    def _consider(self, rollout: Rollout) -> None:
        r = rollout.result
        best = self.examples
        kind = "shortest correct" if r["acc"] >= 0.5 else "longest wrong"
        held = best.get(kind)
        if kind == "shortest correct":
            better = held is None or r["length"] < held.length
        else:
            better = held is None or r["length"] > held.length
        if better:
            best[kind] = _example(kind, rollout)
        held = best.get("most repetitive")
        if r["repetition"] > 0 and (held is None or r["repetition"] > held.repetition):
            best["most repetitive"] = _example("most repetitive", rollout)

    def mean(self, key: str) -> float:
        """The exact mean of a numeric result key over the step's rollouts."""
        return self.sums[key] / self.rows if self.rows else math.nan

    def metrics(self, cap: float | None = None) -> dict[str, float]:
        """The step's value of every metric in :data:`METRICS` (NaN where undefined).

        Args:
            cap: the length cap inferred for the run, used when no ``limit`` was given.
        """
        p50, p90 = _median_p90(self.lengths)
        if self.limit is not None:
            truncated = self.over_limit / self.rows
        elif cap is not None:
            truncated = self.at_max / self.rows if self.max_length == cap else 0.0
        else:
            truncated = math.nan
        values = {
            "rows": float(self.rows),
            "accuracy": self.mean("acc"),
            **{key: self.mean(key) for key in ("score", "outcome", "length_term", "judge_grade")},
            "length_mean": self.mean("length"),
            "length_p50": p50,
            "length_p90": p90,
            "truncated": truncated,
            "effective_length": self.mean("effective_length"),
            "repetition": self.mean("repetition"),
            **{f"{key}_share": self.with_marker[key] / self.rows for key in BEHAVIOUR_KEYS},
            **{f"{key}_count": self.mean(key) for key in BEHAVIOUR_KEYS},
            **{
                key: self.mean(key)
                for key in ("no_answer", "timeout", "error", "judge_failed", "gold_unparseable")
            },
            "inversions": _inversions(self.scores, self.accs),
        }
        return values


def _median_p90(values: array.array[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    if len(values) == 1:
        return values[0], values[0]
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return deciles[4], deciles[8]


def _inversions(scores: array.array[float], accs: array.array[float]) -> float:
    """The share of (correct, wrong) pairs where the wrong one scores at least as high."""
    correct = sorted(s for s, a in zip(scores, accs, strict=True) if a >= 0.5)
    wrong = [s for s, a in zip(scores, accs, strict=True) if a < 0.5]
    if not correct or not wrong:
        return math.nan
    pairs = sum(bisect.bisect_right(correct, w) for w in wrong)
    return pairs / (len(correct) * len(wrong))


@dataclasses.dataclass
class MetricTable:
    """Metrics over steps: ``values[name][i]`` is metric ``name`` at ``steps[i]``.

    Example:
        >>> MetricTable([1, 2], {"accuracy": [0.1, 0.2]}).at(2)["accuracy"]
        0.2
    """

    steps: list[int]
    values: dict[str, list[float]]

    def at(self, step: int) -> dict[str, float]:
        """Every metric at one step."""
        i = self.steps.index(step)
        return {name: column[i] for name, column in self.values.items()}


class RunStats:
    """The aggregates of a whole run: every step, overall and per data source.

    Args:
        reservoir: rollouts kept per step for percentiles (per data source: an eighth).
        max_response_tokens: the run's length cap (verl's ``data.max_response_length``), if
            known; otherwise inferred (see :meth:`length_cap`).

    Example:
        >>> RunStats().table().steps
        []
    """

    def __init__(self, reservoir: int = 2048, max_response_tokens: int | None = None) -> None:
        self.reservoir = reservoir
        self.max_response_tokens = max_response_tokens
        self.steps: dict[int, StepStats] = {}
        self.by_source: dict[tuple[int, str], StepStats] = {}
        self.length_sources: collections.Counter[str] = collections.Counter()
        self.judge_used = False

    def add(self, rollout: Rollout) -> None:
        """Count one rollout in its step and in its step's data source."""
        limit = self.max_response_tokens
        step = self.steps.get(rollout.step)
        if step is None:
            step = self.steps[rollout.step] = StepStats(rollout.step, self.reservoir, limit)
        step.add(rollout)
        key = (rollout.step, rollout.data_source)
        source = self.by_source.get(key)
        if source is None:
            size = max(self.reservoir // 8, 1)
            source = self.by_source[key] = StepStats(rollout.step, size, limit, examples=False)
        source.add(rollout)
        r = rollout.result
        code = int(r["length_source"])
        self.length_sources[LengthSource(code).name.lower() if code in (0, 1, 2) else "?"] += 1
        self.judge_used |= r["judge_grade"] != 0 or r["judge_failed"] != 0

    @property
    def rows(self) -> int:
        """Rollouts counted."""
        return sum(step.rows for step in self.steps.values())

    @property
    def sources(self) -> list[str]:
        """The data sources seen, sorted."""
        return sorted({source for _, source in self.by_source})

    def length_cap(self) -> tuple[float | None, str]:
        """The length cap used for ``truncated``, and how it was found.

        Given (``max_response_tokens``), else inferred when every length is exact (a tokenizer's
        or the framework's): the run's largest length, if at least two responses of one step
        have it (a cap shows as a pile-up at one exact length). Character-based lengths give no
        cap.

        Example:
            >>> RunStats(max_response_tokens=4096).length_cap()
            (4096, 'given: 4096 tokens')
        """
        if self.max_response_tokens is not None:
            return self.max_response_tokens, f"given: {self.max_response_tokens} tokens"
        if not self.steps:
            return None, "no responses"
        if not all(step.exact_lengths for step in self.steps.values()):
            return None, "unknown: lengths are characters / 4; pass --max-response-tokens"
        top = max(step.max_length for step in self.steps.values())
        at_top = [step.at_max for step in self.steps.values() if step.max_length == top]
        if max(at_top) < 2:
            return None, f"none seen: no step has two responses of the largest length, {top:.0f}"
        return top, f"inferred: {sum(at_top)} responses have the run's largest length, {top:.0f}"

    def table(self) -> MetricTable:
        """Every metric at every step, in step order."""
        return self._table(sorted(self.steps.values(), key=lambda s: s.step))

    def source_table(self, source: str) -> MetricTable:
        """Every metric at every step, for one data source's responses."""
        chosen = [s for (_, name), s in self.by_source.items() if name == source]
        return self._table(sorted(chosen, key=lambda s: s.step))

    def _table(self, steps: list[StepStats]) -> MetricTable:
        cap, _ = self.length_cap()
        values: dict[str, list[float]] = {metric.name: [] for metric in METRICS}
        for stats in steps:
            for name, value in stats.metrics(cap).items():
                values[name].append(value)
        return MetricTable([s.step for s in steps], values)
