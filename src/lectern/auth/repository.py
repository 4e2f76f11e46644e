"""All SQL for accounts, refresh tokens and login failures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import LoginFailure, RefreshToken, User


async def create_user(session: AsyncSession, email: str, password_hash: str, name: str | None) -> User | None:
    """Insert a user; None when the email is taken."""
    stmt = (
        insert(User)
        .values(email=email, password_hash=password_hash, name=name)
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


async def locked_until(session: AsyncSession, email: str, max_failures: int, window: timedelta) -> datetime | None:
    """When the throttle on `email` lifts, or None if it is not throttled.

    The account is locked while `max_failures` failures fall within the window; it lifts when the
    max_failures-th most recent one leaves the window.

    First takes the account's login lock, held until the transaction ends: without it, parallel
    attempts (from any instance) all pass this check before any failure is recorded, and every one
    of them gets a password guess past the limit.
    """
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(email, 0))))
    stmt = (
        select(LoginFailure.failed_at)
        .where(LoginFailure.email == email, LoginFailure.failed_at > func.now() - window)
        .order_by(LoginFailure.failed_at.desc())
        .offset(max_failures - 1)
        .limit(1)
    )
    nth = (await session.execute(stmt)).scalar_one_or_none()
    return None if nth is None else nth + window


async def record_login_failure(session: AsyncSession, email: str) -> None:
    session.add(LoginFailure(email=email))
    await session.flush()


async def clear_login_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.email == email))


async def add_refresh_token(
    session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID, token_hash: str, ttl: timedelta
) -> None:
    session.add(
        RefreshToken(user_id=user_id, family_id=family_id, token_hash=token_hash, expires_at=datetime.now(UTC) + ttl)
    )
    await session.flush()


async def claim_refresh_token(session: AsyncSession, token_hash: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """Mark a live token used, atomically; (user_id, family_id) when it was live."""
    stmt = (
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(RefreshToken.user_id, RefreshToken.family_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def find_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    stmt = (
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await session.execute(stmt)
