"""``rlsp-rewards bench --reward``: the whole reward's speed on long responses, as ratios.

The workload: distinct, realistic responses (reasoning prose with inline and display LaTeX,
the usual markers, ending in a boxed answer, one in eight without a final answer) of about 1,
4, 16 and 64 KB, the lengths of RLSP runs (4k tokens is about 16 KB). For each size, in one
run, on the same responses:

* ``verifier``: the outcome verifier alone (:data:`rlsp_rewards.outcome`), the verl-style
  single-sample call, from 1 and from ``threads`` threads;
* ``paper``, ``guarded``, ``reference``: the whole reward (:class:`~rlsp_rewards.RlspReward`)
  of each preset, the same calls, and its ``score_batch`` over all the responses at once (the
  path of TRL's adapter and ``rlsp-rewards score``);
* ``verl``: verl 0.9.1's ``math_verify.compute_score`` from 1 and ``threads`` threads, when
  verl is importable (``make bench-reward`` runs this in the verl environment);
* ``server``: a real ``rlsp-rewards serve`` process (the ``paper`` preset) on 127.0.0.1, one
  ``/get_reward`` POST per sample in OpenRLHF's protocol, 64 in flight; its rate beside the
  in-process rate of the same preset (the client runs on the same machine and takes CPU too);
  the same with ``--scoring-threads 1`` (one thread scores every request, as before the
  default became one per CPU); then ``rlsp-rewards serve --processes 2``, the POSTs alternated
  between its two servers (OpenRLHF's way to scale out: several URLs in
  ``--reward.remote_url``);
* two *ceiling* notes: a 10 microsecond pure-Python call through the same thread pool, beside
  one thread (what the pool and the GIL cost a sample that short, whatever the reward), and the
  compiled scans alone on the 16 KB responses, from the same threads (what the cores give here
  to work that never holds the GIL: the reward's thread ratio cannot exceed it);
* the server's CPU milliseconds per request at 16 KB, and the load generator's;
* ``tokens``: with a tokenizer (``--tokenizer PATH``, else a byte-level BPE trained here, said
  so), the cost of an exact token count per sample at 16 and 64 KB, one by one and batched.

Every reward is warm (workers started, numpy imported) before its clock starts. Samples/s are
medians of ``rounds`` passes, alternated between methods, since a shared machine's speed
drifts.

Example:
    >>> report = run_reward_bench(sizes_kb=(1,), samples=8, rounds=1, verl=False, server=False,
    ...                           tokens=False, console=None)
    >>> sorted(report["rates"]["1"])[:3]
    ['guarded/1', 'guarded/8', 'guarded/batch']
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["realistic_responses", "run_reward_bench"]

PRESETS = ("paper", "guarded", "reference")
#: The per-sample goals of issue 18 (ms in one thread), checked in the report.
GOALS_MS = {16: 1.0, 64: 3.0}

_STEPS = (
    "Let me set up the problem. We are given $a + b = {a}$ and $ab = {b}$, so $a$ and $b$ are "
    "the roots of $t^2 - {a}t + {b} = 0$.",
    "The discriminant is $\\Delta = {a}^2 - 4 \\cdot {b} = {c}$. Wait, that doesn't look "
    "right: let me recompute it carefully.",
    "Substituting back, we get\n\\[\n f(x) = {b}x^2 + {c}x - {a}, \\qquad f'(x) = {d}x + {c}.\n\\]",
    "Let me check this with a small case: if $x = {a}$, then the sum is ${b} + {a} = {e}$, "
    "which matches.",
    "Another approach: the generating function "
    "$\\sum_{{k \\ge 0}} \\binom{{n}}{{k}} x^k = (1 + x)^n$ gives the same count.",
    "Hmm, so the remainder when ${d}$ is divided by ${a}$ is ${f}$, since "
    "${d} = {a} \\cdot q + {f}$.",
    "By the triangle inequality, $|a - b| \\le |a| + |b| \\le {c}$, which bounds the answer.",
    "Dividing both sides by ${a}$, we find $y = \\frac{{{b}}}{{{a}}}$, and then "
    "$y^2 = \\frac{{{e}}}{{{a}^2}}$.",
    "So far we have {a} cases; the remaining {b} cases are symmetric under "
    "$x \\mapsto -x$, so they contribute the same.",
    "Actually, let me reconsider the constraint on $n$: we need $n \\equiv {f} \\pmod{{{a}}}$ "
    "and $n > {b}$.",
    "Verifying: $({a})^2 = {g}$ and ${g} - {b} = {c}$, consistent with the discriminant.",
    "Alternatively, count the complement: there are $\\binom{{{a}}}{{2}} - {b}$ bad pairs.",
    "I think the key observation is that the sequence $u_n = {a}u_{{n-1}} - {b}u_{{n-2}}$ is "
    "periodic modulo {f}.",
)
_ENDINGS = (
    "Therefore, the answer is $\\boxed{{{answer}}}$.",
    "**Final Answer**\n\\[\n\\boxed{{{answer}}}\n\\]",
    "So the final answer is $\\boxed{{{answer}}}$.",
)
_ANSWERS = ("42", "\\frac{3}{4}", "2\\sqrt{5}", "(1, 2)", "x^2 + 2x + 1", "17")


def realistic_responses(size_kb: int, count: int, seed: int = 0) -> list[tuple[str, str]]:
    """``count`` distinct ``(gold, response)`` pairs of about ``size_kb`` KB each.

    Example:
        >>> pairs = realistic_responses(4, 3)
        >>> len(pairs), all(3_500 < len(r) < 4_500 for _, r in pairs)
        (3, True)
    """
    rng = random.Random(f"{seed}-{size_kb}")
    target = size_kb * 1024
    pairs = []
    for i in range(count):
        gold = rng.choice(_ANSWERS)
        parts, size = [], 0
        while size < target - 120:
            numbers = {k: rng.randint(2, 999) for k in "abcdefg"}
            part = rng.choice(_STEPS).format(**numbers)
            parts.append(part)
            size += len(part) + 2
        right = rng.random() < 0.6
        answer = gold if right else rng.choice(_ANSWERS)
        ending = "" if i % 8 == 7 else rng.choice(_ENDINGS).format(answer=answer)
        pairs.append((gold, "\n\n".join(parts)[: target - len(ending) - 2] + "\n\n" + ending))
    return pairs


# -- the in-process methods ---------------------------------------------------------------------


def _rate(
    call: Callable[[str, str], Any], pairs: Sequence[tuple[str, str]], threads: int
) -> tuple[float, float]:
    """Samples per second of ``call(gold, response)`` over the pairs from ``threads`` threads,
    and this process's CPU milliseconds per sample (which a loaded machine blurs less)."""
    started, cpu = time.perf_counter(), time.process_time()
    if threads == 1:
        for gold, response in pairs:
            call(gold, response)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda pair: call(*pair), pairs))
    seconds = time.perf_counter() - started
    return len(pairs) / seconds, (time.process_time() - cpu) / len(pairs) * 1e3


def _busy(_gold: str, _response: str) -> int:
    """About 10 microseconds of pure Python (holding the GIL), the cost of a very short sample."""
    total = 0
    for i in range(300):
        total += i
    return total


def _thread_ceiling(threads: int) -> str:
    """How fast the threaded passes' own machinery runs a very short pure-Python call, beside
    one thread: the ceiling that ``threads`` threads put on short samples on this machine."""
    calls = [("", "")] * 20_000
    one, _ = _rate(_busy, calls, 1)
    many, _ = _rate(_busy, calls, threads)
    return (
        f"a 10 us pure-Python call through the same {threads}-thread pool: {many:,.0f}/s against "
        f"{one:,.0f}/s in one thread ({many / one:.2f}x): what threads do to short samples here"
    )


def _scan_ceiling(pairs: Sequence[tuple[str, str]], threads: int, size_kb: int) -> str | None:
    """The compiled scans alone on the same responses (the GIL released throughout), from
    ``threads`` threads beside one: what this machine's cores give to per-sample work that
    never holds the GIL, the most any reward's threads can reach here. ``None`` without them."""
    from rlsp_rewards.behaviours import marker_table
    from rlsp_rewards.exploration import compiled

    if not compiled.wait():
        return None
    table = marker_table()

    def scan(_gold: str, response: str) -> Any:
        return compiled.scan(response, 10, table)

    ratios = []
    for _ in range(3):
        one, _ = _rate(scan, pairs, 1)
        many, _ = _rate(scan, pairs, threads)
        ratios.append(many / one)
    return (
        f"the compiled scans alone on the {size_kb} KB responses (no GIL held while they run): "
        f"{threads} threads / 1 = {statistics.median(ratios):.2f}x (rounds "
        f"{min(ratios):.2f}-{max(ratios):.2f}x): what the cores give here to work that never "
        "holds the GIL, the ceiling of the reward's own thread ratio"
    )


def _ours(preset: str | None) -> Callable[[str, str], Any]:
    """The verl-style call of a preset's whole reward, or of the verifier alone (``None``)."""
    from rlsp_rewards.combine import RlspReward
    from rlsp_rewards.outcome.verifier import OutcomeVerifier

    reward = OutcomeVerifier() if preset is None else RlspReward(preset=preset)
    reward.warm_up()
    reward(data_source="bench", solution_str="\\boxed{1}", ground_truth="1")

    def call(gold: str, response: str) -> Any:
        return reward(data_source="bench", solution_str=response, ground_truth=gold)

    return call


def _batch(preset: str) -> Callable[[Sequence[tuple[str, str]]], Any]:
    """A preset's batch call (``score_batch``: what TRL's adapter and ``rlsp-rewards score``
    use; the length measures of a large batch run in worker processes)."""
    from rlsp_rewards.combine import RlspReward
    from rlsp_rewards.core import Sample

    reward = RlspReward(preset=preset)
    reward.warm_up()

    def call(pairs: Sequence[tuple[str, str]]) -> Any:
        return reward.score_batch([Sample(response=r, gold=g) for g, r in pairs])

    return call


def _batch_rate(
    call: Callable[[Sequence[tuple[str, str]]], Any], pairs: Sequence[tuple[str, str]]
) -> tuple[float, float]:
    """Samples per second of one batch call over the pairs, and this process's CPU ms per
    sample (the worker processes' CPU is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    call(pairs)
    seconds = time.perf_counter() - started
    return len(pairs) / seconds, (time.process_time() - cpu) / len(pairs) * 1e3


def _verl() -> Callable[[str, str], Any] | None:
    """verl 0.9.1's ``math_verify.compute_score``, when verl is importable."""
    import importlib.util

    if importlib.util.find_spec("verl") is None:
        return None
    from rlsp_rewards.bench.throughput import _quiet_stderr

    with _quiet_stderr():
        from verl.utils.reward_score.math_verify import compute_score

        compute_score("\\boxed{1}", "1")  # warm: starts its process pool

    def call(gold: str, response: str) -> Any:
        try:
            return compute_score(response, gold)
        except Exception:  # it may raise on odd input; the bench measures speed
            return 0.0

    return call


# -- tokens ---------------------------------------------------------------------------------------


def _token_costs(path: str | None, sizes_kb: Sequence[int], samples: int) -> dict[str, Any]:
    """Milliseconds per sample of an exact token count, one by one and batched."""
    from rlsp_rewards.exploration.tokens import TokenCounter

    note = f"tokenizer {path}"
    if path is None:
        path, note = _trained_tokenizer(), "a byte-level BPE (vocabulary 8,000) trained here"
    counter = TokenCounter(path)
    counter.count("warm up")
    out: dict[str, Any] = {"tokenizer": note}
    for size in sizes_kb:
        texts = [r for _, r in realistic_responses(size, samples, seed=7)]
        started = time.perf_counter()
        singles = [counter.count(t) for t in texts]
        one = (time.perf_counter() - started) / len(texts) * 1e3
        started = time.perf_counter()
        batched = counter.count_batch(texts)
        batch = (time.perf_counter() - started) / len(texts) * 1e3
        assert batched == singles, "batched token counts differ"
        out[str(size)] = {
            "ms_one": one,
            "ms_batched": batch,
            "tokens": statistics.mean(singles),
        }
    return out


def _trained_tokenizer() -> str:
    import tempfile

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8_000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator([r for _, r in realistic_responses(16, 64, seed=99)], trainer)
    path = tempfile.mkdtemp(prefix="rlsp-bench-tokenizer-")
    PreTrainedTokenizerFast(tokenizer_object=bpe).save_pretrained(path)
    return path


# -- the server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_ports(count: int) -> int:
    """A port such that it and the ``count - 1`` after it are free."""
    for _ in range(100):
        first = _free_port()
        if all(_port_free(first + k) for k in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start_server(port: int, processes: int = 1, *options: str) -> subprocess.Popen:
    """``rlsp-rewards serve`` (``--processes``: servers on ``port`` and the next ones), once
    every server accepts connections."""
    import tempfile

    command = [sys.executable, "-m", "rlsp_rewards", "serve", "--port", str(port)]
    command += ["--preset", "paper", "--log-level", "warning", "--processes", str(processes)]
    command += options
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server; not a pipe)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    waiting = set(range(port, port + processes))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited: {log.read().decode()[-500:]}")
        for each in list(waiting):
            try:
                with socket.create_connection(("127.0.0.1", each), timeout=0.5):
                    waiting.discard(each)
            except OSError:
                pass
        if not waiting:
            return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start within 120 s")


def _cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by a process and all its descendants (Linux ``/proc``), or
    ``None`` where that cannot be read."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total, todo = 0.0, [pid]
        while todo:
            each = todo.pop()
            stat = Path(f"/proc/{each}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
            for task in Path(f"/proc/{each}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        return total
    except (OSError, ValueError):  # not Linux, or a process ended while it was read
        return None


def _server_rate(
    ports: Sequence[int], pairs: Sequence[tuple[str, str]], in_flight: int = 64
) -> tuple[float, float]:
    """Samples/s of one ``/get_reward`` POST per sample, ``in_flight`` at once, with aiohttp
    (OpenRLHF's own client), after an untimed pass, and the client's own CPU milliseconds
    per POST (it runs on the same machine); the POSTs alternate between the servers on
    ``ports`` (as OpenRLHF alternates between the URLs of ``--reward.remote_url``)."""
    import asyncio

    import aiohttp

    prompt = "<|im_start|>user\nSolve the problem.<|im_end|>\n<|im_start|>assistant\n"
    bodies = [
        json.dumps({"query": [prompt + r + "<|im_end|>"], "prompts": [prompt], "labels": [g]})
        for g, r in pairs
    ]
    urls = [f"http://127.0.0.1:{port}/get_reward" for port in ports]

    async def run() -> tuple[float, float]:
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector) as session:
            gate = asyncio.Semaphore(in_flight)

            async def post(url: str, body: str) -> None:
                async with (
                    gate,
                    session.post(
                        url, data=body, headers={"content-type": "application/json"}
                    ) as reply,
                ):
                    reply.raise_for_status()
                    await reply.read()

            posts = [(urls[i % len(urls)], body) for i, body in enumerate(bodies)]
            await asyncio.gather(*(post(*p) for p in posts))  # untimed: connections, caches
            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(post(*p) for p in posts))
            spent = time.process_time() - cpu
            return len(bodies) / (time.perf_counter() - started), spent / len(bodies) * 1e3

    return asyncio.run(run())


#: Fewer responses per size than this make passes too short to compare (a note says so).
_FEW_SAMPLES = 512
#: The most requests per server pass (each pass sends them twice: untimed, then timed).
_SERVER_SAMPLES = 2_048


def _few(pairs: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """verl's share of a workload: a quarter, 16 to 256 samples (it takes milliseconds each)."""
    return pairs[: max(16, min(len(pairs) // 4, 256))]


def _missing(*modules: str) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


def _time_server(
    workload: dict[int, list[tuple[str, str]]],
    rates: dict[str, dict[str, float]],
    rounds: int,
    notes: list[str],
) -> None:
    """One server; one with a single scoring thread (as servers were before one per CPU); then
    ``serve --processes 2`` (what a host with more cores runs: a server per core or two, their
    URLs listed in OpenRLHF's ``--reward.remote_url``), on the same requests."""
    processes: list[subprocess.Popen] = []
    try:  # each port chosen once the servers before it listen: no two can pick the same one
        processes.append(_start_server(one := _free_port()))
        processes.append(_start_server(serial := _free_port(), 1, "--scoring-threads", "1"))
        processes.append(_start_server(two := _free_ports(2), processes=2))
        for size, pairs in workload.items():
            for key, used, process in (
                ("server/64", [one], processes[0]),
                ("serial/64", [serial], processes[1]),
                ("servers/2", [two, two + 1], processes[2]),
            ):
                sent = pairs[:_SERVER_SAMPLES]
                before = _cpu_s(process.pid)
                runs = [_server_rate(used, sent) for _ in range(rounds)]
                after = _cpu_s(process.pid)
                rates[str(size)][key] = statistics.median(rate for rate, _ in runs)
                if size == 16 and key == "server/64" and before is not None and after is not None:
                    # each round posts every request twice (untimed, then timed)
                    server_ms = (after - before) / (2 * rounds * len(sent)) * 1e3
                    client_ms = statistics.median(ms for _, ms in runs)
                    notes.append(
                        f"one server process at 16 KB: {server_ms:.2f} ms CPU per request "
                        "(HTTP, JSON, the micro-batcher and the reward, which alone takes "
                        f"the 1-thread figure above); the load generator took {client_ms:.2f} "
                        "ms per request of the same CPUs"
                    )
    except RuntimeError as exc:
        notes.append(f"server skipped: {exc}")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


# -- the run --------------------------------------------------------------------------------------


def run_reward_bench(
    sizes_kb: Sequence[int] = (1, 4, 16, 64),
    *,
    samples: int | None = None,
    threads: int = 8,
    rounds: int = 3,
    verl: bool = True,
    server: bool = True,
    tokens: bool = True,
    tokenizer: str | None = None,
    json_path: Path | None = None,
    console: Any = "default",
) -> dict[str, Any]:
    """Run the benchmark, print its table, and return (and optionally save) the results.

    Args:
        sizes_kb: response sizes, in KB.
        samples: responses per size (default: 16 MB of text per size, at least 512, so that
            a pass of the fastest method lasts a few tenths of a second).
        threads: caller threads of the threaded passes.
        rounds: passes of each method; the median rate is reported.
        verl: also time verl's ``math_verify`` (when verl is importable).
        server: also time a real ``rlsp-rewards serve`` process.
        tokens: also time exact token counts at 16 and 64 KB.
        tokenizer: the tokenizer for that (default: one trained here).
        json_path: where to write the machine-readable results.
        console: a ``rich`` console; ``"default"`` makes one, ``None`` prints nothing.

    Returns:
        ``{"settings": ..., "rates": {size: {"method/threads": samples/s}}, "ms": ...,
        "ratios": ..., "tokens": ..., "notes": [...]}``.
    """
    from rlsp_rewards.workers import available_cpus

    if console == "default":
        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else 140)
    notes: list[str] = [
        f"{available_cpus()} CPUs; load average {os.getloadavg()[0]:.1f} at the start "
        "(numbers from a loaded machine are lower and noisier)"
    ]
    if samples is not None and samples < _FEW_SAMPLES:
        notes.append(
            f"{samples} responses per size: passes this short make rough rates, and the thread "
            "and server ratios swing; run without --quick (or --samples) for numbers to compare"
        )
    methods: dict[str, Callable[[str, str], Any]] = {"verifier": _ours(None)}
    methods.update({p: _ours(p) for p in PRESETS})
    if verl:
        found = _verl()
        if found is None:
            notes.append("verl is not importable here: run `make bench-reward` (verl environment)")
        else:
            methods["verl"] = found
    batches = {p: _batch(p) for p in PRESETS}
    notes.append(_thread_ceiling(threads))
    workload = {
        size: realistic_responses(size, samples or max(512, 16_384 // size)) for size in sizes_kb
    }
    rates: dict[str, dict[str, float]] = {}
    cpu_ms: dict[str, dict[str, float]] = {}
    for size, pairs in workload.items():
        for name, call in methods.items():  # untimed: every method meets every answer once
            _rate(call, pairs if name != "verl" else _few(pairs), threads)
        for batch in batches.values():
            batch(pairs)
        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(rounds):  # alternated: every method sees the same drift
            for name, call in methods.items():
                for count in (1, threads):
                    subset = pairs if name != "verl" else _few(pairs)
                    runs.setdefault(f"{name}/{count}", []).append(_rate(call, subset, count))
                if name in batches:
                    runs.setdefault(f"{name}/batch", []).append(_batch_rate(batches[name], pairs))
        ordered = sorted(runs.items())
        rates[str(size)] = {k: statistics.median(r for r, _ in v) for k, v in ordered}
        cpu_ms[str(size)] = {k: statistics.median(c for _, c in v) for k, v in ordered}
        if size == 16:
            ceiling = _scan_ceiling(pairs, threads, size)
            if ceiling is not None:
                notes.append(ceiling)
        if console is not None:
            console.print(f"[dim]{size} KB done[/dim]")
    if server:
        missing = _missing("fastapi", "uvicorn", "prometheus_client", "aiohttp")
        if missing:
            notes.append(f"server skipped: {', '.join(missing)} not installed here")
        else:
            _time_server(workload, rates, rounds, notes)
    report: dict[str, Any] = {
        "settings": {"threads": threads, "rounds": rounds, "cpus": available_cpus()},
        "samples": {str(size): len(pairs) for size, pairs in workload.items()},
        "rates": rates,
        "ms": {size: {k: 1e3 / v for k, v in r.items()} for size, r in rates.items()},
        "cpu_ms": cpu_ms,
        "ratios": _ratios(rates, threads),
        "tokens": _token_costs(tokenizer, [s for s in (16, 64) if s in sizes_kb] or [16], 16)
        if tokens
        else None,
        "notes": notes,
    }
    if console is not None:
        _print(console, report)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _ratios(rates: dict[str, dict[str, float]], threads: int) -> dict[str, dict[str, float]]:
    out = {}
    for size, r in rates.items():
        ratios = {}
        for preset in PRESETS:
            ratios[f"{preset}: {threads} threads / 1"] = r[f"{preset}/{threads}"] / r[f"{preset}/1"]
            if f"{preset}/batch" in r:
                ratios[f"{preset}: score_batch / 1 thread"] = (
                    r[f"{preset}/batch"] / r[f"{preset}/1"]
                )
            ratios[f"{preset} / verifier (1 thread)"] = r[f"{preset}/1"] / r["verifier/1"]
            if "verl/1" in r:
                ratios[f"{preset} / verl (1 thread)"] = r[f"{preset}/1"] / r["verl/1"]
                ratios[f"{preset} / verl ({threads} threads)"] = (
                    r[f"{preset}/{threads}"] / r[f"verl/{threads}"]
                )
        if "server/64" in r:
            ratios["server / paper (1 thread)"] = r["server/64"] / r["paper/1"]
            ratios[f"server / paper ({threads} threads)"] = r["server/64"] / r[f"paper/{threads}"]
        if "serial/64" in r:
            ratios["server / server with 1 scoring thread"] = r["server/64"] / r["serial/64"]
        if "servers/2" in r:
            ratios["2 servers / 1 server"] = r["servers/2"] / r["server/64"]
            ratios["2 servers / paper (1 thread)"] = r["servers/2"] / r["paper/1"]
        out[size] = ratios
    return out


def _print(console: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    threads = report["settings"]["threads"]
    table = Table(
        title=f"The whole reward, samples/s (1 thread: wall / CPU ms per sample), "
        f"{report['settings']['cpus']} CPUs, median of {report['settings']['rounds']} rounds",
        caption="verifier: the outcome verifier alone; server: /get_reward, one POST per "
        "sample, 64 in flight, a real rlsp-rewards serve process (paper preset)",
    )
    table.add_column("method")
    sizes = list(report["rates"])
    for size in sizes:
        table.add_column(f"{size} KB", justify="right")
    keys = sorted({k for r in report["rates"].values() for k in r}, key=_order)
    for key in keys:
        cells = []
        for size in sizes:
            rate = report["rates"][size].get(key)
            cpu = report["cpu_ms"].get(size, {}).get(key)
            if rate is None:
                cells.append("-")
            elif key.endswith("/1") and cpu is not None:
                cells.append(f"{rate:,.0f} ({1e3 / rate:.2f} / {cpu:.2f} ms)")
            else:
                cells.append(f"{rate:,.0f}")
        name, count = key.split("/")
        label = f"{name}, {count} thread{'s' if count != '1' else ''}"
        if count == "batch":
            label = f"{name}, score_batch"
        shown = {
            "server": "server, 64 in flight",
            "serial": "serve --scoring-threads 1, 64 in flight",
            "servers": "serve --processes 2, 64 in flight",
        }
        table.add_row(shown.get(name, label), *cells)
    console.print(table)
    ratios = Table(title="Ratios")
    ratios.add_column("ratio")
    for size in sizes:
        ratios.add_column(f"{size} KB", justify="right")
    names = list(next(iter(report["ratios"].values()), {}))
    for name in names:
        ratios.add_row(name, *(f"{report['ratios'][s].get(name, 0):.2f}x" for s in sizes))
    console.print(ratios)
    for size, goal in GOALS_MS.items():
        row = report["rates"].get(str(size))
        if row:
            worst = max(1e3 / row[f"{p}/1"] for p in PRESETS)
            cpu = max(report["cpu_ms"][str(size)][f"{p}/1"] for p in PRESETS)
            verdict = "met" if worst <= goal else "not met"
            console.print(
                f"goal <= {goal:g} ms per sample at {size} KB, one thread: slowest preset "
                f"{worst:.2f} ms wall, {cpu:.2f} ms CPU ({verdict} in wall time)"
            )
    for preset in PRESETS:
        row = report["rates"].get("16")
        if row:
            batch = row.get(f"{preset}/batch")
            console.print(
                f"{preset} at 16 KB: {threads} threads / 1 thread = "
                f"{row[f'{preset}/{threads}'] / row[f'{preset}/1']:.2f}x (goal >= 1.5x)"
                + (f"; score_batch / 1 thread = {batch / row[f'{preset}/1']:.2f}x" if batch else "")
            )
    row = report["rates"].get("16", {})
    if "server/64" in row:
        two = (
            f", serve --processes 2 {row['servers/2'] / row['paper/1']:.2f}x"
            if "servers/2" in row
            else ""
        )
        console.print(
            f"server at 16 KB / one in-process thread (paper): one process "
            f"{row['server/64'] / row['paper/1']:.2f}x{two} (goal >= 0.5x)"
        )
    tokens = report["tokens"]
    if tokens:
        for size, cost in tokens.items():
            if size != "tokenizer":
                console.print(
                    f"exact token count at {size} KB (~{cost['tokens']:,.0f} tokens, "
                    f"{tokens['tokenizer']}): {cost['ms_one']:.2f} ms one by one, "
                    f"{cost['ms_batched']:.2f} ms batched, per sample"
                )
    for note in report["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")


def _order(key: str) -> tuple[int, int]:
    name, count = key.split("/")
    rank = ["verifier", *PRESETS, "verl", "server", "serial", "servers"].index(name)
    return rank, 1 << 30 if count == "batch" else int(count)
