"""``rlsp-rewards report``: from a run folder to the HTML page, with a progress bar.

One pass over the rollouts (:class:`~rlsp_rewards.report.sources.RunReader`, re-scoring when a
reward is given) feeds the per-step aggregates (:class:`~rlsp_rewards.report.metrics.RunStats`);
then the rules are checked, the figures drawn, and the page written.

Example steps (the example responses shown): the ones asked for, else the first and the last
step and the first step of each warning, at most :data:`MAX_EXAMPLE_STEPS`.

Example:
    >>> import json, pathlib, tempfile
    >>> from rlsp_rewards.core import RewardResult
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> for step in (1, 2):
    ...     row = {"input": "q", "output": "a", "gts": "1", "step": step,
    ...            **RewardResult(acc=1.0, outcome=1.0, length=50.0 * step).to_dict()}
    ...     _ = (run / f"{step}.jsonl").write_text(json.dumps(row) + "\\n")
    >>> built = build_report(run, run / "report.html")
    >>> built.table.values["length_mean"], built.path.stat().st_size > 10_000
    ([50.0, 100.0], True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsp_rewards import __version__
from rlsp_rewards.errors import ConfigError
from rlsp_rewards.report.figures import Drawn, draw_all
from rlsp_rewards.report.metrics import EXAMPLE_KINDS, Example, MetricTable, RunStats
from rlsp_rewards.report.page import Page, Settings, render
from rlsp_rewards.report.rules import Finding, Thresholds, evaluate
from rlsp_rewards.report.sources import RunReader

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "MAX_EXAMPLE_STEPS",
    "BuiltReport",
    "ReportOptions",
    "build_report",
    "parse_steps",
    "report_run",
    "settings_of",
]

#: The most steps whose example responses are shown by default.
MAX_EXAMPLE_STEPS = 6


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """How the report is made.

    Attributes:
        title: the page title (default: "Training report: <run folder name>").
        window: steps per window of the trend rules.
        max_response_tokens: the run's length cap; ``None``: inferred (see
            :meth:`~rlsp_rewards.report.metrics.RunStats.length_cap`).
        examples_at: the steps whose example responses are shown (empty: chosen).
        png_dir: also write every figure as ``<name>.png`` into this folder.
        reservoir: rollouts kept per step for percentiles and the pair ranking.
        chunk_size: rows per batch when re-scoring.

    Example:
        >>> ReportOptions(window=10).window
        10
    """

    title: str = ""
    window: int = 5
    max_response_tokens: int | None = None
    examples_at: tuple[int, ...] = ()
    png_dir: Path | None = None
    reservoir: int = 2048
    chunk_size: int = 512

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ConfigError(f"window must be >= 2 steps (default 5), got {self.window}")
        if self.max_response_tokens is not None and self.max_response_tokens < 1:
            raise ConfigError(
                "max_response_tokens must be >= 1 (verl's data.max_response_length, e.g. 4096), "
                f"got {self.max_response_tokens}"
            )
        if self.reservoir < 1:
            raise ConfigError(f"reservoir must be >= 1 (default 2048), got {self.reservoir}")


@dataclasses.dataclass
class BuiltReport:
    """What :func:`build_report` made: the page's path, its tables, findings and figures.

    Example:
        >>> import pathlib, tempfile
        >>> from rlsp_rewards.cli.demo import sample_rollouts_path
        >>> from rlsp_rewards.registry import build
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.html"
        >>> built = build_report(sample_rollouts_path(), out, reward=build("combined"))
        >>> built.summary_lines()[1:]  # the paper preset: short correct answers sink
        ['  warning: Exploration term outweighs correctness, from step 0']
    """

    path: Path
    table: MetricTable
    findings: list[Finding]
    figures: list[Drawn]
    pngs: list[Path]
    stats: RunStats

    def summary_lines(self) -> list[str]:
        """What the command prints: the page, the steps, each warning and where it starts."""
        steps = self.table.steps
        count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
        lines = [f"Report written to {self.path} ({count}, {self.stats.rows:,} responses)"]
        fired = [f for f in self.findings if f.fired]
        for finding in fired:
            lines.append(f"  warning: {finding.title}, from step {finding.episodes[0][0]}")
        if not fired:
            lines.append("  no warning")
        if self.pngs:
            lines.append(f"Figures written to {self.pngs[0].parent} ({len(self.pngs)} PNG files)")
        return lines


def settings_of(reward: Any, origin: str) -> Settings:
    """The settings of an RLSP reward (``RlspReward``), for the page.

    Example:
        >>> from rlsp_rewards.registry import build
        >>> s = settings_of(build("combined", preset="guarded", C=500), "re-scored")
        >>> s.preset, s.values["C"], "C" in s.explicit
        ('guarded', 500.0, True)
    """
    from rlsp_rewards.combine import PRESETS

    config = reward.config
    values = config.model_dump()
    preset = values.get("preset")
    explicit: dict[str, Any] = getattr(config, "explicit_settings", dict)()
    formula = PRESETS[preset].formula if preset in PRESETS else None
    return Settings(origin, preset, formula, values, frozenset(explicit) - {"preset"})


def build_report(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    reward: Any = None,
    settings: Settings | None = None,
    options: ReportOptions | None = None,
    console: Console | None = None,
) -> BuiltReport:
    """Read a run, check the rules, draw the figures and write the report page to ``out``.

    Args:
        run: verl's rollout dump folder, a folder of score outputs, or one file.
        out: the HTML file to write (parent folders are created).
        reward: re-score every row with this reward (``None``: read the rows' results).
        settings: the reward settings to show (default: the re-scoring reward's, else "not
            recorded").
        options: see :class:`ReportOptions`.
        console: where the progress bar goes (none when ``None`` or not a terminal).

    Raises:
        ConfigError: for a missing run, a run without results (re-score it), an example step
            the run does not have, or no scorable row.
        DependencyError: when matplotlib is not installed.
    """
    options = options or ReportOptions()
    reader = RunReader(run, reward=reward, chunk_size=options.chunk_size)
    stats = RunStats(options.reservoir, options.max_response_tokens)
    with _progress(console, reader.total_rows, f"reading {Path(run).name}") as advance:
        for rollout in reader.rollouts(on_rows=advance):
            stats.add(rollout)
    if not stats.rows:
        raise ConfigError(
            f"no scorable row in {str(run)!r} ({reader.skipped} skipped: "
            f"{dict(reader.skip_reasons)}); check the files are verl dumps or score outputs"
        )
    table = stats.table()
    sources = {source: stats.source_table(source) for source in stats.sources}
    findings = evaluate(table, Thresholds(window=options.window))
    figures = draw_all(table, findings, sources, stats.judge_used)
    chosen = _example_steps(table.steps, findings, options.examples_at)
    if settings is None:
        settings = (
            settings_of(reward, "Re-scored by this report with the reward below.")
            if reward is not None
            else Settings(_NOT_RECORDED)
        )
    page = Page(
        title=options.title or f"Training report: {Path(run).resolve().name}",
        run=str(run),
        table=table,
        source_tables=sources,
        findings=findings,
        figures=figures,
        examples={step: _examples(stats, step) for step in chosen},
        settings=settings,
        notes=_notes(reader, stats),
        version=__version__,
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(page), encoding="utf-8")
    pngs = [drawn.write_png(options.png_dir) for drawn in figures] if options.png_dir else []
    return BuiltReport(path, table, findings, figures, pngs, stats)


def report_run(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    rescore: bool,
    options: ReportOptions,
    console: Console | None = None,
    preset: str | None = None,
    settings: Sequence[str] = (),
    judge_url: str | None = None,
    judge_model: str | None = None,
) -> BuiltReport:
    """:func:`build_report` from the command's options.

    With ``rescore``, every row is scored again with the reward ``preset`` (default ``paper``),
    ``settings`` (``KEY=VALUE``) and the judge describe. Without it, those options only state
    the settings the run used: they are validated and shown, not checked against the run.

    Raises:
        ConfigError: for a bad setting, and everything :func:`build_report` raises.

    Example:
        >>> import pathlib, tempfile
        >>> from rlsp_rewards.cli.demo import sample_rollouts_path
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.html"
        >>> built = report_run(sample_rollouts_path(), out, True, ReportOptions(), preset="guarded")
        >>> built.table.steps, built.stats.rows
        ([0], 207)
    """
    from rlsp_rewards.cli.runs import build_reward, parse_settings

    stated = bool(preset or settings or judge_url or judge_model)
    if not (rescore or stated):
        return build_report(run, out, options=options, console=console)
    reward = build_reward(preset or "paper", parse_settings(settings), judge_url, judge_model)
    if rescore:
        return build_report(run, out, reward=reward, options=options, console=console)
    shown = settings_of(reward, "As stated with --preset/--set (not checked against the run).")
    return build_report(run, out, settings=shown, options=options, console=console)


def parse_steps(text: str) -> tuple[int, ...]:
    """Steps written as ``1,50,100`` (blank: none).

    Raises:
        ConfigError: for anything but comma-separated integers.

    Example:
        >>> parse_steps("1, 50,100"), parse_steps("")
        ((1, 50, 100), ())
    """
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--examples-at takes steps like 1,50,100, got {text!r}") from None


_NOT_RECORDED = (
    "Not recorded: rollout dumps and score outputs do not say which settings scored them. "
    "Pass --preset/--set to state them, or --rescore to score the rollouts again."
)


def _example_steps(
    steps: Sequence[int], findings: Sequence[Finding], asked: Sequence[int]
) -> list[int]:
    if asked:
        missing = [s for s in asked if s not in steps]
        if missing:
            raise ConfigError(
                f"--examples-at: the run has no step {missing[0]} (its steps: {steps[0]} to "
                f"{steps[-1]}, {len(steps)} in all)"
            )
        return sorted(set(asked))
    chosen = {steps[0], steps[-1]} | {f.episodes[0][0] for f in findings if f.fired}
    return sorted(chosen)[:MAX_EXAMPLE_STEPS]


def _examples(stats: RunStats, step: int) -> list[Example]:
    held = stats.steps[step].examples
    return [held[kind] for kind in EXAMPLE_KINDS if kind in held]


def _notes(reader: RunReader, stats: RunStats) -> list[str]:
    names = ", ".join(p.name for p in reader.files[:5]) + (" ..." if len(reader.files) > 5 else "")
    notes = [f"{len(reader.files)} file(s) read: {names}"]
    origins = ", ".join(f"{n:,} from {origin}" for origin, n in reader.step_sources.most_common())
    notes.append(f"Steps of the rows: {origins or '-'} (none: all such rows are step 0).")
    lengths = ", ".join(f"{name} {n:,}" for name, n in stats.length_sources.most_common())
    notes.append(
        f"Length source: {lengths} (chars: characters / 4, an approximation; tokenizer, "
        "framework: exact token counts)."
    )
    notes.append(f"Length cap for 'truncated': {stats.length_cap()[1]}.")
    notes.append(
        f"Percentiles and pair rankings use up to {stats.reservoir:,} responses per step "
        "(a uniform sample); means and rates use every response."
    )
    if reader.reward is not None:
        notes.append("Every row was scored again (--rescore); scores in the files were ignored.")
    if reader.skipped:
        reasons = ", ".join(f"{reason} {n}" for reason, n in reader.skip_reasons.most_common())
        notes.append(f"{reader.skipped:,} rows skipped ({reasons}).")
        for name, line, reason in reader.first_skips:
            notes.append(f"  skipped: {name} line {line}: {reason[:200]}")
    return notes


@contextlib.contextmanager
def _progress(
    console: Console | None, total: Callable[[], int], label: str
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar over ``total()`` rows (counted only when it is shown: on a
    terminal); yields ``advance``."""
    if console is None or not console.is_terminal:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total())
        yield lambda n: progress.advance(task, n)
