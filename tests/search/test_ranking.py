"""Keyword retrieval on a known book: natural questions find their gold passage, BM25 as specified."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.errors import InvalidInput
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.search import repository
from lectern.search.bm25 import K1, B
from lectern.search.service import marked_snippet, search_passages
from tests.search.conftest import BASE_URL
from tests.search.postings import python_bm25


def urls(found: object) -> list[str]:
    return [result.url for result in found.results]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("How can I rotate my refresh tokens safely?", f"{BASE_URL}/docs/guides/sessions#refresh-tokens"),
        ("Which database does Lectern keep its data in?", f"{BASE_URL}/docs/guides/database"),
        ("What command reads and indexes my markdown files?", f"{BASE_URL}/docs/reference/commands#ingest"),
    ],
)
async def test_a_natural_question_finds_its_gold_passage_first(
    session: AsyncSession, clean_database: str, question: str, gold: str
) -> None:
    found = await search_passages(session, question, k=5, locale="en")

    assert urls(found)[0] == gold
    # Not every word of the question is in the book: AND semantics (websearch_to_tsquery) finds nothing.
    with psycopg.connect(clean_database) as conn:
        anded = conn.execute(
            "SELECT count(*) FROM book_chunks WHERE tsv @@ websearch_to_tsquery('english', %s)", [question]
        ).fetchone()
    assert anded == (0,)


@pytest.mark.parametrize("question", ["What is the weather like on Mars?", "What is it?", "   ", "?!"])
async def test_a_question_sharing_no_meaningful_word_finds_nothing(session: AsyncSession, question: str) -> None:
    assert (await search_passages(session, question)).results == []


async def test_keyword_scores_are_bm25_over_the_scope(session: AsyncSession, clean_database: str) -> None:
    question = "deploy the Lectern backend, then roll back and run the API"
    found = await repository.keyword_hits(session, question, k=50, locale="en")

    with psycopg.connect(clean_database) as conn:
        scores = python_bm25(conn, question)
        url_of = dict(conn.execute("SELECT id, url FROM book_chunks").fetchall())
    expected = sorted(((score, url_of[chunk_id]) for chunk_id, score in scores.items()), key=lambda pair: -pair[0])
    assert len(expected) > 2
    assert [hit.url for hit in found] == [url for _, url in expected]
    assert [hit.score for hit in found] == pytest.approx([score for score, _ in expected])
    assert (K1, B) == (1.2, 0.75)


async def test_a_shorter_chunk_with_the_same_match_ranks_higher(engine: AsyncEngine, tmp_path: Path) -> None:
    (tmp_path / "short.md").write_text("# Short\n\nKubernetes operators.\n", encoding="utf-8")
    padding = " ".join(f"filler{i}" for i in range(80))
    (tmp_path / "long.md").write_text(f"# Long\n\nKubernetes operators. {padding}\n", encoding="utf-8")
    (tmp_path / "other.md").write_text("# Other\n\nNothing relevant here.\n", encoding="utf-8")
    await ingest_book(engine, tmp_path, IngestOptions())

    async with AsyncSession(engine) as session:
        found = await search_passages(session, "kubernetes")

    assert urls(found) == ["/docs/short", "/docs/long"]
    assert found.results[0].score > found.results[1].score


async def test_locale_filter(session: AsyncSession) -> None:
    everywhere = urls(await search_passages(session, "deploy Vercel"))
    french = urls(await search_passages(session, "déployer Vercel", locale="fr"))
    english = urls(await search_passages(session, "deploy Vercel", locale="en"))

    assert f"{BASE_URL}/fr/docs/guides/deploy" in everywhere and f"{BASE_URL}/docs/guides/deploy" in everywhere
    assert french == [f"{BASE_URL}/fr/docs/guides/deploy"]
    assert english == [f"{BASE_URL}/docs/guides/deploy"]
    assert urls(await search_passages(session, "Vercel", locale="FR")) == french
    assert (await search_passages(session, "Vercel", locale="de")).results == []


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/docs/guides/", {"/docs/guides/sessions", "/docs/guides/database", "/docs/guides/deploy"}),
        (f"{BASE_URL}/docs/reference", {"/docs/reference/commands", "/docs/reference/widget"}),
        ("/fr/", {"/fr/docs/guides/deploy"}),
        ("/docs/guides/deploy", {"/docs/guides/deploy"}),
        ("/blog/", set()),
    ],
)
async def test_prefix_filter_on_the_page_url_or_path(session: AsyncSession, prefix: str, expected: set[str]) -> None:
    found = await search_passages(session, "lectern deploy tokens database widget commands Vercel", k=50, prefix=prefix)
    pages = {re.sub(r"^https://book\.example|#.*$", "", url) for url in urls(found)}
    assert pages == expected


async def test_k_limits_the_results(session: AsyncSession) -> None:
    assert len((await search_passages(session, "lectern", k=1)).results) == 1
    assert len((await search_passages(session, "lectern", k=50)).results) > 1


async def test_results_say_where_the_passage_is(session: AsyncSession) -> None:
    (result,) = (await search_passages(session, "rotate refresh tokens", k=1, locale="en")).results

    assert result.title == "Sessions"
    assert result.heading == "Refresh tokens"
    assert result.url == f"{BASE_URL}/docs/guides/sessions#refresh-tokens"
    assert result.source_path == "docs/guides/sessions.md"
    assert "<mark>rotate</mark>" in result.snippet and "<mark>Refresh</mark>" in result.snippet


async def test_snippets_mark_matches_and_cannot_inject_html(session: AsyncSession) -> None:
    (result,) = (await search_passages(session, "widget script chat", k=1)).results

    assert result.url == f"{BASE_URL}/docs/reference/widget"
    assert set(re.findall(r"<[^>]*>", result.snippet)) <= {"<mark>", "</mark>"}
    assert "&amp;" in result.snippet and "a &lt; b" in result.snippet
    assert "<mark>widget</mark>" in result.snippet
    # Marker characters in the book's own text never become marks.
    assert "a planted marker" in result.snippet and "\ue000" not in result.snippet


def test_marked_snippet_escapes_before_marking() -> None:
    raw = 'Run \ue000<script>\ue001 & "quote"\n\n  then \ue000go\ue001'
    assert marked_snippet(raw) == 'Run <mark>&lt;script&gt;</mark> &amp; "quote" then <mark>go</mark>'


@pytest.mark.parametrize(
    ("query", "k", "field"), [("", 10, "q"), ("x" * 501, 10, "q"), ("tokens", 0, "k"), ("tokens", 51, "k")]
)
async def test_python_callers_get_the_same_limits(session: AsyncSession, query: str, k: int, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await search_passages(session, query, k=k)
    assert raised.value.field == field


async def test_nul_characters_separate_words(session: AsyncSession) -> None:
    found = await search_passages(session, "refresh\x00tokens", k=1)
    assert urls(found) == [f"{BASE_URL}/docs/guides/sessions#refresh-tokens"]
    assert (await search_passages(session, "tokens", prefix="/docs\x00")).results == []
