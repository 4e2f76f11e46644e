"""Health checks of a deployment over HTTP: `GET /api/health` (the function runs) and `/api/health/ready`
(its database answers at the code's migration). Loopback hosts (tests, emulators) over http, all others https.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from lectern import __version__

LIVENESS = "/api/health"
READINESS = "/api/health/ready"
# Vercel's "Protection Bypass for Automation": the header that lets a script past Deployment Protection.
BYPASS_HEADER = "x-vercel-protection-bypass"


@dataclass(frozen=True)
class SmokePolicy:
    """How hard to try: a fresh deployment may need a moment before its first answer."""

    attempts: int = 3
    delay: float = 2.0
    timeout: float = 15.0
    sleep: Callable[[float], None] = time.sleep


DEFAULT_POLICY = SmokePolicy()


@dataclass(frozen=True)
class EndpointResult:
    """One endpoint's answer: its status code (None without an answer) and why it passed or failed."""

    path: str
    ok: bool
    status: int | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class HealthReport:
    """Both endpoints of one deployment or domain."""

    url: str
    endpoints: tuple[EndpointResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.endpoints) and all(e.ok for e in self.endpoints)

    @property
    def problem(self) -> str:
        """The first failure in words, e.g. `/api/health/ready answered 503 (database: …)`."""
        failed = [e for e in self.endpoints if not e.ok]
        return f"{failed[0].path} {failed[0].detail}" if failed else ""

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "ok": self.ok, "endpoints": [e.as_json() for e in self.endpoints]}


def is_loopback(hostname: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if not hostname:
        return False
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return hostname == "localhost"


def base_url(host: str) -> str:
    """`https://host` for a deployment or domain hostname; `http://` only for a loopback host."""
    bare = host.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    scheme = "http" if is_loopback(urlsplit("//" + bare).hostname) else "https"
    return f"{scheme}://{bare}"


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _failing_check(body: dict[str, Any]) -> str:
    checks = body.get("checks")
    if not isinstance(checks, dict):
        return ""
    for name, entries in checks.items():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("status") == "fail":
                return f"{name}: {entry.get('output') or 'fail'}"
    return ""


def _judge(path: str, response: httpx.Response, bypass: bool) -> EndpointResult:
    status = response.status_code
    body = _body(response)
    if status in (401, 403) or (300 <= status < 400 and "vercel.com" in response.headers.get("location", "")):
        hint = "check VERCEL_AUTOMATION_BYPASS_SECRET" if bypass else "set VERCEL_AUTOMATION_BYPASS_SECRET"
        return EndpointResult(path, False, status, f"answered {status}: Deployment Protection is on? {hint}")
    if path == LIVENESS:
        ok = status == 200 and body.get("status") == "healthy"
    else:
        ok = status == 200 and body.get("status") in ("pass", "warn")
    reason = _failing_check(body) or (f"status {body['status']!r}" if "status" in body else "")
    detail = f"answered {status}" + (f" ({reason})" if reason and not ok else "")
    return EndpointResult(path, ok, status, detail)


def _probe(http: httpx.Client, path: str, bypass: bool) -> EndpointResult:
    try:
        response = http.get(path)
    except httpx.HTTPError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return EndpointResult(path, False, None, f"no answer ({reason})")
    return _judge(path, response, bypass)


def check_health(host: str, *, bypass_secret: str | None = None, policy: SmokePolicy | None = None) -> HealthReport:
    """GET both endpoints, trying again (a bounded number of times) while either fails."""
    policy = policy or DEFAULT_POLICY
    url = base_url(host)
    headers = {"User-Agent": f"lectern/{__version__} (smoke test)"}
    if bypass_secret:
        headers[BYPASS_HEADER] = bypass_secret
    report = HealthReport(url)
    with httpx.Client(base_url=url, headers=headers, timeout=policy.timeout, follow_redirects=False) as http:
        for attempt in range(1, max(policy.attempts, 1) + 1):
            report = HealthReport(url, tuple(_probe(http, path, bool(bypass_secret)) for path in (LIVENESS, READINESS)))
            if report.ok or attempt == policy.attempts:
                break
            policy.sleep(policy.delay)
    return report
