"""`lectern monitor` as plain values: per-route traffic from the metrics table or a deployment's `/api/metrics`,
cold starts per hour, and the success rate of recent Vercel deployments.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from lectern.db.url import redacted
from lectern.metrics.counts import Series, Tally
from lectern.metrics.service import Traffic, summarize
from lectern.ops.errors import OpsError, scrub
from lectern.ops.http import TIMEOUT_SECONDS, problem_code, user_agent

if TYPE_CHECKING:
    from lectern.deploy.history import SuccessRate
    from lectern.deploy.vercel import Project, VercelClient
    from lectern.settings import Settings

METRICS_PATH = "/api/metrics"
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_SPAN = timedelta(days=3650)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_span(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d`, `2w` as a duration."""
    match = _SPAN.match(text)
    if match is None:
        raise OpsError(f"{text!r} is not a duration: use a number and s, m, h, d or w (e.g. 1h, 30m, 7d)")
    span = timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])
    if not timedelta(0) < span <= MAX_SPAN:
        raise OpsError(f"{text!r} is out of range: more than 0 s and at most {MAX_SPAN.days} days")
    return span


# --- what is shown ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """What the numbers cover: a time range of the metrics table, all recorded totals, or the span between scrapes."""

    kind: Literal["range", "totals", "scrapes"]
    until: datetime
    since: datetime | None = None

    @property
    def seconds(self) -> float | None:
        return (self.until - self.since).total_seconds() if self.since is not None else None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class RouteStats:
    """One route's traffic (or all routes', with route None) and its cold starts per hour (None without a span)."""

    traffic: Traffic
    cold_starts_per_hour: float | None

    def as_json(self) -> dict[str, Any]:
        t = self.traffic
        return {
            "route": t.route,
            "requests": t.requests,
            "latencySeconds": {"p50": t.p50_s, "p95": t.p95_s, "p99": t.p99_s, "mean": t.mean_duration_s},
            "serverErrors": t.server_errors,
            "errorRate": t.error_rate,
            "clientErrors": t.client_errors,
            "clientErrorRate": t.client_error_rate,
            "coldStarts": t.cold_starts,
            "coldStartRate": t.cold_start_rate,
            "coldStartsPerHour": self.cold_starts_per_hour,
            "meanInitSeconds": t.mean_init_s,
        }


def _stats(traffic: Traffic, seconds: float | None) -> RouteStats:
    per_hour = traffic.cold_starts * 3600 / seconds if seconds else None
    return RouteStats(traffic, per_hour)


def route_stats(
    series: Iterable[Series], seconds: float | None, route: str | None = None
) -> tuple[RouteStats, list[RouteStats]]:
    """All routes together and each route (busiest first); with `route`, only that one."""
    chosen = [s for s in series if route is None or s.route == route]
    groups: dict[str, list[Series]] = {}
    for s in chosen:
        groups.setdefault(s.route, []).append(s)
    routes = [_stats(summarize(group, name), seconds) for name, group in groups.items()]
    routes.sort(key=lambda r: (-r.traffic.requests, r.traffic.route or ""))
    return _stats(summarize(chosen), seconds), routes


@dataclass(frozen=True)
class DeploymentRate:
    """READY ÷ finished over the project's last `considered` deployments, or why it could not be read."""

    project: str
    considered: int
    rate: SuccessRate | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        counts = self.rate.as_json() if self.rate else {"ready": None, "finished": None, "rate": None}
        return {"project": self.project, "considered": self.considered, **counts, "error": self.error}


def deployment_rate(client: VercelClient, project: Project, limit: int) -> DeploymentRate:
    """The success rate over the last `limit` deployments; a Vercel failure is reported, not raised."""
    from lectern.deploy.history import success_rate
    from lectern.deploy.vercel import VercelError

    try:
        deployments = client.list_deployments(project.id, limit=limit).deployments
    except VercelError as exc:
        return DeploymentRate(project.name, 0, error=str(exc))
    return DeploymentRate(project.name, len(deployments), success_rate(deployments))


@dataclass(frozen=True)
class MonitorReport:
    """One refresh of `lectern monitor`."""

    source: Literal["database", "url"]
    location: str
    window: Window
    overall: RouteStats
    routes: list[RouteStats]
    deployments: DeploymentRate | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": {"kind": self.source, "location": self.location},
            "window": self.window.as_json(),
            "overall": self.overall.as_json(),
            "routes": [r.as_json() for r in self.routes],
            "deployments": self.deployments.as_json() if self.deployments else None,
        }


# --- where the numbers come from -------------------------------------------------------------------------------


class DatabaseSource:
    """The metrics table through a database URL: each read sums the last `span`, up to now."""

    kind: Literal["database"] = "database"

    def __init__(self, url: str, span: timedelta, settings: Settings, *, clock: Clock = utc_now) -> None:
        self._url = url
        self._span = span
        self._settings = settings
        self._clock = clock

    @property
    def location(self) -> str:
        return redacted(self._url)

    def read(self) -> tuple[list[Series], Window]:
        until = self._clock()
        since = until - self._span
        return asyncio.run(self._totals(since, until)), Window("range", until, since)

    async def _totals(self, since: datetime, until: datetime) -> list[Series]:
        from psycopg.errors import UndefinedTable
        from sqlalchemy.exc import DBAPIError

        from lectern.db.session import Database
        from lectern.metrics import repository

        database = Database(self._settings, self._url)
        try:
            async with database.read_session() as session:
                return await repository.totals(session, since, until)
        except DBAPIError as exc:
            if isinstance(exc.orig, UndefinedTable):
                raise OpsError(
                    f"{self.location} has no request_metrics table: run `lectern db upgrade` on it"
                ) from None
            reason = scrub(str(exc.orig or exc), self._url)
            raise OpsError(f"cannot read the metrics from {self.location}: {reason}") from None
        finally:
            await database.dispose()


def difference(later: Sequence[Series], earlier: Sequence[Series]) -> list[Series]:
    """What each series gained between two scrapes; a series whose counts went down restarted from zero."""
    before = {(s.route, s.method, s.status_class): s.tally for s in earlier}
    gained = []
    for s in later:
        old = before.get((s.route, s.method, s.status_class))
        now = s.tally
        if old is not None and now.requests >= old.requests and now.cold_starts >= old.cold_starts:
            now = Tally(
                requests=now.requests - old.requests,
                duration_us=max(now.duration_us - old.duration_us, 0),
                buckets=[max(a - b, 0) for a, b in zip(now.buckets, old.buckets, strict=True)],
                cold_starts=now.cold_starts - old.cold_starts,
                init_us=max(now.init_us - old.init_us, 0),
            )
        if now.requests or now.cold_starts:
            gained.append(Series(s.route, s.method, s.status_class, now))
    return gained


def fetch_exposition(base_url: str, token: str, *, bypass_secret: str | None = None) -> str:
    """GET /api/metrics with the bearer token; OpsError (one line) for anything but 200."""
    import httpx

    from lectern.deploy.smoke import BYPASS_HEADER

    url = base_url + METRICS_PATH
    headers = {"Authorization": f"Bearer {token}", "User-Agent": user_agent("monitor")}
    if bypass_secret:
        headers[BYPASS_HEADER] = bypass_secret
    try:
        response = httpx.get(url, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise OpsError(f"cannot reach {url}: {str(exc).strip() or type(exc).__name__}") from None
    if response.status_code == 200:
        return response.text
    code = problem_code(response)
    if response.status_code == 404 and code == "not_found":
        raise OpsError(f"{url} answered 404: metrics are off there; set METRICS_TOKEN on that deployment")
    if response.status_code == 401 and code is not None:
        raise OpsError(f"{url} refused the metrics token (401): METRICS_TOKEN here differs from the deployment's")
    if response.status_code in (401, 403):
        raise OpsError(
            f"{url} answered {response.status_code}: Deployment Protection is on? set VERCEL_AUTOMATION_BYPASS_SECRET"
        )
    raise OpsError(f"{url} answered {response.status_code}")


class UrlSource:
    """A deployment's `/api/metrics`: the first read gives the totals, later ones what changed since the first."""

    kind: Literal["url"] = "url"

    def __init__(self, base_url: str, token: str, *, bypass_secret: str | None = None, clock: Clock = utc_now) -> None:
        self._base_url = base_url
        self._token = token
        self._bypass_secret = bypass_secret
        self._clock = clock
        self._first: tuple[list[Series], datetime] | None = None

    @property
    def location(self) -> str:
        return self._base_url + METRICS_PATH

    def read(self) -> tuple[list[Series], Window]:
        from lectern.ops.exposition import ExpositionError, parse_exposition

        text = fetch_exposition(self._base_url, self._token, bypass_secret=self._bypass_secret)
        try:
            series = parse_exposition(text)
        except ExpositionError as exc:
            raise OpsError(f"{self.location} is not Lectern's metrics: {exc}") from None
        now = self._clock()
        if self._first is None:
            self._first = (series, now)
            return series, Window("totals", now)
        first, started = self._first
        return difference(series, first), Window("scrapes", now, started)


@dataclass
class Monitor:
    """Reads one source and, when a Vercel project is linked, its deployment success rate, refresh after refresh."""

    source: DatabaseSource | UrlSource
    route: str | None = None
    deployments: Callable[[], DeploymentRate] | None = None
    sleep: Callable[[float], None] = field(default=time.sleep)

    def report(self) -> MonitorReport:
        series, window = self.source.read()
        overall, routes = route_stats(series, window.seconds, self.route)
        rate = self.deployments() if self.deployments else None
        return MonitorReport(self.source.kind, self.source.location, window, overall, routes, rate)

    def reports(self, *, interval: float, count: int | None = None) -> Iterator[MonitorReport]:
        """A report now, then one every `interval` seconds: `count` in all, or until interrupted."""
        shown = 0
        while True:
            yield self.report()
            shown += 1
            if count is not None and shown >= count:
                return
            self.sleep(interval)
