"""All SQL for profiles and preferences: versioned rows, conditional upserts."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import Preferences, Profile
from lectern.errors import InvalidToken

Row = TypeVar("Row", Profile, Preferences)


_TABLES = {Profile: Profile.__tablename__, Preferences: Preferences.__tablename__}


async def read(reader: AsyncConnection[Any], model: type[Row], user_id: uuid.UUID) -> dict[str, Any] | None:
    """The row as a dict, through the driver directly (the hot read path of GET)."""
    table = _TABLES[model]  # a fixed table name, never input
    async with reader.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(f"SELECT * FROM {table} WHERE user_id = %s", (user_id,))  # noqa: S608
        return await cursor.fetchone()


async def get(session: AsyncSession, model: type[Row], user_id: uuid.UUID) -> Row | None:
    return (await session.execute(select(model).where(model.user_id == user_id))).scalar_one_or_none()


async def save(
    session: AsyncSession,
    model: type[Row],
    user_id: uuid.UUID,
    values: dict[str, Any],
    expected_version: int | None,
) -> Row | None:
    """Insert or replace the row; with `expected_version`, only if the stored version still matches.

    Returns the new row, or None when the version did not match (a concurrent or stale write).
    Version 0 stands for "no row yet".
    """
    table = model.__table__
    insert_row = insert(model).values(user_id=user_id, version=1, **values)
    condition = None if expected_version is None else table.c.version == expected_version
    stmt = insert_row.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={**values, "version": table.c.version + 1, "updated_at": func.now()},
        where=condition,
    ).returning(model)
    if expected_version is not None and expected_version > 0:
        # Nothing to insert when the client expects an existing row that is not there.
        existing = await get(session, model, user_id)
        if existing is None:
            return None
    try:
        result = await session.execute(stmt, execution_options={"populate_existing": True})
    except IntegrityError:
        # Only the user foreign key can fail: the token is valid but its account is gone.
        raise InvalidToken("The account behind this token no longer exists.") from None
    return result.scalar_one_or_none()
