"""Assertions shared by the edge tests: problem documents, security headers, log capture."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from httpx import Response

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """`response` is an RFC 9457 document with this status and code, tied to its X-Request-ID."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_security_headers(response: Response) -> None:
    """The headers every API response carries, whatever its status."""
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csp = csp_directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def csp_directives(policy: str) -> dict[str, list[str]]:
    """`"default-src 'none'; img-src a b"` → {"default-src": ["'none'"], "img-src": ["a", "b"]}."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def header_list(value: str) -> set[str]:
    """A comma-separated header value as a set of lower-case tokens."""
    return {item.strip().lower() for item in value.split(",") if item.strip()}


class RecordingHandler(logging.Handler):
    """Keeps every record it sees (the lectern logger does not propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def access_lines(self) -> list[dict[str, Any]]:
        """The parsed JSON lines of the access log."""
        return [json.loads(r.getMessage()) for r in self.records if r.name == "lectern.access"]

    def text(self) -> str:
        """Every record as an operator would read it, tracebacks included."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@contextmanager
def recording(logger_name: str = "lectern") -> Iterator[RecordingHandler]:
    handler = RecordingHandler()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
