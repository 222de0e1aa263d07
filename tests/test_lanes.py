"""Lanes: a thread's own worker process per task; kills, crashes, busy lanes, closing.

Tasks are stdlib functions: worker processes import them by name.
"""

from __future__ import annotations

import operator
import os
import threading
import time

import pytest

from rlsp_rewards.errors import ConfigError
from rlsp_rewards.workers import Lanes, TaskStatus, shared_lanes


def _wait_for(condition, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def lanes():
    with Lanes(1) as started:
        assert started.start()
        yield started


def test_a_task_runs_in_the_lane_and_its_answer_comes_back(lanes: Lanes) -> None:
    assert lanes.try_run(operator.add, 2, 3, timeout_s=30).value == 5
    assert lanes.try_run(os.getpid, timeout_s=30).value != os.getpid()  # another process
    failed = lanes.try_run(int, "not a number", timeout_s=30)
    assert failed.status is TaskStatus.ERROR and "ValueError" in failed.detail
    stats = lanes.stats()
    assert (stats["tasks"], stats["ok"], stats["errors"], stats["restarts"]) == (3, 2, 1, 0)


def test_an_overrun_is_killed_in_budget_and_the_lane_gets_a_new_worker(lanes: Lanes) -> None:
    first = lanes.try_run(os.getpid, timeout_s=30).value
    started = time.monotonic()
    result = lanes.try_run(time.sleep, 3600, timeout_s=0.3)
    assert result.status is TaskStatus.TIMEOUT and time.monotonic() - started < 1.3
    assert _wait_for(lambda: lanes.stats()["restarts"] == 1 and lanes.stats()["workers"] == 1)
    assert lanes.try_run(os.getpid, timeout_s=30).value not in (None, first)


def test_a_worker_that_dies_fails_only_its_task(lanes: Lanes) -> None:
    result = lanes.try_run(os._exit, 3, timeout_s=30)
    assert result.status is TaskStatus.ERROR and result.detail.startswith("worker died")
    assert lanes.stats()["crashes"] == 1
    assert _wait_for(lambda: lanes.stats()["workers"] == 1)
    assert lanes.try_run(operator.neg, 4, timeout_s=30).value == -4


def test_a_busy_or_unstarted_lane_answers_none_at_once() -> None:
    with Lanes(1) as lanes:
        assert lanes.try_run(operator.neg, 1, timeout_s=30) is None  # not started yet
        assert lanes.start()
        busy = threading.Thread(
            target=lanes.try_run, args=(time.sleep, 1.0), kwargs={"timeout_s": 30}
        )
        busy.start()
        assert _wait_for(lambda: lanes._idle.empty(), 5)
        started = time.monotonic()
        assert lanes.try_run(operator.neg, 1, timeout_s=30) is None
        assert time.monotonic() - started < 0.1 and lanes.stats()["busy"] == 2
        busy.join()
        assert lanes.try_run(operator.neg, 1, timeout_s=30).value == -1


def test_closed_lanes_stop_their_workers_and_run_nothing() -> None:
    lanes = Lanes(2)
    assert lanes.start() and lanes.stats()["workers"] == 2
    lanes.close()
    assert lanes.stats()["workers"] == 0
    assert lanes.try_run(operator.neg, 1, timeout_s=30) is None


def test_a_background_start_makes_lanes_usable_as_they_come_up() -> None:
    with Lanes(1) as lanes:
        assert lanes.start(wait=False) is False
        assert _wait_for(lambda: lanes.started)
        assert lanes.try_run(operator.neg, 2, timeout_s=30).value == -2


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        Lanes(0)
    with pytest.raises(ConfigError):
        Lanes(1, start_method="fork")


def test_shared_lanes_are_one_per_settings_and_forgotten_in_a_forked_child() -> None:
    lanes = shared_lanes(1)
    assert shared_lanes(1) is lanes and shared_lanes(2) is not lanes
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child must build its own (the parent's workers are not its own)
        os.write(write, b"1" if shared_lanes(1) is not lanes else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
