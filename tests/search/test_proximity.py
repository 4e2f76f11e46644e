"""Term proximity: the pair score, the re-scoring of a ranking's head, and its effect on real searches."""

from __future__ import annotations

import math
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.ingest.index import IngestOptions, ingest_book
from lectern.search import proximity, repository
from lectern.search.proximity import TermPositions, closeness, nearest_distance, rerank
from lectern.search.service import search_passages

positions = st.lists(st.integers(1, 400), min_size=1, max_size=30, unique=True).map(sorted)


@given(positions, positions)
def test_nearest_distance_is_the_smallest_gap(left: list[int], right: list[int]) -> None:
    assert nearest_distance(left, right) == min(abs(a - b) for a in left for b in right)


def test_closeness_sums_close_pairs_by_the_rarer_weight_over_the_squared_distance() -> None:
    terms = [
        TermPositions("norman", 2.0, (3, 40)),
        TermPositions("intercept", 3.0, (5,)),  # 2 words from norman
        TermPositions("pass", 1.0, (6, 90)),  # 3 from norman, 1 from intercept
        TermPositions("season", 4.0, (70,)),  # further than the window from every other
    ]

    assert closeness(terms) == pytest.approx(2.0 / 4 + 1.0 / 9 + 1.0 / 1)
    assert closeness(terms, window=2) == pytest.approx(2.0 / 4 + 1.0)
    assert closeness(terms[:1]) == closeness([]) == 0.0


def test_rerank_moves_the_closest_chunk_up_within_the_head_only() -> None:
    ranked = [(1, 10.0), (2, 9.5), (3, 4.0), (4, 3.0)]
    near = {2: [TermPositions("a", 1.0, (1,)), TermPositions("b", 1.0, (2,))]}

    found = rerank(ranked, near, depth=3)

    assert found == [(2, pytest.approx(9.5 + proximity.WEIGHT * 10.0)), (1, 10.0), (3, 4.0), (4, 3.0)]
    # The tail keeps its scores and stays below the head; nothing to re-score leaves the ranking as it was.
    assert rerank(ranked, near, depth=1) == ranked
    assert rerank(ranked, {}) == ranked
    assert rerank(ranked, near, weight=0.0) == ranked


@given(st.lists(st.floats(0.1, 100.0), min_size=1, max_size=25), st.integers(1, 12), st.data())
def test_rerank_keeps_every_chunk_and_keeps_the_head_above_the_tail(
    scores: list[float], depth: int, data: st.DataObject
) -> None:
    ranked = list(enumerate(sorted(scores, reverse=True)))
    near = {
        i: [TermPositions("a", 1.0, (1,)), TermPositions("b", 1.0, (data.draw(st.integers(2, 12)),))]
        for i, _ in ranked
        if data.draw(st.booleans())
    }

    found = rerank(ranked, near, depth=depth)

    assert sorted(i for i, _ in found) == [i for i, _ in ranked]
    assert found[depth:] == ranked[depth:]
    assert [score for _, score in found[:depth]] == sorted((score for _, score in found[:depth]), reverse=True)
    if len(found) > depth:
        assert min(score for _, score in found[:depth]) >= found[depth][1]


async def test_term_positions_are_the_query_words_places_with_their_idf(
    engine: AsyncEngine, tmp_path: Path, clean_database: str
) -> None:
    (tmp_path / "a.md").write_text("# Birds\n\nThe alpha bird sings; beta birds and the gamma bird fly.\n")
    (tmp_path / "b.md").write_text("# Other\n\nAlpha only.\n")
    await ingest_book(engine, tmp_path, IngestOptions())
    with psycopg.connect(clean_database) as conn:
        (birds,) = conn.execute(
            "SELECT c.id FROM book_chunks c JOIN book_pages p ON p.id = c.page_id WHERE p.source_path = 'a.md'"
        ).fetchone() or (None,)

    async with AsyncSession(engine) as session:
        found = await repository.term_positions(session, "Which birds are alpha, and which gamma?", [birds])

    # "Birds" (1) "The" (2) "alpha" (3) "bird" (4) … "beta" (6) "birds" (7) … "gamma" (10) "bird" (11):
    # positions count stop words; the page title is the chunk's first line.
    idf = {"bird": math.log(1 + (2 - 1 + 0.5) / 1.5), "alpha": math.log(1 + (2 - 2 + 0.5) / 2.5)}
    idf["gamma"] = idf["bird"]
    assert found == {
        birds: [
            TermPositions("alpha", pytest.approx(idf["alpha"]), (3,)),
            TermPositions("bird", pytest.approx(idf["bird"]), (1, 4, 7, 11)),
            TermPositions("gamma", pytest.approx(idf["gamma"]), (10,)),
        ]
    }
    async with AsyncSession(engine) as session:
        assert await repository.term_positions(session, "alpha", []) == {}


async def test_a_passage_whose_words_stand_together_outranks_one_that_scatters_them(
    engine: AsyncEngine, tmp_path: Path, clean_database: str
) -> None:
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed tempor"
    more = "incididunt labore magna aliqua enim minim veniam quis nostrud exercitation"
    # The same words, as many times, in chunks of the same length: BM25 ties them, and the tie goes to the
    # chunk written first (the scattered one).
    (tmp_path / "a-scattered.md").write_text(f"# Season\n\nNorman {filler} intercepted {more} passes.\n")
    (tmp_path / "b-together.md").write_text(f"# Season\n\nNorman intercepted passes. {filler} {more}\n")
    await ingest_book(engine, tmp_path, IngestOptions())
    question = "How many passes did Norman intercept?"

    async with AsyncSession(engine) as session:
        keyword = await repository.keyword_hits(session, question, k=proximity.DEPTH)
        found = await search_passages(session, question, k=2)

    assert [hit.source_path for hit in keyword] == ["a-scattered.md", "b-together.md"]
    assert keyword[0].score == pytest.approx(keyword[1].score)
    assert [result.source_path for result in found.results] == ["b-together.md", "a-scattered.md"]
    assert found.results[0].score > found.results[1].score == pytest.approx(keyword[0].score)
