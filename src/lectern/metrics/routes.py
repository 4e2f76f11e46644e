"""GET /api/metrics: the Prometheus scrape endpoint, behind METRICS_TOKEN; 404 without one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lectern.errors import InvalidToken, NotFound, Unauthorized
from lectern.metrics import service
from lectern.metrics.prometheus import CONTENT_TYPE
from lectern.web.deps import DatabaseDep, SettingsDep
from lectern.web.openapi import problem_responses

router = APIRouter(tags=["operations"])

# auto_error=False: the 404-when-unconfigured check comes first, then our own 401 problem.
_metrics_token = HTTPBearer(auto_error=False, scheme_name="MetricsToken", description="The METRICS_TOKEN value.")


@router.get(
    "/api/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "Prometheus text exposition (format 0.0.4)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 404),
    },
)
async def metrics(
    settings: SettingsDep,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_metrics_token)],
) -> PlainTextResponse:
    """Request counts, latency histograms, errors and cold starts of every instance, for Prometheus to scrape."""
    if settings.metrics_token is None:
        # Not found, as a route that is not there; the detail helps the operator (the route is in the schema anyway).
        raise NotFound("Metrics are off on this deployment: set METRICS_TOKEN to serve them.")
    if credentials is None:
        raise Unauthorized("This endpoint needs the metrics token (Authorization: Bearer <METRICS_TOKEN>).")
    if not service.token_matches(credentials.credentials, settings.metrics_token.get_secret_value()):
        raise InvalidToken("The metrics token is wrong.")
    return PlainTextResponse(await service.prometheus_text(database), media_type=CONTENT_TYPE)
