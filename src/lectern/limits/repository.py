"""All SQL for rate limits: one atomic statement counts a hit in a sliding window, or refuses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

# The current fixed window and the one before it. The previous window's hits still count for the part of
# it that a window sliding back from now covers (Cloudflare's "sliding window counter"): its weight falls
# from 1 to 0 as the current window fills. The insert or the increment only happens while the estimate
# stays within the limit, and ON CONFLICT … WHERE re-checks the row it locked, so concurrent hits from any
# number of instances can never pass the limit; a refused hit is not counted. now() is the database's
# clock, the same for every instance.
_HIT = """
WITH clock AS (
    SELECT now() AS now, to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s) AS start
),
previous AS (
    SELECT coalesce(max(r.hits), 0) AS hits
    FROM rate_limit_counters AS r, clock
    WHERE r.key = %(key)s AND r.window_start = clock.start - make_interval(secs => %(window)s)
),
budget AS (
    SELECT %(limit)s - previous.hits * (1 - extract(epoch FROM clock.now - clock.start) / %(window)s) AS hits
    FROM clock, previous
),
counted AS (
    INSERT INTO rate_limit_counters AS r (key, window_start, hits, expires_at)
    SELECT %(key)s, clock.start, 1, clock.start + make_interval(secs => 2 * %(window)s)
    FROM clock, budget
    WHERE budget.hits >= 1
    ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1
    WHERE r.hits + 1 <= (SELECT hits FROM budget)
    RETURNING r.hits
)
SELECT extract(epoch FROM clock.now - clock.start)::float8,
       previous.hits,
       (SELECT hits FROM counted),
       (SELECT hits FROM rate_limit_counters WHERE key = %(key)s AND window_start = clock.start)
FROM clock, previous
"""

# Expired rows of every key; a bounded batch, so no request pays for a long sweep.
_SWEEP = """
DELETE FROM rate_limit_counters
WHERE ctid IN (SELECT ctid FROM rate_limit_counters WHERE expires_at < now() LIMIT 500)
"""


@dataclass(frozen=True)
class WindowState:
    """A key's counts around now: seconds into the current window, hits before and in it."""

    elapsed: float
    previous_hits: int
    counted: int | None  # the current window's hits including this one; None when refused
    current_hits: int  # the current window's hits as last committed (before this statement)


async def count_hit(connection: AsyncConnection[Any], key: str, limit: int, window_seconds: int) -> WindowState:
    """Count one hit on `key` unless that would pass `limit` in the sliding window."""
    params = {"key": key, "limit": limit, "window": window_seconds}
    async with connection.cursor() as cursor:
        await cursor.execute(_HIT, params)
        row = await cursor.fetchone()
    assert row is not None  # the statement always returns its one row
    elapsed, previous_hits, counted, current_hits = row
    return WindowState(float(elapsed), int(previous_hits), counted, int(current_hits or 0))


async def sweep_expired(connection: AsyncConnection[Any]) -> None:
    """Delete a batch of counters whose windows no longer count."""
    await connection.execute(_SWEEP)
