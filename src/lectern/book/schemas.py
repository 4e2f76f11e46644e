"""Answers of /api/book: page summaries, and one page as headed sections of Markdown."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class BookPageSummary(BaseModel):
    """Where a page is and what it is called."""

    id: uuid.UUID
    book: str = Field(description="The ingested source root the page belongs to.")
    locale: str
    title: str
    route: str = Field(description="The page's path under the docs route base: '/guides/deploy'.")
    url: str = Field(description="The page's address on the book's site, as ingested.")
    description: str | None


class BookPageList(BaseModel):
    """Every ingested page, by book and locale, then in the order of the book's sidebar."""

    pages: list[BookPageSummary]


class BookSection(BaseModel):
    """A heading and the Markdown under it, up to the next heading."""

    level: int = Field(ge=1, le=6, description="Heading level; 1 for the text above the first heading.")
    heading: str | None = Field(description="The heading's text; null for the text above the first heading.")
    anchor: str | None = Field(description="The heading's id on the book's site (deep links end in #anchor).")
    markdown: str = Field(description="The section's text as cleaned Markdown (MDX syntax already removed).")


class BookPageRead(BookPageSummary):
    """One page rebuilt from its indexed passages."""

    sections: list[BookSection]
