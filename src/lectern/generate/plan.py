"""What a generation is made of: its plan (what, from which source, for whom, under which key), the work read
from the page, and the parts and result written from it. Plain values, passed between service, writing and routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from lectern.generate.quiz import Place
from lectern.generate.schemas import Mode, Quiz, Reader, Task
from lectern.generate.sections import Section, Unit


@dataclass(frozen=True)
class SourceFacts:
    """The page (or supplied text) a generation works from."""

    page_id: uuid.UUID | None
    title: str
    url: str | None
    locale: str | None  # None for a supplied text: its language is not detected
    search_config: str
    fingerprint: str  # the page's content hash, or the text's SHA-256
    text: str | None = None


@dataclass(frozen=True)
class Plan:
    """What to generate for whom, known before the page's text is read."""

    task: Task
    source: SourceFacts
    section: str | None
    language: str
    level: str | None
    questions: int
    reader: Reader
    model: str | None  # None: extractive
    terms: dict[str, str | None]
    cache_key: str

    @property
    def mode(self) -> Mode:
        return "llm" if self.model else "extractive"


@dataclass(frozen=True)
class Part:
    """One unit's result, in page order."""

    index: int
    heading: str | None
    anchor: str | None
    text: str
    warning: str | None = None
    quiz: Quiz | None = None

    def stored(self) -> dict[str, Any]:
        """The part as the `parts` column keeps it (a quiz is kept whole in `content_json`)."""
        return {"index": self.index, "heading": self.heading, "anchor": self.anchor, "text": self.text}

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> Part:
        return cls(int(value["index"]), value.get("heading"), value.get("anchor"), str(value["text"]))


@dataclass
class Result:
    parts: list[Part]
    quiz: Quiz | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "\n\n".join(part.text for part in self.parts)


@dataclass
class Work:
    """A plan with the page read: its sections, and the units a model writes (none in extractive mode)."""

    plan: Plan
    sections: list[Section]
    units: list[Unit]
    places: list[Place]
    estimate: int  # model tokens to reserve


@dataclass
class TokenMeter:
    """Tokens the model calls of one generation used (the provider's count, else an estimate)."""

    used: int = 0
