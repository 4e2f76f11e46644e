"""The upsert adds element-wise, pruning folds old minutes into totals, and reads sum over a time range."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from lectern.db.session import Database
from lectern.metrics import repository
from lectern.metrics.counts import MinuteKey, Tally
from lectern.metrics.histogram import bucket_index
from lectern.metrics.recorder import MetricsRecorder
from tests.metrics.support import Clock, request, stored_rows

DAY_MINUTES = 24 * 60


def tally(*durations: float, cold_starts: int = 0) -> Tally:
    counts = Tally()
    for i, d in enumerate(durations):
        counts.add(d, i < cold_starts, 0.5)
    return counts


def minutes_ago(minutes: int) -> int:
    return int(time.time() // 60) - minutes


async def add(database: Database, pending: dict[MinuteKey, Tally]) -> None:
    async with database.session() as session:
        await repository.add_counts(session, pending)


async def prune(database: Database, days: int = 14) -> None:
    async with database.session() as session:
        await repository.prune(session, retention_days=days)


async def test_the_upsert_adds_counts_and_buckets_element_wise(database: Database, clean_database: str) -> None:
    key = (minutes_ago(0), "/api/health", "GET", 2)
    await add(database, {key: tally(0.001, 0.3)})
    await add(database, {key: tally(0.001, 7, cold_starts=1)})
    (row,) = stored_rows(clean_database)
    expected = [0] * 15
    expected[0], expected[bucket_index(0.3)], expected[bucket_index(7)] = 2, 1, 1
    assert row["buckets"] == expected
    assert (row["requests"], row["duration_us"], row["cold_starts"], row["init_us"]) == (4, 7_302_000, 1, 500_000)
    assert row["minute"] == repository.minute_start(key[0])


async def test_pruning_folds_old_minutes_into_totals_and_keeps_newer_ones(
    database: Database, clean_database: str
) -> None:
    old = (minutes_ago(15 * DAY_MINUTES), "/api/health", "GET", 2)
    older = (old[0] - 3, *old[1:])
    kept = (minutes_ago(13 * DAY_MINUTES), "/api/health", "GET", 2)
    now = (minutes_ago(0), "/api/health", "GET", 2)
    await add(database, {older: tally(0.01), old: tally(0.02, 0.3, cold_starts=1), kept: tally(0.04), now: tally(1)})
    async with database.read_session() as session:
        before = await repository.totals(session)

    await prune(database)

    rows = stored_rows(clean_database)
    assert [(r["folded"], r["requests"]) for r in rows] == [(True, 3), (False, 1), (False, 1)]
    assert [r["minute"] for r in rows[1:]] == [repository.minute_start(k[0]) for k in (kept, now)]
    assert rows[0]["cold_starts"] == 1
    async with database.read_session() as session:
        assert await repository.totals(session) == before  # counters never go down


async def test_pruning_again_adds_to_the_totals(database: Database, clean_database: str) -> None:
    key = (minutes_ago(20 * DAY_MINUTES), "/api/health", "GET", 2)
    await add(database, {key: tally(0.01)})
    await prune(database)
    await add(database, {(key[0] + 1, *key[1:]): tally(0.01, 0.02)})
    await prune(database)
    await prune(database)
    assert [(r["folded"], r["requests"]) for r in stored_rows(clean_database)] == [(True, 3)]


async def test_totals_sum_a_time_range_and_leave_the_folded_totals_out(database: Database, clean_database: str) -> None:
    base = minutes_ago(60)
    await add(
        database,
        {
            (minutes_ago(30 * DAY_MINUTES), "/api/health", "GET", 2): tally(0.01),
            (base, "/api/health", "GET", 2): tally(0.01, 0.02),
            (base + 1, "/api/health", "GET", 2): tally(0.03),
            (base + 2, "/api/health", "GET", 2): tally(0.04),
        },
    )
    await prune(database)
    since, until = repository.minute_start(base), repository.minute_start(base + 2)
    async with database.read_session() as session:
        ranged = await repository.totals(session, since, until)
        everything = await repository.totals(session)
    assert [s.tally.requests for s in ranged] == [3]
    assert [s.tally.requests for s in everything] == [5]


async def test_the_recorder_prunes_at_most_once_an_hour(
    database: Database, clock: Clock, recorder: MetricsRecorder, clean_database: str
) -> None:
    stale = (minutes_ago(15 * DAY_MINUTES), "/api/old", "GET", 2)
    await add(database, {stale: tally(0.01)})
    recorder.record(request())
    await recorder.flush()  # an instance's first flush prunes
    assert [r["folded"] for r in stored_rows(clean_database) if r["route"] == "/api/old"] == [True]

    await add(database, {stale: tally(0.01)})
    clock.advance(1800)
    recorder.record(request())
    await recorder.flush()
    assert [r["folded"] for r in stored_rows(clean_database) if r["route"] == "/api/old"] == [True, False]

    clock.advance(1800)
    recorder.record(request())
    await recorder.flush()
    assert [(r["folded"], r["requests"]) for r in stored_rows(clean_database) if r["route"] == "/api/old"] == [
        (True, 2)
    ]


def test_minutes_are_utc() -> None:
    assert repository.minute_start(1) == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert repository.minute_start(29_000_000) - repository.minute_start(28_999_999) == timedelta(minutes=1)
