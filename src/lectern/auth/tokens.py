"""Access tokens (HS256 JWTs with pinned algorithm and explicit type) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

import jwt

from lectern.errors import InvalidToken

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 explicit typing, not a secret)
# Clock skew tolerated on exp/iat (RFC 7519 allows "a few minutes"; we keep it small).
LEEWAY_SECONDS = 5


def create_access_token(user_id: uuid.UUID, *, key: str, issuer: str, audience: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})


def decode_access_token(token: str, *, key: str, issuer: str, audience: str) -> uuid.UUID:
    """The user id in a valid access token; anything else raises InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise InvalidToken()
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        return uuid.UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidToken() from None


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the digest we store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_digest(token)


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
