"""``rlsp-rewards bench``: verifier throughput side by side with the baselines, as ratios.

One run scores the same synthetic workload (:mod:`rlsp_rewards.bench.workload`: 512 prompts x 16
responses by default, labelled) with four methods:

* ``ours-batch``: :meth:`~rlsp_rewards.outcome.OutcomeVerifier.verify_batch` on the whole step.
* ``ours-threads``: the verl-style single-sample call from ``threads`` threads at once, the way
  the frameworks call a reward.
* ``math-verify``: plain ``math_verify.verify(parse(gold), parse(response))`` per sample, in
  this process, with its defaults (its signal-based 5 s timeouts, main thread).
* ``verl``: ``verl.utils.reward_score.math_verify.compute_score`` of verl 0.9.1 from
  ``threads`` threads, when verl is importable (otherwise skipped, with a note).

Each method starts warm (worker processes started, parsers imported) and with an empty verdict
cache. Reported: samples/s, our speed-up over each baseline, per-sample latency (p50/p99/max;
a batch call has one latency for all its samples), timeouts, accuracy against the workload's
labels, pairwise agreement, and our accuracy vs plain math-verify on the labelled answer set.

Example:
    >>> report = run_bench(samples=32, baselines=False, labelled_set=False, console=None)
    >>> [m["method"] for m in report["methods"]], report["workload"]["samples"]
    (['ours-batch', 'ours-threads'], 32)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["MethodRun", "run_bench"]

#: math-verify's own default timeout: a baseline sample that ran this long hit it.
BASELINE_TIMEOUT_S = 5.0
#: How much longer than its budget a sample may take (the issue's bound).
SLACK_S = 1.0


@dataclasses.dataclass
class MethodRun:
    """The measurements of one method over the workload.

    Attributes:
        method: its short name.
        description: what was run.
        seconds: wall time for the whole workload.
        verdicts: per sample, whether the method judged the response correct.
        latencies: per-sample seconds (for a batch: the batch's time, for every sample).
        timeouts: samples that ran out of time (ours: flagged; baselines: ran >= 5 s).
        worker_checks: for ours, the checks that needed a worker process (the rest were
            decided in the caller: fast path, cache, de-duplication); ``None`` for baselines.

    Example:
        >>> run = MethodRun("x", "demo", 2.0, [True, False], [1.0, 1.0], 0)
        >>> run.samples_per_s, run.percentile(99)
        (1.0, 1.0)
    """

    method: str
    description: str
    seconds: float
    verdicts: list[bool]
    latencies: list[float]
    timeouts: int
    worker_checks: int | None = None

    @property
    def samples_per_s(self) -> float:
        """Throughput over the whole workload."""
        return len(self.verdicts) / self.seconds if self.seconds > 0 else math.inf

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of the per-sample latencies (nearest rank)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _fresh_verifier(timeout_s: float) -> Any:
    """A verifier with an empty cache on freshly started workers (their parse caches empty)."""
    from rlsp_rewards.outcome.verifier import OutcomeVerifier
    from rlsp_rewards.workers import close_shared_pools

    close_shared_pools()
    verifier = OutcomeVerifier(timeout_s=timeout_s)
    verifier.warm_up()
    return verifier


def _worker_checks() -> int:
    """Tasks the shared pools ran since :func:`_fresh_verifier` (less its warm-up task)."""
    from rlsp_rewards.workers import shared_pools

    return sum(pool.stats()["tasks"] for pool in shared_pools()) - 1


def _ours_batch(rows: Sequence[dict], timeout_s: float, threads: int) -> MethodRun:
    from rlsp_rewards.core import OutcomeStatus

    verifier = _fresh_verifier(timeout_s)
    started = time.perf_counter()
    verdicts = verifier.verify_batch([(row["gold"], row["response"]) for row in rows])
    seconds = time.perf_counter() - started
    return MethodRun(
        "ours-batch",
        "OutcomeVerifier.verify_batch, one call for the whole step",
        seconds,
        [v.correct for v in verdicts],
        [seconds] * len(rows),
        sum(v.status is OutcomeStatus.TIMEOUT for v in verdicts),
        _worker_checks(),
    )


def _ours_threads(rows: Sequence[dict], timeout_s: float, threads: int) -> MethodRun:
    verifier = _fresh_verifier(timeout_s)

    def one(row: dict) -> tuple[dict, float]:
        started = time.perf_counter()
        result = verifier(
            data_source="bench", solution_str=row["response"], ground_truth=row["gold"]
        )
        return result, time.perf_counter() - started

    results, seconds = _threaded(one, rows, threads)
    return MethodRun(
        "ours-threads",
        f"the verl-style call from {threads} threads",
        seconds,
        [r["acc"] == 1.0 for r, _ in results],
        [t for _, t in results],
        sum(r["timeout"] == 1.0 for r, _ in results),
        _worker_checks(),
    )


def _math_verify(rows: Sequence[dict], timeout_s: float, threads: int) -> MethodRun:
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # one warning per timeout
    verify(parse("$1$"), parse("$1$"))  # warm: imports and the parser

    def one(row: dict) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            ok = bool(verify(parse("\\boxed{" + str(row["gold"]) + "}"), parse(row["response"])))
        except Exception:
            ok = False
        return ok, time.perf_counter() - started

    started = time.perf_counter()
    results = [one(row) for row in rows]  # its signal timeouts need the main thread
    seconds = time.perf_counter() - started
    return _baseline_run(
        "math-verify",
        "math_verify parse + verify per sample, defaults, in process",
        results,
        seconds,
    )


def _verl(rows: Sequence[dict], timeout_s: float, threads: int) -> MethodRun:
    from verl.utils.reward_score.math_verify import compute_score

    def one(row: dict) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            ok = float(compute_score(row["response"], str(row["gold"]))) == 1.0
        except Exception:
            ok = False
        return ok, time.perf_counter() - started

    with _quiet_stderr():  # verl's workers log each math-verify timeout with the whole response
        compute_score("$1$", "1")  # warm: starts verl's process pool (it inherits our stderr)
        results, seconds = _threaded(one, rows, threads)
    return _baseline_run(
        "verl", f"verl 0.9.1 math_verify.compute_score from {threads} threads", results, seconds
    )


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null meanwhile (it reaches child processes started now)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _threaded(fn: Callable[[dict], Any], rows: Sequence[dict], threads: int) -> tuple[list, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as executor:
        results = list(executor.map(fn, rows))
    return results, time.perf_counter() - started


def _baseline_run(
    method: str, description: str, results: list[tuple[bool, float]], seconds: float
) -> MethodRun:
    return MethodRun(
        method,
        description,
        seconds,
        [ok for ok, _ in results],
        [t for _, t in results],
        sum(t >= BASELINE_TIMEOUT_S for _, t in results),
    )


def _verl_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("verl") is not None


def run_bench(
    samples: int = 8192,
    *,
    seed: int = 0,
    threads: int = 8,
    timeout_s: float = 5.0,
    baselines: bool = True,
    labelled_set: bool = True,
    json_path: Path | None = None,
    console: Any = "default",
) -> dict[str, Any]:
    """Run the benchmark, print its tables, and return (and optionally save) the results.

    Args:
        samples: workload size (16 responses per prompt).
        seed: the workload's random seed.
        threads: caller threads for the single-sample methods.
        timeout_s: our per-sample budget.
        baselines: also run plain math-verify and verl (when importable).
        labelled_set: also compare accuracy on the shipped labelled answer set.
        json_path: where to write the machine-readable results.
        console: a ``rich`` console; ``"default"`` makes one, ``None`` prints nothing.

    Returns:
        A JSON-ready dict: ``workload``, ``methods`` (one dict per method), ``ratios``,
        ``agreement``, ``labelled_set``, ``notes``.
    """
    from rlsp_rewards.bench.workload import generate

    if console == "default":
        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else 120)  # keep the table whole
    rows = generate(math.ceil(samples / 16), 16, seed=seed)[:samples]
    runners: list[Callable[[Sequence[dict], float, int], MethodRun]] = [_ours_batch, _ours_threads]
    notes: list[str] = []
    if baselines:
        runners.append(_math_verify)
        if _verl_available():
            runners.append(_verl)
        else:
            notes.append(
                "verl is not installed here: method (d) skipped (run `make bench`, "
                "which uses the verl environment)"
            )
    runs = []
    for runner in runners:
        if console is not None:
            console.print(f"[dim]running {runner.__name__.strip('_').replace('_', '-')} ...[/dim]")
        runs.append(runner(rows, timeout_s, threads))
    report = _report(rows, runs, timeout_s, seed, threads, notes)
    if labelled_set:
        report["labelled_set"] = _labelled_set(baseline=baselines)
    if console is not None:
        _print(console, report)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _report(
    rows: Sequence[dict],
    runs: list[MethodRun],
    timeout_s: float,
    seed: int,
    threads: int,
    notes: list[str],
) -> dict[str, Any]:
    labels = [bool(row["label"]) for row in rows]
    budget = timeout_s + SLACK_S
    methods = []
    for run in runs:
        methods.append(
            {
                "method": run.method,
                "description": run.description,
                "seconds": run.seconds,
                "samples_per_s": run.samples_per_s,
                "p50_s": run.percentile(50),
                "p99_s": run.percentile(99),
                "max_s": max(run.latencies, default=0.0),
                "timeouts": run.timeouts,
                "worker_checks": run.worker_checks,
                "over_budget": sum(t > budget for t in run.latencies)
                if run.method == "ours-threads"
                else None,
                "accuracy": _agreement(run.verdicts, labels),
                "correct_rate": sum(run.verdicts) / len(run.verdicts) if run.verdicts else 0.0,
                "per_sample_latency": run.method != "ours-batch",
            }
        )
    by_name = {run.method: run for run in runs}
    ratios = {
        f"{ours}/{base}": by_name[ours].samples_per_s / by_name[base].samples_per_s
        for ours in ("ours-batch", "ours-threads")
        if ours in by_name
        for base in ("math-verify", "verl")
        if base in by_name
    }
    agreement = {
        f"{a.method}~{b.method}": _agreement(a.verdicts, b.verdicts)
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
    }
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    return {
        "workload": {
            "samples": len(rows),
            "problems": len({r["problem"] for r in rows}),
            "seed": seed,
            "kinds": kinds,
            "correct_labels": sum(labels),
            "mean_response_chars": sum(len(r["response"]) for r in rows) / max(1, len(rows)),
        },
        "settings": {"threads": threads, "timeout_s": timeout_s, "cpus": _cpus()},
        "methods": methods,
        "ratios": ratios,
        "agreement": agreement,
        "labelled_set": None,
        "notes": notes,
    }


def _agreement(a: Sequence[bool], b: Sequence[bool]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=False)) / len(a) if a else 1.0


def _cpus() -> int:
    from rlsp_rewards.workers import available_cpus

    return available_cpus()


def _labelled_set(baseline: bool) -> dict[str, Any] | None:
    try:
        from rlsp_rewards.bench.accuracy import evaluate
    except ImportError:
        return None
    report = evaluate(baseline=baseline)
    return {"rows": report.rows, "ours": report.accuracy, "math_verify": report.baseline_accuracy}


def _print(console: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    work = report["workload"]
    settings = report["settings"]
    table = Table(
        title=(
            f"Outcome verifier: {work['samples']} responses ({work['problems']} prompts, "
            f"{work['kinds'].get('adversarial', 0)} adversarial), {settings['cpus']} CPUs, "
            f"budget {settings['timeout_s']:g} s"
        ),
        caption=(
            "ours-batch's latency: its one call for all samples; in workers: checks that "
            "needed a worker process; baseline timeouts: samples that ran >= "
            f"{BASELINE_TIMEOUT_S:g} s (math-verify's own timeout)"
        ),
    )
    for column in (
        "method",
        "samples/s",
        "vs math-verify",
        "vs verl",
        "p50 ms",
        "p99 ms",
        "max ms",
        "timeouts",
        "in workers",
        "accuracy",
    ):
        table.add_column(column, justify="left" if column == "method" else "right")
    ratios = report["ratios"]
    for m in report["methods"]:
        per_sample = m["per_sample_latency"]
        table.add_row(
            m["method"],
            f"{m['samples_per_s']:,.0f}",
            _ratio(ratios.get(f"{m['method']}/math-verify")),
            _ratio(ratios.get(f"{m['method']}/verl")),
            f"{m['p50_s'] * 1000:,.1f}" if per_sample else "-",
            f"{m['p99_s'] * 1000:,.1f}" if per_sample else "-",
            f"{m['max_s'] * 1000:,.1f}",
            str(m["timeouts"]),
            "-" if m["worker_checks"] is None else f"{m['worker_checks']:,}",
            f"{m['accuracy']:.2%}",
        )
    console.print(table)
    if report["agreement"]:
        agree = Table(title="Agreement between methods (same correct/incorrect verdict)")
        agree.add_column("pair")
        agree.add_column("agreement", justify="right")
        for pair, value in report["agreement"].items():
            agree.add_row(pair.replace("~", " vs "), f"{value:.2%}")
        console.print(agree)
    threads = next((m for m in report["methods"] if m["method"] == "ours-threads"), None)
    if threads is not None:
        console.print(
            f"samples over budget + {SLACK_S:g} s (ours-threads): {threads['over_budget']}"
        )
    labelled = report["labelled_set"]
    if labelled:
        baseline = labelled["math_verify"]
        console.print(
            f"labelled answer set ({labelled['rows']} rows): ours {labelled['ours']:.1%}"
            + ("" if baseline is None else f", plain math-verify {baseline:.1%}")
        )
    for note in report["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"
