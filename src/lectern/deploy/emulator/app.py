"""`create_emulator_app`: the Starlette app serving the Vercel API subset over a given state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from lectern.deploy.emulator import (
    account_routes,
    control_routes,
    deployment_routes,
    env_routes,
    event_routes,
    project_routes,
)
from lectern.deploy.emulator.errors import VercelError, internal_error
from lectern.deploy.emulator.middleware import VercelApiMiddleware
from lectern.deploy.emulator.state import EmulatorState


async def _vercel_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VercelError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return VercelError(405, "method_unknown", "This method is not supported for this endpoint.").response()
    if exc.status_code == 404:
        return VercelError(404, "not_found", "The requested API endpoint was not found.").response()
    return VercelError(exc.status_code, "bad_request", exc.detail).response()


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    return internal_error().response()


def create_emulator_app(state: EmulatorState | None = None) -> Starlette:
    """Build the emulator app; pass a state to seed or inspect it, else a fresh one is made."""
    app = Starlette(
        routes=[
            *account_routes.routes,
            *project_routes.routes,
            *env_routes.routes,
            *deployment_routes.routes,
            *event_routes.routes,
            *control_routes.routes,
        ],
        middleware=[Middleware(VercelApiMiddleware)],
        exception_handlers={
            VercelError: _vercel_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.emulator = state or EmulatorState()
    return app
