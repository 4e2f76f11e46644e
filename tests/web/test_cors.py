"""CORS from an exact allow-list (FRONTEND_ORIGINS plus GITHUB_PAGES_URL's origin); never `*` with credentials."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response

from lectern.app import create_app
from lectern.errors import ConfigError
from tests.web.checks import assert_problem, assert_security_headers, header_list
from tests.web.fixtures import ClientFactory

ORIGINS = "https://book.example.org, http://localhost:3000"
PAGES = "https://acme.github.io/handbook/"
ALLOWED = ["https://book.example.org", "http://localhost:3000", "https://acme.github.io"]
REFUSED = [
    "null",
    "https://evil.example",
    "https://book.example.org.evil.com",
    "https://evil-book.example.org",
    "http://book.example.org",
    "https://book.example.org:8443",
    "http://localhost:3001",
    "https://localhost:3000",
    "https://acme.github.io.evil.com",
    "https://other.github.io",
]


@pytest.fixture
async def cors_client(make_client: ClientFactory) -> AsyncClient:
    return await make_client(frontend_origins=ORIGINS, github_pages_url=PAGES)


async def preflight(client: AsyncClient, origin: str, path: str = "/api/auth/login") -> Response:
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize("origin", ALLOWED)
async def test_preflight_from_an_allowed_origin(cors_client: AsyncClient, origin: str) -> None:
    response = await preflight(cors_client, origin)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert {"authorization", "content-type"} <= header_list(response.headers["access-control-allow-headers"])
    assert "post" in header_list(response.headers["access-control-allow-methods"])
    assert 600 <= int(response.headers["access-control-max-age"]) <= 7200
    assert "origin" in header_list(response.headers["vary"])
    assert_security_headers(response)


@pytest.mark.parametrize("origin", REFUSED)
async def test_preflight_from_a_refused_origin(cors_client: AsyncClient, origin: str) -> None:
    response = await preflight(cors_client, origin)
    assert_problem(response, 403, "cors_origin_refused")
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in header_list(response.headers["vary"])
    assert_security_headers(response)


@pytest.mark.parametrize("origin", ALLOWED)
async def test_simple_request_from_an_allowed_origin(cors_client: AsyncClient, origin: str) -> None:
    response = await cors_client.get("/api/health", headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in header_list(response.headers["access-control-expose-headers"])
    assert "origin" in header_list(response.headers["vary"])


@pytest.mark.parametrize("origin", REFUSED)
async def test_simple_request_from_a_refused_origin(cors_client: AsyncClient, origin: str) -> None:
    response = await cors_client.get("/api/health", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in header_list(response.headers["vary"])


async def test_errors_from_an_allowed_origin_are_readable(cors_client: AsyncClient) -> None:
    response = await cors_client.post("/api/auth/login", json={}, headers={"Origin": "https://book.example.org"})
    assert_problem(response, 422, "validation_failed")
    assert response.headers["access-control-allow-origin"] == "https://book.example.org"


async def test_no_origins_configured_refuses_every_origin(client: AsyncClient) -> None:
    response = await preflight(client, "http://localhost:3000")
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_wildcard_with_credentials_is_refused_at_startup(make_settings: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app(make_settings(frontend_origins="https://book.example.org, *"))
    message = str(caught.value)
    assert "FRONTEND_ORIGINS" in message
    assert "CORS_ALLOW_CREDENTIALS" in message


def test_an_entry_that_is_not_an_origin_is_refused_at_startup(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match="not an origin"):
        create_app(make_settings(frontend_origins="book.example.org"))


async def test_wildcard_without_credentials_allows_any_origin_anonymously(make_client: ClientFactory) -> None:
    client = await make_client(frontend_origins="*", cors_allow_credentials=False)
    simple = await client.get("/api/health", headers={"Origin": "https://anywhere.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in simple.headers
    response = await preflight(client, "https://anywhere.example")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_listed_origin_without_credentials_gets_no_credentials_header(make_client: ClientFactory) -> None:
    client = await make_client(frontend_origins=ORIGINS, cors_allow_credentials=False)
    response = await preflight(client, "https://book.example.org")
    assert response.headers["access-control-allow-origin"] == "https://book.example.org"
    assert "access-control-allow-credentials" not in response.headers


async def test_an_origin_listed_with_its_default_port_matches_the_browsers_origin(
    make_client: ClientFactory,
) -> None:
    client = await make_client(frontend_origins="https://book.example.org:443, http://localhost:80")
    for origin in ("https://book.example.org", "http://localhost"):
        response = await preflight(client, origin)
        assert response.status_code == 204, origin
        assert response.headers["access-control-allow-origin"] == origin


def test_an_origin_with_a_broken_port_is_refused_at_startup(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match="not an origin"):
        create_app(make_settings(frontend_origins="https://book.example.org:port"))
