"""Serving the emulator with uvicorn on loopback: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.applications import Starlette

from lectern.deploy.emulator.app import create_emulator_app
from lectern.deploy.emulator.state import EmulatorState

STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RunningEmulator:
    """A served emulator: its base URL (give it to a client or to `vercel --api`) and its state."""

    app: Starlette
    host: str
    port: int

    @property
    def state(self) -> EmulatorState:
        """The state the server answers from right now."""
        state: EmulatorState = self.app.state.emulator
        return state

    def use_state(self, state: EmulatorState) -> EmulatorState:
        """Answer from `state` from now on (cheaper than a new server per test); returns it."""
        self.app.state.emulator = state
        return state

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321`."""
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        """A bearer token the emulator accepts."""
        return next(iter(self.state.tokens))


def _require_loopback(host: str) -> None:
    # The control API has no auth, so the emulator must never be reachable from another machine.
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"the Vercel emulator only listens on loopback, not on {host!r}")


def _bound_socket(host: str, port: int) -> socket.socket:
    _require_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only then, and without it every keep-alive
    # response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextmanager
def serve_emulator(
    state: EmulatorState | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningEmulator]:
    """Serve the emulator in a background thread (on a free port by default) while the block runs."""
    import uvicorn

    app = create_emulator_app(state)
    sock = _bound_socket(host, port)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="vercel-emulator", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Vercel emulator did not start")
            time.sleep(0.01)
        yield RunningEmulator(app=app, host=host, port=sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        sock.close()


def seeded_state(project_names: tuple[str, ...] = ("lectern",)) -> EmulatorState:
    """A fresh state with the default user, team and token, and a project `prj_<name>` per name."""
    state = EmulatorState()
    for name in project_names:
        state.add_project(name, project_id=f"prj_{name}")
    return state


def run_emulator(host: str = "127.0.0.1", port: int = 3939, state: EmulatorState | None = None) -> None:
    """Serve the emulator in the foreground until interrupted (for `lectern dev vercel-emulator`)."""
    import uvicorn

    sock = _bound_socket(host, port)
    config = uvicorn.Config(create_emulator_app(state or seeded_state()), log_level="info", lifespan="off", ws="none")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
