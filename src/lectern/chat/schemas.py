"""Chat bodies: the question, the cited answer, stored conversations and feedback; the reader chat adapts to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 2000
MAX_SELECTION_CHARS = 5000
MAX_PAGE_URL_CHARS = 2000
MAX_COMMENT_CHARS = 2000

# PostgreSQL text cannot hold NUL. As patterns, the rules are in the OpenAPI schema too.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"

Mode = Literal["llm", "extractive"]
Role = Literal["user", "assistant"]
Rating = Literal["up", "down"]


class ChatRequest(BaseModel):
    """POST /api/chat: a question about the book, maybe about a passage the reader selected."""

    model_config = ConfigDict(extra="forbid")

    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=NOT_BLANK)] = Field(
        description="The reader's question."
    )
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Continue this stored conversation (signed-in readers only)."
    )
    selected_text: Annotated[str, Field(max_length=MAX_SELECTION_CHARS, pattern=NO_NUL)] | None = Field(
        default=None, description="Text the reader selected on the page: the primary context of the answer."
    )
    page_url: Annotated[str, Field(max_length=MAX_PAGE_URL_CHARS, pattern=NO_NUL)] | None = Field(
        default=None, description="The page the reader is on (where the selection comes from)."
    )
    stream: bool = Field(default=False, description="Answer as server-sent events (as `Accept: text/event-stream`).")


class Citation(BaseModel):
    """A passage of the book the answer may cite as [id]."""

    id: str = Field(description="The marker's text: the answer cites this passage as [id].")
    title: str = Field(description="The page title.")
    url: str = Field(description="The passage's address: the page URL, plus #anchor below the first heading.")
    heading: str | None = Field(description="The headings above the passage, 'Section › Subsection'; null at the top.")
    snippet: str = Field(description="Plain text from the passage (not HTML).")
    source_path: str = Field(description="The page's Markdown file, relative to the ingested folder.")
    score: float = Field(description="Keyword score (BM25) of the passage; 0 for context added around a selection.")


class ChatAnswer(BaseModel):
    """An answer whose [id] markers all name passages in `citations`."""

    answer: str
    citations: list[Citation]
    conversation_id: uuid.UUID | None = Field(description="The stored conversation; null for anonymous readers.")
    message_id: uuid.UUID = Field(description="The answer's id, for feedback (stored for signed-in readers only).")
    mode: Mode = Field(
        description="`llm`: written by the language model; `extractive`: sentences quoted from the book."
    )


class MessageRead(BaseModel):
    id: uuid.UUID
    role: Role
    content: str
    citations: list[Citation]
    mode: Mode | None
    selected_text: str | None
    page_url: str | None
    created_at: datetime


class ConversationSummary(BaseModel):
    id: uuid.UUID
    title: str = Field(description="The first question, shortened.")
    created_at: datetime
    updated_at: datetime


class ConversationList(BaseModel):
    """The reader's conversations, the most recently active first."""

    conversations: list[ConversationSummary]


class ConversationRead(ConversationSummary):
    messages: list[MessageRead]


class FeedbackCreate(BaseModel):
    """POST /api/chat/feedback: a rating of a stored answer; rating it again replaces the rating."""

    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID
    rating: Rating
    comment: Annotated[str, Field(max_length=MAX_COMMENT_CHARS, pattern=NO_NUL)] | None = None


class FeedbackRead(BaseModel):
    message_id: uuid.UUID
    rating: Rating
    comment: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ReaderContext:
    """Who is asking, as plain values the route composes: preferences and background (None when anonymous)."""

    user_id: uuid.UUID | None = None
    difficulty: str | None = None
    language: str | None = None
    answer_length: str = "medium"
    experience_level: str | None = None
    software_background: str = ""
    hardware_background: str = ""
    goals: str = ""
