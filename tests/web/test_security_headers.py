"""Security headers on every API response, HSTS only over https, and a /docs CSP that lets Swagger UI load."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient, Response

from tests.conftest import bearer, signup
from tests.web.checks import assert_security_headers, csp_directives
from tests.web.fixtures import ClientFactory

CDN = "https://cdn.jsdelivr.net"
ONE_YEAR = 31_536_000


async def _responses(client: AsyncClient) -> dict[str, Response]:
    preflight_headers = {"Origin": "https://refused.example", "Access-Control-Request-Method": "POST"}
    return {
        "liveness": await client.get("/api/health"),
        "readiness": await client.get("/api/health/ready"),
        "not found": await client.get("/api/nowhere"),
        "wrong method": await client.put("/api/health"),
        "malformed json": await client.post(
            "/api/auth/login", content=b"{", headers={"content-type": "application/json"}
        ),
        "invalid input": await client.post("/api/auth/login", json={}),
        "unauthenticated": await client.get("/api/profile"),
        "too large": await client.post("/api/auth/login", content=b"x" * 1_100_000),
        "refused preflight": await client.options("/api/auth/login", headers=preflight_headers),
        "openapi": await client.get("/openapi.json"),
    }


async def test_every_kind_of_response_carries_the_security_headers(client: AsyncClient) -> None:
    for name, response in (await _responses(client)).items():
        try:
            assert_security_headers(response)
            assert response.headers["x-request-id"]
            assert "strict-transport-security" not in response.headers
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name} ({response.status_code}): {exc!r}") from exc


async def test_allowed_preflight_carries_the_security_headers(make_client: ClientFactory) -> None:
    client = await make_client(frontend_origins="https://book.example.org")
    response = await client.options(
        "/api/auth/login", headers={"Origin": "https://book.example.org", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert_security_headers(response)


async def test_authenticated_responses_are_not_stored(client: AsyncClient) -> None:
    tokens = await signup(client)
    for path in ("/api/auth/me", "/api/profile", "/api/preferences"):
        response = await client.get(path, headers=bearer(tokens))
        assert response.status_code == 200
        assert "no-store" in response.headers["cache-control"]


async def test_token_responses_are_not_stored(client: AsyncClient) -> None:
    response = await client.post("/api/auth/signup", json={"email": "ada@example.org", "password": "correct horse"})
    assert response.status_code == 201
    assert "no-store" in response.headers["cache-control"]


def _hsts_max_age(response: Response) -> int:
    match = re.search(r"max-age=(\d+)", response.headers["strict-transport-security"])
    assert match
    return int(match.group(1))


async def test_hsts_behind_an_https_proxy(client: AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert _hsts_max_age(response) >= ONE_YEAR


async def test_hsts_when_served_over_https(make_client: ClientFactory) -> None:
    client = await make_client(base_url="https://api.example.org")
    response = await client.get("/api/nowhere")
    assert response.status_code == 404
    assert _hsts_max_age(response) >= ONE_YEAR


@pytest.mark.parametrize("proto", [None, "http"])
async def test_no_hsts_over_plain_http(client: AsyncClient, proto: str | None) -> None:
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    response = await client.get("/api/health", headers=headers)
    assert "strict-transport-security" not in response.headers


async def test_docs_page_csp_lets_swagger_ui_load(client: AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    nonces = [v.removeprefix("'nonce-").removesuffix("'") for v in csp["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1 and len(nonces[0]) >= 16
    assert CDN in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'self'" in csp["connect-src"]  # Swagger UI fetches /openapi.json

    scripts = re.findall(r"<script([^>]*)>", response.text)
    inline = [attrs for attrs in scripts if "src=" not in attrs]
    external = re.findall(r'<script[^>]*src="([^"]+)"', response.text)
    assert inline, "Swagger UI needs its inline bootstrap script"
    assert all(f'nonce="{nonces[0]}"' in attrs for attrs in inline)
    assert external and all(src.startswith(CDN + "/") for src in external)
    stylesheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*>', response.text)
    assert all(CDN in link for link in stylesheets)
    assert CDN in csp["style-src"]


async def test_docs_nonce_is_fresh_per_request(client: AsyncClient) -> None:
    first = (await client.get("/docs")).headers["content-security-policy"]
    second = (await client.get("/docs")).headers["content-security-policy"]
    assert first != second


async def test_docs_page_serves_the_openapi_it_points_at(client: AsyncClient) -> None:
    page = await client.get("/docs")
    assert "/openapi.json" in page.text
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Lectern"
