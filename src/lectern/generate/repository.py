"""All SQL for generation: the page to work from, the reader's stored generations, and the daily token budget.

Pages are found and read through the book's repository (the same lookup as GET /api/book/pages/…), and words
analysed through chat's (the lexemes its extractive answers use): plain functions, no other domain's service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import ForeignKeyViolation
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.book import repository as book
from lectern.book.repository import ChunkRecord
from lectern.chat.repository import lexemes
from lectern.db.models import Generation
from lectern.errors import InvalidToken

__all__ = ["lexemes"]


@dataclass(frozen=True)
class PageFacts:
    """What generation needs of a page: where it is, its language, and the hash of what was ingested."""

    id: uuid.UUID
    title: str
    url: str
    locale: str
    search_config: str
    content_hash: str


async def find_page(session: AsyncSession, reference: str) -> PageFacts | None:
    """The page a reference names (id, route, doc id, source file or URL path), with its content hash."""
    page = await book.find_page(session, reference)
    if page is None:
        return None
    statement = text("SELECT search_config, content_hash FROM book_pages WHERE id = :id")
    row = (await session.execute(statement, {"id": page.id})).first()
    if row is None:
        return None  # removed between the two reads
    return PageFacts(page.id, page.title, page.url, page.locale, row[0], row[1])


async def page_chunks(session: AsyncSession, page_id: uuid.UUID) -> list[ChunkRecord]:
    return await book.page_chunks(session, page_id)


async def stored_generation(
    session: AsyncSession, user_id: uuid.UUID, cache_key: str, max_age: timedelta
) -> Generation | None:
    """The reader's generation with this key, unless it is older than `max_age` (on the database clock)."""
    statement = select(Generation).where(
        Generation.user_id == user_id,
        Generation.cache_key == cache_key,
        Generation.created_at > func.now() - max_age,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def save_generation(session: AsyncSession, values: dict[str, Any]) -> Generation:
    """Insert the generation, or replace the reader's one with the same key (a refresh)."""
    replaced = {name: value for name, value in values.items() if name not in ("user_id", "cache_key")}
    statement = (
        insert(Generation)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[Generation.user_id, Generation.cache_key],
            set_={**replaced, "created_at": func.now()},
        )
        .returning(Generation)
    )
    try:
        result = await session.execute(statement, execution_options={"populate_existing": True})
    except IntegrityError:
        # The user foreign key (the account is gone) or the page's (removed by an ingest meanwhile).
        raise InvalidToken("The account behind this token no longer exists, or the page was removed.") from None
    return result.scalar_one()


# Generations past the retention, a bounded batch; rows another transaction holds (a refresh replacing one) are
# skipped rather than waited for. There is no index on created_at, so a batch scans until it has found its rows.
_DELETE_EXPIRED = """
DELETE FROM generations
WHERE id IN (
    SELECT id FROM generations WHERE created_at < now() - %(max_age)s LIMIT %(batch)s FOR UPDATE SKIP LOCKED
)
"""


async def delete_expired_generations(
    connection: AsyncConnection[Any], max_age: timedelta, batch: int, timeout_ms: int
) -> int:
    """Delete up to `batch` generations older than `max_age`; how many went. Past `timeout_ms` the statement is
    cancelled (psycopg's QueryCanceled) and nothing is deleted."""
    async with connection.transaction():
        # Local to this transaction: the pooled connection goes back with its own timeout.
        await connection.execute("SELECT set_config('statement_timeout', %s, true)", (f"{timeout_ms}ms",))
        cursor = await connection.execute(_DELETE_EXPIRED, {"max_age": max_age, "batch": batch})
        return cursor.rowcount


# --- The daily token budget ----------------------------------------------------------------------------------

# Reserve `tokens` for a reader today (UTC, on the database clock) unless that passes the budget; ON CONFLICT …
# WHERE re-checks the locked row, so concurrent requests on any number of instances never pass it together.
_RESERVE = """
WITH clock AS (
    SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, now() AS now
),
reserved AS (
    INSERT INTO generation_usage AS u (user_id, day, tokens)
    SELECT %(user)s, clock.day, %(tokens)s FROM clock WHERE %(tokens)s <= %(budget)s
    ON CONFLICT (user_id, day) DO UPDATE SET tokens = u.tokens + EXCLUDED.tokens
    WHERE u.tokens + EXCLUDED.tokens <= %(budget)s
    RETURNING u.tokens
)
SELECT clock.day,
       ceil(extract(epoch FROM clock.day + interval '1 day' - clock.now))::int,
       (SELECT tokens FROM reserved),
       (SELECT tokens FROM generation_usage WHERE user_id = %(user)s AND day = clock.day)
FROM clock
"""
_SETTLE = """
UPDATE generation_usage SET tokens = greatest(0, tokens + %(change)s) WHERE user_id = %(user)s AND day = %(day)s
"""
# Days before yesterday no longer count; a bounded batch, now and then.
_SWEEP = """
DELETE FROM generation_usage
WHERE ctid IN (SELECT ctid FROM generation_usage WHERE day < now() - interval '2 days' LIMIT 500)
"""


@dataclass(frozen=True)
class TokenReservation:
    """Tokens set aside for one generation, on one day; `granted` false when the budget could not hold them."""

    user_id: uuid.UUID
    day: datetime
    tokens: int
    granted: bool
    used_today: int  # including this reservation when granted
    seconds_left_today: int


async def reserve_tokens(
    connection: AsyncConnection[Any], user_id: uuid.UUID, tokens: int, budget: int
) -> TokenReservation:
    params = {"user": user_id, "tokens": tokens, "budget": budget}
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(_RESERVE, params)
            row = await cursor.fetchone()
    except ForeignKeyViolation:
        raise InvalidToken("The account behind this token no longer exists.") from None
    assert row is not None  # the statement always returns its one row
    day, seconds_left, reserved, stored = row
    used = int(reserved if reserved is not None else stored or 0)
    return TokenReservation(user_id, day, tokens, reserved is not None, used, max(1, int(seconds_left)))


async def change_reservation(connection: AsyncConnection[Any], reservation: TokenReservation, change: int) -> None:
    """Add `change` (negative to give tokens back) to the reserved day's count."""
    await connection.execute(_SETTLE, {"user": reservation.user_id, "day": reservation.day, "change": change})


async def sweep_usage(connection: AsyncConnection[Any]) -> None:
    await connection.execute(_SWEEP)
