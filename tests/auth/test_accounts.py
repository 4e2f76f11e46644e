"""Signup, login, me: the happy paths and the refusals a reader meets."""

from __future__ import annotations

from httpx import AsyncClient

from tests.conftest import PASSWORD, bearer, signup


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
