"""The signed-in reader, from a Bearer access token."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lectern.auth.config import AuthConfig
from lectern.auth.tokens import decode_access_token
from lectern.errors import InvalidToken, Unauthorized

# auto_error=False: we raise our own 401 problem with WWW-Authenticate.
_bearer = HTTPBearer(auto_error=False, description="An access token from /api/auth/login or /api/auth/signup.")


def auth_config(request: Request) -> AuthConfig:
    """The app's AuthConfig, built from its settings on first use."""
    config = getattr(request.app.state, "auth_config", None)
    if config is None:
        config = request.app.state.auth_config = AuthConfig.from_settings(request.app.state.settings)
    assert isinstance(config, AuthConfig)
    return config


async def get_auth_config(request: Request) -> AuthConfig:
    return auth_config(request)


AuthConfigDep = Annotated[AuthConfig, Depends(get_auth_config)]


async def current_user_id(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> uuid.UUID:
    """The reader a valid access token names; 401 otherwise. (Few dependencies: this runs on every call.)"""
    if credentials is None:
        raise Unauthorized("Sign in: this endpoint needs an access token (Authorization: Bearer …).")
    if credentials.scheme.lower() != "bearer":
        raise InvalidToken()
    config = auth_config(request)
    return decode_access_token(credentials.credentials, key=config.key, issuer=config.issuer, audience=config.audience)


CurrentUserId = Annotated[uuid.UUID, Depends(current_user_id)]


async def optional_user_id(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> uuid.UUID | None:
    """The signed-in reader, or None without a token; a token that is sent must be valid (else 401)."""
    if credentials is None:
        return None
    return await current_user_id(request, credentials)


OptionalUserId = Annotated[uuid.UUID | None, Depends(optional_user_id)]
