"""Bodies of POST /api/generate, and the reader a generation adapts to (plain values the route composes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lectern.generate.languages import Direction
from lectern.profiles.schemas import LanguageTag, Level

Task = Literal["personalize", "translate", "summarize", "explain", "quiz"]
Mode = Literal["llm", "extractive"]
TASKS: tuple[Task, ...] = ("personalize", "translate", "summarize", "explain", "quiz")
# Without a model these still work, quoting the page; the others need one.
EXTRACTIVE_TASKS: frozenset[Task] = frozenset({"summarize", "quiz"})

MAX_TEXT_CHARS = 20_000
MAX_PAGE_REFERENCE_CHARS = 2000
MAX_ANCHOR_CHARS = 200
MAX_QUESTIONS = 10

# PostgreSQL text cannot hold NUL. As patterns, the rules are in the OpenAPI schema too.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"


class PageSource(BaseModel):
    """A page of the ingested book."""

    model_config = ConfigDict(extra="forbid")

    page: Annotated[str, Field(min_length=1, max_length=MAX_PAGE_REFERENCE_CHARS, pattern=NOT_BLANK)] = Field(
        description="The page's id, route or doc id ('guides/sessions'), source file, URL path ('/docs/guides/"
        "sessions', what `location.pathname` gives) or URL."
    )


class TextSource(BaseModel):
    """Markdown the reader supplies (up to 20,000 characters)."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, pattern=NOT_BLANK)]


class GenerateRequest(BaseModel):
    """POST /api/generate: what to make of which page (or text), for the signed-in reader."""

    model_config = ConfigDict(extra="forbid")

    task: Task = Field(
        description="`personalize` (rewritten for your profile and preferences), `translate`, `summarize`, "
        "`explain` (in simpler terms) or `quiz` (multiple-choice questions with answers and citations)."
    )
    source: PageSource | TextSource
    section: Annotated[str, Field(min_length=1, max_length=MAX_ANCHOR_CHARS, pattern=NO_NUL)] | None = Field(
        default=None,
        description="Only this section (its heading anchor, as in the page's URL after #) and those under it.",
    )
    language: LanguageTag | None = Field(
        default=None,
        description="BCP 47 tag of the language to write in (the language to translate into); your preferred "
        "language when omitted.",
    )
    level: Level | None = Field(default=None, description="The reader's level; your preferred difficulty when omitted.")
    questions: int = Field(default=5, ge=1, le=MAX_QUESTIONS, description="How many questions a quiz has.")
    stream: bool = Field(default=False, description="Answer as server-sent events (as `Accept: text/event-stream`).")
    refresh: bool = Field(
        default=False, description="Generate again even when a stored result fits (counts against your quotas)."
    )


class SourceRead(BaseModel):
    """Where the content comes from."""

    page_id: uuid.UUID | None = Field(description="The page; null for a text the reader supplied.")
    title: str
    url: str | None = Field(description="The page's address on the book's site; null for a supplied text.")


class QuizCitation(BaseModel):
    """The passage of the page that supports a question's answer."""

    heading: str | None = Field(description="The section's heading; null at the top of the page.")
    anchor: str | None
    url: str | None = Field(description="The section's address (page URL and #anchor); null for a supplied text.")
    quote: str = Field(description="The supporting sentence, as the page has it.")


class QuizQuestion(BaseModel):
    question: str
    options: list[str] = Field(description="The choices, in the order to show them.")
    answer: int = Field(description="Index of the right option in `options`, from 0.")
    citation: QuizCitation


class Quiz(BaseModel):
    questions: list[QuizQuestion]


class GeneratedContent(BaseModel):
    """A generated page (or section): Markdown to render as Markdown, never as HTML."""

    content: str = Field(description="Markdown. For a quiz, the questions and, after them, the answers.")
    content_json: Quiz | None = Field(description="The quiz as data; null for the other tasks.")
    task: Task
    source: SourceRead
    section: str | None = Field(description="The section's anchor, when one was asked for.")
    language: str = Field(description="BCP 47 tag of the content ('und' when unknown: a supplied text quoted).")
    dir: Direction = Field(description="Writing direction of `language`: set it on the element that shows `content`.")
    mode: Mode = Field(
        description="`llm`: written by the language model; `extractive`: sentences quoted from the page."
    )
    cached: bool = Field(description="True when this is a stored result (no model was called).")
    model: str | None = Field(description="The model that wrote it; null in extractive mode.")
    created_at: datetime
    warnings: list[str] = Field(
        default_factory=list,
        description="Parts kept in the original because the model's version broke their structure, and similar notes.",
    )


@dataclass(frozen=True)
class Reader:
    """The signed-in reader's preferences and background, as plain values (read through profiles' repository)."""

    user_id: uuid.UUID | None = None
    difficulty: str = "beginner"
    language: str = "en"
    learning_style: str = "mixed"
    answer_length: str = "medium"
    experience_level: str = "beginner"
    software_background: str = ""
    hardware_background: str = ""
