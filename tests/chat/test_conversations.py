"""Conversations of signed-in readers: stored, continued with their history, listed, read and deleted by their owner
only; anonymous chat is never stored; feedback on stored answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from httpx import AsyncClient

from tests.chat.conftest import instance, reader_headers
from tests.standins.openai_server import OpenAIStandIn
from tests.web.checks import assert_problem

FIRST = "How do refresh tokens rotate?"


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # a fixed table name
    assert row is not None
    return int(row[0])


async def ask(client: AsyncClient, message: str, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/chat", json={"message": message, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_follow_up_continues_the_conversation_with_its_history(
    llm_client: AsyncClient, openai_standin: OpenAIStandIn, book: Path
) -> None:
    headers = await reader_headers(llm_client)
    openai_standin.respond_with(lambda messages: f"Answer {len(messages)}: they rotate on every use [1].")
    first = await ask(llm_client, FIRST, headers)
    conversation_id = first["conversation_id"]
    assert conversation_id

    second = await ask(llm_client, "Tell me more.", headers, conversation_id=conversation_id)

    assert second["conversation_id"] == conversation_id
    # "Tell me more." shares no word with the book: the previous question found the passages.
    assert second["citations"][0]["url"].endswith("/docs/guides/sessions#refresh-tokens")
    messages = openai_standin.requests_to("chat")[-1].messages
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == FIRST
    assert messages[2]["content"] == "Answer 2: they rotate on every use."  # markers of old answers stripped
    assert messages[3]["content"].endswith("Question: Tell me more.")

    stored = (await llm_client.get(f"/api/chat/conversations/{conversation_id}", headers=headers)).json()
    assert stored["title"] == FIRST
    assert [(m["role"], m["mode"]) for m in stored["messages"]] == [
        ("user", None),
        ("assistant", "llm"),
        ("user", None),
        ("assistant", "llm"),
    ]
    assert [m["id"] for m in stored["messages"][1::2]] == [first["message_id"], second["message_id"]]
    assert stored["messages"][1]["citations"] == first["citations"]


async def test_history_keeps_only_the_newest_turns(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    async with instance(llm_settings(chat_history_turns=1)) as client:
        headers = await reader_headers(client)
        conversation_id = (await ask(client, FIRST, headers))["conversation_id"]
        await ask(client, "What about deploys to Vercel?", headers, conversation_id=conversation_id)
        await ask(client, "And rolling back?", headers, conversation_id=conversation_id)

    messages = openai_standin.requests_to("chat")[-1].messages
    assert [m["content"] for m in messages if m["role"] == "user"][:-1] == ["What about deploys to Vercel?"]


async def test_conversations_are_listed_newest_first(client: AsyncClient, book: Path) -> None:
    headers = await reader_headers(client)
    older = (await ask(client, FIRST, headers))["conversation_id"]
    newer = (await ask(client, "How do I roll back a deploy?", headers))["conversation_id"]
    await ask(client, "And the old token?", headers, conversation_id=older)

    listed = (await client.get("/api/chat/conversations", headers=headers)).json()["conversations"]
    assert [c["id"] for c in listed] == [older, newer]
    assert set(listed[0]) == {"id", "title", "created_at", "updated_at"}
    limited = (await client.get("/api/chat/conversations", params={"limit": 1}, headers=headers)).json()
    assert [c["id"] for c in limited["conversations"]] == [older]
    misspelt = await client.get("/api/chat/conversations", params={"limt": 1}, headers=headers)
    assert_problem(misspelt, 422, "validation_failed")


async def test_only_the_owner_sees_continues_or_deletes_a_conversation(client: AsyncClient, book: Path) -> None:
    owner = await reader_headers(client, "owner@example.org")
    other = await reader_headers(client, "other@example.org")
    first = await ask(client, FIRST, owner)
    path = f"/api/chat/conversations/{first['conversation_id']}"

    assert_problem(await client.get(path, headers=other), 404, "not_found")
    assert_problem(await client.delete(path, headers=other), 404, "not_found")
    follow_up = {"message": "Tell me more.", "conversation_id": first["conversation_id"]}
    assert_problem(await client.post("/api/chat", json=follow_up, headers=other), 404, "not_found")
    assert_problem(await client.post("/api/chat", json=follow_up), 404, "not_found")
    feedback = {"message_id": first["message_id"], "rating": "down"}
    assert_problem(await client.post("/api/chat/feedback", json=feedback, headers=other), 404, "not_found")
    assert (await client.get("/api/chat/conversations", headers=other)).json() == {"conversations": []}

    assert (await client.delete(path, headers=owner)).status_code == 204
    assert_problem(await client.get(path, headers=owner), 404, "not_found")
    assert_problem(await client.delete(path, headers=owner), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/chat/conversations", "/api/chat/conversations/00000000-0000-4000-8000-000000000000"]
)
async def test_conversations_need_a_signed_in_reader(client: AsyncClient, path: str) -> None:
    assert_problem(await client.get(path), 401, "unauthorized")


async def test_anonymous_chat_is_not_stored(client: AsyncClient, book: Path, clean_database: str) -> None:
    body = await ask(client, FIRST, {})

    assert body["conversation_id"] is None
    assert body["message_id"]
    assert count(clean_database, "chat_messages") == 0
    assert count(clean_database, "chat_conversations") == 0
    feedback = {"message_id": body["message_id"], "rating": "up"}
    assert_problem(await client.post("/api/chat/feedback", json=feedback), 404, "not_found")


async def test_feedback_is_stored_and_replaced(client: AsyncClient, book: Path, clean_database: str) -> None:
    headers = await reader_headers(client)
    answer = await ask(client, FIRST, headers)

    first = await client.post(
        "/api/chat/feedback", json={"message_id": answer["message_id"], "rating": "down"}, headers=headers
    )
    again = await client.post(
        "/api/chat/feedback",
        json={"message_id": answer["message_id"], "rating": "up", "comment": "Clear, thanks."},
        headers=headers,
    )

    assert first.status_code == 200, first.text
    assert again.json()["rating"] == "up" and again.json()["comment"] == "Clear, thanks."
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute("SELECT message_id::text, rating, comment FROM chat_feedback").fetchall()
    assert rows == [(answer["message_id"], "up", "Clear, thanks.")]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rating": "meh"}, "rating"),
        ({"rating": "up", "comment": "x" * 2001}, "comment"),
        ({"rating": "up", "extra": True}, "extra"),
    ],
)
async def test_bad_feedback_is_422(client: AsyncClient, book: Path, payload: dict[str, Any], field: str) -> None:
    headers = await reader_headers(client)
    answer = await ask(client, FIRST, headers)
    response = await client.post(
        "/api/chat/feedback", json={"message_id": answer["message_id"], **payload}, headers=headers
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_feedback_on_an_unknown_message_or_a_question_is_404(client: AsyncClient, book: Path) -> None:
    headers = await reader_headers(client)
    answer = await ask(client, FIRST, headers)
    stored = (await client.get(f"/api/chat/conversations/{answer['conversation_id']}", headers=headers)).json()
    question_id = stored["messages"][0]["id"]

    for message_id in ("00000000-0000-4000-8000-000000000000", question_id):
        response = await client.post(
            "/api/chat/feedback", json={"message_id": message_id, "rating": "up"}, headers=headers
        )
        assert_problem(response, 404, "not_found")
