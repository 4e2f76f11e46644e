"""`lectern monitor`: per route and overall, requests, p50/p95/p99, error and cold-start rates, and the success
rate of recent Vercel deployments. A table, or --json; --watch refreshes until Ctrl-C.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli import vercel_options
from lectern.cli.common import CommandError, console, err_console, load_dotenv
from lectern.cli.status import age
from lectern.cli.vercel_options import ApiOption, ScopeOption, TokenOption

if TYPE_CHECKING:
    from rich.table import Table

    from lectern.ops.linked import Linked
    from lectern.ops.monitor import DatabaseSource, DeploymentRate, MonitorReport, RouteStats, UrlSource, Window


@contextmanager
def ops_errors() -> Iterator[None]:
    """The operations commands' failures as our one-line CommandError."""
    from lectern.ops.errors import OpsError

    try:
        yield
    except OpsError as exc:
        raise CommandError(str(exc)) from None


def _span_text(seconds: float) -> str:
    whole = int(seconds)
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size} {unit}"
    return age(seconds)


def window_text(window: Window) -> str:
    if window.kind == "totals":
        return "since the first recorded request"
    seconds = window.seconds or 0.0
    if window.kind == "scrapes":
        return f"in the {age(seconds)} since the first refresh"
    return f"over the last {_span_text(seconds)}"


def _latency(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


def _row(stats: RouteStats, name: str) -> list[str]:
    t = stats.traffic
    per_hour = f"{stats.cold_starts_per_hour:.1f}" if stats.cold_starts_per_hour is not None else "n/a"
    return [
        name,
        str(t.requests),
        _latency(t.p50_s),
        _latency(t.p95_s),
        _latency(t.p99_s),
        f"{t.error_rate:.1%}",
        str(t.cold_starts),
        f"{t.cold_start_rate:.1%}",
        per_hour,
    ]


def render(report: MonitorReport) -> Table:
    """The report as one table, with its source and the deployments' success rate as caption."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"Traffic {window_text(report.window)}", title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("Route", overflow="fold", min_width=10)  # long templates fold; the numbers never do
    # Short headings, so that the table fits an 80-column terminal.
    for column in ("Req", "p50", "p95", "p99", "5xx", "Cold", "Cold %", "Cold/h"):
        table.add_column(column, justify="right", no_wrap=True)
    for stats in report.routes:
        table.add_row(*_row(stats, stats.traffic.route or ""))
    table.add_section()
    table.add_row(*_row(report.overall, "all routes"), style="bold")
    lines = [f"from {report.location}"]
    if not report.overall.traffic.requests:
        lines.insert(0, "No requests recorded in this window.")
    rate = report.deployments
    if rate is not None and rate.rate is not None:
        share = f"{rate.rate.rate:.1%}" if rate.rate.rate is not None else "n/a"
        lines.append(
            f"Deployments of {rate.project}: {share} READY ({rate.rate.ready} of {rate.rate.finished} finished,"
            f" last {rate.considered})"
        )
    elif rate is not None:
        lines.append(f"Deployments: not read ({rate.error})")
    table.caption = "\n".join(lines)
    return table


def _source(url: str | None, database_url: str | None, since: str | None) -> DatabaseSource | UrlSource:
    from lectern.cli.deploy import bypass_secret
    from lectern.ops.http import deployment_url
    from lectern.ops.monitor import DatabaseSource, UrlSource, parse_span

    if url is not None:
        if database_url is not None:
            raise CommandError("give --url or --database-url, not both")
        if since is not None:
            raise CommandError(
                "--since needs a database (--database-url or DATABASE_URL): /api/metrics serves totals since the"
                " first recorded request; --watch shows what changes between refreshes"
            )
        token = os.environ.get("METRICS_TOKEN")
        if not token:
            raise CommandError(
                "reading --url needs the deployment's metrics token: set METRICS_TOKEN (or put it in .env)"
            )
        return UrlSource(deployment_url(url), token, bypass_secret=bypass_secret())
    from lectern.db.session import resolve_url
    from lectern.db.url import sqlalchemy_url
    from lectern.settings import get_settings

    span = parse_span(since or "1h")
    settings = get_settings()
    if database_url is None and settings.embedded_database:
        err_console.print("[dim]DATABASE_URL is not set: reading the embedded PostgreSQL…[/dim]")
    return DatabaseSource(sqlalchemy_url(database_url) if database_url else resolve_url(settings), span, settings)


def monitor(
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="A deployment's base URL: read its /api/metrics (needs METRICS_TOKEN).", show_default=False
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Read the metrics table of this database (default: DATABASE_URL).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="How far back, e.g. 30m, 1h, 7d (with a database; default 1h).")
    ] = None,
    route: Annotated[
        str | None, typer.Option("--route", help="Only this route template, e.g. /api/chat.", show_default=False)
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (with --watch, one object per line).")
    ] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every --interval seconds until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between refreshes.")] = 5.0,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after this many refreshes.", show_default=False)
    ] = None,
    deployments: Annotated[
        int, typer.Option("--deployments", min=1, max=100, help="Recent Vercel deployments the success rate covers.")
    ] = 20,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Requests, latency percentiles, error rate and cold starts per route, and the deployment success rate."""
    from lectern.ops.linked import linked_project
    from lectern.ops.monitor import Monitor

    load_dotenv()
    with ops_errors():
        source = _source(url, database_url, since)
        link = linked_project(
            os.environ, Path.cwd(), token=token, scope=scope, api=api, retry=vercel_options.retry_policy
        )
        with link as linked:
            reports = Monitor(source, route, _deployments(linked, deployments)).reports(
                interval=interval, count=count or (None if watch else 1)
            )
            with suppress(KeyboardInterrupt):  # how a watch ends
                _show(reports, json_output=json_output, watch=watch)


def _deployments(linked: Linked, limit: int) -> Callable[[], DeploymentRate] | None:
    """How each refresh reads the success rate: from the linked project, or the reason it cannot."""
    from lectern.ops.monitor import DeploymentRate, deployment_rate

    if linked.client is not None and linked.project is not None:
        return partial(deployment_rate, linked.client, linked.project, limit)
    if linked.problem is not None:
        return partial(DeploymentRate, "", 0, error=linked.problem)
    return None


def _show(reports: Iterator[MonitorReport], *, json_output: bool, watch: bool) -> None:
    if json_output:
        for report in reports:
            typer.echo(
                json.dumps(report.as_json(), separators=(",", ":")) if watch else json.dumps(report.as_json(), indent=2)
            )
        return
    if not (watch and console.is_terminal):
        for report in reports:
            console.print(render(report))
        return
    from rich.live import Live

    with Live(console=console, auto_refresh=False) as screen:
        for report in reports:
            screen.update(render(report), refresh=True)
