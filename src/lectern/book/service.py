"""Read the book back: page summaries, and a page rebuilt from its passages as headed sections.

Chunks keep their text and heading path, not every heading line: when the chunker merges sibling sections,
the first one's heading survives only as the chunk's anchor. Those headings are rebuilt from the anchor, so
every anchor a citation can deep-link to exists on the rebuilt page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.book import repository
from lectern.book.repository import ChunkRecord, PageRecord
from lectern.book.schemas import BookPageList, BookPageRead, BookPageSummary, BookSection
from lectern.book.sidebar import SidebarPlace, prefix_positions, sidebar_key
from lectern.errors import NotFound
from lectern.ingest.markdown import heading_from_anchor, heading_slug, is_anchor_of

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NO_ANCHOR = object()


@dataclass
class _Section:
    level: int
    heading: str | None
    anchor: str | None
    lines: list[str] = field(default_factory=list)

    def read(self) -> BookSection:
        return BookSection(
            level=self.level, heading=self.heading, anchor=self.anchor, markdown="\n".join(self.lines).strip("\n")
        )


async def list_pages(session: AsyncSession, *, locale: str | None = None) -> BookPageList:
    """Every ingested page (in one locale, if given): by book and locale, then in the order of the sidebar."""
    pages = await repository.list_pages(session, locale=locale)
    ordered = sorted(pages, key=lambda page: (page.book, page.locale, sidebar_key(_sidebar_place(page))))
    return BookPageList(pages=[_summary(page) for page in ordered])


async def read_page(session: AsyncSession, reference: str, *, locale: str | None = None) -> BookPageRead:
    """The page named by its id, route, doc id, source file or URL path, rebuilt as sections; else NotFound."""
    page = None if "\x00" in reference else await repository.find_page(session, reference, locale=locale)
    if page is None:
        raise NotFound("No page of the book has this id, route, doc id, source file or URL path.")
    chunks = await repository.page_chunks(session, page.id)
    return BookPageRead(**_summary(page).model_dump(), sections=page_sections(chunks))


def page_sections(chunks: Sequence[ChunkRecord]) -> list[BookSection]:
    """Regroup a page's chunks (in order) into sections, one per heading."""
    sections: list[_Section] = []
    shown: tuple[str, ...] = ()
    previous: object = _NO_ANCHOR
    for chunk in chunks:
        path = tuple(chunk.heading_path[1:])
        if chunk.anchor != previous:
            sections.extend(_headings_for(shown, path, chunk.anchor))
            shown, previous = path, chunk.anchor
        if sections and sections[-1].lines:
            sections[-1].lines.append("")
        _add_body(sections, chunk.text.partition("\n\n")[2])
    return [section.read() for section in sections]


def _headings_for(shown: tuple[str, ...], path: tuple[str, ...], anchor: str | None) -> list[_Section]:
    """Headings a new group of chunks opens: those of its path not shown yet, and its own if it was lost."""
    common = 0
    while common < min(len(shown), len(path)) and shown[common] == path[common]:
        common += 1
    named = bool(path) and anchor is not None and is_anchor_of(anchor, path[-1])
    opened = [
        _Section(depth + 2, heading, anchor if named and depth == len(path) - 1 else heading_slug(heading))
        for depth, heading in enumerate(path)
        if depth >= common
    ]
    if anchor is not None and not named:
        opened.append(_Section(min(6, len(path) + 2), heading_from_anchor(anchor), anchor))
    return opened


def _add_body(sections: list[_Section], body: str) -> None:
    """Append a chunk body; heading lines outside code fences start new sections."""
    fence: str | None = None
    for line in body.split("\n"):
        opener = _FENCE.match(line)
        if fence is None and opener:
            fence = opener[1]
        elif fence is not None and opener and opener[1][0] == fence[0] and len(opener[1]) >= len(fence):
            fence = None
        elif fence is None and (heading := _HEADING.match(line)):
            text = heading[2]
            sections.append(_Section(len(heading[1]), text, heading_slug(text)))
            continue
        if not sections:
            sections.append(_Section(1, None, None))
        sections[-1].lines.append(line)


def _sidebar_place(page: PageRecord) -> SidebarPlace:
    # Pages ingested before migration 0008 have no stored positions until the next ingest: their number prefixes
    # are the positions there are.
    if page.sidebar_positions is None:
        return SidebarPlace(page.source_path, page.route, prefix_positions(page.source_path))
    return SidebarPlace(page.source_path, page.route, tuple(page.sidebar_positions))


def _summary(page: PageRecord) -> BookPageSummary:
    return BookPageSummary(**asdict(page))  # the model ignores what it does not show: sidebar_positions
