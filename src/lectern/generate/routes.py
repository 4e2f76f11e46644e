"""POST /api/generate: a page (or text) personalized, translated, summarized, explained or turned into a quiz, for
the signed-in reader, as JSON or server-sent events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import Response
from psycopg import AsyncConnection

from lectern.auth.deps import CurrentUserId
from lectern.db.models import Preferences, Profile
from lectern.generate import quotas, retention, service, streaming, writing
from lectern.generate.plan import Result, TokenMeter
from lectern.generate.schemas import GeneratedContent, GenerateRequest, Reader
from lectern.profiles import repository as profiles
from lectern.profiles.schemas import PreferencesRead, ProfileRead
from lectern.web.deps import DatabaseDep, SettingsDep
from lectern.web.openapi import problem_responses
from lectern.web.sse import EVENT_STREAM, EventStream

router = APIRouter(prefix="/api/generate", tags=["generate"])


def _event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """One kind of server-sent event: its name, and its data line as JSON of the given shape."""
    content = {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    return {"type": "object", "required": ["event", "data"], "properties": {"event": {"const": name}, "data": content}}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


_NULLABLE_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_SECTION = {
    "index": {"type": "integer"},
    "total": {"type": "integer"},
    "heading": _NULLABLE_TEXT,
    "anchor": _NULLABLE_TEXT,
}
_STREAM_EVENT = {
    "description": "Each event of the stream (heartbeat comments aside): for each part of the page in order, "
    "`section` then its `token`s; then `done` (the answer's fields but `content`) or `error`.",
    "oneOf": [
        _event("section", _object(_SECTION)),
        _event("token", _object({"text": {"type": "string"}})),
        _event("done", {"type": "object", "description": "GeneratedContent without `content`."}),
        _event(
            "error", _object({"code": {"type": "string"}, "detail": {"type": "string"}, "status": {"type": "integer"}})
        ),
    ],
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 404, 413, 422, 429, 502, 503, 504),
    200: {
        "description": "The generated content as JSON, or as server-sent events when `stream` is true or the request "
        "accepts text/event-stream.",
        "content": {EVENT_STREAM: {"schema": _STREAM_EVENT}},
    },
}


def _stored(model: type[PreferencesRead] | type[ProfileRead], row: dict[str, Any] | None) -> dict[str, Any]:
    """A profiles row's fields, with the defaults when the reader saved none."""
    values = {name: value for name, value in (row or {}).items() if name in model.model_fields}
    return model.model_validate({"updated_at": None, **values}).model_dump()


async def _reader(connection: AsyncConnection[Any], user_id: uuid.UUID) -> Reader:
    """The reader's preferences and background as plain values, read through profiles' repository (no domain
    calls another's service)."""
    preferences = _stored(PreferencesRead, await profiles.read(connection, Preferences, user_id))
    profile = _stored(ProfileRead, await profiles.read(connection, Profile, user_id))
    return Reader(
        user_id=user_id,
        difficulty=preferences["difficulty"],
        language=preferences["language"],
        learning_style=preferences["learning_style"],
        answer_length=preferences["answer_length"],
        experience_level=profile["experience_level"],
        software_background=profile["software_background"],
        hardware_background=profile["hardware_background"],
    )


@router.post("", response_model=GeneratedContent, responses=_RESPONSES)
async def generate(
    body: GenerateRequest,
    user_id: CurrentUserId,
    database: DatabaseDep,
    settings: SettingsDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response | GeneratedContent:
    """Make a page (or section, or text) into content for this reader; a stored result comes back at once."""
    as_events = body.stream or EVENT_STREAM in (accept or "")
    options = service.GenerateOptions.from_settings(settings)
    # Short, separate steps: no connection or transaction is held while the model writes.
    async with database.reader() as connection:
        reader = await _reader(connection, user_id)
    async with database.read_session() as session:
        plan = await service.plan_generation(session, body, reader, options)
        found = None if body.refresh else await service.stored_result(session, plan, options)
        if found is not None:
            content, result = found
            return EventStream(streaming.stored_events(content, result)) if as_events else content
        work = await service.prepare_work(session, plan)
    async with database.reader() as connection:
        await quotas.charge_request(connection, settings, user_id)
        reservation = await quotas.reserve_tokens(connection, settings, user_id, work.estimate) if work.units else None
        await retention.prune_now_and_then(connection, settings)
    meter = TokenMeter()
    settled = False

    async def settle() -> None:
        nonlocal settled
        if not settled:
            settled = True
            await quotas.settle(database, reservation, meter.used)

    async def store(result: Result) -> GeneratedContent:
        await settle()
        async with database.session() as session:
            return await service.store(session, plan, result, meter.used)

    if plan.model is None:
        async with database.read_session() as session:
            extracted = await service.extract(session, work)
        return EventStream(streaming.result_events(extracted, store)) if as_events else await store(extracted)
    if as_events:

        async def events() -> AsyncGenerator[str, None]:
            frames = streaming.generation_events(work, settings, meter, store)
            try:
                async for frame in frames:
                    yield frame
            finally:
                await frames.aclose()
                await settle()

        return EventStream(events())
    try:
        result = await writing.run(work, settings, meter)
    finally:
        await settle()
    return await store(result)
