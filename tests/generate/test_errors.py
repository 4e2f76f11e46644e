"""What POST /api/generate refuses, and how: 401 without a reader, 404 for an unknown page or section, 422 for a bad
body (before any work), 504 when the model times out, 502 when it keeps failing; never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from httpx import AsyncClient

from lectern.generate.schemas import MAX_TEXT_CHARS
from tests.chat.conftest import instance, reader_headers
from tests.standins.openai_server import OpenAIStandIn
from tests.web.checks import assert_problem

PERSONALIZE = {"task": "personalize", "source": {"page": "robotics/arm"}}


async def test_readers_must_sign_in(client: AsyncClient, book: Path) -> None:
    missing = await client.post("/api/generate", json=PERSONALIZE)
    forged = await client.post("/api/generate", json=PERSONALIZE, headers={"Authorization": "Bearer not.a.token"})

    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert_problem(forged, 401, "invalid_token")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PERSONALIZE, "task": "rewrite"}, "task"),
        ({**PERSONALIZE, "language": "not a language"}, "language"),
        ({**PERSONALIZE, "language": "x"}, "language"),
        ({"task": "summarize", "source": {"text": "a" * (MAX_TEXT_CHARS + 1)}}, "source"),
        ({"task": "summarize", "source": {"text": "   "}}, "source"),
        ({"task": "summarize", "source": {"page": "intro", "text": "both"}}, "source"),
        ({"task": "summarize", "source": {}}, "source"),
        ({"task": "summarize"}, "source"),
        ({**PERSONALIZE, "level": "expert"}, "level"),
        ({**PERSONALIZE, "questions": 11}, "questions"),
        ({**PERSONALIZE, "section": ""}, "section"),
        ({**PERSONALIZE, "colour": "blue"}, "colour"),
    ],
)
async def test_a_bad_body_is_422_naming_the_field(
    client: AsyncClient, book: Path, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/generate", json=body, headers=await reader_headers(client))

    problem = assert_problem(response, 422, "validation_failed")
    assert any(error["field"].split(".")[0] == field for error in problem["errors"]), problem["errors"]


async def test_the_longest_text_allowed_is_accepted(client: AsyncClient, book: Path) -> None:
    text = ("The pump moves water. " * 1000)[:MAX_TEXT_CHARS]
    response = await client.post(
        "/api/generate", json={"task": "summarize", "source": {"text": text}}, headers=await reader_headers(client)
    )

    assert response.status_code == 200, response.text


async def test_an_unknown_page_or_section_is_404(client: AsyncClient, book: Path) -> None:
    headers = await reader_headers(client)
    page = await client.post(
        "/api/generate", json={"task": "summarize", "source": {"page": "no/such/page"}}, headers=headers
    )
    section = await client.post(
        "/api/generate",
        json={"task": "summarize", "source": {"page": "robotics/arm"}, "section": "wheels"},
        headers=headers,
    )

    assert "No page of the book" in assert_problem(page, 404, "not_found")["detail"]
    assert "wheels" in assert_problem(section, 404, "not_found")["detail"]


async def test_a_model_that_does_not_answer_in_time_is_504(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.hang(seconds=5)
    async with instance(llm_settings(llm_timeout_seconds=0.5, llm_max_retries=0)) as client:
        response = await client.post("/api/generate", json=PERSONALIZE, headers=await reader_headers(client))

    problem = assert_problem(response, 504, "llm_timeout")
    assert "sk-" not in problem["detail"]


async def test_a_model_that_keeps_failing_is_502_after_its_retries(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, fast_backoff: None, libpq_url: str
) -> None:
    openai_standin.server_error(status=500, count=10)
    async with instance(llm_settings(llm_max_retries=2)) as client:
        response = await client.post("/api/generate", json=PERSONALIZE, headers=await reader_headers(client))

    assert_problem(response, 502, "llm_unavailable")
    assert len(openai_standin.requests_to("chat")) == 3  # the call and its two retries
    with psycopg.connect(libpq_url) as connection:
        # Nothing stored, and the day's token count gave the reservation back (the failed calls reported nothing).
        assert connection.execute("SELECT count(*) FROM generations").fetchone() == (0,)
        assert connection.execute("SELECT tokens FROM generation_usage").fetchone() == (0,)
