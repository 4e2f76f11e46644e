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
    if not access_log.isEnabledFor(logging.INFO):
        return
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


def _request_id(given: str | None) -> str:
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # The catch-all mount that loads domains has the empty path: no route matched.
    return path if isinstance(path, str) and path else "<unmatched>"


# Pre-encoded: this runs on every response.
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_API_CSP = (b"content-security-policy", API_CSP.encode())
_NO_FRAMES = (b"x-frame-options", b"DENY")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def add_security_headers(raw: list[tuple[bytes, bytes]], https: bool) -> None:
    """Add the baseline headers a route did not set itself (a page may bring its own CSP)."""
    present = {name.lower() for name, _ in raw}
    raw.extend(header for header in _SECURITY_HEADERS if header[0] not in present)
    if b"content-security-policy" not in present:
        raw.append(_API_CSP)
        if b"x-frame-options" not in present:
            raw.append(_NO_FRAMES)
    if https and b"strict-transport-security" not in present:
        raw.append(_HSTS)


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
        given_id = declared = forwarded_proto = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given_id = value.decode("latin-1")
            elif name == b"content-length":
                declared = value.decode("latin-1")
            elif name == b"x-forwarded-proto":
                forwarded_proto = value.decode("latin-1").lower()
        request_id = _request_id(given_id)
        scope.setdefault("state", {})["request_id"] = request_id
        https = scope.get("scheme") == "https" or forwarded_proto == "https"
        request_id_header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                raw = message.setdefault("headers", [])
                if not isinstance(raw, list):
                    raw = message["headers"] = list(raw)
                raw.append(request_id_header)
                add_security_headers(raw, https)
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
