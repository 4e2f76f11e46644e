"""Profile and preferences bodies; the Read models are the plain values chat and generation use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Level = Literal["beginner", "intermediate", "advanced"]
LearningStyle = Literal["visual", "reading", "hands_on", "mixed"]
AnswerLength = Literal["short", "medium", "long"]

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$")


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


# PostgreSQL text cannot hold NUL; as a pattern, the rule is also in the OpenAPI schema.
NO_NUL = r"^[^\x00]*$"
LanguageTag = Annotated[str, Field(min_length=2, max_length=35, pattern=_BCP47.pattern), AfterValidator(_language_tag)]
Topic = Annotated[str, Field(min_length=1, max_length=60, pattern=NO_NUL)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileFields(Strict):
    display_name: Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)] | None = None
    software_background: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""
    hardware_background: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""
    experience_level: Level = "beginner"
    goals: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""


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


def _without_null_choices(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        choices = prop.get("anyOf")
        if choices:
            kept = [c for c in choices if c.get("type") != "null"]
            prop.pop("anyOf")
            prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
            if prop.get("default", 0) is None:
                prop.pop("default")


class PreferencesPatch(Strict):
    """PATCH /api/preferences: only the fields given change."""

    # Omitted fields keep their value; null is refused (and left out of the OpenAPI schema below).
    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_null_choices)

    difficulty: Level | None = None
    language: LanguageTag | None = None
    learning_style: LearningStyle | None = None
    topics: Annotated[list[Topic], Field(max_length=50)] | None = None
    answer_length: AnswerLength | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null (omit the field to keep its value)")
        return value


class PreferencesRead(PreferenceFields):
    updated_at: datetime | None
