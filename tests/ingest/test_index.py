"""Ingesting into the real PostgreSQL: pages and chunks stored, unchanged pages untouched, changes atomic."""

from __future__ import annotations

import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lectern.db.session import Database
from lectern.ingest import index
from lectern.ingest.chunking import chunk_page
from lectern.ingest.index import IngestOptions, ingest_book, plan_ingest, search_config
from lectern.ingest.tree import BadFile, read_tree

SITE = Path(__file__).parent / "fixtures" / "site"
BASE = "https://book.example"
OPTIONS = IngestOptions(base_url=BASE)
BROKEN = BadFile("docs/broken-front-matter.md", "invalid YAML front matter at line 2: did not find expected ',' or ']'")
DEPLOY = "docs/02-guides/03-deploy.md"
SITE_PAGES = [
    "docs/01-getting-started/01-install.mdx",
    "docs/01-getting-started/02-configure.md",
    "docs/02-guides/03-deploy.md",
    "docs/02-guides/index.md",
    "docs/intro.md",
    "i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx",
    "i18n/fr/docusaurus-plugin-content-docs/current/intro.md",
]


@pytest.fixture
async def engine(make_settings: Any) -> AsyncIterator[AsyncEngine]:
    database = Database(make_settings())
    yield await database.engine()
    await database.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the fixture site that a test may change."""
    return Path(shutil.copytree(SITE, tmp_path / "site"))


def rows(url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params or None).fetchall()


def chunk_state(url: str) -> dict[str, list[tuple[int, int]]]:
    """Per source path: the (chunk id, writing transaction) pairs, in ordinal order."""
    found = rows(
        url,
        """SELECT p.source_path, c.id, c.xmin::text::bigint FROM book_chunks c
           JOIN book_pages p ON p.id = c.page_id ORDER BY p.source_path, c.ordinal""",
    )
    state: dict[str, list[tuple[int, int]]] = {}
    for path, chunk_id, xmin in found:
        state.setdefault(path, []).append((chunk_id, xmin))
    return state


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


async def test_the_fixture_site_becomes_pages_and_chunks(engine: AsyncEngine, clean_database: str) -> None:
    report = await ingest_book(engine, SITE, OPTIONS)

    assert [page.source.source_path for page in report.plan.new] == SITE_PAGES
    assert report.failures == [BROKEN]
    assert not report.ok
    assert report.plan.unlisted == ("docs/02-guides/writing-docs.md",)
    columns = ("book", "locale", "doc_id", "title", "route", "url", "description", "search_config")
    pages = rows(clean_database, f"SELECT source_path, {', '.join(columns)} FROM book_pages ORDER BY source_path")
    assert [page[0] for page in pages] == SITE_PAGES
    by_path = {page[0]: dict(zip(columns, page[1:], strict=True)) for page in pages}
    assert by_path["docs/intro.md"] == {
        "book": "default",
        "locale": "en",
        "doc_id": "welcome",
        "title": "Welcome to Lectern",
        "route": "/",
        "url": f"{BASE}/docs/",
        "description": "What this book covers and how to read it.",
        "search_config": "english",
    }
    assert by_path[DEPLOY]["route"] == "/deploy" and by_path[DEPLOY]["url"] == f"{BASE}/docs/deploy"
    french = by_path["i18n/fr/docusaurus-plugin-content-docs/current/intro.md"]
    assert (french["locale"], french["url"], french["search_config"]) == ("fr", f"{BASE}/fr/docs/", "simple")


async def test_chunks_carry_the_chunker_output_and_a_search_vector(engine: AsyncEngine, clean_database: str) -> None:
    await ingest_book(engine, SITE, OPTIONS)
    tree = read_tree(SITE)
    intro = next(page for page in tree.pages if page.source_path == "docs/intro.md")
    expected = chunk_page(intro.page, url=f"{BASE}/docs/")

    stored = rows(
        clean_database,
        """SELECT c.ordinal, c.text, c.heading_path, c.anchor, c.url, c.locale, c.char_count, c.term_count,
                  length(c.tsv), p.chunk_count, p.term_count
           FROM book_chunks c JOIN book_pages p ON p.id = c.page_id
           WHERE p.source_path = 'docs/intro.md' ORDER BY c.ordinal""",
    )
    assert [row[:7] for row in stored] == [
        (c.ordinal, c.text, list(c.heading_path), c.anchor, c.url, "en", c.char_count) for c in expected
    ]
    assert all(row[7] > 0 and row[8] > 0 for row in stored)
    assert {row[9] for row in stored} == {len(expected)}
    assert {row[10] for row in stored} == {sum(row[7] for row in stored)}
    # English chunks are stemmed, stopwords gone; French ones are kept as written.
    (english,) = rows(clean_database, "SELECT tsv::text FROM book_chunks WHERE url = %s", f"{BASE}/docs/deploy")[0]
    assert "'absolut'" in english and "'the'" not in english
    (french,) = rows(clean_database, "SELECT string_agg(tsv::text, ' ') FROM book_chunks WHERE locale = 'fr'")[0]
    assert "'vérifiez'" in french and "'de'" in french


async def test_an_unchanged_page_costs_nothing(engine: AsyncEngine, clean_database: str) -> None:
    await ingest_book(engine, SITE, OPTIONS)
    before = chunk_state(clean_database)
    pages_before = rows(clean_database, "SELECT id, xmin::text, updated_at FROM book_pages ORDER BY id")

    again = await ingest_book(engine, SITE, OPTIONS)

    assert (again.plan.new, again.plan.changed, again.plan.removed) == ((), (), ())
    assert list(again.plan.unchanged) == SITE_PAGES
    assert (again.pages_written, again.chunks_written, again.chunks_deleted) == (0, 0, 0)
    assert chunk_state(clean_database) == before
    assert rows(clean_database, "SELECT id, xmin::text, updated_at FROM book_pages ORDER BY id") == pages_before


async def test_an_unchanged_page_is_neither_parsed_nor_chunked(
    engine: AsyncEngine, clean_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest_book(engine, SITE, OPTIONS)
    parsed: list[str] = []
    chunked: list[str] = []
    parse_file, chunk = index.parse_file, index.chunk_page

    def counting_parse(file: Any, **options: Any) -> Any:
        parsed.append(file.source_path)
        return parse_file(file, **options)

    def counting_chunk(page: Any, **options: Any) -> Any:
        chunked.append(page.title)
        return chunk(page, **options)

    monkeypatch.setattr(index, "parse_file", counting_parse)
    monkeypatch.setattr(index, "chunk_page", counting_chunk)

    again = await ingest_book(engine, SITE, OPTIONS)

    assert list(again.plan.unchanged) == SITE_PAGES
    # Only files that have no stored row are parsed again: the broken one, the draft, the unlisted one.
    assert parsed == ["docs/02-guides/draft-notes.md", "docs/02-guides/writing-docs.md", BROKEN.path]
    assert chunked == []


@pytest.mark.parametrize(
    ("relative", "text", "changed"),
    [
        (
            "docs/01-getting-started/_category_.json",
            '{"label": "First steps"}',
            [
                "docs/01-getting-started/01-install.mdx",
                "docs/01-getting-started/02-configure.md",
                # The translation takes its folder's label from the source tree's category file.
                "i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx",
            ],
        ),
        (
            "i18n/fr/docusaurus-plugin-content-docs/current.json",
            "{}",
            [
                "i18n/fr/docusaurus-plugin-content-docs/current/01-getting-started/01-install.mdx",
                "i18n/fr/docusaurus-plugin-content-docs/current/intro.md",
            ],
        ),
        (
            "docs/intro.md",
            (SITE / "docs/intro.md").read_text(encoding="utf-8") + "\nOne more line.\n",
            ["docs/intro.md"],
        ),
    ],
)
async def test_a_page_changes_with_its_bytes_or_the_files_around_it(
    engine: AsyncEngine, clean_database: str, site: Path, relative: str, text: str, changed: list[str]
) -> None:
    await ingest_book(engine, site, OPTIONS)
    write(site, relative, text)

    plan = await plan_ingest(engine, site, OPTIONS)

    assert [page.source.source_path for page in plan.changed] == changed
    assert sorted([*plan.unchanged, *changed]) == SITE_PAGES


async def test_sidebar_positions_are_stored_and_follow_a_changed_category_position(
    engine: AsyncEngine, clean_database: str, site: Path
) -> None:
    query = "SELECT source_path, sidebar_positions FROM book_pages WHERE source_path LIKE %s ORDER BY source_path"
    await ingest_book(engine, site, OPTIONS)
    assert rows(clean_database, query, "docs/%") == [
        ("docs/01-getting-started/01-install.mdx", [2.0, 1.0]),
        ("docs/01-getting-started/02-configure.md", [2.0, 2.0]),
        ("docs/02-guides/03-deploy.md", [3.0, 3.0]),
        ("docs/02-guides/index.md", [3.0, None]),
        ("docs/intro.md", [1.0]),
    ]

    write(site, "docs/02-guides/_category_.yml", "label: Guides\nposition: 0.5\n")
    report = await ingest_book(engine, site, OPTIONS)

    assert report.plan.changed and {page.source.source_path for page in report.plan.changed} == {
        "docs/02-guides/03-deploy.md",
        "docs/02-guides/index.md",
    }
    assert rows(clean_database, query, "docs/02-guides/%") == [
        ("docs/02-guides/03-deploy.md", [0.5, 3.0]),
        ("docs/02-guides/index.md", [0.5, None]),
    ]


async def test_a_new_chunk_size_rewrites_every_page_a_new_locale_its_own(
    engine: AsyncEngine, clean_database: str
) -> None:
    await ingest_book(engine, SITE, OPTIONS)

    resized = await plan_ingest(engine, SITE, IngestOptions(base_url=BASE, target_chars=600))
    relocated = await plan_ingest(engine, SITE, IngestOptions(base_url=BASE, locale="en-GB"))

    assert len(resized.changed) == len(SITE_PAGES)
    # The docs folder becomes en-GB pages (new rows); the French translations are shaped exactly as before.
    assert {page.row.locale for page in relocated.new} == {"en-GB"} and len(relocated.new) == len(SITE_PAGES) - 2
    assert (relocated.changed, list(relocated.unchanged)) == ((), SITE_PAGES[-2:])


async def test_pages_stored_under_another_fingerprint_are_rewritten_once(
    engine: AsyncEngine, clean_database: str
) -> None:
    await ingest_book(engine, SITE, OPTIONS)
    # Pages hashed by an earlier version of this code (or anything else) miss once, then are unchanged.
    rows(clean_database, "UPDATE book_pages SET content_hash = md5(content_hash) RETURNING id")

    upgraded = await ingest_book(engine, SITE, OPTIONS)
    again = await ingest_book(engine, SITE, OPTIONS)

    assert len(upgraded.plan.changed) == upgraded.pages_written == len(SITE_PAGES)
    assert list(again.plan.unchanged) == SITE_PAGES


async def test_a_changed_page_alone_is_replaced_in_one_transaction(
    engine: AsyncEngine, clean_database: str, site: Path
) -> None:
    await ingest_book(engine, site, OPTIONS)
    before = chunk_state(clean_database)
    (page_id,) = rows(clean_database, "SELECT id FROM book_pages WHERE source_path = %s", DEPLOY)[0]
    vercel, rollback = "Deploy on Vercel. " * 50, "Roll back in one command. " * 40
    write(site, DEPLOY, f"---\nslug: /deploy\n---\n\n# Deploy\n\n{vercel}\n\n## Roll back\n\n{rollback}\n")

    report = await ingest_book(engine, site, OPTIONS)

    assert [page.source.source_path for page in report.plan.changed] == [DEPLOY]
    assert (report.pages_written, report.chunks_written, report.chunks_deleted) == (1, 2, 1)
    after = chunk_state(clean_database)
    assert {path: ids for path, ids in after.items() if path != DEPLOY} == {
        path: ids for path, ids in before.items() if path != DEPLOY
    }
    new_chunks = after[DEPLOY]
    assert not {chunk_id for chunk_id, _ in new_chunks} & {chunk_id for chunk_id, _ in before[DEPLOY]}
    (page_xmin, chunk_count, same_id) = rows(
        clean_database,
        "SELECT xmin::text::bigint, chunk_count, id = %s FROM book_pages WHERE source_path = %s",
        page_id,
        DEPLOY,
    )[0]
    assert same_id and chunk_count == 2
    # The page row and every one of its new chunks were written by the same transaction.
    assert {xmin for _, xmin in new_chunks} == {page_xmin}
    texts = rows(clean_database, "SELECT text FROM book_chunks WHERE page_id = %s ORDER BY ordinal", page_id)
    assert [text for (text,) in texts] == [f"Deploy\n\n{vercel.strip()}", f"Deploy › Roll back\n\n{rollback.strip()}"]


async def test_a_reader_sees_the_old_page_or_the_new_one_never_a_mix(
    engine: AsyncEngine, clean_database: str, tmp_path: Path
) -> None:
    def long_page(version: str, sections: int) -> str:
        return "# Long\n\n" + "".join(f"## Part {i}\n\n{version} text of part {i}.\n\n" for i in range(sections))

    old, new = long_page("old", 150), long_page("new", 120)
    write(tmp_path, "long.md", old)
    await ingest_book(engine, tmp_path, IngestOptions(target_chars=40))
    query = "SELECT array_agg(text ORDER BY ordinal) FROM book_chunks WHERE url LIKE '/docs/long%%'"
    (old_texts,) = rows(clean_database, query)[0]
    seen: list[list[str]] = []
    done = threading.Event()

    def read_until_done() -> None:
        with psycopg.connect(clean_database, autocommit=True) as conn:
            while not done.is_set() or len(seen) < 3:
                seen.append(conn.execute(query).fetchone()[0])  # type: ignore[index]

    reader = threading.Thread(target=read_until_done)
    reader.start()
    write(tmp_path, "long.md", new)
    try:
        report = await ingest_book(engine, tmp_path, IngestOptions(target_chars=40))
    finally:
        done.set()
        reader.join()

    (new_texts,) = rows(clean_database, query)[0]
    assert report.chunks_written == len(new_texts) == 120 and len(old_texts) == 150
    assert all(texts in (old_texts, new_texts) for texts in seen)


async def test_pages_gone_from_disk_stay_until_pruned(engine: AsyncEngine, clean_database: str, site: Path) -> None:
    await ingest_book(engine, site, OPTIONS)
    (site / DEPLOY).unlink()

    kept = await ingest_book(engine, site, OPTIONS)

    assert [page.source_path for page in kept.plan.removed] == [DEPLOY]
    assert not kept.pruned
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == len(SITE_PAGES)

    pruned = await ingest_book(engine, site, IngestOptions(base_url=BASE, prune=True))

    assert pruned.pruned and pruned.chunks_deleted == 1
    assert rows(clean_database, "SELECT count(*) FROM book_pages WHERE source_path LIKE '%%deploy%%'")[0][0] == 0
    assert rows(clean_database, "SELECT count(*) FROM book_chunks WHERE url LIKE '%%/deploy'")[0][0] == 0
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == len(SITE_PAGES) - 1


@pytest.mark.parametrize("flag", ["unlisted", "draft"])
async def test_a_page_marked_draft_or_unlisted_leaves_the_index_without_prune(
    engine: AsyncEngine, clean_database: str, site: Path, flag: str
) -> None:
    await ingest_book(engine, site, OPTIONS)
    write(site, DEPLOY, f"---\nslug: /deploy\n{flag}: true\n---\n\n# Deploy\n\nNot for readers yet.\n")

    dry = await ingest_book(engine, site, IngestOptions(base_url=BASE, dry_run=True))
    assert [page.source_path for page in dry.plan.hidden] == [DEPLOY]
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == len(SITE_PAGES)

    report = await ingest_book(engine, site, OPTIONS)

    assert not report.pruned and report.plan.removed == () and report.chunks_deleted == 1
    assert rows(clean_database, "SELECT count(*) FROM book_pages WHERE source_path = %s", DEPLOY) == [(0,)]
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == len(SITE_PAGES) - 1
    again = await ingest_book(engine, site, OPTIONS)
    assert again.plan.hidden == () and again.chunks_deleted == 0


async def test_a_dry_run_plans_and_writes_nothing(engine: AsyncEngine, clean_database: str, site: Path) -> None:
    dry = await ingest_book(engine, site, IngestOptions(base_url=BASE, dry_run=True))

    assert dry.dry_run and len(dry.plan.new) == len(SITE_PAGES) and dry.chunks_written == 0
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == 0

    await ingest_book(engine, site, OPTIONS)
    before = chunk_state(clean_database)
    write(site, "docs/02-guides/index.md", "# Guides\n\nRewritten.\n")
    write(site, "docs/extra.md", "# Extra\n\nNew page.\n")
    (site / DEPLOY).unlink()

    plan = (await ingest_book(engine, site, IngestOptions(base_url=BASE, dry_run=True, prune=True))).plan

    assert [page.source.source_path for page in plan.new] == ["docs/extra.md"]
    assert [page.source.source_path for page in plan.changed] == ["docs/02-guides/index.md"]
    assert [page.source_path for page in plan.removed] == [DEPLOY]
    assert len(plan.unchanged) == len(SITE_PAGES) - 2
    assert chunk_state(clean_database) == before


async def test_a_broken_file_keeps_its_last_good_version(engine: AsyncEngine, clean_database: str, site: Path) -> None:
    await ingest_book(engine, site, OPTIONS)
    write(site, "docs/02-guides/index.md", "---\ntitle: [unclosed\n---\n\n# Guides\n")

    report = await ingest_book(engine, site, IngestOptions(base_url=BASE, prune=True))

    assert [failure.path for failure in report.failures] == ["docs/02-guides/index.md", BROKEN.path]
    assert report.plan.removed == ()
    assert rows(clean_database, "SELECT title FROM book_pages WHERE source_path = 'docs/02-guides/index.md'") == [
        ("Guides",)
    ]


async def test_undecodable_and_nul_files_fail_alone(engine: AsyncEngine, clean_database: str, tmp_path: Path) -> None:
    write(tmp_path, "good.md", "# Good\n\nFine text.\n")
    (tmp_path / "latin1.md").write_bytes(b"# Caf\xe9\n\nOld encoding.\n")
    write(tmp_path, "nul.md", "# Nul\n\nA \x00 byte.\n")

    report = await ingest_book(engine, tmp_path, IngestOptions())

    assert report.failures == [
        BadFile("latin1.md", "not valid UTF-8: byte 0xe9 at offset 5"),
        BadFile("nul.md", "contains NUL characters, which PostgreSQL cannot store"),
    ]
    assert report.pages_written == 1
    assert rows(clean_database, "SELECT source_path FROM book_pages") == [("good.md",)]


async def test_new_addresses_rewrite_every_page(engine: AsyncEngine, clean_database: str) -> None:
    await ingest_book(engine, SITE, OPTIONS)

    moved = await ingest_book(engine, SITE, IngestOptions(base_url="https://new.example", route_base="/book"))

    assert len(moved.plan.changed) == len(SITE_PAGES)
    urls = rows(clean_database, "SELECT DISTINCT url FROM book_chunks WHERE locale = 'en' ORDER BY url")
    assert all(url.startswith("https://new.example/book/") for (url,) in urls)


async def test_books_are_kept_apart(engine: AsyncEngine, clean_database: str, tmp_path: Path) -> None:
    write(tmp_path / "a", "one.md", "# One\n\nFirst book.\n")
    write(tmp_path / "b", "two.md", "# Two\n\nSecond book.\n")
    await ingest_book(engine, tmp_path / "a", IngestOptions(book="a"))

    other = await ingest_book(engine, tmp_path / "b", IngestOptions(book="b", prune=True))

    assert other.plan.removed == ()
    assert rows(clean_database, "SELECT book, source_path FROM book_pages ORDER BY book") == [
        ("a", "one.md"),
        ("b", "two.md"),
    ]


async def test_planning_reads_the_index_without_writing(engine: AsyncEngine, clean_database: str) -> None:
    plan = await plan_ingest(engine, SITE, OPTIONS)
    assert len(plan.writes) == len(SITE_PAGES)
    assert rows(clean_database, "SELECT count(*) FROM book_pages")[0][0] == 0


@pytest.mark.parametrize(
    ("locale", "config"),
    [("en", "english"), ("en-GB", "english"), ("EN", "english"), ("fr", "simple"), ("pt-BR", "simple")],
)
def test_search_configuration_per_locale(locale: str, config: str) -> None:
    assert search_config(locale) == config


async def test_a_page_too_large_for_the_index_fails_alone(
    engine: AsyncEngine, clean_database: str, tmp_path: Path
) -> None:
    words = " ".join(f"w{i:07d}" for i in range(100_000))  # over the 1 MB a tsvector may hold
    write(tmp_path, "huge.md", f"# Huge\n\n```text\n{words}\n```\n")
    write(tmp_path, "small.md", "# Small\n\nFits.\n")

    report = await ingest_book(engine, tmp_path, IngestOptions())

    (failure,) = report.failures
    assert failure.path == "huge.md"
    assert failure.reason.startswith("not stored: string is too long for tsvector")
    assert rows(clean_database, "SELECT source_path FROM book_pages") == [("small.md",)]
