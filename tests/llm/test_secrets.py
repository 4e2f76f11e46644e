"""The API key never shows: not in errors, their causes as printed, nor in any log line, at any level."""

from __future__ import annotations

import logging
import traceback

import pytest

from lectern.llm import ChatMessage, LLMError, complete, embed, stream
from tests.llm.conftest import MakeSettings
from tests.standins.openai_server import OpenAIStandIn

QUESTION: list[ChatMessage] = [{"role": "user", "content": "hello"}]
WRONG_KEY = "sk-proj-wrongwrongwrong-7c1f"


def assert_no_key(text: str, key: str) -> None:
    assert key not in text
    # OpenAI's 401 message quotes the key's ends ("sk-pro****7c1f"); those must not travel either.
    assert key[-4:] not in text


@pytest.mark.parametrize("failure", ["wrong_key", "server_error", "rate_limit", "timeout", "broken_stream"])
async def test_the_key_never_appears_in_errors_or_logs(
    llm_settings: MakeSettings,
    openai_standin: OpenAIStandIn,
    caplog: pytest.LogCaptureFixture,
    fast_backoff: None,
    failure: str,
) -> None:
    key = WRONG_KEY if failure == "wrong_key" else openai_standin.api_key
    settings = llm_settings(llm_api_key=key, llm_timeout_seconds=0.5 if failure == "timeout" else 5)
    if failure == "server_error":
        openai_standin.server_error(count=5)
    elif failure == "rate_limit":
        openai_standin.rate_limit(retry_after=0.01, count=5)
    elif failure == "timeout":
        openai_standin.hang(seconds=5)
    elif failure == "broken_stream":
        openai_standin.break_stream(after_chunks=2, count=10)
    caught: list[LLMError] = []
    with caplog.at_level(logging.DEBUG):
        for call in ("complete", "stream", "embed"):
            try:
                if call == "complete":
                    await complete(QUESTION, settings=settings)
                elif call == "stream":
                    async for _ in stream(QUESTION, settings=settings):
                        pass
                else:
                    await embed(["some text"], settings=settings)
            except LLMError as exc:
                caught.append(exc)
        await openai_standin.last_request.ended(5)
    assert caught, "the scripted failure should have surfaced"
    for error in caught:
        assert_no_key(str(error), key)
        assert_no_key(repr(error), key)
        assert_no_key("".join(traceback.format_exception(error)), key)
    assert caplog.records, "the SDK and the retries log at DEBUG; the test must see them"
    assert_no_key(caplog.text, key)
