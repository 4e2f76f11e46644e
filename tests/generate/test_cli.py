"""`lectern generate TASK --page SLUG` through CliRunner on the test database: the Markdown on stdout or in a file,
the model from the environment when configured, one clear line for anything wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lectern.cli.common import CommandError
from tests.chat.conftest import CHAT_MODEL
from tests.cli.fixtures import Invoke, cli
from tests.generate.conftest import BASE_URL, CODE, faithful, into_urdu, write_book
from tests.standins.openai_server import OpenAIStandIn

__all__ = ["cli"]  # a fixture shared with tests/cli


@pytest.fixture
def env(cli: Invoke, database_url: str, clean_database: str, tmp_path: Path) -> dict[str, str]:
    """The generation book, ingested through `lectern ingest`."""
    env = {"DATABASE_URL": database_url}
    ingested = cli("ingest", str(write_book(tmp_path / "docs")), "--base-url", BASE_URL, env=env)
    assert ingested.exit_code == 0, ingested.output
    return env


@pytest.fixture
def model(openai_standin: OpenAIStandIn) -> dict[str, str]:
    return {"LLM_BASE_URL": openai_standin.base_url, "LLM_API_KEY": openai_standin.api_key, "LLM_MODEL": CHAT_MODEL}


def test_an_offline_summary_prints_the_pages_key_sentences(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("generate", "summarize", "--page", "robotics/arm", env=env)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Key sentences from this page")
    assert "quoted from the page, no language model used" in result.stderr


def test_a_translation_to_a_file_and_as_json(
    cli: Invoke, env: dict[str, str], model: dict[str, str], openai_standin: OpenAIStandIn, tmp_path: Path
) -> None:
    openai_standin.respond_with(into_urdu)
    out = tmp_path / "sessions.ur.md"

    written = cli(
        "generate",
        "translate",
        "--page",
        "guides/sessions",
        "--language",
        "ur",
        "--out",
        str(out),
        env={**env, **model},
    )
    as_json = cli(
        "generate", "translate", "--page", "guides/sessions", "--language", "ur", "--json", env={**env, **model}
    )

    assert written.exit_code == 0, written.output
    assert f"Wrote {out}" in written.stdout
    assert CODE in out.read_text(encoding="utf-8") and "اردو" in out.read_text(encoding="utf-8")
    answer = json.loads(as_json.stdout)
    assert answer["dir"] == "rtl" and answer["cached"] is False and answer["model"] == CHAT_MODEL


def test_a_personalized_preview_at_a_level(
    cli: Invoke, env: dict[str, str], model: dict[str, str], openai_standin: OpenAIStandIn
) -> None:
    openai_standin.respond_with(faithful)

    result = cli("generate", "personalize", "--page", "/docs/robotics/arm", "--level", "advanced", env={**env, **model})

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Robot arms")
    assert "advanced" in openai_standin.requests_to("chat")[0].messages[1]["content"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rewrite", "--page", "robotics/arm"), "TASK is personalize, translate, summarize, explain or quiz"),
        (("summarize", "--page", "robotics/arm", "--level", "expert"), "--level is beginner, intermediate or advanced"),
        (("summarize", "--page", "no/such/page"), "No page of the book"),
        (("summarize", "--page", "robotics/arm", "--section", "wheels"), "no section with the anchor"),
        (("personalize", "--page", "robotics/arm"), "needs a language model"),
    ],
)
def test_mistakes_are_one_line_and_exit_1(
    cli: Invoke, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = cli("generate", *args, env=env)

    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)  # run_command prints it as one red line
    assert message in str(result.exception) and "\n" not in str(result.exception)
