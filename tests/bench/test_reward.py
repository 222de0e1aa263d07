"""``rlsp-rewards bench --reward`` end to end: the report's structure, not its speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rlsp_rewards.bench.reward import PRESETS, _cpu_s, realistic_responses
from rlsp_rewards.outcome.extract import extract_answer


def test_the_workload_is_realistic_and_distinct() -> None:
    pairs = realistic_responses(16, 40)
    assert len({response for _, response in pairs}) == 40  # no cache hits on measures
    assert all(15_000 < len(response) <= 16_384 for _, response in pairs)
    boxed = [extract_answer(response, "boxed_only") for _, response in pairs]
    assert sum(b is None for b in boxed) == 5  # one in eight ends without an answer
    assert all("\\frac" in r or "$" in r for _, r in pairs)  # prose with LaTeX
    assert realistic_responses(4, 3) == realistic_responses(4, 3)  # the same every run


def test_bench_reward_quick_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "rlsp_rewards", "bench", "--reward", "--quick"]
    run = subprocess.run(
        [*command, "--json", str(out)], capture_output=True, text=True, timeout=600, check=True
    )
    assert "The whole reward" in run.stdout and "Ratios" in run.stdout
    report = json.loads(out.read_text())
    assert set(report["rates"]) == {"1", "16"}
    for size, rates in report["rates"].items():
        for method in ("verifier", *PRESETS):
            assert rates[f"{method}/1"] > 0 and rates[f"{method}/8"] > 0, (size, method)
            assert report["cpu_ms"][size][f"{method}/1"] > 0
        for preset in PRESETS:
            assert (
                rates[f"{preset}/batch"] > 0
                and f"{preset}: score_batch / 1 thread" in (report["ratios"][size])
            )
        assert rates["server/64"] > 0  # a real server answered every POST
        assert rates["serial/64"] > 0 and rates["servers/2"] > 0  # one scoring thread; two servers
        assert report["ratios"][size]["server / paper (1 thread)"] > 0
    tokens = report["tokens"]
    assert tokens["16"]["ms_one"] > 0 and tokens["16"]["ms_batched"] > 0
    assert any("load average" in note for note in report["notes"])
    # the two ceilings and the server's CPU per request (Linux: read from /proc)
    assert any("compiled scans alone" in note for note in report["notes"])
    if sys.platform == "linux":
        assert any("ms CPU per request" in note for note in report["notes"])


def test_cpu_seconds_of_a_process_and_its_children() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; sum(range(10**7)); time.sleep(30)"]
    )
    try:
        time.sleep(1.5)
        total = _cpu_s(os.getpid())
        if sys.platform == "linux":
            assert total is not None and total >= (_cpu_s(child.pid) or 0) > 0
        assert _cpu_s(2**22 + 12345) is None  # no such process
    finally:
        child.kill()
        child.wait()
