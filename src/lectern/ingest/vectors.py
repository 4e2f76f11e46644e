"""Vectors for the book index: one model per index, chunks embedded in batches, stored pages re-embedded, and an
HNSW (cosine) index for the vectors' size.

Vectors of two models cannot be compared, so ingest refuses to add a second model's vectors to the index and
names the command that replaces them (`lectern reembed`). Search only compares a query with vectors of its own
model, so during a re-embed the pages not yet done are found by their keywords alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lectern.errors import ConfigError
from lectern.ingest import store
from lectern.ingest.store import IndexedModel, PageVectors
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.llm.errors import LLMError
from lectern.settings import Settings

REEMBED_COMMAND = "lectern reembed"

# Called after each page re-embedded (or skipped because it changed meanwhile): its source path and chunks.
PageEmbedded = Callable[[str, int], None]


class EmbeddingsMismatch(ConfigError):
    """The index holds vectors of another model or size than the configured one."""


class EmbeddingsFailed(ConfigError):
    """The embeddings model failed (or is missing) while indexing; what was written before stays."""


def configured_embedder(settings: Settings) -> Embedder | None:
    """The embedder EMBEDDINGS selects (None: keyword search only), as a ConfigError when it cannot work."""
    try:
        return embedder_for(settings)
    except LLMError as exc:
        raise EmbeddingsFailed(exc.detail) from None


def _described(model: str, dimensions: int | None) -> str:
    return f"{dimensions}-dimensional vectors from {model}" if dimensions else f"vectors from {model}"


def mismatch(indexed: IndexedModel, embedder: Embedder, dimensions: int | None) -> EmbeddingsMismatch:
    """The error naming the index's vectors, the configured ones, and the command that reconciles them."""
    pages = f"{indexed.pages:,} page" + ("" if indexed.pages == 1 else "s")
    return EmbeddingsMismatch(
        f"the book index holds {_described(indexed.model, indexed.dimensions)} ({pages}), but the configured "
        f"embeddings give {_described(embedder.model, dimensions)} (EMBEDDINGS, EMBEDDINGS_MODEL, "
        f"EMBEDDINGS_DIMENSIONS). Run `{REEMBED_COMMAND}` to recompute every vector with the configured model, "
        "or configure the model the index was built with"
    )


@dataclass
class IndexCheck:
    """What the index holds, checked against one embedder: call `vectors_made` with the first vectors it returns."""

    embedder: Embedder
    indexed: IndexedModel | None
    made: int | None = None  # the size of the vectors the embedder returned

    @classmethod
    async def of(cls, session: AsyncSession, embedder: Embedder) -> IndexCheck:
        """Raise EmbeddingsMismatch when the index holds another model's vectors, or (if known) another size."""
        indexed = await store.indexed_models(session)
        for other in indexed:
            if other.model != embedder.model or embedder.dimensions not in (None, other.dimensions):
                raise mismatch(other, embedder, embedder.dimensions)
        return cls(embedder, indexed[0] if indexed else None)

    def vectors_made(self, dimensions: int) -> None:
        """Raise EmbeddingsMismatch when the model's vectors do not have the index's size."""
        if self.indexed is not None and dimensions != self.indexed.dimensions:
            raise mismatch(self.indexed, self.embedder, dimensions)
        self.made = dimensions

    @property
    def dimensions(self) -> int | None:
        """The size of this model's vectors in the index, once known."""
        return self.made or (self.indexed.dimensions if self.indexed else None)


async def embed_texts(embedder: Embedder, pages: Sequence[Sequence[str]], check: IndexCheck) -> list[PageVectors]:
    """Vectors for each page's chunk texts, in one run of batches; EmbeddingsFailed when the model fails."""
    texts = [text for page in pages for text in page]
    try:
        flat = await embedder.embed(texts)
    except LLMError as exc:
        raise EmbeddingsFailed(f"{exc.detail} Pages written before this stay; run the command again.") from None
    if flat:
        sizes = {len(vector) for vector in flat}
        if len(sizes) > 1:
            raise EmbeddingsFailed(f"the embeddings model returned vectors of several sizes: {sorted(sizes)}")
        check.vectors_made(sizes.pop())
    found: list[PageVectors] = []
    start = 0
    for page in pages:
        found.append(PageVectors(embedder.model, flat[start : start + len(page)]))
        start += len(page)
    return found


@dataclass
class EmbedReport:
    """What re-embedding stored pages did."""

    pages: int = 0
    chunks: int = 0
    skipped: int = 0  # pages rewritten by an ingest meanwhile (the ingest gave them vectors)


async def embed_stored_pages(
    engine: AsyncEngine,
    embedder: Embedder,
    page_ids: Sequence[uuid.UUID],
    check: IndexCheck,
    *,
    on_page: PageEmbedded | None = None,
) -> EmbedReport:
    """Give these stored pages vectors from `embedder`, a batch of pages at a time, one transaction per page.

    Nothing is held open while the model works: pages are read, embedded, then each written in a short
    transaction that checks the page has not changed meanwhile.
    """
    report = EmbedReport()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    # Pages hold a few chunks each: read enough pages for a few model batches at a time.
    step = max(8, embedder.batch_size)
    for start in range(0, len(page_ids), step):
        async with AsyncSession(engine) as session:
            batch = await store.pages_to_embed(session, page_ids[start : start + step])
        for pages in _by_chunks(batch, embedder.batch_size):
            made = await embed_texts(embedder, [[text for _, text in page.chunks] for page in pages], check)
            for page, vectors in zip(pages, made, strict=True):
                async with sessions.begin() as session:
                    stored = await store.store_vectors(session, page, vectors)
                if stored:
                    report.pages += 1
                    report.chunks += len(page.chunks)
                else:
                    report.skipped += 1
                if on_page is not None:
                    on_page(page.source_path, len(page.chunks) if stored else 0)
    return report


def _by_chunks(pages: Sequence[store.PageToEmbed], batch_size: int) -> list[list[store.PageToEmbed]]:
    """Consecutive pages grouped so that each group holds about `batch_size` chunks (a large page stays whole)."""
    groups: list[list[store.PageToEmbed]] = []
    size = 0
    for page in pages:
        if not groups or size + len(page.chunks) > batch_size and size > 0:
            groups.append([])
            size = 0
        groups[-1].append(page)
        size += len(page.chunks)
    return groups


async def index_vectors(engine: AsyncEngine, dimensions: int) -> bool:
    """Make the HNSW index for vectors of this size if it is missing (False: too large to index, searched exactly)."""
    async with async_sessionmaker(engine).begin() as session:
        return await store.create_vector_index(session, dimensions)


@dataclass(frozen=True)
class ReembedReport:
    """What `reembed` did."""

    model: str
    dimensions: int
    pages: int
    chunks: int
    skipped: int
    indexes_dropped: tuple[int, ...]


async def model_dimensions(embedder: Embedder) -> int:
    """The size of the embedder's vectors: EMBEDDINGS_DIMENSIONS, else asked of the model with one short text."""
    if embedder.dimensions is not None:
        return embedder.dimensions
    try:
        (vector,) = await embedder.embed(["How large are your vectors?"])
    except LLMError as exc:
        raise EmbeddingsFailed(exc.detail) from None
    return len(vector)


async def reembed(
    engine: AsyncEngine,
    embedder: Embedder,
    *,
    everything: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_page: PageEmbedded | None = None,
) -> ReembedReport:
    """Recompute the vectors of every page that lacks the embedder's (of its size), or of all pages (`everything`).

    The index for the new size is made at the end, and indexes of sizes no page uses any more are dropped.
    """
    dimensions = await model_dimensions(embedder)
    async with AsyncSession(engine) as session:
        page_ids = await store.pages_without_vectors(
            session, model=None if everything else embedder.model, dimensions=dimensions
        )
    if on_start is not None:
        on_start(len(page_ids))
    check = IndexCheck(embedder, IndexedModel(embedder.model, dimensions, 0))
    report = await embed_stored_pages(engine, embedder, page_ids, check, on_page=on_page)
    await index_vectors(engine, dimensions)
    dropped: list[int] = []
    async with async_sessionmaker(engine).begin() as session:
        in_use = {model.dimensions for model in await store.indexed_models(session)}
        for size in await store.vector_index_sizes(session):
            if size not in in_use:
                await store.drop_vector_index(session, size)
                dropped.append(size)
    return ReembedReport(embedder.model, dimensions, report.pages, report.chunks, report.skipped, tuple(dropped))
