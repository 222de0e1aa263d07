"""The report's figures: one line plot per metric over steps, as inline SVG or PNG.

matplotlib is imported when a figure is drawn, and only its object API is used (``Figure``,
no ``pyplot``, no backend switch), so drawing works headless and from any thread. SVG text is
kept as text (``svg.fonttype = none``: small, crisp, selectable), and every element id of a
figure is prefixed with its name, so several SVGs inline in one page never share an id. The
steps where a warning's rule holds are shaded in the figures of the metrics it reads.

Example:
    >>> from rlsp_rewards.report.metrics import MetricTable
    >>> table = MetricTable([1, 2, 3], {"accuracy": [0.2, 0.3, 0.5]})
    >>> svg = draw(PLOTS[0], table, []).svg
    >>> svg.startswith("<svg") and "Accuracy" in svg
    True
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rlsp_rewards.core import BEHAVIOUR_KEYS
from rlsp_rewards.errors import require
from rlsp_rewards.report.metrics import METRIC_BY_NAME, MetricTable
from rlsp_rewards.report.rules import Finding

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "Drawn", "Plot", "draw", "draw_all"]

_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'(\sid)="([^"]+)"')
_REFERENCE = re.compile(r'((?:url\(|href=")\s*)#([^)"]+)')


@dataclasses.dataclass(frozen=True)
class Plot:
    """One figure: the metrics it draws as lines (``(metric, legend label)``).

    Example:
        >>> PLOTS[0].name, PLOTS[0].lines
        ('accuracy', (('accuracy', 'accuracy'),))
    """

    name: str
    title: str
    lines: tuple[tuple[str, str], ...]
    ylabel: str = "mean"

    @property
    def share(self) -> bool:
        """True when every line is a share of responses (the y axis shows percentages)."""
        return all(METRIC_BY_NAME[metric].share for metric, _ in self.lines)


def _one(name: str, title: str, ylabel: str = "mean") -> Plot:
    return Plot(name, title, ((name, name),), ylabel)


#: The figures, in page order. ``judge_grade`` is drawn only when the run used the judge, and
#: ``truncated`` only when the length cap is known.
PLOTS: tuple[Plot, ...] = (
    _one("accuracy", "Accuracy", "share correct"),
    _one("score", "Score (the training reward)"),
    _one("outcome", "Outcome term v"),
    _one("length_term", "Length term"),
    _one("judge_grade", "Judge grade g"),
    Plot(
        "length",
        "Response length",
        (
            ("length_mean", "mean"),
            ("length_p50", "p50"),
            ("length_p90", "p90"),
            ("effective_length", "effective (mean)"),
        ),
        "length",
    ),
    _one("truncated", "Responses at the length cap", "share"),
    _one("repetition", "Repetition", "mean share repeated"),
    Plot(
        "behaviour_shares",
        "Responses with behaviour markers",
        tuple((f"{key}_share", key) for key in BEHAVIOUR_KEYS),
        "share of responses",
    ),
    Plot(
        "behaviour_counts",
        "Behaviour markers per response",
        tuple((f"{key}_count", key) for key in BEHAVIOUR_KEYS),
        "mean count",
    ),
    Plot(
        "statuses",
        "Status rates",
        tuple((key, key) for key in ("no_answer", "timeout", "error", "judge_failed")),
        "share of responses",
    ),
    _one("inversions", "(Correct, wrong) pairs where wrong scores >= correct", "share of pairs"),
)


@dataclasses.dataclass(frozen=True)
class Drawn:
    """A drawn figure: its plot's name, title and caption, and the SVG markup.

    Example:
        >>> import pathlib, tempfile
        >>> from rlsp_rewards.report.metrics import MetricTable
        >>> drawn = draw(PLOTS[0], MetricTable([1, 2], {"accuracy": [0.4, 0.5]}), [])
        >>> drawn.caption, drawn.write_png(tempfile.mkdtemp()).name
        ('mean of acc (pure 0/1 correctness)', 'accuracy.png')
    """

    name: str
    title: str
    caption: str  #: what its lines are, from the metrics' definitions
    svg: str
    figure: Figure = dataclasses.field(repr=False, compare=False)

    def write_png(self, folder: str | os.PathLike[str], dpi: int = 100) -> Path:
        """Write the figure as ``<folder>/<name>.png``; returns the path."""
        path = Path(folder) / f"{self.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, format="png", dpi=dpi)
        return path


def draw(
    plot: Plot,
    table: MetricTable,
    findings: Sequence[Finding],
    by_source: Mapping[str, MetricTable] | None = None,
) -> Drawn:
    """Draw one plot over the table's steps; flagged steps of matching findings are shaded.

    Args:
        plot: what to draw.
        table: the run's per-step metrics.
        findings: the rule findings; those reading one of the plot's metrics shade its steps.
        by_source: per data source tables: when given, the plot's first metric is drawn once
            per data source instead.

    Raises:
        DependencyError: when matplotlib is not installed.

    Example:
        >>> from rlsp_rewards.report.metrics import MetricTable
        >>> from rlsp_rewards.report.rules import Finding
        >>> flagged = Finding("x", "X", "rule", ("repetition",), (3,), ((3, 3),))
        >>> table = MetricTable([1, 2, 3], {"repetition": [0.0, 0.0, 0.4]})
        >>> shaded, plain = draw(PLOTS[7], table, [flagged]).svg, draw(PLOTS[7], table, []).svg
        >>> shaded.count("<path") - plain.count("<path")  # step 3's band
        1
        >>> 'id="repetition-axes_1"' in shaded  # ids prefixed by the plot's name
        True
    """
    require("matplotlib", "plot")
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(6.0, 3.2))
    # Fixed margins: a constrained layout would measure every text first (it doubles the time).
    figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.15)
    axis = figure.add_subplot()
    if by_source:
        metric = plot.lines[0][0]
        lines = [
            (t.steps, t.values[metric], _label(source or "(none)"))
            for source, t in by_source.items()
        ]
    else:
        lines = [(table.steps, table.values[metric], label) for metric, label in plot.lines]
    for steps, values, label in lines:
        dots = "o" if len(steps) <= 60 else None
        axis.plot(steps, values, marker=dots, markersize=3, linewidth=1.5, label=label)
    metrics = {metric for metric, _ in plot.lines}
    for finding in findings:
        if metrics & set(finding.metrics):
            for first, last in finding.episodes:
                axis.axvspan(first - 0.5, last + 0.5, color="tab:red", alpha=0.12, linewidth=0)
    if plot.share:
        axis.yaxis.set_major_formatter(PercentFormatter(1.0))
        axis.set_ylim(0.0, max([0.05, *(1.1 * v for _, vs, _ in lines for v in vs if v == v)]))
    if len(table.steps) == 1:  # one point: a window of a step either side, not a hair's width
        axis.set_xlim(table.steps[0] - 1, table.steps[0] + 1)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(xlabel="step", ylabel=plot.ylabel, title=plot.title)
    axis.grid(alpha=0.3)
    if len(lines) > 1:
        axis.legend(fontsize="small")
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rlsp"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _inline(buffer.getvalue(), plot.name)
    return Drawn(plot.name, plot.title, _caption(plot, bool(by_source)), svg, figure)


def _caption(plot: Plot, by_source: bool) -> str:
    definitions = [(label, METRIC_BY_NAME[metric].definition) for metric, label in plot.lines]
    if by_source:
        return f"{definitions[0][1]}; one line per data source"
    if len(definitions) == 1:
        return definitions[0][1]
    return "; ".join(f"{label}: {text}" for label, text in definitions)


def _inline(svg: str, prefix: str) -> str:
    """SVG markup for inline use: the ``<svg`` element without its metadata block (no XML
    prolog, no DOCTYPE), every element id and reference to one prefixed with ``prefix-``
    (matplotlib numbers its groups ``axes_1``, ``line2d_1``... in every figure alike)."""
    svg = _METADATA.sub("", svg[svg.index("<svg") :], count=1)
    svg = _ID.sub(lambda m: f'{m.group(1)}="{prefix}-{m.group(2)}"', svg)
    return _REFERENCE.sub(lambda m: f"{m.group(1)}#{prefix}-{m.group(2)}", svg)


def _label(text: str) -> str:
    """Text for matplotlib as written: a ``$`` would start mathtext (and bad TeX raises)."""
    return text.replace("$", r"\$")


def draw_all(
    table: MetricTable,
    findings: Sequence[Finding],
    source_tables: Mapping[str, MetricTable],
    judge_used: bool,
) -> list[Drawn]:
    """Every figure of the report, in page order.

    Skipped: ``judge_grade`` when the run did not use the judge, ``truncated`` when the length
    cap is unknown (every value NaN). With more than one data source, accuracy and mean length
    are drawn once more, a line per data source.

    Example:
        >>> from rlsp_rewards.report.metrics import RunStats
        >>> from rlsp_rewards.report.sources import Rollout
        >>> from rlsp_rewards.core import NUMERIC_KEYS
        >>> stats = RunStats()
        >>> stats.add(Rollout(1, "", "", "", "", dict.fromkeys(NUMERIC_KEYS, 0.0)))
        >>> [d.name for d in draw_all(stats.table(), [], {}, judge_used=False)][:3]
        ['accuracy', 'score', 'outcome']
    """
    drawn = []
    for plot in PLOTS:
        if plot.name == "judge_grade" and not judge_used:
            continue
        values = table.values[plot.lines[0][0]]
        if plot.name == "truncated" and all(math.isnan(v) for v in values):
            continue
        drawn.append(draw(plot, table, findings))
    if len(source_tables) > 1:
        for metric, title in (("accuracy", "Accuracy"), ("length_mean", "Mean length")):
            plot = Plot(f"{metric}_by_source", f"{title} by data source", ((metric, metric),))
            drawn.append(draw(plot, table, findings, by_source=source_tables))
    return drawn
