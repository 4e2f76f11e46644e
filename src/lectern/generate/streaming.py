"""A generation as server-sent events: for each part in page order, `section` then its `token`s; then `done`, or
`error` when a part fails (the parts still running are cancelled, and their model calls closed).

Parts are written concurrently but sent in order, each once it has passed the guard: what a reader has seen is
never taken back. Heartbeat comments keep the connection open while the model writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator

from lectern.errors import AppError
from lectern.generate.plan import Part, Result, TokenMeter, Work
from lectern.generate.schemas import GeneratedContent
from lectern.generate.writing import result_of, start, stop
from lectern.settings import Settings
from lectern.web.sse import HEARTBEAT, HEARTBEAT_SECONDS, sse_event

log = logging.getLogger("lectern.generate")

# Stores the finished result (the route opens its own session: the request's reads are over by then).
Store = Callable[[Result], Awaitable[GeneratedContent]]


def _error(error: AppError) -> str:
    return sse_event("error", {"code": error.code, "detail": error.detail, "status": error.status_code})


_INTERNAL = sse_event(
    "error", {"code": "internal_error", "detail": "The generation failed unexpectedly. Try again.", "status": 500}
)


def _done(content: GeneratedContent) -> str:
    """`done` carries the answer's fields except `content`: the tokens joined are the content."""
    return sse_event("done", content.model_dump(mode="json", exclude={"content"}))


def part_frames(part: Part, total: int) -> Iterator[str]:
    """The part's `section` event, then its text a paragraph per `token` (after the first part, led by a blank
    line, so that the tokens joined equal `content`)."""
    yield sse_event("section", {"index": part.index, "total": total, "heading": part.heading, "anchor": part.anchor})
    text = part.text if part.index == 0 else "\n\n" + part.text
    pieces = text.split("\n\n")
    for number, piece in enumerate(pieces):
        last = number == len(pieces) - 1
        if piece or not last:
            yield sse_event("token", {"text": piece if last else piece + "\n\n"})


def _result_frames(result: Result) -> Iterator[str]:
    for part in result.parts:
        yield from part_frames(part, len(result.parts))


async def stored_events(content: GeneratedContent, result: Result) -> AsyncGenerator[str, None]:
    """A stored generation replayed: all its parts at once, then `done` (cached: true)."""
    for frame in _result_frames(result):
        yield frame
    yield _done(content)


async def result_events(result: Result, store: Store) -> AsyncGenerator[str, None]:
    """A result made without a model (quoted from the page): its parts, then storing it, then `done`."""
    for frame in _result_frames(result):
        yield frame
    async for frame in _finish(result, store):
        yield frame


async def _finish(result: Result, store: Store) -> AsyncGenerator[str, None]:
    try:
        content = await store(result)
    except AppError as error:
        yield _error(error)
        return
    except Exception:
        log.exception("storing a generation failed")
        yield _INTERNAL
        return
    yield _done(content)


async def generation_events(
    work: Work, settings: Settings, meter: TokenMeter, store: Store, *, heartbeat_seconds: float | None = None
) -> AsyncGenerator[str, None]:
    """The model's parts as they pass the guard, in page order; never raises (a failure is an `error` event)."""
    heartbeat = heartbeat_seconds or HEARTBEAT_SECONDS
    tasks = start(work, settings, meter)
    parts: list[Part] = []
    try:
        for task in tasks:
            while not task.done():
                finished, _ = await asyncio.wait({task}, timeout=heartbeat)
                if not finished:
                    yield HEARTBEAT
            try:
                part = task.result()
            except AppError as error:
                yield _error(error)
                return
            except Exception:
                log.exception("generating a part failed")
                yield _INTERNAL
                return
            parts.append(part)
            for frame in part_frames(part, len(tasks)):
                yield frame
        async for frame in _finish(result_of(work.plan, parts), store):
            yield frame
    finally:
        stop(tasks)
