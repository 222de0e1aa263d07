"""The summary of a scoring run: rich tables, and a figure (reward against length, component
histograms, behaviour and status rates).

matplotlib is imported only when a plot is drawn, and only its object API is used (no
``pyplot``, no global backend switch), so plotting works headless and from any thread.

Example:
    >>> import pathlib, tempfile
    >>> from rlsp_rewards.core import RewardResult
    >>> from rlsp_rewards.cli.runs import Summary
    >>> summary = Summary()
    >>> for n in (50, 200, 800):
    ...     summary.add(RewardResult(score=0.8 - 200 / n, outcome=1.0, length=n).to_dict())
    >>> path = plot_summary(summary, pathlib.Path(tempfile.mkdtemp()) / "run.png")
    >>> path.stat().st_size > 10_000
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rlsp_rewards.cli.runs import Summary
from rlsp_rewards.core import BEHAVIOUR_KEYS, COMPONENT_KEYS, STATUS_KEYS
from rlsp_rewards.errors import require

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["plot_summary", "summary_tables"]


def plot_summary(summary: Summary, path: str | os.PathLike[str], title: str = "") -> Path:
    """Draw the run's figure into ``path`` (PNG, or any format matplotlib infers from it).

    Panels: score against response length (log scale), a histogram per reward component, and
    the rates of behaviours and statuses. Points come from the summary's bounded sample.

    Args:
        summary: the run's :class:`~rlsp_rewards.cli.runs.Summary`.
        path: where to write the image; parent folders are created.
        title: the figure title.

    Returns:
        The path written.

    Raises:
        DependencyError: when matplotlib is not installed.
    """
    require("matplotlib", "plot")
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    components = [k for k in COMPONENT_KEYS if _shown(summary, k)]
    figure = Figure(figsize=(13, 7.5), layout="constrained")
    grid = figure.add_gridspec(2, 3)
    figure.suptitle(title or f"{summary.scored} scored responses")

    scatter = figure.add_subplot(grid[0, 0])
    lengths = [max(row["length"], 1.0) for row in summary.sample]
    scatter.scatter(lengths, [row["score"] for row in summary.sample], s=10, alpha=0.6)
    scatter.set_xscale("log")
    scatter.xaxis.set_minor_formatter(NullFormatter())  # crowded labels between decades
    scatter.set(xlabel="response length (tokens)", ylabel="score", title="Reward against length")

    slots = [grid[0, 1], grid[0, 2], grid[1, 0], grid[1, 1]]
    for key, slot in zip([*components, "length"], slots, strict=False):  # length if room
        axis = figure.add_subplot(slot)
        axis.hist([row[key] for row in summary.sample], bins=30)
        axis.set(title=key, xlabel="tokens" if key == "length" else "value", ylabel="responses")

    rates = figure.add_subplot(grid[1, 2])
    names = [*BEHAVIOUR_KEYS, *STATUS_KEYS]
    rates.barh(names, [summary.rate(k) for k in names], color=["tab:green"] * 3 + ["tab:red"] * 5)
    rates.invert_yaxis()
    rates.set(xlim=(0, 1), xlabel="fraction of responses", title="Behaviours and statuses")

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def _shown(summary: Summary, key: str) -> bool:
    """Whether a component is shown: the judge's grade and the shape term only when used."""
    if key == "judge_grade":
        return summary.judge_used
    return key != "shape_term" or summary.nonzero["shape_term"] > 0


# -- tables ------------------------------------------------------------------------------------


def summary_tables(summary: Summary, title: str = "") -> list[Table]:
    """Rich tables: overview, reward components, length, behaviours, statuses.

    Example:
        >>> from rlsp_rewards.core import RewardResult
        >>> s = Summary()
        >>> s.add(RewardResult(score=0.5, acc=1.0, length=120.0).to_dict())
        >>> [t.title for t in summary_tables(s)]
        ['Overview', 'Reward components', 'Response length', 'Behaviours', 'Statuses']
    """
    from rich.table import Table

    def table(name: str, *columns: str) -> Table:
        t = Table(title=f"{title}{name}", title_justify="left", show_edge=False)
        for i, column in enumerate(columns):
            t.add_column(column, justify="left" if i == 0 else "right")
        return t

    overview = table("Overview", "", "value")
    overview.add_row("rows", f"{summary.rows}")
    overview.add_row("scored", f"{summary.scored}")
    overview.add_row("skipped (not scorable)", f"{summary.skipped}")
    overview.add_row("accuracy (acc)", f"{summary.mean('acc'):.3f}")
    overview.add_row("mean score", f"{summary.mean('score'):.3f}")
    if summary.scored_now:
        rate = f"{summary.samples_per_s:,.1f} samples/s"
        overview.add_row("time in the reward", f"{summary.seconds:.2f} s ({rate})")

    components = table("Reward components", "component", "mean", "p10", "p50", "p90")
    for key in filter(lambda k: _shown(summary, k), COMPONENT_KEYS):
        components.add_row(
            key,
            f"{summary.mean(key):.3f}",
            *(f"{summary.percentile(key, q):.3f}" for q in (10, 50, 90)),
        )

    length = table("Response length", "", "value")
    sources = ", ".join(f"{name} {n}" for name, n in summary.length_sources.most_common())
    length.add_row("source", sources or "-")
    length.add_row("mean", f"{summary.mean('length'):.1f}")
    for q in (10, 50, 90, 99):
        length.add_row(f"p{q}", f"{summary.percentile('length', q):.0f}")
    length.add_row("max", f"{summary.percentile('length', 100):.0f}")
    length.add_row("mean effective length", f"{summary.mean('effective_length'):.1f}")
    length.add_row("mean repetition", f"{summary.mean('repetition'):.3f}")

    behaviours = table("Behaviours", "behaviour", "mean count", "responses with it")
    for key in BEHAVIOUR_KEYS:
        behaviours.add_row(key, f"{summary.mean(key):.2f}", f"{summary.rate(key):.1%}")

    statuses = table("Statuses", "status", "count", "rate")
    for key in STATUS_KEYS:
        statuses.add_row(key, f"{summary.nonzero[key]}", f"{summary.rate(key):.1%}")
    for reason, n in summary.skip_reasons.most_common():
        statuses.add_row(f"skipped: {reason}", f"{n}", f"{n / max(summary.rows, 1):.1%}")
    return [overview, components, length, behaviours, statuses]
