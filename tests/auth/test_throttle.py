"""Login throttling, kept in Postgres: per account, shared by every instance, even against the right password."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from httpx import ASGITransport, AsyncClient, Response

from lectern.app import create_app
from lectern.settings import Settings
from tests.auth.problem_checks import assert_problem
from tests.conftest import PASSWORD, signup

EMAIL = "ada@example.org"
WRONG = "not the passphrase at all"
MakeSettings = Callable[..., Settings]


@asynccontextmanager
async def instance(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A separate app instance (own engine and pool) on the shared test database."""
    app = create_app(settings)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.database.dispose()


async def _login(client: AsyncClient, password: str, email: str = EMAIL) -> Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def _fail(client: AsyncClient, times: int, email: str = EMAIL) -> None:
    for _ in range(times):
        assert_problem(await _login(client, WRONG, email), 401, "invalid_credentials")


def _assert_throttled(response: Response, window: int) -> dict[str, Any]:
    body = assert_problem(response, 429, "rate_limited")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= window
    assert "access_token" not in response.text
    return body


async def test_five_failures_lock_the_account_even_for_the_right_password(client: AsyncClient) -> None:
    await signup(client, EMAIL)
    await _fail(client, 5)
    _assert_throttled(await _login(client, PASSWORD), 900)
    _assert_throttled(await _login(client, WRONG), 900)


async def test_four_failures_still_let_the_right_password_in(client: AsyncClient) -> None:
    await signup(client, EMAIL)
    await _fail(client, 4)
    assert (await _login(client, PASSWORD)).status_code == 200


async def test_a_successful_login_resets_the_count(client: AsyncClient) -> None:
    await signup(client, EMAIL)
    await _fail(client, 4)
    assert (await _login(client, PASSWORD)).status_code == 200
    await _fail(client, 4)
    assert (await _login(client, PASSWORD)).status_code == 200


async def test_changing_the_emails_case_does_not_dodge_the_throttle(client: AsyncClient) -> None:
    await signup(client, EMAIL)
    for email in ["ada@example.org", "ADA@example.org", "Ada@Example.Org", " ada@EXAMPLE.org ", "aDa@example.org"]:
        await _login(client, WRONG, email)
    _assert_throttled(await _login(client, PASSWORD, "ada@example.org"), 900)


async def test_the_throttle_is_per_account(client: AsyncClient) -> None:
    await signup(client, EMAIL)
    await signup(client, "grace@example.org")
    await _fail(client, 5)
    _assert_throttled(await _login(client, PASSWORD), 900)
    assert (await _login(client, PASSWORD, "grace@example.org")).status_code == 200


async def test_unknown_accounts_are_throttled_alike(client: AsyncClient) -> None:
    """The 429 must not tell a registered email from an unknown one."""
    await signup(client, EMAIL)
    await _fail(client, 5)
    await _fail(client, 5, "nobody@example.org")
    known = _assert_throttled(await _login(client, PASSWORD), 900)
    unknown = _assert_throttled(await _login(client, PASSWORD, "nobody@example.org"), 900)
    for body in (known, unknown):
        body.pop("request_id")
    assert known == unknown


async def test_limit_and_window_follow_settings(make_settings: MakeSettings) -> None:
    async with instance(make_settings(login_max_failures=2, login_window_seconds=60)) as http:
        await signup(http, EMAIL)
        await _fail(http, 2)
        _assert_throttled(await _login(http, PASSWORD), 60)


async def test_the_lock_lifts_once_the_window_has_passed(make_settings: MakeSettings) -> None:
    window = 2
    async with instance(make_settings(login_max_failures=3, login_window_seconds=window)) as http:
        await signup(http, EMAIL)
        await _fail(http, 3)
        refused = await _login(http, PASSWORD)
        _assert_throttled(refused, window)
        # Waiting as long as Retry-After says is enough (the one sleep in these tests).
        await asyncio.sleep(int(refused.headers["retry-after"]) + 0.1)
        assert (await _login(http, PASSWORD)).status_code == 200


async def test_two_instances_share_one_throttle(make_settings: MakeSettings) -> None:
    async with instance(make_settings()) as first, instance(make_settings()) as second:
        await signup(first, EMAIL)
        await _fail(first, 3)
        await _fail(second, 2)
        _assert_throttled(await _login(first, PASSWORD), 900)
        _assert_throttled(await _login(second, PASSWORD), 900)


async def test_parallel_guesses_get_no_more_attempts_than_the_limit(make_settings: MakeSettings) -> None:
    """Guesses fired at once, at two instances, must not all slip past the check before any failure is recorded."""
    async with instance(make_settings()) as first, instance(make_settings()) as second:
        await signup(first, EMAIL)
        guesses = [_login(http, WRONG) for http in (first, second) for _ in range(6)]
        responses = await asyncio.gather(*guesses)
        assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 7
        _assert_throttled(await _login(second, PASSWORD), 900)
