"""Stored generations expire: a hit older than GENERATE_CACHE_DAYS is a miss, and expired rows are deleted in small
batches by the generations that run, skipping rows in use and giving up rather than making a reader wait."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lectern.errors import ConfigError
from lectern.generate import retention
from lectern.settings import load_settings
from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import generated

SUMMARY = {"task": "summarize", "source": {"page": "robotics/arm"}}
QUIZ = {"task": "quiz", "source": {"page": "robotics/arm"}, "questions": 2}


def age_generations(libpq_url: str, days: float, where: str = "true") -> None:
    """Move stored generations `days` into the past."""
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute(
            f"UPDATE generations SET created_at = now() - make_interval(secs => %s) WHERE {where}",
            (days * 86_400,),
        )


def stored_count(libpq_url: str) -> int:
    with psycopg.connect(libpq_url) as connection:
        row = connection.execute("SELECT count(*) FROM generations").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_stored_result_older_than_the_retention_is_generated_anew(
    make_settings: Any, book: Path, libpq_url: str
) -> None:
    async with instance(make_settings(generate_cache_days=7)) as client:
        headers = await reader_headers(client)
        first = await generated(client, headers, SUMMARY)
        age_generations(libpq_url, 6.9)
        young = await generated(client, headers, SUMMARY)
        age_generations(libpq_url, 7.1)
        expired = await generated(client, headers, SUMMARY)
        again = await generated(client, headers, SUMMARY)

    assert (first["cached"], young["cached"], expired["cached"], again["cached"]) == (False, True, False, True)
    assert expired["created_at"] > young["created_at"]
    assert stored_count(libpq_url) == 1  # the expired row was replaced, not duplicated


async def test_the_default_retention_is_thirty_days(make_settings: Any, book: Path, libpq_url: str) -> None:
    async with instance(make_settings()) as client:
        headers = await reader_headers(client)
        await generated(client, headers, SUMMARY)
        age_generations(libpq_url, 29.9)
        kept = await generated(client, headers, SUMMARY)
        age_generations(libpq_url, 30.1)
        expired = await generated(client, headers, SUMMARY)

    assert (kept["cached"], expired["cached"]) == (True, False)


async def test_generations_prune_expired_rows_of_every_reader(
    make_settings: Any, book: Path, libpq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with instance(make_settings(generate_cache_days=7)) as client:
        others = [await reader_headers(client, f"other{n}@example.org") for n in range(3)]
        for headers in others:
            await generated(client, headers, SUMMARY)
        await generated(client, others[0], QUIZ)
        age_generations(libpq_url, 8, "task = 'summarize'")
        monkeypatch.setattr(retention, "PRUNE_ONE_IN", 1)  # every miss prunes
        reader = await reader_headers(client)
        await generated(client, reader, SUMMARY)

    with psycopg.connect(libpq_url) as connection:
        left = connection.execute("SELECT task, count(*) FROM generations GROUP BY task ORDER BY task").fetchall()
    assert left == [("quiz", 1), ("summarize", 1)]  # the young quiz, and the new reader's summary


async def test_a_hit_does_not_prune(
    make_settings: Any, book: Path, libpq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with instance(make_settings(generate_cache_days=7)) as client:
        reader, other = await reader_headers(client), await reader_headers(client, "other@example.org")
        await generated(client, other, SUMMARY)
        await generated(client, reader, SUMMARY)
        age_generations(libpq_url, 8, "user_id = (SELECT id FROM users WHERE email = 'other@example.org')")
        monkeypatch.setattr(retention, "PRUNE_ONE_IN", 1)
        hit = await generated(client, reader, SUMMARY)

    assert hit["cached"] is True
    assert stored_count(libpq_url) == 2


async def test_pruning_is_bounded_and_skips_rows_in_use(make_settings: Any, book: Path, libpq_url: str) -> None:
    async with instance(make_settings()) as client:
        for n in range(4):
            await generated(client, await reader_headers(client, f"r{n}@example.org"), SUMMARY)
    age_generations(libpq_url, 40)
    with psycopg.connect(libpq_url) as holder:
        # Another transaction holds one row (as a refresh replacing it would): it is skipped, not waited for.
        holder.execute("SELECT id FROM generations ORDER BY created_at LIMIT 1 FOR UPDATE")
        async with await psycopg.AsyncConnection.connect(libpq_url, autocommit=True) as connection:
            first = await retention.prune(connection, timedelta(days=30), batch=2)
            second = await retention.prune(connection, timedelta(days=30), batch=2)
        holder.rollback()

    assert (first, second) == (2, 1)
    assert stored_count(libpq_url) == 1


async def test_pruning_gives_up_rather_than_wait(make_settings: Any, book: Path, libpq_url: str) -> None:
    async with instance(make_settings()) as client:
        await generated(client, await reader_headers(client), SUMMARY)
    age_generations(libpq_url, 40)
    with psycopg.connect(libpq_url) as holder:
        holder.execute("LOCK TABLE generations IN ACCESS EXCLUSIVE MODE")
        async with await psycopg.AsyncConnection.connect(libpq_url, autocommit=True) as connection:
            deleted = await asyncio.wait_for(retention.prune(connection, timedelta(days=30)), timeout=5)
            timeout = (await (await connection.execute("SHOW statement_timeout")).fetchone() or ("",))[0]
        holder.rollback()

    assert deleted == 0
    assert timeout == "0"  # the connection goes back to its pool as it came
    assert stored_count(libpq_url) == 1


@pytest.mark.parametrize("value", ["0", "-1", "3651", "thirty"])
def test_the_retention_is_validated(value: str) -> None:
    with pytest.raises(ConfigError, match="GENERATE_CACHE_DAYS"):
        load_settings(generate_cache_days=value)
