"""Where the operations commands send HTTP requests: a deployment's base URL, https unless on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lectern import __version__
from lectern.deploy.smoke import base_url, is_loopback
from lectern.ops.errors import OpsError

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 10.0


def user_agent(command: str) -> str:
    return f"lectern/{__version__} ({command})"


def deployment_url(raw: str) -> str:
    """`https://host[:port]` from a URL or a bare hostname; plain http only for a loopback host (tests, local)."""
    text = raw.strip().rstrip("/")
    if "://" not in text:
        return base_url(text)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpsError(f"{raw!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise OpsError(f"refusing plain http to {parts.hostname}: use https (plain http only on loopback)")
    if parts.path not in ("", "/") or parts.query:
        raise OpsError(f"give the deployment's base URL ({parts.scheme}://{parts.netloc}), without a path")
    return f"{parts.scheme}://{parts.netloc}"


def problem_code(response: httpx.Response) -> str | None:
    """The stable `code` of a problem+json answer (Lectern's own errors), None for any other body."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["code"]) if isinstance(body, dict) and body.get("code") else None
