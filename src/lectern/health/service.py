"""Readiness checks in the IETF health-check format (draft-inadarei-api-health-check)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text

READINESS_TIMEOUT_S = 3.0
SLOW_DATABASE_MS = 1000


@lru_cache
def _head_revision() -> str | None:
    from lectern.db.migrate import head_revision

    return head_revision()


def _check(status: str, **fields: Any) -> list[dict[str, Any]]:
    return [{"status": status, "time": datetime.now(UTC).isoformat(timespec="seconds"), **fields}]


async def readiness(engine_factory: Any) -> dict[str, Any]:
    """Database reachability and latency, and whether migrations are at the package's head."""
    checks: dict[str, list[dict[str, Any]]] = {}
    started = time.perf_counter()
    try:
        engine = await asyncio.wait_for(engine_factory(), READINESS_TIMEOUT_S)
        async with asyncio.timeout(READINESS_TIMEOUT_S), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            exists = (await connection.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL"))).scalar()
            current = (
                (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar() if exists else None
            )
    except Exception as exc:  # any failure to reach the database is a failed check, never a 500
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        checks["database:responseTime"] = _check(
            "fail",
            componentType="datastore",
            observedValue=elapsed,
            observedUnit="ms",
            output=f"cannot reach the database ({reason})",
        )
        checks["database:migrations"] = _check(
            "fail", componentType="datastore", output="unknown: database unreachable"
        )
        return {"status": "fail", "checks": checks}
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    db_status = "warn" if elapsed > SLOW_DATABASE_MS else "pass"
    checks["database:responseTime"] = _check(
        db_status, componentType="datastore", observedValue=elapsed, observedUnit="ms"
    )
    head = await asyncio.to_thread(_head_revision)
    if current == head:
        checks["database:migrations"] = _check("pass", componentType="datastore", observedValue=current)
    else:
        checks["database:migrations"] = _check(
            "fail",
            componentType="datastore",
            observedValue=current,
            output=f"database at {current or 'no revision'}, code expects {head}: run `lectern db upgrade`",
        )
    statuses = [entry[0]["status"] for entry in checks.values()]
    overall = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    return {"status": overall, "checks": checks}
