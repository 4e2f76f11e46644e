"""Generation quotas per reader, kept in Postgres: requests per hour and model tokens per UTC day, each a 429 with
Retry-After; stored results cost nothing; the day's count settles to what the model really used."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
from httpx import Response

from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import faithful
from tests.standins.openai_server import OpenAIStandIn
from tests.standins.openai_shapes import count_tokens, message_text, reply_pieces
from tests.web.checks import assert_problem

SUMMARY = {"task": "summarize", "source": {"page": "robotics/arm"}}
PERSONALIZE = {"task": "personalize", "source": {"page": "robotics/arm"}}
DAY = 86_400


def assert_refused(response: Response, *, within: int) -> dict[str, Any]:
    problem = assert_problem(response, 429, "rate_limited")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= within, retry_after
    return problem


async def test_requests_past_the_hourly_quota_are_429_but_stored_results_are_free(
    make_settings: Any, book: Path
) -> None:
    async with instance(make_settings(generate_requests_per_hour=2)) as client:
        headers = await reader_headers(client)
        other = await reader_headers(client, "other@example.org")
        first = await client.post("/api/generate", json=SUMMARY, headers=headers)
        repeats = [await client.post("/api/generate", json=SUMMARY, headers=headers) for _ in range(3)]
        quiz = await client.post("/api/generate", json={**SUMMARY, "task": "quiz"}, headers=headers)
        refused = await client.post("/api/generate", json={**SUMMARY, "refresh": True}, headers=headers)
        streamed = await client.post(
            "/api/generate", json={**SUMMARY, "task": "quiz", "questions": 2, "stream": True}, headers=headers
        )
        other_reader = await client.post("/api/generate", json=SUMMARY, headers=other)

    assert first.status_code == quiz.status_code == 200
    assert all(response.json()["cached"] for response in repeats)
    problem = assert_refused(refused, within=2 * 3600)
    assert "2 generations" in problem["detail"]
    assert_refused(streamed, within=2 * 3600)
    assert other_reader.status_code == 200


async def test_the_daily_token_budget_refuses_what_would_not_fit(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings(generate_daily_tokens_per_reader=100_000)) as client:
        headers = await reader_headers(client)
        allowed = await client.post("/api/generate", json=PERSONALIZE, headers=headers)
        with psycopg.connect(libpq_url, autocommit=True) as connection:
            connection.execute("UPDATE generation_usage SET tokens = 99_990")
        refused = await client.post("/api/generate", json={**PERSONALIZE, "refresh": True}, headers=headers)
        stored = await client.post("/api/generate", json=PERSONALIZE, headers=headers)

    assert allowed.status_code == 200
    problem = assert_refused(refused, within=DAY)
    assert "99990 of your 100000 model tokens" in problem["detail"]
    assert stored.status_code == 200 and stored.json()["cached"] is True
    assert len(openai_standin.requests_to("chat")) == 1


async def test_a_page_larger_than_the_whole_budget_says_so(llm_settings: Any, book: Path) -> None:
    async with instance(llm_settings(generate_daily_tokens_per_reader=50)) as client:
        response = await client.post("/api/generate", json=PERSONALIZE, headers=await reader_headers(client))

    assert "more than the daily budget of 50" in assert_refused(response, within=DAY)["detail"]


async def test_the_days_count_settles_to_the_tokens_the_model_reported(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        response = await client.post("/api/generate", json=PERSONALIZE, headers=await reader_headers(client))
    assert response.status_code == 200

    (request,) = openai_standin.requests_to("chat")
    pieces, _ = reply_pieces(faithful(request.messages), request.body["max_tokens"])
    billed = sum(count_tokens(message_text(message)) for message in request.messages) + len(pieces)
    with psycopg.connect(libpq_url) as connection:
        usage = connection.execute("SELECT tokens FROM generation_usage").fetchone()
        stored = connection.execute("SELECT tokens FROM generations").fetchone()
    assert usage == (billed,) and stored == (billed,)


async def test_concurrent_requests_cannot_pass_the_budget_together(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    openai_standin.respond_with(faithful)
    openai_standin.set_delay(0.3)
    async with instance(llm_settings(generate_daily_tokens_per_reader=4000)) as client:
        headers = await reader_headers(client)
        bodies = [{**PERSONALIZE, "level": level} for level in ("beginner", "intermediate", "advanced")] * 2
        responses = await asyncio.gather(*(client.post("/api/generate", json=body, headers=headers) for body in bodies))

    statuses = sorted(response.status_code for response in responses)
    # Each reservation is the estimate (about 1,500 tokens for this page): two fit in 4,000, the rest wait for tomorrow.
    assert statuses.count(200) == 2 and statuses.count(429) == 4, statuses
