"""Request and response bodies of /api/auth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_EMAIL_MAX = 254


def _normalize_email(value: str) -> str:
    value = value.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise ValueError("must be an email address like reader@example.org")
    # Control characters (NUL above all, which PostgreSQL text refuses) are never part of an address.
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def _without_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as invalid input instead of failing in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Email = Annotated[str, Field(min_length=3, max_length=_EMAIL_MAX), AfterValidator(_normalize_email)]
# No composition rules (NIST 800-63B); length 8..128, common passwords refused by the service.
Password = Annotated[str, Field(min_length=8, max_length=128)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(Strict):
    email: Email
    password: Password
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_without_nul)] | None = None


class LoginRequest(Strict):
    email: Email
    # Any length here: a short password just fails like a wrong one.
    password: Annotated[str, Field(min_length=1, max_length=128)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None
    created_at: datetime


class TokenResponse(BaseModel):
    user: UserRead
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token kind, not a secret)
    expires_in: int
