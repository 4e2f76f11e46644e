"""Account logic: signup, login with throttling, refresh rotation with reuse detection, logout."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.auth import passwords, repository, tokens
from lectern.auth.config import AuthConfig
from lectern.auth.schemas import LoginRequest, SignupRequest, TokenResponse, UserRead
from lectern.db.models import User
from lectern.errors import Conflict, InvalidInput, InvalidToken, TooManyRequests, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    keeps_changes = True  # the failure is recorded for the throttle

    def __init__(self) -> None:
        super().__init__("The email or password is incorrect.")


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"
    keeps_changes = True  # a reused token revokes its family, and that must stick

    def __init__(self, detail: str = "The refresh token is invalid, expired or revoked. Sign in again.") -> None:
        super().__init__(detail)


def _user_read(user: User) -> UserRead:
    return UserRead(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


async def _issue_tokens(
    session: AsyncSession, config: AuthConfig, user: User, family_id: uuid.UUID | None = None
) -> TokenResponse:
    refresh, digest = tokens.new_refresh_token()
    await repository.add_refresh_token(session, user.id, family_id or uuid.uuid4(), digest, config.refresh_ttl)
    access = tokens.create_access_token(
        user.id, key=config.key, issuer=config.issuer, audience=config.audience, ttl_seconds=config.access_ttl
    )
    return TokenResponse(
        user=_user_read(user), access_token=access, refresh_token=refresh, expires_in=config.access_ttl
    )


async def signup(session: AsyncSession, config: AuthConfig, request: SignupRequest) -> TokenResponse:
    if passwords.is_common_password(request.password):
        raise InvalidInput("This password is too common; choose another.", field="password")
    password_hash = await asyncio.to_thread(passwords.hash_password, request.password)
    user = await repository.create_user(session, request.email, password_hash, request.name)
    if user is None:
        raise Conflict("An account with this email already exists.")
    return await _issue_tokens(session, config, user)


async def login(session: AsyncSession, config: AuthConfig, request: LoginRequest) -> TokenResponse:
    until = await repository.locked_until(session, request.email, config.max_failures, config.failure_window)
    if until is not None:
        wait = int((until - datetime.now(UTC)).total_seconds()) + 1
        raise TooManyRequests("Too many failed sign-ins for this account. Try again later.", retry_after=wait)
    user = await repository.get_user_by_email(session, request.email)
    ok, new_hash = await asyncio.to_thread(
        passwords.verify_password, request.password, user.password_hash if user else None
    )
    if user is None or not ok:
        await repository.record_login_failure(session, request.email)
        raise InvalidCredentials()
    await repository.clear_login_failures(session, request.email)
    if new_hash is not None:
        await repository.set_password_hash(session, user.id, new_hash)
    return await _issue_tokens(session, config, user)


async def refresh(session: AsyncSession, config: AuthConfig, refresh_token: str) -> TokenResponse:
    digest = tokens.refresh_token_digest(refresh_token)
    claimed = await repository.claim_refresh_token(session, digest)
    if claimed is None:
        known = await repository.find_refresh_token(session, digest)
        if known is not None and (known.used_at is not None or known.revoked_at is not None):
            # Reuse of a rotated token means it leaked: end every session descending from that login.
            await repository.revoke_family(session, known.family_id)
            raise InvalidRefreshToken(
                "This refresh token was already used; every session from that sign-in is now revoked."
            )
        raise InvalidRefreshToken()
    user_id, family_id = claimed
    user = await repository.get_user(session, user_id)
    if user is None:
        raise InvalidRefreshToken()
    return await _issue_tokens(session, config, user, family_id)


async def logout(session: AsyncSession, refresh_token: str) -> None:
    """Revoke the token's family; unknown tokens are ignored (nothing to reveal)."""
    known = await repository.find_refresh_token(session, tokens.refresh_token_digest(refresh_token))
    if known is not None:
        await repository.revoke_family(session, known.family_id)


async def get_me(session: AsyncSession, user_id: uuid.UUID) -> UserRead:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise InvalidToken("The account behind this token no longer exists.")
    return _user_read(user)
