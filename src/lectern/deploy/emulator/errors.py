"""Vercel-shaped errors: `{"error": {"code", "message", …extra}}` with the status Vercel uses."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class VercelError(Exception):
    """An API error the emulator answers with, rendered the way api.vercel.com renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """Return the JSON body."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}

    def response(self) -> JSONResponse:
        """Return the HTTP response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, *, code: str = "bad_request", **extra: Any) -> VercelError:
    """A 400 with Vercel's generic or a specific code."""
    return VercelError(400, code, message, **extra)


def not_found(message: str) -> VercelError:
    """A 404 `not_found`."""
    return VercelError(404, "not_found", message)


def missing_token() -> VercelError:
    """The 403 Vercel returns when no bearer token was sent."""
    return VercelError(403, "forbidden", "The request is missing an authentication token", missingToken=True)


def invalid_token() -> VercelError:
    """The 403 Vercel returns for a token it does not know."""
    return VercelError(403, "forbidden", "Not authorized", invalidToken=True)


def team_forbidden() -> VercelError:
    """The 403 for a `teamId`/`slug` the token's user is not a member of."""
    return VercelError(403, "forbidden", "You don't have permission to access this team")


def internal_error() -> VercelError:
    """A 500 `internal_server_error`."""
    return VercelError(500, "internal_server_error", "An unexpected internal error occurred")


def rate_limited(*, retry_after: int, total: int, reset_s: int) -> VercelError:
    """A 429 `rate_limited` with `error.limit` and `Retry-After`, as documented for the REST API."""
    return VercelError(
        429,
        "rate_limited",
        "Rate limit exceeded",
        headers={"Retry-After": str(retry_after)},
        limit={"remaining": 0, "reset": reset_s, "resetMs": reset_s * 1000, "total": total},
    )
