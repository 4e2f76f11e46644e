"""`lectern ask "question"`: the answer POST /api/chat would give an anonymous reader, with its citations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli.common import CommandError, console
from lectern.cli.ingest import run_on_book_index

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lectern.chat.schemas import ChatAnswer

MODES = {
    "llm": "written by the language model",
    "extractive": "quoted from the book, no language model used",
}


def ask(
    question: Annotated[str, typer.Argument(help="A question about the book.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")] = False,
) -> None:
    """Answer a question from the ingested book, with citations (handy to check an ingest). Nothing is stored."""
    from pydantic import ValidationError

    from lectern.chat.schemas import MAX_MESSAGE_CHARS, ChatRequest

    try:
        request = ChatRequest(message=question)
    except ValidationError:
        raise CommandError(f"Ask a question of 1 to {MAX_MESSAGE_CHARS} characters.") from None

    async def answer(engine: AsyncEngine) -> ChatAnswer:
        from functools import partial

        from sqlalchemy.ext.asyncio import AsyncSession

        from lectern.chat import service
        from lectern.chat.schemas import ReaderContext
        from lectern.llm import close_clients
        from lectern.search.service import search_passages
        from lectern.settings import get_settings

        settings = get_settings()
        # The passages POST /api/chat would cite: search's ranking, fused with vectors when embeddings are on.
        search_book = partial(search_passages, settings=settings)
        try:
            async with AsyncSession(engine) as session:
                options = service.ChatOptions.from_settings(settings)
                prepared = await service.prepare_answer(session, request, ReaderContext(), options, search_book)
            with console.status("Answering…"):
                reply = await service.write_answer(prepared, settings)
            return service.chat_answer(prepared, reply)
        finally:
            await close_clients()

    found = run_on_book_index(answer)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    console.print(found.answer, markup=False, highlight=False)
    console.print(f"\n[dim]({MODES[found.mode]})[/dim]")
    if found.citations:
        console.print("\n[bold]Sources[/bold]")
    for citation in found.citations:
        where = citation.title + (f" › {citation.heading}" if citation.heading else "")
        console.print(f"[{citation.id}] {where} — {citation.url}", markup=False, highlight=False)
