"""All SQL for request metrics: the flush's one upsert, pruning into per-series totals, and summed reads.

Bucket counts are a bigint[] of BUCKETS elements; the statements add them element by element with
subscripts generated from that constant (fixed SQL text, never input).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.metrics.counts import MinuteKey, Series, Tally
from lectern.metrics.histogram import BUCKETS

FOLDED_MINUTE = datetime(1970, 1, 1, tzinfo=UTC)
_SUBSCRIPTS = range(1, BUCKETS + 1)
_COLUMNS = "minute, route, method, status_class, requests, duration_us, buckets, cold_starts, init_us"
_ADD_TO_EXISTING = f"""
ON CONFLICT (minute, route, method, status_class) DO UPDATE SET
    requests = t.requests + excluded.requests,
    duration_us = t.duration_us + excluded.duration_us,
    buckets = ARRAY[{", ".join(f"t.buckets[{i}] + excluded.buckets[{i}]" for i in _SUBSCRIPTS)}],
    cold_starts = t.cold_starts + excluded.cold_starts,
    init_us = t.init_us + excluded.init_us
"""
_SUMS = f"""
    sum(requests)::bigint, sum(duration_us)::bigint,
    ARRAY[{", ".join(f"sum(buckets[{i}])::bigint" for i in _SUBSCRIPTS)}],
    sum(cold_starts)::bigint, sum(init_us)::bigint
"""

# Every row of a flush in one statement: the rows travel as one JSON parameter.
ADD_COUNTS = text(
    f"""
INSERT INTO request_metrics AS t ({_COLUMNS})
SELECT {_COLUMNS}
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
    minute timestamptz, route text, method text, status_class integer,
    requests bigint, duration_us bigint, buckets bigint[], cold_starts bigint, init_us bigint
)
{_ADD_TO_EXISTING}
"""  # noqa: S608
)

# Minutes past retention are deleted and folded into one row per series at FOLDED_MINUTE, so the totals
# served to Prometheus as counters never go down when old minutes are dropped. (Not '-infinity': drivers
# cannot load it into a datetime.)
PRUNE = text(
    f"""
WITH expired AS (
    DELETE FROM request_metrics
    WHERE minute < now() - make_interval(days => :days) AND minute > :folded
    RETURNING *
)
INSERT INTO request_metrics AS t ({_COLUMNS})
SELECT CAST(:folded AS timestamptz), route, method, status_class, {_SUMS}
FROM expired
GROUP BY route, method, status_class
ORDER BY route, method, status_class
{_ADD_TO_EXISTING}
"""  # noqa: S608
)

TOTALS = text(
    f"""
SELECT route, method, status_class, {_SUMS}
FROM request_metrics
WHERE minute >= coalesce(CAST(:since AS timestamptz), '-infinity')
  AND minute < coalesce(CAST(:until AS timestamptz), 'infinity')
GROUP BY route, method, status_class
ORDER BY route, method, status_class
"""  # noqa: S608
)


def minute_start(minute: int) -> datetime:
    """The UTC start of a minute counted from the epoch."""
    return datetime.fromtimestamp(minute * 60, UTC)


async def add_counts(session: AsyncSession, pending: Mapping[MinuteKey, Tally]) -> None:
    """Add the counts to their rows (creating missing ones), in one statement."""
    rows = [
        {
            "minute": minute_start(minute).isoformat(),
            "route": route,
            "method": method,
            "status_class": status_class,
            "requests": tally.requests,
            "duration_us": tally.duration_us,
            "buckets": tally.buckets,
            "cold_starts": tally.cold_starts,
            "init_us": tally.init_us,
        }
        # In key order, so two instances flushing the same rows lock them in the same order (no deadlock).
        for (minute, route, method, status_class), tally in sorted(pending.items(), key=lambda item: item[0])
    ]
    if rows:
        await session.execute(ADD_COUNTS, {"rows": json.dumps(rows)})


async def prune(session: AsyncSession, *, retention_days: int) -> None:
    """Fold the minutes older than the retention into the per-series totals row."""
    await session.execute(PRUNE, {"days": retention_days, "folded": FOLDED_MINUTE})


async def totals(session: AsyncSession, since: datetime | None = None, until: datetime | None = None) -> list[Series]:
    """Counts per route, method and status class summed over [since, until); all kept history by default.

    With `since` unset, the totals of pruned minutes are included (what Prometheus counters need).
    """
    result = await session.execute(TOTALS, {"since": since, "until": until})
    return [
        Series(
            route=row[0],
            method=row[1],
            status_class=row[2],
            tally=Tally(requests=row[3], duration_us=row[4], buckets=list(row[5]), cold_starts=row[6], init_us=row[7]),
        )
        for row in result.all()
    ]
