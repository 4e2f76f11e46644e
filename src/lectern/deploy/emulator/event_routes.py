"""Build events: a JSON array, or NDJSON (`format=lines`, `follow=1`) streamed until the build ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from lectern.deploy.emulator.deployment_routes import find_deployment
from lectern.deploy.emulator.errors import bad_request
from lectern.deploy.emulator.lifecycle import advance
from lectern.deploy.emulator.models import BuildEvent
from lectern.deploy.emulator.request_context import emulator_state, query_flag
from lectern.deploy.emulator.views import event_json

FOLLOW_POLL_SECONDS = 0.05
FOLLOW_MAX_SECONDS = 120.0


def _number(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid request: `{name}` should be a number.") from None


def _select(request: Request, events: list[BuildEvent], now: int) -> list[BuildEvent]:
    since, until, limit = _number(request, "since"), _number(request, "until"), _number(request, "limit")
    chosen = [
        e
        for e in events
        if e.created <= now and (since is None or e.created > since) and (until is None or e.created < until)
    ]
    if request.query_params.get("direction") == "backward":
        chosen.reverse()
    if limit is not None and limit >= 0:
        chosen = chosen[:limit]
    return chosen


async def list_events(request: Request) -> Response:
    """`GET /v3/deployments/{idOrUrl}/events` (and the CLI's `/v3/now/…` alias)."""
    state = emulator_state(request)
    flat = request.query_params.get("format") == "lines"
    with state.lock:
        deployment = find_deployment(request)
        events = [event_json(deployment, e, flat=flat) for e in _select(request, deployment.events, state.now_ms())]
    if query_flag(request, "follow"):
        return StreamingResponse(_follow(request, deployment.id, flat), media_type="application/stream+json")
    if flat or "application/stream+json" in request.headers.get("accept", ""):
        return Response("".join(json.dumps(event) + "\n" for event in events), media_type="application/stream+json")
    return JSONResponse(events)


async def _follow(request: Request, deployment_id: str, flat: bool) -> AsyncIterator[bytes]:
    state = emulator_state(request)
    sent: set[str] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FOLLOW_MAX_SECONDS
    while loop.time() < deadline:
        with state.lock:
            advance(state)
            deployment = state.deployments[deployment_id]
            fresh = [e for e in _select(request, deployment.events, state.now_ms()) if e.id not in sent]
            # Once the build has ended every event is due, so this batch is the last one.
            finished = deployment.is_final
            payload: list[dict[str, Any]] = [event_json(deployment, e, flat=flat) for e in fresh]
        sent.update(e.id for e in fresh)
        for event in payload:
            yield (json.dumps(event) + "\n").encode()
        if finished:
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)


routes = [
    Route("/v3/deployments/{idOrUrl}/events", list_events, methods=["GET"]),
    Route("/v3/now/deployments/{idOrUrl}/events", list_events, methods=["GET"]),
    Route("/v2/deployments/{idOrUrl}/events", list_events, methods=["GET"]),
]
