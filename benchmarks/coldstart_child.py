"""Run in a fresh process: import an app, send it one request over raw ASGI, print the status."""

from __future__ import annotations

import asyncio
import importlib
import sys


async def _one_request(app: object, path: str, token: str) -> int:
    headers = [(b"host", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    await app(scope, receive, send)  # type: ignore[operator]
    return status


def main() -> None:
    spec, path, token = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    module_name, _, attr = spec.partition(":")
    app = getattr(importlib.import_module(module_name), attr)
    status = asyncio.run(_one_request(app, path, token))
    print(status, flush=True)


if __name__ == "__main__":
    main()
