"""Projects: get one, custom environments, promote, instant rollback and their alias status."""

from __future__ import annotations

from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lectern.deploy.emulator.deployments import request_alias_change
from lectern.deploy.emulator.request_context import emulator_state, query_flag, scoped_project
from lectern.deploy.emulator.views import project_json

_ALIAS_STATUS = {"succeeded": "completed", "failed": "failed", "skipped": "completed"}


async def get_project(request: Request) -> JSONResponse:
    """`GET /v9/projects/{idOrName}` (the lastAliasRequest the CLI polls is always included)."""
    state = emulator_state(request)
    with state.lock:
        return JSONResponse(project_json(state, scoped_project(request)))


async def list_custom_environments(request: Request) -> JSONResponse:
    """`GET /projects/{idOrName}/custom-environments`: the emulator has none."""
    scoped_project(request)
    return JSONResponse({"environments": []})


async def _alias_change(request: Request, kind: Literal["promote", "rollback"]) -> Response:
    state = emulator_state(request)
    with state.lock:
        project = scoped_project(request)
        request_alias_change(state, project, str(request.path_params["deploymentId"]), kind)
    # Vercel answers 201 with no body: the change is accepted and finishes asynchronously.
    return Response(status_code=201)


async def promote(request: Request) -> Response:
    """`POST /v10/projects/{idOrName}/promote/{deploymentId}`."""
    return await _alias_change(request, "promote")


async def rollback(request: Request) -> Response:
    """`POST /v9|v1/projects/{idOrName}/rollback/{deploymentId}`."""
    return await _alias_change(request, "rollback")


async def alias_status(request: Request) -> JSONResponse:
    """`GET …/promote/aliases` and `…/rollback/aliases`: each production domain of the last job."""
    state = emulator_state(request)
    with state.lock:
        project = scoped_project(request)
        job = project.last_alias_request
        aliases: list[dict[str, Any]] = []
        if job is not None:
            status = _ALIAS_STATUS.get(job.job_status, "pending")
            aliases = [
                {"status": status, "alias": {"alias": domain, "deploymentId": job.to_deployment_id}}
                for domain in project.domains
            ]
    if query_flag(request, "failedOnly"):
        aliases = [alias for alias in aliases if alias["status"] == "failed"]
    return JSONResponse({"aliases": aliases, "pagination": {"count": len(aliases), "next": None, "prev": None}})


routes = [
    Route("/v9/projects/{idOrName}", get_project, methods=["GET"]),
    Route("/projects/{idOrName}/custom-environments", list_custom_environments, methods=["GET"]),
    Route("/v9/projects/{idOrName}/custom-environments", list_custom_environments, methods=["GET"]),
    Route("/v10/projects/{idOrName}/promote/{deploymentId}", promote, methods=["POST"]),
    Route("/v9/projects/{idOrName}/rollback/{deploymentId}", rollback, methods=["POST"]),
    Route("/v1/projects/{idOrName}/rollback/{deploymentId}", rollback, methods=["POST"]),
    Route("/v1/projects/{idOrName}/promote/aliases", alias_status, methods=["GET"]),
    Route("/v9/projects/{idOrName}/promote/aliases", alias_status, methods=["GET"]),
    Route("/v9/projects/{idOrName}/rollback/aliases", alias_status, methods=["GET"]),
]
