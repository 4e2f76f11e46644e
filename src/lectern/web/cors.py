"""CORS from an exact allow-list: credentials only for listed origins, never `*` with credentials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lectern.errors import ConfigError
from lectern.settings import Settings
from lectern.web.problems import PROBLEM_JSON, problem_body

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type, if-match, if-none-match, x-request-id, accept, last-event-id"
EXPOSED_HEADERS = "etag, x-request-id, retry-after, location"
# Chromium caps preflight caching at 7200 s; an hour keeps config changes visible soon enough.
MAX_AGE = "3600"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    try:
        port_number = parts.port
    except ValueError:
        port_number = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port_number == -1:
        raise ConfigError(f"{url!r} is not an origin (expected scheme://host[:port])")
    # Browsers leave the default port out of Origin, so `https://host:443` must match `https://host`.
    port = f":{port_number}" if port_number and port_number != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


@dataclass(frozen=True)
class CORSPolicy:
    origins: frozenset[str]
    allow_any: bool
    credentials: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> CORSPolicy:
        """Parse FRONTEND_ORIGINS and GITHUB_PAGES_URL; refuse `*` together with credentials."""
        entries = [e.strip() for e in settings.frontend_origins.split(",") if e.strip()]
        allow_any = "*" in entries
        if allow_any and settings.cors_allow_credentials:
            raise ConfigError(
                "FRONTEND_ORIGINS contains * while CORS_ALLOW_CREDENTIALS is true: browsers refuse that and "
                "it would let any site act for a signed-in reader. List the exact origins, or set "
                "CORS_ALLOW_CREDENTIALS=false."
            )
        origins = {_origin_of(e) for e in entries if e != "*"}
        if settings.github_pages_url:
            origins.add(_origin_of(settings.github_pages_url))
        return cls(frozenset(origins), allow_any, settings.cors_allow_credentials)

    def allows(self, origin: str) -> bool:
        if origin == "null":
            return False
        return self.allow_any or origin.lower() in self.origins


class CORSMiddleware:
    def __init__(self, app: ASGIApp, policy: CORSPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = preflight = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                preflight = True
        if origin is not None and preflight and scope["method"] == "OPTIONS":
            await self._preflight(scope, origin, send)
            return
        allowed = origin is not None and self.policy.allows(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                # Every answer may differ by Origin, whether or not this request sent one.
                out.add_vary_header("Origin")
                if allowed:
                    self._allow(out, origin or "")
                    out["access-control-expose-headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allow(self, out: MutableHeaders, origin: str) -> None:
        if self.policy.allow_any and not self.policy.credentials:
            out["access-control-allow-origin"] = "*"
            return
        out["access-control-allow-origin"] = origin
        if self.policy.credentials:
            out["access-control-allow-credentials"] = "true"

    async def _preflight(self, scope: Scope, origin: str, send: Send) -> None:
        out = MutableHeaders()
        out["vary"] = "Origin"
        if self.policy.allows(origin):
            status, body = 204, b""
            self._allow(out, origin)
            out["access-control-allow-methods"] = ALLOWED_METHODS
            out["access-control-allow-headers"] = ALLOWED_HEADERS
            out["access-control-max-age"] = MAX_AGE
        else:
            status = 403
            request_id = scope.get("state", {}).get("request_id")
            detail = f"The origin {origin} is not allowed. Add it to FRONTEND_ORIGINS."
            body = json.dumps(
                problem_body(request_id, 403, "cors_origin_refused", "Origin not allowed", detail)
            ).encode()
            out["content-type"] = PROBLEM_JSON
        out["content-length"] = str(len(body))
        await send({"type": "http.response.start", "status": status, "headers": out.raw})
        await send({"type": "http.response.body", "body": body})
