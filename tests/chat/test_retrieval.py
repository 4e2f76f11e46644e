"""Chat retrieval: search results matched back to their chunks, the locale searched, queries cut to fit search."""

from __future__ import annotations

import uuid
from pathlib import Path

from httpx import AsyncClient

from lectern.chat.repository import ChunkRow
from lectern.chat.retrieval import choose_locale, match_hits, search_query
from lectern.search.schemas import SearchResult
from tests.chat.conftest import BASE_URL

PAGE = uuid.uuid4()
URL = "https://book.example/docs/glossary#terms"


def chunk(number: int, body: str) -> ChunkRow:
    return ChunkRow(
        number,
        PAGE,
        number,
        f"Glossary › Terms\n\n{body}",
        ["Glossary", "Terms"],
        URL,
        "Glossary",
        "g.md",
        "en",
        "english",
    )


def hit(snippet: str) -> SearchResult:
    return SearchResult(
        page_id=PAGE, title="Glossary", url=URL, heading="Terms", snippet=snippet, score=1.0, source_path="g.md"
    )


def test_a_hit_in_a_split_section_finds_the_chunk_holding_its_snippet() -> None:
    chunks = [chunk(1, "A shard is a partition."), chunk(2, "A  quorum is\nthe majority.")]
    marked = "A <mark>quorum</mark> is the majority"
    assert [c.id for c, _ in match_hits([hit(marked)], chunks)] == [2]
    # Two hits in one section take two different chunks; a hit with no chunk left is dropped.
    both = match_hits([hit(marked), hit("A shard"), hit("nothing like this")], chunks)
    assert [c.id for c, _ in both] == [2, 1]


def test_escaped_snippets_and_openings_of_vector_hits_find_their_chunk() -> None:
    signs, replicas = chunk(1, "When a < b & c, stop."), chunk(2, "Replicas agree on writes. " * 20)
    # A vector hit shares no word with the query: search shows the opening of its body, cut with " …".
    opening = hit(("Replicas agree on writes. " * 10).strip().rsplit(" ", 1)[0] + " …")
    escaped = hit("When a &lt; b &amp; c, <mark>stop</mark>.")

    # Each time the other chunk comes first: only the snippet can pick the right one.
    assert [c.id for c, _ in match_hits([opening], [signs, replicas])] == [2]
    assert [c.id for c, _ in match_hits([escaped], [replicas, signs])] == [1]


def test_the_locale_searched() -> None:
    assert choose_locale("fr", "en", ["en", "fr"]) == "fr"
    assert choose_locale(None, "pt-BR", ["en", "pt"]) == "pt"
    assert choose_locale(None, "ur", ["en", "fr"]) == "en"
    assert choose_locale(None, None, ["fr"]) is None


def test_long_text_is_cut_at_a_blank_to_what_search_takes() -> None:
    query = search_query("word " * 200)
    assert len(query) <= 500 and query.endswith("word")
    assert search_query("  spaced \n out  ") == "spaced out"


async def test_the_chunk_of_a_long_section_that_answers_is_cited(client: AsyncClient, book: Path) -> None:
    body = (await client.post("/api/chat", json={"message": "What is a quorum?"})).json()

    first = body["citations"][0]
    assert first["url"] == f"{BASE_URL}/docs/reference/glossary#terms"
    assert "quorum" in first["snippet"]
    assert (
        "A quorum is the majority of replicas that must agree before a write counts as committed. [1]"
        in (body["answer"])
    )
