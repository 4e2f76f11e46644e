"""Search answers: ranked passages with an HTML-safe snippet."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

MAX_QUERY_CHARS = 500
MAX_RESULTS = 50
DEFAULT_RESULTS = 10
# A locale as Docusaurus names them: en, fr, pt-BR, zh-Hans.
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"


class SearchResult(BaseModel):
    """One passage: where it is in the book and why it matched."""

    page_id: uuid.UUID
    title: str = Field(description="The page title.")
    url: str = Field(description="The passage's address: the page URL, plus #anchor below the first heading.")
    heading: str | None = Field(description="The headings above the passage, 'Section › Subsection'; null at the top.")
    snippet: str = Field(description="Escaped text around the matches; matched words are wrapped in <mark>…</mark>.")
    score: float = Field(
        description="Relevance, higher is better, comparable only within one answer: the BM25 score, or the fused "
        "score when vector search is on."
    )
    source_path: str = Field(description="The page's Markdown file, relative to the ingested folder.")


class SearchResults(BaseModel):
    """The best passages first; empty when no passage shares a meaningful word with the query (or, with vector
    search on, none is close enough in meaning either)."""

    results: list[SearchResult]
