"""POST /api/chat (JSON or server-sent events), the reader's stored conversations, and feedback on answers."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field

from lectern.auth.deps import CurrentUserId, OptionalUserId
from lectern.chat import quotas, service
from lectern.chat.schemas import (
    ChatAnswer,
    ChatRequest,
    ConversationList,
    ConversationRead,
    FeedbackCreate,
    FeedbackRead,
    ReaderContext,
)
from lectern.chat.streaming import answer_events
from lectern.db.models import Preferences, Profile
from lectern.profiles import repository as profiles
from lectern.profiles.schemas import PreferencesRead, ProfileRead
from lectern.search import service as search
from lectern.web.deps import DatabaseDep, SessionDep, SettingsDep
from lectern.web.openapi import problem_responses
from lectern.web.sse import EVENT_STREAM, EventStream

router = APIRouter(prefix="/api/chat", tags=["chat"])
Stored = TypeVar("Stored", PreferencesRead, ProfileRead)

# A token is optional on these operations: OpenAPI says so with an empty alternative ({}) to the bearer scheme.
_OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}


def _event_schema(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """One kind of server-sent event: its name, and its data line as JSON of the given shape."""
    json_data = {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {"event": {"const": name}, "data": json_data},
    }


def _object(required: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": required}


_STREAM_EVENT = {
    "description": "Each event of the stream (heartbeat comments aside): citations, then tokens, then done or error.",
    "oneOf": [
        _event_schema(
            "citations", _object({"citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}}})
        ),
        _event_schema("token", _object({"text": {"type": "string"}})),
        _event_schema(
            "done",
            _object(
                {
                    "message_id": {"type": "string", "format": "uuid"},
                    "conversation_id": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
                    "mode": {"enum": ["llm", "extractive"]},
                }
            ),
        ),
        _event_schema("error", _object({"code": {"type": "string"}, "detail": {"type": "string"}})),
    ],
}
_CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 404, 413, 422, 429),
    200: {
        "description": "The answer as JSON, or as server-sent events when `stream` is true or the request accepts "
        "text/event-stream.",
        "content": {EVENT_STREAM: {"schema": _STREAM_EVENT}},
    },
}


def _stored(model: type[Stored], row: dict[str, Any] | None) -> Stored:
    """`model` from a profiles row, with its defaults when the reader saved none."""
    values = {name: value for name, value in (row or {}).items() if name in model.model_fields}
    return model.model_validate({"updated_at": None, **values})


async def _reader(reader: AsyncConnection[Any], user_id: uuid.UUID | None) -> ReaderContext:
    """The reader's preferences and background as plain values.

    Read through profiles' repository, the hot read of GET /api/preferences: no domain may call another's service.
    """
    if user_id is None:
        return ReaderContext()
    preferences = _stored(PreferencesRead, await profiles.read(reader, Preferences, user_id))
    profile = _stored(ProfileRead, await profiles.read(reader, Profile, user_id))
    return ReaderContext(
        user_id=user_id,
        difficulty=preferences.difficulty,
        language=preferences.language,
        answer_length=preferences.answer_length,
        experience_level=profile.experience_level,
        software_background=profile.software_background,
        hardware_background=profile.hardware_background,
        goals=profile.goals,
    )


@router.post("", response_model=ChatAnswer, responses=_CHAT_RESPONSES, openapi_extra=_OPTIONAL_AUTH)
async def chat(
    body: ChatRequest,
    request: Request,
    user_id: OptionalUserId,
    database: DatabaseDep,
    settings: SettingsDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response | ChatAnswer:
    """Answer a question from the book, citing its passages; stored for signed-in readers."""
    address = quotas.client_address(
        request.headers.get("x-forwarded-for"),
        request.client.host if request.client else None,
        trust_forwarded_for=quotas.trusts_forwarded_for(settings),
    )
    # Short, separate steps: no connection or transaction is held while the model writes.
    async with database.reader() as connection:
        await quotas.charge_question(connection, settings, user_id, address)
        reader = await _reader(connection, user_id)
    options = service.ChatOptions.from_settings(settings)
    # Chat cites what search ranks (keywords, fused with vectors when embeddings are on), composed here.
    search_book = partial(search.search_passages, settings=settings)
    async with database.read_session() as session:
        prepared = await service.prepare_answer(session, body, reader, options, search_book)

    async def record(prepared: service.PreparedAnswer, reply: service.Reply) -> None:
        async with database.session() as session:
            await service.record_exchange(session, prepared, reply)

    if body.stream or EVENT_STREAM in (accept or ""):
        return EventStream(answer_events(prepared, settings, record))
    reply = await service.write_answer(prepared, settings)
    await record(prepared, reply)
    return service.chat_answer(prepared, reply)


class ConversationsQuery(BaseModel):
    # Unknown parameters are refused rather than ignored: a misspelt `limt` would otherwise pass unnoticed.
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=100, description="How many conversations, newest first.")


@router.get("/conversations", responses=problem_responses(401, 422))
async def list_conversations(
    user_id: CurrentUserId, session: SessionDep, query: Annotated[ConversationsQuery, Query()]
) -> ConversationList:
    """The signed-in reader's conversations, the most recently active first."""
    return await service.list_conversations(session, user_id, query.limit)


@router.get("/conversations/{conversation_id}", responses=problem_responses(401, 404, 422))
async def get_conversation(conversation_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep) -> ConversationRead:
    """One of the reader's conversations with all its messages; 404 for anyone else's."""
    return await service.read_conversation(session, conversation_id, user_id)


@router.delete("/conversations/{conversation_id}", status_code=204, responses=problem_responses(401, 404, 422))
async def delete_conversation(conversation_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep) -> Response:
    """Delete one of the reader's conversations, its messages and their feedback."""
    await service.delete_conversation(session, conversation_id, user_id)
    return Response(status_code=204)


@router.post("/feedback", responses=problem_responses(401, 404, 413, 422), openapi_extra=_OPTIONAL_AUTH)
async def rate_answer(body: FeedbackCreate, user_id: OptionalUserId, session: SessionDep) -> FeedbackRead:
    """Rate one of your stored answers (up or down, with an optional comment); rating again replaces it."""
    return await service.rate_answer(session, body, user_id)
