"""Access tokens built outside the app, each differing from a valid one in exactly one respect."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt

from tests.conftest import JWT_SECRET

ISSUER = "lectern"
AUDIENCE = "lectern-api"
OTHER_SECRET = "not-the-servers-secret-" + "x" * 40


def claims_for(sub: str | None, **overrides: Any) -> dict[str, Any]:
    """Valid claims for `sub`; an override of None drops that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 900}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def signed(
    claims: dict[str, Any], *, key: str = JWT_SECRET, algorithm: str = "HS256", typ: str | None = "at+jwt"
) -> str:
    """A token signed by PyJWT; typ=None leaves the typ header out."""
    with warnings.catch_warnings():
        # HS512 recommends a 64-byte key; the attack only needs the signature to be valid for HS512.
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": typ})


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_built(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand (for alg=none and algorithms we hold no key for)."""
    return ".".join((_segment(json.dumps(header).encode()), _segment(json.dumps(claims).encode()), _segment(signature)))


def with_claims(token: str, claims: dict[str, Any]) -> str:
    """`token` with its payload swapped for `claims`, keeping the original header and signature."""
    header, _, signature = token.split(".")
    return ".".join((header, _segment(json.dumps(claims).encode()), signature))
