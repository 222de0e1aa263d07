"""``rlsp-rewards report``: a verl dump folder, the demo sample re-scored, and bad input."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app
from rlsp_rewards.cli.demo import sample_rollouts_path

runner = CliRunner()


def plain(text: str) -> str:
    """Output without ANSI styles and box drawing, whitespace collapsed."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩┣┫╇╈┳┻┼├┤]", " ", text).split())


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    text = plain(result.output)
    assert "Example: rlsp-rewards report" in text and "--rescore" in text
    assert "report" in plain(runner.invoke(app, ["--help"]).output)


def test_a_verl_dump_folder(synthetic_runs: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(synthetic_runs["collapse"].path), "-o", str(out), "--preset", "guarded"]
    result = runner.invoke(app, [*args, "--png", str(tmp_path / "png")])
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    assert f"Report written to {out} (30 steps, 1,440 responses)" in text
    assert "warning: No-answer rate rising (format collapse), from step" in text
    assert len(list((tmp_path / "png").glob("*.png"))) >= 10
    html = out.read_text()
    # The stated preset is shown, marked as not checked against the run.
    assert "As stated with --preset/--set" in html and "Preset <b>guarded</b>" in html


def test_the_demo_sample_is_one_step_when_re_scored(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    args = ["report", str(sample_rollouts_path()), "-o", str(out), "--rescore"]
    result = runner.invoke(app, [*args, "--preset", "guarded", "--set", "C=500"])
    assert result.exit_code == 0, result.output
    assert "(1 step, 207 responses)" in plain(result.output)
    html = out.read_text()
    assert "Re-scored by this report" in html and '<td class="text">C (set)</td>' in html
    assert "3 data source(s)" in html and "figure-accuracy_by_source" in html
    assert "trend rules need at least 4 steps, the run has 1" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # the demo sample has no rlsp-rewards keys: the error says how to re-score
        ([str(sample_rollouts_path())], "add --rescore --preset guarded"),
        (["no/such/run"], "does not exist"),
        ([str(sample_rollouts_path()), "--rescore", "--preset", "best"], "preset"),
        ([str(sample_rollouts_path()), "--rescore", "--set", "C"], "KEY=VALUE"),
        ([str(sample_rollouts_path()), "--examples-at", "1,x"], "--examples-at takes steps"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", *args, "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2, result.output
    assert message in plain(result.output)
    assert not (tmp_path / "r.html").exists()
