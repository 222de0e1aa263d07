"""Batches: scans in worker processes, token counts in one tokenizer call, the same numbers."""

from __future__ import annotations

import importlib
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlsp_rewards.combine import RlspReward
from rlsp_rewards.core import LengthSource, Sample
from rlsp_rewards.exploration.length import LengthExploration
from rlsp_rewards.exploration.tokens import TokenCounter
from rlsp_rewards.workers import TaskResult, TaskStatus

scan_module = importlib.import_module("rlsp_rewards.exploration.scan")


def _texts(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    words = ["Wait,", "let", "me", "check", "x", "=", "$\\frac{1}{2}$", "so", "the", "answer"]
    out = []
    for _ in range(count):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(0, 3_000)))
        loop = " again and again" * rng.randint(0, 200)
        out.append(body + loop + f" \\boxed{{{rng.randint(1, 3)}}}")
    return out


def _started_pool() -> object:
    from rlsp_rewards.workers import available_cpus

    cpus = available_cpus()
    if cpus < 2:
        pytest.skip("one CPU: batches are scanned in the caller")
    scan_module._pool(cpus)  # starts it in the background
    pool = scan_module._shared(cpus)
    assert pool.ensure_started()
    return pool


@pytest.mark.parametrize("preset", ["paper", "guarded", "reference"])
def test_a_batch_scanned_by_workers_equals_one_by_one(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = _started_pool()
    monkeypatch.setattr(scan_module, "MIN_POOL_CHARS", 1)
    monkeypatch.setattr(scan_module, "_MIN_CHUNK_CHARS", 20_000)  # several chunks
    reward = RlspReward(preset=preset)
    samples = [Sample(t, gold="2") for t in _texts(40)]
    tasks = pool.stats()["tasks"]  # type: ignore[attr-defined]
    batch = [r.to_dict() for r in reward.score_batch(samples)]
    assert pool.stats()["tasks"] > tasks + 1  # type: ignore[attr-defined]  # the workers scanned
    assert batch == [reward.safe_score(s).to_dict() for s in samples]  # to the last bit


def test_small_batches_are_scanned_here() -> None:
    texts = ["Wait, " * 10] * 3
    assert not scan_module.begin_scans(texts, 10)._chunks  # too small to send
    assert len(scan_module.begin_scans(texts, 10).results()) == 3


def test_a_cold_pool_starts_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    import rlsp_rewards.workers as workers

    pool = workers.WorkerPool(2, preload=("numpy", scan_module.__name__))
    monkeypatch.setattr(scan_module, "_shared", lambda cpus: pool)
    monkeypatch.setattr(workers, "available_cpus", lambda: 2)
    monkeypatch.setattr(scan_module, "MIN_POOL_CHARS", 1)
    try:
        texts = _texts(4)
        first = scan_module.begin_scans(texts, 10)
        assert not first._chunks  # no batch waits for a pool to start
        assert pool.ensure_started()  # the start that batch began
        second = scan_module.begin_scans(texts, 10)
        assert second._chunks and second.results() == first.results()
    finally:
        pool.close()


def _started_lanes() -> object:
    lanes = scan_module._lanes()
    if lanes is None:
        pytest.skip("one CPU: single samples are scanned in the caller")
    assert lanes.start()
    return lanes


@pytest.mark.usefixtures("numpy_scans")  # lanes serve the numpy scans
def test_a_sample_from_a_second_thread_goes_to_a_lane() -> None:
    lanes = _started_lanes()
    text = _texts(1)[0] + " filler" * scan_module.MIN_OFFLOAD_CHARS
    tasks = lanes.stats()["tasks"]  # type: ignore[attr-defined]
    with scan_module._scanning_here:  # as if another thread were scanning here
        found = scan_module.scan_one(text, 10)
    assert lanes.stats()["tasks"] == tasks + 1  # type: ignore[attr-defined]
    assert found == scan_module.scan_text(text, 10)


@pytest.mark.usefixtures("numpy_scans")  # lanes serve the numpy scans
def test_a_short_sample_waits_for_the_scan_under_way() -> None:
    found: list[object] = []
    with scan_module._scanning_here:
        waiting = threading.Thread(target=lambda: found.append(scan_module.scan_one("Wait.", 2)))
        waiting.start()
        waiting.join(0.2)
        assert waiting.is_alive() and not found  # too short to send: it waits its turn
    waiting.join(30)
    assert found == [scan_module.scan_text("Wait.", 2)]


@pytest.mark.usefixtures("numpy_scans")  # lanes serve the numpy scans
def test_threaded_calls_score_as_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    lanes = _started_lanes()
    monkeypatch.setattr(scan_module, "MIN_OFFLOAD_CHARS", 1)
    reward = RlspReward(preset="guarded")
    samples = [Sample(t, gold="2") for t in _texts(48, seed=5)]
    alone = [reward.score(s).to_dict() for s in samples]
    tasks = lanes.stats()["tasks"]  # type: ignore[attr-defined]
    with ThreadPoolExecutor(8) as threads:
        threaded = [r.to_dict() for r in threads.map(reward.score, samples)]
    assert threaded == alone  # to the last bit, wherever each scan ran
    assert lanes.stats()["tasks"] > tasks  # type: ignore[attr-defined]  # some went to lanes


class _LostPool:
    """A pool whose every task comes back failed (a worker killed, a late answer)."""

    size = 2

    def submit(self, *args: object, **kwargs: object) -> object:
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(TaskResult(TaskStatus.ERROR, detail="worker died"))
        return future

    def wait_all(self, futures: list, timeout_s: float) -> list[TaskResult]:
        return [f.result() for f in futures]


def test_what_the_workers_did_not_do_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "MIN_POOL_CHARS", 1)
    monkeypatch.setattr(scan_module, "_pool", lambda cpus: _LostPool())
    import rlsp_rewards.workers as workers

    monkeypatch.setattr(workers, "available_cpus", lambda: 4)
    texts = _texts(6)
    scans = scan_module.begin_scans(texts, 10)
    assert scans._chunks  # sent, and lost
    assert scans.results() == [scan_module.scan_text(t, 10) for t in texts]


@pytest.mark.usefixtures("numpy_scans")  # lanes serve the numpy scans
def test_a_lost_single_scan_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Lost:
        def try_run(self, *args: object, **kwargs: object) -> TaskResult:
            return TaskResult(TaskStatus.ERROR, detail="worker died")

    monkeypatch.setattr(scan_module, "_lanes", lambda: _Lost())
    text = _texts(1)[0] + " filler" * scan_module.MIN_OFFLOAD_CHARS
    found: list[object] = []
    with scan_module._scanning_here:
        waiting = threading.Thread(target=lambda: found.append(scan_module.scan_one(text, 10)))
        waiting.start()
        waiting.join(0.2)
        assert not found  # sent, lost, and now waiting to be scanned here
    waiting.join(30)
    assert found == [scan_module.scan_text(text, 10)]


def test_batched_token_counts_equal_single_counts(tokenizer_dir: str) -> None:
    texts = [*_texts(8), "", "caf\u00e9 \U0001f600", "lone \ud800 surrogate"]
    counter = TokenCounter(tokenizer_dir)
    singles = [counter.count(t) for t in texts]
    assert counter.count_batch(texts[:-1]) == singles[:-1]
    reward = LengthExploration(tokenizer=tokenizer_dir)
    samples = [Sample(t) for t in texts]
    batch = reward.begin_batch(samples).results()  # the surrogate makes the batch call fail
    assert [m.length for m in batch] == [float(n) for n in singles]
    assert {m.source for m in batch} == {LengthSource.TOKENIZER}
    assert batch == [reward.measure(s) for s in samples]
