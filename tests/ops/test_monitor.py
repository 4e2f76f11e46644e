"""`lectern monitor`'s numbers: from the metrics table (time ranges) and from a deployment's /api/metrics
(totals, then what changed between refreshes), grouped per route, with cold starts per hour.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lectern.app import create_app
from lectern.metrics.counts import Series, Tally
from lectern.metrics.histogram import bucket_index
from lectern.metrics.recorder import MetricsRecorder
from lectern.ops.errors import OpsError
from lectern.ops.monitor import DatabaseSource, UrlSource, difference, parse_span, route_stats
from lectern.settings import Settings
from tests.conftest import JWT_SECRET
from tests.deploy.servers import serve_asgi
from tests.metrics.conftest import clock, database, recorder
from tests.metrics.support import Clock, request

__all__ = ["clock", "database", "recorder"]

TOKEN = "metrics-token-" + "7e" * 12


def at(clock: Clock) -> datetime:
    """The clock's wall time as a datetime: DatabaseSource reads up to it."""
    return datetime.fromtimestamp(clock.wall, UTC) + timedelta(seconds=30)


def known_latencies(count: int = 2_000) -> list[float]:
    rng = random.Random(20261126)
    return [rng.lognormvariate(math.log(0.09), 0.8) for _ in range(count)]


def true_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]


async def seed(recorder: MetricsRecorder, durations: list[float]) -> None:
    """`durations` on GET /api/chapters/{chapter_id}, plus a small mixed route with cold starts and errors."""
    for d in durations:
        recorder.record(request(d, route="/api/chapters/{chapter_id}"))
    recorder.record(request(0.02, route="/api/profile", cold_start=True, init_duration_s=0.8))
    recorder.record(request(0.03, route="/api/profile", method="PUT", status=500))
    recorder.record(request(0.03, route="/api/profile", status=401))
    recorder.record(request(0.01, route="/api/profile", cold_start=True, init_duration_s=0.4))
    await recorder.flush()


async def test_p95_from_the_metrics_table_is_within_one_bucket(
    recorder: MetricsRecorder, make_settings: Any, database_url: str, clock: Clock
) -> None:
    durations = known_latencies()
    await seed(recorder, durations)
    source = DatabaseSource(database_url, timedelta(hours=2), make_settings(), clock=lambda: at(clock))
    series, window = await _read(source)
    assert window.kind == "range" and window.seconds == 7200
    overall, routes = route_stats(series, window.seconds)
    chapters, profile = routes
    assert (chapters.traffic.route, chapters.traffic.requests) == ("/api/chapters/{chapter_id}", 2_000)
    for q, estimate in ((0.5, chapters.traffic.p50_s), (0.95, chapters.traffic.p95_s), (0.99, chapters.traffic.p99_s)):
        assert estimate is not None
        assert abs(bucket_index(estimate) - bucket_index(true_quantile(durations, q))) <= 1, q
    # One route, two methods and three status classes: summed per route.
    assert (profile.traffic.route, profile.traffic.requests, profile.traffic.server_errors) == ("/api/profile", 4, 1)
    assert profile.traffic.cold_start_rate == 0.5 and profile.cold_starts_per_hour == 1.0
    assert profile.traffic.mean_init_s == pytest.approx(0.6)
    assert (overall.traffic.route, overall.traffic.requests, overall.traffic.cold_starts) == (None, 2_004, 2)
    assert overall.traffic.error_rate == pytest.approx(1 / 2_004)

    only, listed = route_stats(series, window.seconds, "/api/profile")
    assert [r.traffic.route for r in listed] == ["/api/profile"] and only.traffic.requests == 4


async def _read(source: DatabaseSource) -> Any:
    # DatabaseSource.read runs its own event loop (as the CLI does): keep it off the test's.
    return await asyncio.to_thread(source.read)


async def test_a_window_before_the_traffic_is_empty(
    recorder: MetricsRecorder, make_settings: Any, database_url: str, clock: Clock
) -> None:
    await seed(recorder, [0.1])
    earlier = at(clock) - timedelta(hours=3)
    source = DatabaseSource(database_url, timedelta(hours=1), make_settings(), clock=lambda: earlier)
    series, window = await _read(source)
    overall, routes = route_stats(series, window.seconds)
    assert routes == [] and overall.traffic.requests == 0 and overall.cold_starts_per_hour == 0.0


async def test_database_failures_are_one_line_without_the_password(
    make_settings: Any, empty_database: str, database_url: str
) -> None:
    source = DatabaseSource(empty_database, timedelta(hours=1), make_settings())
    with pytest.raises(OpsError, match="has no request_metrics table: run `lectern db upgrade`"):
        await _read(source)
    missing = database_url.replace("postgres:@", "postgres:s3cret-pw@", 1).replace("/lectern_test?", "/nope?", 1)
    with pytest.raises(OpsError) as failed:
        await _read(DatabaseSource(missing, timedelta(hours=1), make_settings()))
    assert 'database "nope" does not exist' in str(failed.value) and "s3cret-pw" not in str(failed.value)
    assert "\n" not in str(failed.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("15 min", 900), ("1h", 3600), ("7d", 604_800), ("2W", 1_209_600)]
)
def test_spans(text: str, seconds: int) -> None:
    assert parse_span(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "h", "-1h", "0m", "1y", "99999d"])
def test_bad_spans_are_refused(text: str) -> None:
    with pytest.raises(OpsError):
        parse_span(text)


# --- from a deployment's /api/metrics --------------------------------------------------------------------------


@pytest.fixture
def metrics_host(database_url: str, clean_database: str, tmp_path: Path) -> Iterator[str]:
    """A real Lectern app serving /api/metrics behind TOKEN; it never flushes its own counts during a test."""
    settings = Settings(
        app_env="test",
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        lectern_data_dir=tmp_path / "data",
        metrics_token=TOKEN,
        metrics_flush_seconds=3600,
    )
    with serve_asgi(create_app(settings)) as host:
        yield f"http://{host}"


async def test_a_deployment_gives_totals_then_what_changed_between_refreshes(
    recorder: MetricsRecorder, metrics_host: str
) -> None:
    durations = known_latencies(500)
    await seed(recorder, durations)
    source = UrlSource(metrics_host, TOKEN)
    series, window = await asyncio.to_thread(source.read)
    assert window.kind == "totals" and window.seconds is None
    overall, routes = route_stats(series, window.seconds)
    assert overall.traffic.requests == 504 and overall.cold_starts_per_hour is None
    assert routes[1].traffic.cold_starts == 2 and routes[1].traffic.server_errors == 1
    estimate = routes[0].traffic.p95_s
    assert estimate is not None and abs(bucket_index(estimate) - bucket_index(true_quantile(durations, 0.95))) <= 1

    for _ in range(6):
        recorder.record(request(0.2, route="/api/chat", method="POST", cold_start=True, init_duration_s=0.5))
    await recorder.flush()
    series, window = await asyncio.to_thread(source.read)
    assert window.kind == "scrapes" and window.seconds is not None and window.seconds > 0
    overall, routes = route_stats(series, window.seconds)
    assert [(r.traffic.route, r.traffic.requests) for r in routes] == [("/api/chat", 6)]
    assert overall.traffic.cold_starts == 6 and overall.cold_starts_per_hour == pytest.approx(6 * 3600 / window.seconds)


async def test_a_wrong_token_or_no_metrics_is_one_line(metrics_host: str, make_settings: Any) -> None:
    with pytest.raises(OpsError, match=r"refused the metrics token \(401\)"):
        await asyncio.to_thread(UrlSource(metrics_host, "wrong-token-123456").read)
    no_token = create_app(make_settings())
    with serve_asgi(no_token) as host, pytest.raises(OpsError, match="answered 404: metrics are off there"):
        await asyncio.to_thread(UrlSource(f"http://{host}", TOKEN).read)
    with pytest.raises(OpsError, match="cannot reach http://127.0.0.1:9/api/metrics"):
        UrlSource("http://127.0.0.1:9", TOKEN).read()


def test_a_counter_that_went_down_restarted() -> None:
    before = [Series("/a", "GET", 2, Tally(requests=10, cold_starts=1)), Series("/b", "GET", 2, Tally(requests=5))]
    after = [Series("/a", "GET", 2, Tally(requests=3)), Series("/b", "GET", 2, Tally(requests=5))]
    assert [(s.route, s.tally.requests) for s in difference(after, before)] == [("/a", 3)]
