"""What an endpoint needs from a request: the state, the caller, the scope, a JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from lectern.deploy.emulator.errors import bad_request
from lectern.deploy.emulator.models import Project, User
from lectern.deploy.emulator.state import EmulatorState


@dataclass(frozen=True)
class Caller:
    """The authenticated user and the account (`teamId`/`slug`, else the user) the request acts for."""

    user: User
    owner_id: str
    scoped: bool


def emulator_state(request: Request) -> EmulatorState:
    """Return the state the app serves."""
    state: EmulatorState = request.app.state.emulator
    return state


def caller(request: Request) -> Caller:
    """Return the caller the auth middleware resolved."""
    found: Caller = request.state.caller
    return found


def owners_for_lookup(request: Request) -> set[str]:
    """Accounts to search for a deployment: the scope if one was given, else all the user's."""
    who = caller(request)
    if who.scoped:
        return {who.owner_id}
    return emulator_state(request).accessible_owners(who.user)


def scoped_project(request: Request, id_or_name: str | None = None) -> Project:
    """Return the project named in the path, within the request's scope."""
    reference = id_or_name or str(request.path_params["idOrName"])
    return emulator_state(request).project(reference, caller(request).owner_id)


def query_flag(request: Request, name: str) -> bool:
    """Read a boolean query parameter the way Vercel does (`1` or `true`)."""
    return request.query_params.get(name, "").lower() in ("1", "true")


async def json_body(request: Request) -> Any:
    """Parse the JSON body, answering 400 `bad_request` when it is not JSON."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("Invalid JSON body.") from None


async def json_object(request: Request) -> dict[str, Any]:
    """Parse a JSON body that must be an object."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("Invalid request: the body should be a JSON object.")
    return body
