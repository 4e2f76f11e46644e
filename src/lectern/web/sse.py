"""Server-sent events: one frame per event (its data one line of JSON), heartbeat comments, and a response that
closes its events however it ends. Domain-free, so every streaming route frames events the same way."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

EVENT_STREAM = "text/event-stream"
# Proxies and browsers drop a silent connection after some 30 to 60 s; a comment every 15 s keeps it open.
HEARTBEAT_SECONDS = 15.0
HEARTBEAT = ": heartbeat\n\n"
# No caching, and no buffering by nginx-style proxies: events must reach the reader as they are written.
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def sse_event(name: str, data: dict[str, Any]) -> str:
    """One event frame; JSON keeps the data on a single `data:` line whatever it holds."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


class EventStream(StreamingResponse):
    """Server-sent events whose generator is closed when the response ends, normally or not.

    Under ASGI 2.3 (uvicorn) Starlette cancels the body when the client leaves; under 2.4 it learns so only from
    a failed send and leaves the generator suspended. Closing it here releases what it holds (a model's stream,
    tasks) either way.
    """

    def __init__(self, events: AsyncGenerator[str, None]) -> None:
        super().__init__(events, media_type=EVENT_STREAM, headers=STREAM_HEADERS)
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()
