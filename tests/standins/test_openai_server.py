"""The OpenAI stand-in checked against the real official SDK: shapes, streaming, embeddings, auth and faults."""

from __future__ import annotations

import base64
import json
import math
import struct
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai  # noqa: TID253 - these tests exist to drive the SDK; cold starts don't apply
import pytest

from tests.standins.openai_server import OpenAIStandIn

CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
QUESTION: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "What is a vector index?"}]
SHORT_TIMEOUT = 0.5


@pytest.fixture
def client(openai_standin: OpenAIStandIn) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=openai_standin.base_url, api_key=openai_standin.api_key, max_retries=0, timeout=SHORT_TIMEOUT
    ) as sdk:
        yield sdk


@pytest.fixture
async def aclient(openai_standin: OpenAIStandIn) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(
        base_url=openai_standin.base_url, api_key=openai_standin.api_key, max_retries=0, timeout=SHORT_TIMEOUT
    )
    yield sdk
    await sdk.close()


@pytest.fixture
def raw(openai_standin: OpenAIStandIn) -> Iterator[httpx.Client]:
    """Plain HTTP, to check the wire format the SDK hides."""
    headers = {"Authorization": f"Bearer {openai_standin.api_key}"}
    with httpx.Client(base_url=openai_standin.base_url, headers=headers, timeout=5) as http:
        yield http


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --- Chat completions --------------------------------------------------------------------------------------


def test_a_chat_completion_has_openais_shape(raw: httpx.Client) -> None:
    response = raw.post("/chat/completions", json={"model": CHAT_MODEL, "messages": QUESTION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert {"id", "object", "created", "model", "choices", "usage"} <= set(body)
    assert body["object"] == "chat.completion"
    assert body["model"] == CHAT_MODEL
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Stand-in answer to: What is a vector index?"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_the_sync_sdk_reads_a_completion_and_the_request_is_recorded(
    client: openai.OpenAI, openai_standin: OpenAIStandIn
) -> None:
    completion = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "system", "content": "Be brief."}, *QUESTION],
        temperature=0.2,
        max_tokens=50,
    )
    assert completion.choices[0].message.content == "Stand-in answer to: What is a vector index?"
    assert completion.usage is not None and completion.usage.completion_tokens == 8
    request = openai_standin.last_request
    assert (request.method, request.endpoint, request.model) == ("POST", "chat", CHAT_MODEL)
    assert request.temperature == 0.2
    assert request.body["max_tokens"] == 50
    assert request.messages[0] == {"role": "system", "content": "Be brief."}
    assert request.outcome == "completed" and request.status == 200


async def test_a_responder_receives_the_messages_and_writes_the_answer(
    aclient: openai.AsyncOpenAI, openai_standin: OpenAIStandIn
) -> None:
    seen: list[list[dict[str, Any]]] = []

    def responder(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return f"{len(messages)} messages, last from {messages[-1]['role']}"

    openai_standin.respond_with(responder)
    completion = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    assert completion.choices[0].message.content == "1 messages, last from user"
    assert seen == [QUESTION]
    openai_standin.respond_with(None)
    openai_standin.reply_template = "Q: {prompt}"
    completion = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    assert completion.choices[0].message.content == "Q: What is a vector index?"


def test_max_tokens_cuts_the_answer(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=CHAT_MODEL, messages=QUESTION, max_tokens=2)
    assert completion.choices[0].message.content == "Stand-in answer "
    assert completion.choices[0].finish_reason == "length"


async def test_streamed_deltas_assemble_into_the_whole_answer(aclient: openai.AsyncOpenAI) -> None:
    whole = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    chunks = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION, stream=True)
    deltas, roles, finishes = [], [], []
    async for chunk in chunks:
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            roles += [choice.delta.role] if choice.delta.role else []
            deltas += [choice.delta.content] if choice.delta.content else []
            finishes += [choice.finish_reason] if choice.finish_reason else []
    assert len(deltas) > 3
    assert "".join(deltas) == whole.choices[0].message.content
    assert roles == ["assistant"] and finishes == ["stop"]


async def test_include_usage_adds_a_last_chunk_with_usage_and_no_choices(aclient: openai.AsyncOpenAI) -> None:
    chunks = await aclient.chat.completions.create(
        model=CHAT_MODEL,
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
    received = [chunk async for chunk in chunks]
    assert all(chunk.usage is None for chunk in received[:-1])
    assert received[-1].choices == [] and received[-1].usage is not None
    assert received[-1].usage.completion_tokens == 8


def test_the_stream_is_server_sent_events_ending_with_done(raw: httpx.Client) -> None:
    body = {"model": CHAT_MODEL, "messages": QUESTION, "stream": True}
    with raw.stream("POST", "/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert "usage" not in json.loads(lines[-2][len("data: ") :])


# --- Embeddings -------------------------------------------------------------------------------------------


def test_the_sdk_asks_for_base64_by_default_and_decodes_it(
    client: openai.OpenAI, openai_standin: OpenAIStandIn
) -> None:
    texts = ["vector index search", "search a vector index", "baking sourdough bread"]
    default = client.embeddings.create(model=EMBED_MODEL, input=texts)
    assert openai_standin.last_request.body["encoding_format"] == "base64"
    floats = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="float")
    assert openai_standin.last_request.body["encoding_format"] == "float"
    assert [d.index for d in floats.data] == [0, 1, 2]
    for decoded, plain in zip(default.data, floats.data, strict=True):
        assert decoded.embedding == pytest.approx(plain.embedding, abs=1e-6)
        assert len(plain.embedding) == 1536
        assert math.sqrt(sum(x * x for x in plain.embedding)) == pytest.approx(1.0)
    a, b, c = (d.embedding for d in floats.data)
    assert cosine(a, b) > 0.8 > 0.1 > abs(cosine(a, c))
    assert floats.usage.prompt_tokens == floats.usage.total_tokens > 0


def test_explicit_base64_is_little_endian_float32(client: openai.OpenAI) -> None:
    encoded = client.embeddings.create(model=EMBED_MODEL, input="hello world", encoding_format="base64", dimensions=8)
    plain = client.embeddings.create(model=EMBED_MODEL, input="hello world", encoding_format="float", dimensions=8)
    text = encoded.data[0].embedding
    assert isinstance(text, str)
    vector = list(struct.unpack("<8f", base64.b64decode(text)))
    assert vector == pytest.approx(plain.data[0].embedding, abs=1e-6)


def test_dimensions_are_honoured_and_vectors_are_deterministic(client: openai.OpenAI) -> None:
    first = client.embeddings.create(model=EMBED_MODEL, input=["same text"], dimensions=64)
    second = client.embeddings.create(model=EMBED_MODEL, input=["same text"], dimensions=64)
    assert len(first.data[0].embedding) == 64
    assert first.data[0].embedding == second.data[0].embedding


def test_bad_embeddings_requests_get_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=EMBED_MODEL, input="")
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="no-such-model", input="text")
    assert caught.value.code == "model_not_found"


# --- Models and auth --------------------------------------------------------------------------------------


def test_models_are_listed_and_retrieved(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [CHAT_MODEL, EMBED_MODEL]
    assert client.models.retrieve(EMBED_MODEL).owned_by == "lectern-standin"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-0")


def test_a_wrong_key_is_an_authentication_error(openai_standin: OpenAIStandIn) -> None:
    with (
        openai.OpenAI(base_url=openai_standin.base_url, api_key="sk-wrong-0000000000", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong-0000000000" not in str(caught.value)


def test_errors_have_openais_envelope(openai_standin: OpenAIStandIn) -> None:
    with httpx.Client(base_url=openai_standin.base_url) as http:
        response = http.get("/models")
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
        authed = {"Authorization": f"Bearer {openai_standin.api_key}"}
        assert http.post("/chat/completions", content=b"{oops", headers=authed).status_code == 400
        assert http.get("/nowhere", headers=authed).json()["error"]["code"] == "unknown_url"


# --- Scripted failures ------------------------------------------------------------------------------------


def test_a_hang_is_a_timeout_and_the_server_sees_the_client_leave(
    client: openai.OpenAI, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.hang(seconds=5)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    request = openai_standin.last_request
    assert request.wait_ended(5)
    assert (request.fault, request.outcome) == ("hang", "disconnected")


def test_a_rate_limit_carries_retry_after(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.rate_limit(retry_after=1.5)
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model=EMBED_MODEL, input="text")
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "1500")
    assert caught.value.code == "rate_limit_exceeded"


def test_the_sdk_retries_a_rate_limit_burst_honouring_retry_after(openai_standin: OpenAIStandIn) -> None:
    openai_standin.rate_limit(retry_after=0.1, count=2, endpoint="chat")
    with openai.OpenAI(base_url=openai_standin.base_url, api_key=openai_standin.api_key, max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
    assert completion.choices[0].message.content
    requests = openai_standin.requests
    assert [r.status for r in requests] == [429, 429, 200]
    assert [r.retry_count for r in requests] == [0, 1, 2]
    assert all(b.received_at - a.received_at >= 0.1 for a, b in zip(requests, requests[1:], strict=False))


def test_server_errors_are_internal_server_errors(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.server_error(count=2)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)
        assert caught.value.status_code == 500
    assert client.chat.completions.create(model=CHAT_MODEL, messages=QUESTION).choices
    openai_standin.server_error(status=503)
    with pytest.raises(openai.InternalServerError) as caught:
        client.models.list()
    assert caught.value.status_code == 503


def test_a_malformed_body_fails_json_decoding(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.malformed()
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model=CHAT_MODEL, messages=QUESTION)


async def test_a_malformed_stream_event_fails_json_decoding(
    aclient: openai.AsyncOpenAI, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.malformed()
    chunks = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION, stream=True)
    with pytest.raises(json.JSONDecodeError):
        async for _ in chunks:
            pass
    await chunks.close()


async def test_a_stream_broken_midway_is_a_connection_error(
    aclient: openai.AsyncOpenAI, openai_standin: OpenAIStandIn
) -> None:
    openai_standin.break_stream(after_chunks=3)
    chunks = await aclient.chat.completions.create(model=CHAT_MODEL, messages=QUESTION, stream=True)
    deltas = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in chunks:
            deltas += [c.delta.content for c in chunk.choices if c.delta.content]
    assert deltas == ["Stand-in ", "answer "]
    request = openai_standin.last_request
    assert (request.outcome, request.chunks_sent) == ("broken", 3)


def test_a_plain_answer_cut_midway_is_a_connection_error(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.break_stream(endpoint="embeddings")
    with pytest.raises(openai.APIConnectionError):
        client.embeddings.create(model=EMBED_MODEL, input="text")


def test_faults_can_target_particular_requests(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.server_error(count=5, when=lambda request: "poison" in str(request.input))
    assert client.embeddings.create(model=EMBED_MODEL, input="fine").data
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model=EMBED_MODEL, input="poison")
    assert openai_standin.pending_faults[0].remaining == 4
    openai_standin.reset()
    assert openai_standin.pending_faults == [] and openai_standin.requests == []


def test_a_fixed_delay_applies_to_every_call(client: openai.OpenAI, openai_standin: OpenAIStandIn) -> None:
    openai_standin.set_delay(0.05)
    started = time.monotonic()
    client.models.list()
    client.models.list()
    assert time.monotonic() - started >= 0.1


# --- Serving ------------------------------------------------------------------------------------------------


def test_it_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        OpenAIStandIn(host="0.0.0.0")


def test_a_stand_in_stops_and_frees_its_port() -> None:
    with OpenAIStandIn(api_key="sk-other-key-123456") as server:
        base_url = server.base_url
        assert httpx.get(f"{base_url}/models", headers={"Authorization": "Bearer sk-other-key-123456"}).is_success
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/models")
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
