"""Migration 0007 on a database ingested before it: `lectern db upgrade` indexes the existing chunks (postings,
term counters, locale totals) so that search works at once, and the downgrade removes the index again."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db import migrate
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.search.repository import keyword_hits
from lectern.settings import Settings
from tests.conftest import JWT_SECRET
from tests.db.fixtures import downgrade, empty_database
from tests.search.conftest import BASE_URL, PAGES, TARGET_CHARS, write_book
from tests.search.postings import IN_STEP, index_differences, python_bm25

QUESTION = "How can I rotate my refresh tokens safely?"
INDEX_TABLES = ("book_postings", "book_terms", "book_locales")

__all__ = ["empty_database"]


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {name for (name,) in rows}


async def test_upgrading_an_ingested_database_indexes_its_chunks(empty_database: str, tmp_path: Path) -> None:
    database = empty_database
    url = database.replace("postgresql+psycopg://", "postgresql://", 1)
    # Ingested at the head, then taken back to 0006: today's ingest writes columns 0006 did not have yet.
    migrate.upgrade(database)
    db = Database(Settings(app_env="test", database_url=database, jwt_secret=JWT_SECRET, lectern_data_dir=tmp_path))
    try:
        report = await ingest_book(
            await db.engine(),
            write_book(tmp_path / "site"),
            IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS),
            embedder=None,
        )
        assert report.pages_written == len(PAGES)
        downgrade(database, "0006")
        assert not tables(url) & set(INDEX_TABLES)

        migrate.upgrade(database)

        with psycopg.connect(url) as conn:
            assert index_differences(conn) == IN_STEP
            exact = python_bm25(conn, QUESTION)
        async with AsyncSession(await db.engine()) as session:
            found = await keyword_hits(session, QUESTION, k=50, locale="en")
        assert [hit.score for hit in found] == pytest.approx(sorted(exact.values(), reverse=True))
        assert found[0].url == f"{BASE_URL}/docs/guides/sessions#refresh-tokens"
    finally:
        await db.dispose()

    downgrade(database, "0006")
    assert not tables(url) & set(INDEX_TABLES)
    with psycopg.connect(url) as conn:
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'book_chunks_%'").fetchone()
        assert triggers == (0,)
    migrate.upgrade(database)
    with psycopg.connect(url) as conn:
        assert index_differences(conn) == IN_STEP
