"""Time moves deployments QUEUED → BUILDING → READY/ERROR/CANCELED and finishes promote/rollback jobs.

Nothing runs in the background: each request first applies what the clock says has happened.
"""

from __future__ import annotations

from lectern.deploy.emulator.faults import ScriptedBuild
from lectern.deploy.emulator.ids import IdMaker
from lectern.deploy.emulator.models import AliasRequest, BuildEvent, Deployment, Project
from lectern.deploy.emulator.store import Store

_BUILD_PREAMBLE = (
    "Running build in Washington, D.C., USA (East) – iad1 (Lectern emulator)",
    "Build machine configuration: 2 cores, 8 GB",
    "Retrieving list of deployment files...",
)
_DEFAULT_BUILD_LINES = (
    "Installing required dependencies...",
    "Build Completed in /vercel/output",
    "Deploying outputs...",
)


def plan_build_events(
    ids: IdMaker, *, file_count: int, building_at: int, finishes_at: int, script: ScriptedBuild | None
) -> list[BuildEvent]:
    """Lay out the build log lines between the start and the end of the build."""
    lines: list[tuple[str, str, str | None]] = [("stdout", text, None) for text in _BUILD_PREAMBLE]
    lines.append(("stdout", f"Downloading {file_count} deployment files...", None))
    body = script.log_lines if script is not None else list(_DEFAULT_BUILD_LINES)
    lines.extend(("stdout", text, None) for text in body)
    if script is not None and script.outcome == "ERROR":
        lines.append(("stderr", f"Error: {script.error_message}", "error"))
    elif script is not None and script.outcome == "CANCELED":
        lines.append(("stdout", "The deployment was canceled.", None))
    else:
        lines.append(("stdout", "Deployment completed", None))
    span = max(finishes_at - building_at, 0)
    last = len(lines) - 1
    return [
        BuildEvent(
            id=ids.token(12),
            serial=index + 1,
            created=building_at + (span * index // last if last else span),
            type=kind,
            text=text,
            level=level,
        )
        for index, (kind, text, level) in enumerate(lines)
    ]


def point_production_at(project: Project, deployment: Deployment) -> None:
    """Make `deployment` the one the project's production domains serve."""
    project.production_deployment_id = deployment.id
    deployment.served_production = True
    deployment.ready_substate = "PROMOTED"


def _finish_build(store: Store, deployment: Deployment) -> None:
    deployment.ready_state = deployment.outcome
    if deployment.outcome != "READY":
        return
    deployment.alias_assigned_at = deployment.finishes_at
    if deployment.target != "production":
        return
    project = store.projects.get(deployment.project_id)
    if project is not None and deployment.auto_assign_domains and not project.auto_promote_paused:
        point_production_at(project, deployment)
    else:
        deployment.ready_substate = "STAGED"


def _finish_alias_job(store: Store, project: Project, request: AliasRequest) -> None:
    target = store.deployments.get(request.to_deployment_id)
    if target is None or target.ready_state != "READY":
        request.job_status = "failed"
        return
    request.job_status = "succeeded"
    point_production_at(project, target)
    if request.type == "promote":
        project.auto_promote_paused = False


def advance(store: Store) -> None:
    """Apply every state change whose time has come, oldest first."""
    now = store.now_ms()
    due: list[tuple[int, int, Deployment | Project]] = []
    for deployment in store.deployments.values():
        if deployment.is_final:
            continue
        if deployment.ready_state == "QUEUED" and now >= deployment.building_at:
            deployment.ready_state = "BUILDING"
        if now >= deployment.finishes_at:
            due.append((deployment.finishes_at, 0, deployment))
    for project in store.projects.values():
        request = project.last_alias_request
        if request and request.job_status in ("pending", "in-progress") and now >= request.completes_at:
            due.append((request.completes_at, 1, project))
    for _, _, item in sorted(due, key=lambda entry: (entry[0], entry[1])):
        if isinstance(item, Deployment):
            _finish_build(store, item)
        elif item.last_alias_request is not None:
            _finish_alias_job(store, item, item.last_alias_request)
