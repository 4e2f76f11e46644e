"""Outermost middleware: request ids, the body limit, security headers and one record per request."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lectern.web.problems import PROBLEM_JSON, problem_body

access_log = logging.getLogger("lectern.access")
error_log = logging.getLogger("lectern.errors")

_IMPORTED_AT = time.perf_counter()
_first_request_seen = False
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

API_CSP = "default-src 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class RequestRecord:
    """What happened to one request; handed to every sink (the access log, metrics)."""

    method: str
    route: str
    status: int
    duration_s: float
    request_id: str
    cold_start: bool
    init_duration_s: float | None


RequestSink = Callable[[RequestRecord], None]


def log_request(record: RequestRecord) -> None:
    """One structured JSON line per request; never a header, a body or a query string."""
    access_log.info(
        json.dumps(
            {
                "event": "request",
                "method": record.method,
                "route": record.route,
                "status": record.status,
                "duration_ms": round(record.duration_s * 1000, 2),
                "request_id": record.request_id,
                "cold_start": record.cold_start,
            }
        )
    )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


def _request_id(headers: Headers) -> str:
    given = headers.get("x-request-id")
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # The catch-all mount that loads domains has the empty path: no route matched.
    return path if isinstance(path, str) and path else "<unmatched>"


def _add_security_headers(headers: MutableHeaders, https: bool) -> None:
    headers.setdefault("x-content-type-options", "nosniff")
    headers.setdefault("referrer-policy", "no-referrer")
    headers.setdefault("cross-origin-opener-policy", "same-origin")
    headers.setdefault("cache-control", "no-store")
    if "content-security-policy" not in headers:
        headers["content-security-policy"] = API_CSP
        headers.setdefault("x-frame-options", "DENY")
    if https:
        headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")


class EdgeMiddleware:
    """Pure ASGI, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, sinks: list[RequestSink]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.sinks = sinks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        global _first_request_seen
        cold_start = not _first_request_seen
        _first_request_seen = True
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = _request_id(headers)
        scope.setdefault("state", {})["request_id"] = request_id
        https = scope.get("scheme") == "https" or headers.get("x-forwarded-proto", "").lower() == "https"
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                out = MutableHeaders(scope=message)
                out["x-request-id"] = request_id
                _add_security_headers(out, https)
            await send(message)

        limit = self.max_body_bytes
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await self._too_large(request_id, send_with_headers)
            else:
                try:
                    await self.app(scope, receive_within_limit, send_with_headers)
                except Exception:
                    if response_started:
                        raise
                    # Starlette's last-resort 500 is sent outside this middleware, without the request id
                    # and security headers: answer here instead.
                    error_log.exception("unhandled error on %s %s", scope["method"], _route_template(scope))
                    await self._internal_error(request_id, send_with_headers)
        finally:
            record = RequestRecord(
                method=scope["method"],
                route=_route_template(scope),
                status=status,
                duration_s=time.perf_counter() - started,
                request_id=request_id,
                cold_start=cold_start,
                init_duration_s=(started - _IMPORTED_AT) if cold_start else None,
            )
            for sink in self.sinks:
                sink(record)

    async def _too_large(self, request_id: str, send: Send) -> None:
        detail = f"The request body is larger than {self.max_body_bytes} bytes."
        await _send_problem(send, problem_body(request_id, 413, "payload_too_large", "Payload too large", detail))

    async def _internal_error(self, request_id: str, send: Send) -> None:
        detail = "Something went wrong on our side; it has been logged."
        await _send_problem(send, problem_body(request_id, 500, "internal_error", "Internal error", detail))


async def _send_problem(send: Send, problem: dict[str, Any]) -> None:
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem["status"],
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
