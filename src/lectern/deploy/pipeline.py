"""`lectern deploy` step by step: prepare → preflight → upload → create → build → smoke → promote → verify,
and an automatic rollback when production fails its health check after the promotion.

A production build is created staged (`autoAssignCustomDomains: false`, as `vercel --prod --skip-domain`),
so the production domain moves only when the new deployment has passed its smoke test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lectern import __version__
from lectern.deploy.builds import build_error_lines, follow_build
from lectern.deploy.bundle import Bundle, BundleError, collect_bundle
from lectern.deploy.errors import DeployError
from lectern.deploy.events import DeployEvents
from lectern.deploy.init import ENTRYPOINT, REQUIREMENTS
from lectern.deploy.polling import Deadline
from lectern.deploy.preflight import COLD_START_WARN_SECONDS, CheckResult, run_preflight
from lectern.deploy.releases import Production, move_production, read_production
from lectern.deploy.smoke import HealthReport, base_url, check_health
from lectern.deploy.upload import CONCURRENCY, UploadCallbacks, create_deployment
from lectern.deploy.vercel.errors import VercelError
from lectern.deploy.vercel.models import Deployment, Project

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

DEFAULT_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class DeployOptions:
    """What to deploy and how; `timeout` bounds each wait (the build, a promotion, a rollback)."""

    root: Path
    production: bool = False
    skip_checks: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    bypass_secret: str | None = field(default=None, repr=False)
    cold_start_threshold: float = COLD_START_WARN_SECONDS
    concurrency: int = CONCURRENCY

    @property
    def target(self) -> str:
        return "production" if self.production else "preview"


@dataclass
class DeployReport:
    """Everything a deploy did, for the summary and `--json`; `error` is set when it did not succeed."""

    project: Project
    target: str
    checks: list[CheckResult] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    files_total: int = 0
    files_distinct: int = 0
    files_uploaded: int = 0
    bytes_uploaded: int = 0
    deployment: Deployment | None = None
    build_log: list[str] = field(default_factory=list)
    smoke: HealthReport | None = None
    previous_production: str | None = None
    promoted: bool = False
    production_health: HealthReport | None = None
    rolled_back_to: str | None = None
    health_after_rollback: HealthReport | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def url(self) -> str | None:
        return base_url(self.deployment.url) if self.deployment is not None and self.deployment.url else None

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON object (the same facts as the summary)."""
        d = self.deployment
        production = None
        if self.target == "production":
            production = {
                "previousDeploymentId": self.previous_production,
                "promoted": self.promoted,
                "health": self.production_health.as_json() if self.production_health else None,
                "rolledBackTo": self.rolled_back_to,
                "healthAfterRollback": self.health_after_rollback.as_json() if self.health_after_rollback else None,
            }
        return {
            "ok": self.ok,
            "error": self.error,
            "project": {"id": self.project.id, "name": self.project.name},
            "target": self.target,
            "deployment": None
            if d is None
            else {"id": d.id, "url": self.url, "state": d.state, "inspectorUrl": d.inspector_url},
            "files": {
                "total": self.files_total,
                "distinct": self.files_distinct,
                "uploaded": self.files_uploaded,
                "uploadedBytes": self.bytes_uploaded,
            },
            "checks": [c.as_json() for c in self.checks],
            "buildLog": self.build_log,
            "smoke": self.smoke.as_json() if self.smoke else None,
            "production": production,
            "phases": dict(self.phases),
        }


@contextmanager
def _phase(report: DeployReport, events: DeployEvents, name: str) -> Iterator[None]:
    events.phase(name)
    started = time.perf_counter()
    try:
        yield
    finally:
        report.phases[name] = round(time.perf_counter() - started, 3)


def _require_project(root: Path) -> None:
    missing = [name for name in (ENTRYPOINT, REQUIREMENTS) if not (root / name).is_file()]
    if missing:
        raise DeployError(f"{' and '.join(missing)} not found in {root}: run `lectern init` here first")


def deployment_body(project: Project, options: DeployOptions) -> dict[str, Any]:
    """The create body without its files: staged production (no domain yet) or preview."""
    body: dict[str, Any] = {
        "name": project.name,
        "project": project.id,
        "meta": {"lecternVersion": __version__},
        "projectSettings": {"framework": "fastapi"},
        "source": "cli",
        "version": 2,
    }
    if options.production:
        body["target"] = "production"
        body["autoAssignCustomDomains"] = False
    return body


def run_deploy(
    client: VercelClient,
    project: Project,
    options: DeployOptions,
    events: DeployEvents | None = None,
    *,
    confirm: Callable[[str], bool] = lambda question: True,
) -> DeployReport:
    """Deploy the project in `options.root`; the report says how far it got and why it stopped."""
    report = DeployReport(project=project, target=options.target)
    try:
        _deploy(client, options, events or DeployEvents(), confirm, report)
    except (DeployError, BundleError, VercelError) as exc:
        report.error = str(exc)
    return report


def _deploy(
    client: VercelClient,
    options: DeployOptions,
    events: DeployEvents,
    confirm: Callable[[str], bool],
    report: DeployReport,
) -> None:
    project = report.project
    _require_project(options.root)
    with _phase(report, events, "prepare"):
        bundle = collect_bundle(options.root)
    report.files_total, report.files_distinct = len(bundle.files), len(bundle.by_sha())
    if not options.skip_checks:
        _preflight(client, options, events, report, bundle)
    previous = Production()
    if options.production:
        previous = read_production(client, project.id)
        report.previous_production = previous.deployment_id
        question = f"Deploy to production of {project.name}? It is promoted only after its smoke test passes."
        if not confirm(question):
            raise DeployError("stopped: nothing was deployed")
    deployment = _create(client, options, events, report, bundle)
    with _phase(report, events, "build"):
        deployment = follow_build(
            client,
            deployment.id,
            Deadline(options.timeout),
            on_state=lambda state, seconds: events.build_state(deployment.id, state, seconds),
        )
    report.deployment = deployment
    if deployment.state != "READY":
        if deployment.state != "CANCELED":
            try:
                report.build_log = build_error_lines(client, deployment.id)
            except VercelError:
                report.build_log = ["(the build log could not be read)"]
        cause = ": ".join(part for part in (deployment.error_code, deployment.error_message) if part)
        raise DeployError(f"the build of {deployment.id} ended {deployment.state}" + (f" ({cause})" if cause else ""))
    with _phase(report, events, "smoke"):
        report.smoke = check_health(deployment.url, bypass_secret=options.bypass_secret)
    if not report.smoke.ok:
        unchanged = "; production was not changed" if options.production else ""
        raise DeployError(f"the smoke test of {report.url} failed: {report.smoke.problem}{unchanged}")
    if options.production:
        _release(client, options, events, report, deployment, previous)


def _preflight(
    client: VercelClient, options: DeployOptions, events: DeployEvents, report: DeployReport, bundle: Bundle
) -> None:
    with _phase(report, events, "preflight"):
        report.checks = run_preflight(
            client,
            report.project.id,
            options.target,
            options.root,
            bundle,
            on_check=events.check,
            cold_start_threshold=options.cold_start_threshold,
        )
    failed = [c.name for c in report.checks if c.status == "fail"]
    if failed:
        raise DeployError(f"preflight failed ({', '.join(failed)}): fix it, or deploy anyway with --skip-checks")


def _create(
    client: VercelClient, options: DeployOptions, events: DeployEvents, report: DeployReport, bundle: Bundle
) -> Deployment:
    events.phase("upload")
    callbacks = UploadCallbacks(started=events.upload_started, sent=events.uploaded)
    body = deployment_body(report.project, options)
    created, stats = create_deployment(client, bundle, body, concurrency=options.concurrency, callbacks=callbacks)
    report.phases["upload"] = round(stats.upload_seconds, 3)
    report.phases["create"] = round(stats.create_seconds, 3)
    report.files_uploaded, report.bytes_uploaded = stats.files, stats.bytes
    report.deployment = Deployment.from_json(created)
    return report.deployment


def _release(
    client: VercelClient,
    options: DeployOptions,
    events: DeployEvents,
    report: DeployReport,
    deployment: Deployment,
    previous: Production,
) -> None:
    project_id = report.project.id
    with _phase(report, events, "promote"):
        production = move_production(client, project_id, deployment.id, "promote", Deadline(options.timeout))
    report.promoted = True
    with _phase(report, events, "verify"):
        report.production_health = check_health(production.host or deployment.url, bypass_secret=options.bypass_secret)
    if report.production_health.ok:
        return
    problem = f"production ({report.production_health.url}) failed its health check after promotion"
    problem += f": {report.production_health.problem}"
    if previous.deployment_id is None:
        raise DeployError(f"{problem}; there is no earlier production deployment to roll back to")
    events.note(f"{problem}; rolling back to {previous.deployment_id}")
    with _phase(report, events, "rollback"):
        try:
            restored = move_production(
                client, project_id, previous.deployment_id, "rollback", Deadline(options.timeout)
            )
        except (DeployError, VercelError) as exc:
            raise DeployError(f"{problem}; the automatic rollback to {previous.deployment_id} failed: {exc}") from None
        report.rolled_back_to = previous.deployment_id
        report.health_after_rollback = check_health(
            restored.host or previous.deployment_url or "", bypass_secret=options.bypass_secret
        )
    after = report.health_after_rollback
    state = "it is healthy" if after.ok else f"it fails too: {after.problem}"
    raise DeployError(f"{problem}; rolled back automatically to {previous.deployment_id}, and {state}")
