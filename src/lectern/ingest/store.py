"""All SQL that writes the book index: pages keyed by (book, locale, source path) and their chunks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import BookChunk, BookPage
from lectern.ingest.chunking import Chunk


@dataclass(frozen=True)
class StoredPage:
    """What a new run needs to know about a page already in the index."""

    id: uuid.UUID
    locale: str
    source_path: str
    content_hash: str


@dataclass(frozen=True)
class PageRow:
    """The values of one `book_pages` row, before its chunks are counted."""

    book: str
    locale: str
    source_path: str
    doc_id: str
    title: str
    route: str
    url: str
    description: str | None
    search_config: str
    content_hash: str


@dataclass(frozen=True)
class PageWrite:
    """What replacing one page did."""

    page_id: uuid.UUID
    chunks_deleted: int
    chunks_written: int


# The analyzer runs in PostgreSQL, so the term count (BM25's document length) is read off the vector it built.
_INSERT_CHUNK = text(
    """
    INSERT INTO book_chunks (page_id, ordinal, text, heading_path, anchor, url, locale, char_count, term_count, tsv)
    SELECT :page_id, :ordinal, :text, CAST(:heading_path AS text[]), :anchor, :url, :locale, :char_count,
           (SELECT coalesce(sum(cardinality(t.positions)), 0) FROM unnest(v.tsv) AS t),
           v.tsv
    FROM (SELECT to_tsvector(CAST(:search_config AS regconfig), :text) AS tsv) AS v
    """
)


async def stored_pages(session: AsyncSession, book: str) -> list[StoredPage]:
    """Every page of `book` in the index."""
    rows = await session.execute(
        select(BookPage.id, BookPage.locale, BookPage.source_path, BookPage.content_hash).where(BookPage.book == book)
    )
    return [StoredPage(*row) for row in rows]


async def replace_page(session: AsyncSession, page: PageRow, chunks: Sequence[Chunk]) -> PageWrite:
    """Insert or update the page and swap its whole chunk set; the caller's transaction makes it atomic."""
    values = asdict(page)
    changing = {k: v for k, v in values.items() if k not in ("book", "locale", "source_path")}
    upsert = (
        insert(BookPage)
        .values(**values, chunk_count=len(chunks), term_count=0)
        .on_conflict_do_update(
            index_elements=[BookPage.book, BookPage.locale, BookPage.source_path],
            set_={**changing, "chunk_count": len(chunks), "updated_at": func.now()},
        )
        .returning(BookPage.id)
    )
    page_id: uuid.UUID = (await session.execute(upsert)).scalar_one()
    deleted = await session.execute(delete(BookChunk).where(BookChunk.page_id == page_id).returning(BookChunk.id))
    if chunks:
        await session.execute(
            _INSERT_CHUNK,
            [
                {
                    "page_id": page_id,
                    "ordinal": chunk.ordinal,
                    "text": chunk.text,
                    "heading_path": list(chunk.heading_path),
                    "anchor": chunk.anchor,
                    "url": chunk.url,
                    "locale": page.locale,
                    "char_count": chunk.char_count,
                    "search_config": page.search_config,
                }
                for chunk in chunks
            ],
        )
    terms = select(func.coalesce(func.sum(BookChunk.term_count), 0)).where(BookChunk.page_id == page_id)
    await session.execute(update(BookPage).where(BookPage.id == page_id).values(term_count=terms.scalar_subquery()))
    return PageWrite(page_id, len(deleted.all()), len(chunks))


async def delete_pages(session: AsyncSession, page_ids: Sequence[uuid.UUID]) -> int:
    """Delete pages (their chunks go with them); returns how many chunks went."""
    if not page_ids:
        return 0
    result = await session.execute(delete(BookPage).where(BookPage.id.in_(page_ids)).returning(BookPage.chunk_count))
    return sum(result.scalars())
