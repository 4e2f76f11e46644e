"""Project env var endpoints in the versions our client and the Vercel CLI call, and env pull."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lectern.deploy.emulator.env_vars import create_env_vars, delete_env_var, edit_env_var, find_env, pulled_env
from lectern.deploy.emulator.errors import VercelError, bad_request
from lectern.deploy.emulator.models import STANDARD_TARGETS
from lectern.deploy.emulator.request_context import (
    caller,
    emulator_state,
    json_body,
    json_object,
    query_flag,
    scoped_project,
)
from lectern.deploy.emulator.views import env_json


async def list_env(request: Request) -> JSONResponse:
    """`GET /v8|v9|v10/projects/{idOrName}/env`, filtered by target, gitBranch, customEnvironmentId."""
    state = emulator_state(request)
    query = request.query_params
    reveal = query_flag(request, "decrypt")
    with state.lock:
        envs = list(scoped_project(request).env)
        if target := query.get("target"):
            envs = [env for env in envs if target in env.target]
        if custom_id := query.get("customEnvironmentId"):
            envs = [env for env in envs if custom_id in env.custom_environment_ids]
        if branch := query.get("gitBranch"):
            envs = [env for env in envs if env.git_branch in (None, branch)]
        return JSONResponse({"envs": [env_json(state, env, reveal=reveal) for env in envs]})


async def create_env(request: Request) -> JSONResponse:
    """`POST /v10/projects/{idOrName}/env`: one object or a list (batch), `?upsert=true` to overwrite."""
    state = emulator_state(request)
    body = await json_body(request)
    single = isinstance(body, dict)
    items = [body] if single else body
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid request: the body should be an Environment Variable or a list of them.")
    with state.lock:
        project = scoped_project(request)
        created, failed = create_env_vars(
            state, project, items, upsert=query_flag(request, "upsert"), user=caller(request).user
        )
        if single and failed:
            error = failed[0]["error"]
            raise VercelError(400, error.pop("code"), error.pop("message"), **error)
        views = [env_json(state, env, reveal=False) for env in created]
    return JSONResponse({"created": views[0] if single else views, "failed": failed}, status_code=201)


async def get_env(request: Request) -> JSONResponse:
    """`GET /v1/projects/{idOrName}/env/{id}`: the decrypted value, except for sensitive vars."""
    state = emulator_state(request)
    with state.lock:
        env = find_env(scoped_project(request), str(request.path_params["envId"]))
        return JSONResponse(env_json(state, env, reveal=True))


async def edit_env(request: Request) -> JSONResponse:
    """`PATCH /v9|v10/projects/{idOrName}/env/{id}`."""
    state = emulator_state(request)
    changes = await json_object(request)
    with state.lock:
        env = edit_env_var(state, scoped_project(request), str(request.path_params["envId"]), changes)
        return JSONResponse(env_json(state, env, reveal=False))


async def delete_env(request: Request) -> JSONResponse:
    """`DELETE /v9|v10/projects/{idOrName}/env/{id}`: returns the removed variable."""
    state = emulator_state(request)
    with state.lock:
        env = delete_env_var(scoped_project(request), str(request.path_params["envId"]))
        return JSONResponse(env_json(state, env, reveal=False))


async def batch_delete_env(request: Request) -> JSONResponse:
    """`DELETE /v1/projects/{idOrName}/env` with `{"ids": [...]}`."""
    state = emulator_state(request)
    body = await json_object(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("Invalid request: `ids` should be a non-empty list of env var ids.")
    with state.lock:
        project = scoped_project(request)
        for env_id in ids:
            find_env(project, env_id)
        for env_id in ids:
            delete_env_var(project, env_id)
    return JSONResponse({"deleted": len(ids), "ids": ids})


async def pull_env(request: Request) -> JSONResponse:
    """`GET /v3/env/pull/{projectId}[/{target}[/{gitBranch}]]`: resolved values, sensitive ones empty."""
    state = emulator_state(request)
    target = str(request.path_params.get("target", "development"))
    if target not in STANDARD_TARGETS:
        raise bad_request(f"Invalid target `{target}`.")
    branch = request.path_params.get("gitBranch")
    with state.lock:
        project = scoped_project(request, str(request.path_params["projectId"]))
        resolved = pulled_env(project, target, str(branch) if branch else None)
    return JSONResponse({"env": resolved, "buildEnv": dict(resolved)})


_ENV = "/projects/{idOrName}/env"
_ONE_ENV = "/projects/{idOrName}/env/{envId}"

routes = [
    *(Route(f"/{v}{_ENV}", list_env, methods=["GET"]) for v in ("v8", "v9", "v10")),
    *(Route(f"/{v}{_ENV}", create_env, methods=["POST"]) for v in ("v9", "v10")),
    Route(f"/v1{_ENV}", batch_delete_env, methods=["DELETE"]),
    Route(f"/v1{_ONE_ENV}", get_env, methods=["GET"]),
    *(Route(f"/{v}{_ONE_ENV}", edit_env, methods=["PATCH"]) for v in ("v9", "v10")),
    *(Route(f"/{v}{_ONE_ENV}", delete_env, methods=["DELETE"]) for v in ("v9", "v10")),
    Route("/v3/env/pull/{projectId}", pull_env, methods=["GET"]),
    Route("/v3/env/pull/{projectId}/{target}", pull_env, methods=["GET"]),
    Route("/v3/env/pull/{projectId}/{target}/{gitBranch:path}", pull_env, methods=["GET"]),
]
