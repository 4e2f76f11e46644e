"""/api/book: the ingested book, read-only and public (the book is public), for the demo and the widget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from lectern.book import service
from lectern.book.schemas import BookPageList, BookPageRead
from lectern.search.schemas import LOCALE_PATTERN
from lectern.web.deps import SessionDep
from lectern.web.openapi import problem_responses

router = APIRouter(prefix="/api/book", tags=["book"])

Locale = Annotated[
    str | None, Query(max_length=35, pattern=LOCALE_PATTERN, description="Only pages in this locale: en, fr…")
]


@router.get("/pages", responses=problem_responses(422))
async def list_pages(session: SessionDep, locale: Locale = None) -> BookPageList:
    """Every ingested page: id, title, route and URL."""
    return await service.list_pages(session, locale=locale)


@router.get("/pages/{reference:path}", responses=problem_responses(404, 422))
async def read_page(
    session: SessionDep,
    reference: Annotated[
        str,
        Path(
            max_length=2000,
            description="The page's id, route ('guides/deploy'), doc id, source file ('guides/deploy.md') or URL "
            "path ('/docs/guides/deploy').",
        ),
    ],
    locale: Locale = None,
) -> BookPageRead:
    """One page rebuilt from its passages: sections of cleaned Markdown under their headings, with anchors."""
    return await service.read_page(session, reference, locale=locale)
