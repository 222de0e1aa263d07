"""``/get_reward`` scoring off the server's event loop: each request answered on its own.

OpenRLHF sends one sample per request, many at once. The samples of the requests that arrive
within a few milliseconds are handed together to scoring threads, each with an event loop of
its own, where every sample runs the reward's async path
(:meth:`~rlsp_rewards.core.Reward.asafe_score`): a full check has the deadline of a single
call (the time it waits for a free worker counts), a judge call runs concurrently with the
others, and the verifier still checks an answer that several requests share once (its
in-flight map and cache are shared by the threads). Each request is answered as soon as its
own samples are done, never after the slowest sample of the others; the server's own loop only
parses, admits and answers.

The requests of a window are dealt out round-robin over ``threads`` scoring threads. One was
the bottleneck at 16 KB: most of a long response's reward is the compiled repetition and
behaviour scan, which releases the GIL but ran one sample after another on that one thread.
With two (the default on a 2-core machine) one ``serve`` process answered 1.07-1.40x the
requests a second of one thread at 16 KB and 1.36-1.70x at 64 KB, the same within the noise
at 1-4 KB (``rlsp-rewards bench --reward``, 64 POSTs in flight, the runs of 2026-12-04 on
this repository's 2-core machine).

Example:
    >>> from rlsp_rewards.exploration import LengthExploration
    >>> MicroBatcher(LengthExploration(), window_s=0.005, max_batch=256, threads=2).threads
    2
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from rlsp_rewards.core import Reward, Sample

__all__ = ["MicroBatcher"]

_Group = tuple[list[Sample], asyncio.Future]


class MicroBatcher:
    """Hands the samples of concurrent requests to scoring threads; answers each request alone.

    Args:
        reward: the reward whose async path scores each sample.
        window_s: requests arriving within this window are handed over together.
        max_batch: a window closes early once it holds this many samples.
        threads: scoring threads the requests of a window are dealt out to (started on the
            first request).
    """

    def __init__(self, reward: Reward, window_s: float, max_batch: int, threads: int = 1) -> None:
        self.reward = reward
        self.window_s = window_s
        self.max_batch = max_batch
        self.threads = threads
        self._pending: list[_Group] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._scoring: list[asyncio.AbstractEventLoop] = []
        self._next = 0  # the scoring thread that gets the next request
        self._start_lock = threading.Lock()
        self._running: set[asyncio.Task] = set()  # strong references until each group is done

    async def score(self, samples: list[Sample]) -> list[Any]:
        """The results of one request's samples, in order, as soon as they are all done."""
        if not samples:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((samples, future))
        self._size += len(samples)
        if self._size >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window_s, self._flush)
        return await future

    def close(self) -> None:
        """Stop the scoring threads (requests still being scored there are abandoned)."""
        with self._start_lock:
            scoring, self._scoring = self._scoring, []
        for loop in scoring:
            loop.call_soon_threadsafe(loop.stop)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._size = self._pending, [], 0
        if batch:
            home = asyncio.get_running_loop()
            loops = self._scoring_loops()
            first, self._next = self._next, (self._next + len(batch)) % len(loops)
            for k, loop in enumerate(loops):  # round-robin, on from where the last window ended
                if share := batch[(k - first) % len(loops) :: len(loops)]:
                    loop.call_soon_threadsafe(self._start_batch, share, home)

    def _scoring_loops(self) -> list[asyncio.AbstractEventLoop]:
        with self._start_lock:
            while len(self._scoring) < self.threads:
                loop = asyncio.new_event_loop()
                name = f"rlsp-scoring-{len(self._scoring)}"
                threading.Thread(target=loop.run_forever, name=name, daemon=True).start()
                self._scoring.append(loop)
            return list(self._scoring)

    def _start_batch(self, batch: list[_Group], home: asyncio.AbstractEventLoop) -> None:
        """On the scoring loop: one task per request, each answering its own request."""
        for samples, future in batch:
            task = asyncio.ensure_future(self._score_group(samples, future, home))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _score_group(
        self, samples: list[Sample], future: asyncio.Future, home: asyncio.AbstractEventLoop
    ) -> None:
        try:
            results = list(await asyncio.gather(*map(self.reward.asafe_score, samples)))
        except Exception as exc:  # asafe_score never raises; this is the last line of defence
            results = [self.reward.failure(sample, exc) for sample in samples]
        try:
            home.call_soon_threadsafe(_answer, future, results)
        except RuntimeError:  # the server's loop is closed: nobody is waiting any more
            pass


def _answer(future: asyncio.Future, results: list[Any]) -> None:
    if not future.done():  # done: the client went away and the request was cancelled
        future.set_result(results)
