"""complete(): answers through the stand-in, retries within the time budget, and failures as Lectern errors."""

from __future__ import annotations

import pytest

from lectern.llm import ChatMessage, LLMNotConfigured, LLMTimeout, LLMUnavailable, complete
from tests.llm.conftest import CHAT_MODEL, MakeSettings
from tests.standins.openai_server import OpenAIStandIn

QUESTION: list[ChatMessage] = [
    {"role": "system", "content": "Answer from the book."},
    {"role": "user", "content": "What does HNSW stand for?"},
]


async def test_a_completion_returns_text_model_and_usage(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    completion = await complete(QUESTION, settings=llm_settings(), temperature=0.1, max_tokens=200)
    assert completion.text == "Stand-in answer to: What does HNSW stand for?"
    assert completion.model == CHAT_MODEL
    assert completion.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    [request] = openai_standin.requests
    assert request.model == CHAT_MODEL
    assert request.messages == QUESTION
    assert request.temperature == 0.1
    assert request.body["max_tokens"] == 200
    assert request.headers["authorization"] == f"Bearer {openai_standin.api_key}"


async def test_unset_options_are_not_sent(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    await complete(QUESTION, settings=llm_settings())
    assert set(openai_standin.last_request.body) == {"model", "messages"}


async def test_a_cut_answer_says_so(llm_settings: MakeSettings) -> None:
    completion = await complete(QUESTION, settings=llm_settings(), max_tokens=3)
    assert (completion.text, completion.finish_reason) == ("Stand-in answer to: ", "length")


async def test_a_rate_limit_burst_is_retried_after_the_wait_the_provider_asks(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.rate_limit(retry_after=0.2, count=2)
    completion = await complete(QUESTION, settings=llm_settings(llm_max_retries=2))
    assert completion.text
    requests = openai_standin.requests
    assert [r.status for r in requests] == [429, 429, 200]
    gaps = [later.received_at - earlier.received_at for earlier, later in zip(requests, requests[1:], strict=False)]
    assert min(gaps) >= 0.2


async def test_server_errors_without_retry_after_back_off_then_succeed(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, fast_backoff: None
) -> None:
    openai_standin.server_error(count=1, status=503)
    openai_standin.malformed(count=1)
    completion = await complete(QUESTION, settings=llm_settings())
    assert completion.text
    assert [r.fault for r in openai_standin.requests] == ["server_error", "malformed", None]


async def test_persistent_server_errors_are_unavailable_after_the_retries(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, fast_backoff: None
) -> None:
    openai_standin.server_error(count=10)
    with pytest.raises(LLMUnavailable) as caught:
        await complete(QUESTION, settings=llm_settings(llm_max_retries=2))
    error = caught.value
    assert (error.status_code, error.code) == (502, "llm_unavailable")
    assert "HTTP 500 after 3 attempts" in error.detail
    assert len(openai_standin.requests) == 3


async def test_no_retries_when_max_retries_is_zero(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, fast_backoff: None
) -> None:
    openai_standin.server_error(count=2)
    with pytest.raises(LLMUnavailable):
        await complete(QUESTION, settings=llm_settings(llm_max_retries=0))
    assert len(openai_standin.requests) == 1


async def test_a_retry_after_past_the_time_budget_fails_at_once(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.rate_limit(retry_after=60)
    with pytest.raises(LLMUnavailable, match="HTTP 429"):
        await complete(QUESTION, settings=llm_settings(llm_timeout_seconds=2))
    assert len(openai_standin.requests) == 1


async def test_a_hanging_provider_is_a_timeout_within_the_budget(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.hang(seconds=5)
    with pytest.raises(LLMTimeout) as caught:
        await complete(QUESTION, settings=llm_settings(llm_timeout_seconds=0.5))
    error = caught.value
    assert (error.status_code, error.code) == (504, "llm_timeout")
    assert "0.5 s" in error.detail
    request = openai_standin.last_request
    assert await request.ended(5)
    assert request.outcome == "disconnected"


async def test_the_budget_covers_retries_and_waits(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    # Each retry alone is short, but together they pass the budget: the call ends when the budget does.
    openai_standin.rate_limit(retry_after=0.2, count=1)
    openai_standin.hang(seconds=5)
    with pytest.raises(LLMTimeout):
        await complete(QUESTION, settings=llm_settings(llm_timeout_seconds=1))
    assert len(openai_standin.requests) == 2


@pytest.mark.parametrize(("status", "hint"), [(401, "API key"), (404, "model name")])
async def test_refusals_are_not_retried_and_say_what_to_check(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, status: int, hint: str
) -> None:
    overrides = {"llm_api_key": "sk-not-the-right-one-42"} if status == 401 else {"llm_model": "gpt-0"}
    with pytest.raises(LLMUnavailable) as caught:
        await complete(QUESTION, settings=llm_settings(**overrides))
    assert f"HTTP {status}" in caught.value.detail and hint in caught.value.detail
    assert len(openai_standin.requests) == 1


async def test_without_a_model_nothing_is_sent(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    with pytest.raises(LLMNotConfigured, match="LLM_MODEL"):
        await complete(QUESTION, settings=llm_settings(llm_model=None))
    assert openai_standin.requests == []


async def test_one_client_serves_calls_with_the_same_settings(llm_settings: MakeSettings) -> None:
    from lectern.llm.client import openai_client
    from lectern.llm.config import chat_config

    first = openai_client(chat_config(llm_settings()).provider)
    assert openai_client(chat_config(llm_settings(llm_model="text-embedding-3-small")).provider) is first
    assert openai_client(chat_config(llm_settings(llm_api_key="sk-another-key-5555")).provider) is not first
