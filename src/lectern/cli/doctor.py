"""`lectern doctor`: deployment, cold start, database and CORS checks, each pass, warn or fail with a fix.

Exit 1 when any check fails. Values read from Vercel stay in memory; the output names variables, never values.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli import vercel_options
from lectern.cli.common import CommandError, console, load_dotenv
from lectern.cli.deploy import CHECK_STYLE, bypass_secret
from lectern.cli.monitor import ops_errors
from lectern.cli.vercel_options import ApiOption, ScopeOption, Target, TargetOption, TokenOption

if TYPE_CHECKING:
    from lectern.ops.doctor.report import CheckReport

INDENT = " " * 22


def print_report(report: CheckReport) -> None:
    """Status, name and summary, then details and fixes."""
    style = CHECK_STYLE[report.status]
    console.print(
        f"  [{style}]{report.status:<4}[/{style}]  {report.name:<12}  {report.summary}", highlight=False, soft_wrap=True
    )
    for line in report.details:
        console.print(INDENT + line, style="dim", highlight=False, markup=False, soft_wrap=True)
    for line in report.fixes:
        console.print(INDENT + "fix: " + line, highlight=False, markup=False, soft_wrap=True)


def doctor(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The deployment's base URL, for the CORS check (default: the target's address on Vercel).",
            show_default=False,
        ),
    ] = None,
    target: TargetOption = Target.production,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Diagnose a deployment: its build, cold start, database and CORS; exit 1 when a check fails."""
    from lectern.ops.doctor.diagnose import DoctorOptions, diagnose
    from lectern.ops.http import deployment_url
    from lectern.ops.linked import linked_project

    load_dotenv()
    with ops_errors():
        options = DoctorOptions(target.value, Path.cwd(), deployment_url(url) if url else None, bypass_secret())
    link = linked_project(os.environ, Path.cwd(), token=token, scope=scope, api=api, retry=vercel_options.retry_policy)
    with link as linked:
        if not json_output:
            project = f" of {linked.project.name}" if linked.project else ""
            console.print(f"Doctor for {target.value}{project}", highlight=False)
        report = diagnose(options, os.environ, linked, on_check=None if json_output else print_report)
    if json_output:
        typer.echo(json.dumps(report.as_json(), indent=2))
    if not report.ok:
        raise CommandError(f"{len(report.failed)} of {len(report.checks)} checks failed: {', '.join(report.failed)}")
    warned = [c.name for c in report.checks if c.status == "warn"]
    if not json_output:
        verdict = f"No check failed; warnings: {', '.join(warned)}" if warned else "Every check passed"
        console.print(verdict, highlight=False)
