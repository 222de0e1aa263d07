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
        "RLSP rewards for RL post-training with verl and OpenRLHF: score, serve, check, bench."
        "\n\n[bold]Examples[/bold] (each command has its own --help):"
        "\n\n  rlsp-rewards demo --preset guarded"
        "\n\n  rlsp-rewards score runs.jsonl -o scored.jsonl --plot run.png"
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
    """RLSP rewards for RL post-training: score, serve, check and benchmark."""


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
    log_level: str = typer.Option("info", help="uvicorn log level."),
    access_log: bool = typer.Option(False, help="Log every request."),
) -> None:
    """Serve the reward over HTTP: OpenRLHF's /get_reward, /v1/score, /health, /metrics."""
    from rlsp_rewards.errors import ConfigError
    from rlsp_rewards.integrations.openrlhf.server import serve as run_server
    from rlsp_rewards.integrations.openrlhf.settings import load_settings

    try:
        settings = load_settings(config or "")
        settings.update(
            {k: v for k, v in (("preset", preset), ("workers", workers)) if v is not None}
        )
        run_server(
            host=host,
            port=port,
            settings=settings,
            token=token or "",
            max_body_bytes=max_body_bytes,
            max_in_flight=max_in_flight,
            batch_window_s=batch_window_s,
            log_level=log_level,
            access_log=access_log,
        )
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


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
) -> None:
    """Score a file of rollouts offline: scored JSONL, a summary table, optional plots.

    Large files stream in chunks; --resume goes on where an interrupted run stopped.

    Rows that cannot be scored (bad JSON, a missing field) stay in --out with line and reason.

    [bold]Example:[/bold] rlsp-rewards score runs.jsonl -o out.jsonl --preset guarded --plot a.png
    """
    from rich.console import Console

    from rlsp_rewards.cli.runs import FieldMap, build_reward, parse_settings, score_with_progress
    from rlsp_rewards.cli.summary import summary_tables
    from rlsp_rewards.errors import RlspRewardsError

    console = Console()
    fields = FieldMap(response_field, gold_field, prompt_field, data_source_field, tokens_field)
    try:
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
    samples: int = typer.Option(8192, min=1, help="Responses in the workload (16 per prompt)."),
    seed: int = typer.Option(0, help="Seed of the synthetic workload."),
    threads: int = typer.Option(8, min=1, help="Caller threads for the single-sample methods."),
    timeout_s: float = typer.Option(5.0, "--timeout-s", min=0.1, help="Our per-sample budget."),
    json_file: Path = typer.Option(None, "--json", help="Also write the results as JSON here."),
    quick: bool = typer.Option(False, "--quick", help="A small run (128 responses) for tests."),
    judge: bool = typer.Option(False, "--judge", help="Benchmark the LLM judge client instead."),
    rounds: int = typer.Option(3, min=1, help="--judge: rounds of each client, alternated."),
) -> None:
    """Verifier throughput vs plain math-verify and verl, as ratios, on a synthetic workload.

    Example: [bold]rlsp-rewards bench --json bench.json[/bold] (run [bold]make bench[/bold] to
    include verl).
    """
    if judge:
        _bench_judge(1 if quick else rounds, 200 if quick else 2000, json_file)
        return
    from rlsp_rewards.bench.throughput import run_bench

    run_bench(
        128 if quick else samples,
        seed=seed,
        threads=threads,
        timeout_s=timeout_s,
        json_path=json_file,
    )


def _bench_judge(rounds: int, count: int, json_file: Path | None) -> None:
    """The judge client against bare aiohttp, alternated; medians and their ratios."""
    import dataclasses
    import json

    from rlsp_rewards.bench.judge import JudgeBenchComparison, compare_judge_clients
    from rlsp_rewards.errors import RlspRewardsError, require

    try:
        require("httptools", "bench")
        require("aiohttp", "bench")  # the baseline
    except RlspRewardsError as exc:
        raise _fail(exc) from None
    names = {"ours": "ours:         ", "baseline": "bare aiohttp: "}
    both = compare_judge_clients(
        count=count, rounds=rounds, on_round=lambda name, r: typer.echo(names[name] + r.summary())
    )
    ours, floor = JudgeBenchComparison.median(both.ours), JudgeBenchComparison.median(both.baseline)
    typer.echo(
        f"median of {rounds} round(s): ours {ours.fraction_of_ideal:.0%} of ideal, "
        f"bare aiohttp {floor.fraction_of_ideal:.0%}; ours / bare aiohttp: "
        f"{ours.requests_per_s / floor.requests_per_s:.2f}x its rate, "
        f"{ours.cpu_ms_per_request / floor.cpu_ms_per_request:.2f}x its CPU per request"
    )
    if json_file is not None:
        report = {
            "ours": dataclasses.asdict(ours),
            "bare_aiohttp": dataclasses.asdict(floor),
            "rounds": {
                "ours": [dataclasses.asdict(r) for r in both.ours],
                "bare_aiohttp": [dataclasses.asdict(r) for r in both.baseline],
            },
        }
        json_file.write_text(json.dumps(report, indent=2) + "\n")


def main() -> None:
    """Entry point of the ``rlsp-rewards`` console script."""
    app()
