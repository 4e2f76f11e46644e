"""Metrics fixtures: a recorder on the test database with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from lectern.db.session import Database
from lectern.metrics.recorder import MetricsRecorder
from tests.metrics.support import Clock
from tests.web.fixtures import lectern_log, make_client

__all__ = ["clock", "database", "lectern_log", "make_client", "recorder"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def database(make_settings: Any) -> AsyncIterator[Database]:
    db = Database(make_settings())
    yield db
    await db.dispose()


@pytest.fixture
def recorder(database: Database, clock: Clock) -> MetricsRecorder:
    """Flushes after 10 s of (fake) time and keeps 14 days."""
    return MetricsRecorder(
        database, flush_seconds=10, retention_days=14, monotonic=clock.monotonic, wall_clock=clock.wall_clock
    )
