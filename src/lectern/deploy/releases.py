"""What production serves, and moving it: promote a staged build, roll back instantly, wait until it took.

Vercel accepts a promote or rollback at once and moves the domains a moment later; the project's
`lastAliasRequest` tells when the job is done (as `vercel promote` / `vercel rollback` poll it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from lectern.deploy.errors import DeployError
from lectern.deploy.polling import Deadline, pause
from lectern.deploy.vercel.models import Deployment

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

Move = Literal["promote", "rollback"]
_RUNNING = ("pending", "in-progress")


@dataclass(frozen=True)
class Production:
    """The deployment the production domain serves (ids and hosts; all None before a first production deploy)."""

    deployment_id: str | None = None
    deployment_url: str | None = None
    domain: str | None = None
    created_at: int | None = None
    state: str | None = None

    @property
    def host(self) -> str | None:
        """Where readers reach production: its domain, else the deployment's own hostname."""
        return self.domain or self.deployment_url


def _domain(project: dict[str, Any], target: dict[str, Any]) -> str | None:
    for alias in target.get("alias") or []:
        if isinstance(alias, str) and alias:
            return alias
    for entry in project.get("alias") or []:
        if isinstance(entry, dict) and entry.get("target") == "PRODUCTION" and entry.get("domain"):
            return str(entry["domain"])
    return None


def production_of(project: dict[str, Any]) -> Production:
    """Read `targets.production` and the production domain from a project object."""
    target = (project.get("targets") or {}).get("production") or {}
    deployment_id = target.get("id") or target.get("uid")
    if not deployment_id:
        return Production(domain=_domain(project, {}))
    return Production(
        deployment_id=str(deployment_id),
        deployment_url=target.get("url"),
        domain=_domain(project, target),
        created_at=target.get("createdAt") or target.get("created"),
        state=target.get("readyState") or target.get("state"),
    )


def _project(client: VercelClient, project_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.request("GET", f"/v9/projects/{quote(project_id, safe='')}")
    return body


def read_production(client: VercelClient, project_id: str) -> Production:
    """What production serves now."""
    return production_of(_project(client, project_id))


def rollback_candidates(client: VercelClient, project_id: str, *, limit: int = 50) -> list[Deployment]:
    """READY production deployments that served production before, newest first."""
    params: dict[str, str | int] = {"projectId": project_id, "target": "production", "state": "READY", "limit": limit}
    body = client.request("GET", "/v6/deployments", params=params)
    return [
        Deployment.from_json(item)
        for item in body.get("deployments", [])
        if item.get("isRollbackCandidate") is not False
    ]


def previous_production(client: VercelClient, project_id: str, current: Production) -> Deployment | None:
    """The newest rollback candidate older than what production serves now."""
    for deployment in rollback_candidates(client, project_id):
        if deployment.id == current.deployment_id:
            continue
        if current.created_at is None or deployment.created_at < current.created_at:
            return deployment
    return None


def move_production(
    client: VercelClient,
    project_id: str,
    deployment_id: str,
    move: Move,
    deadline: Deadline,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Production:
    """Promote or roll back to `deployment_id` and wait until production serves it; DeployError if it does not."""
    project, deployment = quote(project_id, safe=""), quote(deployment_id, safe="")
    # The CLI's paths: promote is /v10, rollback /v9 (the docs' /v1 is the same handler).
    version, verb = ("v10", "promote") if move == "promote" else ("v9", "rollback")
    path = f"/{version}/projects/{project}/{verb}/{deployment}"
    client.request("POST", path, json={})
    while True:
        body = _project(client, project_id)
        production = production_of(body)
        job = body.get("lastAliasRequest") or {}
        status = job.get("jobStatus") if job.get("toDeploymentId") == deployment_id else None
        if status == "failed":
            raise DeployError(f"Vercel reports that the {move} to {deployment_id} failed")
        if production.deployment_id == deployment_id and status not in _RUNNING:
            return production
        if status in ("succeeded", "skipped"):
            raise DeployError(
                f"the {move} to {deployment_id} finished, but production serves {production.deployment_id}"
            )
        if deadline.expired:
            raise DeployError(
                f"the {move} to {deployment_id} did not take within {deadline.seconds:.0f} s;"
                f" production still serves {production.deployment_id or 'nothing'}"
            )
        pause(deadline, sleep)
