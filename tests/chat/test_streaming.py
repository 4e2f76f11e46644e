"""POST /api/chat as server-sent events: citations, tokens, done; errors as events; a client leaving stops the model."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from starlette.requests import ClientDisconnect

from lectern.app import create_app
from lectern.chat import streaming
from lectern.chat.citations import cited_ids
from tests.chat.conftest import instance, reader_headers
from tests.chat.live import LiveApp
from tests.standins.openai_server import OpenAIStandIn

QUESTION = "How do refresh tokens rotate?"
LONG_ANSWER = " ".join(f"Tokens rotate, step {i} [1]." for i in range(150))


def parse_events(text: str) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """The events of an SSE body, in order, and how many heartbeat comments it had."""
    events: list[tuple[str, dict[str, Any]]] = []
    heartbeats = 0
    for frame in text.split("\n\n"):
        if not frame:
            continue
        if frame == ": heartbeat":
            heartbeats += 1
            continue
        name, data = frame.split("\n")
        assert name.startswith("event: ") and data.startswith("data: "), frame
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events, heartbeats


def assert_answer_events(events: list[tuple[str, dict[str, Any]]], mode: str) -> str:
    """citations → token… → done, with every marker naming a citation; returns the answer text."""
    names = [name for name, _ in events]
    assert names[0] == "citations"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"token"}, names
    ids = {citation["id"] for citation in events[0][1]["citations"]}
    answer = "".join(data["text"] for name, data in events if name == "token")
    assert set(cited_ids(answer)) <= ids
    done = events[-1][1]
    uuid.UUID(done["message_id"])
    assert done["mode"] == mode
    return answer


async def test_stream_true_sends_citations_tokens_then_done(
    llm_client: AsyncClient, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: "Refresh tokens rotate [1]. Invented [7]. Old ones stop [1][7].")

    response = await llm_client.post("/api/chat", json={"message": QUESTION, "stream": True})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events, _ = parse_events(response.text)
    answer = assert_answer_events(events, "llm")
    assert answer == "Refresh tokens rotate [1]. Invented. Old ones stop [1]."
    assert len([name for name, _ in events if name == "token"]) > 3
    assert events[-1][1]["conversation_id"] is None
    assert openai_standin.requests_to("chat")[-1].stream


async def test_the_accept_header_asks_for_a_stream(client: AsyncClient, book: Path) -> None:
    response = await client.post("/api/chat", json={"message": QUESTION}, headers={"Accept": "text/event-stream"})

    assert response.headers["content-type"].startswith("text/event-stream")
    events, _ = parse_events(response.text)
    answer = assert_answer_events(events, "extractive")
    assert "Refresh tokens rotate on every use. [1]" in answer


async def test_a_stream_broken_midway_ends_with_an_error_event(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: LONG_ANSWER)
    openai_standin.break_stream(after_chunks=5)
    async with instance(llm_settings(llm_max_retries=0)) as client:
        response = await client.post("/api/chat", json={"message": QUESTION, "stream": True})

    assert response.status_code == 200
    events, _ = parse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "citations" and "token" in names
    assert names[-1] == "error" and "done" not in names
    assert events[-1][1]["code"] == "llm_unavailable"


async def test_a_stream_broken_before_any_text_falls_back_to_quoting_the_book(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.break_stream(after_chunks=1)  # only the role chunk gets through
    async with instance(llm_settings(llm_max_retries=0)) as client:
        response = await client.post("/api/chat", json={"message": QUESTION, "stream": True})

    events, _ = parse_events(response.text)
    answer = assert_answer_events(events, "extractive")
    assert answer.startswith("The language model is not available right now")


async def test_a_model_that_fails_to_open_the_stream_falls_back(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.hang(seconds=5)
    async with instance(llm_settings(llm_timeout_seconds=0.5, llm_max_retries=0)) as client:
        response = await client.post("/api/chat", json={"message": QUESTION, "stream": True})

    events, _ = parse_events(response.text)
    answer = assert_answer_events(events, "extractive")
    assert answer.startswith("The language model did not answer in time")


async def test_heartbeats_keep_a_slow_stream_open(
    llm_client: AsyncClient, openai_standin: OpenAIStandIn, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.05)
    openai_standin.set_delay(0.4)

    response = await llm_client.post("/api/chat", json={"message": QUESTION, "stream": True})

    events, heartbeats = parse_events(response.text)
    assert heartbeats >= 2
    assert_answer_events(events, "llm")
    assert response.text.index(": heartbeat") > response.text.index("event: citations")


async def test_a_signed_in_readers_streamed_answer_is_stored(
    llm_client: AsyncClient, openai_standin: OpenAIStandIn, book: Path
) -> None:
    headers = await reader_headers(llm_client)
    openai_standin.respond_with(lambda messages: "They rotate on every use [1].")

    response = await llm_client.post("/api/chat", json={"message": QUESTION, "stream": True}, headers=headers)

    events, _ = parse_events(response.text)
    done = events[-1][1]
    stored = await llm_client.get(f"/api/chat/conversations/{done['conversation_id']}", headers=headers)
    assert stored.status_code == 200, stored.text
    messages = stored.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["id"] == done["message_id"]
    assert messages[1]["content"] == "They rotate on every use [1]."
    assert messages[1]["citations"] == events[0][1]["citations"]


async def test_a_client_that_disconnects_stops_the_model(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: LONG_ANSWER)
    openai_standin.set_delay(0, per_chunk=0.02)  # about 20 s for the whole answer
    with LiveApp(llm_settings()) as live:
        async with (
            httpx.AsyncClient(base_url=live.url, timeout=10) as http,
            http.stream("POST", "/api/chat", json={"message": QUESTION, "stream": True}) as response,
        ):
            tokens = 0
            async for line in response.aiter_lines():
                tokens += line == "event: token"
                if tokens == 3:
                    break
        # Leaving the block closed the connection mid-answer.
        request = openai_standin.requests_to("chat")[-1]
        assert await request.ended(5)
        assert request.outcome == "disconnected"
        assert request.chunks_sent < 100


async def test_a_server_that_reports_a_departed_client_by_failing_a_send_also_stops_the_model(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    """ASGI 2.4 servers tell no disconnect: the next send fails. The events must still be closed."""
    openai_standin.respond_with(lambda messages: LONG_ANSWER)
    openai_standin.set_delay(0, per_chunk=0.02)
    body = json.dumps({"message": QUESTION, "stream": True}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/chat",
        "raw_path": b"/api/chat",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    requests = 0
    tokens = 0

    async def receive() -> dict[str, Any]:
        nonlocal requests
        requests += 1
        return {"type": "http.request", "body": body} if requests == 1 else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal tokens
        tokens += b"event: token" in message.get("body", b"")
        if tokens == 3:
            raise OSError("the client is gone")

    app = create_app(llm_settings())
    try:
        # Kept, the traceback keeps the response and its events alive: only closing them stops the model.
        with pytest.raises(ClientDisconnect) as raised:
            await app(scope, receive, send)
        request = openai_standin.requests_to("chat")[-1]
        assert await request.ended(5)
        assert request.outcome == "disconnected"
        assert raised.traceback
    finally:
        await app.state.database.dispose()
