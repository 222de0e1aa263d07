"""The ``rlsp-rewards`` command line.

Each command is a thin wrapper: options here, the work in the module that owns it, imported
when the command runs so that ``rlsp-rewards --help`` stays instant.

Example:
    >>> from typer.testing import CliRunner
    >>> "demo" in CliRunner().invoke(app, ["--help"]).output
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from rlsp_rewards import __version__

app = typer.Typer(
    name="rlsp-rewards",
    help=(
        "RLSP rewards for RL post-training with verl, OpenRLHF and TRL: "
        "score, compare, report, serve, check, bench."
        "\n\n[bold]Examples[/bold] (each command has its own --help):"
        "\n\n  rlsp-rewards demo --preset guarded"
        "\n\n  rlsp-rewards score runs.jsonl -o scored.jsonl --plot run.png"
        "\n\n  rlsp-rewards score 'runs/*.jsonl' -o scored/ --ray auto"
        "\n\n  rlsp-rewards compare --shapes length,dapo_overlong,cosine,kimi"
        "\n\n  rlsp-rewards report checkpoints/rollouts -o report.html"
        "\n\n  rlsp-rewards check mypkg.rewards:my_reward --framework openrlhf"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rlsp-rewards {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """RLSP rewards for RL post-training: score, report, serve, check and benchmark."""


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0: all)."),
    port: int = typer.Option(8000, help="TCP port."),
    preset: str = typer.Option(None, help="Reward preset: paper, reference or guarded."),
    config: str = typer.Option(
        None, help="Flat settings: inline JSON or a .json/.yaml/.toml file (as RLSP_REWARD_CONFIG)."
    ),
    workers: int = typer.Option(None, help="Verification worker processes (default: all CPUs)."),
    token: str = typer.Option(
        None, envvar="RLSP_SERVER_TOKEN", help="Require this bearer token on the scoring routes."
    ),
    max_body_bytes: int = typer.Option(8 * 1024 * 1024, help="Larger request bodies get 413."),
    max_in_flight: int = typer.Option(
        4096, help="Scoring requests admitted at once; more get 503."
    ),
    batch_window_s: float = typer.Option(
        0.005, help="Score /get_reward samples arriving within this window together (0: off)."
    ),
    scoring_threads: int = typer.Option(
        None,
        min=1,
        help="Threads that score /get_reward requests (default: the CPUs, at most 4).",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    access_log: bool = typer.Option(False, help="Log every request."),
    processes: int = typer.Option(
        1,
        min=1,
        help="Servers on consecutive ports from --port, kept running (list their URLs, "
        "printed at start, in OpenRLHF's --reward.remote_url).",
    ),
) -> None:
    """Serve the reward over HTTP: OpenRLHF's /get_reward, /v1/score, /health, /metrics.

    Example: rlsp-rewards serve --preset guarded --processes 4 (one server per core or two).
    """
    from rlsp_rewards.errors import ConfigError
    from rlsp_rewards.integrations.openrlhf.server import serve as run_server
    from rlsp_rewards.integrations.openrlhf.settings import load_settings

    try:
        settings = load_settings(config or "")
        settings.update(
            {k: v for k, v in (("preset", preset), ("workers", workers)) if v is not None}
        )
        if processes > 1:
            options = ["--log-level", log_level, "--max-body-bytes", str(max_body_bytes)]
            options += ["--max-in-flight", str(max_in_flight), "--batch-window-s"]
            options += [str(batch_window_s), *(["--access-log"] if access_log else [])]
            if scoring_threads is not None:
                options += ["--scoring-threads", str(scoring_threads)]
            raise typer.Exit(_serve_fleet(processes, host, port, settings, options, token))
        run_server(
            host=host,
            port=port,
            settings=settings,
            token=token or "",
            max_body_bytes=max_body_bytes,
            max_in_flight=max_in_flight,
            batch_window_s=batch_window_s,
            scoring_threads=scoring_threads,
            log_level=log_level,
            access_log=access_log,
        )
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _serve_fleet(
    processes: int, host: str, port: int, settings: dict, options: list[str], token: str | None
) -> int:
    """``serve --processes N``: the same server N times (its settings checked here, once)."""
    import json
    import os

    from rlsp_rewards.integrations.openrlhf.adapter import OpenRLHFReward
    from rlsp_rewards.integrations.openrlhf.fleet import serve_fleet

    OpenRLHFReward.from_settings(settings)  # a bad setting fails once, here, not N times
    workers = settings.pop("workers", None)  # per server: serve_fleet gives each its share
    if token:  # to the servers through their environment, never on a command line
        os.environ["RLSP_SERVER_TOKEN"] = token

    def ready(remote_url: str) -> None:
        typer.echo(f"{processes} servers ready; OpenRLHF: --reward.remote_url {remote_url}")

    options = ["--config", json.dumps(settings), *options]
    return serve_fleet(processes, host, port, options, workers=workers, ready=ready)


@app.command("openrlhf-path")
def openrlhf_path() -> None:
    """Print the absolute path of the file to pass to OpenRLHF's --reward.remote_url."""
    from rlsp_rewards.integrations.openrlhf import adapter_file

    typer.echo(str(adapter_file()))


_PRESET_HELP = "Reward preset: paper (the paper's formula), reference (the authors' code), guarded."
_JUDGE_URL_HELP = (
    "OpenAI-compatible endpoint (e.g. http://127.0.0.1:8001/v1) of an LLM judge; "
    "turns on the judge exploration term."
)


def _fail(exc: Exception) -> typer.Exit:
    """Print a build-time error (bad setting, missing file or dependency); exit code 2."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@app.command()
def demo(
    preset: str = typer.Option("paper", help=_PRESET_HELP),
    judge_url: str = typer.Option(None, help=_JUDGE_URL_HELP),
    judge_model: str = typer.Option(None, help="The judge's model name."),
    out: Path = typer.Option(None, "--out", "-o", help="Also write the scored rows to this JSONL."),
    compare: bool = typer.Option(
        True, "--compare/--no-compare", help="Also score with all three presets side by side."
    ),
) -> None:
    """Score the shipped sample rollouts (207 responses to 41 problems) offline; show results.

    Prints accuracy, reward components, lengths, behaviours, statuses and timing.

    Then one response of each kind, and the three presets side by side.

    [bold]Example:[/bold] rlsp-rewards demo --preset guarded
    """
    from rich.console import Console

    from rlsp_rewards.cli.demo import run_demo
    from rlsp_rewards.errors import RlspRewardsError

    try:
        run_demo(Console(), preset, judge_url, judge_model, out, compare)
    except RlspRewardsError as exc:
        raise _fail(exc) from None


@app.command()
def score(
    input_path: Path = typer.Argument(
        ..., metavar="IN", help="Rollouts: a .jsonl, .jsonl.gz or .parquet file."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Scored JSONL: every input row, in order."),
    response_field: str = typer.Option("response", help="Field holding the model's response."),
    gold_field: str = typer.Option(
        "gold", help="Field holding the gold answer; dotted when nested: reward_model.ground_truth."
    ),
    prompt_field: str = typer.Option("prompt", help="Field holding the prompt (optional in rows)."),
    data_source_field: str = typer.Option(
        "data_source", help="Field naming the dataset (optional)."
    ),
    tokens_field: str = typer.Option(
        "response_tokens", help="Field with the exact response token count (optional)."
    ),
    preset: str = typer.Option("paper", help=_PRESET_HELP),
    settings: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="A reward setting, repeatable: --set C=500"
    ),
    judge_url: str = typer.Option(None, help=_JUDGE_URL_HELP),
    judge_model: str = typer.Option(None, help="The judge's model name."),
    resume: bool = typer.Option(False, help="Keep the rows already in --out; score only the rest."),
    plot: Path = typer.Option(None, help="Draw reward vs length, histograms, rates into this PNG."),
    chunk_size: int = typer.Option(512, help="Rows per batch (memory stays flat)."),
    ray_address: str = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS|auto|local",
        help="Score on Ray (pip install 'rlsp-rewards[ray]'): IN may be a folder or glob of "
        "shards, --out is a folder with one Parquet file per shard. See docs/distributed.md.",
    ),
    actors: str = typer.Option(
        None, metavar="N|MIN:MAX", help="--ray: actors (default: one per CPU, one per shard)."
    ),
) -> None:
    """Score a file of rollouts offline: scored JSONL, a summary table, optional plots.

    Large files stream in chunks; --resume goes on where an interrupted run stopped.

    Rows that cannot be scored (bad JSON, a missing field) stay in --out with line and reason.
    A truncated or damaged .jsonl.gz is read as far as it can be; exit code 2 then names where.

    [bold]Example:[/bold] rlsp-rewards score runs.jsonl -o out.jsonl --preset guarded --plot a.png
    """
    from rich.console import Console

    from rlsp_rewards.cli.runs import (
        FieldMap,
        build_reward,
        damage_error,
        parse_settings,
        score_with_progress,
    )
    from rlsp_rewards.cli.summary import summary_tables
    from rlsp_rewards.errors import RlspRewardsError

    console = Console()
    fields = FieldMap(response_field, gold_field, prompt_field, data_source_field, tokens_field)
    failed = 0
    try:
        if ray_address is not None:
            from rlsp_rewards.distributed.command import report_shards, score_on_ray

            result = score_on_ray(
                console,
                input_path,
                out,
                ray_address,
                actors,
                fields,
                preset=preset,
                settings=parse_settings(settings),
                judge_url=judge_url,
                judge_model=judge_model,
                resume=resume,
                batch_size=chunk_size,
            )
            summary = result.summary
            failed = report_shards(console, result)
        else:
            reward = build_reward(preset, parse_settings(settings), judge_url, judge_model)
            summary = score_with_progress(
                input_path,
                reward,
                console,
                label=f"scoring {input_path.name}",
                out=out,
                fields=fields,
                resume=resume,
                chunk_size=chunk_size,
            )
        for table in summary_tables(summary):
            console.print(table)
            console.print()
        if summary.skipped:
            console.print(f"[yellow]{summary.skipped} rows could not be scored[/yellow]:")
            for line, reason in summary.first_skips:
                console.print(f"  line {line}: {reason}")
        if plot is not None:
            from rlsp_rewards.cli.summary import plot_summary

            console.print(f"Plot written to {plot_summary(summary, plot, title=input_path.name)}")
        if out is not None:
            console.print(f"Scored rows written to {out}")
    except RlspRewardsError as exc:
        raise _fail(exc) from None
    if summary.damage:
        raise _fail(damage_error(input_path, summary))
    if failed:
        raise typer.Exit(1)


@app.command()
def report(
    run: Path = typer.Argument(
        ...,
        metavar="RUN",
        help="verl's trainer.rollout_data_dir ({step}.jsonl files), a folder of score outputs, "
        "or one such file.",
    ),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML page to write."),
    png: Path = typer.Option(
        None, "--png", help="Also write every figure as PNG into this folder."
    ),
    rescore: bool = typer.Option(
        False, "--rescore", help="Score every row again (rows without rlsp-rewards keys need it)."
    ),
    preset: str = typer.Option(
        None, help="--rescore: the preset (default paper); else: the one the run used, shown."
    ),
    settings: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="A reward setting, repeatable, as for --preset."
    ),
    judge_url: str = typer.Option(None, help=_JUDGE_URL_HELP),
    judge_model: str = typer.Option(None, help="The judge's model name."),
    window: int = typer.Option(5, min=2, help="Steps per window of the trend warnings."),
    max_response_tokens: int = typer.Option(
        None,
        min=1,
        help="The run's length cap (verl's data.max_response_length); default: inferred.",
    ),
    examples_at: str = typer.Option(
        None,
        "--examples-at",
        metavar="STEPS",
        help="Steps whose example responses are shown, e.g. 1,100,200 (default: first, last, "
        "and where warnings start).",
    ),
    title: str = typer.Option(None, help="The page title."),
    chunk_size: int = typer.Option(512, min=1, help="Rows per batch when re-scoring."),
) -> None:
    """The training report: one self-contained HTML page of a run's metrics over steps.

    Accuracy, reward components, length, repetition, behaviours and statuses per step (and per
    data source), a figure per metric, warnings with the steps where they start, example
    responses, the reward settings.

    Streams the rollouts (memory grows with steps, not rollouts); --png also writes the figures.

    [bold]Example:[/bold] rlsp-rewards report checkpoints/rollouts -o report.html
    """
    from rich.console import Console

    from rlsp_rewards.errors import RlspRewardsError
    from rlsp_rewards.report.build import ReportOptions, parse_steps, report_run

    console = Console()
    try:
        options = ReportOptions(
            title=title or "",
            window=window,
            max_response_tokens=max_response_tokens,
            examples_at=parse_steps(examples_at or ""),
            png_dir=png,
            chunk_size=chunk_size,
        )
        built = report_run(
            run, out, rescore, options, console, preset, settings, judge_url, judge_model
        )
    except RlspRewardsError as exc:
        raise _fail(exc) from None
    for line in built.summary_lines():
        console.print(line, highlight=False)


@app.command()
def compare(
    input_path: Path = typer.Argument(
        None, metavar="[IN]", help="Rollouts (.jsonl, .jsonl.gz, .parquet); default: the demo's."
    ),
    shapes: str = typer.Option(
        "length,dapo_overlong,cosine,kimi,shorter_better,repetition_penalty",
        help="Comma-separated shapes (also l1_exact, l1_max: they need target_tokens).",
    ),
    plot: Path = typer.Option(None, help="Draw score against length, a panel per shape (PNG)."),
    settings: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="A setting for every shape: --set max_tokens=1024"
    ),
    response_field: str = typer.Option("response", help="Field holding the model's response."),
    gold_field: str = typer.Option("gold", help="Field holding the gold answer (dotted: a.b)."),
    prompt_field: str = typer.Option(
        None, help="Field holding the prompt (groups; default prompt, problem for the demo's)."
    ),
    tokens_field: str = typer.Option("response_tokens", help="Exact token counts (optional)."),
) -> None:
    """Compare the length shapes on one rollout file: gaps, wrong-over-right, rank correlation.

    Each shape scores every response; the table gives the mean score of right and wrong
    answers, how often a wrong answer outscores a right one to the same prompt, and Spearman's
    rank correlation between the shapes.

    [bold]Example:[/bold] rlsp-rewards compare runs.jsonl --shapes length,cosine --plot s.png
    """
    from rich.console import Console

    from rlsp_rewards.cli.compare import compare_file, compare_tables, parse_shapes
    from rlsp_rewards.cli.demo import sample_rollouts_path
    from rlsp_rewards.cli.runs import FieldMap, parse_settings
    from rlsp_rewards.errors import RlspRewardsError

    console = Console()
    path = input_path or sample_rollouts_path()
    prompt = prompt_field or ("prompt" if input_path else "problem")
    fields = FieldMap(response_field, gold_field, prompt, tokens=tokens_field)
    try:
        with console.status(f"scoring {path.name} with each shape"):
            result = compare_file(path, parse_shapes(shapes), fields, parse_settings(settings))
        for table in compare_tables(result):
            console.print(table)
            console.print()
        if result.skipped:
            console.print(f"[yellow]{result.skipped} rows could not be read[/yellow]")
        if plot is not None:
            from rlsp_rewards.cli.compare import plot_comparison

            console.print(f"Plot written to {plot_comparison(result, plot, title=path.name)}")
    except RlspRewardsError as exc:
        raise _fail(exc) from None


@app.command()
def check(
    target: str = typer.Argument(
        ..., metavar="MODULE:NAME", help="The reward: mypkg.rewards:my_reward or path/file.py:name."
    ),
    framework: str = typer.Option("verl", help="Whose contract: verl, openrlhf or trl."),
    budget_s: float = typer.Option(10.0, "--budget-s", help="The most one call may take, seconds."),
    data_source: str = typer.Option(
        "math", help="The data_source verl passes (for rewards that dispatch on it)."
    ),
) -> None:
    """Check a reward function against what verl, OpenRLHF or TRL silently require.

    Calls it the framework's way on normal, empty, None, huge, unicode and junk inputs.

    Adversarial LaTeX and unparseable gold included; then from 8 threads at once; then pickled.

    Reports exceptions, varying keys, non-finite values, slow calls, async and return shape.

    Exit code: 0 passed, 1 failed, 2 could not load the reward.

    [bold]Example:[/bold] rlsp-rewards check mypkg.rewards:my_reward --framework openrlhf
    """
    from rich.console import Console

    from rlsp_rewards.errors import RlspRewardsError
    from rlsp_rewards.testing import Framework, check_reward, load_target

    try:
        reward = load_target(target)
        report = check_reward(
            reward,
            cast(Framework, framework),  # check_reward names the valid choices
            budget_s,
            name=target,
            data_source=data_source,
        )
    except RlspRewardsError as exc:
        raise _fail(exc) from None
    Console().print(report.table())
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def bench(
    files: list[Path] = typer.Argument(
        None, help="--accuracy: labelled JSONL files (default: the shipped sets)."
    ),
    samples: int = typer.Option(8192, min=1, help="Responses in the workload (16 per prompt)."),
    seed: int = typer.Option(0, help="Seed of the synthetic workload."),
    threads: int = typer.Option(8, min=1, help="Caller threads for the single-sample methods."),
    timeout_s: float = typer.Option(5.0, "--timeout-s", min=0.1, help="Our per-sample budget."),
    json_file: Path = typer.Option(None, "--json", help="Also write the results as JSON here."),
    quick: bool = typer.Option(
        False, "--quick", help="A small run (128 responses; --judge: one wave, one round)."
    ),
    judge: bool = typer.Option(False, "--judge", help="Benchmark the LLM judge client instead."),
    reward: bool = typer.Option(
        False, "--reward", help="Benchmark the whole reward (every preset, 1-64 KB) instead."
    ),
    tokenizer: str = typer.Option(None, help="--reward: the tokenizer whose counts are timed."),
    rounds: int = typer.Option(3, min=1, help="--judge, --reward: rounds, alternated."),
    count: int = typer.Option(
        None, "--count", min=1, help="--judge: judgements per round in each mode (2,048)."
    ),
    ray_address: str = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS|auto|local",
        help="Score SAMPLES rollouts locally and on this Ray cluster (docs/distributed.md).",
    ),
    shards: int = typer.Option(16, min=1, help="--ray: JSONL files the rollouts are written as."),
    data_dir: Path = typer.Option(None, help="--ray: keep the generated rollouts here."),
    accuracy: bool = typer.Option(
        False, "--accuracy", help="Accuracy per category vs plain math-verify on labelled files."
    ),
) -> None:
    """Verifier throughput vs plain math-verify and verl, as ratios, on a synthetic workload.

    --reward: the whole reward per preset at 1, 4, 16, 64 KB, 1 and 8 threads, beside the
    verifier, verl's math_verify and a real server.

    Example: [bold]rlsp-rewards bench --json bench.json[/bold] (run [bold]make bench[/bold] to
    include verl); [bold]rlsp-rewards bench --accuracy cases.jsonl[/bold] for accuracy.
    """
    if accuracy:
        _bench_accuracy(files or [], 32 if quick else None, json_file)
        return
    if judge:
        _bench_judge(1 if quick else rounds, count, quick, json_file)
        return
    if reward:
        from rlsp_rewards.bench.reward import run_reward_bench

        run_reward_bench(
            (1, 16) if quick else (1, 4, 16, 64),
            samples=64 if quick else None,
            threads=threads,
            rounds=1 if quick else rounds,
            tokenizer=tokenizer,
            json_path=json_file,
        )
        return
    if ray_address is not None:
        from rich.console import Console

        from rlsp_rewards.distributed.bench import run_ray_bench
        from rlsp_rewards.errors import RlspRewardsError

        try:
            run_ray_bench(
                128 if quick else samples,
                shards=shards,
                ray_address=ray_address,
                seed=seed,
                data_dir=data_dir,
                json_path=json_file,
                console=Console(),
            )
        except RlspRewardsError as exc:
            raise _fail(exc) from None
        return
    from rlsp_rewards.bench.throughput import run_bench

    run_bench(
        128 if quick else samples,
        seed=seed,
        threads=threads,
        timeout_s=timeout_s,
        json_path=json_file,
    )


def _bench_accuracy(files: list[Path], limit: int | None, json_file: Path | None) -> None:
    """Accuracy per category, ours and plain math-verify's, and every disagreement."""
    import json

    from rich.console import Console

    from rlsp_rewards.bench.accuracy import print_reports, report_json, run_accuracy

    for path in files:
        if not path.is_file():
            raise _fail(FileNotFoundError(f"{path}: no such labelled JSONL file"))
    try:
        reports = run_accuracy(files, limit=limit)
    except (ValueError, KeyError) as exc:
        raise _fail(
            ValueError(
                f"not a labelled JSONL file ({exc!r}): each line needs gold, "
                "response or pred, and label or expected"
            )
        ) from None
    print_reports(reports, Console())
    if json_file is not None:
        json_file.write_text(json.dumps(report_json(reports), indent=2) + "\n")


def _bench_judge(rounds: int, count: int | None, quick: bool, json_file: Path | None) -> None:
    """The judge client against bare aiohttp, alternated, in each mode; medians and the goal."""
    import dataclasses
    import json

    from rlsp_rewards.bench.judge import JUDGE_BENCH_MODES, compare_judge_clients
    from rlsp_rewards.errors import RlspRewardsError, require

    try:
        require("aiohttp", "bench")  # the client, and the baseline
    except RlspRewardsError as exc:
        raise _fail(exc) from None
    names = {"ours": "  ours:         ", "baseline": "  bare aiohttp: "}
    report = []
    for mode in JUDGE_BENCH_MODES:
        ideal = mode.in_flight / mode.latency_s
        typer.echo(f"{mode.name} ({mode.in_flight} in flight, ideal {ideal:.0f}/s):")
        both = compare_judge_clients(
            count=count or (mode.in_flight if quick else mode.count),
            in_flight=mode.in_flight,
            latency_s=mode.latency_s,
            rounds=rounds,
            on_round=lambda name, r: typer.echo(names[name] + r.summary()),
        )
        typer.echo("  " + both.verdict(goal=mode.goal))
        report.append(
            {
                "mode": mode.name,
                "ours": dataclasses.asdict(both.median(both.ours)),
                "bare_aiohttp": dataclasses.asdict(both.median(both.baseline)),
                "rounds": {
                    "ours": [dataclasses.asdict(r) for r in both.ours],
                    "bare_aiohttp": [dataclasses.asdict(r) for r in both.baseline],
                },
            }
        )
    if json_file is not None:
        json_file.write_text(json.dumps({"modes": report}, indent=2) + "\n")


def main() -> None:
    """Entry point of the ``rlsp-rewards`` console script."""
    app()
