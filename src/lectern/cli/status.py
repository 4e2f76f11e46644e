"""`lectern status` (production, recent deployments, success rate, live health) and `lectern rollback`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lectern.cli.common import CommandError, console, err_console
from lectern.cli.deploy import bypass_secret, health_line
from lectern.cli.vercel_options import ApiOption, ScopeOption, TokenOption, YesOption, confirm, linked_project

if TYPE_CHECKING:
    from lectern.deploy.history import StatusReport

STATE_STYLE = {"READY": "green", "ERROR": "red", "CANCELED": "dim"}


def age(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `4 d 2 h`."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def _print_status(report: StatusReport) -> None:
    from lectern.deploy.smoke import base_url

    data = report.as_json()
    production = data["production"]
    if production is None:
        console.print(f"{report.project.name}: no production deployment yet.", highlight=False)
    else:
        console.print(
            f"Production of {report.project.name}: {production['id']}  {production['state']}  {production['url']}"
            f"  ({age(production['ageSeconds'] or 0)} old)",
            highlight=False,
        )
    if report.health is not None:
        verdict = "[green]healthy[/green]" if report.health.ok else "[red]failing[/red]"
        console.print(f"Health now: {verdict}  {health_line(report.health)}", highlight=False)
    table = Table(title=f"Last {len(report.deployments)} deployments", title_justify="left")
    for column in ("ID", "state", "environment", "age", "URL"):
        table.add_column(column)
    for item, deployment in zip(data["deployments"], report.deployments, strict=True):
        style = STATE_STYLE.get(deployment.state, "yellow")
        mark = " *" if deployment.id == report.production.deployment_id else ""
        table.add_row(
            deployment.id + mark,
            f"[{style}]{deployment.state}[/{style}]",
            item["target"],
            age(item["ageSeconds"]),
            base_url(deployment.url) if deployment.url else "",
        )
    console.print(table)
    rate = report.rate
    share = f"{rate.rate:.1%}" if rate.rate is not None else "n/a"
    console.print(f"Success rate: {share} ({rate.ready} READY of {rate.finished} finished)", highlight=False)


def status(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many recent deployments.")] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Production (id, URL, age, state), the last deployments, their success rate, and production's health now."""
    from lectern.deploy.history import read_status

    with linked_project(token, scope, api) as (client, project):
        report = read_status(client, project, limit=limit, bypass_secret=bypass_secret())
    if json_output:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_status(report)
    if report.health is not None and not report.health.ok:
        raise CommandError(f"production fails its health check: {report.health.problem}")


def rollback(
    deployment_id: Annotated[
        str | None,
        typer.Argument(help="Deployment to roll back to (default: the previous production one).", show_default=False),
    ] = None,
    yes: YesOption = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Longest wait, in seconds, for production to move.")
    ] = 180.0,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Instant rollback of production to an earlier deployment (no rebuild), then a health check."""
    from lectern.deploy.errors import DeployError
    from lectern.deploy.history import perform_rollback, plan_rollback
    from lectern.deploy.smoke import base_url

    with linked_project(token, scope, api) as (client, project):
        try:
            plan = plan_rollback(client, project.id, deployment_id)
            console.print(
                f"Production of {project.name} serves {plan.current.deployment_id}; rolling back to"
                f" {plan.target.id} ({base_url(plan.target.url)}).",
                highlight=False,
            )
            if plan.changed_variables:
                err_console.print(
                    "[yellow]note:[/yellow] it keeps the variables it was built with; changed since: "
                    + ", ".join(plan.changed_variables),
                    highlight=False,
                )
            confirm(f"Roll production of {project.name} back to {plan.target.id}?", yes=yes)
            outcome = perform_rollback(client, project.id, plan, timeout=timeout, bypass_secret=bypass_secret())
        except DeployError as exc:
            raise CommandError(str(exc)) from None
    serving = outcome.production.deployment_id
    console.print(f"Production serves {serving}: {health_line(outcome.health)}", highlight=False)
    if not outcome.health.ok:
        raise CommandError(
            f"rolled back to {plan.target.id}, but production fails its health check: {outcome.health.problem}"
        )
    console.print(f"[green]Rolled back[/green] to {plan.target.id}; production is healthy.", highlight=False)
