"""`lectern status` and `lectern rollback` as plain values: production, recent deployments, success rate,
and the plan and outcome of an instant rollback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lectern.deploy.builds import is_final
from lectern.deploy.errors import DeployError
from lectern.deploy.polling import Deadline
from lectern.deploy.releases import (
    Production,
    move_production,
    previous_production,
    read_production,
    rollback_candidates,
)
from lectern.deploy.smoke import HealthReport, base_url, check_health
from lectern.deploy.vercel.models import Deployment, Project

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient


@dataclass(frozen=True)
class SuccessRate:
    """READY ÷ finished (READY, ERROR, CANCELED) over a window; builds still running do not count."""

    ready: int
    finished: int

    @property
    def rate(self) -> float | None:
        return self.ready / self.finished if self.finished else None

    def as_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "finished": self.finished, "rate": self.rate}


def success_rate(deployments: list[Deployment] | tuple[Deployment, ...]) -> SuccessRate:
    """The share of finished deployments that reached READY."""
    finished = [d for d in deployments if is_final(d.state)]
    return SuccessRate(sum(1 for d in finished if d.state == "READY"), len(finished))


def deployment_json(deployment: Deployment, now_ms: int) -> dict[str, Any]:
    """A deployment for `--json`: id, URL, state, environment, creation time and age."""
    return {
        "id": deployment.id,
        "url": base_url(deployment.url) if deployment.url else None,
        "state": deployment.state,
        "target": deployment.target or "preview",
        "createdAt": deployment.created_at,
        "ageSeconds": max(0, (now_ms - deployment.created_at) // 1000),
    }


@dataclass(frozen=True)
class StatusReport:
    """What `lectern status` shows."""

    project: Project
    production: Production
    deployments: tuple[Deployment, ...]
    rate: SuccessRate
    health: HealthReport | None
    now_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def as_json(self) -> dict[str, Any]:
        production = None
        if self.production.deployment_id is not None:
            created = self.production.created_at
            production = {
                "id": self.production.deployment_id,
                "url": base_url(self.production.host) if self.production.host else None,
                "deploymentUrl": base_url(self.production.deployment_url) if self.production.deployment_url else None,
                "state": self.production.state,
                "createdAt": created,
                "ageSeconds": max(0, (self.now_ms - created) // 1000) if created else None,
            }
        return {
            "project": {"id": self.project.id, "name": self.project.name},
            "production": production,
            "health": self.health.as_json() if self.health else None,
            "deployments": [deployment_json(d, self.now_ms) for d in self.deployments],
            "successRate": self.rate.as_json(),
        }


def read_status(
    client: VercelClient, project: Project, *, limit: int = 20, bypass_secret: str | None = None
) -> StatusReport:
    """Production, the last `limit` deployments with the success rate over them, and production's health now."""
    production = read_production(client, project.id)
    deployments = client.list_deployments(project.id, limit=limit).deployments
    health = None
    if production.deployment_id is not None and production.host:  # no production yet: nothing to check
        health = check_health(production.host, bypass_secret=bypass_secret)
    return StatusReport(project, production, deployments, success_rate(deployments), health)


# --- instant rollback ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackPlan:
    """From what production serves to an earlier deployment, and the variables changed since that one was built."""

    current: Production
    target: Deployment
    changed_variables: tuple[str, ...]


def _checked_target(client: VercelClient, project_id: str, deployment_id: str, current: Production) -> Deployment:
    target = client.get_deployment(deployment_id)
    if target.project_id not in (None, project_id):
        raise DeployError(f"{deployment_id} belongs to another project")
    if target.id == current.deployment_id:
        raise DeployError(f"production already serves {target.id}")
    if target.state != "READY" or target.target != "production":
        kind = "a production" if target.target == "production" else "a preview"
        raise DeployError(f"{target.id} is {kind} deployment, {target.state}: roll back only to READY production")
    if target.id not in {d.id for d in rollback_candidates(client, project_id, limit=100)}:
        raise DeployError(f"{target.id} never served production, so Vercel cannot roll back to it (promote it instead)")
    return target


def plan_rollback(client: VercelClient, project_id: str, deployment_id: str | None = None) -> RollbackPlan:
    """Where a rollback would go: `deployment_id`, else the newest READY production deployment before the current."""
    current = read_production(client, project_id)
    if current.deployment_id is None:
        raise DeployError("the project has no production deployment yet: nothing to roll back")
    if deployment_id:
        target = _checked_target(client, project_id, deployment_id, current)
    else:
        found = previous_production(client, project_id, current)
        if found is None:
            raise DeployError(f"no READY production deployment before {current.deployment_id} to roll back to")
        target = found
    # A rolled-back deployment keeps the variables it was built with (ops-security.md §2.1).
    changed = {
        r.key
        for r in client.list_env(project_id, target="production")
        if r.updated_at is not None and r.updated_at > target.created_at
    }
    return RollbackPlan(current, target, tuple(sorted(changed)))


@dataclass(frozen=True)
class RollbackOutcome:
    """What production serves after the rollback, and its health."""

    production: Production
    health: HealthReport


def perform_rollback(
    client: VercelClient, project_id: str, plan: RollbackPlan, *, timeout: float, bypass_secret: str | None = None
) -> RollbackOutcome:
    """Roll back and wait until production serves the target (DeployError if it does not), then check its health."""
    production = move_production(client, project_id, plan.target.id, "rollback", Deadline(timeout))
    health = check_health(production.host or plan.target.url, bypass_secret=bypass_secret)
    return RollbackOutcome(production, health)
