"""The `lectern` command: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from lectern import __version__
from lectern.cli import (
    ask,
    db,
    deploy,
    dev,
    doctor,
    env,
    generate,
    ingest,
    init,
    monitor,
    reembed,
    search,
    serve,
    status,
)
from lectern.cli.common import run_command

app = typer.Typer(
    name="lectern",
    help="The backend for AI-native textbooks: serve, migrate, check the environment contract.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(env.app, name="env")
app.command("ingest")(ingest.ingest)
app.command("reembed")(reembed.reembed)
app.command("search")(search.search)
app.command("ask")(ask.ask)
app.command("generate")(generate.generate)
app.command("init")(init.init)
app.command("deploy")(deploy.deploy)
app.command("status")(status.status)
app.command("rollback")(status.rollback)
app.command("monitor")(monitor.monitor)
app.command("doctor")(doctor.doctor)
app.add_typer(dev.app, name="dev")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lectern {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Lectern: accounts, profiles, grounded chat and operations for a Docusaurus book."""


def main() -> None:
    run_command(app)
