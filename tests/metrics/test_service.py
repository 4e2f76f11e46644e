"""The read API behind `lectern monitor`: requests, percentiles, error and cold-start rates for a time range."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest

from lectern.db.session import Database
from lectern.metrics import repository, service
from lectern.metrics.histogram import bucket_index
from lectern.metrics.recorder import MetricsRecorder
from tests.metrics.support import Clock, request


def window(clock: Clock) -> tuple[datetime, datetime]:
    minute = int(clock.wall // 60)
    return repository.minute_start(minute - 5), repository.minute_start(minute + 5)


async def test_p95_from_the_stored_histograms_is_within_one_bucket_of_the_truth(
    recorder: MetricsRecorder, database: Database, clock: Clock, clean_database: str
) -> None:
    rng = random.Random(7)
    durations = [rng.lognormvariate(math.log(0.12), 0.7) for _ in range(3_000)]
    for d in durations:
        recorder.record(request(d))
    await recorder.flush()
    since, until = window(clock)
    report = await service.traffic(database, since, until)
    ordered = sorted(durations)
    for q, estimate in ((0.5, report.overall.p50_s), (0.95, report.overall.p95_s), (0.99, report.overall.p99_s)):
        truth = ordered[math.ceil(q * len(ordered)) - 1]
        assert estimate is not None
        assert abs(bucket_index(estimate) - bucket_index(truth)) <= 1, (q, estimate, truth)
    assert report.overall.requests == 3_000
    assert report.overall.mean_duration_s == pytest.approx(sum(durations) / len(durations), abs=1e-5)


async def test_per_endpoint_and_overall_rates(
    recorder: MetricsRecorder, database: Database, clock: Clock, clean_database: str
) -> None:
    recorder.record(request(0.01, cold_start=True, init_duration_s=0.6))
    for _ in range(7):
        recorder.record(request(0.01))
    recorder.record(request(0.2, route="/api/profile", status=200))
    recorder.record(request(0.2, route="/api/profile", status=401))
    recorder.record(request(0.2, route="/api/profile", status=500, cold_start=True, init_duration_s=1.0))
    recorder.record(request(0.2, route="/api/profile", method="PUT", status=500))
    await recorder.flush()

    since, until = window(clock)
    report = await service.traffic(database, since, until)

    assert [(e.method, e.route, e.requests) for e in report.endpoints] == [
        ("GET", "/api/health", 8),
        ("GET", "/api/profile", 3),
        ("PUT", "/api/profile", 1),
    ]
    health, profile, put = report.endpoints
    assert (health.error_rate, health.cold_start_rate) == (0.0, 1 / 8)
    assert health.mean_init_s == pytest.approx(0.6)
    assert (profile.error_rate, profile.client_error_rate, profile.cold_start_rate) == (1 / 3, 1 / 3, 1 / 3)
    assert put.error_rate == 1.0
    overall = report.overall
    assert (overall.route, overall.method, overall.requests) == (None, None, 12)
    assert (overall.server_errors, overall.client_errors, overall.cold_starts) == (2, 1, 2)
    assert overall.error_rate == pytest.approx(2 / 12)
    assert overall.cold_start_rate == pytest.approx(2 / 12)
    assert overall.mean_init_s == pytest.approx(0.8)


async def test_a_range_without_traffic_reports_zeros(database: Database, clock: Clock, clean_database: str) -> None:
    since, until = window(clock)
    report = await service.traffic(database, since - timedelta(days=1), until - timedelta(days=1))
    assert report.endpoints == []
    overall = report.overall
    assert (overall.requests, overall.error_rate, overall.cold_start_rate, overall.p95_s) == (0, 0.0, 0.0, None)


def test_the_token_check_compares_whole_tokens() -> None:
    assert service.token_matches("s" * 32, "s" * 32)
    assert not service.token_matches("s" * 31, "s" * 32)
    assert not service.token_matches("", "s" * 32)
    assert not service.token_matches("S" * 32, "s" * 32)
