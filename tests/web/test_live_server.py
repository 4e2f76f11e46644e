"""The edge over real HTTP (uvicorn via `lectern serve`): chunked bodies and what the server itself adds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from tests.cli.serving import Served
from tests.web.checks import assert_problem, assert_security_headers
from tests.web.conftest import LIVE_MAX_BODY_BYTES

TIMEOUT = httpx.Timeout(10.0)


def chunked(total: int, size: int = 512) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def test_chunked_body_over_the_limit_is_a_413_problem(live_api: Served) -> None:
    with httpx.Client(base_url=live_api.base_url, timeout=TIMEOUT) as client:
        response = client.post(
            "/api/auth/signup",
            content=chunked(4 * LIVE_MAX_BODY_BYTES),
            headers={"content-type": "application/json", "X-Request-ID": "chunked-413"},
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413, "payload_too_large")
    assert body["request_id"] == "chunked-413"
    assert_security_headers(response)


def test_chunked_body_within_the_limit_is_read(live_api: Served) -> None:
    def pieces() -> Iterator[bytes]:
        yield b'{"email": "reader@example.org",'
        yield b' "password": '

    with httpx.Client(base_url=live_api.base_url, timeout=TIMEOUT) as client:
        response = client.post("/api/auth/login", content=pieces(), headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed_json")


def test_declared_body_over_the_limit_is_a_413_problem(live_api: Served) -> None:
    with httpx.Client(base_url=live_api.base_url, timeout=TIMEOUT) as client:
        response = client.post(
            "/api/auth/signup", content=b" " * (LIVE_MAX_BODY_BYTES + 1), headers={"content-type": "application/json"}
        )
    assert_problem(response, 413, "payload_too_large")


def test_no_server_header(live_api: Served) -> None:
    with httpx.Client(base_url=live_api.base_url, timeout=TIMEOUT) as client:
        responses = [client.get("/api/health"), client.get("/api/nowhere"), client.get("/docs")]
    assert [r.status_code for r in responses] == [200, 404, 200]
    for response in responses:
        assert "server" not in response.headers
        assert response.headers["x-request-id"]


def test_served_app_logs_one_json_line_per_request(live_api: Served) -> None:
    with httpx.Client(base_url=live_api.base_url, timeout=TIMEOUT) as client:
        client.get("/api/health", headers={"X-Request-ID": "live-log-line"})
    # The line is written just after the response is sent: give it a moment.
    deadline = time.monotonic() + 5
    while not (lines := [x for x in live_api.output().splitlines() if "live-log-line" in x]):
        assert time.monotonic() < deadline, live_api.output()
        time.sleep(0.05)
    assert len(lines) == 1
    assert '"route": "/api/health"' in lines[0]
