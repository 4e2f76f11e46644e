"""Count a hit against a quota; refuse it with TooManyRequests and an honest Retry-After once used up."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection

from lectern.errors import TooManyRequests
from lectern.limits import repository
from lectern.limits.repository import WindowState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_KEY_CHARS = 180
# About one hit in 64 also deletes a batch of expired counters: no scheduler is needed on Vercel.
SWEEP_ONE_IN = 64


@dataclass(frozen=True)
class Allowed:
    """A counted hit: the limit, and how many more hits the window allows right now."""

    limit: int
    remaining: int


async def hit(
    db: AsyncConnection[Any] | AsyncSession,
    key: str,
    limit: int,
    window: int | timedelta,
    *,
    detail: str | None = None,
) -> Allowed:
    """Count one hit on `key`, at most `limit` per sliding `window` (seconds); beyond, raise TooManyRequests.

    `db` is best a psycopg connection in autocommit (`Database.reader()`): the hit commits at once. With a
    session, the hit commits (or rolls back) with the session, and other hits on the key wait until then.
    """
    seconds = int(window.total_seconds()) if isinstance(window, timedelta) else window
    if limit < 1 or seconds < 1:
        raise ValueError(f"a rate limit needs a limit and a window of at least 1, got {limit} per {seconds} s")
    if not key or len(key) > MAX_KEY_CHARS:
        raise ValueError(f"a rate-limit key has 1 to {MAX_KEY_CHARS} characters")
    connection = await _driver_connection(db)
    # The window is part of the stored key: one key counted in two windows would mix their starts.
    state = await repository.count_hit(connection, f"{key}@{seconds}s", limit, seconds)
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        await repository.sweep_expired(connection)
    if state.counted is None:
        wait = retry_after(state, limit, seconds)
        raise TooManyRequests(detail or f"Too many requests: try again in {wait} s.", retry_after=wait)
    return Allowed(limit, remaining(state, limit, seconds))


def _previous_weight(state: WindowState, window_seconds: int) -> float:
    return max(0.0, 1 - state.elapsed / window_seconds)


def remaining(state: WindowState, limit: int, window_seconds: int) -> int:
    """Hits still allowed now, after a counted one."""
    used = state.previous_hits * _previous_weight(state, window_seconds) + (state.counted or 0)
    return max(0, math.floor(limit - used))


def retry_after(state: WindowState, limit: int, window_seconds: int) -> int:
    """Whole seconds until one more hit fits, if nobody else hits the key meanwhile (at least 1)."""
    current = state.current_hits
    if current < limit and state.previous_hits > 0:
        # The previous window's share must shrink to what the current one leaves free.
        fits_at = window_seconds * (1 - (limit - 1 - current) / state.previous_hits)
        wait = fits_at - state.elapsed
    else:
        # The current window alone is full: it must become the previous one and slide out far enough.
        fits_at = window_seconds * max(0.0, 1 - (limit - 1) / current) if current else 0.0
        wait = window_seconds - state.elapsed + fits_at
    return max(1, math.ceil(wait))


async def _driver_connection(db: AsyncConnection[Any] | AsyncSession) -> AsyncConnection[Any]:
    if isinstance(db, AsyncConnection):
        return db
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    driver: AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver
