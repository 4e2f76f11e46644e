"""`lectern doctor` as plain values: the four checks against one target, in order, each reported as it ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lectern.ops.doctor.database import Resolver, system_resolver
from lectern.ops.doctor.report import CheckReport, DoctorReport
from lectern.ops.doctor.sources import Environment
from lectern.ops.linked import Linked

if TYPE_CHECKING:
    from lectern.deploy.vercel import Project, VercelClient

LINK_FIX = "set VERCEL_TOKEN, VERCEL_ORG_ID and VERCEL_PROJECT_ID, or run `vercel link` in this folder"


@dataclass(frozen=True)
class DoctorOptions:
    """Which target, which project folder, and where the deployment answers (None: ask Vercel)."""

    target: str
    root: Path
    url: str | None = None
    bypass_secret: str | None = field(default=None, repr=False)
    resolver: Resolver = system_resolver


def deployed_url(client: VercelClient, project: Project, target: str) -> str | None:
    """Production's domain, or the newest READY deployment of another target; None when there is none."""
    from lectern.deploy.releases import read_production
    from lectern.deploy.smoke import base_url
    from lectern.deploy.vercel import VercelError

    try:
        if target == "production":
            host = read_production(client, project.id).host
        else:
            page = client.list_deployments(project.id, target=target, state="READY", limit=1)
            host = page.deployments[0].url if page.deployments else None
    except VercelError:
        return None
    return base_url(host) if host else None


def _environment(linked: Linked, target: str, local: Mapping[str, str]) -> Environment:
    from lectern.deploy.envsync import read_target
    from lectern.deploy.vercel import VercelError

    if linked.client is None or linked.project is None:
        # The deployment check reports the problem in full; the others only say where their values came from.
        return Environment(target, local, None, "see the deployment check" if linked.problem else None)
    try:
        return Environment(target, local, read_target(linked.client, linked.project.id, target))
    except VercelError as exc:
        return Environment(target, local, None, str(exc))


def _deployment(linked: Linked, target: str) -> CheckReport:
    from lectern.ops.doctor.deployment import NAME, check_deployment

    if linked.client is not None and linked.project is not None:
        return check_deployment(linked.client, linked.project, target)
    if linked.problem is not None:
        return CheckReport(NAME, "fail", f"cannot read the Vercel project: {linked.problem}", fixes=(LINK_FIX,))
    return CheckReport(NAME, "warn", "not checked: no Vercel project is linked", fixes=(LINK_FIX,))


def diagnose(
    options: DoctorOptions,
    local: Mapping[str, str],
    linked: Linked,
    *,
    on_check: Callable[[CheckReport], None] | None = None,
) -> DoctorReport:
    """Deployment, cold start, database and CORS, in that order; `on_check` sees each as it ends."""
    from lectern.deploy.smoke import BYPASS_HEADER
    from lectern.ops.doctor.coldstart import check_cold_start
    from lectern.ops.doctor.cors import check_cors
    from lectern.ops.doctor.database import check_database

    checks: list[CheckReport] = []

    def record(report: CheckReport) -> None:
        checks.append(report)
        if on_check is not None:
            on_check(report)

    target = options.target
    record(_deployment(linked, target))
    environment = _environment(linked, target, local)
    record(check_cold_start(options.root))
    record(check_database(environment.setting("DATABASE_URL"), target, resolver=options.resolver))
    url = options.url
    if url is None and linked.client is not None and linked.project is not None:
        url = deployed_url(linked.client, linked.project, target)
    headers = {BYPASS_HEADER: options.bypass_secret} if options.bypass_secret else None
    setting = environment.setting
    record(
        check_cors(
            url,
            setting("FRONTEND_ORIGINS"),
            setting("GITHUB_PAGES_URL"),
            setting("CORS_ALLOW_CREDENTIALS"),
            target,
            headers=headers,
        )
    )
    return DoctorReport(target, tuple(checks))
