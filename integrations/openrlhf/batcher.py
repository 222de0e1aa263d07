"""Micro-batching for ``/get_reward``: the samples of concurrent requests scored together.

OpenRLHF sends one sample per request, many at once; gathering them for a few milliseconds
lets the verifier de-duplicate answers and spread the unique checks over its workers.

Example:
    >>> from rlsp_rewards.exploration import LengthExploration
    >>> MicroBatcher(LengthExploration(), window_s=0.005, max_batch=256).max_batch
    256
"""

from __future__ import annotations

import asyncio
from typing import Any

from rlsp_rewards.core import Reward, Sample

__all__ = ["MicroBatcher"]


class MicroBatcher:
    """Gathers the samples of concurrent requests into one ``score_batch`` call in a thread.

    OpenRLHF sends one sample per request, many at once, and the rollouts of one prompt repeat
    the same few answers: scoring them together lets the verifier deduplicate and spread the
    unique work over its worker processes, and keeps all scoring off the event loop.
    """

    def __init__(self, reward: Reward, window_s: float, max_batch: int) -> None:
        self.reward = reward
        self.window_s = window_s
        self.max_batch = max_batch
        self._pending: list[tuple[list[Sample], asyncio.Future]] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task] = set()  # strong references until each batch is done

    async def score(self, samples: list[Sample]) -> list[Any]:
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

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._size = self._pending, [], 0
        if batch:
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[list[Sample], asyncio.Future]]) -> None:
        samples = [sample for group, _ in batch for sample in group]
        try:
            results = await asyncio.to_thread(self.reward.score_batch, samples)
            if len(results) != len(samples):
                raise RuntimeError(f"{len(results)} results for {len(samples)} samples")
        except Exception as exc:  # score_batch never raises; this is the last line of defence
            results = [self.reward.failure(sample, exc) for sample in samples]
        start = 0
        for group, future in batch:
            if not future.done():  # done: the client went away and the request was cancelled
                future.set_result(results[start : start + len(group)])
            start += len(group)
