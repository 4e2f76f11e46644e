"""All SQL that writes the book index: pages keyed by (book, locale, source path), their chunks and vectors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import BookPage
from lectern.ingest.chunking import Chunk


@dataclass(frozen=True)
class StoredPage:
    """What a new run needs to know about a page already in the index."""

    id: uuid.UUID
    locale: str
    source_path: str
    content_hash: str
    embedding_model: str | None = None
    embedding_dimensions: int | None = None


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
    # Each enclosing folder's sidebar position, then the page's (lectern.ingest.tree.SourcePage.sidebar_positions);
    # None leaves the column null, and readers fall back to the number prefixes of the source path.
    sidebar_positions: Sequence[float | None] | None = None


@dataclass(frozen=True)
class PageWrite:
    """What replacing one page did."""

    page_id: uuid.UUID
    chunks_deleted: int
    chunks_written: int


@dataclass(frozen=True)
class PageVectors:
    """A page's chunk vectors and the model that made them."""

    model: str
    vectors: Sequence[Sequence[float]]

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0


@dataclass(frozen=True)
class IndexedModel:
    """A model whose vectors the index holds, with their size and how many pages have them."""

    model: str
    dimensions: int
    pages: int


@dataclass(frozen=True)
class PageToEmbed:
    """A stored page whose chunks need vectors, with its chunks' ids and texts in order."""

    id: uuid.UUID
    source_path: str
    content_hash: str
    chunks: tuple[tuple[int, str], ...]


# The page's row inserted or updated, its old chunks deleted (the triggers of migration 0007 unindex them), in one
# round trip. The commit need not wait for the WAL to reach the disk, which is most of a small page's write: a
# crash can lose only the last pages written, each whole, and the next run finds them missing or stale and writes
# them again.
_REPLACE_PAGE = text(
    """
    WITH page AS (
        INSERT INTO book_pages AS p
            (book, locale, source_path, doc_id, title, route, url, description, search_config, content_hash,
             sidebar_positions, chunk_count, term_count, embedding_model, embedding_dimensions)
        VALUES (:book, :locale, :source_path, :doc_id, :title, :route, :url, :description, :search_config,
                :content_hash, CAST(:sidebar_positions AS double precision[]), :chunks, 0, :embedding_model,
                :embedding_dimensions)
        ON CONFLICT (book, locale, source_path) DO UPDATE
            SET doc_id = excluded.doc_id, title = excluded.title, route = excluded.route, url = excluded.url,
                description = excluded.description, search_config = excluded.search_config,
                content_hash = excluded.content_hash, sidebar_positions = excluded.sidebar_positions,
                chunk_count = excluded.chunk_count, term_count = 0,
                embedding_model = excluded.embedding_model, embedding_dimensions = excluded.embedding_dimensions,
                updated_at = now()
        RETURNING p.id
    ),
    gone AS (
        DELETE FROM book_chunks WHERE page_id = (SELECT id FROM page) RETURNING id
    )
    SELECT (SELECT id FROM page), (SELECT count(*) FROM gone), set_config('synchronous_commit', 'off', true)
    """
)

# A page's chunks in one statement, so the triggers that index them (postings, term counters, locale totals) run
# once per page; the page's term count is their sum. The analyzer runs in PostgreSQL, so a chunk's term count
# (BM25's document length) is read off the vector it built. Heading paths travel as JSON arrays: a text[] cannot
# hold arrays of unequal lengths.
_INSERT_CHUNKS = text(
    """
    WITH inserted AS (
        INSERT INTO book_chunks
            (page_id, ordinal, text, heading_path, anchor, url, locale, char_count, term_count, tsv, embedding)
        SELECT :page_id, c.ordinal, c.text,
               ARRAY(SELECT jsonb_array_elements_text(CAST(c.heading_path AS jsonb))),
               c.anchor, c.url, :locale, c.char_count,
               (SELECT coalesce(sum(cardinality(t.positions)), 0) FROM unnest(v.tsv) AS t),
               v.tsv, CAST(c.embedding AS vector)
        FROM unnest(CAST(:ordinals AS integer[]), CAST(:texts AS text[]), CAST(:heading_paths AS text[]),
                    CAST(:anchors AS text[]), CAST(:urls AS text[]), CAST(:char_counts AS integer[]),
                    CAST(:embeddings AS text[]))
             AS c(ordinal, text, heading_path, anchor, url, char_count, embedding)
        CROSS JOIN LATERAL (SELECT to_tsvector(CAST(:search_config AS regconfig), c.text) AS tsv) AS v
        RETURNING term_count
    )
    UPDATE book_pages SET term_count = (SELECT sum(term_count) FROM inserted) WHERE id = :page_id
    """
)


async def stored_pages(session: AsyncSession, book: str) -> list[StoredPage]:
    """Every page of `book` in the index."""
    rows = await session.execute(
        select(
            BookPage.id,
            BookPage.locale,
            BookPage.source_path,
            BookPage.content_hash,
            BookPage.embedding_model,
            BookPage.embedding_dimensions,
        ).where(BookPage.book == book)
    )
    return [StoredPage(*row) for row in rows]


def vector_literal(vector: Sequence[float]) -> str:
    """A vector in pgvector's text form."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def replace_page(
    session: AsyncSession, page: PageRow, chunks: Sequence[Chunk], vectors: PageVectors | None = None
) -> PageWrite:
    """Insert or update the page and swap its whole chunk set (with their vectors, if given) atomically.

    The caller's transaction makes it atomic.
    """
    if vectors is not None and len(vectors.vectors) != len(chunks):
        raise ValueError(f"{len(vectors.vectors)} vectors for {len(chunks)} chunks")
    model, dimensions = (vectors.model, vectors.dimensions or None) if vectors is not None else (None, None)
    values = {**asdict(page), "embedding_model": model, "embedding_dimensions": dimensions, "chunks": len(chunks)}
    if page.sidebar_positions is not None:
        # A list of floats: psycopg dumps a tuple as a record, and refuses a list that mixes ints and floats.
        values["sidebar_positions"] = [None if p is None else float(p) for p in page.sidebar_positions]
    page_id, deleted, _ = (await session.execute(_REPLACE_PAGE, values)).one()
    if chunks:
        embeddings = [vector_literal(v) for v in vectors.vectors] if vectors is not None else [None] * len(chunks)
        await session.execute(
            _INSERT_CHUNKS,
            {
                "page_id": page_id,
                "locale": page.locale,
                "search_config": page.search_config,
                "ordinals": [chunk.ordinal for chunk in chunks],
                "texts": [chunk.text for chunk in chunks],
                "heading_paths": [json.dumps(list(chunk.heading_path)) for chunk in chunks],
                "anchors": [chunk.anchor for chunk in chunks],
                "urls": [chunk.url for chunk in chunks],
                "char_counts": [chunk.char_count for chunk in chunks],
                "embeddings": embeddings,
            },
        )
    return PageWrite(page_id, deleted, len(chunks))


async def delete_pages(session: AsyncSession, page_ids: Sequence[uuid.UUID]) -> int:
    """Delete pages (their chunks go with them); returns how many chunks went."""
    if not page_ids:
        return 0
    result = await session.execute(delete(BookPage).where(BookPage.id.in_(page_ids)).returning(BookPage.chunk_count))
    return sum(result.scalars())


# HNSW indexes at most 2,000 dimensions of `vector` and 4,000 of `halfvec`; larger vectors are searched exactly.
MAX_VECTOR_INDEX_DIMENSIONS = 2000
MAX_HALFVEC_INDEX_DIMENSIONS = 4000


VECTOR_INDEX_PREFIX = "ix_book_chunks_embedding_"


def vector_index_name(dimensions: int) -> str:
    return f"{VECTOR_INDEX_PREFIX}{int(dimensions)}"


def vector_expression(dimensions: int, column: str = "embedding") -> str:
    """The indexed expression for vectors of one size; queries must order by exactly this expression."""
    kind = "vector" if dimensions <= MAX_VECTOR_INDEX_DIMENSIONS else "halfvec"
    return f"({column}::{kind}({int(dimensions)}))"


async def indexed_models(session: AsyncSession) -> list[IndexedModel]:
    """The models whose vectors the index holds (over every book), the most pages first."""
    rows = await session.execute(
        text(
            """SELECT embedding_model, embedding_dimensions, count(*) FROM book_pages
               WHERE embedding_dimensions IS NOT NULL
               GROUP BY embedding_model, embedding_dimensions ORDER BY count(*) DESC, embedding_model"""
        )
    )
    return [IndexedModel(*row) for row in rows]


async def pages_without_vectors(
    session: AsyncSession, *, model: str | None, dimensions: int | None = None
) -> list[uuid.UUID]:
    """Pages whose chunks lack `model`'s vectors (of this size, if given); every page when `model` is None."""
    query = select(BookPage.id).order_by(BookPage.book, BookPage.locale, BookPage.source_path)
    if model is not None:
        other = BookPage.embedding_model.is_distinct_from(model)
        if dimensions is not None:
            other = other | ((BookPage.chunk_count > 0) & BookPage.embedding_dimensions.is_distinct_from(dimensions))
        query = query.where(other)
    return list((await session.execute(query)).scalars())


async def pages_to_embed(session: AsyncSession, page_ids: Sequence[uuid.UUID]) -> list[PageToEmbed]:
    """These pages with their chunks' ids and texts, in the order given (pages gone since are left out)."""
    rows = await session.execute(
        text(
            """SELECT p.id, p.source_path, p.content_hash,
                      coalesce(array_agg(c.id ORDER BY c.ordinal) FILTER (WHERE c.id IS NOT NULL), '{}'),
                      coalesce(array_agg(c.text ORDER BY c.ordinal) FILTER (WHERE c.id IS NOT NULL), '{}')
               FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS wanted(id, position)
               JOIN book_pages AS p ON p.id = wanted.id
               LEFT JOIN book_chunks AS c ON c.page_id = p.id
               GROUP BY p.id, wanted.position ORDER BY wanted.position"""
        ),
        {"ids": list(page_ids)},
    )
    return [
        PageToEmbed(page_id, path, digest, tuple(zip(ids, texts, strict=True)))
        for page_id, path, digest, ids, texts in rows
    ]


async def store_vectors(session: AsyncSession, page: PageToEmbed, vectors: PageVectors) -> bool:
    """Give a stored page's chunks their vectors; False when the page changed since it was read (left alone)."""
    if len(vectors.vectors) != len(page.chunks):
        raise ValueError(f"{len(vectors.vectors)} vectors for {len(page.chunks)} chunks")
    # Locks the page row: an ingest rewriting the page waits, or has already changed its hash.
    claimed = await session.execute(
        update(BookPage)
        .where(BookPage.id == page.id, BookPage.content_hash == page.content_hash)
        .values(embedding_model=vectors.model, embedding_dimensions=vectors.dimensions or None)
        .returning(BookPage.id)
    )
    if claimed.first() is None:
        return False
    if page.chunks:
        await session.execute(
            text("UPDATE book_chunks SET embedding = CAST(:embedding AS vector) WHERE id = :id AND page_id = :page_id"),
            [
                {"id": chunk_id, "page_id": page.id, "embedding": vector_literal(vector)}
                for (chunk_id, _), vector in zip(page.chunks, vectors.vectors, strict=True)
            ],
        )
    return True


async def vector_index_sizes(session: AsyncSession) -> list[int]:
    """The vector sizes that have an HNSW index."""
    rows = await session.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = 'book_chunks' AND starts_with(indexname, :prefix)"),
        {"prefix": VECTOR_INDEX_PREFIX},
    )
    sizes = (name.removeprefix(VECTOR_INDEX_PREFIX) for name in rows.scalars())
    return sorted(int(size) for size in sizes if size.isdigit())


async def create_vector_index(session: AsyncSession, dimensions: int) -> bool:
    """Make the HNSW (cosine) index for vectors of this size if it is missing; False when the size is too large."""
    if dimensions > MAX_HALFVEC_INDEX_DIMENSIONS:
        return False
    opclass = "vector_cosine_ops" if dimensions <= MAX_VECTOR_INDEX_DIMENSIONS else "halfvec_cosine_ops"
    # A partial index per size: the column takes any size, so a new model's vectors can sit beside the old.
    await session.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {vector_index_name(dimensions)} ON book_chunks "
            f"USING hnsw ({vector_expression(dimensions)} {opclass}) "
            f"WHERE vector_dims(embedding) = {int(dimensions)}"
        )
    )
    return True


async def drop_vector_index(session: AsyncSession, dimensions: int) -> None:
    await session.execute(text(f"DROP INDEX IF EXISTS {vector_index_name(dimensions)}"))
