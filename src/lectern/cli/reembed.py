"""`lectern reembed`: recompute the book's vectors with the configured embeddings model, after changing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli.common import CommandError, console
from lectern.cli.ingest import run_on_book_index

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lectern.ingest.vectors import ReembedReport


def reembed(
    everything: Annotated[
        bool, typer.Option("--all", help="Recompute every page, also those that have the model's vectors already.")
    ] = False,
) -> None:
    """Give every indexed page vectors from the configured model (EMBEDDINGS): after changing the model or its size."""
    report = run_on_book_index(lambda engine: _reembed_with_progress(engine, everything))
    sizes = ", ".join(str(size) for size in report.indexes_dropped)
    dropped = f"; dropped the unused index for {sizes} dimensions" if sizes else ""
    skipped = f" ({report.skipped} changed meanwhile: the ingest that changed them embedded them)"
    console.print(
        f"Re-embedded {report.pages} pages ({report.chunks} chunks) with {report.model}, "
        f"{report.dimensions} dimensions{skipped if report.skipped else ''}{dropped}.",
        highlight=False,
    )


async def _reembed_with_progress(engine: AsyncEngine, everything: bool) -> ReembedReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from lectern.ingest.vectors import configured_embedder, reembed
    from lectern.settings import get_settings

    embedder = configured_embedder(get_settings())
    if embedder is None:
        raise CommandError("EMBEDDINGS is none: set EMBEDDINGS=openai or EMBEDDINGS=local first (docs/llm.md)")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages, {task.fields[chunks]} chunks"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Embedding", total=None, chunks=0)
        chunks = 0

        def page_done(_path: str, embedded: int) -> None:
            nonlocal chunks
            chunks += embedded
            progress.update(task, advance=1, chunks=chunks)

        return await reembed(
            engine,
            embedder,
            everything=everything,
            on_start=lambda pages: progress.update(task, total=pages),
            on_page=page_done,
        )
