"""JSON shapes of Vercel's responses: user, team, project, env var, deployment, list item, event."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from lectern.deploy.emulator.models import BuildEvent, Deployment, EnvVar, Project, Team, User
from lectern.deploy.emulator.store import Store

REGION = "iad1"


def user_json(user: User, default_team_id: str | None) -> dict[str, Any]:
    """The `user` object of `GET /v2/user`."""
    return {
        "id": user.id,
        "uid": user.id,
        "email": user.email,
        "name": user.name,
        "username": user.username,
        "avatar": None,
        "defaultTeamId": default_team_id,
        "version": None,
    }


def team_json(team: Team) -> dict[str, Any]:
    """A team as `GET /teams/{id}` returns it."""
    return {
        "id": team.id,
        "slug": team.slug,
        "name": team.name,
        "avatar": None,
        "membership": {"role": "OWNER", "confirmed": True},
    }


def _ciphertext(store: Store, env: EnvVar) -> str:
    digest = hmac.new(store.cipher_key, f"{env.id}:{env.value}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def env_json(store: Store, env: EnvVar, *, reveal: bool) -> dict[str, Any]:
    """An env var; encrypted values are ciphertext unless revealed, sensitive values never appear."""
    body: dict[str, Any] = {
        "id": env.id,
        "key": env.key,
        "type": env.type,
        "target": list(env.target),
        "customEnvironmentIds": list(env.custom_environment_ids),
        "configurationId": None,
        "comment": env.comment,
        "createdAt": env.created_at,
        "updatedAt": env.updated_at,
        "createdBy": env.created_by,
        "updatedBy": env.created_by,
        "decrypted": False,
    }
    if env.git_branch is not None:
        body["gitBranch"] = env.git_branch
    if env.type in ("plain", "system"):
        body["value"] = env.value
    elif env.type == "encrypted":
        body["value"] = env.value if reveal else _ciphertext(store, env)
        body["decrypted"] = reveal
    return body


def _timestamps(deployment: Deployment) -> dict[str, int | None]:
    started = deployment.ready_state != "QUEUED"
    return {
        "buildingAt": deployment.building_at if started else None,
        "ready": deployment.finishes_at if deployment.ready_state == "READY" else None,
    }


def _creator(store: Store, deployment: Deployment) -> dict[str, Any]:
    return {"uid": deployment.creator_id, "username": store.user.username, "email": store.user.email}


def _inspector_url(store: Store, deployment: Deployment) -> str:
    slug = store.owner_slug(deployment.owner_id)
    return f"https://vercel.com/{slug}/{deployment.name}/{deployment.id.removeprefix('dpl_')}"


def is_rollback_candidate(store: Store, deployment: Deployment) -> bool:
    """Tell whether an instant rollback to this deployment is allowed."""
    project = store.projects.get(deployment.project_id)
    current = project.production_deployment_id if project else None
    return deployment.ready_state == "READY" and deployment.served_production and deployment.id != current


def deployment_json(store: Store, deployment: Deployment) -> dict[str, Any]:
    """The deployment object of `GET /v13/deployments/{id}` and `POST /v13/deployments`."""
    project = store.projects[deployment.project_id]
    team = store.teams.get(deployment.owner_id)
    return {
        "id": deployment.id,
        "url": deployment.url,
        "name": deployment.name,
        "alias": store.aliases(deployment),
        "aliasAssigned": deployment.alias_assigned_at,
        "aliasError": None,
        "readyState": deployment.ready_state,
        "status": deployment.ready_state,
        "readySubstate": deployment.ready_substate,
        "target": deployment.target,
        "createdAt": deployment.created_at,
        **_timestamps(deployment),
        "inspectorUrl": _inspector_url(store, deployment),
        "projectId": deployment.project_id,
        "project": {"id": project.id, "name": project.name, "framework": project.framework},
        "ownerId": deployment.owner_id,
        "team": {"id": team.id, "name": team.name, "slug": team.slug, "avatar": None} if team else None,
        "creator": _creator(store, deployment),
        "regions": [REGION],
        "createdIn": REGION,
        "meta": dict(deployment.meta),
        "source": deployment.source,
        "type": "LAMBDAS",
        "version": 2,
        "public": False,
        "errorCode": deployment.error_code,
        "errorMessage": deployment.error_message,
        "routes": None,
    }


def deployment_list_item(store: Store, deployment: Deployment) -> dict[str, Any]:
    """One item of `GET /v6/deployments` (keyed by `uid`, not `id`)."""
    item: dict[str, Any] = {
        "uid": deployment.id,
        "name": deployment.name,
        "url": deployment.url,
        "created": deployment.created_at,
        "createdAt": deployment.created_at,
        **_timestamps(deployment),
        "state": deployment.ready_state,
        "readyState": deployment.ready_state,
        "readySubstate": deployment.ready_substate,
        "type": "LAMBDAS",
        "target": deployment.target,
        "projectId": deployment.project_id,
        "creator": _creator(store, deployment),
        "meta": dict(deployment.meta),
        "inspectorUrl": _inspector_url(store, deployment),
        "isRollbackCandidate": is_rollback_candidate(store, deployment),
        "aliasAssigned": deployment.alias_assigned_at,
        "aliasError": None,
        "source": deployment.source,
    }
    if deployment.error_code:
        item["errorCode"], item["errorMessage"] = deployment.error_code, deployment.error_message
    return item


def _alias_request_json(project: Project) -> dict[str, Any] | None:
    request = project.last_alias_request
    if request is None:
        return None
    return {
        "fromDeploymentId": request.from_deployment_id,
        "toDeploymentId": request.to_deployment_id,
        "jobStatus": request.job_status,
        "requestedAt": request.requested_at,
        "type": request.type,
    }


def project_json(store: Store, project: Project) -> dict[str, Any]:
    """The project object of `GET /v9/projects/{idOrName}`."""
    deployments = sorted(
        (d for d in store.deployments.values() if d.project_id == project.id),
        key=lambda d: d.created_at,
        reverse=True,
    )
    production = store.deployments.get(project.production_deployment_id or "")
    alias_request = _alias_request_json(project)
    rollback_target = None
    if alias_request and alias_request["type"] == "rollback":
        rollback_target = {k: v for k, v in alias_request.items() if k != "type"}
    return {
        "id": project.id,
        "name": project.name,
        "accountId": project.owner_id,
        "framework": project.framework,
        "nodeVersion": "22.x",
        "createdAt": project.created_at,
        "updatedAt": project.updated_at,
        "live": False,
        "link": None,
        "autoAssignCustomDomains": True,
        "serverlessFunctionRegion": REGION,
        "env": [env_json(store, env, reveal=False) for env in project.env],
        "alias": [{"domain": domain, "target": "PRODUCTION"} for domain in project.domains],
        "targets": {"production": deployment_list_item(store, production)} if production else {},
        "latestDeployments": [deployment_list_item(store, d) for d in deployments[:5]],
        "lastAliasRequest": alias_request,
        "lastRollbackTarget": rollback_target,
    }


def event_json(deployment: Deployment, event: BuildEvent, *, flat: bool) -> dict[str, Any]:
    """A build event: nested under `payload` by default, flat for the CLI's `format=lines`."""
    payload: dict[str, Any] = {
        "deploymentId": deployment.id,
        "id": event.id,
        "date": event.created,
        "serial": f"{event.created}{event.serial:06d}",
        "text": event.text,
        "info": {"type": "build", "name": deployment.build_id, "entrypoint": "."},
    }
    if event.level:
        payload["level"] = event.level
    if flat:
        return {"type": event.type, "created": event.created, **payload}
    return {"type": event.type, "created": event.created, "payload": payload}
