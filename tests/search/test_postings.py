"""The keyword index (postings, term counters, locale totals) stays in step with the chunks through every write,
atomically; ranking from it is exact BM25 while every list fits the budget, and stays in scope when it does not."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.ingest import store
from lectern.ingest.chunking import Chunk
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.search import bm25
from lectern.search.repository import keyword_hits
from tests.search.conftest import BASE_URL, TARGET_CHARS
from tests.search.postings import IN_STEP, index_differences, python_bm25

OPTIONS = IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS)
SESSIONS = "docs/guides/sessions.md"
QUESTION = "lectern deploy tokens database widget commands Vercel"


def counter(conn: psycopg.Connection, lexeme: str, locale: str = "en") -> int:
    row = conn.execute("SELECT chunks FROM book_terms WHERE locale = %s AND lexeme = %s", [locale, lexeme]).fetchone()
    return row[0] if row else 0


async def test_ingest_indexes_every_lexeme_of_every_chunk(book: Path, clean_database: str) -> None:
    with psycopg.connect(clean_database) as conn:
        assert index_differences(conn) == IN_STEP
        (postings,) = conn.execute("SELECT count(*) FROM book_postings").fetchone()  # type: ignore[misc]
        assert postings > 50
        assert counter(conn, "token") == 1 and counter(conn, "lectern") == 3
        locales = conn.execute("SELECT locale, search_config FROM book_locales ORDER BY locale").fetchall()
    assert locales == [("en", "english"), ("fr", "simple")]


async def test_a_changed_page_is_indexed_again(book: Path, engine: AsyncEngine, clean_database: str) -> None:
    with psycopg.connect(clean_database) as conn:
        assert counter(conn, "famili") == 1 and counter(conn, "passkey") == 0
    (book / SESSIONS).write_text("# Sessions\n\nReaders sign in with a passkey.\n", encoding="utf-8")

    report = await ingest_book(engine, book, OPTIONS)

    assert report.pages_written == 1 and report.chunks_deleted == 2
    with psycopg.connect(clean_database) as conn:
        assert index_differences(conn) == IN_STEP
        assert counter(conn, "famili") == 0 and counter(conn, "passkey") == 1


async def test_pruned_pages_leave_nothing_behind(book: Path, engine: AsyncEngine, clean_database: str) -> None:
    with psycopg.connect(clean_database) as conn:
        gone = [row[0] for row in conn.execute("SELECT id FROM book_chunks WHERE url LIKE '%/sessions%'")]
    (book / SESSIONS).unlink()

    report = await ingest_book(engine, book, IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS, prune=True))

    assert report.pruned and gone
    with psycopg.connect(clean_database) as conn:
        assert index_differences(conn) == IN_STEP
        left = conn.execute("SELECT count(*) FROM book_postings WHERE chunk_id = ANY(%s)", [gone]).fetchone()
        assert left == (0,) and counter(conn, "famili") == 0


async def test_any_delete_or_truncate_keeps_the_index_in_step(book: Path, clean_database: str) -> None:
    with psycopg.connect(clean_database, autocommit=True) as conn:
        # Outside lectern's own code: the cascade from the page deletes its chunks, and the triggers follow.
        conn.execute("DELETE FROM book_pages WHERE source_path = %s", [SESSIONS])
        assert index_differences(conn) == IN_STEP and counter(conn, "famili") == 0

        conn.execute("TRUNCATE book_pages, book_chunks CASCADE")
        for table in ("book_postings", "book_terms", "book_locales"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


async def test_a_reader_sees_the_old_page_or_the_new_one(book: Path, engine: AsyncEngine, clean_database: str) -> None:
    with psycopg.connect(clean_database) as conn:
        (row,) = conn.execute(
            "SELECT row_to_json(p) FROM book_pages AS p WHERE source_path = %s", [SESSIONS]
        ).fetchone()  # type: ignore[misc]
    page = store.PageRow(**{name: row[name] for name in store.PageRow.__dataclass_fields__})
    chunk = Chunk(0, "Sessions\n\nSign in with a passkey.", "Sign in with a passkey.", ("Sessions",), None, row["url"])

    async with AsyncSession(engine) as session, session.begin():
        await store.replace_page(session, page, [chunk])
        with psycopg.connect(clean_database) as reader:
            assert index_differences(reader) == IN_STEP
            assert counter(reader, "passkey") == 0 and counter(reader, "famili") == 1
    with psycopg.connect(clean_database) as reader:
        assert index_differences(reader) == IN_STEP
        assert counter(reader, "passkey") == 1 and counter(reader, "famili") == 0


def urls_and_scores(found: list[object]) -> list[tuple[str, float]]:
    return [(hit.url, hit.score) for hit in found]  # type: ignore[attr-defined]


@pytest.fixture
def tiny_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets so small that every term's postings are cut to its single best one."""
    for name, value in {
        "MIN_POSTINGS": 1,
        "POSTINGS_PER_ROOT_CHUNK": 0,
        "MIN_DEPTH": 1,
        "MIN_SHORTLIST": 1,
        "SHORTLIST_PER_RESULT": 1,
        "SCAN_CHUNKS": 0,
    }.items():
        monkeypatch.setattr(bm25, name, value)


async def test_cut_lists_still_give_exact_scores(session: AsyncSession, clean_database: str, tiny_budget: None) -> None:
    found = await keyword_hits(session, QUESTION, k=5, locale="en")

    with psycopg.connect(clean_database) as conn:
        exact = python_bm25(conn, QUESTION)
        ids = dict(conn.execute("SELECT url, id FROM book_chunks WHERE locale = 'en'").fetchall())
    assert 0 < len(found) < len(exact)  # only what the cut lists named
    assert [hit.score for hit in found] == pytest.approx([exact[ids[hit.url]] for hit in found])
    assert [hit.score for hit in found] == sorted((hit.score for hit in found), reverse=True)


# JOIN_FACTOR 0: each head's page looked up; 1e9: the scope's chunks listed and joined.
@pytest.mark.parametrize("join_factor", [0.0, 1e9])
@pytest.mark.parametrize("prefix", ["/docs/guides/", f"{BASE_URL}/docs/reference", "/fr/"])
async def test_cut_lists_keep_to_the_prefix(
    session: AsyncSession, tiny_budget: None, monkeypatch: pytest.MonkeyPatch, prefix: str, join_factor: float
) -> None:
    monkeypatch.setattr(bm25, "JOIN_FACTOR", join_factor)
    everywhere = await keyword_hits(session, QUESTION, k=50, prefix=prefix)

    pages = {re.sub(r"^https://book\.example|#.*$", "", hit.url) for hit in everywhere}
    assert pages and all(page.startswith(prefix.removeprefix(BASE_URL)) for page in pages)


@pytest.mark.parametrize("prefix", ["/docs/guides/", "/docs/reference/commands", "/docs/"])
async def test_a_prefix_ranks_alike_scanned_whole_or_through_the_lists(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    scanned = await keyword_hits(session, QUESTION, k=50, locale="en", prefix=prefix)
    monkeypatch.setattr(bm25, "SCAN_CHUNKS", 0)
    monkeypatch.setattr(bm25, "JOIN_FACTOR", 0.0)
    looked_up = await keyword_hits(session, QUESTION, k=50, locale="en", prefix=prefix)
    monkeypatch.setattr(bm25, "JOIN_FACTOR", 1e9)
    joined = await keyword_hits(session, QUESTION, k=50, locale="en", prefix=prefix)

    assert urls_and_scores(scanned) == urls_and_scores(looked_up) == urls_and_scores(joined)
    assert scanned


async def test_a_locale_ranks_by_its_own_statistics(session: AsyncSession, clean_database: str) -> None:
    found = await keyword_hits(session, "Déployez le backend sur Vercel", k=10, locale="fr")

    with psycopg.connect(clean_database) as conn:
        exact = python_bm25(conn, "Déployez le backend sur Vercel", locale="fr")
    assert [hit.score for hit in found] == pytest.approx(sorted(exact.values(), reverse=True))
