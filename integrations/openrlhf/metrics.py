"""Prometheus metrics of the reward server, in a registry of their own per app.

Request counts by route and status code, a latency histogram, requests in flight and bodies
being read, the outcome
status of every scored sample, judge failures, the worker pools' counters (tasks, timeouts,
crashes, restarts) and, when the reward has a ``cache_stats()`` method, its cache counters; the
last two are read at scrape time.

Example:
    >>> from rlsp_rewards.core import RewardResult
    >>> metrics = ServerMetrics()
    >>> metrics.observe_results([RewardResult(acc=1.0), RewardResult(no_answer=1.0)])
    >>> b'rlsp_samples_total{status="correct"} 1.0' in metrics.render()[0]
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from rlsp_rewards.core import OutcomeStatus, RewardResult

__all__ = ["ServerMetrics", "sample_status"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Worker-pool counters exported as ``rlsp_pool_<name>_total``.
_POOL_COUNTERS = (
    "tasks",
    "ok",
    "errors",
    "timeouts",
    "expired",
    "crashes",
    "restarts",
    "fork_server_restarts",
)
#: ``cache_stats()`` keys that are sizes now (gauges), not counts since start (counters).
_CACHE_GAUGES = frozenset({"entries", "size"})


def sample_status(result: RewardResult) -> OutcomeStatus:
    """The outcome status a result's flags describe (the first failure flag wins).

    Example:
        >>> sample_status(RewardResult(timeout=1.0)).value
        'timeout'
    """
    for flag, status in (
        ("error", OutcomeStatus.ERROR),
        ("timeout", OutcomeStatus.TIMEOUT),
        ("gold_unparseable", OutcomeStatus.GOLD_UNPARSEABLE),
        ("no_answer", OutcomeStatus.NO_ANSWER),
    ):
        if getattr(result, flag):
            return status
    return OutcomeStatus.CORRECT if result.acc else OutcomeStatus.INCORRECT


class ServerMetrics:
    """The server's metrics; :meth:`render` gives the ``/metrics`` body and content type.

    Args:
        cache_stats: a reward's ``cache_stats()``, exported as ``rlsp_cache_<key>_total``.

    Example:
        >>> m = ServerMetrics(cache_stats=lambda: {"hits": 3, "misses": 1})
        >>> m.observe_request("/health", 200, 0.001)
        >>> body = m.render()[0]
        >>> b'route="/health"' in body and b"rlsp_cache_hits_total 3.0" in body
        True
    """

    def __init__(self, cache_stats: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rlsp_requests",
            "HTTP requests by route and status code",
            ["route", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rlsp_request_seconds",
            "Time to answer a request, by route",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "rlsp_requests_in_flight",
            "Scoring requests admitted and not yet answered",
            registry=self.registry,
        )
        self.reading = Gauge(
            "rlsp_requests_reading",
            "Scoring requests whose body is being read (not yet admitted)",
            registry=self.registry,
        )
        self.samples = Counter(
            "rlsp_samples", "Scored samples by outcome status", ["status"], registry=self.registry
        )
        for status in OutcomeStatus:
            self.samples.labels(status.value)  # every status visible from the start, at 0
        self.judge_failures = Counter(
            "rlsp_judge_failures",
            "Samples whose judge gave no usable grade",
            registry=self.registry,
        )
        self.registry.register(_PoolCollector())
        if cache_stats is not None:
            self.registry.register(_CacheCollector(cache_stats))

    def observe_request(self, route: str, code: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, str(code)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_results(self, results: Iterable[RewardResult]) -> None:
        """Count the outcome status and judge failure of each scored sample."""
        for result in results:
            self.samples.labels(sample_status(result).value).inc()
            if result.judge_failed:
                self.judge_failures.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _CacheCollector:
    """Exports a reward's ``cache_stats()`` at scrape time: ``hits``, ``misses``... as counters,
    ``entries`` as a gauge."""

    def __init__(self, cache_stats: Callable[[], Mapping[str, int]]) -> None:
        self.cache_stats = cache_stats

    def collect(self) -> Iterator[Any]:
        try:
            stats = dict(self.cache_stats())
        except Exception:  # a metrics scrape must not fail because of the reward
            return
        for key, value in sorted(stats.items()):
            family: Any
            if key in _CACHE_GAUGES:  # a size now, not a count since start
                family = GaugeMetricFamily(f"rlsp_cache_{key}", f"Verdict cache: {key} now")
            else:
                family = CounterMetricFamily(f"rlsp_cache_{key}", f"Verdict cache: {key}")
            family.add_metric([], float(value))
            yield family


class _PoolCollector:
    """Sums the counters of this process's shared worker pools at scrape time."""

    def collect(self) -> Iterator[Any]:
        totals = dict.fromkeys((*_POOL_COUNTERS, "workers", "queued", "running"), 0)
        for stats in _pool_stats():
            for key in totals:
                totals[key] += int(stats.get(key, 0))
        for key in _POOL_COUNTERS:
            counter = CounterMetricFamily(f"rlsp_pool_{key}", f"Worker-pool tasks/workers: {key}")
            counter.add_metric([], totals[key])
            yield counter
        for key in ("workers", "queued", "running"):
            gauge = GaugeMetricFamily(f"rlsp_pool_{key}", f"Worker-pool {key} now")
            gauge.add_metric([], totals[key])
            yield gauge


def _pool_stats() -> list[dict[str, int]]:
    import sys

    workers = sys.modules.get("rlsp_rewards.workers")  # not imported: no pool was ever used
    return [] if workers is None else [pool.stats() for pool in workers.shared_pools()]
