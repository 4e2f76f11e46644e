"""A local OpenAI-compatible server over real HTTP, for tests and benchmarks that drive the official SDK.

    with OpenAIStandIn() as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key)
        server.rate_limit(count=2, retry_after=0.1)     # script failures
        server.respond_with(lambda messages: "...")     # or a reply of your own
        server.requests                                 # everything it received

uvicorn serves it from a background thread on a free loopback port; see docs/llm.md.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

from tests.standins.openai_app import OpenAIStandInApp, StreamBroken
from tests.standins.openai_script import DEFAULT_EMBEDDING_DIMENSIONS, StandInScript

DEFAULT_API_KEY = "sk-standin-0123456789abcdef"
DEFAULT_MODELS = ("gpt-4o-mini", "text-embedding-3-small")
STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class _HideScriptedBreaks(logging.Filter):
    """uvicorn logs an error when a stream breaks; a scripted break is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], StreamBroken))


class OpenAIStandIn(StandInScript):
    """The stand-in server; scripting, replies and recorded requests come from `StandInScript`."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        models: tuple[str, ...] = DEFAULT_MODELS,
        embedding_dimensions: int = DEFAULT_EMBEDDING_DIMENSIONS,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(api_key=api_key, models=models, embedding_dimensions=embedding_dimensions)
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the OpenAI stand-in listens on loopback only")
        self.host = host
        self.port = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._log_filter = _HideScriptedBreaks()

    @property
    def url(self) -> str:
        """The server's root, e.g. http://127.0.0.1:54321."""
        if not self.port:
            raise RuntimeError("the OpenAI stand-in is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as base_url: the root plus /v1."""
        return f"{self.url}/v1"

    def start(self) -> Self:
        """Serve in a background thread; returns once the server accepts connections."""
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("the OpenAI stand-in is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP makes asyncio set TCP_NODELAY; without it small answers wait on Nagle's algorithm.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        config = uvicorn.Config(
            OpenAIStandInApp(self),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="openai-standin", daemon=True)
        logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the OpenAI stand-in did not start")
            time.sleep(0.005)
        self.port = sock.getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
        logging.getLogger("uvicorn.error").removeFilter(self._log_filter)
        self._server = self._thread = self._socket = None
        self.port = 0

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
