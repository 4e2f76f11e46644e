"""Real servers the deploy tests point the emulator at: a Lectern app served by uvicorn on a loopback port
(healthy, or one whose readiness fails), a port nobody answers on, and a stand-in for Vercel's edge that serves a
project's production domain from whichever deployment production is on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lectern.app import create_app
from lectern.deploy import smoke
from lectern.deploy.emulator import RunningEmulator
from lectern.deploy.emulator.lifecycle import advance
from lectern.deploy.smoke import SmokePolicy
from lectern.settings import Settings
from tests.cli.serving import free_port
from tests.conftest import JWT_SECRET

STARTUP_TIMEOUT_S = 10.0
FAST_SMOKE = SmokePolicy(attempts=2, delay=0.05, timeout=5.0)


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread; yields `127.0.0.1:PORT`."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.01)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


def lectern_app(database_url: str, data_dir: Path) -> Any:
    """A real Lectern app on the test database (or, given a URL nobody answers, one that is not ready)."""
    settings = Settings(app_env="test", database_url=database_url, jwt_secret=JWT_SECRET, lectern_data_dir=data_dir)
    return create_app(settings)


class ReadinessFailsAfter:
    """Wraps an app: `/api/health/ready` answers as the app does `passes` times, then 503 (a deployment going bad)."""

    def __init__(self, app: Any, passes: int) -> None:
        self.app = app
        self.passes = passes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == smoke.READINESS:
            if self.passes <= 0:
                body = {"status": "fail", "checks": {"database:responseTime": [{"status": "fail", "output": "gone"}]}}
                await JSONResponse(body, status_code=503)(scope, receive, send)
                return
            self.passes -= 1
        await self.app(scope, receive, send)


def production_edge(emulator: RunningEmulator) -> Starlette:
    """Vercel's edge in small: a request to a project's domain goes to the deployment production serves."""

    async def forward(request: Request) -> Response:
        state = emulator.state
        host = request.headers.get("host", "")
        with state.lock:
            advance(state)
            project = next((p for p in state.projects.values() if host in p.domains), None)
            serving = state.deployments.get(project.production_deployment_id or "") if project else None
        if serving is None:
            return JSONResponse({"error": {"code": "DEPLOYMENT_NOT_FOUND"}}, status_code=404)
        async with httpx.AsyncClient(base_url=f"http://{serving.url}", timeout=10) as client:
            answer = await client.get(request.url.path)
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return Starlette(routes=[Route("/{path:path}", forward)])


@pytest.fixture(scope="module")
def healthy_host(database_url: str, libpq_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Lectern app whose liveness and readiness pass."""
    with serve_asgi(lectern_app(database_url, tmp_path_factory.mktemp("healthy"))) as host:
        yield host
    # Its shutdown flushed the metrics of the requests it served, after the last test emptied the tables:
    # a later module's `lectern monitor` would count them.
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("TRUNCATE request_metrics")


@pytest.fixture(scope="module")
def unready_host(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Lectern app pointed at a database that does not exist: liveness passes, readiness answers 503."""
    missing = database_url.replace("/lectern_test?", "/no_such_database?", 1)
    with serve_asgi(lectern_app(missing, tmp_path_factory.mktemp("unready"))) as host:
        yield host


@pytest.fixture
def dead_host() -> str:
    """A loopback port nobody listens on."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def edge(emulator: RunningEmulator) -> Iterator[str]:
    """Vercel's edge for the module's emulator (see `production_edge`)."""
    with serve_asgi(production_edge(emulator)) as host:
        yield host


@pytest.fixture
def fast_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    """Smoke tests give up after two quick tries (use it with `pytest.mark.usefixtures("fast_smoke")`)."""
    monkeypatch.setattr(smoke, "DEFAULT_POLICY", FAST_SMOKE)
