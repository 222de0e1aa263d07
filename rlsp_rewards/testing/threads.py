"""The thread check: eight threads call the reward at once, as verl's and OpenRLHF's workers do.

Every thread calls the same few inputs in a different order; a call that raises, never returns
or gives a result unlike the one-at-a-time result (shared mutable state) is a problem.

Example:
    >>> from rlsp_rewards.testing.cases import CASES
    >>> from rlsp_rewards.testing.checker import Checker
    >>> checker = Checker(lambda **kw: 1.0, "verl", 10.0, CASES[:1], "math")
    >>> check_threads(checker, {"correct answer": 1.0})
    >>> checker.calls, checker.problems
    (8, [])
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from rlsp_rewards.testing.calls import Call, call_now
from rlsp_rewards.testing.cases import Case
from rlsp_rewards.testing.frameworks import invoke
from rlsp_rewards.testing.values import exc_text, plain, same

if TYPE_CHECKING:
    from rlsp_rewards.testing.checker import Checker

__all__ = ["check_threads"]

#: The cases called concurrently for the thread check (answers that differ, so mix-ups show).
_THREAD_CASES = ("correct answer", "wrong answer", "equivalent form", "no final answer")
_THREADS = 8


def check_threads(checker: Checker, results: dict[str, Any]) -> None:
    """Call the thread cases from eight threads at once; compare with one-at-a-time ``results``."""
    cases = [c for c in checker.cases if c.name in _THREAD_CASES and c.name in results]
    if not cases:
        return
    barrier = threading.Barrier(_THREADS)
    outcomes: list[tuple[Case, Call]] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=checker.limit_s)
        for j in range(len(cases)):
            case = cases[(offset + j) % len(cases)]
            out = call_now(invoke(checker.framework, checker.fn, [case], checker.data_source))
            with lock:
                outcomes.append((case, out))

    threads = [
        threading.Thread(target=worker, args=(i,), daemon=True, name=f"reward-contract-{i}")
        for i in range(_THREADS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + checker.limit_s * len(cases)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    expected = _THREADS * len(cases)
    with lock:
        done = list(outcomes)
    checker.calls += len(done)
    if len(done) < expected:
        checker.problem(
            "threads",
            f"{expected - len(done)} of {expected} concurrent calls never returned "
            "(a lock held too long, or a deadlock)",
        )
    mismatched: set[str] = set()
    for case, out in done:
        checker.timed(f"{case.name} (threads)", out.seconds)
        if out.exc is not None:
            checker.where = case.name
            checker.problem(
                "threads",
                f"raised {type(out.exc).__name__}: {exc_text(out.exc)[:120]} "
                "when called from 8 threads at once",
            )
            checker.where = None
        elif not same(plain(out.value), results[case.name]):
            mismatched.add(case.name)
    if mismatched:
        checker.problem(
            "threads",
            f"results for {sorted(mismatched)} differ from the one-at-a-time results when "
            "called from 8 threads at once: shared mutable state? (verl and OpenRLHF call "
            "rewards from many threads)",
        )
