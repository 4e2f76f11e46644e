"""The ASGI application: `create_app()` wires settings, middleware, errors and routers; `app` is for Vercel."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lectern import __version__
from lectern.contract import failures_message, load_contract
from lectern.db.session import Database
from lectern.errors import ConfigError
from lectern.settings import Settings, get_settings
from lectern.web.cors import CORSMiddleware, CORSPolicy
from lectern.web.docs_page import install_docs
from lectern.web.edge import EdgeMiddleware, RequestSink, log_request
from lectern.web.problems import install_problem_handlers


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
    """Build the app. Nothing connects here: the engine is built on the first request that needs it."""
    settings = settings or get_settings()
    _check_production_env(settings)
    cors = CORSPolicy.from_settings(settings)
    _configure_logging(settings.log_level)
    db = database or Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await db.dispose()

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
    sinks: list[RequestSink] = [log_request]
    app.state.request_sinks = sinks

    install_problem_handlers(app)
    install_docs(app)

    from lectern.auth.routes import router as auth_router
    from lectern.health.routes import router as health_router
    from lectern.profiles.routes import router as profiles_router

    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(profiles_router)

    # Added last = outermost: the edge sees every response, CORS preflights included.
    app.add_middleware(CORSMiddleware, policy=cors)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes, sinks=sinks)
    return app
