"""Writing one page: its chunks go in as one statement and come back exactly as given, with their term counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.db.session import Database
from lectern.ingest import store
from lectern.ingest.chunking import Chunk
from lectern.ingest.store import PageRow, PageVectors

PAGE = PageRow(
    book="default",
    locale="en",
    source_path="docs/odd.md",
    doc_id="odd",
    title='Odd "titles"',
    route="/odd",
    url="/docs/odd",
    description=None,
    search_config="english",
    content_hash="0" * 64,
)
HEADINGS = [('Odd "titles"',), ('Odd "titles"', "back\\slash, comma", "ünïcödé {braces} [brackets]")]


def chunks(*bodies: str) -> list[Chunk]:
    return [
        Chunk(i, f"{' › '.join(HEADINGS[i % 2])}\n\n{body}", body, HEADINGS[i % 2], f"s{i}" if i else None, PAGE.url)
        for i, body in enumerate(bodies)
    ]


@pytest.fixture
async def engine(make_settings: Any) -> AsyncIterator[AsyncEngine]:
    database = Database(make_settings())
    yield await database.engine()
    await database.dispose()


async def write(engine: AsyncEngine, written: list[Chunk], vectors: PageVectors | None = None) -> store.PageWrite:
    async with AsyncSession(engine) as session, session.begin():
        return await store.replace_page(session, PAGE, written, vectors)


async def test_chunks_come_back_as_written(engine: AsyncEngine, clean_database: str) -> None:
    written = chunks("Kubernetes operators run pods.", "Operators, again: operators.", "The end")
    vectors = PageVectors("test:model", [[1.0, 0.0, 0.5], [0.0, 1.0, 0.25], [0.5, 0.5, 0.0]])

    result = await write(engine, written, vectors)

    assert (result.chunks_deleted, result.chunks_written) == (0, 3)
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute(
            """SELECT ordinal, text, heading_path, anchor, url, locale, char_count, term_count, embedding::text
               FROM book_chunks WHERE page_id = %s ORDER BY id""",
            [result.page_id],
        ).fetchall()
        page = conn.execute(
            "SELECT chunk_count, term_count, embedding_model, embedding_dimensions FROM book_pages WHERE id = %s",
            [result.page_id],
        ).fetchone()
    assert [row[:7] for row in rows] == [
        (c.ordinal, c.text, list(c.heading_path), c.anchor, c.url, "en", c.char_count) for c in written
    ]
    assert [row[8] for row in rows] == ["[1,0,0.5]", "[0,1,0.25]", "[0.5,0.5,0]"]
    assert page == (3, sum(row[7] for row in rows), "test:model", 3)
    assert all(row[7] > 0 for row in rows)


async def test_a_page_rewritten_without_chunks_keeps_its_row_and_counts_nothing(
    engine: AsyncEngine, clean_database: str
) -> None:
    first = await write(engine, chunks("Kubernetes operators run pods.", "More text."))

    again = await write(engine, [])

    assert again.page_id == first.page_id and (again.chunks_deleted, again.chunks_written) == (2, 0)
    with psycopg.connect(clean_database) as conn:
        assert conn.execute("SELECT chunk_count, term_count FROM book_pages").fetchall() == [(0, 0)]
        assert conn.execute("SELECT count(*) FROM book_chunks").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM book_postings").fetchone() == (0,)
