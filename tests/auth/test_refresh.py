"""Refresh tokens: opaque, stored hashed, single use, rotated; reuse revokes the whole sign-in; logout."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from httpx import AsyncClient, Response

from tests.auth.problem_checks import assert_problem
from tests.conftest import PASSWORD, bearer, signup


async def _refresh(client: AsyncClient, token: str) -> Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def _login(client: AsyncClient, email: str = "ada@example.org") -> dict[str, Any]:
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_refresh_trades_a_token_for_a_new_pair(client: AsyncClient) -> None:
    first = await signup(client, "ada@example.org")
    response = await _refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second.keys() == first.keys()
    assert second["user"] == first["user"]
    assert second["token_type"] == "bearer"
    assert second["expires_in"] == 900
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    me = await client.get("/api/auth/me", headers=bearer(second))
    assert me.json()["id"] == first["user"]["id"]
    # Rotation continues from the new token.
    assert (await _refresh(client, second["refresh_token"])).status_code == 200


async def test_refresh_tokens_are_stored_only_as_digests(client: AsyncClient, clean_database: str) -> None:
    tokens = await signup(client, "ada@example.org")
    rotated = (await _refresh(client, tokens["refresh_token"])).json()
    raw = [tokens["refresh_token"], rotated["refresh_token"]]
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute("SELECT t::text, token_hash FROM refresh_tokens AS t").fetchall()
    assert len(rows) == 2
    for row_text, token_hash in rows:
        assert token_hash not in raw
        for token in raw:
            assert token not in row_text


async def test_a_refresh_token_works_only_once(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 200
    again = await _refresh(client, tokens["refresh_token"])
    assert_problem(again, 401, "invalid_refresh_token")
    assert again.headers["www-authenticate"].startswith("Bearer")


async def test_reusing_a_refresh_token_revokes_its_whole_sign_in_only(client: AsyncClient) -> None:
    await signup(client, "ada@example.org")
    laptop = await _login(client)
    phone = await _login(client)
    newest = (await _refresh(client, laptop["refresh_token"])).json()["refresh_token"]

    # Someone replays the laptop's already used token: that sign-in is presumed stolen.
    assert_problem(await _refresh(client, laptop["refresh_token"]), 401, "invalid_refresh_token")
    # The newest token of that family dies with it...
    assert_problem(await _refresh(client, newest), 401, "invalid_refresh_token")
    # ...while the phone's sign-in keeps rotating.
    phone_next = await _refresh(client, phone["refresh_token"])
    assert phone_next.status_code == 200
    assert (await _refresh(client, phone_next.json()["refresh_token"])).status_code == 200


async def test_logout_ends_that_sign_in_only(client: AsyncClient) -> None:
    await signup(client, "ada@example.org")
    laptop = await _login(client)
    phone = await _login(client)
    response = await client.post("/api/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await _refresh(client, laptop["refresh_token"]), 401, "invalid_refresh_token")
    assert (await _refresh(client, phone["refresh_token"])).status_code == 200


async def test_logout_after_rotation_ends_the_rotated_token_too(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    rotated = (await _refresh(client, tokens["refresh_token"])).json()
    assert (await client.post("/api/auth/logout", json={"refresh_token": rotated["refresh_token"]})).status_code == 204
    assert_problem(await _refresh(client, rotated["refresh_token"]), 401, "invalid_refresh_token")


async def test_an_expired_refresh_token_is_refused(client: AsyncClient, clean_database: str) -> None:
    tokens = await signup(client, "ada@example.org")
    with psycopg.connect(clean_database) as conn:
        conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    assert_problem(await _refresh(client, tokens["refresh_token"]), 401, "invalid_refresh_token")


async def test_unknown_refresh_token_is_401_and_logout_of_it_reveals_nothing(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    assert_problem(await _refresh(client, "made-up-" + "a" * 40), 401, "invalid_refresh_token")
    response = await client.post("/api/auth/logout", json={"refresh_token": "made-up-" + "a" * 40})
    assert response.status_code == 204
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 200


async def test_refresh_body_is_strict(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"], "user_id": tokens["user"]["id"]}
    )
    assert_problem(response, 422, "validation_failed")
    # The refused request did not spend the token.
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 200


async def test_racing_refreshes_of_one_token_yield_one_new_pair(client: AsyncClient) -> None:
    tokens = await signup(client, "ada@example.org")
    responses = await asyncio.gather(*(_refresh(client, tokens["refresh_token"]) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 401, 401]
    # The losers presented a used token: the winner's new token is revoked with its sign-in.
    (winner,) = (r for r in responses if r.status_code == 200)
    assert_problem(await _refresh(client, winner.json()["refresh_token"]), 401, "invalid_refresh_token")
