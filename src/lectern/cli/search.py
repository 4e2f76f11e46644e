"""`lectern search "question"`: the book's passages as GET /api/search ranks them, as a table or JSON."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli.common import CommandError, console
from lectern.cli.ingest import run_on_book_index

if TYPE_CHECKING:
    from rich.text import Text
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lectern.search.schemas import SearchResults

_MARKED = re.compile(r"<mark>(.*?)</mark>")


def search(
    query: Annotated[str, typer.Argument(help="A question or keywords.", show_default=False)],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many passages to show.")] = 10,
    locale: Annotated[str | None, typer.Option(help="Only pages in this locale (en, fr…).")] = None,
    prefix: Annotated[str | None, typer.Option(help="Only pages whose URL or path starts with this.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")] = False,
) -> None:
    """Search the ingested book: meaningful words OR-ed, ranked with BM25."""
    from lectern.errors import InvalidInput

    async def find(engine: AsyncEngine) -> SearchResults:
        from sqlalchemy.ext.asyncio import AsyncSession

        from lectern.search.service import search_passages

        async with AsyncSession(engine) as session:
            return await search_passages(session, query, k=k, locale=locale, prefix=prefix)

    try:
        found = run_on_book_index(find)
    except InvalidInput as exc:
        raise CommandError(exc.detail) from None
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    if not found.results:
        console.print("No passage shares a meaningful word with the query.")
        return
    from rich.table import Table

    table = Table(title=f"Search: {query}", title_justify="left", show_lines=True)
    for column in ("#", "score", "page", "url", "snippet"):
        table.add_column(column, overflow="fold")
    for rank, result in enumerate(found.results, start=1):
        page = result.title + (f" › {result.heading}" if result.heading else "")
        table.add_row(str(rank), f"{result.score:.2f}", page, result.url, _terminal_snippet(result.snippet))
    console.print(table)


def _terminal_snippet(snippet: str) -> Text:
    """The HTML snippet as terminal text: entities decoded, <mark>ed words in bold."""
    import html

    from rich.text import Text

    text = Text()
    for index, piece in enumerate(_MARKED.split(snippet)):
        # split() alternates text outside and inside the marks.
        text.append(html.unescape(piece), style="bold yellow" if index % 2 else "")
    return text
