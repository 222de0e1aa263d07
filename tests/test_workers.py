"""The killable worker pool: deadlines, crashes, threads, asyncio, batches, sharing.

Tasks are stdlib functions: worker processes import them by name (test modules are not
importable there).
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.workers import TaskStatus, WorkerPool, shared_pool, shared_pools

SLACK_S = 1.0  # the bound: a call returns within its budget + 1 s


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(size=2) as p:
        assert p.warm_up()
        yield p


@pytest.mark.parametrize(
    ("fn", "args", "status"),
    [
        (operator.add, (2, 3), TaskStatus.OK),  # a plain call
        (int, ("not a number",), TaskStatus.ERROR),  # the function raises
        (time.sleep, (3600,), TaskStatus.TIMEOUT),  # sleeps forever
        (sum, (itertools.count(),), TaskStatus.TIMEOUT),  # spins in C, never yields
        (os._exit, (3,), TaskStatus.ERROR),  # the worker dies
    ],
)
def test_each_way_a_task_can_end(pool, fn, args, status):
    started = time.monotonic()
    result = pool.run(fn, *args, timeout_s=0.5)
    assert result.status is status
    assert time.monotonic() - started < 0.5 + SLACK_S
    assert pool.run(operator.mul, 6, 7, timeout_s=30).value == 42  # the pool keeps working


def test_kills_and_crashes_are_counted_and_workers_replaced():
    with WorkerPool(size=1) as p:
        assert p.warm_up()  # else a first start slower than 0.3 s makes the sleep EXPIRED
        p.run(time.sleep, 3600, timeout_s=0.3)
        p.run(os._exit, 1, timeout_s=5)
        assert p.run(operator.neg, 1, timeout_s=30).value == -1
        stats = p.stats()
    assert stats["timeouts"] == 1 and stats["crashes"] == 1 and stats["restarts"] == 2
    assert stats["workers"] == 1 and stats["errors"] == 1


def test_a_worker_killed_while_idle_costs_no_task():
    # a worker killed while it waits for work (OOM killer, an operator) is replaced, and the
    # next tasks run on its replacement instead of failing with a broken pipe
    import signal

    with WorkerPool(size=2) as p:
        assert p.warm_up()
        for worker in list(p._workers):
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(timeout=5)
        assert [p.run(operator.add, 1, i, timeout_s=30).value for i in range(3)] == [1, 2, 3]
        for worker in list(p._workers):
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(timeout=5)
        results = p.map(operator.neg, [(i,) for i in range(6)], timeout_s=30)
        assert [r.value for r in results] == [0, -1, -2, -3, -4, -5]
        assert p.stats()["errors"] == 0 and p.stats()["workers"] == 2


def test_a_stuck_task_in_a_batch_fails_alone(pool):
    calls = [(0.01,)] * 6 + [(3600,)] + [(0.01,)] * 6
    results = pool.map(time.sleep, calls, timeout_s=0.5)
    assert [r.status for r in results] == [TaskStatus.OK] * 6 + [TaskStatus.TIMEOUT] + [
        TaskStatus.OK
    ] * 6


def test_batch_results_keep_input_order(pool):
    results = pool.map(operator.mul, [(i, i) for i in range(500)], timeout_s=30)
    assert [r.value for r in results] == [i * i for i in range(500)]


def test_waiting_for_a_busy_pool_counts_against_the_budget():
    with WorkerPool(size=1) as p:
        p.warm_up()
        blocker = p.submit(time.sleep, 3600, timeout_s=30)
        while p.stats()["running"] == 0:  # the only worker is now busy
            time.sleep(0.01)
        started = time.monotonic()
        result = p.run(operator.add, 1, 1, timeout_s=0.5)
        assert result.status is TaskStatus.EXPIRED
        assert time.monotonic() - started < 0.5 + SLACK_S
        blocker.cancel()


def test_single_calls_go_ahead_of_a_batch(pool):
    batch = threading.Thread(
        target=pool.map, args=(time.sleep, [(0.05,)] * 40), kwargs={"timeout_s": 5}
    )
    batch.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert pool.run(operator.add, 1, 1, timeout_s=2).value == 2
    assert time.monotonic() - started < 2 + SLACK_S
    batch.join()


def test_sixteen_threads_share_one_pool(pool):
    results: dict[int, int] = {}

    def call(i: int) -> None:
        results[i] = pool.run(operator.mul, i, 3, timeout_s=30).value

    threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 3 * i for i in range(16)}


def test_async_call_does_not_block_the_loop(pool, run_counting_ticks):
    result, ticks = asyncio.run(run_counting_ticks(pool.arun(time.sleep, 0.5, timeout_s=5)))
    assert result.status.value == "ok" and ticks >= 10


def test_sync_call_from_a_thread_of_a_running_loop(pool):
    async def main() -> int:
        return (await asyncio.to_thread(pool.run, operator.add, 2, 2, timeout_s=30)).value

    assert asyncio.run(main()) == 4


def test_memory_limit_turns_a_runaway_task_into_an_error():
    with WorkerPool(size=1, memory_mb=1024) as p:
        result = p.run(bytearray, 4 * 1024**3, timeout_s=30)
        assert result.status is TaskStatus.ERROR and "MemoryError" in result.detail
        assert p.run(operator.add, 1, 2, timeout_s=30).value == 3


def test_closed_pool_answers_error():
    p = WorkerPool(size=1)
    p.close()
    assert p.run(operator.add, 1, 2, timeout_s=5).status is TaskStatus.ERROR


def test_shared_pool_is_one_per_settings_and_listed():
    assert shared_pool(1) is shared_pool(1)
    assert shared_pool(1) in shared_pools()


def test_forked_child_gets_its_own_shared_pool():
    parent = shared_pool(1)
    parent.warm_up()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's pool is forgotten, a new one works
        try:
            child = shared_pool(1)
            ok = child is not parent and child.run(operator.add, 2, 2, timeout_s=60).value == 4
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0},  # no workers
        {"size": 1, "start_method": "fork"},  # unsafe with threads, refused
    ],
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ConfigError):
        WorkerPool(**kwargs)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie has ended: it only waits to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _wait_until(condition, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_a_killed_fork_server_leaves_no_worker_running_and_overruns_are_still_killed():
    # Bug: after kill -9 of the fork server, multiprocessing read every worker as exited (255)
    # and Process.kill sent nothing: each worker that overran its budget ran on as an orphan.
    with WorkerPool(size=2) as p:
        assert p.warm_up()
        seen = {w.process.pid for w in p._workers}
        fork_server = _parent(next(iter(seen)))
        running = p.submit(time.sleep, 3600, timeout_s=1.0, deadline=time.monotonic() + 1.0)
        assert _wait_until(lambda: p.stats()["running"] == 1)
        started = time.monotonic()
        os.kill(fork_server, signal.SIGKILL)
        # the task it was running runs again on a new worker and is killed at its budget
        assert p.wait(running, started + 1.0).status in (TaskStatus.TIMEOUT, TaskStatus.EXPIRED)
        for spin in range(3):  # checks that overrun, after the loss: each killed at its budget
            seen |= {w.process.pid for w in p._workers}
            started = time.monotonic()
            result = p.run(sum, itertools.count(spin), timeout_s=0.5)
            # (EXPIRED: part of its budget went on starting the new fork server)
            assert result.status in (TaskStatus.TIMEOUT, TaskStatus.EXPIRED)
            assert time.monotonic() - started < 0.5 + SLACK_S
        assert p.run(operator.add, 2, 2, timeout_s=30).value == 4  # after the last replacement
        current = {w.process.pid for w in p._workers}
        seen |= current
        assert p.stats()["fork_server_restarts"] >= 1 and p.stats()["workers"] == 2
        # every worker the pool let go of has ended; the pool still has exactly its own
        assert _wait_until(lambda: not any(_alive(pid) for pid in seen - current))
        assert all(_alive(pid) for pid in current)
        assert len({_parent(pid) for pid in current}) == 1  # one new fork server for all


_OWNER = """
import itertools, sys, time
from rlsp_rewards.workers import WorkerPool
pool = WorkerPool(size=2)
assert pool.warm_up()
pool.submit(sum, itertools.count(), timeout_s=3600)  # spins in C, holding the GIL
pool.submit(time.sleep, 3600, timeout_s=3600)
while pool.stats()["running"] < 2:
    time.sleep(0.01)
print(*[w.process.pid for w in pool._workers], flush=True)
time.sleep(3600)
"""


@linux_only
@pytest.mark.parametrize("how", ["SIGKILL", "os._exit"])
def test_no_worker_outlives_its_owner(how):
    # A worker busy in a long task used to run on after its owner died (killed, or exiting
    # without running its exit handlers): nothing told it the answer had nobody to go to.
    code = _OWNER if how == "SIGKILL" else _OWNER.replace("time.sleep(3600)\n", "os._exit(0)\n")
    code = "import os\n" + code
    owner = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        workers = [int(pid) for pid in owner.stdout.readline().split()]
        assert len(workers) == 2
        if how == "SIGKILL":
            assert all(_alive(pid) for pid in workers)
            owner.kill()
        owner.wait(timeout=60)
        assert _wait_until(lambda: not any(_alive(pid) for pid in workers), timeout_s=10.0)
    finally:
        owner.kill()
        owner.wait()
        for pid in workers if "workers" in locals() else []:
            try:  # clean up our own processes, by id, if the test failed
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
