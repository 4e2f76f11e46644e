"""The metrics sink: each request adds to in-memory counts; a background task adds them to Postgres in one upsert.

Requests never wait for the database (only once per instance, maybe, for an import: see `_write`):
`record` only touches a dict, and when the oldest pending count is `flush_seconds` old it starts a
flush task on the running loop (one at a time). The app's
lifespan flushes what is left at shutdown. A failed flush keeps its counts for the next one (up to
MAX_PENDING_ROWS), so a lost instance loses at most about `flush_seconds` of its traffic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lectern.metrics.counts import MinuteKey, Tally

if TYPE_CHECKING:
    from lectern.db.session import Database
    from lectern.web.edge import RequestRecord

log = logging.getLogger("lectern.metrics")

# Unknown methods share one label, as OpenTelemetry's `_OTHER`: a client must not be able to add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# Rows kept in memory across failed flushes; beyond it a failed batch is dropped (and logged).
MAX_PENDING_ROWS = 10_000
# Pruning rides along with a flush at most this often per instance.
PRUNE_EVERY_S = 3600.0


class MetricsRecorder:
    """One per app: the request sink (`record`), the flusher and the shutdown flush (`close`)."""

    def __init__(
        self,
        database: Database,
        *,
        flush_seconds: float,
        retention_days: int,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self.flush_seconds = flush_seconds
        self.retention_days = retention_days
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._pending: dict[MinuteKey, Tally] = {}
        self._pending_since: float | None = None  # when the oldest pending count arrived (or the last flush failed)
        self._last_prune: float | None = None
        self.flushing: asyncio.Task[None] | None = None  # the background flush in flight, if any

    @property
    def pending(self) -> dict[MinuteKey, Tally]:
        """The counts not yet written (read-only use)."""
        return self._pending

    def record(self, record: RequestRecord) -> None:
        """The request sink: count one request; start a background flush when the pending counts are old enough."""
        # On every request's path: about a microsecond of plain Python (benchmarks/metrics_overhead.py).
        method = record.method if record.method in METHODS else "_OTHER"
        status_class = record.status // 100
        if not 1 <= status_class <= 5:
            status_class = 5 if status_class > 5 else 1
        key = (int(self._wall_clock() // 60), record.route, method, status_class)
        tally = self._pending.get(key)
        if tally is None:
            tally = self._pending[key] = Tally()
        tally.add(record.duration_s, record.cold_start, record.init_duration_s)
        now = self._monotonic()
        if self._pending_since is None:
            self._pending_since = now
        elif now - self._pending_since >= self.flush_seconds and self.flushing is None:
            self._start_flush()

    def _start_flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the app (a script, a test): the next flush takes them
            return
        self.flushing = loop.create_task(self._flush_in_background())

    async def _flush_in_background(self) -> None:
        try:
            await self.flush()
        finally:
            self.flushing = None

    async def flush(self) -> None:
        """Add the pending counts to the database in one statement; on failure keep them (bounded) and log."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        self._pending_since = None
        now = self._monotonic()
        prune = self._last_prune is None or now - self._last_prune >= PRUNE_EVERY_S
        try:
            await self._write(batch, prune=prune)
        except Exception as exc:  # never into a request: the counts wait for the next flush
            self._keep(batch, reason=type(exc).__name__)
            return
        if prune:
            self._last_prune = now

    async def close(self) -> None:
        """At shutdown: let a flush in flight finish, then write what is left."""
        if self.flushing is not None:
            await self.flushing
        await self.flush()

    async def _write(self, batch: dict[MinuteKey, Tally], *, prune: bool) -> None:
        # In an instance that has not used the database yet, this first import of SQLAlchemy pauses the loop
        # once (~0.2 s). Not in a worker thread: under load the thread waits for the GIL at every file it
        # reads, so the import drags on for seconds and costs more CPU than the pause (metrics_overhead.py).
        from lectern.metrics import repository

        async with self._database.session() as session:
            await repository.add_counts(session, batch)
            if prune:
                await repository.prune(session, retention_days=self.retention_days)

    def _keep(self, batch: dict[MinuteKey, Tally], *, reason: str) -> None:
        requests = sum(t.requests for t in batch.values())
        if len(self._pending.keys() | batch.keys()) > MAX_PENDING_ROWS:
            log.error("metrics flush failed (%s); dropped %d requests' counts", reason, requests)
            self._pending_since = self._monotonic()
            return
        log.warning("metrics flush failed (%s); keeping %d requests' counts for the next one", reason, requests)
        for key, tally in batch.items():
            mine = self._pending.get(key)
            if mine is None:
                self._pending[key] = tally
            else:
                mine.merge(tally)
        # Wait a full interval before trying again: a database that is down is not hammered.
        self._pending_since = self._monotonic()
