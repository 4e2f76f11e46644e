"""GET /api/search: public search over the book (keywords, fused with vectors when embeddings are on)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lectern.search import service
from lectern.search.schemas import DEFAULT_RESULTS, LOCALE_PATTERN, MAX_QUERY_CHARS, MAX_RESULTS, SearchResults
from lectern.web.deps import SessionDep, SettingsDep
from lectern.web.openapi import problem_responses

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", responses=problem_responses(422))
async def search(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="A question or keywords.")],
    k: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="How many passages to return.")] = DEFAULT_RESULTS,
    locale: Annotated[
        str | None, Query(max_length=35, pattern=LOCALE_PATTERN, description="Only pages in this locale: en, fr…")
    ] = None,
    prefix: Annotated[
        str | None,
        Query(max_length=2000, description="Only pages whose URL or path starts with this: /docs/guides/"),
    ] = None,
) -> SearchResults:
    """Passages of the book that match `q`: ranked with BM25, fused with vector search when embeddings are on."""
    return await service.search_passages(session, q, k=k, locale=locale, prefix=prefix, settings=settings)
