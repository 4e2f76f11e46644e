"""Chat with the configured language model: a whole answer, or its text as the model writes it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict, cast

from lectern.llm.client import openai_client
from lectern.llm.config import chat_config
from lectern.llm.errors import LLMUnavailable
from lectern.llm.retries import as_llm_error, call_with_retries
from lectern.settings import Settings

if TYPE_CHECKING:
    from openai import AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

WHAT = "The language model"


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Completion:
    """A whole answer; `finish_reason` "length" means it was cut at max_tokens."""

    text: str
    model: str
    usage: Usage | None
    finish_reason: str | None


def _sdk_messages(messages: Sequence[ChatMessage]) -> list[ChatCompletionMessageParam]:
    return [cast("ChatCompletionMessageParam", {"role": m["role"], "content": m["content"]}) for m in messages]


async def complete(
    messages: Sequence[ChatMessage],
    *,
    settings: Settings,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Completion:
    """Ask the configured model for a whole answer."""
    from openai import omit

    config = chat_config(settings)
    client = openai_client(config.provider)

    async def attempt() -> ChatCompletion:
        # max_tokens rather than max_completion_tokens: every OpenAI-compatible server understands it.
        return await client.chat.completions.create(
            model=config.model,
            messages=_sdk_messages(messages),
            temperature=omit if temperature is None else temperature,
            max_tokens=omit if max_tokens is None else max_tokens,
            timeout=config.provider.timeout_seconds,
        )

    response = await call_with_retries(attempt, config.provider, what=WHAT)
    if not response.choices:
        raise LLMUnavailable(f"{WHAT} at {config.provider.host} answered without a choice.")
    choice = response.choices[0]
    usage = response.usage
    return Completion(
        text=choice.message.content or "",
        model=response.model or config.model,
        usage=None if usage is None else Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        finish_reason=choice.finish_reason,
    )


async def stream(
    messages: Sequence[ChatMessage],
    *,
    settings: Settings,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> AsyncGenerator[str, None]:
    """Yield the answer's text as the model writes it.

    Opening the stream is retried like `complete`; a failure after that raises LLMUnavailable or LLMTimeout
    to the consumer. Stopping early (`aclose()`, `contextlib.aclosing`, a cancelled task) closes the HTTP stream.
    """
    from openai import omit

    config = chat_config(settings)
    client = openai_client(config.provider)

    async def attempt() -> AsyncStream[ChatCompletionChunk]:
        return await client.chat.completions.create(
            model=config.model,
            messages=_sdk_messages(messages),
            temperature=omit if temperature is None else temperature,
            max_tokens=omit if max_tokens is None else max_tokens,
            stream=True,
            # The client may be shared with other settings: this call's timeout (also the longest silence
            # allowed between two chunks of the stream) is set here.
            timeout=config.provider.timeout_seconds,
        )

    chunks = await call_with_retries(attempt, config.provider, what=WHAT)
    try:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except Exception as exc:
                error = as_llm_error(exc, WHAT, config.provider)
                if error is None:
                    raise
                raise error from None
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content
    finally:
        await chunks.close()
