"""A streamed answer as server-sent events: `citations`, then `token`s, then `done` or `error`; heartbeats between.

The model's stream is read by a task of its own, so the events can carry heartbeat comments while the model
is silent. When the client leaves, the server stops this generator and the task is cancelled, which closes
the model's stream (the provider stops writing, and stops billing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

from lectern.chat import extractive
from lectern.chat.citations import MarkerFilter
from lectern.chat.service import TEMPERATURE, PreparedAnswer, Reply, fallback, uses_model
from lectern.errors import AppError
from lectern.llm import LLMError, LLMUnavailable, stream
from lectern.settings import Settings
from lectern.web.sse import HEARTBEAT, HEARTBEAT_SECONDS, sse_event

log = logging.getLogger("lectern.chat")

# Stores the answer once it is complete (the route opens its own session: the request's one is closed by then).
Record = Callable[[PreparedAnswer, Reply], Awaitable[None]]

# Model streams being closed after their client left: referenced until they finish, or they could be collected.
_closing: set[asyncio.Task[None]] = set()


def _error(error: AppError) -> str:
    return sse_event("error", {"code": error.code, "detail": error.detail})


async def _read_model(prepared: PreparedAnswer, settings: Settings, queue: asyncio.Queue[tuple[str, Any]]) -> None:
    """Put the model's text on the queue, then ("end", None) or ("error", LLMError)."""
    try:
        deltas = stream(prepared.messages, settings=settings, temperature=TEMPERATURE, max_tokens=prepared.max_tokens)
        async with aclosing(deltas):
            async for delta in deltas:
                await queue.put(("token", delta))
    except LLMError as error:
        await queue.put(("error", error))
    except Exception:
        # The reader must still get an ending: never leave them waiting on heartbeats.
        log.exception("the model's stream failed")
        await queue.put(("error", LLMUnavailable("The language model's stream failed.")))
    else:
        await queue.put(("end", None))


def _paragraphs(text: str) -> list[str]:
    pieces = text.split("\n\n")
    return [piece + "\n\n" for piece in pieces[:-1]] + pieces[-1:]


async def _finish(prepared: PreparedAnswer, reply: Reply, record: Record, *, send_text: bool) -> AsyncIterator[str]:
    """Send the reply's text (unless already sent), store it, then `done`; `error` if storing fails."""
    if send_text:
        for piece in _paragraphs(reply.text):
            yield sse_event("token", {"text": piece})
    try:
        await record(prepared, reply)
    except AppError as error:
        yield _error(error)
        return
    except Exception:
        log.exception("storing a streamed answer failed")
        yield sse_event("error", {"code": "internal_error", "detail": "The answer could not be stored."})
        return
    conversation_id = str(prepared.conversation_id) if prepared.conversation_id else None
    yield sse_event(
        "done", {"message_id": str(prepared.message_id), "conversation_id": conversation_id, "mode": reply.mode}
    )


async def answer_events(
    prepared: PreparedAnswer, settings: Settings, record: Record, *, heartbeat_seconds: float | None = None
) -> AsyncGenerator[str, None]:
    """The whole answer as SSE frames; never raises (a failure is an `error` event)."""
    heartbeat_seconds = heartbeat_seconds or HEARTBEAT_SECONDS
    yield sse_event("citations", {"citations": [citation.model_dump() for citation in prepared.citations]})
    if not uses_model(prepared, settings):
        async for frame in _finish(prepared, prepared.extractive(), record, send_text=True):
            yield frame
        return
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    reader = asyncio.create_task(_read_model(prepared, settings, queue))
    markers = MarkerFilter(prepared.ids)
    sent: list[str] = []
    try:
        while True:
            try:
                kind, value = await asyncio.wait_for(queue.get(), heartbeat_seconds)
            except TimeoutError:
                yield HEARTBEAT
                continue
            if kind == "token":
                text = markers.feed(value)
            elif kind == "end":
                text = markers.flush()
            else:
                text = ""
            if text:
                sent.append(text)
                yield sse_event("token", {"text": text})
            if kind == "token":
                continue
            answered = "".join(sent).strip()
            if kind == "error" and answered:
                # Part of the answer is out: a quoted fallback would not read on from it.
                yield _error(value)
                return
            if kind == "error":
                reply = fallback(prepared, value)
            else:
                reply = Reply(answered, "llm") if answered else prepared.extractive(extractive.LEAD_UNAVAILABLE)
            async for frame in _finish(prepared, reply, record, send_text=not answered):
                yield frame
            return
    finally:
        if not reader.done():
            reader.cancel()
            _closing.add(reader)
            reader.add_done_callback(_closing.discard)
