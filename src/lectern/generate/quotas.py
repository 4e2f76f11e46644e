"""Generation quotas per reader, kept in Postgres so every instance sees them: requests per hour (lectern.limits),
and model tokens per UTC day, reserved before the model is called and settled with what it really used."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from typing import Any

from psycopg import AsyncConnection

from lectern.db.session import Database
from lectern.errors import TooManyRequests
from lectern.generate import repository
from lectern.generate.repository import TokenReservation
from lectern.limits import hit
from lectern.settings import Settings

log = logging.getLogger("lectern.generate")

HOUR = 3600
SWEEP_ONE_IN = 64

# Settlements still running after their request was cancelled: referenced until done, or they could be collected.
_settling: set[asyncio.Task[None]] = set()


async def charge_request(connection: AsyncConnection[Any], settings: Settings, user_id: uuid.UUID) -> None:
    """Count one generation against the reader's hourly quota (0 turns it off); 429 beyond."""
    limit = settings.generate_requests_per_hour
    if limit > 0:
        detail = f"You have asked for {limit} generations in the last hour, the most allowed. Try again later."
        await hit(connection, f"generate:reader:{user_id}", limit, HOUR, detail=detail)


async def reserve_tokens(
    connection: AsyncConnection[Any], settings: Settings, user_id: uuid.UUID, estimate: int
) -> TokenReservation | None:
    """Set aside the tokens a generation may use from the reader's daily budget (None when the budget is off);
    429 with Retry-After (until the next UTC day) when they do not fit."""
    budget = settings.generate_daily_tokens_per_reader
    if budget <= 0:
        return None
    reservation = await repository.reserve_tokens(connection, user_id, estimate, budget)
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        await repository.sweep_usage(connection)
    if reservation.granted:
        return reservation
    if estimate > budget:
        detail = (
            f"This needs about {estimate} model tokens, more than the daily budget of {budget} per reader: "
            "ask for one section at a time."
        )
    else:
        detail = (
            f"You have used {reservation.used_today} of your {budget} model tokens for today (UTC), and this needs "
            f"about {estimate}. Try again tomorrow, or ask for less (one section, a summary)."
        )
    raise TooManyRequests(detail, retry_after=reservation.seconds_left_today)


async def settle(database: Database, reservation: TokenReservation | None, used: int) -> None:
    """Replace the reservation by the tokens really used; finishes even if the request is cancelled meanwhile."""
    if reservation is None or used == reservation.tokens:
        return
    task = asyncio.ensure_future(_settle(database, reservation, used))
    _settling.add(task)
    task.add_done_callback(_settling.discard)
    await asyncio.shield(task)


async def _settle(database: Database, reservation: TokenReservation, used: int) -> None:
    try:
        async with database.reader() as connection:
            await repository.change_reservation(connection, reservation, used - reservation.tokens)
    except Exception:
        # The reader keeps their answer; the day's count keeps the estimate instead of the real use.
        log.exception("settling a generation's token reservation failed")
