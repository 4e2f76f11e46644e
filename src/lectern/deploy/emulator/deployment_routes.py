"""Files upload, create/get/list/cancel deployments, their builds and aliases."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lectern.deploy.emulator.deployments import create_deployment
from lectern.deploy.emulator.errors import bad_request
from lectern.deploy.emulator.models import Alias, Deployment
from lectern.deploy.emulator.request_context import (
    caller,
    emulator_state,
    json_object,
    owners_for_lookup,
)
from lectern.deploy.emulator.views import deployment_json, deployment_list_item

_MAX_PAGE = 100


async def upload_file(request: Request) -> JSONResponse:
    """`POST /v2/files`: raw bytes whose sha1 must equal `x-vercel-digest` (or `x-now-digest`)."""
    state = emulator_state(request)
    digest = request.headers.get("x-vercel-digest") or request.headers.get("x-now-digest")
    if not digest:
        raise bad_request("Missing `x-vercel-digest` header with the file's SHA1.", code="missing_digest")
    content = await request.body()
    for header in ("content-length", "x-now-size"):
        declared = request.headers.get(header)
        if declared is not None and declared != str(len(content)):
            raise bad_request(f"`{header}` is {declared} but the body has {len(content)} bytes.")
    actual = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    if actual != digest.strip().lower():
        raise bad_request(f"The body's SHA1 is {actual}, not the `x-vercel-digest` {digest}.", code="invalid_digest")
    with state.lock:
        state.files[actual] = content
    return JSONResponse({})


async def create(request: Request) -> JSONResponse:
    """`POST /v13/deployments`: 400 `missing_files` lists the shas still to upload."""
    state = emulator_state(request)
    body = await json_object(request)
    who = caller(request)
    with state.lock:
        deployment = create_deployment(state, who.user, who.owner_id, body)
        return JSONResponse(deployment_json(state, deployment))


def find_deployment(request: Request) -> Deployment:
    """Return the deployment named by the `idOrUrl` path parameter (guard with the state lock)."""
    return emulator_state(request).deployment(str(request.path_params["idOrUrl"]), owners_for_lookup(request))


async def get_deployment(request: Request) -> JSONResponse:
    """`GET /v13/deployments/{idOrUrl}`."""
    state = emulator_state(request)
    with state.lock:
        return JSONResponse(deployment_json(state, find_deployment(request)))


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid request: `{name}` should be a number.") from None


def _filtered(request: Request, deployments: list[Deployment]) -> list[Deployment]:
    query = request.query_params
    project_ids = set(query.getlist("projectIds")) | {p for p in [query.get("projectId")] if p}
    if project_ids:
        deployments = [d for d in deployments if d.project_id in project_ids or d.name in project_ids]
    if app := query.get("app"):
        deployments = [d for d in deployments if d.name == app]
    if target := query.get("target"):
        deployments = [d for d in deployments if (d.target or "preview") == target]
    if states := query.get("state"):
        wanted = {s.strip().upper() for s in states.split(",")}
        deployments = [d for d in deployments if d.ready_state in wanted]
    if (created_from := _int_param(request, "from")) is not None:
        deployments = [d for d in deployments if d.created_at >= created_from]
    if (created_to := _int_param(request, "to")) is not None:
        deployments = [d for d in deployments if d.created_at <= created_to]
    return deployments


async def list_deployments(request: Request) -> JSONResponse:
    """`GET /v6/deployments`: newest first; `until` pages back, `since` forward (ms timestamps)."""
    state = emulator_state(request)
    limit = _int_param(request, "limit") or 20
    if not 1 <= limit <= _MAX_PAGE:
        raise bad_request(f"Invalid request: `limit` should be between 1 and {_MAX_PAGE}.")
    until, since = _int_param(request, "until"), _int_param(request, "since")
    with state.lock:
        owner = caller(request).owner_id
        matching = _filtered(request, [d for d in state.deployments.values() if d.owner_id == owner])
        matching.sort(key=lambda d: d.created_at, reverse=True)
        window = [
            d for d in matching if (until is None or d.created_at < until) and (since is None or d.created_at > since)
        ]
        # With only `since`, the page is the one just newer than `since`, still listed newest first.
        page = window[-limit:] if since is not None and until is None else window[:limit]
        items = [deployment_list_item(state, d) for d in page]
    newest, oldest = (page[0].created_at, page[-1].created_at) if page else (None, None)
    pagination = {
        "count": len(items),
        "next": oldest if oldest is not None and matching[-1].created_at < oldest else None,
        "prev": newest if newest is not None and matching[0].created_at > newest else None,
    }
    return JSONResponse({"pagination": pagination, "deployments": items})


async def cancel(request: Request) -> JSONResponse:
    """`PATCH /v12/deployments/{idOrUrl}/cancel`: stop a queued or building deployment."""
    state = emulator_state(request)
    with state.lock:
        deployment = find_deployment(request)
        if deployment.is_final:
            raise bad_request(f"The deployment is already {deployment.ready_state}.")
        now = state.now_ms()
        deployment.ready_state = "CANCELED"
        deployment.events = [event for event in deployment.events if event.created <= now]
        return JSONResponse(deployment_json(state, deployment))


async def list_builds(request: Request) -> JSONResponse:
    """`GET /v11/deployments/{id}/builds`, which `vercel inspect` reads: one Python build."""
    state = emulator_state(request)
    with state.lock:
        d = find_deployment(request)
        entrypoint = next((f.path for f in d.files if f.path.endswith(".py")), ".")
        build = {
            "id": d.build_id,
            "deploymentId": d.id,
            "entrypoint": entrypoint,
            "use": "@vercel/python",
            "readyState": d.ready_state,
            "createdAt": d.building_at,
            "readyStateAt": d.finishes_at if d.is_final else None,
            "output": [],
        }
    return JSONResponse({"builds": [build]})


def _alias_uid(alias: str) -> str:
    return "alias_" + hashlib.sha1(alias.encode(), usedforsecurity=False).hexdigest()[:20]


async def list_aliases(request: Request) -> JSONResponse:
    """`GET /v2/deployments/{id}/aliases`."""
    state = emulator_state(request)
    with state.lock:
        deployment = find_deployment(request)
        assigned = {a.alias: a for a in state.custom_aliases.values()}
        aliases: list[dict[str, Any]] = [
            {
                "uid": assigned[name].uid if name in assigned else _alias_uid(name),
                "alias": name,
                "created": assigned[name].created if name in assigned else deployment.alias_assigned_at,
                "redirect": None,
                "protectionBypass": {},
            }
            for name in state.aliases(deployment)
        ]
    return JSONResponse({"aliases": aliases})


async def assign_alias(request: Request) -> JSONResponse:
    """`POST /v2/deployments/{id}/aliases` with `{"alias": host}`: moves the host to this deployment."""
    state = emulator_state(request)
    body = await json_object(request)
    name = body.get("alias")
    if not isinstance(name, str) or not name or "/" in name:
        raise bad_request("Invalid request: `alias` should be a hostname.")
    with state.lock:
        deployment = find_deployment(request)
        previous = state.custom_aliases.get(name)
        alias = Alias(_alias_uid(name), name, deployment.id, state.now_ms())
        state.custom_aliases[name] = alias
    return JSONResponse(
        {
            "uid": alias.uid,
            "alias": alias.alias,
            "created": alias.created,
            "oldDeploymentId": previous.deployment_id if previous else None,
        }
    )


routes = [
    Route("/v2/files", upload_file, methods=["POST"]),
    Route("/v13/deployments", create, methods=["POST"]),
    Route("/v13/deployments/{idOrUrl}", get_deployment, methods=["GET"]),
    Route("/v6/deployments", list_deployments, methods=["GET"]),
    Route("/v7/deployments", list_deployments, methods=["GET"]),
    Route("/v12/deployments/{idOrUrl}/cancel", cancel, methods=["PATCH"]),
    Route("/v11/deployments/{idOrUrl}/builds", list_builds, methods=["GET"]),
    Route("/v2/deployments/{idOrUrl}/aliases", list_aliases, methods=["GET"]),
    Route("/v2/deployments/{idOrUrl}/aliases", assign_alias, methods=["POST"]),
]
