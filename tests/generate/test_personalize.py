"""Personalizing a page through POST /api/generate: the reader in the prompt, the structure kept, and a model that
breaks code blocks, links or headings repaired, asked again, or overruled; changed code never comes back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lectern.generate.markdown import code_blocks, structure_of, urls
from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import CODE, attempts, code_tokens, faithful, generated, source_of
from tests.standins.openai_server import OpenAIStandIn

SESSIONS = {"task": "personalize", "source": {"page": "guides/sessions"}}


def assert_structure_of_sessions(content: str) -> None:
    assert code_blocks(content) == [f"```python\n{CODE}\n```"]
    assert "https://book.example/docs/security" in urls(content)
    assert "https://book.example/img/tokens.png" in urls(content)
    structure = structure_of(content)
    assert structure.headings == ((1, "Sessions"), (2, "Refresh tokens"), (2, "Storage"))
    assert structure.tables == ((4, 2),)


async def test_a_faithful_rewrite_keeps_the_page_and_names_its_source(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: source_of(messages).replace("Readers sign in", "You sign in"))
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        await client.put(
            "/api/profile",
            json={"software_background": "Python web apps", "hardware_background": "", "experience_level": "advanced"},
            headers=headers,
        )
        result = await generated(client, headers, SESSIONS)

    assert result["content"].startswith("# Sessions\n\nYou sign in with a password")
    assert_structure_of_sessions(result["content"])
    assert result["mode"] == "llm" and result["model"] == "gpt-4o-mini" and result["cached"] is False
    assert result["language"] == "en" and result["dir"] == "ltr" and result["warnings"] == []
    assert result["source"]["title"] == "Sessions"
    assert result["source"]["url"] == "https://book.example/docs/guides/sessions"
    prompt = openai_standin.requests_to("chat")[0].messages
    assert "software background: Python web apps" in prompt[1]["content"]
    assert "experience: advanced" in prompt[1]["content"]
    # The model sees tokens where the code and the addresses were, and the code only in the tokens' legend.
    source = source_of(prompt)
    assert "https://" not in source and "client.refresh" not in source
    assert "client.refresh(token)" in prompt[1]["content"].split("<source>")[0]


async def test_a_page_is_found_by_url_path_or_full_url(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        by_path = await generated(client, headers, {**SESSIONS, "source": {"page": "/docs/guides/sessions"}})
        by_url = await generated(
            client, headers, {**SESSIONS, "source": {"page": "https://book.example/docs/guides/sessions#storage"}}
        )

    assert by_path["source"] == by_url["source"]
    assert by_url["cached"] is True  # the same page, so the same stored result


async def test_code_the_model_rewrote_is_put_back_without_asking_again(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    def rewrites_the_code(messages: list[dict[str, Any]]) -> str:
        source = source_of(messages)
        (token,) = code_tokens(source)
        return source.replace(token, "```python\nclient.refresh(token, force=True)\n```")

    openai_standin.respond_with(rewrites_the_code)
    async with instance(llm_settings()) as client:
        result = await generated(client, await reader_headers(client), SESSIONS)

    assert_structure_of_sessions(result["content"])
    assert "force=True" not in result["content"]
    assert len(openai_standin.requests_to("chat")) == 1
    assert result["warnings"] == []


async def test_a_dropped_link_gets_a_second_answer_that_keeps_it(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    def drops_the_link(messages: list[dict[str, Any]]) -> str:
        return re.sub(r"\[security guide\]\(⟦\d+⟧\)", "security guide", source_of(messages))

    openai_standin.respond_with(attempts(drops_the_link, faithful))
    async with instance(llm_settings()) as client:
        result = await generated(client, await reader_headers(client), SESSIONS)

    assert_structure_of_sessions(result["content"])
    assert "[security guide](https://book.example/docs/security)" in result["content"]
    calls = openai_standin.requests_to("chat")
    assert len(calls) == 2
    retry = calls[1].messages
    assert retry[-2]["role"] == "assistant" and "is missing" in retry[-1]["content"]


async def test_a_model_that_keeps_breaking_the_code_is_overruled_by_the_original(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    def breaks_everything(messages: list[dict[str, Any]]) -> str:
        source = source_of(messages)
        (token,) = code_tokens(source)
        # Two code blocks for one: which is which cannot be told, so nothing can be put back.
        return source.replace(token, "```python\nhacked()\n```\n\n```python\nmore()\n```").replace("Readers", "You")

    openai_standin.respond_with(breaks_everything)
    async with instance(llm_settings()) as client:
        result = await generated(client, await reader_headers(client), SESSIONS)

    assert_structure_of_sessions(result["content"])
    assert "hacked()" not in result["content"] and "more()" not in result["content"]
    assert result["content"].startswith("# Sessions\n\nReaders sign in")  # the original text
    assert len(openai_standin.requests_to("chat")) == 2
    assert len(result["warnings"]) == 1 and "did not keep its structure" in result["warnings"][0]


async def test_reworded_headings_are_put_back(llm_settings: Any, openai_standin: OpenAIStandIn, book: Path) -> None:
    openai_standin.respond_with(
        lambda messages: source_of(messages).replace("## Storage", "## Where tokens live").replace("# Sessions", "# Hi")
    )
    async with instance(llm_settings()) as client:
        result = await generated(client, await reader_headers(client), SESSIONS)

    assert_structure_of_sessions(result["content"])
    assert "Where tokens live" not in result["content"]
    assert len(openai_standin.requests_to("chat")) == 1


async def test_one_section_by_its_anchor(llm_settings: Any, openai_standin: OpenAIStandIn, book: Path) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        result = await generated(client, await reader_headers(client), {**SESSIONS, "section": "refresh-tokens"})

    assert result["section"] == "refresh-tokens"
    assert result["content"].startswith("## Refresh tokens\n\nEach refresh token is single-use")
    assert "## Storage" not in result["content"]
    assert code_blocks(result["content"]) == [f"```python\n{CODE}\n```"]


async def test_a_text_of_the_readers_own(llm_settings: Any, openai_standin: OpenAIStandIn, book: Path) -> None:
    text = "# Notes\n\nRun `make test` first.\n\n```sh\nmake test\n```\n\nThen read https://example.org/guide."
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        result = await generated(
            client, await reader_headers(client), {"task": "personalize", "source": {"text": text}}
        )

    assert result["content"] == text
    assert result["source"] == {"page_id": None, "title": "Notes", "url": None}
