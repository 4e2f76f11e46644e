"""Checks every error response must pass: RFC 9457 problem+json with Lectern's stable members."""

from __future__ import annotations

from typing import Any

import psycopg
from httpx import Response

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert `response` is a problem document with this status (and code); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code, body
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    """The field names a 422 problem points at."""
    return {str(item["field"]) for item in body.get("errors", [])}


def count_rows(libpq_url: str, table: str) -> int:
    with psycopg.connect(libpq_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are ours, never input
    assert row is not None
    return int(row[0])
