"""The scan of a response's text: its repetition and its behaviour counts, alone or for a batch.

These two measures read every character of a response, about four fifths of the whole reward's
work on long responses. Where numba runs they are one compiled call that releases the GIL
(:mod:`~rlsp_rewards.exploration.compiled`: about 0.27 ms per 16 KB), and one sample
(:func:`scan_one`) is simply scanned in the calling thread: threads scan at once, on every core.

With the numpy scans (no numba, or while the compiled ones load) one sample is scanned in the
caller, one at a time per process: numpy scans from several threads at once interleave at every
numpy call, and on 2 CPUs 8 threads then spent about 2.4 ms of CPU per 16 KB sample instead of
0.8. While a scan runs here, a sample from another thread goes to a free *lane* (a worker
process the thread talks to itself, :class:`~rlsp_rewards.workers.Lanes`: about 0.1 ms of the
caller's CPU) when it is long enough to pay for it; otherwise it waits its turn.

A batch (``score_batch``: the reward server's micro-batches, ``/v1/score``, ``rlsp-rewards
score``) is scanned in a pool of worker processes (:func:`~rlsp_rewards.workers.shared_pool`), in
chunks, while the caller verifies the answers, so every core works on it; scans that cannot be
done there (the pool not yet started, a worker lost or late) are done in the caller, with the
same results. How a batch is split, and when
it is worth it: :func:`begin_scans`.

Example:
    >>> found = scan_text("Wait, wait. Let me check. Let me check.", 2)
    >>> found.repetition, found.behaviours["verification"]
    (0.34375, 2.0)
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from rlsp_rewards.behaviours import (
    BEHAVIOUR_KEYS,
    BehaviourFields,
    as_fields,
    behaviour_fields,
    marker_table,
)
from rlsp_rewards.exploration import compiled
from rlsp_rewards.exploration.repetition import repetition

__all__ = [
    "MIN_OFFLOAD_CHARS",
    "MIN_POOL_CHARS",
    "Scan",
    "Scans",
    "begin_scans",
    "scan_many",
    "scan_one",
    "scan_text",
]

#: A batch whose texts total fewer characters is scanned in the caller (cheaper than the
#: round trips to the workers).
MIN_POOL_CHARS = 256_000
#: A single text at least this long goes to a worker while another thread scans here.
MIN_OFFLOAD_CHARS = 4_000
#: Characters per task sent to a worker, at least (fewer, larger tasks cost less to send).
_MIN_CHUNK_CHARS = 64_000
#: The most worker processes of the scan pool (as the verifier's; most hosts have fewer CPUs).
_MAX_WORKERS = 16
#: Worker time one task (a chunk of texts) may use before it is given up and done here.
_TASK_TIMEOUT_S = 30.0
_MEMORY_MB = 4096
#: What the scan's worker processes import before their first task.
_PRELOAD = ("numpy", __name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Scan:
    """What a scan of one text found.

    Attributes:
        repetition: the fraction that repeats itself
            (:func:`~rlsp_rewards.exploration.repetition.repetition`).
        behaviours: the behaviour counts (:func:`~rlsp_rewards.behaviours.behaviour_fields`).

    Example:
        >>> Scan(0.0, behaviour_fields("")).repetition
        0.0
    """

    repetition: float
    behaviours: BehaviourFields


def scan_text(text: str, ngram: int) -> Scan:
    """Scan one text (already cut to what the measures read).

    Example:
        >>> scan_text("no repeats here", 10).repetition
        0.0
    """
    if isinstance(text, str) and ngram >= 2 and compiled.available():
        found, counts = compiled.scan(text, ngram, marker_table())
        return Scan(found, as_fields(dict(zip(BEHAVIOUR_KEYS, counts, strict=True))))
    return Scan(repetition(text, ngram), behaviour_fields(text))


#: Held while this process scans a text in the caller (see the module docstring).
_scanning_here = threading.Lock()


def _scan_here(text: str, ngram: int) -> Scan:
    """Scan one text in this process: at once with the compiled scans, else one at a time."""
    if compiled.available():
        return scan_text(text, ngram)
    with _scanning_here:
        return scan_text(text, ngram)


def scan_one(text: str, ngram: int) -> Scan:
    """Scan one sample's text for a per-sample call: here, at once, with the compiled scans;
    with the numpy ones here when no other thread is scanning, else in a free lane (a worker
    process this thread talks to itself: :class:`~rlsp_rewards.workers.Lanes`) when the text
    is long enough (:data:`MIN_OFFLOAD_CHARS`), else here once the other scan is done. The
    result is the same wherever it was computed; never raises more than :func:`scan_text` does.

    Example:
        >>> scan_one("Wait, let me check. Wait, let me check.", 2).behaviours["backtracking"]
        2.0
    """
    if compiled.available():  # no GIL held while it scans: every thread scans at once
        return scan_text(text, ngram)
    if _scanning_here.acquire(blocking=False):
        try:
            return scan_text(text, ngram)
        finally:
            _scanning_here.release()
    if len(text) >= MIN_OFFLOAD_CHARS:
        lanes = _lanes()
        result = lanes and lanes.try_run(scan_many, [text], ngram, timeout_s=_TASK_TIMEOUT_S)
        if result and result.ok and isinstance(result.value, list) and len(result.value) == 1:
            return result.value[0]
    return _scan_here(text, ngram)


def scan_many(texts: Sequence[str], ngram: int) -> list[Scan]:
    """Scan several texts: the task a worker process runs for a chunk of a batch.

    Example:
        >>> [s.repetition for s in scan_many(["a b a b", "x"], 2)]
        [0.5, 0.0]
    """
    return [scan_text(text, ngram) for text in texts]


class Scans:
    """The scans of a batch, some under way in worker processes; :meth:`results` collects them.

    Example:
        >>> begin_scans(["a b a b"], 2).results()[0].repetition
        0.5
    """

    def __init__(
        self,
        texts: Sequence[str],
        ngram: int,
        pool: Any = None,
        chunks: Sequence[tuple[int, int, Future]] = (),
    ) -> None:
        self._texts = texts
        self._ngram = ngram
        self._pool = pool
        self._chunks = chunks  # (start, end, future) of the texts sent to workers

    def results(self) -> list[Scan]:
        """Every text's scan, in order; never raises (what the workers did not do is done
        here)."""
        found: list[Scan | None] = [None] * len(self._texts)
        if self._chunks:
            futures = [future for _, _, future in self._chunks]
            results = self._pool.wait_all(futures, timeout_s=_TASK_TIMEOUT_S)  # bounded
            for (start, end, _), result in zip(self._chunks, results, strict=True):
                if (
                    result.ok
                    and isinstance(result.value, list)
                    and len(result.value) == end - start
                ):
                    found[start:end] = result.value
        return [
            scan if scan is not None else _scan_here(text, self._ngram)
            for scan, text in zip(found, self._texts, strict=True)
        ]


def begin_scans(texts: Sequence[str], ngram: int) -> Scans:
    """Start scanning a batch: in worker processes when it is worth it, else later, here.

    Worth it: more than one CPU, a pool already started (the first batch that would use it
    starts it in the background and is scanned here), and at least :data:`MIN_POOL_CHARS`
    characters in all. The texts then go out in chunks of at least 64,000 characters, about
    two per worker, so that the workers finish together.

    Example:
        >>> len(begin_scans(["a", "b"], 10).results())
        2
    """
    from rlsp_rewards.workers import available_cpus

    total = sum(map(len, texts))
    cpus = available_cpus()
    if cpus < 2 or total < MIN_POOL_CHARS:
        return Scans(texts, ngram)
    pool = _pool(cpus)
    if pool is None:
        return Scans(texts, ngram)
    target = max(_MIN_CHUNK_CHARS, total // (2 * pool.size) + 1)
    chunks, start, size = [], 0, 0
    for end, text in enumerate(texts, 1):
        size += len(text)
        if size >= target or end == len(texts):
            chunk = list(texts[start:end])
            chunks.append(
                (start, end, pool.submit(scan_many, chunk, ngram, timeout_s=_TASK_TIMEOUT_S))
            )
            start, size = end, 0
    return Scans(texts, ngram, pool, chunks)


_start_lock = threading.Lock()
_starting: weakref.WeakSet[Any] = weakref.WeakSet()  # pools whose start was begun


def _shared(cpus: int) -> Any:
    """The process's scan pool (created on first use, not started)."""
    from rlsp_rewards.workers import shared_pool

    return shared_pool(min(cpus, _MAX_WORKERS), preload=_PRELOAD, memory_mb=_MEMORY_MB)


def _lanes() -> Any:
    """The process's scan lanes, one per CPU, when more than one CPU; started in the
    background on first use (until they answer, every lane reads as busy)."""
    from rlsp_rewards.workers import available_cpus, shared_lanes

    cpus = available_cpus()
    if cpus < 2:
        return None
    lanes = shared_lanes(min(cpus, _MAX_WORKERS), preload=_PRELOAD, memory_mb=_MEMORY_MB)
    if not lanes.started:
        lanes.start(wait=False)
    return lanes


def _pool(cpus: int) -> Any:
    """The scan pool when it is started; otherwise ``None``, and it starts in the background."""
    pool = _shared(cpus)
    if pool.started:
        return pool
    with _start_lock:
        if pool not in _starting:
            _starting.add(pool)
            threading.Thread(
                target=pool.ensure_started, name="rlsp-scan-start", daemon=True
            ).start()
    return None
