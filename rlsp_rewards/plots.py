"""Plots of a scoring run: reward against length, component histograms, behaviour rates.

matplotlib is imported only when a plot is drawn, and only its object API is used (no
``pyplot``, no global backend switch), so plotting works headless and from any thread.

Example:
    >>> import pathlib, tempfile
    >>> from rlsp_rewards.core import RewardResult
    >>> from rlsp_rewards.scoring import Summary
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

from .errors import require
from .scoring import BEHAVIOUR_KEYS, COMPONENT_KEYS, STATUS_KEYS, Summary

__all__ = ["plot_summary"]


def plot_summary(summary: Summary, path: str | os.PathLike[str], title: str = "") -> Path:
    """Draw the run's figure into ``path`` (PNG, or any format matplotlib infers from it).

    Panels: score against response length (log scale), a histogram per reward component, and
    the rates of behaviours and statuses. Points come from the summary's bounded sample.

    Args:
        summary: the run's :class:`~rlsp_rewards.scoring.Summary`.
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

    components = [k for k in COMPONENT_KEYS if k != "judge_grade" or summary.judge_used]
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
