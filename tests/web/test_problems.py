"""Every error is RFC 9457 problem+json with a stable code and the request id; never a stack trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

import lectern.auth.service
from lectern.app import create_app
from tests.conftest import bearer, signup
from tests.web.checks import RecordingHandler, assert_problem, assert_security_headers
from tests.web.fixtures import ClientFactory

ONE_MIB = 1_048_576
LEAK = "internal-detail-7c1e /srv/app/secret_module.py"


def add_route(app: FastAPI, path: str, endpoint: Any) -> None:
    app.add_api_route(path, endpoint, methods=["GET"])
    # Routes match in order and the app may end with a catch-all: make the test route the first one.
    app.router.routes.insert(0, app.router.routes.pop())


async def chunks(payload: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


async def test_unknown_route_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/api/no-such-thing")
    assert_problem(response, 404, "not_found")


async def test_missing_credentials_are_a_401_problem_with_a_challenge(client: AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/health", "/api/auth/login"])
async def test_wrong_method_is_a_405_problem_with_allow(client: AsyncClient, path: str) -> None:
    response = await client.delete(path)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"]
    assert "DELETE" not in response.headers["allow"]


async def test_malformed_json_is_a_400_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b'{"email": "a@b.org", "password": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, "malformed_json")
    assert "errors" not in body


async def test_invalid_payload_is_a_422_problem_listing_fields(client: AsyncClient) -> None:
    response = await client.post("/api/auth/signup", json={"email": "not-an-email", "password": "short"})
    body = assert_problem(response, 422, "validation_failed")
    fields = {item["field"] for item in body["errors"]}
    assert fields == {"email", "password"}
    assert all(item["message"] and item["type"] for item in body["errors"])


async def test_422_field_paths_reach_into_lists(client: AsyncClient) -> None:
    tokens = await signup(client)
    response = await client.put("/api/preferences", json={"topics": ["ros2", ""]}, headers=bearer(tokens))
    body = assert_problem(response, 422, "validation_failed")
    assert [item["field"] for item in body["errors"]] == ["topics.1"]


async def test_422_never_echoes_the_submitted_password(client: AsyncClient) -> None:
    too_long = "do-not-echo-me-" * 10
    response = await client.post("/api/auth/signup", json={"email": "ada@example.org", "password": too_long})
    assert_problem(response, 422, "validation_failed")
    assert "do-not-echo-me" not in response.text


async def test_body_over_one_mib_with_content_length_is_a_413_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", content=b"x" * (ONE_MIB + 1), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_body_of_exactly_one_mib_is_not_refused_for_size(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", content=b"x" * ONE_MIB, headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


async def test_chunked_body_over_the_limit_is_a_413_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", content=chunks(b"x" * (ONE_MIB + 1)), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


async def test_body_limit_follows_max_body_bytes(make_client: ClientFactory) -> None:
    client = await make_client(max_body_bytes=1000)
    big = await client.post("/api/auth/login", content=b" " * 1001, headers={"content-type": "application/json"})
    assert_problem(big, 413, "payload_too_large")
    small = await client.post("/api/auth/login", content=b" " * 999, headers={"content-type": "application/json"})
    assert small.status_code != 413


async def test_unexpected_error_is_a_500_problem_without_details(
    make_client: ClientFactory, make_settings: Any, lectern_log: RecordingHandler
) -> None:
    app = create_app(make_settings())

    async def explode() -> None:
        raise RuntimeError(LEAK)

    add_route(app, "/api/explode", explode)
    client = await make_client(app=app, raise_app_exceptions=False)
    response = await client.get("/api/explode", headers={"X-Request-ID": "trace-500"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "trace-500"
    assert "internal-detail" not in response.text
    assert "secret_module" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert_security_headers(response)
    # The operator still gets the whole story, in the log.
    assert "internal-detail-7c1e" in lectern_log.text()


async def test_unexpected_error_inside_a_domain_route_is_a_500_problem(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_client(raise_app_exceptions=False)
    tokens = await signup(client)

    async def broken(*args: object) -> None:
        raise RuntimeError(LEAK)

    monkeypatch.setattr(lectern.auth.service, "get_me", broken)
    response = await client.get("/api/auth/me", headers=bearer(tokens))
    assert_problem(response, 500, "internal_error")
    assert "internal-detail" not in response.text
    assert_security_headers(response)
