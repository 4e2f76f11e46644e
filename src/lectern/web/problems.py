"""RFC 9457 problem+json for every error: a stable code, the request id, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lectern.errors import AppError

log = logging.getLogger("lectern.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://lectern.dev/problems/"

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def problem_body(
    request_id: str | None, status: int, code: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """The problem document; `extra` adds members such as `errors`."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    body.update(extra)
    return body


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse(
        problem_body(request_id, status, code, title, detail, **extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) if parts else str(loc[0] if loc else "body")


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    extra: dict[str, Any] = {}
    field = getattr(exc, "field", None)
    if field:
        extra["errors"] = [{"field": field, "message": exc.detail, "type": exc.code}]
    return problem_response(request, exc.status_code, exc.code, exc.title, exc.detail, exc.headers, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(request, 400, "malformed_json", "Malformed JSON", "The request body is not valid JSON.")
    # Never echo the submitted values back (they may hold a password).
    listed = [
        {
            "field": _field_path(tuple(e.get("loc", ()))),
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    fields = ", ".join(dict.fromkeys(item["field"] for item in listed))
    return problem_response(
        request, 422, "validation_failed", "Invalid request", f"Check these fields: {fields}.", errors=listed
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route for {request.method} {request.url.path}."
    if exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(request, exc.status_code, code, title, detail, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        500,
        "internal_error",
        "Internal error",
        "Something went wrong on our side; it has been logged.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
