"""``rlsp-rewards bench --quick`` end to end: the output's structure, not its speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rlsp_rewards.bench.workload import ADVERSARIAL, generate
from rlsp_rewards.outcome.extract import extract_answer


def test_bench_quick_end_to_end(tmp_path: Path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "rlsp_rewards", "bench", "--quick", "--json", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, check=True)
    assert "samples/s" in run.stdout and "ours-batch" in run.stdout
    report = json.loads(out.read_text())
    assert report["workload"]["samples"] == 128
    methods = {m["method"]: m for m in report["methods"]}
    assert {"ours-batch", "ours-threads", "math-verify"} <= set(methods)
    for m in methods.values():
        assert m["samples_per_s"] > 0 and 0.0 <= m["accuracy"] <= 1.0
        assert m["max_s"] >= m["p99_s"] >= m["p50_s"] >= 0.0
    assert methods["ours-threads"]["over_budget"] == 0
    assert set(report["ratios"]) >= {"ours-batch/math-verify", "ours-threads/math-verify"}
    assert report["agreement"]["ours-batch~ours-threads"] == 1.0
    assert report["labelled_set"]["rows"] >= 150


def test_workload_is_deterministic_labelled_and_sized():
    rows = generate(problems=32, samples=16, seed=3)
    assert rows == generate(problems=32, samples=16, seed=3)
    assert rows != generate(problems=32, samples=16, seed=4)
    assert len(rows) == 512 and all(isinstance(r["label"], bool) for r in rows)
    normal = [r for r in rows if r["kind"] == "normal"]
    assert all(1000 <= len(r["response"]) <= 2600 for r in normal)  # 1-2 KB of reasoning + answer
    for problem in range(32):  # a few distinct final answers per prompt
        answers = {extract_answer(r["response"]) for r in normal if r["problem"] == problem}
        assert len(answers - {None}) <= 4
    adversarial = [r for r in rows if r["kind"] == "adversarial"]
    assert 1 <= len(adversarial) <= 0.02 * len(rows)
    assert all(r["gold"] in {g for g, _, _ in ADVERSARIAL} for r in adversarial)


def test_judge_bench_command_reports_ours_and_the_aiohttp_floor(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from rlsp_rewards.cli.app import app

    out = tmp_path / "judge.json"
    result = CliRunner().invoke(app, ["bench", "--judge", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "ours:" in result.output and "bare aiohttp:" in result.output
    assert "1 s judge (256 in flight, ideal 256/s)" in result.output and "goal" in result.output
    modes = json.loads(out.read_text())["modes"]
    assert [m["mode"] for m in modes] == ["1 s judge", "20 ms stress"]
    for mode in modes:  # --quick: one wave of each mode's in-flight count
        assert {mode["ours"]["failures"], mode["bare_aiohttp"]["failures"]} == {0}
        assert mode["ours"]["count"] == mode["bare_aiohttp"]["count"] == mode["ours"]["in_flight"]


def test_judge_bench_without_its_baseline_names_the_extra(monkeypatch) -> None:
    # A user with only the `judge` extra gets the pip line, not a traceback.
    import importlib.util

    from typer.testing import CliRunner

    from rlsp_rewards.cli.app import app

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name, *a)
    )
    result = CliRunner().invoke(app, ["bench", "--judge", "--quick"])
    assert result.exit_code == 2
    assert 'pip install "rlsp-rewards[bench]"' in result.output
