"""Pure security primitives: Argon2id password hashes, HS256 access tokens, opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from functools import lru_cache
from importlib import resources

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from lectern.errors import InvalidToken

ALGORITHM = "HS256"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 explicit typing, not a secret)
# Clock skew tolerated on exp/iat (RFC 7519 allows "a few minutes"; we keep it small).
LEEWAY_SECONDS = 5


@lru_cache
def _hasher() -> PasswordHash:
    # OWASP's Argon2id floor (19 MiB, t=2, p=1): affordable per login on a small serverless instance.
    return PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; with no hash (unknown account) spend the same time and fail."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False, None
    return _hasher().verify_and_update(password, password_hash)


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("lectern.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()


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
