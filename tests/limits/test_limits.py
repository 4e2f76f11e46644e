"""lectern.limits on the real PostgreSQL: counted hits, refusals with Retry-After, concurrency, sessions, the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.session import Database
from lectern.errors import TooManyRequests
from lectern.limits import Allowed, hit, service
from lectern.limits.repository import WindowState

WINDOW = 3600  # long enough that no test straddles two windows (it would still pass)


@pytest.fixture
async def connection(clean_database: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection in autocommit, as `Database.reader()` gives routes."""
    async with await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as conn:
        yield conn


def stored(url: str) -> dict[str, int]:
    """Hits per key, over all its windows."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT key, sum(hits)::int FROM rate_limit_counters GROUP BY key ORDER BY key")
        return dict(rows.fetchall())


async def test_hits_count_down_then_are_refused(connection: psycopg.AsyncConnection[Any], clean_database: str) -> None:
    allowed = [await hit(connection, "reader:ada", 3, WINDOW) for _ in range(3)]
    with pytest.raises(TooManyRequests) as refused:
        await hit(connection, "reader:ada", 3, WINDOW, detail="Slow down.")

    assert allowed == [Allowed(3, 2), Allowed(3, 1), Allowed(3, 0)]
    assert refused.value.detail == "Slow down."
    # The full window must slide a third of the way out before one more hit fits.
    assert WINDOW // 3 <= refused.value.retry_after <= WINDOW + WINDOW // 3 + 1
    assert refused.value.headers == {"Retry-After": str(refused.value.retry_after)}
    assert stored(clean_database) == {"reader:ada@3600s": 3}  # the refused hit was not counted


async def test_keys_and_windows_count_apart(connection: psycopg.AsyncConnection[Any]) -> None:
    await hit(connection, "ip:192.0.2.1", 1, WINDOW)
    assert await hit(connection, "ip:192.0.2.2", 1, WINDOW) == Allowed(1, 0)
    assert await hit(connection, "ip:192.0.2.1", 1, 2 * WINDOW) == Allowed(1, 0)


async def test_concurrent_hits_never_pass_the_limit(clean_database: str) -> None:
    async def one_hit() -> bool:
        async with await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as conn:
            try:
                await hit(conn, "reader:busy", 5, WINDOW)
            except TooManyRequests:
                return False
            return True

    results = await asyncio.gather(*(one_hit() for _ in range(20)))

    assert results.count(True) == 5
    assert stored(clean_database) == {"reader:busy@3600s": 5}


async def test_the_previous_window_still_counts(connection: psycopg.AsyncConnection[Any]) -> None:
    # A previous window far over the limit: its sliding share alone fills the current one.
    await connection.execute(
        """INSERT INTO rate_limit_counters (key, window_start, hits, expires_at)
           VALUES ('reader:heavy@3600s',
                   to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600) - interval '1 hour',
                   100000, now() + interval '1 hour')"""
    )
    with pytest.raises(TooManyRequests) as refused:
        await hit(connection, "reader:heavy", 10, WINDOW)
    assert 1 <= refused.value.retry_after <= WINDOW


async def test_with_a_session_the_hit_commits_or_rolls_back_with_it(make_settings: Any, clean_database: str) -> None:
    database = Database(make_settings())
    try:
        engine = await database.engine()
        async with AsyncSession(engine) as session:
            await hit(session, "reader:undone", 1, WINDOW)
            await session.rollback()
        async with AsyncSession(engine) as session:
            assert await hit(session, "reader:undone", 1, WINDOW) == Allowed(1, 0)
            await session.commit()
    finally:
        await database.dispose()
    assert stored(clean_database) == {"reader:undone@3600s": 1}


async def test_expired_counters_are_swept(
    connection: psycopg.AsyncConnection[Any], clean_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await connection.execute(
        "INSERT INTO rate_limit_counters VALUES ('gone@3600s', now() - interval '1 day', 3, now() - interval '1 hour')"
    )
    monkeypatch.setattr(service, "SWEEP_ONE_IN", 1)
    await hit(connection, "fresh", 1, WINDOW)
    assert stored(clean_database) == {"fresh@3600s": 1}


@pytest.mark.parametrize(("key", "limit", "window"), [("k", 0, 60), ("k", 1, 0), ("", 1, 60), ("k" * 181, 1, 60)])
async def test_nonsense_limits_are_programming_errors(
    connection: psycopg.AsyncConnection[Any], key: str, limit: int, window: int
) -> None:
    with pytest.raises(ValueError):
        await hit(connection, key, limit, window)


@pytest.mark.parametrize(
    ("state", "limit", "wait"),
    [
        # The current window is full: it must become the previous one and slide a fifth of the way out.
        (WindowState(elapsed=10, previous_hits=0, counted=None, current_hits=5), 5, 62),
        # The previous window's share must fall to 4: at 36 s into this one.
        (WindowState(elapsed=30, previous_hits=10, counted=None, current_hits=5), 10, 6),
        # Fractions of a second round up, and never below 1.
        (WindowState(elapsed=35.5, previous_hits=10, counted=None, current_hits=5), 10, 1),
    ],
)
def test_retry_after(state: WindowState, limit: int, wait: int) -> None:
    assert service.retry_after(state, limit, 60) == wait


def test_remaining_counts_the_previous_windows_share() -> None:
    state = WindowState(elapsed=30, previous_hits=10, counted=3, current_hits=2)
    assert service.remaining(state, 10, 60) == 2
