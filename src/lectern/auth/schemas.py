"""Request and response bodies of /api/auth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_EMAIL_MAX = 254


# One address, optionally surrounded by spaces: local@domain.tld, no spaces, @ or control characters
# inside (PostgreSQL text cannot hold NUL). The pattern is also the OpenAPI schema clients see.
EMAIL_PATTERN = r"^\s*[^@\s\x00-\x1f\x7f]+@[^@\s.\x00-\x1f\x7f]+(\.[^@\s.\x00-\x1f\x7f]+)+\s*$"
NO_NUL = r"^[^\x00]*$"


def _normalize_email(value: str) -> str:
    return value.strip().lower()


Email = Annotated[
    str, Field(min_length=3, max_length=_EMAIL_MAX, pattern=EMAIL_PATTERN), AfterValidator(_normalize_email)
]
# No composition rules (NIST 800-63B); length 8..128, common passwords refused by the service.
Password = Annotated[str, Field(min_length=8, max_length=128)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(Strict):
    email: Email
    password: Password
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)] | None = None


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
