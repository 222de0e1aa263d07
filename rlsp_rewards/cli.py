"""The ``rlsp-rewards`` command line.

Each command is a thin wrapper: options here, the work in the module that owns it, imported
when the command runs so that ``rlsp-rewards --help`` stays instant.

Example:
    >>> from typer.testing import CliRunner
    >>> "demo" in CliRunner().invoke(app, ["--help"]).output
    True
"""

from __future__ import annotations

import typer

from . import __version__

app = typer.Typer(
    name="rlsp-rewards",
    help="RLSP rewards for RL post-training: score, serve, check and benchmark.",
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
    max_in_flight: int = typer.Option(512, help="Scoring requests admitted at once; more get 503."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    access_log: bool = typer.Option(False, help="Log every request."),
) -> None:
    """Serve the reward over HTTP: OpenRLHF's /get_reward, /v1/score, /health, /metrics."""
    from .errors import ConfigError
    from .integrations.openrlhf.settings import load_settings
    from .server import serve as run_server

    try:
        settings = load_settings(config or "")
        settings.update({k: v for k, v in (("preset", preset), ("workers", workers)) if v is not None})
        run_server(
            host=host, port=port, settings=settings, token=token or "",
            max_body_bytes=max_body_bytes, max_in_flight=max_in_flight,
            log_level=log_level, access_log=access_log,
        )
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("openrlhf-path")
def openrlhf_path() -> None:
    """Print the absolute path of the file to pass to OpenRLHF's --reward.remote_url."""
    from .integrations.openrlhf import adapter_file

    typer.echo(str(adapter_file()))


def main() -> None:
    """Entry point of the ``rlsp-rewards`` console script."""
    app()
