"""/api/book: the ingested pages, and one page rebuilt from its passages with the anchors citations link to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from lectern.book.repository import ChunkRecord
from lectern.book.service import page_sections
from lectern.db.session import Database
from tests.book.known_book import ingest
from tests.web.checks import assert_problem

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def book(make_settings: Any, tmp_path: Path) -> None:
    database = Database(make_settings())
    try:
        await ingest(await database.engine(), tmp_path / "site", BASE_URL)
    finally:
        await database.dispose()


async def test_pages_are_listed_by_route(client: AsyncClient, book: None) -> None:
    response = await client.get("/api/book/pages")

    assert response.status_code == 200
    pages = response.json()["pages"]
    assert [page["route"] for page in pages] == ["/guides/robots", "/guides/sessions", "/intro"]
    intro = pages[-1]
    assert intro["title"] == "Welcome"
    assert intro["url"] == f"{BASE_URL}/book/intro"
    assert intro["description"] == "Where the book starts."
    assert (await client.get("/api/book/pages", params={"locale": "fr"})).json() == {"pages": []}


@pytest.mark.parametrize(
    "reference", ["guides/sessions", "/guides/sessions", "book/guides/sessions", "guides/sessions.md"]
)
async def test_a_page_is_found_by_route_url_path_or_file(client: AsyncClient, book: None, reference: str) -> None:
    response = await client.get(f"/api/book/pages/{reference.lstrip('/')}")

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Sessions"


async def test_a_page_is_found_by_id(client: AsyncClient, book: None) -> None:
    page_id = (await client.get("/api/book/pages")).json()["pages"][0]["id"]
    response = await client.get(f"/api/book/pages/{page_id}")

    assert response.json()["id"] == page_id


async def test_sections_carry_the_anchors_citations_deep_link_to(client: AsyncClient, book: None) -> None:
    page = (await client.get("/api/book/pages/guides/robots")).json()
    chunks = await client.get("/api/search", params={"q": "encoder joint angle", "k": 50})

    sections = page["sections"]
    assert [(s["level"], s["heading"], s["anchor"]) for s in sections] == [
        (1, None, None),
        (2, "Joints", "joints"),
        (2, "Sensors", "sensors"),
    ]
    assert "# not a heading: a comment in code" in sections[1]["markdown"]
    anchors = {s["anchor"] for s in sections}
    for result in chunks.json()["results"]:
        if result["url"].startswith(page["url"] + "#"):
            assert result["url"].split("#", 1)[1] in anchors


async def test_unknown_pages_are_a_404_problem(client: AsyncClient, book: None) -> None:
    for reference in ("nowhere", "00000000-0000-0000-0000-000000000000", "guides/sessions%00"):
        assert_problem(await client.get(f"/api/book/pages/{reference}"), 404, "not_found")
    assert_problem(await client.get("/api/book/pages/intro", params={"locale": "x y"}), 422, "validation_failed")


def chunk(ordinal: int, path: list[str], anchor: str | None, body: str) -> ChunkRecord:
    return ChunkRecord(ordinal, path, anchor, " › ".join(path) + "\n\n" + body)


def test_a_merged_sibling_keeps_its_heading_from_the_anchor() -> None:
    # The chunker merged "Who it is for" and "Principles": only the first one's anchor says it was there.
    chunks = [
        chunk(0, ["Intro"], None, "Opening words."),
        chunk(1, ["Intro"], "who-it-is-for", "Authors.\n\n## Principles\n\nBe honest."),
    ]

    sections = page_sections(chunks)

    assert [(s.level, s.heading, s.anchor, s.markdown) for s in sections] == [
        (1, None, None, "Opening words."),
        (2, "Who it is for", "who-it-is-for", "Authors."),
        (2, "Principles", "principles", "Be honest."),
    ]


def test_a_long_section_split_in_chunks_reads_as_one() -> None:
    chunks = [
        chunk(0, ["Guide", "Setup"], "setup", "First part."),
        chunk(1, ["Guide", "Setup"], "setup", "Second part."),
        chunk(2, ["Guide", "Setup", "Details"], "details", "```sh\n## not a heading\n```"),
    ]

    sections = page_sections(chunks)

    assert [(s.level, s.heading, s.anchor) for s in sections] == [(2, "Setup", "setup"), (3, "Details", "details")]
    assert sections[0].markdown == "First part.\n\nSecond part."
    assert sections[1].markdown == "```sh\n## not a heading\n```"
