"""All SQL for reading the book back: pages, one page found by id, route, doc id or URL path, its chunks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# {where} and {rank} are filled from the fixed fragments below only: values always travel as parameters.
_PAGES = """
SELECT p.id, p.book, p.locale, p.title, p.route, p.url, p.description, p.source_path, p.sidebar_positions
FROM book_pages AS p
WHERE {where}
ORDER BY {rank} p.book, p.locale, p.route, p.source_path
"""
_IN_LOCALE = "lower(p.locale) = lower(:locale)"
_BY_ID = "p.id = :id"
# A page URL without its scheme and host, and without a trailing slash: '/book/guides/deploy'.
_BY_NAME = (
    "(p.route = :route OR p.doc_id = :name OR p.source_path = :name"
    " OR rtrim(regexp_replace(p.url, '^[a-z][a-z0-9+.-]*://[^/]*', '', 'i'), '/') = :path)"
)
_NAME_RANK = (
    "CASE WHEN p.route = :route THEN 0 WHEN p.doc_id = :name THEN 1 WHEN p.source_path = :name THEN 2 ELSE 3 END,"
)
_CHUNKS = "SELECT ordinal, heading_path, anchor, text FROM book_chunks WHERE page_id = :id ORDER BY ordinal"


@dataclass(frozen=True)
class PageRecord:
    id: uuid.UUID
    book: str
    locale: str
    title: str
    route: str
    url: str
    description: str | None
    source_path: str  # relative to the ingested root
    # Each enclosing folder's sidebar position, then the page's; None for pages ingested before they were stored.
    sidebar_positions: list[float | None] | None


@dataclass(frozen=True)
class ChunkRecord:
    ordinal: int
    heading_path: list[str]  # the page title first
    anchor: str | None
    text: str  # the heading path line, a blank line, the body


def _pages(conditions: list[str], rank: str = "") -> str:
    return _PAGES.replace("{where}", " AND ".join(conditions) or "true").replace("{rank}", rank)


async def list_pages(session: AsyncSession, *, locale: str | None = None) -> list[PageRecord]:
    """Every page (in one locale, if given), ordered by book, locale and route."""
    conditions = [_IN_LOCALE] if locale is not None else []
    rows = await session.execute(text(_pages(conditions)), {"locale": locale})
    return [PageRecord(*row) for row in rows]


async def find_page(session: AsyncSession, reference: str, *, locale: str | None = None) -> PageRecord | None:
    """The page a reference names: its id, else its route, doc id, source file or URL path, in that order."""
    try:
        page_id: uuid.UUID | None = uuid.UUID(reference)
    except ValueError:
        page_id = None
    name = reference.strip("/")
    if page_id is not None:
        conditions, rank = [_BY_ID], ""
        params: dict[str, object] = {"id": page_id}
    else:
        conditions, rank = [_BY_NAME], _NAME_RANK
        params = {"route": "/" + name, "name": name, "path": ("/" + name).rstrip("/")}
    if locale is not None:
        conditions.append(_IN_LOCALE)
        params["locale"] = locale
    row = (await session.execute(text(_pages(conditions, rank) + " LIMIT 1"), params)).first()
    return PageRecord(*row) if row is not None else None


async def page_chunks(session: AsyncSession, page_id: uuid.UUID) -> list[ChunkRecord]:
    """The page's chunks in reading order."""
    rows = await session.execute(text(_CHUNKS), {"id": page_id})
    return [ChunkRecord(*row) for row in rows]
