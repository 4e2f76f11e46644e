"""The private `/_emulator/…` control API: tests script faults, timings and hosts over HTTP.

Not Vercel's, and without auth: safe only because the emulator listens on loopback alone.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lectern.deploy.emulator.errors import bad_request
from lectern.deploy.emulator.faults import ScriptedResponse
from lectern.deploy.emulator.request_context import emulator_state, json_object
from lectern.deploy.emulator.state import EmulatorState

PREFIX = "/_emulator"


def _optional(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise bad_request(f"`{name}` should be a {kind.__name__}.")
    return value


def _seconds(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise bad_request(f"`{name}` should be a number of seconds, zero or more.")
    return float(value)


def snapshot(state: EmulatorState) -> dict[str, Any]:
    """Describe the whole state, env values included (test data only)."""
    with state.lock:
        projects = [
            {
                "id": p.id,
                "name": p.name,
                "ownerId": p.owner_id,
                "domains": list(p.domains),
                "productionDeploymentId": p.production_deployment_id,
                "env": [
                    {"id": e.id, "key": e.key, "value": e.value, "type": e.type, "target": list(e.target)}
                    | ({"gitBranch": e.git_branch} if e.git_branch else {})
                    for e in p.env
                ],
            }
            for p in state.projects.values()
        ]
        deployments = [
            {"id": d.id, "projectId": d.project_id, "url": d.url, "target": d.target, "readyState": d.ready_state}
            for d in state.deployments.values()
        ]
        return {
            "user": {"id": state.user.id, "username": state.user.username},
            "team": {"id": state.team.id, "slug": state.team.slug},
            "projects": projects,
            "deployments": deployments,
            "files": sorted(state.files),
            "deploymentHost": state.deployment_host,
            "timings": vars(state.timings),
        }


async def get_state(request: Request) -> JSONResponse:
    """`GET /_emulator/state`."""
    return JSONResponse(snapshot(emulator_state(request)))


async def get_requests(request: Request) -> JSONResponse:
    """`GET /_emulator/requests`: the API requests seen, oldest first."""
    seen = emulator_state(request).requests
    return JSONResponse(
        {"requests": [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in seen]}
    )


async def clear_requests(request: Request) -> Response:
    """`DELETE /_emulator/requests`."""
    emulator_state(request).clear_requests()
    return Response(status_code=204)


async def add_scripted_response(request: Request) -> Response:
    """`POST /_emulator/faults/responses` `{path, status, count?, method?, retryAfter?, code?, message?}`."""
    body = await json_object(request)
    path, status = body.get("path"), body.get("status")
    if not isinstance(path, str) or not isinstance(status, int) or not 400 <= status <= 599:
        raise bad_request("A scripted response needs a `path` glob and an error `status` (400-599).")
    count = _optional(body, "count", int) or 1
    if count < 1:
        raise bad_request("`count` should be at least 1.")
    emulator_state(request).faults.add_response(
        ScriptedResponse(
            path=path,
            status=status,
            count=count,
            method=_optional(body, "method", str),
            retry_after=_optional(body, "retryAfter", int),
            code=_optional(body, "code", str),
            message=_optional(body, "message", str),
        )
    )
    return Response(status_code=204)


async def add_scripted_build(request: Request) -> Response:
    """`POST /_emulator/faults/builds` `{outcome?, logLines?, errorCode?, errorMessage?}`: next build fails
    (outcome `ERROR`, the default) or is canceled (`CANCELED`)."""
    body = await json_object(request)
    lines = body.get("logLines") or []
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise bad_request("`logLines` should be a list of strings.")
    outcome = body.get("outcome", "ERROR")
    if outcome not in ("ERROR", "CANCELED"):
        raise bad_request("`outcome` should be ERROR or CANCELED.")
    if outcome == "CANCELED":
        emulator_state(request).faults.cancel_next_build(lines)
        return Response(status_code=204)
    options = {
        name: value
        for name, key in (("error_code", "errorCode"), ("error_message", "errorMessage"))
        if (value := _optional(body, key, str)) is not None
    }
    emulator_state(request).faults.fail_next_build(lines, **options)
    return Response(status_code=204)


async def get_faults(request: Request) -> JSONResponse:
    """`GET /_emulator/faults`: what is still queued."""
    return JSONResponse(emulator_state(request).faults.pending())


async def clear_faults(request: Request) -> Response:
    """`DELETE /_emulator/faults`."""
    emulator_state(request).faults.clear()
    return Response(status_code=204)


async def set_timings(request: Request) -> JSONResponse:
    """`PUT /_emulator/timings` `{queuedSeconds?, buildingSeconds?, aliasSeconds?}` for new deployments."""
    body = await json_object(request)
    state = emulator_state(request)
    with state.lock:
        for name, key in (
            ("queued_seconds", "queuedSeconds"),
            ("building_seconds", "buildingSeconds"),
            ("alias_seconds", "aliasSeconds"),
        ):
            value = _seconds(body, key)
            if value is not None:
                setattr(state.timings, name, value)
        return JSONResponse(vars(state.timings))


async def set_deployment_host(request: Request) -> Response:
    """`PUT /_emulator/deployment-host` `{host, projectId?, deploymentId?}`: where deployment URLs point."""
    body = await json_object(request)
    state = emulator_state(request)
    host = _optional(body, "host", str)
    project_id = _optional(body, "projectId", str)
    deployment_id = _optional(body, "deploymentId", str)
    with state.lock:
        if deployment_id is not None and (host is None or deployment_id not in state.deployments):
            raise bad_request("Pointing one deployment needs a `host` and a known `deploymentId`.")
        project = state.projects.get(project_id) if project_id else None
        if project_id and project is None:
            raise bad_request(f"Unknown project {project_id}.")
        state.set_deployment_host(host, project=project, deployment_id=deployment_id)
    return Response(status_code=204)


async def add_project(request: Request) -> JSONResponse:
    """`POST /_emulator/projects` `{name, id?, ownerId?}`: seed a project."""
    body = await json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("A project needs a `name`.")
    state = emulator_state(request)
    project = state.add_project(name, owner_id=_optional(body, "ownerId", str), project_id=_optional(body, "id", str))
    return JSONResponse({"id": project.id, "name": project.name, "ownerId": project.owner_id}, status_code=201)


async def set_rate_limit(request: Request) -> JSONResponse:
    """`PUT /_emulator/rate-limit` `{limit}`: requests per token per minute; resets the windows."""
    body = await json_object(request)
    limit = _optional(body, "limit", int)
    if limit is None or limit < 1:
        raise bad_request("`limit` should be a positive integer.")
    limiter = emulator_state(request).rate_limiter
    limiter.limit = limit
    limiter.reset()
    return JSONResponse({"limit": limit, "windowSeconds": limiter.window_seconds})


routes = [
    Route(f"{PREFIX}/state", get_state, methods=["GET"]),
    Route(f"{PREFIX}/requests", get_requests, methods=["GET"]),
    Route(f"{PREFIX}/requests", clear_requests, methods=["DELETE"]),
    Route(f"{PREFIX}/faults", get_faults, methods=["GET"]),
    Route(f"{PREFIX}/faults", clear_faults, methods=["DELETE"]),
    Route(f"{PREFIX}/faults/responses", add_scripted_response, methods=["POST"]),
    Route(f"{PREFIX}/faults/builds", add_scripted_build, methods=["POST"]),
    Route(f"{PREFIX}/timings", set_timings, methods=["PUT"]),
    Route(f"{PREFIX}/deployment-host", set_deployment_host, methods=["PUT"]),
    Route(f"{PREFIX}/projects", add_project, methods=["POST"]),
    Route(f"{PREFIX}/rate-limit", set_rate_limit, methods=["PUT"]),
]
