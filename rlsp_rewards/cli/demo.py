"""The demo: the full RLSP reward on the shipped sample rollouts, offline, in a few seconds.

``data/sample_rollouts.jsonl`` holds 207 responses to 41 math problems, written for the demo:
right and wrong answers, equivalent forms (``0.5`` against ``\\frac{1}{2}``), intervals,
tuples, text answers, ``Answer:``, ``####`` and markdown final answers, responses with no
final answer or cut off, long ones that backtrack and verify, and two that repeat themselves
(which the ``guarded`` preset's repetition guard catches). Each row's ``kind`` says which.

Example:
    >>> from rlsp_rewards.cli.runs import count_rows
    >>> count_rows(sample_rollouts_path())
    207
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlsp_rewards.cli.runs import build_reward, score_with_progress
from rlsp_rewards.cli.summary import summary_tables
from rlsp_rewards.core import BEHAVIOUR_KEYS

if TYPE_CHECKING:
    from rich.console import Console

    from rlsp_rewards.cli.runs import Summary

__all__ = ["PRESETS", "run_demo", "sample_rollouts_path"]

#: The presets compared side by side.
PRESETS: tuple[str, ...] = ("paper", "reference", "guarded")
#: The kinds of response shown as examples, one row each, in this order.
EXAMPLE_KINDS: tuple[str, ...] = (
    "correct",
    "equivalent",
    "wrong",
    "long_correct",
    "long_wrong",
    "no_answer",
    "truncated",
    "repetitive",
)


def sample_rollouts_path() -> Path:
    """The shipped sample rollouts file.

    Example:
        >>> sample_rollouts_path().name
        'sample_rollouts.jsonl'
    """
    return Path(__file__).with_name("data") / "sample_rollouts.jsonl"


def run_demo(
    console: Console,
    preset: str = "paper",
    judge_url: str | None = None,
    judge_model: str | None = None,
    out: str | os.PathLike[str] | None = None,
    compare: bool = True,
) -> Summary:
    """Score the sample rollouts with the RLSP reward and print what it sees.

    Prints the summary tables (accuracy, components, length, behaviours, statuses, timing), one
    example per kind of response, and, with ``compare``, the three presets side by side.

    Args:
        console: where to print (a ``rich.console.Console``).
        preset: ``paper``, ``reference`` or ``guarded``.
        judge_url: an OpenAI-compatible endpoint; turns on the judge exploration term.
        judge_model: the judge's model name.
        out: also keep the scored rows in this JSONL file.
        compare: also score the rollouts with every preset and compare their means.

    Returns:
        The summary of the run with ``preset``.

    Raises:
        ConfigError: for an unknown preset or judge setting.
    """
    path = sample_rollouts_path()
    start = time.perf_counter()
    reward = build_reward(preset, judge_url=judge_url, judge_model=judge_model)
    with tempfile.TemporaryDirectory() as scratch:
        scored = Path(out) if out is not None else Path(scratch) / "scored.jsonl"
        summary = score_with_progress(
            path, reward, console, label=f"preset {preset}", out=scored, chunk_size=64
        )
        examples = _examples(scored)
    wall_s = time.perf_counter() - start
    console.print(
        f"[bold]RLSP reward, preset [cyan]{preset}[/cyan], on {summary.rows} sample rollouts"
        f"[/bold] ({wall_s:.1f} s including worker start-up)\n"
    )
    for table in summary_tables(summary):
        console.print(table)
        console.print()
    console.print(_examples_table(examples))
    if compare:
        console.print()
        console.print(_compare_presets(console, judge_url, judge_model))
    if out is not None:
        console.print(f"\nScored rows written to {out}")
    return summary


def _examples(scored: Path) -> list[dict[str, Any]]:
    chosen: dict[str, dict[str, Any]] = {}
    with scored.open(encoding="utf-8") as lines:
        for text in lines:
            row = json.loads(text)
            if row.get("kind") in EXAMPLE_KINDS and "reward" in row:
                chosen.setdefault(row["kind"], row)
    return [chosen[kind] for kind in EXAMPLE_KINDS if kind in chosen]


def _examples_table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    from rlsp_rewards.outcome.extract import gold_answer

    table = Table(title="One response of each kind", title_justify="left", show_edge=False)
    for column in ("kind", "gold", "pred", "acc", "length", "eff.len", "rep.", "score", "B/V/A"):
        left = column in ("kind", "gold", "pred")
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for row in rows:
        r = row["reward"]
        table.add_row(
            row["kind"],
            _clip(gold_answer(row["gold"]) or str(row["gold"])),
            _clip(r["pred"]) or "-",
            f"{r['acc']:.0f}",
            f"{r['length']:.0f}",
            f"{r['effective_length']:.0f}",
            f"{r['repetition']:.2f}",
            f"{r['score']:+.3f}",
            "/".join(f"{r[k]:.0f}" for k in BEHAVIOUR_KEYS),
        )
    table.caption = "rep.: repetition; B/V/A: backtracking / verification / alternatives markers"
    return table


def _clip(text: str, width: int = 14) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _compare_presets(console: Console, judge_url: str | None, judge_model: str | None) -> Any:
    from rich.table import Table

    table = Table(title="The three presets side by side", title_justify="left", show_edge=False)
    table.caption = "means over all responses; acc is pure correctness, outcome the term v"
    for column in ("preset", "acc", "outcome", "length term", "score", "min score", "max score"):
        table.add_column(column, justify="left" if column == "preset" else "right", no_wrap=True)
    for name in PRESETS:
        reward = build_reward(name, judge_url=judge_url, judge_model=judge_model)
        summary = score_with_progress(
            sample_rollouts_path(), reward, console, label=f"preset {name}", chunk_size=64
        )
        table.add_row(
            name,
            f"{summary.mean('acc'):.3f}",
            f"{summary.mean('outcome'):+.3f}",
            f"{summary.mean('length_term'):+.3f}",
            f"{summary.mean('score'):+.3f}",
            f"{summary.percentile('score', 0):+.3f}",
            f"{summary.percentile('score', 100):+.3f}",
        )
    return table
