"""`lectern dev …`: local stand-ins for developing and trying the deploy commands."""

from __future__ import annotations

from typing import Annotated

import typer

from lectern.cli.common import CommandError, console

app = typer.Typer(help="Local stand-ins: the Vercel API emulator.", no_args_is_help=True)


@app.command("vercel-emulator")
def vercel_emulator(
    host: Annotated[str, typer.Option(help="Loopback interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3939,
    deployment_host: Annotated[
        str,
        typer.Option(
            "--deployment-host",
            help="HOST:PORT deployments and the production domain point at (a local `lectern serve`);"
            " empty for Vercel-style hostnames.",
        ),
    ] = "127.0.0.1:8000",
) -> None:
    """Serve the Vercel API emulator (in memory, loopback only) until interrupted."""
    from lectern.deploy.emulator import DEFAULT_TEAM_ID, DEFAULT_TOKEN, run_emulator, seeded_state

    state = seeded_state()
    if deployment_host:
        state.set_deployment_host(deployment_host)
        for project in state.projects.values():
            project.domains = [deployment_host]
    project_ids = ", ".join(state.projects)
    console.print(
        f"Vercel API emulator on http://{host}:{port}  token {DEFAULT_TOKEN}, team {DEFAULT_TEAM_ID},"
        f" project {project_ids}" + (f"; deployments point at {deployment_host}" if deployment_host else ""),
        highlight=False,
    )
    try:
        run_emulator(host=host, port=port, state=state)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
