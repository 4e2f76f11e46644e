"""Creating deployments (files check, redeploys), and the promote and rollback requests."""

from __future__ import annotations

from typing import Any, Literal

from lectern.deploy.emulator.errors import VercelError, bad_request
from lectern.deploy.emulator.file_entries import missing_shas, parse_files
from lectern.deploy.emulator.lifecycle import plan_build_events
from lectern.deploy.emulator.models import AliasRequest, Deployment, DeploymentFile, Project, User
from lectern.deploy.emulator.store import Store


def _seconds_to_ms(seconds: float) -> int:
    return max(round(seconds * 1000), 0)


def new_project(store: Store, name: str, owner_id: str, *, project_id: str | None = None) -> Project:
    """Create a project the way a first deployment or the dashboard would."""
    now = store.now_ms()
    project = Project(
        id=project_id or store.ids.prefixed("prj"),
        name=name,
        owner_id=owner_id,
        created_at=now,
        updated_at=now,
        domains=[f"{name}.vercel.app"],
    )
    store.projects[project.id] = project
    return project


def _resolve_project(store: Store, body: dict[str, Any], owner_id: str) -> Project:
    reference = body.get("project")
    if isinstance(reference, str) and reference:
        return store.project(reference, owner_id)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("Invalid request: missing required property `name`.")
    existing = [p for p in store.projects.values() if p.owner_id == owner_id and p.name == name]
    return existing[0] if existing else new_project(store, name, owner_id)


def _target(body: dict[str, Any]) -> str | None:
    target = body.get("target")
    if target in (None, "preview"):
        return None
    if target in ("production", "staging"):
        return str(target)
    raise bad_request("Invalid request: `target` must be production, staging or preview in the emulator.")


def _meta(body: dict[str, Any]) -> dict[str, str]:
    meta = body.get("meta") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad_request("Invalid request: `meta` should be an object of strings.")
    return {str(k): v for k, v in meta.items()}


def create_deployment(store: Store, user: User, owner_id: str, body: dict[str, Any]) -> Deployment:
    """Create a deployment from uploaded files, inlined files or an earlier deployment's files."""
    if body.get("gitSource") is not None:
        raise bad_request("The emulator does not build from `gitSource`; upload files instead.")
    source_id = body.get("deploymentId")
    if isinstance(source_id, str) and source_id:
        source = store.deployment(source_id, {owner_id})
        files = list(source.files)
        project = store.projects[source.project_id]
    else:
        if "files" not in body:
            raise bad_request("Invalid request: missing required property `files`.")
        files = parse_files(store, body["files"])
        project = _resolve_project(store, body, owner_id)
    missing = missing_shas(store, files)
    if missing:
        raise bad_request("Missing files", code="missing_files", missing=missing)
    return _start_deployment(store, user, project, body, files)


def _start_deployment(
    store: Store, user: User, project: Project, body: dict[str, Any], files: list[DeploymentFile]
) -> Deployment:
    created = store.unique_timestamp()
    timings = store.timings
    building_at = created + _seconds_to_ms(timings.queued_seconds)
    finishes_at = building_at + _seconds_to_ms(timings.building_seconds)
    script = store.faults.take_build()
    events = plan_build_events(
        store.ids,
        file_count=sum(not f.is_folder for f in files),
        building_at=building_at,
        finishes_at=finishes_at,
        script=script,
    )
    outcome = script.outcome if script is not None else "READY"
    failed = outcome == "ERROR"
    host = (
        store.project_deployment_hosts.get(project.id)
        or store.project_deployment_hosts.get(project.name)
        or store.deployment_host
    )
    url = host or f"{project.name}-{store.ids.token(9).lower()}-{store.owner_slug(project.owner_id)}.vercel.app"
    deployment = Deployment(
        id=store.ids.prefixed("dpl"),
        project_id=project.id,
        owner_id=project.owner_id,
        creator_id=user.id,
        name=project.name,
        url=url,
        target=_target(body),
        created_at=created,
        building_at=building_at,
        finishes_at=finishes_at,
        outcome=outcome,
        build_id=store.ids.prefixed("bld"),
        files=files,
        events=events,
        meta=_meta(body),
        source=str(body.get("source") or "api"),
        auto_assign_domains=body.get("autoAssignCustomDomains") is not False,
        error_code=script.error_code if failed and script else None,
        error_message=script.error_message if failed and script else None,
    )
    store.deployments[deployment.id] = deployment
    project.updated_at = created
    return deployment


def request_alias_change(
    store: Store, project: Project, deployment_id: str, kind: Literal["promote", "rollback"]
) -> AliasRequest:
    """Accept a promote or rollback; the domains move once `timings.alias_seconds` have passed."""
    deployment = store.deployment(deployment_id, {project.owner_id})
    if deployment.project_id != project.id:
        raise bad_request("The deployment does not belong to this project.")
    if deployment.ready_state != "READY":
        raise bad_request(f"The deployment is {deployment.ready_state}, not READY.")
    if deployment.target != "production":
        raise bad_request(
            "Only production deployments can be promoted or rolled back to; "
            "promote a preview by creating a production deployment from it."
        )
    if kind == "rollback" and not deployment.served_production:
        raise bad_request("The deployment has never served production, so it cannot be rolled back to.")
    current = project.last_alias_request
    if current is not None and current.job_status in ("pending", "in-progress"):
        raise VercelError(409, "conflict", f"A {current.type} is already in progress for this project.")
    now = store.now_ms()
    request = AliasRequest(
        type=kind,
        from_deployment_id=project.production_deployment_id,
        to_deployment_id=deployment.id,
        requested_at=now,
        completes_at=now + _seconds_to_ms(store.timings.alias_seconds),
    )
    if project.production_deployment_id == deployment.id:
        request.job_status = "skipped"
        if kind == "promote":
            project.auto_promote_paused = False
    elif kind == "rollback":
        project.auto_promote_paused = True
    project.last_alias_request = request
    project.updated_at = now
    return request
