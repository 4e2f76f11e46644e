"""Which passages an answer may cite: the book searched for the question (and an earlier one), and for a
selection, the chunk that holds it with its neighbours first.

Ranking is search's own (keywords, fused with vectors when embeddings are on), passed in by the caller as a
`BookSearch`: chat does not call another domain's service itself. Its results name a page and an address, not a
chunk, so they are matched back to their chunks here by page, address, heading and snippet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.chat import repository
from lectern.chat.repository import ChunkRow
from lectern.search.repository import MARK_END, MARK_START
from lectern.search.schemas import MAX_QUERY_CHARS, SearchResult, SearchResults

HEADING_SEPARATOR = " › "
SNIPPET_CHARS = 240
# The start of a selection, looked up verbatim in its page's chunks (the whole of it may span two).
SELECTION_NEEDLE_CHARS = 120
FRAGMENT_DELIMITER = " … "
# A passage found by meaning alone comes with its opening, cut at a blank and ended with this.
OPENING_END = " …"
_WHITESPACE = re.compile(r"\s+")
_MARK_TAGS = re.compile(r"</?mark>")
# Search strips its match markers from chunk text before making snippets.
_MARKERS = str.maketrans("", "", MARK_START + MARK_END)


class BookSearch(Protocol):
    """Ranks the book's passages for a query, best first, as GET /api/search does."""

    async def __call__(self, session: AsyncSession, query: str, *, k: int, locale: str | None) -> SearchResults: ...


@dataclass(frozen=True)
class Passage:
    """A chunk an answer may cite, with why it was chosen."""

    chunk: ChunkRow
    score: float
    snippet: str

    @property
    def heading(self) -> str | None:
        return _heading_of(self.chunk)


@dataclass(frozen=True)
class Question:
    """What to retrieve for: the question, and what surrounds it."""

    text: str
    selection: str | None = None
    page_url: str | None = None
    previous_question: str | None = None
    language: str | None = None


def _collapsed(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def search_query(value: str) -> str:
    """At most MAX_QUERY_CHARS of `value`, cut at a blank (search takes no longer query)."""
    value = _collapsed(value)
    if len(value) <= MAX_QUERY_CHARS:
        return value
    cut = value[:MAX_QUERY_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def _plain(snippet: str) -> str:
    """A search snippet as text: <mark> tags dropped, then its HTML escapes read back."""
    return _collapsed(html.unescape(_MARK_TAGS.sub("", snippet)))


def _opening(body: str) -> str:
    text = _collapsed(body)
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def _heading_of(chunk: ChunkRow) -> str | None:
    return HEADING_SEPARATOR.join(chunk.heading_path[1:]) or None


def _holds(chunk: ChunkRow, hit: SearchResult) -> bool:
    body = _collapsed(chunk.body.translate(_MARKERS))
    fragments = _plain(hit.snippet).removesuffix(OPENING_END).split(FRAGMENT_DELIMITER)
    return all(_collapsed(fragment) in body for fragment in fragments if fragment.strip())


def match_hits(hits: Sequence[SearchResult], chunks: Sequence[ChunkRow]) -> list[tuple[ChunkRow, SearchResult]]:
    """Each hit's chunk: same page, address and heading; of a split section's chunks, the one holding the snippet."""
    matched: list[tuple[ChunkRow, SearchResult]] = []
    used: set[int] = set()
    for hit in hits:
        same_place = [
            c
            for c in chunks
            if c.page_id == hit.page_id and c.url == hit.url and _heading_of(c) == hit.heading and c.id not in used
        ]
        chunk = next((c for c in same_place if _holds(c, hit)), same_place[0] if same_place else None)
        if chunk is not None:
            used.add(chunk.id)
            matched.append((chunk, hit))
    return matched


def choose_locale(page_locale: str | None, language: str | None, indexed: Sequence[str]) -> str | None:
    """Search the page's locale, else the reader's language if the book has it, else English; None: all."""
    if page_locale:
        return page_locale
    by_name = {locale.lower(): locale for locale in indexed}
    wanted = [language, language.split("-")[0] if language else None, "en"]
    return next((by_name[w.lower()] for w in wanted if w and w.lower() in by_name), None)


def _page_address(page_url: str) -> tuple[str, str] | None:
    """The URL without query and fragment, and its path, both without a trailing slash; None if not a URL."""
    try:
        parts = urlsplit(page_url.strip())
    except ValueError:  # "http://[oops": a browser never sends it, a hand-made request may
        return None
    url = parts._replace(query="", fragment="").geturl().rstrip("/")
    return url, parts.path.rstrip("/")


async def _search(
    session: AsyncSession, search: BookSearch, query: str, k: int, locale: str | None
) -> list[tuple[ChunkRow, SearchResult]]:
    query = search_query(query)
    if not query:
        return []
    hits = (await search(session, query, k=k, locale=locale)).results
    chunks = await repository.chunks_at(session, [(hit.page_id, hit.url) for hit in hits])
    return match_hits(hits, chunks)


async def _selection_context(
    session: AsyncSession, search: BookSearch, selection: str, page: repository.PageRef | None, k: int
) -> list[Passage]:
    """The chunk holding the selection (verbatim on its page, else its best hit there, else anywhere) and its
    neighbours, then the other chunks that match the selection."""
    hits = await _search(session, search, selection, k, page.locale if page else None)
    anchor: Passage | None = None
    if page is not None:
        needle = _collapsed(selection)[:SELECTION_NEEDLE_CHARS]
        exact = await repository.chunk_containing(session, page.id, needle) if needle else None
        if exact is not None:
            found = next((hit for chunk, hit in hits if chunk.id == exact.id), None)
            anchor = Passage(exact, found.score if found else 0.0, _opening(exact.body))
        else:
            on_page = next(((c, h) for c, h in hits if c.page_id == page.id), None)
            if on_page is not None:
                anchor = Passage(on_page[0], on_page[1].score, _plain(on_page[1].snippet))
    if anchor is None and hits:
        anchor = Passage(hits[0][0], hits[0][1].score, _plain(hits[0][1].snippet))
    if anchor is None:
        return []
    around = await repository.chunks_around(session, anchor.chunk)
    return [
        anchor,
        *(Passage(chunk, 0.0, _opening(chunk.body)) for chunk in around),
        *(Passage(chunk, hit.score, _plain(hit.snippet)) for chunk, hit in hits),
    ]


async def retrieve_passages(session: AsyncSession, question: Question, limit: int, search: BookSearch) -> list[Passage]:
    """At most `limit` distinct passages found with `search`, the most useful first (a selection's own chunk leads)."""
    address = _page_address(question.page_url) if question.page_url else None
    page = await repository.page_at(session, *address) if address else None
    locale = choose_locale(page.locale if page else None, question.language, await repository.indexed_locales(session))
    found: list[Passage] = []
    if question.selection and question.selection.strip():
        found += await _selection_context(session, search, question.selection, page, limit)
    queries = [question.text]
    if question.previous_question:
        # A follow-up ("and the second one?") often names its subject only in the question before.
        queries.append(f"{question.previous_question} {question.text}")
    for query in queries:
        hits = await _search(session, search, query, limit, locale)
        found += [Passage(c, h.score, _plain(h.snippet)) for c, h in hits]
    unique: dict[int, Passage] = {}
    for passage in found:
        unique.setdefault(passage.chunk.id, passage)
    return list(unique.values())[:limit]
