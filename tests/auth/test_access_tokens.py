"""Access tokens: only HS256 at+jwt tokens signed with JWT_SECRET, for our issuer and audience, in date."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest
from httpx import AsyncClient

from tests.auth.forged_tokens import OTHER_SECRET, claims_for, hand_built, signed, with_claims
from tests.auth.problem_checks import assert_problem
from tests.conftest import PASSWORD, signup

# Each attack builds an Authorization header from the reader's id and one of their real access tokens.
Attack = Callable[[str, str], str]
_HOUR = 3600


def _bearer(token: str) -> str:
    return f"Bearer {token}"


FORGED_JWTS: dict[str, Attack] = {
    "malformed": lambda sub, real: "Bearer not-a-token",
    "three_junk_segments": lambda sub, real: "Bearer a.b.c",
    "alg_none": lambda sub, real: _bearer(hand_built({"alg": "none", "typ": "at+jwt"}, claims_for(sub))),
    "alg_none_mixed_case": lambda sub, real: _bearer(hand_built({"alg": "nOnE", "typ": "at+jwt"}, claims_for(sub))),
    "signature_stripped": lambda sub, real: _bearer(real.rsplit(".", 1)[0] + "."),
    "hs512_same_secret": lambda sub, real: _bearer(signed(claims_for(sub), algorithm="HS512")),
    "hs384_same_secret": lambda sub, real: _bearer(signed(claims_for(sub), algorithm="HS384")),
    # `cryptography` is not installed, so RS256 is assembled by hand with a junk 2048-bit signature.
    "rs256": lambda sub, real: _bearer(hand_built({"alg": "RS256", "typ": "at+jwt"}, claims_for(sub), os.urandom(256))),
    "other_secret": lambda sub, real: _bearer(signed(claims_for(sub), key=OTHER_SECRET)),
    "payload_swapped": lambda sub, real: _bearer(with_claims(real, claims_for(str(uuid.uuid4())))),
    "expired": lambda sub, real: _bearer(
        signed(claims_for(sub, iat=int(time.time()) - 2 * _HOUR, exp=int(time.time()) - _HOUR))
    ),
    "issued_in_the_future": lambda sub, real: _bearer(
        signed(claims_for(sub, iat=int(time.time()) + _HOUR, exp=int(time.time()) + 2 * _HOUR))
    ),
    "not_yet_valid": lambda sub, real: _bearer(signed(claims_for(sub, nbf=int(time.time()) + _HOUR))),
    "wrong_audience": lambda sub, real: _bearer(signed(claims_for(sub, aud="some-other-api"))),
    "wrong_issuer": lambda sub, real: _bearer(signed(claims_for(sub, iss="https://evil.example"))),
    "typ_jwt": lambda sub, real: _bearer(signed(claims_for(sub), typ="JWT")),
    "typ_missing": lambda sub, real: _bearer(signed(claims_for(sub), typ=None)),
    "sub_missing": lambda sub, real: _bearer(signed(claims_for(None))),
    "sub_not_a_uuid": lambda sub, real: _bearer(signed(claims_for("admin"))),
    "exp_missing": lambda sub, real: _bearer(signed(claims_for(sub, exp=None))),
    "iat_missing": lambda sub, real: _bearer(signed(claims_for(sub, iat=None))),
    "aud_missing": lambda sub, real: _bearer(signed(claims_for(sub, aud=None))),
    "iss_missing": lambda sub, real: _bearer(signed(claims_for(sub, iss=None))),
}

MISSING_CREDENTIALS: dict[str, Attack] = {
    "empty_bearer": lambda sub, real: "Bearer ",
    "basic_password": lambda sub, real: "Basic " + base64.b64encode(f"ada@example.org:{PASSWORD}".encode()).decode(),
    "basic_with_a_valid_token": lambda sub, real: f"Basic {real}",
    "token_without_scheme": lambda sub, real: real,
}

PROTECTED = [
    ("GET", "/api/auth/me", None),
    ("GET", "/api/profile", None),
    ("PUT", "/api/profile", {"goals": "take over"}),
    ("GET", "/api/preferences", None),
    ("PUT", "/api/preferences", {"difficulty": "advanced"}),
    ("PATCH", "/api/preferences", {"difficulty": "advanced"}),
]


async def test_a_correctly_forged_token_is_accepted(client: AsyncClient) -> None:
    """The forging helpers are sound: with every part right the token works, so each attack changes one thing."""
    tokens = await signup(client, "ada@example.org")
    sub = tokens["user"]["id"]
    response = await client.get("/api/auth/me", headers={"Authorization": _bearer(signed(claims_for(sub)))})
    assert response.status_code == 200
    assert response.json()["id"] == sub


@pytest.mark.parametrize("attack", FORGED_JWTS.values(), ids=FORGED_JWTS.keys())
async def test_forged_access_tokens_are_401_invalid_token(client: AsyncClient, attack: Attack) -> None:
    tokens = await signup(client, "ada@example.org")
    response = await client.get(
        "/api/auth/me", headers={"Authorization": attack(tokens["user"]["id"], tokens["access_token"])}
    )
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("attack", MISSING_CREDENTIALS.values(), ids=MISSING_CREDENTIALS.keys())
async def test_missing_bearer_credentials_are_401(client: AsyncClient, attack: Attack) -> None:
    tokens = await signup(client, "ada@example.org")
    response = await client.get(
        "/api/auth/me", headers={"Authorization": attack(tokens["user"]["id"], tokens["access_token"])}
    )
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "payload"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
async def test_every_reader_route_refuses_no_token_and_a_foreign_key(
    client: AsyncClient, method: str, path: str, payload: dict[str, str] | None
) -> None:
    tokens = await signup(client, "ada@example.org")
    anonymous = await client.request(method, path, json=payload)
    assert_problem(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    forged = signed(claims_for(tokens["user"]["id"]), key=OTHER_SECRET)
    response = await client.request(method, path, json=payload, headers={"Authorization": _bearer(forged)})
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_for_a_deleted_account_stops_working(client: AsyncClient, clean_database: str) -> None:
    tokens = await signup(client, "ada@example.org")
    with psycopg.connect(clean_database) as conn:
        conn.execute("DELETE FROM users")
    headers = {"Authorization": _bearer(tokens["access_token"])}
    assert_problem(await client.get("/api/auth/me", headers=headers), 401, "invalid_token")
    assert_problem(await client.put("/api/profile", json={}, headers=headers), 401, "invalid_token")
