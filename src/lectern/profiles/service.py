"""Profile and preferences logic: defaults for new readers, ETags, conditional replace and merge."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import Preferences, Profile
from lectern.errors import PreconditionFailed
from lectern.profiles import repository
from lectern.profiles.repository import Row
from lectern.profiles.schemas import (
    PreferenceFields,
    PreferencesPatch,
    PreferencesRead,
    PreferencesUpdate,
    ProfileFields,
    ProfileRead,
    ProfileUpdate,
)


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version(if_match: str | None, current: int) -> int | None:
    """The version an If-Match header pins (None when absent); a mismatch raises 412."""
    if if_match is None:
        return None
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags:
        return current
    # If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
    if etag(current) in tags:
        return current
    raise PreconditionFailed("The profile changed since you read it (stale If-Match). Read it again, then retry.")


def _values(row: Profile | Preferences | Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return {name: row[name] for name in names}
    return {name: getattr(row, name) for name in names}


def _profile_read(row: Profile | Mapping[str, Any] | None) -> tuple[ProfileRead, int]:
    if row is None:
        return ProfileRead(updated_at=None), 0
    values = _values(row, (*ProfileFields.model_fields, "updated_at", "version"))
    version = values.pop("version")
    return ProfileRead(**values), version


def _preferences_read(row: Preferences | Mapping[str, Any] | None) -> tuple[PreferencesRead, int]:
    if row is None:
        return PreferencesRead(updated_at=None), 0
    values = _values(row, (*PreferenceFields.model_fields, "updated_at", "version"))
    version = values.pop("version")
    return PreferencesRead(**values), version


async def get_profile(reader: AsyncConnection[Any], user_id: uuid.UUID) -> tuple[ProfileRead, int]:
    """The reader's profile (defaults for a new reader) and its version."""
    return _profile_read(await repository.read(reader, Profile, user_id))


async def get_preferences(reader: AsyncConnection[Any], user_id: uuid.UUID) -> tuple[PreferencesRead, int]:
    """The reader's preferences (defaults for a new reader) and their version."""
    return _preferences_read(await repository.read(reader, Preferences, user_id))


async def _save(
    session: AsyncSession,
    model: type[Row],
    user_id: uuid.UUID,
    values: dict[str, Any],
    if_match: str | None,
) -> Row:
    expected = None
    if if_match is not None:
        stored = await repository.get(session, model, user_id)
        expected = expected_version(if_match, stored.version if stored else 0)
    row = await repository.save(session, model, user_id, values, expected)
    if row is None:
        raise PreconditionFailed("The resource changed while you were updating it. Read it again, then retry.")
    return row


async def replace_profile(
    session: AsyncSession, user_id: uuid.UUID, update: ProfileUpdate, if_match: str | None
) -> tuple[ProfileRead, int]:
    row = await _save(session, Profile, user_id, update.model_dump(), if_match)
    return _profile_read(row)


async def replace_preferences(
    session: AsyncSession, user_id: uuid.UUID, update: PreferencesUpdate, if_match: str | None
) -> tuple[PreferencesRead, int]:
    row = await _save(session, Preferences, user_id, update.model_dump(), if_match)
    return _preferences_read(row)


async def merge_preferences(
    session: AsyncSession, user_id: uuid.UUID, patch: PreferencesPatch, if_match: str | None
) -> tuple[PreferencesRead, int]:
    current, version = _preferences_read(await repository.get(session, Preferences, user_id))
    merged = current.model_dump(exclude={"updated_at"}) | patch.model_dump(exclude_unset=True)
    # Pin the version we merged onto, so a concurrent change is not silently overwritten.
    expected = expected_version(if_match, version) if if_match is not None else version
    row = await repository.save(session, Preferences, user_id, merged, expected)
    if row is None:
        raise PreconditionFailed("The preferences changed while you were updating them. Read them again, then retry.")
    return _preferences_read(row)
