"""/api/profile and /api/preferences: the signed-in reader's own, with ETags and If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from lectern.auth.deps import CurrentUserId
from lectern.profiles import service
from lectern.profiles.schemas import (
    PreferencesPatch,
    PreferencesRead,
    PreferencesUpdate,
    ProfileRead,
    ProfileUpdate,
)
from lectern.web.deps import ReaderDep, SessionDep
from lectern.web.openapi import problem_responses

router = APIRouter(prefix="/api", tags=["profile"])

IfMatch = Annotated[
    str | None,
    Header(description="An ETag from a previous GET; the write fails with 412 if the data changed since."),
]
_READ_ERRORS = problem_responses(401)
_WRITE_ERRORS = problem_responses(401, 412, 413, 422)


@router.get("/profile", responses=_READ_ERRORS)
async def get_profile(user_id: CurrentUserId, reader: ReaderDep, response: Response) -> ProfileRead:
    """The signed-in reader's learner profile (defaults until first saved)."""
    profile, version = await service.get_profile(reader, user_id)
    response.headers["ETag"] = service.etag(version)
    return profile


@router.put("/profile", responses=_WRITE_ERRORS)
async def put_profile(
    body: ProfileUpdate,
    user_id: CurrentUserId,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProfileRead:
    """Replace the learner profile."""
    profile, version = await service.replace_profile(session, user_id, body, if_match)
    response.headers["ETag"] = service.etag(version)
    return profile


@router.get("/preferences", responses=_READ_ERRORS)
async def get_preferences(user_id: CurrentUserId, reader: ReaderDep, response: Response) -> PreferencesRead:
    """The signed-in reader's learning preferences (defaults until first saved)."""
    preferences, version = await service.get_preferences(reader, user_id)
    response.headers["ETag"] = service.etag(version)
    return preferences


@router.put("/preferences", responses=_WRITE_ERRORS)
async def put_preferences(
    body: PreferencesUpdate,
    user_id: CurrentUserId,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> PreferencesRead:
    """Replace the learning preferences."""
    preferences, version = await service.replace_preferences(session, user_id, body, if_match)
    response.headers["ETag"] = service.etag(version)
    return preferences


@router.patch("/preferences", responses=_WRITE_ERRORS)
async def patch_preferences(
    body: PreferencesPatch,
    user_id: CurrentUserId,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> PreferencesRead:
    """Change only the preferences given."""
    preferences, version = await service.merge_preferences(session, user_id, body, if_match)
    response.headers["ETag"] = service.etag(version)
    return preferences
