"""How long stored generations live: a hit older than GENERATE_CACHE_DAYS is a miss (service.stored_result), and
older rows are deleted now and then, a small batch at a time, on the way to a model call.

Serverless instances have no background worker to prune on a schedule, so requests share the work: about one
miss in PRUNE_ONE_IN deletes up to PRUNE_BATCH rows, under a statement timeout so that no reader waits long.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import QueryCanceled

from lectern.generate import repository
from lectern.settings import Settings

log = logging.getLogger("lectern.generate")

PRUNE_ONE_IN = 32
PRUNE_BATCH = 200
# Expired rows were written first and sit early in the table, so a batch usually finds them at once; a scan
# that would read the whole table (nothing expired yet, a large table) is cut short instead.
PRUNE_TIMEOUT_MS = 250


async def prune_now_and_then(connection: AsyncConnection[Any], settings: Settings) -> None:
    """About once in PRUNE_ONE_IN calls, delete a batch of generations past the retention."""
    if secrets.randbelow(PRUNE_ONE_IN) == 0:
        await prune(connection, timedelta(days=settings.generate_cache_days))


async def prune(connection: AsyncConnection[Any], max_age: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` generations older than `max_age`; how many went (0 when cut short by the timeout)."""
    try:
        return await repository.delete_expired_generations(connection, max_age, batch, PRUNE_TIMEOUT_MS)
    except QueryCanceled:
        log.info("pruning expired generations took over %d ms; left for a later request", PRUNE_TIMEOUT_MS)
        return 0
