"""The signed-in reader, from a Bearer access token."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lectern.auth.config import AuthConfig
from lectern.auth.tokens import decode_access_token
from lectern.errors import InvalidToken, Unauthorized
from lectern.web.deps import SettingsDep

# auto_error=False: we raise our own 401 problem with WWW-Authenticate.
_bearer = HTTPBearer(auto_error=False, description="An access token from /api/auth/login or /api/auth/signup.")


async def get_auth_config(request: Request, settings: SettingsDep) -> AuthConfig:
    config = getattr(request.app.state, "auth_config", None)
    if config is None:
        config = request.app.state.auth_config = AuthConfig.from_settings(settings)
    assert isinstance(config, AuthConfig)
    return config


AuthConfigDep = Annotated[AuthConfig, Depends(get_auth_config)]


async def current_user_id(
    config: AuthConfigDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> uuid.UUID:
    if credentials is None:
        raise Unauthorized("Sign in: this endpoint needs an access token (Authorization: Bearer …).")
    if credentials.scheme.lower() != "bearer":
        raise InvalidToken()
    return decode_access_token(credentials.credentials, key=config.key, issuer=config.issuer, audience=config.audience)


CurrentUserId = Annotated[uuid.UUID, Depends(current_user_id)]
