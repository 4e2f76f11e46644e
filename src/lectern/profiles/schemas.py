"""Profile and preferences bodies; the Read models are the plain values chat and generation use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Level = Literal["beginner", "intermediate", "advanced"]
LearningStyle = Literal["visual", "reading", "hands_on", "mixed"]
AnswerLength = Literal["short", "medium", "long"]

_BCP47 = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*")


def _language_tag(value: str) -> str:
    """Validate a BCP 47 tag (language[-Script][-REGION][-variant]) and give it canonical case."""
    if not _BCP47.fullmatch(value):
        raise ValueError("must be a BCP 47 language tag such as en, ur or pt-BR")
    parts = value.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def _without_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as invalid input instead of failing in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_without_nul)
LanguageTag = Annotated[str, Field(min_length=2, max_length=35), AfterValidator(_language_tag)]
Topic = Annotated[str, Field(min_length=1, max_length=60), NoNul]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileFields(Strict):
    display_name: Annotated[str, Field(min_length=1, max_length=100), NoNul] | None = None
    software_background: Annotated[str, Field(max_length=2000), NoNul] = ""
    hardware_background: Annotated[str, Field(max_length=2000), NoNul] = ""
    experience_level: Level = "beginner"
    goals: Annotated[str, Field(max_length=2000), NoNul] = ""


class ProfileUpdate(ProfileFields):
    """PUT /api/profile: the whole profile (omitted fields take their defaults)."""


class ProfileRead(ProfileFields):
    updated_at: datetime | None


class PreferenceFields(Strict):
    difficulty: Level = "beginner"
    language: LanguageTag = "en"
    learning_style: LearningStyle = "mixed"
    topics: Annotated[list[Topic], Field(max_length=50)] = Field(default_factory=list)
    answer_length: AnswerLength = "medium"


class PreferencesUpdate(PreferenceFields):
    """PUT /api/preferences: the whole set (omitted fields take their defaults)."""


class PreferencesPatch(Strict):
    """PATCH /api/preferences: only the fields given change."""

    difficulty: Level | None = None
    language: LanguageTag | None = None
    learning_style: LearningStyle | None = None
    topics: Annotated[list[Topic], Field(max_length=50)] | None = None
    answer_length: AnswerLength | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Omit a field to keep it; null is not a value any preference can take.
        if value is None:
            raise ValueError("must not be null (omit the field to keep its value)")
        return value


class PreferencesRead(PreferenceFields):
    updated_at: datetime | None
