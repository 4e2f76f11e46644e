"""stream(): text deltas as the model writes them; stopping early closes the HTTP stream on the provider's side."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from lectern.llm import ChatMessage, LLMTimeout, LLMUnavailable, complete, stream
from tests.llm.conftest import MakeSettings
from tests.standins.openai_server import OpenAIStandIn

QUESTION: list[ChatMessage] = [{"role": "user", "content": "Explain retrieval in one sentence."}]
LONG_ANSWER = " ".join(f"word{i}" for i in range(200))


async def test_deltas_assemble_into_the_whole_answer(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    settings = llm_settings()
    deltas = [delta async for delta in stream(QUESTION, settings=settings, temperature=0.3)]
    assert len(deltas) > 3
    assert "".join(deltas) == (await complete(QUESTION, settings=settings)).text
    first = openai_standin.requests[0]
    assert first.stream and first.temperature == 0.3
    assert first.outcome == "completed"


async def test_a_consumer_that_stops_closes_the_stream(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.respond_with(lambda messages: LONG_ANSWER)
    openai_standin.set_delay(0, per_chunk=0.01)
    received = []
    async with aclosing(stream(QUESTION, settings=llm_settings())) as deltas:
        async for delta in deltas:
            received.append(delta)
            if len(received) == 3:
                break
    request = openai_standin.last_request
    assert await request.ended(5)
    assert request.outcome == "disconnected"
    assert request.chunks_sent < 50


async def test_a_cancelled_consumer_closes_the_stream(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.respond_with(lambda messages: LONG_ANSWER)
    openai_standin.set_delay(0, per_chunk=0.01)
    first_words = asyncio.Event()

    async def consume() -> None:
        async for _ in stream(QUESTION, settings=llm_settings()):
            first_words.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_words.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    request = openai_standin.last_request
    assert await request.ended(5)
    assert request.outcome == "disconnected"


async def test_opening_is_retried_after_a_rate_limit(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    openai_standin.rate_limit(retry_after=0.05, count=1)
    deltas = [delta async for delta in stream(QUESTION, settings=llm_settings())]
    assert "".join(deltas).startswith("Stand-in answer")
    assert [r.status for r in openai_standin.requests] == [429, 200]


async def test_a_stream_broken_midway_is_unavailable_after_the_first_words(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.break_stream(after_chunks=3)
    received = []
    with pytest.raises(LLMUnavailable, match="connection error"):
        async for delta in stream(QUESTION, settings=llm_settings()):
            received.append(delta)
    assert received == ["Stand-in ", "answer "]


async def test_a_stream_that_never_starts_is_a_timeout(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.hang(seconds=5)
    with pytest.raises(LLMTimeout):
        async for _ in stream(QUESTION, settings=llm_settings(llm_timeout_seconds=0.5)):
            pass
    assert await openai_standin.last_request.ended(5)
