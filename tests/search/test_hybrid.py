"""Hybrid search: the fusion of the keyword and vector legs, GET /api/search keeping its shape with vectors on,
keyword-only behaviour with EMBEDDINGS=none, and keywords alone when the query cannot be embedded."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.app import create_app
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm import retries
from lectern.llm.embeddings import embedder_for
from lectern.search import fusion, proximity, repository
from lectern.search.repository import Candidate
from lectern.search.service import search_passages
from lectern.settings import Settings
from tests.search.test_vectors import BASE, PAGES, closed_clients, needs_model, write_book
from tests.standins.openai_fixtures import openai_standin, openai_standin_server
from tests.standins.openai_server import OpenAIStandIn

__all__ = ["closed_clients", "openai_standin", "openai_standin_server"]

FIELDS = {"page_id", "title", "url", "heading", "snippet", "score", "source_path"}


def keyword_only(chunk_id: int, rank: int, bm25: float = 5.0, similarity: float = 0.1) -> Candidate:
    return Candidate(chunk_id, rank, None, bm25, similarity)


def vector_only(chunk_id: int, rank: int, similarity: float = 0.6) -> Candidate:
    return Candidate(chunk_id, None, rank, 0.0, similarity)


# Fusion, on candidate lists.


@given(
    rank=st.integers(min_value=1, max_value=100),
    later=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=20),
)
def test_rrf_ranks_a_chunk_found_by_both_legs_above_any_found_by_one_at_a_rank_no_better(
    rank: int, later: list[int]
) -> None:
    both = Candidate(1, rank, rank, 3.0, 0.5)
    singles = [keyword_only(10 + i, rank + d) if i % 2 else vector_only(10 + i, rank + d) for i, d in enumerate(later)]

    fused = fusion.reciprocal_rank_fusion([*singles, both])

    assert fused[0][0] == 1


def test_the_convex_combination_ranks_a_chunk_found_by_both_legs_first() -> None:
    candidates = [
        keyword_only(1, 1, bm25=9.0, similarity=0.2),  # the best keyword hit, far in meaning
        vector_only(2, 1, similarity=0.8),  # the nearest vector, no shared word
        Candidate(3, 2, 2, 8.0, 0.75),  # second in both legs
        keyword_only(4, 3, bm25=1.0, similarity=0.1),
    ]

    fused = fusion.convex_combination(candidates)

    assert [chunk_id for chunk_id, _ in fused] == [3, 1, 2, 4]
    assert fused[0][1] == pytest.approx(0.5 * 8 / 9 + 0.5 * 0.65 / 0.7)
    assert fusion.convex_combination(candidates, weight=1.0)[0][0] == 2
    assert fusion.convex_combination(candidates, weight=0.0)[0][0] == 1


def test_the_convex_combination_counts_a_missing_vector_as_the_lowest_similarity() -> None:
    candidates = [Candidate(1, 1, None, 4.0, None), Candidate(2, 2, 1, 4.0, 0.3), Candidate(3, None, 2, 0.0, 0.1)]

    scores = dict(fusion.convex_combination(candidates))

    assert scores == {1: 0.5, 2: 1.0, 3: 0.0}
    assert fusion.convex_combination([]) == []
    with pytest.raises(ValueError, match="weight"):
        fusion.convex_combination(candidates, weight=1.5)


def test_vector_hits_below_the_minimum_similarity_are_left_out_keyword_hits_never() -> None:
    candidates = [keyword_only(1, 1, similarity=-0.2), vector_only(2, 1, 0.35), vector_only(3, 2, 0.15)]

    assert [c.chunk_id for c in fusion.admitted(candidates, 0.2)] == [1, 2]
    assert {chunk_id for chunk_id, _ in fusion.fuse(candidates, "rrf", min_similarity=0.2)} == {1, 2}
    assert {chunk_id for chunk_id, _ in fusion.fuse(candidates, "convex", min_similarity=-1)} == {1, 2, 3}


# Through PostgreSQL.


async def ingest(engine: AsyncEngine, root: Path, settings: Settings) -> None:
    report = await ingest_book(engine, root, IngestOptions(base_url=BASE), embedder=embedder_for(settings))
    assert report.ok, report.failures


@needs_model
@pytest.mark.parametrize("method", ["rrf", "convex"])
async def test_a_passage_both_legs_find_comes_before_those_only_one_finds(
    engine: AsyncEngine, tmp_path: Path, clean_database: str, method: str
) -> None:
    pages = {
        "both.md": "# Backups\n\nRestore a backup of the database to go back to yesterday's data.\n",
        "words.md": "# Cooking\n\nA database of recipes: restore old family dishes for the holidays.\n",
        "meaning.md": "# Recovery\n\nRecover the tables from last night's snapshot if rows were lost.\n",
    }
    settings = Settings(embeddings="local", search_fusion=method)
    await ingest(engine, write_book(tmp_path / "site", pages), settings)

    async with AsyncSession(engine) as session:
        found = await search_passages(session, "How do I restore my database backup?", k=3, settings=settings)
        keyword = await search_passages(session, "How do I restore my database backup?", k=3, settings=Settings())

    urls = [result.url for result in found.results]
    assert urls[0] == f"{BASE}/docs/both"
    assert set(urls) == {f"{BASE}/docs/{name}" for name in ("both", "words", "meaning")}
    assert f"{BASE}/docs/meaning" not in [result.url for result in keyword.results]  # no shared word


@needs_model
async def test_the_api_keeps_its_shape_with_vectors_on(make_settings: Any, tmp_path: Path) -> None:
    pages = {**PAGES, "docs/guides/markup.md": "# Markup\n\nWhen a < b & c > d, the page shows the signs as written.\n"}
    settings = make_settings(embeddings="local")
    app = create_app(settings)
    try:
        await ingest(await app.state.database.engine(), write_book(tmp_path / "site", pages), settings)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
            paraphrase = await client.get("/api/search", params={"q": "Where is my information kept?", "k": 2})
            markup = await client.get("/api/search", params={"q": "Are less-than symbols displayed?", "k": 1})
            nothing = await client.get("/api/search", params={"q": "What is the weather like on Mars?"})
            blank = await client.get("/api/search", params={"q": "?!"})
    finally:
        await app.state.database.dispose()

    assert paraphrase.status_code == 200, paraphrase.text
    (first, *_) = paraphrase.json()["results"]
    assert set(first) == FIELDS and first["url"] == f"{BASE}/docs/guides/database"
    assert first["snippet"] == "Everything is stored in PostgreSQL, on Neon in production."
    assert (
        markup.json()["results"][0]["snippet"] == "When a &lt; b &amp; c &gt; d, the page shows the signs as written."
    )
    # Nothing shares a word with these, and nothing is close enough in meaning.
    assert nothing.json() == blank.json() == {"results": []}


async def test_embeddings_none_searches_by_keywords_and_embeds_nothing(
    engine: AsyncEngine, tmp_path: Path, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    settings = Settings(llm_base_url=openai_standin.base_url, llm_api_key=openai_standin.api_key, llm_model="m")
    await ingest(engine, write_book(tmp_path / "site", PAGES), settings)
    question = "roll back the backend to the previous version"

    async with AsyncSession(engine) as session:
        found = await search_passages(session, question, k=5, settings=settings)
        hits = await repository.keyword_hits(session, question, k=proximity.DEPTH)
        near = await repository.term_positions(session, question, [h.chunk_id for h in hits])

    # The keyword ranking alone, its head re-scored by proximity.
    urls = {h.chunk_id: h.url for h in hits}
    expected = proximity.rerank([(h.chunk_id, h.score) for h in hits], near)[:5]
    assert [(r.url, r.score) for r in found.results] == [(urls[i], score) for i, score in expected]
    assert found.results[0].url == f"{BASE}/docs/guides/deploy" and "<mark>" in found.results[0].snippet
    assert openai_standin.requests == []


async def test_a_query_that_cannot_be_embedded_is_searched_by_keywords(
    engine: AsyncEngine,
    tmp_path: Path,
    openai_standin: OpenAIStandIn,
    clean_database: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retries, "INITIAL_BACKOFF_SECONDS", 0.01)
    settings = Settings(
        llm_base_url=openai_standin.base_url,
        llm_api_key=openai_standin.api_key,
        llm_max_retries=1,
        embeddings="openai",
        embeddings_model="text-embedding-3-small",
        embeddings_dimensions=32,
    )
    await ingest(engine, write_book(tmp_path / "site", PAGES), settings)
    openai_standin.server_error(count=2, endpoint="embeddings")
    question = "roll back the backend to the previous version"

    async with AsyncSession(engine) as session:
        with caplog.at_level(logging.WARNING, logger="lectern.search.service"):
            found = await search_passages(session, question, k=3, settings=settings)
        hits = await repository.keyword_hits(session, question, k=3)

    assert [r.url for r in found.results] == [h.url for h in hits]
    assert "search uses keywords only, the query could not be embedded" in caplog.text
    assert "HTTP 500 after 2 attempts" in caplog.text
