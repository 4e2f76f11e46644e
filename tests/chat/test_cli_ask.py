"""`lectern ask` through CliRunner on the test database: the answer and its sources, as text or the API's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lectern.cli.common import CommandError
from tests.chat.conftest import BASE_URL, CHAT_MODEL, write_book
from tests.cli.fixtures import Invoke, cli
from tests.standins.openai_server import OpenAIStandIn

__all__ = ["cli"]  # a fixture shared with tests/cli

QUESTION = "How do refresh tokens rotate?"


@pytest.fixture
def env(cli: Invoke, database_url: str, clean_database: str, tmp_path: Path) -> dict[str, str]:
    """The known book, ingested through `lectern ingest`."""
    env = {"DATABASE_URL": database_url}
    ingested = cli("ingest", str(write_book(tmp_path / "docs")), "--base-url", BASE_URL, env=env)
    assert ingested.exit_code == 0, ingested.output
    return env


def test_prints_the_answer_and_its_sources(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("ask", QUESTION, env=env)

    assert result.exit_code == 0, result.output
    assert "Refresh tokens rotate on every use. [1]" in result.stdout
    assert "quoted from the book" in result.stdout
    assert f"[1] Sessions — {BASE_URL}/docs/guides/sessions" in result.stdout


def test_json_is_the_api_answer(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("ask", QUESTION, "--json", env=env)

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"answer", "citations", "conversation_id", "message_id", "mode"}
    assert answer["mode"] == "extractive" and answer["conversation_id"] is None


def test_with_a_model_configured_the_model_answers(
    cli: Invoke, env: dict[str, str], openai_standin: OpenAIStandIn
) -> None:
    openai_standin.respond_with(lambda messages: "They rotate on every use [1][4].")
    model = {"LLM_BASE_URL": openai_standin.base_url, "LLM_API_KEY": openai_standin.api_key, "LLM_MODEL": CHAT_MODEL}

    result = cli("ask", QUESTION, env={**env, **model})

    assert result.exit_code == 0, result.output
    assert "They rotate on every use [1]." in result.stdout
    assert "written by the language model" in result.stdout
    assert len(openai_standin.requests_to("chat")) == 1


def test_an_empty_book_says_so(cli: Invoke, database_url: str, clean_database: str) -> None:
    result = cli("ask", QUESTION, env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "The book does not cover this" in result.stdout
    assert "Sources" not in result.stdout


def test_a_blank_question_is_one_error_line(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("ask", "   ", env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "Ask a question of 1 to 2000 characters."
