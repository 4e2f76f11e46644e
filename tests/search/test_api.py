"""GET /api/search over HTTP: public, the result shape, 422s as problem+json, empty answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from tests.search.conftest import BASE_URL

FIELDS = {"page_id", "title", "url", "heading", "snippet", "score", "source_path"}


async def test_search_is_public_and_answers_with_ranked_passages(client: AsyncClient, book: Path) -> None:
    response = await client.get("/api/search", params={"q": "How can I rotate my refresh tokens safely?", "k": 3})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    assert set(results[0]) == FIELDS
    assert results[0]["url"] == f"{BASE_URL}/docs/guides/sessions#refresh-tokens"
    assert results[0]["heading"] == "Refresh tokens"
    assert results[0]["source_path"] == "docs/guides/sessions.md"
    assert "<mark>rotate</mark>" in results[0]["snippet"]
    scores = [result["score"] for result in results]
    assert scores == sorted(scores, reverse=True)


async def test_filters_travel_as_query_parameters(client: AsyncClient, book: Path) -> None:
    french = await client.get("/api/search", params={"q": "Vercel", "locale": "fr"})
    guides = await client.get("/api/search", params={"q": "lectern", "prefix": "/docs/guides/", "k": 50})

    assert [r["url"] for r in french.json()["results"]] == [f"{BASE_URL}/fr/docs/guides/deploy"]
    assert guides.json()["results"]
    assert all(r["url"].startswith(f"{BASE_URL}/docs/guides/") for r in guides.json()["results"])


@pytest.mark.parametrize("q", ["What is the weather like on Mars?", "   ", "the", "weather\x00mars"])
async def test_no_match_is_an_empty_answer(client: AsyncClient, book: Path, q: str) -> None:
    response = await client.get("/api/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json() == {"results": []}


async def test_an_empty_book_answers_empty(client: AsyncClient) -> None:
    response = await client.get("/api/search", params={"q": "tokens"})
    assert response.status_code == 200
    assert response.json() == {"results": []}


async def test_the_longest_query_is_accepted(client: AsyncClient, book: Path) -> None:
    response = await client.get("/api/search", params={"q": "tokens " + "x" * 493})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "tokens", "k": 0}, "k"),
        ({"q": "tokens", "k": 51}, "k"),
        ({"q": "tokens", "k": "many"}, "k"),
        ({"q": "tokens", "locale": "not a locale"}, "locale"),
    ],
)
async def test_bad_parameters_are_422_problems(client: AsyncClient, params: dict[str, Any], field: str) -> None:
    response = await client.get("/api/search", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [error["field"] for error in problem["errors"]] == [field]
