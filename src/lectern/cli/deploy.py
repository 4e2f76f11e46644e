"""`lectern deploy`: preflight, upload, build and smoke test; with --prod, promote, verify and roll back if needed.

Live progress (upload bar, build status line) goes to stderr; the summary, or with --json one object, to stdout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from lectern.cli.common import CommandError, console, err_console
from lectern.cli.vercel_options import ApiOption, ScopeOption, TokenOption, YesOption, confirm, linked_project
from lectern.deploy.events import DeployEvents

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.status import Status

    from lectern.deploy.pipeline import DeployReport
    from lectern.deploy.preflight import CheckResult
    from lectern.deploy.smoke import HealthReport

CHECK_STYLE = {"pass": "green", "warn": "yellow", "fail": "red"}
WAITING = {
    "smoke": "Smoke test of the new deployment…",
    "promote": "Promoting to production…",
    "verify": "Checking production…",
    "rollback": "Rolling back…",
}


def bypass_secret() -> str | None:
    """Vercel's Protection Bypass for Automation secret, for health checks behind Deployment Protection."""
    return os.environ.get("VERCEL_AUTOMATION_BYPASS_SECRET") or None


def print_check(out: Console, result: CheckResult) -> None:
    """One check: status, name and summary, then its details."""
    style = CHECK_STYLE[result.status]
    out.print(
        f"  [{style}]{result.status:<4}[/{style}]  {result.name:<12}  {result.summary}", highlight=False, soft_wrap=True
    )
    for line in result.details:
        out.print(f"{' ' * 22}{line}", style="dim", highlight=False, markup=False, soft_wrap=True)


def health_line(report: HealthReport) -> str:
    """`/api/health 200, /api/health/ready 503 (database: …)`."""
    return ", ".join(f"{e.path} {e.detail.removeprefix('answered ')}" for e in report.endpoints)


class ConsoleEvents(DeployEvents):
    """The pipeline's progress on a terminal: check lines, an upload bar, a build status line."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.live = err_console.is_terminal
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.status: Status | None = None
        self.last_state = ""

    def phase(self, name: str) -> None:
        self.stop()
        if name == "preflight":
            self.out.print("Preflight checks")
        elif name in WAITING and self.live:
            self.status = err_console.status(WAITING[name])
            self.status.start()

    def check(self, result: CheckResult) -> None:
        print_check(self.out, result)

    def upload_started(self, files: int, size: int) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        from lectern.deploy.preflight import megabytes

        self.stop()
        if not self.live:
            err_console.print(f"Uploading {files} files ({megabytes(size)})…", highlight=False)
            return
        self.progress = Progress(
            TextColumn(f"Uploading {files} files"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        self.task = self.progress.add_task("upload", total=size)
        self.progress.start()

    def uploaded(self, size: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, size)

    def build_state(self, deployment_id: str, state: str, seconds: float) -> None:
        text = f"Building {deployment_id}: {state} ({seconds:.0f} s)"
        if self.live:
            if self.status is None:
                self.status = err_console.status(text)
                self.status.start()
            self.status.update(text)
        elif state != self.last_state:
            err_console.print(f"{deployment_id}: {state}", highlight=False)
        self.last_state = state

    def note(self, text: str) -> None:
        self.stop()
        err_console.print(f"[yellow]{text}[/yellow]", highlight=False)

    def stop(self) -> None:
        """End the live upload bar or status line."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.status is not None:
            self.status.stop()
            self.status = None


def print_summary(report: DeployReport) -> None:
    """The deploy in a few lines: deployment, smoke test, production, files, phases and checks."""
    from lectern.deploy.preflight import megabytes

    deployment = report.deployment
    if report.build_log:
        console.print("Build log, error lines:", style="red")
        for line in report.build_log:
            console.print(f"  {line}", highlight=False, markup=False)
    if deployment is not None:
        console.print(f"Deployment {deployment.id}  {deployment.state}  {report.url}", highlight=False)
    if report.smoke is not None:
        console.print(f"Smoke test: {health_line(report.smoke)}", highlight=False)
    if report.production_health is not None:
        was = f" (before: {report.previous_production})" if report.previous_production else ""
        verdict = "healthy" if report.production_health.ok else health_line(report.production_health)
        console.print(f"Production: {report.production_health.url}, {verdict}{was}", highlight=False)
    if report.rolled_back_to is not None and report.health_after_rollback is not None:
        after = "healthy" if report.health_after_rollback.ok else health_line(report.health_after_rollback)
        console.print(f"[yellow]Rolled back to {report.rolled_back_to}[/yellow]: {after}", highlight=False)
    if report.files_total:
        console.print(
            f"Files: {report.files_total} ({report.files_distinct} distinct), {report.files_uploaded} uploaded"
            f" ({megabytes(report.bytes_uploaded)})",
            highlight=False,
        )
    if report.phases:
        console.print("Phases: " + " · ".join(f"{k} {v:.2f} s" for k, v in report.phases.items()), highlight=False)
    if report.checks:
        counts = {s: sum(1 for c in report.checks if c.status == s) for s in ("pass", "warn", "fail")}
        console.print("Checks: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n), highlight=False)


def deploy(
    prod: Annotated[bool, typer.Option("--prod", help="Deploy to production (promoted after the smoke test).")] = False,
    yes: YesOption = False,
    skip_checks: Annotated[bool, typer.Option("--skip-checks", help="Deploy without the preflight checks.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Longest wait, in seconds, for the build and each promotion.")
    ] = 600.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Deploy this folder to Vercel: preflight, upload what Vercel lacks, build, smoke test; --prod promotes it."""
    from lectern.deploy.pipeline import DeployOptions, run_deploy

    options = DeployOptions(
        root=Path.cwd(), production=prod, skip_checks=skip_checks, timeout=timeout, bypass_secret=bypass_secret()
    )
    events = ConsoleEvents(err_console if json_output else console)

    def ask(question: str) -> bool:
        events.stop()
        confirm(question, yes=yes)
        return True

    try:
        with linked_project(token, scope, api) as (client, project):
            report = run_deploy(client, project, options, events, confirm=ask)
    finally:
        events.stop()
    if json_output:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        print_summary(report)
    if report.error is not None:
        raise CommandError(report.error)
