"""The outcome verifier: is the response's final answer equal to the gold?

The pipeline for one response, cheapest step first:

1. In the caller: extract the final answer
   (:func:`~rlsp_rewards.outcome.extract.extract_answer`) and read the gold
   (:func:`~rlsp_rewards.outcome.extract.gold_answer`), both linear time and bounded.
2. In the caller: :func:`~rlsp_rewards.outcome.grade.fast_compare` decides simple values and
   screens pathological answers in microseconds.
3. A bounded, thread-safe LRU cache of verdicts keyed by ``(gold, answer)``; concurrent calls
   for the same pair share one check.
4. The rest goes to the process-wide :func:`~rlsp_rewards.workers.shared_pool`, where
   :func:`~rlsp_rewards.outcome.grade.compare` (math-verify, gold first) runs under a hard,
   signal-free deadline: a check that overruns has its worker killed and gets ``timeout``.
   The pool starts in the background at a verifier's first call, whatever that call needs,
   so the samples decided in the caller never wait for it; a check that needs a worker before
   the first start is over waits for it once, and its budget starts after that wait (the
   start, about a second, seconds on a busy host, is never charged to a sample).
   :meth:`OutcomeVerifier.warm_up` starts it ahead of time (the verl manager, the OpenRLHF
   adapter and the server do when they are built), so the first batch pays nothing.

:meth:`OutcomeVerifier.verify_batch` de-duplicates pairs first (the rollouts of one prompt
repeat a few answers) and spreads the unique checks over all workers.

Example:
    >>> from rlsp_rewards.outcome.verifier import OutcomeVerifier
    >>> verifier = OutcomeVerifier()
    >>> verifier.verify("1/2", r"so the answer is \\boxed{\\frac{1}{2}}").status.value
    'correct'
    >>> verifier(data_source="math", solution_str=r"\\boxed{3}", ground_truth="4")["acc"]
    0.0
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Hashable, Sequence
from concurrent.futures import Future
from types import ModuleType
from typing import Any, Literal

from pydantic import Field

from rlsp_rewards.core import OutcomeStatus, Reward, RewardConfig, RewardResult, Sample
from rlsp_rewards.lru import LruCache
from rlsp_rewards.outcome.extract import extract_answer, gold_answer
from rlsp_rewards.workers import (
    GRACE_S,
    TaskResult,
    TaskStatus,
    WorkerPool,
    available_cpus,
    shared_pool,
)

__all__ = ["OutcomeConfig", "OutcomeVerifier", "Verdict", "outcome"]

#: Modules the worker processes import once, in the fork server.
WORKER_PRELOAD: tuple[str, ...] = ("rlsp_rewards.outcome.preload",)
#: The most worker processes a verifier starts unless ``workers`` says otherwise.
DEFAULT_MAX_WORKERS = 16
#: Pairs longer than this (gold + answer, characters) are checked but not cached.
_MAX_CACHED_CHARS = 4_000


class OutcomeConfig(RewardConfig):
    """Settings of :class:`OutcomeVerifier`.

    Attributes:
        extraction: which final answer counts: ``"last_box"`` (the last ``\\boxed{}`` of the
            part after ``</think>``, ``<answer>`` tags, a later ``The final answer is``, text
            markers such as ``Answer:``, a closing sentence that states a result; a hedged
            answer is no answer), ``"first_box"`` (the RLSP authors' code), or
            ``"boxed_only"`` (the last box, no fallbacks). See
            :mod:`rlsp_rewards.outcome.extract`.
        timeout_s: the budget of one full check, in seconds; a single-sample call returns
            within it (plus a small grace) even when every worker is busy.
        workers: worker processes for full checks (default: the CPUs this process may use, at
            most :data:`DEFAULT_MAX_WORKERS`: most answers never reach a worker, and a Ray
            actor may see every CPU of a large host).
        cache_size: verdicts remembered per verifier (0 turns the cache off).
        no_answer_score: the score of a response with no final answer.
        max_response_chars: longer responses are cut before extraction, keeping the end (or
            the start, for ``first_box``), where the answer is.
        worker_memory_mb: address-space limit of each worker process (``None``: no limit).

    Example:
        >>> OutcomeConfig(timeout_s=2).timeout_s
        2.0
    """

    extraction: Literal["last_box", "first_box", "boxed_only"] = "last_box"
    timeout_s: float = Field(default=5.0, gt=0, le=600)
    workers: int | None = Field(default=None, ge=1, le=512)
    cache_size: int = Field(default=100_000, ge=0)
    no_answer_score: float = Field(default=0.0, allow_inf_nan=False)
    max_response_chars: int = Field(default=500_000, ge=1_000)
    worker_memory_mb: int | None = Field(default=4_096, ge=256)


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What the verifier concluded about one response.

    Attributes:
        status: the outcome status.
        pred: the extracted final answer (``""`` when there is none).

    Example:
        >>> Verdict(OutcomeStatus.CORRECT, "42").correct
        True
    """

    status: OutcomeStatus
    pred: str = ""

    @property
    def correct(self) -> bool:
        """True when the answer equals the gold."""
        return self.status is OutcomeStatus.CORRECT


@dataclasses.dataclass(frozen=True, slots=True)
class _Prepared:
    """A response after the cheap steps: either decided, or a pair for the full check."""

    pred: str
    status: OutcomeStatus | None  # None: needs the full check of (gold, pred)
    gold: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.gold, self.pred)


@dataclasses.dataclass(frozen=True, slots=True)
class _Pending:
    """A single-sample call waiting for its full check."""

    prepared: _Prepared
    future: Future
    owner: bool  # this call submitted the check (others may share it)
    deadline: float

    def wait_s(self) -> float:
        """How long the caller may still wait: until the deadline plus the pool's grace."""
        return max(0.0, self.deadline + GRACE_S - time.monotonic())


class OutcomeVerifier(Reward):
    """The outcome reward: 1 when the response's final answer equals the gold, else 0.

    Formula: ``score = outcome = 1[answer == gold]``; a response with no final answer scores
    ``no_answer_score`` (default 0). ``acc`` is the pure 0/1 correctness.

    Metric keys it fills: ``score``, ``acc``, ``outcome``, ``pred`` (the extracted answer), and
    the status flags ``no_answer``, ``gold_unparseable``, ``timeout``, ``error`` (1.0 when that
    happened, so their batch means are rates). Every other key of the fixed set stays 0.

    Every call is bounded: a full check that overruns ``timeout_s`` has its worker process killed
    and the sample gets ``timeout``; nothing raises into the caller.

    Example:
        >>> verifier = OutcomeVerifier(timeout_s=3)
        >>> verdicts = verifier.verify_batch([("7", r"\\boxed{7}"), ("7", "no idea")])
        >>> [v.status.value for v in verdicts]
        ['correct', 'no_answer']
    """

    config_class = OutcomeConfig
    config: OutcomeConfig

    def __init__(self, config: OutcomeConfig | None = None, **settings: Any) -> None:
        super().__init__(config, **settings)
        self._cache: LruCache[tuple[str, str], OutcomeStatus] = LruCache(self.config.cache_size)
        self._inflight: dict[tuple[str, str], Future] = {}
        self._inflight_lock = threading.Lock()
        self._pool_started = False  # this verifier has had its pool start (in the background)

    # -- one response ---------------------------------------------------------------------------

    def verify(self, gold: Any, response: Any) -> Verdict:
        """Check one response against its gold; never raises, returns within the budget.

        Example:
            >>> OutcomeVerifier().verify("(1, 2)", r"\\boxed{(1,2)}").correct
            True
        """
        self._start_pool_soon()
        started = self._start(gold, response)
        if isinstance(started, Verdict):
            return started
        try:
            result = started.future.result(timeout=started.wait_s())
        except Exception:  # waited past the deadline (or the shared check was cancelled)
            result = None
        return self._finish(started, result)

    async def averify(self, gold: Any, response: Any) -> Verdict:
        """Async :meth:`verify`: the full check is awaited, the event loop never blocks on it.

        Example:
            >>> import asyncio
            >>> asyncio.run(OutcomeVerifier().averify(3, r"\\boxed{3}")).status.value
            'correct'
        """
        import asyncio  # here, not at the top: keeps ``import rlsp_rewards`` fast

        self._start_pool_soon()
        if self._pool().started:
            started = self._start(gold, response)
        else:  # the pool's first start may take seconds: wait for it off the event loop
            started = await asyncio.to_thread(self._start, gold, response)
        if isinstance(started, Verdict):
            return started
        try:
            waiting = asyncio.shield(asyncio.wrap_future(started.future))
            result = await asyncio.wait_for(waiting, started.wait_s())
        except Exception:
            result = None
        return self._finish(started, result)

    def warm_up(self, wait: bool = True) -> bool:
        """Start the worker processes now, so the first checks do not pay for their start.

        Returns True once the workers answer (the first start takes seconds: math-verify and
        sympy are imported in the fork server). ``wait=False`` starts them in the background
        and returns at once (whether they are up already).

        Example:
            >>> OutcomeVerifier().warm_up()
            True
        """
        self._pool_started = True
        return self._pool().ensure_started(wait=wait)

    def cache_stats(self) -> dict[str, int]:
        """Counters of the verdict cache: ``hits``, ``misses`` and current ``entries``.

        Example:
            >>> sorted(OutcomeVerifier().cache_stats())
            ['entries', 'hits', 'misses']
        """
        return self._cache.stats()

    # -- many responses -------------------------------------------------------------------------

    def verify_batch(self, pairs: Sequence[tuple[Any, Any]]) -> list[Verdict]:
        """Check many ``(gold, response)`` pairs; each distinct check runs once, over all workers.

        Each full check gets ``timeout_s`` of worker time. Never raises.

        Example:
            >>> pairs = [("2", r"\\boxed{2}")] * 3 + [("2", r"\\boxed{3}")]
            >>> [v.correct for v in OutcomeVerifier().verify_batch(pairs)]
            [True, True, True, False]
        """
        golds: dict[Hashable, str | None] = {}
        decided: dict[tuple[str, str], OutcomeStatus] = {}
        checks: dict[tuple[str, str], Future] = {}
        prepared = []
        self._start_pool_soon()
        for gold, response in pairs:  # the workers start, and run the first checks, meanwhile
            item = self._prepare(gold, response, golds, decided)
            if item.status is None and item.key not in checks:
                checks[item.key] = self._pool().submit(
                    _grade().compare, *item.key, timeout_s=self.config.timeout_s
                )
            prepared.append(item)
        if checks:
            self._pool().ensure_started()  # a check's budget starts when it runs, after the start
            results = self._pool().wait_all(list(checks.values()), timeout_s=self.config.timeout_s)
            for key, result in zip(checks, results, strict=False):
                decided[key] = self._remember(key, result)
        return [
            Verdict(p.status if p.status is not None else decided[p.key], p.pred) for p in prepared
        ]

    # -- the reward interface ---------------------------------------------------------------------

    def to_result(self, verdict: Verdict) -> RewardResult:
        """The fixed-key result of a verdict: score, acc, outcome, pred and the status flags.

        Example:
            >>> verifier = OutcomeVerifier(no_answer_score=-0.5)
            >>> r = verifier.to_result(Verdict(OutcomeStatus.NO_ANSWER))
            >>> r.score, r.acc, r.no_answer
            (-0.5, 0.0, 1.0)
        """
        status = verdict.status
        if status is OutcomeStatus.CORRECT:
            value = 1.0
        elif status is OutcomeStatus.NO_ANSWER:
            value = self.config.no_answer_score
        else:
            value = 0.0
        return RewardResult(
            score=value,
            acc=1.0 if verdict.correct else 0.0,
            outcome=value,
            pred=verdict.pred,
            no_answer=float(status is OutcomeStatus.NO_ANSWER),
            gold_unparseable=float(status is OutcomeStatus.GOLD_UNPARSEABLE),
            timeout=float(status is OutcomeStatus.TIMEOUT),
            error=float(status is OutcomeStatus.ERROR),
        )

    def score(self, sample: Sample) -> RewardResult:
        """Score one sample (see the class docstring for the formula)."""
        return self.to_result(self.verify(sample.gold, sample.response))

    async def ascore(self, sample: Sample) -> RewardResult:
        """Async :meth:`score`, for event loops such as verl's reward workers."""
        return self.to_result(await self.averify(sample.gold, sample.response))

    def score_batch(self, samples: Sequence[Sample]) -> list[RewardResult]:
        """Score many samples through :meth:`verify_batch`; never raises.

        Example:
            >>> [r.acc for r in OutcomeVerifier().score_batch([Sample(r"\\boxed{5}", gold=5)])]
            [1.0]
        """
        try:
            verdicts = self.verify_batch([(s.gold, s.response) for s in samples])
        except Exception:  # should not happen; fall back to the guarded one-by-one path
            return super().score_batch(samples)
        return [self.to_result(v) for v in verdicts]

    # -- the steps --------------------------------------------------------------------------------

    def _prepare(
        self,
        gold: Any,
        response: Any,
        golds: dict[Hashable, str | None] | None = None,
        decided: dict[tuple[str, str], OutcomeStatus] | None = None,
    ) -> _Prepared:
        """Everything cheap, in the caller: extraction, the gold, the cache and the fast path.

        ``golds`` and ``decided`` remember gold readings and verdicts within one batch.
        """
        try:
            gold_text = _cached_gold(gold, golds)
            pred = extract_answer(_response_text(response, self.config), self.config.extraction)
            if gold_text is None:
                return _Prepared(pred or "", OutcomeStatus.GOLD_UNPARSEABLE)
            if pred is None:
                return _Prepared("", OutcomeStatus.NO_ANSWER)
            key = (gold_text, pred)
            status = decided.get(key) if decided is not None else None
            if status is None:
                status = self._cache.get(key)
            if status is None:
                status = _grade().fast_compare(gold_text, pred)
                if status is not None:
                    self._keep(key, status)
            if status is not None and decided is not None:
                decided[key] = status
            return _Prepared(pred, status, gold_text)
        except Exception:  # the cheap steps are not supposed to fail; if they do, count it
            return _Prepared("", OutcomeStatus.ERROR)

    def _start(self, gold: Any, response: Any) -> Verdict | _Pending:
        """The cheap steps, then (if needed) a full check: shared with a concurrent call, or new."""
        prepared = self._prepare(gold, response)
        if prepared.status is not None:
            return Verdict(prepared.status, prepared.pred)
        self._pool().ensure_started()  # once per process: a pool's start is not a sample's cost
        deadline = time.monotonic() + self.config.timeout_s
        with self._inflight_lock:
            future = self._inflight.get(prepared.key)
            if future is not None and not future.done():  # a done one may be a stale expiry
                return _Pending(prepared, future, False, deadline)
            future = self._pool().submit(
                _grade().compare, *prepared.key, timeout_s=self.config.timeout_s, deadline=deadline
            )
            self._inflight[prepared.key] = future
        return _Pending(prepared, future, True, deadline)

    def _finish(self, pending: _Pending, result: TaskResult | None) -> Verdict:
        """The verdict of a full check (``None``: no result in time).

        The call that owns the check clears it from the in-flight map and caches its verdict.
        """
        key = pending.prepared.key
        if pending.owner:
            with self._inflight_lock:
                if self._inflight.get(key) is pending.future:
                    del self._inflight[key]
            status = self._remember(key, result)
        else:
            status = _status_of(result)
        return Verdict(status, pending.prepared.pred)

    def _remember(self, key: tuple[str, str], result: TaskResult | None) -> OutcomeStatus:
        """The status of a task result, cached when it is a verdict worth keeping."""
        status = _status_of(result)
        # Decided verdicts are kept, and so are checks that used their whole budget (the same
        # pathological pair would burn it again); an expired or crashed check may do better.
        kept = result is not None and result.status in (TaskStatus.OK, TaskStatus.TIMEOUT)
        if kept and status is not OutcomeStatus.ERROR:
            self._keep(key, status)
        return status

    def _keep(self, key: tuple[str, str], status: OutcomeStatus) -> None:
        """Cache a verdict, unless the pair is too long to be worth its memory."""
        if len(key[0]) + len(key[1]) <= _MAX_CACHED_CHARS:
            self._cache.put(key, status)

    def _start_pool_soon(self) -> None:
        """At this verifier's first call: start the pool in the background (returns at once)."""
        if not self._pool_started:
            self._pool_started = True
            self._pool().ensure_started(wait=False)

    def _pool(self) -> WorkerPool:
        size = self.config.workers or min(available_cpus(), DEFAULT_MAX_WORKERS)
        return shared_pool(size, preload=WORKER_PRELOAD, memory_mb=self.config.worker_memory_mb)


def _grade() -> ModuleType:
    """:mod:`rlsp_rewards.outcome.grade`, imported on first use (its patterns take tens of
    milliseconds to compile, which ``import rlsp_rewards`` should not pay)."""
    from rlsp_rewards.outcome import grade

    return grade


def _status_of(result: TaskResult | None) -> OutcomeStatus:
    """The outcome status of a worker task result (``None``: nothing came back in time)."""
    if result is None:
        return OutcomeStatus.TIMEOUT
    if result.ok:
        value = result.value
        return value if isinstance(value, OutcomeStatus) else OutcomeStatus.ERROR
    return OutcomeStatus.ERROR if result.status is TaskStatus.ERROR else OutcomeStatus.TIMEOUT


def _cached_gold(gold: Any, memo: dict[Hashable, str | None] | None) -> str | None:
    """``gold_answer(gold)``, remembered in ``memo`` for plain golds (a batch repeats each)."""
    if memo is None or not isinstance(gold, (str, int, float)):
        return gold_answer(gold)
    key = (type(gold), gold)
    if key not in memo:
        memo[key] = gold_answer(gold)
    return memo[key]


def _response_text(response: Any, config: OutcomeConfig) -> str:
    """The response as text, cut to ``max_response_chars`` on the side that holds the answer."""
    if not isinstance(response, str):
        response = Sample.from_call(solution_str=response).response
    limit = config.max_response_chars
    if len(response) <= limit:
        return response
    return response[:limit] if config.extraction == "first_box" else response[-limit:]


#: The ready instance: ``reward.custom_reward_function.name=outcome`` style use.
outcome = OutcomeVerifier()
