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


def main() -> None:
    """Entry point of the ``rlsp-rewards`` console script."""
    app()
