"""OpenAPI declarations for problem+json error responses, so clients and schemathesis know them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """RFC 9457 problem details, with Lectern's stable `code` and the request id."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


_DESCRIPTIONS = {
    400: "Malformed request (a body that is not JSON)",
    401: "Missing or invalid credentials",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "The If-Match ETag is stale",
    413: "Body too large",
    422: "Invalid input",
    429: "Rate limited (see Retry-After)",
    503: "Unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries declaring problem+json bodies for the given statuses.

    Declaring 413 says the route takes a body; such a route also answers 400 to a body that is not JSON.
    """
    if 413 in statuses and 400 not in statuses:
        statuses = (400, *statuses)
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(code, "Error"),
            # The schema under the media type we really send, so clients and schemathesis check the body.
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in statuses
    }
