"""Search logic: clean the query, rank passages (by keywords, fused with vectors when embeddings are on), and turn
snippets into safe HTML with <mark> tags."""

from __future__ import annotations

import html
import logging
import re

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.errors import InvalidInput
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.llm.errors import LLMError
from lectern.search import fusion, proximity, repository
from lectern.search.repository import MARK_END, MARK_START, KeywordHit, Passage
from lectern.search.schemas import DEFAULT_RESULTS, MAX_QUERY_CHARS, MAX_RESULTS, SearchResult, SearchResults
from lectern.settings import Settings, get_settings

HEADING_SEPARATOR = " › "
# A passage found by its vector alone shows the opening of its text, cut at a blank.
OPENING_CHARS = 240
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w")
_WORDS = re.compile(r"\w+")
log = logging.getLogger(__name__)


def candidate_depth(k: int) -> int:
    """How many chunks each leg brings to the fusion of the best `k`."""
    return max(2 * k, 20)


async def search_passages(
    session: AsyncSession,
    query: str,
    *,
    k: int = DEFAULT_RESULTS,
    locale: str | None = None,
    prefix: str | None = None,
    settings: Settings | None = None,
) -> SearchResults:
    """The `k` passages that best match `query`, best first.

    Without embeddings (EMBEDDINGS=none, or `settings` saying so) the ranking is BM25, and a query that shares
    no meaningful word with the book finds nothing. With embeddings, BM25's list and the nearest vectors are
    fused; if the query cannot be embedded (the provider is down), the keyword ranking answers alone.
    """
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
    if settings is None:
        settings = get_settings()
    embedder = _embedder(settings)
    if embedder is not None and _WORD.search(query):
        found = await _hybrid(session, query, embedder, settings, k=k, locale=locale, prefix=prefix or None)
        if found is not None:
            return found
    hits = await repository.keyword_hits(
        session, query, k=max(k, proximity.DEPTH), locale=locale, prefix=prefix or None
    )
    by_id = {hit.chunk_id: hit for hit in hits}
    ranked = await _by_proximity(session, query, [(hit.chunk_id, hit.score) for hit in hits])
    return SearchResults(results=[_keyword_result(by_id[chunk_id], score) for chunk_id, score in ranked[:k]])


async def _by_proximity(session: AsyncSession, query: str, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The ranking with its head re-scored by how close together the query's words stand in each chunk."""
    if len(_WORDS.findall(query)) < 2:  # a single word has no neighbour to be close to
        return ranked
    head = [chunk_id for chunk_id, _ in ranked[: proximity.DEPTH]]
    return proximity.rerank(ranked, await repository.term_positions(session, query, head))


def _embedder(settings: Settings) -> Embedder | None:
    try:
        return embedder_for(settings)
    except LLMError as exc:
        log.warning("search uses keywords only: %s", exc.detail)
        return None


async def _hybrid(
    session: AsyncSession,
    query: str,
    embedder: Embedder,
    settings: Settings,
    *,
    k: int,
    locale: str | None,
    prefix: str | None,
) -> SearchResults | None:
    """Keyword and vector candidates fused; None when the query could not be embedded."""
    try:
        (vector,) = await embedder.embed([query])
    except LLMError as exc:
        log.warning("search uses keywords only, the query could not be embedded: %s", exc.detail)
        return None
    found = await repository.candidates(
        session, query, vector, model=embedder.model, depth=candidate_depth(k), locale=locale, prefix=prefix
    )
    fused = fusion.fuse(found, settings.search_fusion, min_similarity=settings.search_min_similarity)
    best = (await _by_proximity(session, query, fused[: max(k, proximity.DEPTH)]))[:k]
    scores = dict(best)
    chosen = await repository.passages(session, query, list(scores), opening_chars=2 * OPENING_CHARS)
    return SearchResults(results=[_passage_result(passage, scores[passage.chunk_id]) for passage in chosen])


def marked_snippet(raw: str) -> str:
    """Escape the headline as HTML, then turn the match markers into <mark> tags."""
    escaped = html.escape(_WHITESPACE.sub(" ", raw).strip(), quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def opening_snippet(body: str) -> str:
    """The start of a passage, as escaped HTML, cut at a blank after at most OPENING_CHARS characters."""
    text = _WHITESPACE.sub(" ", body).strip()
    if len(text) > OPENING_CHARS:
        text = text[:OPENING_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)


def _heading(heading_path: list[str]) -> str | None:
    headings = heading_path[1:]  # the first entry is the page title
    return HEADING_SEPARATOR.join(headings) if headings else None


def _keyword_result(hit: KeywordHit, score: float) -> SearchResult:
    return SearchResult(
        page_id=hit.page_id,
        title=hit.title,
        url=hit.url,
        heading=_heading(hit.heading_path),
        snippet=marked_snippet(hit.snippet),
        score=score,
        source_path=hit.source_path,
    )


def _passage_result(passage: Passage, score: float) -> SearchResult:
    return SearchResult(
        page_id=passage.page_id,
        title=passage.title,
        url=passage.url,
        heading=_heading(passage.heading_path),
        snippet=marked_snippet(passage.snippet) if passage.snippet else opening_snippet(passage.opening),
        score=score,
        source_path=passage.source_path,
    )
