"""`lectern ingest PATH`: bring the book index in step with a docs folder; only changed pages are rewritten."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from lectern.cli.common import CommandError, console, load_dotenv

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lectern.db.session import Database
    from lectern.ingest.index import IngestOptions, IngestPlan, IngestReport

T = TypeVar("T")

# Below a sentence or two a chunk loses its context; past a few pages it no longer points at a passage.
MIN_CHUNK_CHARS = 200
MAX_CHUNK_CHARS = 8000


def ingest(
    path: Annotated[
        Path, typer.Argument(help="A Docusaurus site, its docs folder or a folder of Markdown.", show_default=False)
    ],
    base_url: Annotated[str, typer.Option(help="The site's address, e.g. https://book.example.org.")] = "",
    route_base: Annotated[str, typer.Option(help="Where the docs live on the site (routeBasePath).")] = "/docs",
    locale: Annotated[str, typer.Option(help="Locale of the docs folder; translations in i18n/ keep theirs.")] = "en",
    book: Annotated[str, typer.Option(help="Name of this source folder in the index: one per folder.")] = "default",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would change; write nothing.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete indexed pages whose file is gone.")] = False,
    chunk_chars: Annotated[
        int | None,
        typer.Option(
            "--chunk-chars",
            min=MIN_CHUNK_CHARS,
            max=MAX_CHUNK_CHARS,
            # The default is chunking's, named here so that `lectern --help` need not import the parser.
            show_default="800",
            help="Target size of a chunk in characters; one may reach twice that. A new size rewrites every page.",
        ),
    ] = None,
) -> None:
    """Read, chunk and index a book: new and changed pages are written, unchanged ones cost nothing."""
    from lectern.ingest.chunking import DEFAULT_TARGET_CHARS
    from lectern.ingest.index import IngestOptions

    if not path.is_dir():
        raise CommandError(f"{path} is not a folder")
    if not book.strip() or len(book) > 100:
        raise CommandError("--book must be a name of 1 to 100 characters")
    options = IngestOptions(
        book=book,
        base_url=base_url,
        route_base=route_base,
        locale=locale,
        target_chars=DEFAULT_TARGET_CHARS if chunk_chars is None else chunk_chars,
        dry_run=dry_run,
        prune=prune,
    )
    report = run_on_book_index(lambda engine: _ingest_with_progress(engine, path, options))
    _print_report(report, path, options)
    if not report.ok:
        others = "would be indexed" if dry_run else "were indexed"
        raise CommandError(f"{len(report.failures)} file(s) failed; the others {others}")


def run_on_book_index(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `work` on the database holding the book index: the embedded one is migrated first."""
    from lectern.cli.db import _database_errors
    from lectern.db import migrate
    from lectern.db.session import Database, resolve_url
    from lectern.settings import get_settings

    load_dotenv()
    settings = get_settings()
    with _database_errors():
        url = resolve_url(settings, migrations=True)
        if settings.embedded_database:
            migrate.upgrade(url)
        elif migrate.current_revision(url) != migrate.head_revision():
            raise CommandError("the database is not at this version's schema: run `lectern db upgrade` first")
        return asyncio.run(_on_engine(Database(settings), work))


async def _on_engine(database: Database, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    try:
        return await work(await database.engine())
    finally:
        await database.dispose()


async def _ingest_with_progress(engine: AsyncEngine, root: Path, options: IngestOptions) -> IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lectern.ingest.index import apply_plan, plan_ingest
    from lectern.ingest.vectors import configured_embedder
    from lectern.settings import get_settings

    with console.status(f"Reading {root}…"):
        plan = await plan_ingest(engine, root, options)
    embedder = None if options.dry_run else configured_embedder(get_settings())
    # Pages written, and unchanged pages that get their first vectors now (ingested while EMBEDDINGS was none).
    pages = len(plan.writes) + len(plan.without_vectors(embedder))
    if not pages:
        return await apply_plan(engine, plan, options, embedder=embedder)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages, {task.fields[chunks]} chunks, {task.fields[embedded]} embedded"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Indexing", total=pages, chunks=0, embedded=0)
        chunks = embedded = 0

        def page_done(_path: str, written: int, vectors: int) -> None:
            nonlocal chunks, embedded
            chunks += written
            embedded += vectors
            progress.update(task, advance=1, chunks=chunks, embedded=embedded)

        return await apply_plan(engine, plan, options, on_page=page_done, embedder=embedder)


def _print_report(report: IngestReport, root: Path, options: IngestOptions) -> None:
    plan = report.plan
    if options.dry_run:
        console.print(f"[bold]Plan[/bold] for book '{options.book}' from {root} (dry run: nothing was written)")
        _print_paths(plan)
    for failure in report.failures:
        console.print(f"[red]failed:[/red] {failure.path}: {failure.reason}", highlight=False, markup=True)
    removed = len(plan.removed)
    if not removed:
        fate = ""
    elif report.pruned:
        fate = " (deleted)"
    elif options.dry_run and options.prune:
        fate = " (would be deleted)"
    else:
        fate = " (kept: --prune deletes them)"
    hidden = ""
    if plan.hidden:
        gone = "would leave" if options.dry_run else "left"
        hidden = f" {len(plan.hidden)} indexed page(s) now draft or unlisted {gone} the index."
    console.print(
        f"{len(plan.new)} new, {len(plan.changed)} changed, {len(plan.unchanged)} unchanged, "
        f"{removed} removed{fate}; {len(plan.unlisted)} unlisted skipped.{hidden}",
        highlight=False,
    )
    if not options.dry_run:
        console.print(
            f"Wrote {report.pages_written} pages: {report.chunks_written} chunks written, "
            f"{report.chunks_deleted} deleted.",
            highlight=False,
        )
        console.print(_embedding_summary(report), highlight=False, markup=False)


def _embedding_summary(report: IngestReport) -> str:
    if report.embedding_model is None:
        return "Embedded no chunks: EMBEDDINGS is none, so search and chat use keywords only."
    return f"Embedded {report.chunks_embedded} chunks ({report.pages_embedded} pages) with {report.embedding_model}."


def _print_paths(plan: IngestPlan) -> None:
    groups = (
        ("green", "+", [page.source.source_path for page in plan.new]),
        ("yellow", "~", [page.source.source_path for page in plan.changed]),
        ("red", "-", [page.source_path for page in (*plan.hidden, *plan.removed)]),
    )
    for colour, sign, paths in groups:
        for path in paths:
            console.print(f"  [{colour}]{sign}[/{colour}] {path}", highlight=False)
