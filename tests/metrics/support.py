"""Helpers for the metrics tests: a settable clock, request records, and the stored rows read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from lectern.web.edge import RequestRecord


@dataclass
class Clock:
    """Monotonic and wall time that move only when told.

    Wall time starts at the beginning of the real current minute (pruning compares with the database's
    now()), so a test that moves less than a minute keeps its counts in one row.
    """

    mono: float = 1_000.0
    wall: float = field(default_factory=lambda: time.time() // 60 * 60)

    def monotonic(self) -> float:
        return self.mono

    def wall_clock(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def request(
    duration_s: float = 0.02,
    *,
    route: str = "/api/health",
    method: str = "GET",
    status: int = 200,
    cold_start: bool = False,
    init_duration_s: float | None = None,
) -> RequestRecord:
    return RequestRecord(
        method=method,
        route=route,
        status=status,
        duration_s=duration_s,
        request_id="test",
        cold_start=cold_start,
        init_duration_s=init_duration_s,
    )


def stored_rows(libpq_url: str) -> list[dict[str, Any]]:
    """Every request_metrics row, the folded per-series totals (1970-01-01) first."""
    with psycopg.connect(libpq_url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT *, minute = 'epoch' AS folded FROM request_metrics ORDER BY minute, route, method, status_class"
        ).fetchall()


def requests_by_route(libpq_url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in stored_rows(libpq_url):
        counts[row["route"]] = counts.get(row["route"], 0) + row["requests"]
    return counts


class StalledDatabase:
    """A database whose sessions hang until released, then fail as an unreachable server does."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.attempts = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        self.attempts += 1
        self.entered.set()
        await self.release.wait()
        raise ConnectionRefusedError("database unreachable")
        yield  # pragma: no cover
