"""Stored generations: a repeat comes back at once (cached: true); re-ingesting a changed page, changing a preference
or profile field the task uses, or `refresh` misses; each reader's generations are their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import ARM, PAGES, faithful, generated, ingest, write_book
from tests.standins.openai_server import OpenAIStandIn

PERSONALIZE = {"task": "personalize", "source": {"page": "robotics/arm"}}
TRANSLATE = {"task": "translate", "source": {"page": "robotics/arm"}, "language": "ur"}


async def test_a_repeat_is_served_from_the_store_without_the_model(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        first = await generated(client, headers, PERSONALIZE)
        second = await generated(client, headers, PERSONALIZE)
        refreshed = await generated(client, headers, {**PERSONALIZE, "refresh": True})
        after_refresh = await generated(client, headers, PERSONALIZE)

    assert (first["cached"], second["cached"], refreshed["cached"], after_refresh["cached"]) == (
        False,
        True,
        False,
        True,
    )
    assert second["content"] == first["content"] and second["model"] == first["model"]
    assert after_refresh["created_at"] == refreshed["created_at"] != first["created_at"]
    assert len(openai_standin.requests_to("chat")) == 2


async def test_re_ingesting_a_changed_page_misses(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, make_settings: Any
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        before = await generated(client, headers, PERSONALIZE)
        await ingest(make_settings(), book)  # unchanged: nothing rewritten, still a hit
        unchanged = await generated(client, headers, PERSONALIZE)
        write_book(book, {**PAGES, "robotics/arm.md": ARM.replace("six joints", "seven joints")})
        await ingest(make_settings(), book)
        after = await generated(client, headers, PERSONALIZE)

    assert unchanged["cached"] is True
    assert after["cached"] is False and "seven joints" in after["content"] and "six joints" in before["content"]
    assert after["source"]["page_id"] == before["source"]["page_id"]


async def test_only_the_preferences_a_task_uses_change_its_key(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        await generated(client, headers, PERSONALIZE)
        await generated(client, headers, TRANSLATE)
        await client.patch("/api/preferences", json={"difficulty": "advanced"}, headers=headers)
        personalized = await generated(client, headers, PERSONALIZE)
        translated = await generated(client, headers, TRANSLATE)
        await client.put("/api/profile", json={"software_background": "Embedded C"}, headers=headers)
        with_background = await generated(client, headers, PERSONALIZE)
        await client.patch("/api/preferences", json={"topics": ["robots"]}, headers=headers)  # not used by either
        unchanged = await generated(client, headers, PERSONALIZE)

    assert personalized["cached"] is False  # the level changed
    assert translated["cached"] is True  # a translation does not depend on the level
    assert with_background["cached"] is False
    assert unchanged["cached"] is True


async def test_another_reader_never_gets_your_generation(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    readers = iter(["for the first reader", "for the second reader"])
    openai_standin.respond_with(lambda messages: faithful(messages).replace("This chapter", next(readers)))
    async with instance(llm_settings()) as client:
        first = await reader_headers(client, "first@example.org")
        second = await reader_headers(client, "second@example.org")
        mine = await generated(client, first, PERSONALIZE)
        theirs = await generated(client, second, PERSONALIZE)
        mine_again = await generated(client, first, PERSONALIZE)

    assert "for the first reader" in mine["content"]
    assert theirs["cached"] is False and "for the second reader" in theirs["content"]
    assert mine_again["cached"] is True and mine_again["content"] == mine["content"]
    with psycopg.connect(libpq_url) as connection:
        owners = connection.execute("SELECT count(DISTINCT user_id), count(*) FROM generations").fetchone()
    assert owners == (2, 2)


async def test_stored_generations_go_with_their_page_and_their_reader(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        await generated(client, headers, PERSONALIZE)
        await generated(client, headers, {**PERSONALIZE, "source": {"page": "guides/sessions"}})
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute("DELETE FROM book_pages WHERE route = '/robotics/arm'")
        left = connection.execute("SELECT count(*) FROM generations").fetchone()
        connection.execute("DELETE FROM users")
        gone = connection.execute("SELECT count(*) FROM generations").fetchone()

    assert left == (1,) and gone == (0,)
