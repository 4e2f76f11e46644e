"""POST /api/generate as server-sent events: a section event then tokens per part, in page order, then done; a part
failing midway ends the stream with an error event and stores nothing; a client that leaves stops the model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from lectern.generate import streaming
from tests.chat.conftest import instance, reader_headers
from tests.chat.live import LiveApp
from tests.conftest import bearer, signup
from tests.generate.conftest import LONG_SECTIONS, faithful
from tests.standins.openai_server import OpenAIStandIn

MANUAL = {"task": "personalize", "source": {"page": "reference/manual"}}


def parse_events(text: str) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """The events of an SSE body in order, and how many heartbeat comments it had."""
    events: list[tuple[str, dict[str, Any]]] = []
    heartbeats = 0
    for frame in text.split("\n\n"):
        if frame == ": heartbeat":
            heartbeats += 1
        elif frame:
            name, data = frame.split("\n")
            assert name.startswith("event: ") and data.startswith("data: "), frame
            events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events, heartbeats


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in events]


def joined_tokens(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(data["text"] for name, data in events if name == "token")


async def test_parts_arrive_in_page_order_and_join_into_the_content(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(faithful)
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        response = await client.post("/api/generate", json={**MANUAL, "stream": True}, headers=headers)
        stored = await client.post("/api/generate", json=MANUAL, headers=headers)
        replayed = await client.post("/api/generate", json=MANUAL, headers={**headers, "Accept": "text/event-stream"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events, _ = parse_events(response.text)
    sections = [data for name, data in events if name == "section"]
    assert [section["index"] for section in sections] == list(range(LONG_SECTIONS))
    assert {section["total"] for section in sections} == {LONG_SECTIONS}
    assert sections[1] == {"index": 1, "total": LONG_SECTIONS, "heading": "Subsystem 2", "anchor": "subsystem-2"}
    assert names(events)[-1] == "done" and set(names(events)) == {"section", "token", "done"}
    done = events[-1][1]
    assert "content" not in done and done["cached"] is False and done["mode"] == "llm"
    assert stored.json()["cached"] is True
    assert joined_tokens(events) == stored.json()["content"]
    again, _ = parse_events(replayed.text)
    assert joined_tokens(again) == stored.json()["content"] and again[-1][1]["cached"] is True
    assert [data for name, data in again if name == "section"] == sections


async def test_a_part_failing_midway_ends_the_stream_with_an_error_and_stores_nothing(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, libpq_url: str
) -> None:
    openai_standin.respond_with(faithful)
    openai_standin.set_delay(0.3)
    openai_standin.server_error(status=500, when=lambda request: "Subsystem 3 step" in str(request.messages))
    async with instance(llm_settings(llm_max_retries=0)) as client:
        response = await client.post(
            "/api/generate", json={**MANUAL, "stream": True}, headers=await reader_headers(client)
        )
        for request in openai_standin.requests_to("chat"):
            assert await request.ended()

    events, _ = parse_events(response.text)
    assert names(events)[0] == "section" and "token" in names(events)
    assert [data["index"] for name, data in events if name == "section"] == [0, 1]
    assert names(events)[-1] == "error" and "done" not in names(events)
    assert events[-1][1] == {
        "code": "llm_unavailable",
        "detail": events[-1][1]["detail"],
        "status": 502,
    }
    answered = [request.outcome for request in openai_standin.requests_to("chat") if request.fault is None]
    # Four parts run at once: those in flight when the third failed were cancelled, the rest never started.
    assert answered.count("completed") <= 4 and "disconnected" in answered, answered
    with psycopg.connect(libpq_url) as connection:
        assert connection.execute("SELECT count(*) FROM generations").fetchone() == (0,)


async def test_heartbeats_keep_a_slow_stream_open(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.05)
    openai_standin.respond_with(faithful)
    openai_standin.set_delay(0.4)
    async with instance(llm_settings()) as client:
        response = await client.post(
            "/api/generate",
            json={"task": "personalize", "source": {"page": "robotics/arm"}, "stream": True},
            headers=await reader_headers(client),
        )

    events, heartbeats = parse_events(response.text)
    assert heartbeats >= 2 and names(events)[-1] == "done"


async def test_a_model_that_times_out_in_a_stream_is_an_error_event(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.hang(seconds=5)
    async with instance(llm_settings(llm_timeout_seconds=0.5, llm_max_retries=0)) as client:
        response = await client.post(
            "/api/generate",
            json={"task": "translate", "language": "ur", "source": {"page": "robotics/arm"}, "stream": True},
            headers=await reader_headers(client),
        )

    events, _ = parse_events(response.text)
    assert names(events) == ["error"] and events[0][1]["code"] == "llm_timeout" and events[0][1]["status"] == 504


async def test_an_offline_stream_quotes_the_page(client: httpx.AsyncClient, book: Path) -> None:
    response = await client.post(
        "/api/generate",
        json={"task": "summarize", "source": {"page": "robotics/arm"}, "stream": True},
        headers=await reader_headers(client),
    )

    events, _ = parse_events(response.text)
    assert names(events)[0] == "section" and names(events)[-1] == "done"
    assert events[-1][1]["mode"] == "extractive"
    assert joined_tokens(events).startswith("Key sentences from this page")


def test_a_client_that_leaves_stops_the_model(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a real connection: closing it midway cancels every part, and the model's requests are dropped."""
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.05)
    openai_standin.respond_with(faithful)
    openai_standin.set_delay(3)
    with LiveApp(llm_settings()) as live:
        tokens = asyncio.run(_signup(live.url))
        with (
            httpx.Client(base_url=live.url, timeout=10) as http,
            http.stream("POST", "/api/generate", json={**MANUAL, "stream": True}, headers=bearer(tokens)) as stream,
        ):
            for line in stream.iter_lines():
                if line == ": heartbeat" and len(openai_standin.requests_to("chat")) >= 4:
                    break  # four parts are in flight: leave
        requests = openai_standin.requests_to("chat")
        assert requests
        for request in requests:
            assert request.wait_ended(timeout=5)
    assert {request.outcome for request in requests} == {"disconnected"}


async def _signup(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as client:
        return await signup(client)


async def test_parts_are_written_several_at_a_time_within_the_limit(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    delay = 0.6
    openai_standin.respond_with(faithful)
    openai_standin.set_delay(delay)
    async with instance(llm_settings(generate_concurrency=4)) as client:
        response = await client.post("/api/generate", json=MANUAL, headers=await reader_headers(client))

    assert response.status_code == 200
    received = sorted(request.received_at for request in openai_standin.requests_to("chat"))
    assert len(received) == LONG_SECTIONS
    # The first four went out together; the fifth waited for one of them (each takes `delay`) to finish.
    assert received[3] - received[0] < delay
    assert received[4] - received[0] >= delay * 0.9
