"""`lectern search` through CliRunner: a Rich table, the API's JSON, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lectern.cli.common import CommandError
from tests.cli.fixtures import Invoke, cli
from tests.search.conftest import BASE_URL, write_book

__all__ = ["cli"]  # a fixture shared with tests/cli


@pytest.fixture
def env(cli: Invoke, database_url: str, clean_database: str, tmp_path: Path) -> dict[str, str]:
    """The known book, ingested through `lectern ingest`."""
    env = {"DATABASE_URL": database_url}
    root = write_book(tmp_path / "site")
    ingested = cli("ingest", str(root), "--base-url", BASE_URL, env=env)
    assert ingested.exit_code == 0, ingested.output
    return env


def test_prints_a_table_of_passages(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("search", "How can I rotate my refresh tokens safely?", "--k", "2", env=env)

    assert result.exit_code == 0, result.output
    # The CLI ingested with the default chunk size: the whole page is one passage.
    assert "Sessions" in result.stdout
    assert f"{BASE_URL}/docs/guides/sessions" in result.stdout
    assert "<mark>" not in result.stdout


def test_json_is_the_api_answer(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("search", "déployez Vercel", "--locale", "fr", "--json", env=env)

    assert result.exit_code == 0, result.output
    (found,) = json.loads(result.stdout)["results"]
    assert found["url"] == f"{BASE_URL}/fr/docs/guides/deploy"
    assert found["snippet"].count("<mark>") == 2
    assert set(found) == {"page_id", "title", "url", "heading", "snippet", "score", "source_path"}


def test_nothing_found_says_so(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("search", "What is the weather like on Mars?", env=env)
    assert result.exit_code == 0
    assert "No passage shares a meaningful word with the query." in result.stdout


def test_an_empty_query_is_one_error_line(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("search", "", env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "Type something to search for."


def test_k_out_of_range_is_a_usage_error(cli: Invoke, env: dict[str, str]) -> None:
    result = cli("search", "tokens", "--k", "51", env=env)
    assert result.exit_code == 2
