"""Reading the metrics: the Prometheus text, per-route traffic for `lectern monitor`, and the scrape token check."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lectern.db.session import Database
from lectern.metrics import prometheus, repository
from lectern.metrics.counts import MICROS, Series, Tally
from lectern.metrics.histogram import quantile


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison that does not reveal the expected token's length either."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


async def prometheus_text(database: Database) -> str:
    """The exposition of everything recorded, every instance summed."""
    async with database.read_session() as session:
        series = await repository.totals(session)
    return prometheus.render(series)


@dataclass(frozen=True)
class Traffic:
    """What one endpoint (or all of them, with route and method None) served in a time range."""

    route: str | None
    method: str | None
    requests: int
    server_errors: int
    client_errors: int
    cold_starts: int
    mean_duration_s: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    mean_init_s: float | None

    @property
    def error_rate(self) -> float:
        """Share of requests answered 5xx (OpenTelemetry: 4xx are not server errors)."""
        return self.server_errors / self.requests if self.requests else 0.0

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.requests if self.requests else 0.0

    @property
    def cold_start_rate(self) -> float:
        """Share of requests that were an instance's first."""
        return self.cold_starts / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class TrafficReport:
    overall: Traffic
    endpoints: list[Traffic]  # busiest first


def summarize(series: Iterable[Series], route: str | None = None, method: str | None = None) -> Traffic:
    """Add series up; percentiles interpolated linearly within their histogram bucket."""
    total = Tally()
    server_errors = client_errors = 0
    for s in series:
        total.merge(s.tally)
        server_errors += s.tally.requests if s.status_class == 5 else 0
        client_errors += s.tally.requests if s.status_class == 4 else 0
    n = total.requests
    return Traffic(
        route=route,
        method=method,
        requests=n,
        server_errors=server_errors,
        client_errors=client_errors,
        cold_starts=total.cold_starts,
        mean_duration_s=total.duration_us / MICROS / n if n else None,
        p50_s=quantile(0.5, total.buckets),
        p95_s=quantile(0.95, total.buckets),
        p99_s=quantile(0.99, total.buckets),
        mean_init_s=total.init_us / MICROS / total.cold_starts if total.cold_starts else None,
    )


def report(series: list[Series]) -> TrafficReport:
    """Per endpoint (route and method) and overall."""
    by_endpoint: dict[tuple[str, str], list[Series]] = {}
    for s in series:
        by_endpoint.setdefault((s.route, s.method), []).append(s)
    endpoints = [summarize(group, route, method) for (route, method), group in by_endpoint.items()]
    endpoints.sort(key=lambda t: (-t.requests, t.route or "", t.method or ""))
    return TrafficReport(overall=summarize(series), endpoints=endpoints)


async def traffic(database: Database, since: datetime, until: datetime) -> TrafficReport:
    """Requests, latency percentiles, error and cold-start rates per endpoint and overall, for [since, until)."""
    async with database.read_session() as session:
        series = await repository.totals(session, since, until)
    return report(series)
