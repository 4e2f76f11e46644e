"""`VercelClient`: Vercel's REST API over httpx for one token and team, retrying 429 and 5xx within bounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from lectern import __version__
from lectern.deploy.vercel.errors import VercelApiError, VercelConnectionError, VercelError
from lectern.deploy.vercel.link import DEFAULT_API_URL
from lectern.deploy.vercel.models import Deployment, DeploymentPage, EnvVariable, Project, Team, User
from lectern.deploy.vercel.retries import RetryPolicy, is_retryable, retry_wait

Params = Mapping[str, str | int | Sequence[str]]


def _segment(value: str) -> str:
    # Ids and names go into the path: quote them so a stray `/` or `?` cannot reach another endpoint.
    return quote(value, safe="")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    # Some Vercel APIs wrongly answer `err` instead of `error` (as the Vercel CLI notes).
    error = body.get("error") or body.get("err") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _api_error(response: httpx.Response, method: str, path: str) -> VercelApiError:
    error = _error_body(response)
    details = {k: v for k, v in error.items() if k not in ("code", "message")}
    return VercelApiError(
        response.status_code,
        str(error.get("code") or "http_error"),
        str(error.get("message") or response.reason_phrase or "no error message"),
        method=method,
        path=path,
        details=details,
    )


class VercelClient:
    """Vercel's REST API for one token, acting for one team (`team_…` id or slug) or the personal account."""

    def __init__(
        self,
        token: str,
        *,
        team: str | None = None,
        api_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._team = team
        self._scope: dict[str, str] | None = None if team else {}
        self._retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=api_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"lectern/{__version__}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> VercelClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- requests -------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        scoped: bool = True,
    ) -> Any:
        """Send one API request (team-scoped unless `scoped=False`) and return its JSON body, None when empty."""
        query = {**(self.scope() if scoped else {}), **(params or {})}
        waited = 0.0
        policy = self._retry
        for attempt in range(1, policy.attempts + 1):
            try:
                response = self._http.request(method, path, params=query, json=json, content=content, headers=headers)
            except httpx.TransportError as exc:
                failure: VercelError = VercelConnectionError(
                    f"cannot reach Vercel at {self._http.base_url} for {method} {path}: {exc or type(exc).__name__}"
                    + (f" (after {attempt} attempts)" if attempt > 1 else "")
                )
                wait = retry_wait(policy, attempt, None, {})
            else:
                if response.is_success:
                    return self._json(response, method, path)
                error = _api_error(response, method, path)
                error.attempts = attempt
                if not is_retryable(response.status_code):
                    raise error
                failure = error
                wait = retry_wait(policy, attempt, response.status_code, response.headers, _error_body(response))
            if attempt == policy.attempts:
                raise failure
            if waited + wait > policy.max_total_wait:
                if isinstance(failure, VercelApiError):
                    failure.note = f"Vercel asks to wait {wait:.0f} s more; try again later"
                raise failure
            policy.sleep(wait)
            waited += wait
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise VercelError(f"Vercel answered {method} {path} with a body that is not JSON") from None

    def scope(self) -> dict[str, str]:
        """The query scoping requests: `teamId` for a `team_…` id, none for the personal account, else `slug`."""
        if self._scope is None:
            team = self._team or ""
            if team.startswith("team_"):
                self._scope = {"teamId": team}
            else:
                # An orgId without the team prefix is a personal account (the user's id) or a team slug.
                user = self.get_user()
                self._scope = {} if team in (user.id, user.username) else {"slug": team}
        return self._scope

    # --- accounts and projects ---------------------------------------------------------------------------

    def get_user(self) -> User:
        """The token's user (`GET /v2/user`)."""
        return User.from_json(self.request("GET", "/v2/user", scoped=False)["user"])

    def get_team(self, team_id: str) -> Team:
        """A team the user belongs to (`GET /teams/{id}`)."""
        return Team.from_json(self.request("GET", f"/teams/{_segment(team_id)}", scoped=False))

    def get_project(self, id_or_name: str) -> Project:
        """One project of the team (`GET /v9/projects/{idOrName}`)."""
        return Project.from_json(self.request("GET", f"/v9/projects/{_segment(id_or_name)}"))

    # --- env variables -----------------------------------------------------------------------------------

    def list_env(self, project_id: str, *, target: str | None = None) -> list[EnvVariable]:
        """The project's env records (all targets, or those serving `target`); hidden values are None."""
        params = {"target": target} if target else None
        body = self.request("GET", f"/v10/projects/{_segment(project_id)}/env", params=params)
        records = [EnvVariable.from_json(item) for item in body.get("envs", [])]
        return [r for r in records if target is None or target in r.targets]

    def get_env(self, project_id: str, env_id: str) -> EnvVariable:
        """One record with its decrypted value (`GET /v1/…/env/{id}`); a sensitive value stays None."""
        path = f"/v1/projects/{_segment(project_id)}/env/{_segment(env_id)}"
        return EnvVariable.from_json(self.request("GET", path))

    def create_env(
        self, project_id: str, key: str, value: str, *, type: str, targets: Sequence[str], upsert: bool = True
    ) -> EnvVariable:
        """Create a record (`POST /v10/…/env`); with `upsert` it replaces the record with exactly these targets."""
        body = {"key": key, "value": value, "type": type, "target": list(targets)}
        path = f"/v10/projects/{_segment(project_id)}/env"
        answer = self.request("POST", path, params={"upsert": "true"} if upsert else None, json=body)
        failed = answer.get("failed") or []
        if failed:
            error = failed[0].get("error", {})
            raise VercelApiError(400, str(error.get("code")), str(error.get("message")), method="POST", path=path)
        created = answer["created"]
        return EnvVariable.from_json(created[0] if isinstance(created, list) else created)

    def edit_env(
        self,
        project_id: str,
        env_id: str,
        *,
        targets: Sequence[str] | None = None,
        value: str | None = None,
        type: str | None = None,
    ) -> EnvVariable:
        """Change a record's targets, value or type (`PATCH /v9/…/env/{id}`; Vercel refuses type flips to sensitive)."""
        changes: dict[str, Any] = {
            "target": list(targets) if targets is not None else None,
            "value": value,
            "type": type,
        }
        path = f"/v9/projects/{_segment(project_id)}/env/{_segment(env_id)}"
        body = {k: v for k, v in changes.items() if v is not None}
        return EnvVariable.from_json(self.request("PATCH", path, json=body))

    def delete_env(self, project_id: str, env_id: str) -> None:
        """Delete one record (`DELETE /v9/…/env/{id}`)."""
        self.request("DELETE", f"/v9/projects/{_segment(project_id)}/env/{_segment(env_id)}")

    def pull_env(self, project_id: str, target: str) -> dict[str, str]:
        """The values a deployment of `target` would get (`GET /v3/env/pull/…`); sensitive ones come back empty."""
        body = self.request("GET", f"/v3/env/pull/{_segment(project_id)}/{_segment(target)}")
        return {str(k): str(v) for k, v in (body.get("env") or {}).items()}

    # --- deployments (files, create, promote and rollback come with `deploy` and `rollback`) -----------------

    def list_deployments(
        self,
        project_id: str | None = None,
        *,
        target: str | None = None,
        state: str | None = None,
        limit: int = 20,
        until: int | None = None,
    ) -> DeploymentPage:
        """One page of deployments, newest first (`GET /v6/deployments`); page back with `until=page.next`."""
        params: dict[str, str | int] = {"limit": limit}
        for name, given in (("projectId", project_id), ("target", target), ("state", state), ("until", until)):
            if given is not None:
                params[name] = given
        body = self.request("GET", "/v6/deployments", params=params)
        items = tuple(Deployment.from_json(item) for item in body.get("deployments", []))
        return DeploymentPage(deployments=items, next=(body.get("pagination") or {}).get("next"))

    def get_deployment(self, id_or_url: str) -> Deployment:
        """One deployment by id (`dpl_…`) or hostname (`GET /v13/deployments/{idOrUrl}`)."""
        return Deployment.from_json(self.request("GET", f"/v13/deployments/{_segment(id_or_url)}"))
