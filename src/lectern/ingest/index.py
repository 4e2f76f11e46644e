"""Keep the book index in step with a docs tree: plan what changed since the last run, then write it.

A page is unchanged when the hash of its raw bytes and of everything else that shapes it (surrounding category
files, addresses, locale, chunk size, this code's version) matches the stored one: it is neither parsed nor chunked.

A page gone from disk stays indexed until a run with `prune`; a page its author marks draft or unlisted leaves
the index on the next run.

Each new or changed page is written in its own transaction (page row and whole chunk set together, with their
vectors when an embeddings model is configured), so a reader sees either the old page or the new one, and one bad
page cannot undo the others. Vectors are computed before that transaction opens, a batch of pages at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lectern.ingest import store, vectors
from lectern.ingest.chunking import DEFAULT_TARGET_CHARS, Chunk, chunk_page
from lectern.ingest.markdown import DEFAULT_KEPT_COMPONENTS
from lectern.ingest.store import PageRow, PageVectors, StoredPage
from lectern.ingest.tree import BadFile, PageFile, SourcePage, page_url, parse_file, scan_tree
from lectern.llm.embeddings import Embedder
from lectern.settings import get_settings

# Bump when what is stored per page changes (parsing, chunking, analysis, columns): every page is rewritten once.
INDEX_FORMAT = "4"

# PostgreSQL text search configurations by language; any other language is indexed with 'simple'
# (lower-cased words, no stemming, no stopword list: BM25's IDF then keeps frequent words cheap).
SEARCH_CONFIGS = {"en": "english"}

# Called after each page written (or refused) or given vectors: its source path, the chunks written, the chunks
# that got vectors.
PageDone = Callable[[str, int, int], None]
# The default embedder: the one the environment configures (EMBEDDINGS), as `lectern ingest` reads it.
FROM_SETTINGS: Literal["settings"] = "settings"
EmbedderChoice = Embedder | None | Literal["settings"]


def search_config(locale: str) -> str:
    """The text search configuration for a locale: 'english' for en and en-*, else 'simple'."""
    return SEARCH_CONFIGS.get(locale.split("-")[0].lower(), "simple")


@dataclass(frozen=True)
class IngestOptions:
    """How to read the tree and address its pages; `book` names the source root in the index."""

    book: str = "default"
    base_url: str = ""
    route_base: str = "/docs"
    locale: str = "en"  # the locale of the docs folder; translations take theirs from i18n/<locale>/
    target_chars: int = DEFAULT_TARGET_CHARS
    include_drafts: bool = False
    dry_run: bool = False
    prune: bool = False


@dataclass(frozen=True)
class PlannedPage:
    """A page to write, with the row it becomes."""

    source: SourcePage
    row: PageRow


@dataclass(frozen=True)
class IngestPlan:
    """What a run would do: the pages to add, to replace, to leave alone, and those gone from disk."""

    new: tuple[PlannedPage, ...]
    changed: tuple[PlannedPage, ...]
    unchanged: tuple[str, ...]
    removed: tuple[StoredPage, ...]
    unlisted: tuple[str, ...]  # pages marked `unlisted: true`: hidden from search, never indexed
    failures: tuple[BadFile, ...]
    unchanged_pages: tuple[StoredPage, ...] = ()  # the stored rows of `unchanged`
    hidden: tuple[StoredPage, ...] = ()  # indexed pages since marked draft or unlisted: they leave the index

    def without_vectors(self, embedder: Embedder | None) -> tuple[StoredPage, ...]:
        """Unchanged pages that have no vectors yet (ingested without embeddings): they get them."""
        if embedder is None:
            return ()
        return tuple(page for page in self.unchanged_pages if page.embedding_model is None)

    @property
    def writes(self) -> tuple[PlannedPage, ...]:
        return self.new + self.changed


@dataclass
class IngestReport:
    """What a run did (with `dry_run`, what it would do)."""

    plan: IngestPlan
    dry_run: bool
    pruned: bool = False
    pages_written: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    pages_embedded: int = 0  # pages whose chunks got vectors (written or unchanged but without vectors)
    chunks_embedded: int = 0
    embedding_model: str | None = None  # the model that made them; None when no embedder is configured
    failures: list[BadFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file was read and stored."""
        return not self.failures


async def ingest_book(
    engine: AsyncEngine,
    root: Path,
    options: IngestOptions,
    *,
    on_page: PageDone | None = None,
    embedder: EmbedderChoice = FROM_SETTINGS,
) -> IngestReport:
    """Bring the index in step with the tree under `root`: plan, then apply (unless `options.dry_run`).

    `embedder` gives the chunks vectors; by default the one EMBEDDINGS configures, None for keyword search only.
    """
    plan = await plan_ingest(engine, root, options)
    return await apply_plan(engine, plan, options, on_page=on_page, embedder=embedder)


async def plan_ingest(engine: AsyncEngine, root: Path, options: IngestOptions) -> IngestPlan:
    """Read the tree and compare each page's fingerprint with the index; parses only what changed, writes nothing."""
    async with AsyncSession(engine) as session:
        stored = {(page.locale, page.source_path): page for page in await store.stored_pages(session, options.book)}
    return await asyncio.to_thread(_plan, root, options, stored)


def _plan(root: Path, options: IngestOptions, stored: dict[tuple[str, str], StoredPage]) -> IngestPlan:
    scan = scan_tree(root, default_locale=options.locale)
    new: list[PlannedPage] = []
    changed: list[PlannedPage] = []
    unchanged_pages: list[StoredPage] = []
    unlisted: list[str] = []
    hidden: list[StoredPage] = []
    failures = list(scan.failures)
    for file in scan.files:
        key = (file.locale, file.source_path)
        fingerprint = page_fingerprint(file, options)
        before = stored.get(key)
        # Only a page that parsed, was listed and stored has a row: the same fingerprint gives the same rows.
        if before is not None and before.content_hash == fingerprint:
            unchanged_pages.append(stored.pop(key))
            continue
        source = parse_file(file, include_drafts=options.include_drafts)
        if isinstance(source, BadFile):
            failures.append(source)
        elif source is None or source.page.unlisted:  # a draft, or an unlisted page
            if source is not None:
                unlisted.append(source.source_path)
            # Its author hid it, so it leaves the index now: pruning is for pages gone from disk.
            if (was_indexed := stored.pop(key, None)) is not None:
                hidden.append(was_indexed)
        else:
            planned = PlannedPage(source, page_row(source, options, fingerprint))
            (new if stored.pop(key, None) is None else changed).append(planned)
    # A file that failed to read keeps its last good version: a typo must not remove a page from search.
    failed = {failure.path for failure in failures}
    removed = [page for page in stored.values() if page.source_path not in failed]
    return IngestPlan(
        new=tuple(new),
        changed=tuple(changed),
        unchanged=tuple(page.source_path for page in unchanged_pages),
        removed=tuple(sorted(removed, key=lambda page: (page.source_path, page.locale))),
        unlisted=tuple(unlisted),
        failures=tuple(sorted(failures)),
        unchanged_pages=tuple(unchanged_pages),
        hidden=tuple(sorted(hidden, key=lambda page: (page.source_path, page.locale))),
    )


def page_fingerprint(file: PageFile, options: IngestOptions) -> str:
    """SHA-256 of everything that shapes a page's stored rows, taken before parsing: its bytes and surroundings."""
    shape = [
        INDEX_FORMAT,
        file.source_path,  # the route, doc id and number prefixes come from the file's folders and name
        file.locale,
        file.translated,
        file.surroundings,
        options.base_url,
        options.route_base,
        options.target_chars,
        options.include_drafts,
        sorted(DEFAULT_KEPT_COMPONENTS),
    ]
    fingerprint = hashlib.sha256(json.dumps(shape).encode("utf-8") + b"\0")
    fingerprint.update(file.data)
    return fingerprint.hexdigest()


async def apply_plan(
    engine: AsyncEngine,
    plan: IngestPlan,
    options: IngestOptions,
    *,
    on_page: PageDone | None = None,
    embedder: EmbedderChoice = FROM_SETTINGS,
) -> IngestReport:
    """Write the plan's new and changed pages, one transaction each; delete removed pages if pruning.

    With an embedder, the written pages' chunks get vectors, and so do unchanged pages that have none yet;
    EmbeddingsMismatch stops the run before any write when the index holds another model's vectors.
    """
    report = IngestReport(plan=plan, dry_run=options.dry_run, failures=list(plan.failures))
    if options.dry_run:
        return report
    model = vectors.configured_embedder(get_settings()) if isinstance(embedder, str) else embedder
    check: vectors.IndexCheck | None = None
    if model is not None:
        # Even with nothing to write: the configuration and the index must agree, or search misses vectors.
        async with AsyncSession(engine) as session:
            check = await vectors.IndexCheck.of(session, model)
        report.embedding_model = model.model
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for group in _groups(plan.writes, options, model):
        made: list[PageVectors | None] = [None] * len(group)
        if check is not None:
            storable = [i for i, (planned, chunks) in enumerate(group) if not _holds_nul(planned.row, chunks)]
            texts = [[chunk.text for chunk in group[i][1]] for i in storable]
            for i, found in zip(storable, await vectors.embed_texts(check.embedder, texts, check), strict=True):
                made[i] = found
        for (planned, chunks), page_vectors in zip(group, made, strict=True):
            written = await _write_page(sessions, planned, chunks, page_vectors, report)
            if on_page is not None:
                on_page(planned.source.source_path, written, written if page_vectors is not None else 0)
    if check is not None:
        backfill = [page.id for page in plan.without_vectors(check.embedder)]
        embedded = await vectors.embed_stored_pages(
            engine,
            check.embedder,
            backfill,
            check,
            on_page=None if on_page is None else lambda path, chunks: on_page(path, 0, chunks),
        )
        report.pages_embedded += embedded.pages
        report.chunks_embedded += embedded.chunks
        if report.pages_embedded and check.dimensions is not None:
            # Made after the writes: building the graph once is faster than growing it row by row.
            await vectors.index_vectors(engine, check.dimensions)
    if plan.hidden:
        async with sessions.begin() as session:
            report.chunks_deleted += await store.delete_pages(session, [page.id for page in plan.hidden])
    if options.prune and plan.removed:
        async with sessions.begin() as session:
            report.chunks_deleted += await store.delete_pages(session, [page.id for page in plan.removed])
        report.pruned = True
    report.failures.sort()
    return report


def _groups(
    writes: tuple[PlannedPage, ...], options: IngestOptions, embedder: Embedder | None
) -> Iterator[list[tuple[PlannedPage, list[Chunk]]]]:
    """The pages to write with their chunks, in groups of about one embeddings batch (one page without embedder)."""
    group: list[tuple[PlannedPage, list[Chunk]]] = []
    size = 0
    for planned in writes:
        chunks = chunk_page(planned.source.page, url=planned.row.url, target_chars=options.target_chars)
        if group and (embedder is None or size + len(chunks) > embedder.batch_size):
            yield group
            group, size = [], 0
        group.append((planned, chunks))
        size += len(chunks)
    if group:
        yield group


async def _write_page(
    sessions: async_sessionmaker[AsyncSession],
    planned: PlannedPage,
    chunks: list[Chunk],
    page_vectors: PageVectors | None,
    report: IngestReport,
) -> int:
    """Write one page in its own transaction; a page the database refuses becomes a failure. Returns chunks written."""
    path = planned.source.source_path
    if _holds_nul(planned.row, chunks):
        # PostgreSQL text cannot store NUL; refuse the page rather than mangle it.
        report.failures.append(BadFile(path, "contains NUL characters, which PostgreSQL cannot store"))
        return 0
    try:
        async with sessions.begin() as session:
            write = await store.replace_page(session, planned.row, chunks, page_vectors)
    except DBAPIError as exc:
        if not _about_this_page(exc):
            raise
        reason = str(exc.orig).strip().splitlines()[0]
        report.failures.append(BadFile(path, f"not stored: {reason}"))
        return 0
    report.pages_written += 1
    report.chunks_written += write.chunks_written
    report.chunks_deleted += write.chunks_deleted
    if page_vectors is not None:
        report.pages_embedded += 1
        report.chunks_embedded += write.chunks_written
    return write.chunks_written


def page_row(source: SourcePage, options: IngestOptions, fingerprint: str) -> PageRow:
    """The `book_pages` row for a page read from the tree; `fingerprint` is its `page_fingerprint`."""
    url = page_url(source, base_url=options.base_url, route_base=options.route_base)
    return PageRow(
        book=options.book,
        locale=source.locale,
        source_path=source.source_path,
        doc_id=source.doc_id,
        title=source.page.title,
        route=source.route,
        url=url,
        description=source.page.description,
        search_config=search_config(source.locale),
        content_hash=fingerprint,
        sidebar_positions=source.sidebar_positions,
    )


def _about_this_page(error: DBAPIError) -> bool:
    """Whether the database refused this page's rows (e.g. a too-long tsvector), not the whole run.

    Lost connections (SQLSTATE class 08), exhausted resources (53), a shutting-down server (57) and
    system errors (58) stop the run instead of failing every remaining page one by one.
    """
    sqlstate = getattr(error.orig, "sqlstate", None)
    if error.connection_invalidated or not isinstance(sqlstate, str):
        return False
    return not sqlstate.startswith(("08", "53", "57", "58"))


def _holds_nul(row: PageRow, chunks: list[Chunk]) -> bool:
    fields = (row.title, row.description or "", row.doc_id, row.route, row.url)
    return any("\x00" in value for value in fields) or any("\x00" in chunk.text for chunk in chunks)
