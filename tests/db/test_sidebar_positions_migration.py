"""Migration 0008 on a database ingested before it: pages keep a null `sidebar_positions` (their number prefixes
still order them) until the next ingest, and the downgrade drops the column."""

from __future__ import annotations

from pathlib import Path

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.book.service import list_pages
from lectern.db import migrate
from lectern.db.session import Database
from lectern.settings import Settings
from tests.conftest import JWT_SECRET
from tests.db.fixtures import downgrade, empty_database

__all__ = ["empty_database"]

_PAGE = """
INSERT INTO book_pages (book, locale, source_path, doc_id, title, route, url, search_config, content_hash,
                        chunk_count, term_count)
VALUES ('default', 'en', %(path)s, %(path)s, %(title)s, %(route)s, %(route)s, 'english', '', 0, 0)
"""


def columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'book_pages'")
        return {name for (name,) in rows}


async def test_pages_ingested_before_keep_their_prefix_order(empty_database: str, tmp_path: Path) -> None:
    database = empty_database
    url = database.replace("postgresql+psycopg://", "postgresql://", 1)
    migrate.upgrade(database, "0007")
    with psycopg.connect(url) as conn:
        # By name, 10-later.md comes first; by number prefix, 9-sooner.md does.
        conn.execute(_PAGE, {"path": "10-later.md", "title": "Later", "route": "/later"})
        conn.execute(_PAGE, {"path": "9-sooner.md", "title": "Sooner", "route": "/sooner"})
    assert "sidebar_positions" not in columns(url)

    migrate.upgrade(database)

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT DISTINCT sidebar_positions FROM book_pages").fetchall() == [(None,)]
    db = Database(Settings(app_env="test", database_url=database, jwt_secret=JWT_SECRET, lectern_data_dir=tmp_path))
    try:
        async with AsyncSession(await db.engine()) as session:
            listed = await list_pages(session)
    finally:
        await db.dispose()
    assert [page.title for page in listed.pages] == ["Sooner", "Later"]

    downgrade(database, "0007")
    assert "sidebar_positions" not in columns(url)
    migrate.upgrade(database)
    assert "sidebar_positions" in columns(url)
