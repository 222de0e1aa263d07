"""The command line: help with examples, demo, score (files, resume, plot, errors), check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rlsp_rewards.cli.app import app

runner = CliRunner()


def plain(text: str) -> str:
    """Output without ANSI styles and box drawing, whitespace collapsed."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩┣┫╇╈┳┻┼├┤]", " ", text).split())


@pytest.mark.parametrize("command", [[], ["demo"], ["score"], ["check"]])
def test_help_is_complete_with_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    text = plain(result.output)
    assert "Example" in text and "rlsp-rewards" in text
    if not command:
        for name in ("demo", "score", "check", "serve"):
            assert name in text


def test_demo_scores_the_sample_rollouts(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    result = runner.invoke(app, ["demo", "--preset", "guarded", "--no-compare", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    for words in (
        "preset guarded",
        "accuracy (acc)",
        "Reward components",
        "Response length",
        "Behaviours",
        "Statuses",
        "time in the reward",
        "One response of each kind",
        "repetitive",
    ):
        assert words in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 207 and all("reward" in row for row in rows)
    by_kind: dict[str, list[dict]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["reward"])
    mean = lambda kind, key: sum(r[key] for r in by_kind[kind]) / len(by_kind[kind])  # noqa: E731
    assert mean("correct", "acc") == 1.0 and mean("equivalent", "acc") == 1.0
    assert mean("wrong", "acc") == 0.0 and mean("no_answer", "no_answer") == 1.0
    assert mean("long_correct", "backtracking") >= 1 and mean("long_correct", "alternatives") >= 1
    assert mean("repetitive", "repetition") > 0.5  # the guard sees the loops


def test_demo_compares_the_presets() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    assert "The three presets side by side" in text
    assert all(name in text for name in ("paper", "reference", "guarded"))


def test_demo_with_a_judge(fixed_grade_judge_url: str) -> None:
    result = runner.invoke(app, ["demo", "--no-compare", "--judge-url", fixed_grade_judge_url])
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    assert "judge_grade 0.700" in text  # the judge's grade is a component now
    assert "judge_failed 0 0.0%" in text


def write_rollouts(path: Path) -> Path:
    rows = [
        json.dumps({"resp": "So the answer is \\boxed{\\frac{1}{2}}.", "meta": {"answer": "0.5"}}),
        "{broken json",
        json.dumps({"resp": "I think it is \\boxed{3}.", "meta": {"answer": "4"}}),
        json.dumps({"resp": "no gold here"}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_score_maps_fields_keeps_every_row_and_plots(tmp_path: Path) -> None:
    src = write_rollouts(tmp_path / "in.jsonl")
    out, png = tmp_path / "out.jsonl", tmp_path / "run.png"
    result = runner.invoke(
        app,
        [
            "score",
            str(src),
            "--out",
            str(out),
            "--response-field",
            "resp",
            "--gold-field",
            "meta.answer",
            "--preset",
            "guarded",
            "--set",
            "C=500",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["reward"]["acc"] == 1.0 and rows[2]["reward"]["acc"] == 0.0
    assert rows[1]["skipped"].startswith("invalid JSON")
    assert rows[3]["skipped"] == "missing field 'meta.answer'"
    text = plain(result.output)
    assert "2 rows could not be scored" in text and "line 2: invalid JSON" in text
    assert "accuracy (acc) 0.500" in text
    assert png.stat().st_size > 10_000


def test_score_resume_appends_only_the_missing_rows(tmp_path: Path) -> None:
    src = write_rollouts(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    args = [
        "score",
        str(src),
        "--out",
        str(out),
        "--response-field",
        "resp",
        "--gold-field",
        "meta.answer",
    ]
    assert runner.invoke(app, args).exit_code == 0
    full = out.read_text()
    out.write_text("".join(full.splitlines(keepends=True)[:2]))
    result = runner.invoke(app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert out.read_text() == full


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # each bad input names itself and what would work; exit code 2
        (["score", "missing.jsonl"], "does not exist"),
        (["score", "{src}", "--preset", "fancy"], "fancy"),
        (["score", "{src}", "--set", "C"], "KEY=VALUE"),
        (["score", "{src}", "--set", "nonsense=1"], "unknown setting 'nonsense'"),
        (["score", "{src}", "--resume"], "--resume needs --out"),
        (["check", "no_colon_here"], "module:name"),
        (["check", "rlsp_rewards:nothing"], "has no attribute 'nothing'"),
        (["check", "no_such_module_xyz:f"], "cannot load 'no_such_module_xyz'"),
        (["check", "rlsp_rewards:length", "--framework", "nemo"], "framework must be one of"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], words: str) -> None:
    src = write_rollouts(tmp_path / "in.jsonl")
    result = runner.invoke(app, [a.replace("{src}", str(src)) for a in args])
    assert result.exit_code == 2
    assert words in plain(result.output)


def test_check_passes_our_reward_with_exit_0() -> None:
    result = runner.invoke(app, ["check", "rlsp_rewards:length"])
    assert result.exit_code == 0, result.output
    assert "passed" in plain(result.output)


def test_check_fails_a_broken_reward_file_with_exit_1(tmp_path: Path) -> None:
    reward_file = tmp_path / "my_reward.py"
    reward_file.write_text(
        "def my_reward(data_source, solution_str, ground_truth, extra_info=None, **kwargs):\n"
        "    if not solution_str:\n"
        "        return {'score': 0.0}\n"
        "    return {'score': 1.0, 'len': float(len(solution_str))}\n"
    )
    result = runner.invoke(app, ["check", f"{reward_file}:my_reward"])
    assert result.exit_code == 1
    text = plain(result.output)
    assert "FAILED" in text and "KeyError" in text and "cannot be pickled" in text


@pytest.mark.parametrize(
    ("extra_args", "source"),
    [
        ([], 0.0),  # no tokenizer: characters / 4
        (["--set", "tokenizer={tok}"], 1.0),  # a local tokenizer
        (["--tokens-field", "n_tokens"], 2.0),  # an exact count carried in the rows
    ],
)
def test_score_reports_where_lengths_come_from(
    tmp_path: Path, tokenizer_dir: str, extra_args: list[str], source: float
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": "Wait, \\boxed{4}", "gold": "4", "n_tokens": 9}) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["score", str(src), "--out", str(out), *extra_args]
    result = runner.invoke(app, [a.replace("{tok}", tokenizer_dir) for a in args])
    assert result.exit_code == 0, result.output
    reward = json.loads(out.read_text())["reward"]
    assert reward["length_source"] == source and reward["acc"] == 1.0
    if source == 2.0:
        assert reward["length"] == 9.0
    assert ["chars", "tokenizer", "framework"][int(source)] in plain(result.output)
