"""Signup, login, me: the happy paths and the refusals a reader meets."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from httpx import AsyncClient

from tests.auth.problem_checks import assert_problem, count_rows, error_fields
from tests.conftest import JWT_SECRET, PASSWORD, bearer, signup


async def test_signup_returns_user_and_tokens(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", json={"email": "  Ada@Example.ORG ", "password": PASSWORD, "name": "Ada"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ada@example.org"
    assert body["user"]["name"] == "Ada"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    me = await client.get("/api/auth/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json() == body["user"]


async def test_duplicate_email_is_409_whatever_the_case(client: AsyncClient) -> None:
    await signup(client, "ada@example.org")
    response = await client.post("/api/auth/signup", json={"email": "ADA@example.org", "password": PASSWORD})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "conflict"


async def test_duplicate_signup_leaves_the_first_account_untouched(client: AsyncClient, clean_database: str) -> None:
    await signup(client, "ada@example.org")
    second = await client.post(
        "/api/auth/signup", json={"email": "Ada@Example.org", "password": "another long passphrase"}
    )
    assert_problem(second, 409, "conflict")
    assert count_rows(clean_database, "users") == 1
    kept = await client.post("/api/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert kept.status_code == 200
    taken = await client.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": "another long passphrase"}
    )
    assert_problem(taken, 401)


@pytest.mark.parametrize(
    "password",
    [
        "Zq9!xk2",  # 7 characters: one short of the minimum
        "",
        # From the built-in list, in any case, accented ones too.
        "p@ssw0rd",
        "QwErTyUiOp",
        "contraseña",
        "Lectern123",
    ],
)
async def test_weak_password_is_refused_naming_password_and_creates_nobody(
    client: AsyncClient, clean_database: str, password: str
) -> None:
    response = await client.post("/api/auth/signup", json={"email": "ada@example.org", "password": password})
    body = assert_problem(response, 422)
    assert error_fields(body) == {"password"}
    if password:
        assert password not in response.text
        assert password.lower() not in response.text.lower()
    assert count_rows(clean_database, "users") == 0
    assert count_rows(clean_database, "refresh_tokens") == 0


async def test_eight_uncommon_characters_are_enough(client: AsyncClient) -> None:
    await signup(client, "ada@example.org", "k7#vq2Lm")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "ada@example.org", "password": PASSWORD, "is_admin": True}, "is_admin"),
        ({"email": "ada@example.org", "password": PASSWORD, "id": "00000000-0000-0000-0000-000000000000"}, "id"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "ada@example", "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.org"}, "password"),
        ({"email": "ada@example.org", "password": PASSWORD, "name": ""}, "name"),
        # PostgreSQL text cannot hold NUL: refused as input, not a server error.
        ({"email": "ada\x00@example.org", "password": PASSWORD}, "email"),
        ({"email": "ada@example.org", "password": PASSWORD, "name": "Ada\x00"}, "name"),
    ],
)
async def test_invalid_signup_is_422_naming_the_field_and_creates_nobody(
    client: AsyncClient, clean_database: str, payload: dict[str, Any], field: str
) -> None:
    body = assert_problem(await client.post("/api/auth/signup", json=payload), 422, "validation_failed")
    assert field in error_fields(body)
    assert PASSWORD not in json.dumps(body)
    assert count_rows(clean_database, "users") == 0


async def test_login_returns_the_signup_body_for_the_same_reader(client: AsyncClient) -> None:
    created = await signup(client, "ada@example.org")
    response = await client.post("/api/auth/login", json={"email": "  ADA@example.ORG", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body.keys() == created.keys()
    assert body["user"] == created["user"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] != created["access_token"]
    assert body["refresh_token"] != created["refresh_token"]
    me = await client.get("/api/auth/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json() == created["user"]


async def test_unknown_email_and_wrong_password_get_the_identical_401(client: AsyncClient) -> None:
    await signup(client, "ada@example.org")
    attempts = [
        {"email": "nobody@example.org", "password": PASSWORD},
        {"email": "ada@example.org", "password": PASSWORD + "!"},
        {"email": "ada@example.org", "password": "x"},
    ]
    responses = [await client.post("/api/auth/login", json=attempt) for attempt in attempts]
    bodies = []
    for response in responses:
        body = assert_problem(response, 401, "invalid_credentials")
        assert response.headers["www-authenticate"].startswith("Bearer")
        body.pop("request_id")
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]
    assert len({r.headers["www-authenticate"] for r in responses}) == 1
    assert len({r.headers["content-length"] for r in responses}) == 1
    assert all(PASSWORD not in r.text for r in responses)


async def test_access_token_is_hs256_at_jwt_valid_for_fifteen_minutes(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    token = tokens["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["typ"] == "at+jwt"
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience="lectern-api", issuer="lectern")
    assert claims["sub"] == tokens["user"]["id"]
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60


async def test_me_refuses_a_refresh_token_as_bearer(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_login_with_a_nul_in_the_email_is_422(client: AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"email": "ada\x00@example.org", "password": PASSWORD})
    assert error_fields(assert_problem(response, 422, "validation_failed")) == {"email"}


async def test_malformed_json_is_a_problem_not_a_crash(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{"email": "ada@example.org", "password": ',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")


async def test_no_successful_or_failed_response_echoes_the_password(client: AsyncClient) -> None:
    secret = "an unmistakable passphrase 7Q"
    responses = [
        await client.post("/api/auth/signup", json={"email": "ada@example.org", "password": secret}),
        await client.post("/api/auth/signup", json={"email": "ada@example.org", "password": secret}),
        await client.post("/api/auth/login", json={"email": "ada@example.org", "password": secret}),
        await client.post("/api/auth/login", json={"email": "ada@example.org", "password": secret + "x"}),
        await client.post("/api/auth/login", json={"email": "ada@example.org", "password": secret, "extra": secret}),
        await client.post("/api/auth/signup", json={"email": "bad", "password": secret}),
    ]
    assert [r.status_code for r in responses] == [201, 409, 200, 401, 422, 422]
    for response in responses:
        assert secret not in response.text
        assert "password_hash" not in response.text
        assert "$argon2" not in response.text
