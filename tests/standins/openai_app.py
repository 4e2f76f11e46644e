"""The OpenAI stand-in's ASGI app: chat completions (plain and SSE), embeddings and models, as OpenAI shapes them.

Written against raw ASGI rather than a framework so that it controls the wire: it notices a client that hangs
up, can cut a body or a stream in the middle, and sends exactly the headers OpenAI sends.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from tests.standins import openai_shapes as shapes
from tests.standins.openai_script import Endpoint, Fault, RecordedRequest, StandInScript

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ROUTES: dict[tuple[str, str], Endpoint] = {
    ("POST", "/v1/chat/completions"): "chat",
    ("POST", "/v1/embeddings"): "embeddings",
    ("GET", "/v1/models"): "models",
}
MODEL_PATH_PREFIX = "/v1/models/"
MALFORMED_JSON = b'{"id": "chatcmpl-standin", "object": "chat.completion", "choices": [{"index": 0, "mess'


class StreamBroken(Exception):
    """Raised after a partial answer so that uvicorn drops the connection, as a failing proxy would."""


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def sleep_unless_client_leaves(receive: Receive, seconds: float) -> bool:
    """Sleep `seconds`; returns True as soon as the client disconnects instead."""
    if seconds <= 0:
        return False
    with anyio.move_on_after(seconds):
        await wait_for_disconnect(receive)
        return True
    return False


class Exchange:
    """One request being answered: the raw ASGI channels, its record, and helpers that write OpenAI's answers."""

    def __init__(self, request: RecordedRequest, receive: Receive, send: Send) -> None:
        self.request = request
        self.receive = receive
        self.send = send

    async def start(self, status: int, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        self.request.status = status
        headers = [
            (b"content-type", content_type),
            (b"x-request-id", f"req_standin_{self.request.number:06d}".encode()),
            *(extra or []),
        ]
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def json(self, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        payload = json.dumps(body).encode()
        await self.start(status, b"application/json", [(b"content-length", str(len(payload)).encode()), *(extra or [])])
        # Recorded before the last byte goes out, so a client that has its answer also sees the outcome.
        self.request.end("completed")
        await self.send({"type": "http.response.body", "body": payload})

    async def error(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        await self.json(status, shapes.error_body(message, type_=type_, code=code, param=param), extra)

    async def cut_body(self, payload: bytes) -> None:
        """Promise `payload` by Content-Length, send half, then drop the connection."""
        await self.start(200, b"application/json", [(b"content-length", str(len(payload)).encode())])
        await self.send({"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True})
        self.request.end("broken")
        raise StreamBroken

    async def events(self, events: list[bytes], *, chunk_delay: float, break_after: int | None) -> None:
        """Send server-sent events, stopping when the client hangs up; `break_after` drops the connection."""
        await self.start(200, b"text/event-stream; charset=utf-8", [(b"cache-control", b"no-cache")])
        broken = False
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                await wait_for_disconnect(self.receive)
                self.request.end("disconnected")
                group.cancel_scope.cancel()

            group.start_soon(watch)
            for number, event in enumerate(events):
                if number == break_after:
                    broken = True
                    break
                if number == len(events) - 1:
                    self.request.end("completed")
                await self.send({"type": "http.response.body", "body": event, "more_body": True})
                self.request.chunks_sent += 1
                if chunk_delay > 0:
                    await anyio.sleep(chunk_delay)
            if not broken:
                await self.send({"type": "http.response.body", "body": b""})
            group.cancel_scope.cancel()
        if broken:
            self.request.end("broken")
            raise StreamBroken


def sse(data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def retry_headers(retry_after: float | None) -> list[tuple[bytes, bytes]]:
    if retry_after is None:
        return []
    # OpenAI-style: whole seconds in Retry-After, the precise wait in retry-after-ms (which the SDK prefers).
    return [
        (b"retry-after", str(max(0, math.ceil(retry_after))).encode()),
        (b"retry-after-ms", str(round(retry_after * 1000)).encode()),
    ]


class OpenAIStandInApp:
    """ASGI callable answering from a `StandInScript`."""

    def __init__(self, script: StandInScript) -> None:
        self.script = script
        self.completions = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"].rstrip("/") or "/"
        raw = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        endpoint = ROUTES.get((method, path))
        if endpoint is None and method == "GET" and path.startswith(MODEL_PATH_PREFIX):
            endpoint = "models"
        try:
            body: Any = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        exchange = Exchange(self.script.record(method, path, endpoint, headers, body), receive, send)
        try:
            await self.answer(exchange, path, bad_json)
        finally:
            if exchange.request.outcome == "pending":
                exchange.request.end("completed")

    async def answer(self, exchange: Exchange, path: str, bad_json: bool) -> None:
        request = exchange.request
        if request.endpoint is None:
            await exchange.error(
                404, f"Invalid URL ({request.method} {path})", code="unknown_url", type_="invalid_request_error"
            )
            return
        if not await self.authorized(exchange):
            return
        if bad_json:
            await exchange.error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                "HTTP library correctly. The OpenAI API expects a JSON payload.)",
            )
            return
        fault = self.script.take_fault(request)
        if fault is not None:
            request.fault = fault.kind
            if await self.fail(exchange, fault):
                return
        if await sleep_unless_client_leaves(exchange.receive, self.script.delay_seconds):
            request.end("disconnected")
            return
        if request.endpoint == "chat":
            await self.chat(exchange, fault)
        elif request.endpoint == "embeddings":
            await self.embeddings(exchange, fault)
        else:
            await self.models(exchange, path)

    async def authorized(self, exchange: Exchange) -> bool:
        header = exchange.request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() == "bearer" and key.strip() == self.script.api_key:
            return True
        if not key.strip():
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            await exchange.error(401, message)
        else:
            shown = key.strip()
            masked = f"{shown[:3]}{'*' * 4}{shown[-4:]}" if len(shown) > 8 else "****"
            await exchange.error(401, f"Incorrect API key provided: {masked}.", code="invalid_api_key")
        return False

    async def fail(self, exchange: Exchange, fault: Fault) -> bool:
        """Apply a scripted failure; True when it answered the request (False: answer normally, maybe cut)."""
        if fault.kind == "hang":
            if await sleep_unless_client_leaves(exchange.receive, fault.seconds):
                exchange.request.end("disconnected")
                return True
            return False
        if fault.kind == "rate_limit":
            model = exchange.request.model or "the model"
            message = (
                f"Rate limit reached for {model} in organization org-standin on requests per min (RPM): "
                "Limit 3, Used 3, Requested 1. Please try again shortly."
            )
            await exchange.error(
                429, message, type_="requests", code="rate_limit_exceeded", extra=retry_headers(fault.retry_after)
            )
            return True
        if fault.kind == "server_error":
            await exchange.error(
                fault.status,
                "The server had an error while processing your request. Sorry about that!",
                type_="server_error",
                extra=retry_headers(fault.retry_after),
            )
            return True
        # "malformed" and "break" shape the normal answer.
        return False

    # --- Endpoints ----------------------------------------------------------------------------------------

    def unknown_model(self, model: Any) -> bool:
        return not isinstance(model, str) or model not in self.script.models

    async def reject_model(self, exchange: Exchange, model: Any) -> None:
        if not isinstance(model, str) or not model:
            await exchange.error(400, "you must provide a model parameter")
        else:
            await exchange.error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )

    async def chat(self, exchange: Exchange, fault: Fault | None) -> None:
        body = exchange.request.body
        if not isinstance(body, dict):
            await exchange.error(400, "The request body must be a JSON object.")
            return
        if self.unknown_model(body.get("model")):
            await self.reject_model(exchange, body.get("model"))
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            await exchange.error(
                400, "[] is too short - 'messages'", param="messages", code="empty_array" if messages == [] else None
            )
            return
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        max_tokens = limit if isinstance(limit, int) and limit > 0 else None
        pieces, finish_reason = shapes.reply_pieces(self.script.reply_to(messages), max_tokens)
        prompt_tokens = sum(shapes.count_tokens(shapes.message_text(m)) for m in messages)
        token_usage = shapes.usage(prompt_tokens, len(pieces))
        self.completions += 1
        completion_id = f"chatcmpl-standin{self.completions:06d}"
        model: str = body["model"]
        if body.get("stream") is True:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            await self.stream_chat(
                exchange, fault, completion_id, model, pieces, finish_reason, token_usage, include_usage
            )
            return
        answer = shapes.chat_completion(completion_id, model, "".join(pieces), finish_reason, token_usage)
        await self.answer_json(exchange, fault, answer)

    async def stream_chat(
        self,
        exchange: Exchange,
        fault: Fault | None,
        completion_id: str,
        model: str,
        pieces: list[str],
        finish_reason: str,
        token_usage: dict[str, int],
        include_usage: bool,
    ) -> None:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return sse(
                shapes.chat_chunk(completion_id, model, delta, finish_reason=finish, with_usage_field=include_usage)
            )

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": piece}) for piece in pieces]
        events.append(chunk({}, finish_reason))
        if include_usage:
            events.append(sse(shapes.chat_chunk(completion_id, model, None, token_usage=token_usage)))
        events.append(sse("[DONE]"))
        break_after = None
        if fault is not None and fault.kind == "malformed":
            # A truncated event in the middle of an otherwise healthy stream.
            events.insert(min(2, len(events) - 1), b'data: {"id": "' + completion_id.encode() + b'", "choices": [\n\n')
        elif fault is not None and fault.kind == "break":
            break_after = fault.after_chunks
        await exchange.events(events, chunk_delay=self.script.chunk_delay_seconds, break_after=break_after)

    async def answer_json(self, exchange: Exchange, fault: Fault | None, answer: dict[str, Any]) -> None:
        if fault is not None and fault.kind == "malformed":
            await exchange.start(200, b"application/json", [(b"content-length", str(len(MALFORMED_JSON)).encode())])
            exchange.request.end("completed")
            await exchange.send({"type": "http.response.body", "body": MALFORMED_JSON})
        elif fault is not None and fault.kind == "break":
            await exchange.cut_body(json.dumps(answer).encode())
        else:
            await exchange.json(200, answer)

    async def embeddings(self, exchange: Exchange, fault: Fault | None) -> None:
        body = exchange.request.body
        if not isinstance(body, dict):
            await exchange.error(400, "The request body must be a JSON object.")
            return
        if self.unknown_model(body.get("model")):
            await self.reject_model(exchange, body.get("model"))
            return
        texts = embedding_inputs(body.get("input"))
        if texts is None:
            await exchange.error(400, "'$.input' is invalid. Please check the API reference.", param="input")
            return
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            await exchange.error(
                400, f"{encoding!r} is not one of ['float', 'base64'] - 'encoding_format'", param="encoding_format"
            )
            return
        dimensions = body.get("dimensions", self.script.embedding_dimensions)
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 8192:
            await exchange.error(400, "'dimensions' must be an integer between 1 and 8192.", param="dimensions")
            return
        vectors = [shapes.hashed_embedding(text, dimensions) for text in texts]
        tokens = sum(shapes.count_tokens(text) for text in texts)
        await self.answer_json(exchange, fault, shapes.embeddings_list(body["model"], vectors, encoding, tokens))

    async def models(self, exchange: Exchange, path: str) -> None:
        if path.startswith(MODEL_PATH_PREFIX):
            model_id = path[len(MODEL_PATH_PREFIX) :]
            if model_id not in self.script.models:
                await self.reject_model(exchange, model_id)
                return
            await exchange.json(200, shapes.model_entry(model_id))
            return
        await exchange.json(200, {"object": "list", "data": [shapes.model_entry(m) for m in self.script.models]})


def embedding_inputs(value: Any) -> list[str] | None:
    """The texts of an embeddings request (strings, or token arrays read as words); None when invalid."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, int) for v in value):
        value = [value]
    texts = []
    for item in value:
        if isinstance(item, str) and item:
            texts.append(item)
        elif isinstance(item, list) and item and all(isinstance(t, int) for t in item):
            texts.append(" ".join(f"token{t}" for t in item))
        else:
            return None
    return texts
