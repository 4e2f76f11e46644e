"""The sink counts in memory; flushes run in the background at most every N seconds and survive a database outage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lectern.db.session import Database
from lectern.metrics import recorder as recorder_module
from lectern.metrics.histogram import bucket_index
from lectern.metrics.recorder import MetricsRecorder
from tests.metrics.support import Clock, StalledDatabase, request, stored_rows
from tests.web.checks import RecordingHandler


def stalled_recorder(clock: Clock, database: StalledDatabase) -> MetricsRecorder:
    return MetricsRecorder(
        database,  # type: ignore[arg-type]
        flush_seconds=10,
        retention_days=14,
        monotonic=clock.monotonic,
        wall_clock=clock.wall_clock,
    )


def test_counts_are_keyed_by_minute_route_method_and_status_class(recorder: MetricsRecorder, clock: Clock) -> None:
    minute = int(clock.wall // 60)
    recorder.record(request(0.004, status=200))
    recorder.record(request(0.3, status=204))
    recorder.record(request(0.02, route="/api/profile", method="PUT", status=412))
    recorder.record(request(0.02, method="BREW", status=405))
    recorder.record(request(0.02, status=503))
    pending = recorder.pending
    assert set(pending) == {
        (minute, "/api/health", "GET", 2),
        (minute, "/api/profile", "PUT", 4),
        (minute, "/api/health", "_OTHER", 4),  # unknown methods cannot add series
        (minute, "/api/health", "GET", 5),
    }
    ok = pending[(minute, "/api/health", "GET", 2)]
    assert ok.requests == 2
    assert ok.duration_us == 304_000
    assert ok.buckets[bucket_index(0.004)] == 1 and ok.buckets[bucket_index(0.3)] == 1
    assert sum(ok.buckets) == 2


def test_a_cold_start_is_counted_with_its_init_duration(recorder: MetricsRecorder) -> None:
    recorder.record(request(0.05, cold_start=True, init_duration_s=0.8123))
    recorder.record(request(0.01))
    (tally,) = recorder.pending.values()
    assert (tally.requests, tally.cold_starts, tally.init_us) == (2, 1, 812_300)


def test_a_new_minute_starts_a_new_row(recorder: MetricsRecorder, clock: Clock) -> None:
    clock.wall = (clock.wall // 60) * 60 + 59
    recorder.record(request())
    clock.advance(2)
    recorder.record(request())
    assert sorted(key[0] for key in recorder.pending) == [int(clock.wall // 60) - 1, int(clock.wall // 60)]


async def test_a_flush_starts_only_once_the_oldest_count_is_n_seconds_old(clock: Clock) -> None:
    database = StalledDatabase()
    recorder = stalled_recorder(clock, database)
    recorder.record(request())
    clock.advance(9.9)
    recorder.record(request())
    assert recorder.flushing is None
    clock.advance(0.1)
    recorder.record(request())
    flushing = recorder.flushing
    assert flushing is not None
    recorder.record(request())
    assert recorder.flushing is flushing  # one flush at a time
    database.release.set()
    await flushing


async def test_recording_never_waits_for_a_flush_in_flight(clock: Clock, lectern_log: RecordingHandler) -> None:
    database = StalledDatabase()
    recorder = stalled_recorder(clock, database)
    recorder.record(request())
    clock.advance(10)
    recorder.record(request())
    assert recorder.flushing is not None
    await database.entered.wait()  # the flush holds the (stalled) database now
    for _ in range(100):
        recorder.record(request())  # synchronous: returns although the flush is stuck
    assert sum(t.requests for t in recorder.pending.values()) == 100
    database.release.set()
    await recorder.flushing
    # The failed batch is back with the newer counts; nothing raised.
    assert sum(t.requests for t in recorder.pending.values()) == 102
    assert "metrics flush failed (ConnectionRefusedError); keeping 2 requests' counts" in lectern_log.text()


async def test_after_a_failure_the_next_attempt_waits_a_full_interval(clock: Clock) -> None:
    database = StalledDatabase()
    database.release.set()
    recorder = stalled_recorder(clock, database)
    recorder.record(request())
    clock.advance(10)
    await recorder.flush()
    assert database.attempts == 1
    clock.advance(5)
    recorder.record(request())
    assert recorder.flushing is None  # a database that is down is not hammered by every request
    clock.advance(5)
    recorder.record(request())
    assert recorder.flushing is not None
    await recorder.flushing
    assert database.attempts == 2


async def test_kept_counts_are_bounded(
    clock: Clock, lectern_log: RecordingHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_PENDING_ROWS", 3)
    database = StalledDatabase()
    database.release.set()
    recorder = stalled_recorder(clock, database)
    for route in ("/a", "/b", "/c", "/d"):
        recorder.record(request(route=route))
    await recorder.flush()
    assert recorder.pending == {}
    assert "dropped 4 requests' counts" in lectern_log.text()


async def test_a_flush_writes_every_row_and_a_second_one_adds_to_them(
    recorder: MetricsRecorder, clock: Clock, clean_database: str
) -> None:
    recorder.record(request(0.004))
    recorder.record(request(0.2, status=500))
    await recorder.flush()
    assert recorder.pending == {}
    recorder.record(request(0.006))
    recorder.record(request(0.2, status=500, cold_start=True, init_duration_s=1.5))
    await recorder.flush()
    rows = stored_rows(clean_database)
    assert [(r["status_class"], r["requests"]) for r in rows] == [(2, 2), (5, 2)]
    ok, failed = rows
    assert ok["buckets"][:2] == [1, 1]
    assert ok["duration_us"] == 10_000
    assert failed["buckets"][bucket_index(0.2)] == 2
    assert (failed["cold_starts"], failed["init_us"]) == (1, 1_500_000)


class FlakyDatabase:
    """The test database, or an unreachable one while `down`."""

    def __init__(self, up: Database, down: Database) -> None:
        self.up, self.down, self.is_down = up, down, True

    def session(self) -> Any:
        return (self.down if self.is_down else self.up).session()


async def test_a_database_outage_loses_nothing_once_it_is_back(
    make_settings: Any, clock: Clock, clean_database: str, database: Database, lectern_log: RecordingHandler
) -> None:
    unreachable = Database(make_settings(), url="postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    flaky = FlakyDatabase(database, unreachable)
    recorder = MetricsRecorder(
        flaky,  # type: ignore[arg-type]
        flush_seconds=10,
        retention_days=14,
        monotonic=clock.monotonic,
        wall_clock=clock.wall_clock,
    )
    recorder.record(request())
    recorder.record(request())
    await recorder.flush()
    assert sum(t.requests for t in recorder.pending.values()) == 2
    assert "metrics flush failed (OperationalError)" in lectern_log.text()
    flaky.is_down = False
    await recorder.flush()
    assert [r["requests"] for r in stored_rows(clean_database)] == [2]
    await unreachable.dispose()


async def test_close_waits_for_the_flush_in_flight_then_writes_the_rest(
    recorder: MetricsRecorder, clock: Clock, clean_database: str
) -> None:
    recorder.record(request())
    clock.advance(10)
    recorder.record(request())
    assert recorder.flushing is not None
    recorder.record(request(status=404))
    await recorder.close()
    assert recorder.flushing is None and recorder.pending == {}
    assert sorted((r["status_class"], r["requests"]) for r in stored_rows(clean_database)) == [(2, 2), (4, 1)]


async def test_recording_outside_an_event_loop_waits_for_the_next_flush(clock: Clock) -> None:
    database = StalledDatabase()
    recorder = stalled_recorder(clock, database)

    def outside_the_loop() -> None:
        recorder.record(request())
        clock.advance(10)
        recorder.record(request())

    await asyncio.to_thread(outside_the_loop)
    assert recorder.flushing is None
    assert sum(t.requests for t in recorder.pending.values()) == 2
