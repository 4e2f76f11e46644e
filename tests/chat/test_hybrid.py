"""Chat retrieves as search does: keywords fused with vectors when embeddings are on (a question that shares no
word with its passage still gets it cited), keywords alone with EMBEDDINGS=none or when the question cannot be
embedded (logged, never a 500)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm.embeddings import embedder_for
from lectern.settings import Settings
from tests.chat.conftest import BASE_URL, TARGET_CHARS, instance, write_book
from tests.search.test_vectors import needs_model

STORAGE = "# Storage\n\nEverything is stored in PostgreSQL, on Neon in production.\n"
# No meaningful word in common with the storage page, nor with any other page of the book: only meaning links them.
PARAPHRASE = "Where does my information live?"
EMBED_MODEL = "text-embedding-3-small"


async def ingest_with_vectors(settings: Settings, root: Path) -> None:
    database = Database(settings)
    try:
        options = IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS)
        report = await ingest_book(await database.engine(), root, options, embedder=embedder_for(settings))
        assert report.ok and report.chunks_embedded == report.chunks_written > 0, report.failures
    finally:
        await database.dispose()


async def ask(settings: Settings, message: str) -> Any:
    async with instance(settings) as client:
        response = await client.post("/api/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return response.json()


@needs_model
async def test_a_question_only_meaning_connects_to_a_page_gets_that_page_cited(
    make_settings: Any, tmp_path: Path
) -> None:
    root = write_book(tmp_path / "site")
    (root / "reference" / "storage.md").write_text(STORAGE, encoding="utf-8")
    hybrid = make_settings(embeddings="local")
    await ingest_with_vectors(hybrid, root)

    with_vectors = await ask(hybrid, PARAPHRASE)
    keywords_only = await ask(make_settings(), PARAPHRASE)

    assert with_vectors["citations"][0]["url"] == f"{BASE_URL}/docs/reference/storage"
    assert "Everything is stored in PostgreSQL, on Neon in production. [1]" in with_vectors["answer"]
    assert keywords_only["citations"] == []


async def test_with_embeddings_on_the_question_is_embedded_and_answered(
    llm_settings: Any, openai_standin: Any, tmp_path: Path
) -> None:
    settings = llm_settings(embeddings="openai", embeddings_model=EMBED_MODEL, embeddings_dimensions=32)
    await ingest_with_vectors(settings, write_book(tmp_path / "site"))
    ingested = len(openai_standin.requests)

    answer = await ask(settings, "How do refresh tokens rotate?")

    embedded = [r.body["input"] for r in openai_standin.requests[ingested:] if r.endpoint == "embeddings"]
    assert embedded == [["How do refresh tokens rotate?"]]
    assert answer["citations"][0]["url"] == f"{BASE_URL}/docs/guides/sessions#refresh-tokens"


async def test_a_question_that_cannot_be_embedded_is_answered_from_keywords(
    llm_settings: Any, openai_standin: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, fast_backoff: None
) -> None:
    settings = llm_settings(
        embeddings="openai", embeddings_model=EMBED_MODEL, embeddings_dimensions=32, llm_max_retries=1
    )
    await ingest_with_vectors(settings, write_book(tmp_path / "site"))
    openai_standin.server_error(count=2, endpoint="embeddings")

    with caplog.at_level(logging.WARNING, logger="lectern.search.service"):
        answer = await ask(settings, "How do refresh tokens rotate?")

    assert answer["citations"][0]["url"] == f"{BASE_URL}/docs/guides/sessions#refresh-tokens"
    assert "the query could not be embedded" in caplog.text
