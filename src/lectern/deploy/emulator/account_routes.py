"""`/v2/user`, `/teams/{id}` and the team list: who the token belongs to and where it may act."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lectern.deploy.emulator.errors import not_found
from lectern.deploy.emulator.request_context import caller, emulator_state
from lectern.deploy.emulator.views import team_json, user_json


async def get_user(request: Request) -> JSONResponse:
    """`GET /v2/user`."""
    state = emulator_state(request)
    user = caller(request).user
    return JSONResponse({"user": user_json(user, default_team_id=state.team.id)})


async def get_team(request: Request) -> JSONResponse:
    """`GET /teams/{teamId}`: a team the user belongs to, else 404."""
    state = emulator_state(request)
    team_id = str(request.path_params["teamId"])
    team = state.teams.get(team_id)
    if team is None or team.id not in state.accessible_owners(caller(request).user):
        raise not_found("Team not found")
    return JSONResponse(team_json(team))


async def list_teams(request: Request) -> JSONResponse:
    """`GET /v1/teams` and `/v2/teams`: the user's teams."""
    state = emulator_state(request)
    owners = state.accessible_owners(caller(request).user)
    teams = [team_json(team) for team in state.teams.values() if team.id in owners]
    return JSONResponse({"teams": teams, "pagination": {"count": len(teams), "next": None, "prev": None}})


routes = [
    Route("/v2/user", get_user, methods=["GET"]),
    Route("/teams/{teamId}", get_team, methods=["GET"]),
    Route("/v1/teams/{teamId}", get_team, methods=["GET"]),
    Route("/v2/teams/{teamId}", get_team, methods=["GET"]),
    Route("/v1/teams", list_teams, methods=["GET"]),
    Route("/v2/teams", list_teams, methods=["GET"]),
]
