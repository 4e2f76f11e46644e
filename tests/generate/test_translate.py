"""Translating a page: the direction of the language, code and addresses untouched, the glossary's terms kept or
rendered as it says, the Markdown structure checked; a translation into the page's own language is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lectern.generate.markdown import code_blocks, inline_code, structure_of, urls
from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import CODE, URDU_WORD, into_urdu, source_of
from tests.standins.openai_server import OpenAIStandIn
from tests.web.checks import assert_problem

GLOSSARY = {"Lectern": {"keep": True}, "refresh token": {"ur": "ریفریش ٹوکن", "fr": "jeton de rafraîchissement"}}


def translate(language: str, page: str = "guides/sessions") -> dict[str, Any]:
    return {"task": "translate", "source": {"page": page}, "language": language}


@pytest.fixture
def glossary(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.json"
    path.write_text(json.dumps(GLOSSARY, ensure_ascii=False), encoding="utf-8")
    return path


async def test_urdu_is_right_to_left_with_code_addresses_and_glossary_untouched(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, glossary: Path
) -> None:
    openai_standin.respond_with(into_urdu)
    async with instance(llm_settings(glossary_path=glossary)) as client:
        response = await client.post("/api/generate", json=translate("ur"), headers=await reader_headers(client))

    assert response.status_code == 200, response.text
    result = response.json()
    content = result["content"]
    assert result["language"] == "ur" and result["dir"] == "rtl" and result["warnings"] == []
    assert URDU_WORD in content and "Readers" not in content
    assert code_blocks(content) == [f"```python\n{CODE}\n```"]
    assert inline_code(content) == ["`lectern refresh`"]
    assert urls(content) == ["https://book.example/docs/security", "https://book.example/img/tokens.png"]
    assert content.count("Lectern") == 2  # kept as written, where the page has it
    assert "ریفریش ٹوکن" in content  # the glossary's translation
    assert structure_of(content).heading_levels == (1, 2, 2)
    assert structure_of(content).tables == ((4, 2),)
    # The model saw neither the kept term, nor the term with a translation, nor any code or address.
    source = source_of(openai_standin.requests_to("chat")[0].messages)
    assert "Lectern" not in source and "refresh token" not in source and "`" not in source and "https" not in source
    assert "Urdu (ur)" in openai_standin.requests_to("chat")[0].messages[0]["content"]


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("fa", "rtl"), ("he", "rtl"), ("fr", "ltr")])
async def test_the_direction_follows_the_language(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, language: str, direction: str
) -> None:
    openai_standin.respond_with(into_urdu)
    async with instance(llm_settings()) as client:
        response = await client.post("/api/generate", json=translate(language), headers=await reader_headers(client))

    assert response.json()["dir"] == direction


async def test_the_glossary_changes_the_cache_key(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, glossary: Path
) -> None:
    openai_standin.respond_with(into_urdu)
    async with instance(llm_settings(glossary_path=glossary)) as client:
        headers = await reader_headers(client)
        first = await client.post("/api/generate", json=translate("ur"), headers=headers)
        unrelated = {**GLOSSARY, "encoder": {"de": "Drehgeber"}}  # no Urdu entry: Urdu translations still hit
        glossary.write_text(json.dumps(unrelated, ensure_ascii=False), encoding="utf-8")
        same = await client.post("/api/generate", json=translate("ur"), headers=headers)
        glossary.write_text(json.dumps({"Lectern": {"keep": True}}), encoding="utf-8")
        changed = await client.post("/api/generate", json=translate("ur"), headers=headers)

    assert first.json()["cached"] is False
    assert same.json()["cached"] is True
    assert changed.json()["cached"] is False and "ریفریش ٹوکن" not in changed.json()["content"]


async def test_a_broken_glossary_is_a_clear_503(llm_settings: Any, book: Path, tmp_path: Path) -> None:
    path = tmp_path / "glossary.json"
    path.write_text('{"Lectern": "keep"}', encoding="utf-8")
    async with instance(llm_settings(glossary_path=path)) as client:
        response = await client.post("/api/generate", json=translate("ur"), headers=await reader_headers(client))

    problem = assert_problem(response, 503, "glossary_invalid")
    assert "Lectern" in problem["detail"]


async def test_into_the_pages_own_language_is_422(llm_settings: Any, book: Path) -> None:
    async with instance(llm_settings()) as client:
        response = await client.post("/api/generate", json=translate("en-GB"), headers=await reader_headers(client))

    problem = assert_problem(response, 422, "invalid_input")
    assert problem["errors"][0]["field"] == "language"


async def test_without_a_language_the_readers_preferred_one_is_used(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(into_urdu)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        await client.patch("/api/preferences", json={"language": "ur"}, headers=headers)
        response = await client.post(
            "/api/generate", json={"task": "translate", "source": {"page": "robotics/arm"}}, headers=headers
        )

    assert response.json()["language"] == "ur" and response.json()["dir"] == "rtl"
