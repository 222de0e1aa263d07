"""The cap on what the per-sample measures read: huge responses stay within their budget."""

from __future__ import annotations

import importlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlsp_rewards.combine import RlspReward
from rlsp_rewards.core import LengthSource, Sample
from rlsp_rewards.exploration.cap import MAX_MEASURED_CHARS, measured_part
from rlsp_rewards.exploration.length import LengthExploration
from rlsp_rewards.exploration.repetition import repetition

HALF = MAX_MEASURED_CHARS // 2
#: The modules (``rlsp_rewards.exploration.length`` the attribute is the ready instance).
length_module = importlib.import_module("rlsp_rewards.exploration.length")
scan_module = importlib.import_module("rlsp_rewards.exploration.scan")


@pytest.mark.parametrize(
    "size, capped",
    [
        (0, False),  # nothing to cap
        (MAX_MEASURED_CHARS, False),  # exactly the cap: read whole
        (MAX_MEASURED_CHARS + 1, True),  # one more: the first and last halves
        (10 * MAX_MEASURED_CHARS, True),
    ],
)
def test_measured_part(size: int, capped: bool) -> None:
    text = "".join(chr(97 + i % 26) for i in range(size))
    part, was_capped = measured_part(text)
    assert was_capped is capped
    if not capped:
        assert part is text
        return
    assert len(part) == MAX_MEASURED_CHARS  # never longer than the cap
    assert part.startswith(text[:HALF]) and part[HALF] == "\n"
    assert text.endswith(part[HALF + 1 :])


def _degenerate(size: int) -> str:
    """Some reasoning, then a loop until the length limit, then a box."""
    head = "Let me think about the sum. Wait, let me check it again. " * 200
    loop = "So the answer is 4, so the answer is 4. "
    return (head + loop * (size // len(loop)))[:size] + " \\boxed{4}"


def test_a_capped_response_says_so_and_measures_the_part() -> None:
    text = _degenerate(3 * MAX_MEASURED_CHARS)
    out = RlspReward(preset="guarded")(solution_str=text, ground_truth="4")
    part, _ = measured_part(text)
    assert out["capped"] == 1.0
    assert out["length"] == len(text) / 4 and out["length_source"] == LengthSource.CHARS
    assert out["repetition"] == repetition(part)
    assert out["effective_length"] == out["length"] * (1 - out["repetition"])
    assert out["backtracking"] == out["verification"] == 200  # the head's markers, once each
    assert out["acc"] == 1.0  # the verifier reads the end, as always
    framework = RlspReward()(solution_str=text, ground_truth="4", response_tokens=123_456)
    assert framework["length"] == 123_456 and framework["capped"] == 1.0  # still exact


def test_the_tokenizer_is_not_run_past_the_cap(
    tokenizer_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reward = LengthExploration(tokenizer=tokenizer_dir)
    short = reward(solution_str="Let me check: 2 + 2 = 4.")
    assert short["length_source"] == LengthSource.TOKENIZER and short["capped"] == 0.0
    counted: list[int] = []
    real = length_module.TokenCounter.count
    monkeypatch.setattr(
        length_module.TokenCounter,
        "count",
        lambda self, text: counted.append(len(text)) or real(self, text),
    )
    out = reward(solution_str=_degenerate(MAX_MEASURED_CHARS + 10))
    assert counted == [] and out["length_source"] == LengthSource.CHARS
    assert out["capped"] == 1.0 and out["error"] == 0.0  # a cap is not an error


def test_the_measures_never_read_more_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    real_scan = scan_module.scan_text
    monkeypatch.setattr(
        scan_module, "scan_text", lambda t, n: read.append(len(t)) or real_scan(t, n)
    )
    for preset in ("paper", "guarded", "reference"):
        RlspReward(preset=preset)(solution_str=_degenerate(5_000_000), ground_truth="4")
    assert read and max(read) == MAX_MEASURED_CHARS
    read.clear()
    monkeypatch.setattr(scan_module, "MIN_POOL_CHARS", 10**12)  # scanned here, not in workers
    RlspReward().score_batch([Sample(_degenerate(3_000_000), gold="4")] * 2)  # in the caller
    assert read and max(read) == MAX_MEASURED_CHARS


def test_huge_responses_from_eight_threads_stay_within_budget() -> None:
    # Issue 13 item 7: 2-10 MB responses held the caller (and the GIL) for 0.4-8.5 s each,
    # 15-35 s with 8 threads. Now each sample, and a concurrent one that needs a worker
    # process, ends within its budget + 1 s.
    budget_s = 5.0
    reward = RlspReward(preset="guarded", timeout_s=budget_s)
    reward.warm_up()
    texts = [_degenerate(mb * 1_000_000) for mb in (2, 5, 10, 10)] * 2

    def timed(call: tuple[str, str]) -> tuple[dict, float]:
        started = time.monotonic()
        out = reward(solution_str=call[0], ground_truth=call[1])
        return out, time.monotonic() - started

    calls = [(t, "4") for t in texts] + [("so \\boxed{(x+1)^2}", "x^2+2x+1")]  # a worker check
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(timed, calls))
    for out, seconds in results:
        assert seconds <= budget_s + 1.0, seconds
        assert out["timeout"] == 0.0 and out["error"] == 0.0
    assert [out["capped"] for out, _ in results] == [1.0] * len(texts) + [0.0]
    assert results[-1][0]["acc"] == 1.0
