"""The ASGI application: `create_app()` wires settings, middleware, errors and the domains' routes."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from lectern import __version__
from lectern.contract import failures_message, load_contract
from lectern.db.session import Database
from lectern.errors import ConfigError
from lectern.metrics.recorder import MetricsRecorder
from lectern.settings import Settings, get_settings
from lectern.web.cors import CORSMiddleware, CORSPolicy
from lectern.web.docs_page import install_docs
from lectern.web.edge import EdgeMiddleware, RequestSink, log_request
from lectern.web.lazy import Domain, LazyDomains, load_router
from lectern.web.problems import install_problem_handlers

LIVENESS = "lectern.health.liveness:router"

# Which routers serve which paths; each group loads on its first request (see web/lazy.py).
DOMAINS = (
    Domain(("/api/health/ready", "/api/health/env"), ("lectern.health.routes:router",)),
    Domain(("/api/auth",), ("lectern.auth.routes:router",)),
    Domain(("/api/profile", "/api/preferences"), ("lectern.profiles.routes:router",)),
    Domain(("/api/search",), ("lectern.search.routes:router",)),
    Domain(("/api/book",), ("lectern.book.routes:router",)),
    Domain(("/widget",), ("lectern.widget.routes:router",)),
    Domain(("/api/chat",), ("lectern.chat.routes:router",)),
    Domain(("/api/generate",), ("lectern.generate.routes:router",)),
    Domain(("/api/metrics",), ("lectern.metrics.routes:router",)),
)


def _check_production_env(settings: Settings) -> None:
    """In production a missing or invalid required variable stops the app, naming it (never its value)."""
    if not settings.production:
        return
    checks = load_contract(os.environ).validate(os.environ, production=True)
    if any(not c.ok for c in checks if c.required):
        raise ConfigError("Lectern cannot start: these variables break the env contract\n" + failures_message(checks))


def _configure_logging(level: str) -> None:
    logger = logging.getLogger("lectern")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app. Nothing connects and no domain is imported here: both wait for a request."""
    settings = settings or get_settings()
    _check_production_env(settings)
    cors = CORSPolicy.from_settings(settings)
    _configure_logging(settings.log_level)
    db = database or Database(settings)
    # Stdlib only at import; the flush imports SQLAlchemy when it first runs.
    metrics = MetricsRecorder(
        db, flush_seconds=settings.metrics_flush_seconds, retention_days=settings.metrics_retention_days
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await metrics.close()
        await db.dispose()
        from lectern.llm.client import close_clients

        await close_clients()

    app = FastAPI(
        title="Lectern",
        version=__version__,
        summary="The backend for AI-native textbooks.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = db
    install_problem_handlers(app)
    install_docs(app)
    app.include_router(load_router(LIVENESS))
    if settings.lectern_demo:
        # Only when asked: "/" would claim every path as a lazy domain, so the demo's routes go in directly.
        from lectern.widget.demo import install_demo

        install_demo(app)

    domains = LazyDomains(app, DOMAINS)
    domains.install()
    app.state.domains = domains
    openapi = app.openapi

    def openapi_with_every_domain() -> dict[str, Any]:
        domains.load_all()
        return openapi()

    app.openapi = openapi_with_every_domain  # type: ignore[method-assign]

    sinks: list[RequestSink] = [log_request, metrics.record]
    app.state.request_sinks = sinks
    app.state.metrics = metrics
    # Added last = outermost: the edge sees every response, CORS preflights included.
    app.add_middleware(CORSMiddleware, policy=cors)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes, sinks=sinks)
    return app
