"""One structured JSON line per request on `lectern.access`: route templates, never raw paths or secrets."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

import lectern.web.edge
from lectern.app import create_app
from tests.conftest import PASSWORD, bearer, signup
from tests.web.checks import RecordingHandler
from tests.web.fixtures import ClientFactory

FIELDS = {"method", "route", "status", "duration_ms", "request_id", "cold_start"}


async def test_one_line_per_request_with_the_documented_fields(
    client: AsyncClient, lectern_log: RecordingHandler
) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "log-1"})
    lines = lectern_log.access_lines()
    assert len(lines) == 1
    line = lines[0]
    assert line.keys() >= FIELDS
    assert line["method"] == "GET"
    assert line["route"] == "/api/health"
    assert line["status"] == response.status_code == 200
    assert line["request_id"] == "log-1"
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert isinstance(line["cold_start"], bool)


async def test_each_request_gets_its_own_line_with_its_status(
    client: AsyncClient, lectern_log: RecordingHandler
) -> None:
    await client.get("/api/health")
    await client.post("/api/auth/login", json={"email": "nobody@example.org", "password": "wrong password"})
    await client.delete("/api/health")
    lines = lectern_log.access_lines()
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/api/health", 200),
        ("POST", "/api/auth/login", 401),
        ("DELETE", "/api/health", 405),
    ]


async def test_unmatched_paths_and_query_strings_are_not_logged(
    client: AsyncClient, lectern_log: RecordingHandler
) -> None:
    await client.get("/api/users/ada-lovelace-9f3b/reset")
    await client.get("/api/health", params={"token": "query-secret-51d2"})
    text = lectern_log.text()
    assert "ada-lovelace-9f3b" not in text
    assert "query-secret-51d2" not in text
    statuses = [line["status"] for line in lectern_log.access_lines()]
    assert statuses == [404, 200]


async def test_cold_start_is_true_only_for_the_first_request(
    client: AsyncClient, lectern_log: RecordingHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lectern.web.edge, "_first_request_seen", False)
    await client.get("/api/health")
    await client.get("/api/health")
    assert [line["cold_start"] for line in lectern_log.access_lines()] == [True, False]


async def test_tokens_and_passwords_never_reach_the_log(client: AsyncClient, lectern_log: RecordingHandler) -> None:
    tokens = await signup(client)
    await client.get("/api/auth/me", headers=bearer(tokens))
    await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await client.post("/api/auth/login", json={"email": "reader@example.org", "password": PASSWORD + "x"})
    text = lectern_log.text()
    assert len(lectern_log.access_lines()) == 4
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in text


async def test_the_route_template_is_logged_not_the_path(
    make_client: ClientFactory, make_settings: Any, lectern_log: RecordingHandler
) -> None:
    app = create_app(make_settings())

    async def chapter(chapter_id: str) -> dict[str, str]:
        return {"chapter": chapter_id}

    app.add_api_route("/api/chapters/{chapter_id}", chapter, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of any catch-all
    client = await make_client(app=app)
    response = await client.get("/api/chapters/reader-notes-0c4e")
    assert response.json() == {"chapter": "reader-notes-0c4e"}
    assert [line["route"] for line in lectern_log.access_lines()] == ["/api/chapters/{chapter_id}"]
    assert "reader-notes-0c4e" not in lectern_log.text()
