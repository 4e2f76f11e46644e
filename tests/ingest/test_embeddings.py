"""Ingest with embeddings (the OpenAI stand-in's hashed vectors): every chunk gets a vector in batches, unchanged
pages cost no embedding call, another model's index is refused with the reembed command named, and reembed
recomputes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lectern.cli.common import CommandError
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.ingest.vectors import EmbeddingsFailed, EmbeddingsMismatch, reembed
from lectern.llm import close_clients, retries
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.settings import Settings
from tests.cli.fixtures import Invoke, cli
from tests.standins.openai_fixtures import openai_standin, openai_standin_server
from tests.standins.openai_server import OpenAIStandIn
from tests.standins.openai_shapes import hashed_embedding

__all__ = ["cli", "openai_standin", "openai_standin_server"]

SITE = Path(__file__).parent / "fixtures" / "site"
OPTIONS = IngestOptions(base_url="https://book.example", target_chars=120)  # several chunks a page
MODEL = "text-embedding-3-small"


@pytest.fixture(autouse=True)
async def closed_clients() -> AsyncIterator[None]:
    yield
    await close_clients()


@pytest.fixture
async def engine(make_settings: Any) -> AsyncIterator[AsyncEngine]:
    database = Database(make_settings())
    yield await database.engine()
    await database.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SITE, tmp_path / "site"))


def stand_in_settings(server: OpenAIStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "llm_base_url": server.base_url,
        "llm_api_key": server.api_key,
        "llm_timeout_seconds": 5,
        "llm_max_retries": 1,
        "embeddings": "openai",
        "embeddings_model": MODEL,
        "embeddings_dimensions": 64,
        "embeddings_batch_size": 4,
    }
    return Settings(**{**values, **overrides})


def embedder(server: OpenAIStandIn, **overrides: Any) -> Embedder:
    found = embedder_for(stand_in_settings(server, **overrides))
    assert found is not None
    return found


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def embedded_inputs(server: OpenAIStandIn) -> list[str]:
    return [text for request in server.requests_to("embeddings") for text in request.input]


async def test_every_chunk_gets_its_vector_in_batches_and_the_index_is_made(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    report = await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin))

    chunks = rows(clean_database, "SELECT text, embedding::text, vector_dims(embedding) FROM book_chunks")
    assert report.chunks_embedded == report.chunks_written == len(chunks) > 2 * 7
    for text, vector, dimensions in chunks:
        assert dimensions == 64
        assert [float(x) for x in vector.strip("[]").split(",")] == pytest.approx(hashed_embedding(text, 64), abs=1e-6)
    requests = openai_standin.requests_to("embeddings")
    assert all(len(request.input) <= 4 and request.body["dimensions"] == 64 for request in requests)
    assert sorted(embedded_inputs(openai_standin)) == sorted(text for text, _, _ in chunks)
    pages = rows(clean_database, "SELECT DISTINCT embedding_model, embedding_dimensions FROM book_pages")
    assert pages == [(f"openai:{MODEL}", 64)]
    (definition,) = rows(
        clean_database, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_book_chunks_embedding_64'"
    )
    assert "hnsw" in definition[0] and "vector_cosine_ops" in definition[0]


async def test_an_unchanged_page_costs_no_embedding_call_a_changed_one_only_its_own(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, site: Path, clean_database: str
) -> None:
    model = embedder(openai_standin)
    await ingest_book(engine, site, OPTIONS, embedder=model)
    openai_standin.reset()

    again = await ingest_book(engine, site, OPTIONS, embedder=model)

    assert again.pages_written == again.pages_embedded == 0
    assert openai_standin.requests == []

    page = site / "docs" / "intro.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nA new closing line about vector search.\n", encoding="utf-8")
    changed = await ingest_book(engine, site, OPTIONS, embedder=model)

    assert changed.pages_written == changed.pages_embedded == 1
    intro = rows(
        clean_database,
        "SELECT c.text FROM book_chunks c JOIN book_pages p ON p.id = c.page_id WHERE p.source_path = 'docs/intro.md'",
    )
    assert sorted(embedded_inputs(openai_standin)) == sorted(text for (text,) in intro)


async def test_pages_ingested_without_embeddings_get_vectors_once_embeddings_are_on(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    await ingest_book(engine, SITE, OPTIONS, embedder=None)
    assert rows(clean_database, "SELECT count(*) FROM book_chunks WHERE embedding IS NOT NULL") == [(0,)]

    filled = await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin))

    assert filled.pages_written == 0 and filled.pages_embedded == len(filled.plan.unchanged)
    assert rows(clean_database, "SELECT count(*) FROM book_chunks WHERE embedding IS NULL") == [(0,)]
    openai_standin.reset()
    assert (await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin))).pages_embedded == 0
    assert openai_standin.requests == []


async def test_embeddings_none_writes_no_vector_and_calls_nobody(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    report = await ingest_book(engine, SITE, OPTIONS, embedder=embedder_for(Settings(embeddings="none")))

    assert report.pages_written > 0 and report.pages_embedded == 0
    assert rows(clean_database, "SELECT count(*) FROM book_chunks WHERE embedding IS NOT NULL") == [(0,)]
    assert rows(clean_database, "SELECT count(*) FROM book_pages WHERE embedding_model IS NOT NULL") == [(0,)]
    assert openai_standin.requests == []


@pytest.mark.parametrize(
    ("overrides", "configured"),
    [
        ({"embeddings_dimensions": 32}, f"32-dimensional vectors from openai:{MODEL}"),
        # Without EMBEDDINGS_DIMENSIONS the size is known once the model answers: the first batch tells.
        ({"embeddings_dimensions": None}, f"1536-dimensional vectors from openai:{MODEL}"),
        ({"embeddings_model": "gpt-4o-mini"}, "64-dimensional vectors from openai:gpt-4o-mini"),
    ],
)
async def test_another_model_or_size_than_the_index_is_refused_naming_both_and_the_reembed_command(
    engine: AsyncEngine,
    openai_standin: OpenAIStandIn,
    site: Path,
    clean_database: str,
    overrides: dict[str, Any],
    configured: str,
) -> None:
    await ingest_book(engine, site, OPTIONS, embedder=embedder(openai_standin))
    (site / "docs" / "intro.md").write_text("# Intro\n\nRewritten.\n", encoding="utf-8")
    before = rows(clean_database, "SELECT id, xmin::text FROM book_chunks ORDER BY id")

    with pytest.raises(EmbeddingsMismatch) as refused:
        await ingest_book(engine, site, OPTIONS, embedder=embedder(openai_standin, **overrides))

    message = str(refused.value)
    assert f"64-dimensional vectors from openai:{MODEL} (7 pages)" in message
    assert f"the configured embeddings give {configured}" in message
    assert "`lectern reembed`" in message
    assert rows(clean_database, "SELECT id, xmin::text FROM book_chunks ORDER BY id") == before


async def test_reembed_recomputes_every_vector_with_the_new_size_and_swaps_the_index(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin))
    openai_standin.reset()

    report = await reembed(engine, embedder(openai_standin, embeddings_dimensions=32))

    chunks = rows(clean_database, "SELECT text, embedding::text, vector_dims(embedding) FROM book_chunks")
    assert (report.pages, report.chunks, report.dimensions) == (7, len(chunks), 32)
    # Indexes of sizes no page uses are dropped (earlier tests may have left some: TRUNCATE keeps indexes).
    assert 64 in report.indexes_dropped and 32 not in report.indexes_dropped
    for text, vector, dimensions in chunks:
        assert dimensions == 32
        assert [float(x) for x in vector.strip("[]").split(",")] == pytest.approx(hashed_embedding(text, 32), abs=1e-6)
    assert sorted(embedded_inputs(openai_standin)) == sorted(text for text, _, _ in chunks)
    indexes = rows(clean_database, "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_book_chunks_embedding_%'")
    assert indexes == [("ix_book_chunks_embedding_32",)]
    # The index now matches the configuration: ingest works again, and a second reembed has nothing to do.
    openai_standin.reset()
    ingested = await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin, embeddings_dimensions=32))
    assert ingested.pages_written == ingested.pages_embedded == 0
    again = await reembed(engine, embedder(openai_standin, embeddings_dimensions=32))
    assert (again.pages, openai_standin.requests) == (0, [])
    everything = await reembed(engine, embedder(openai_standin, embeddings_dimensions=32), everything=True)
    assert everything.pages == 7


async def test_a_failing_model_stops_the_run_keeping_what_was_written(
    engine: AsyncEngine, openai_standin: OpenAIStandIn, clean_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retries, "INITIAL_BACKOFF_SECONDS", 0.01)
    # The first pages (getting-started/) go through; the batch holding the intro page keeps failing.
    openai_standin.server_error(count=10, when=lambda request: "Welcome to Lectern" in str(request.input))

    with pytest.raises(EmbeddingsFailed, match=r"failed: HTTP 500 after 2 attempts.*run the command again"):
        await ingest_book(engine, SITE, OPTIONS, embedder=embedder(openai_standin, embeddings_batch_size=2))

    written = rows(clean_database, "SELECT count(*), count(embedding) FROM book_chunks")
    assert written[0][0] == written[0][1] > 0  # the first batch's pages, with their vectors


def test_the_cli_refuses_a_mismatch_in_one_line_and_reembeds(
    cli: Invoke, openai_standin: OpenAIStandIn, database_url: str, clean_database: str
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "LLM_BASE_URL": openai_standin.base_url,
        "LLM_API_KEY": openai_standin.api_key,
        "EMBEDDINGS": "openai",
        "EMBEDDINGS_MODEL": MODEL,
        "EMBEDDINGS_DIMENSIONS": "64",
    }
    first = cli("ingest", str(SITE), env=env)
    assert first.exit_code == 1  # the site's broken page; the rest is indexed
    assert rows(clean_database, "SELECT count(*) FROM book_chunks WHERE embedding IS NULL") == [(0,)]
    chunks = len(rows(clean_database, "SELECT id FROM book_chunks"))
    assert f"Embedded {chunks} chunks (7 pages) with openai:{MODEL}." in first.stdout
    again = cli("ingest", str(SITE), env=env)
    assert f"Embedded 0 chunks (0 pages) with openai:{MODEL}." in again.stdout

    refused = cli("ingest", str(SITE), env={**env, "EMBEDDINGS_DIMENSIONS": "32"})

    # A ConfigError: `lectern` prints it as one line and exits with 1 (run_command).
    assert isinstance(refused.exception, EmbeddingsMismatch)
    assert "\n" not in str(refused.exception) and "Run `lectern reembed`" in str(refused.exception)

    done = cli("reembed", env={**env, "EMBEDDINGS_DIMENSIONS": "32"})

    assert done.exit_code == 0, done.output
    assert f"Re-embedded 7 pages ({len(rows(clean_database, 'SELECT id FROM book_chunks'))} chunks)" in done.stdout
    assert "32 dimensions; dropped the unused index for " in done.stdout and "64" in done.stdout.rsplit("for", 1)[1]
    off = cli("reembed", env={"DATABASE_URL": database_url})
    assert isinstance(off.exception, CommandError) and "EMBEDDINGS is none" in str(off.exception)


def test_the_progress_bar_counts_pages_chunks_and_embedded_chunks(
    cli: Invoke, openai_standin: OpenAIStandIn, database_url: str, clean_database: str
) -> None:
    env = {"DATABASE_URL": database_url, "COLUMNS": "200"}
    with_vectors = {
        **env,
        "LLM_BASE_URL": openai_standin.base_url,
        "LLM_API_KEY": openai_standin.api_key,
        "EMBEDDINGS": "openai",
        "EMBEDDINGS_MODEL": MODEL,
        "EMBEDDINGS_DIMENSIONS": "64",
    }
    keywords_only = cli("ingest", str(SITE), env=env)
    chunks = len(rows(clean_database, "SELECT id FROM book_chunks"))
    assert f"7/7 pages, {chunks} chunks, 0 embedded" in keywords_only.stdout

    # Unchanged pages that get their first vectors are progress too: nothing written, every chunk embedded.
    backfill = cli("ingest", str(SITE), env=with_vectors)
    assert f"7/7 pages, 0 chunks, {chunks} embedded" in backfill.stdout
    assert f"Embedded {chunks} chunks (7 pages) with openai:{MODEL}." in backfill.stdout
