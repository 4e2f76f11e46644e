"""Search logic: clean the query, rank passages, and turn snippets into safe HTML with <mark> tags."""

from __future__ import annotations

import html
import re

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.errors import InvalidInput
from lectern.search import repository
from lectern.search.repository import MARK_END, MARK_START, KeywordHit
from lectern.search.schemas import DEFAULT_RESULTS, MAX_QUERY_CHARS, MAX_RESULTS, SearchResult, SearchResults

HEADING_SEPARATOR = " › "
_WHITESPACE = re.compile(r"\s+")


async def search_passages(
    session: AsyncSession,
    query: str,
    *,
    k: int = DEFAULT_RESULTS,
    locale: str | None = None,
    prefix: str | None = None,
) -> SearchResults:
    """The `k` passages that best match `query`, best first; none when no meaningful word matches."""
    if not query:
        raise InvalidInput("Type something to search for.", field="q")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"The query is longer than {MAX_QUERY_CHARS} characters.", field="q")
    if not 1 <= k <= MAX_RESULTS:
        raise InvalidInput(f"k must be between 1 and {MAX_RESULTS}.", field="k")
    # PostgreSQL text cannot hold NUL: in a query it can only be a separator; no URL contains one.
    query = query.replace("\x00", " ")
    if prefix is not None and "\x00" in prefix:
        return SearchResults(results=[])
    hits = await repository.keyword_hits(session, query, k=k, locale=locale, prefix=prefix or None)
    return SearchResults(results=[_result(hit) for hit in hits])


def marked_snippet(raw: str) -> str:
    """Escape the headline as HTML, then turn the match markers into <mark> tags."""
    escaped = html.escape(_WHITESPACE.sub(" ", raw).strip(), quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def _result(hit: KeywordHit) -> SearchResult:
    headings = hit.heading_path[1:]  # the first entry is the page title
    return SearchResult(
        page_id=hit.page_id,
        title=hit.title,
        url=hit.url,
        heading=HEADING_SEPARATOR.join(headings) if headings else None,
        snippet=marked_snippet(hit.snippet),
        score=hit.score,
        source_path=hit.source_path,
    )
