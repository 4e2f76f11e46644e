"""Checks before a deploy, each pass, warn or fail: the env contract on Vercel, dependencies, bundle size,
cold start and pending migrations. Values read from Vercel stay in memory; a result holds names and reasons only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from lectern.contract import Contract, load_contract
from lectern.deploy.bundle import Bundle
from lectern.deploy.coldstart import ColdStartError, measure_cold_start
from lectern.deploy.envsync import check_target, read_target
from lectern.deploy.init import DEFAULT_PYTHON, ENTRYPOINT, REQUIREMENTS
from lectern.deploy.pins import Platform, installed_size, normalize, read_pins, runtime_pins
from lectern.deploy.vercel.models import EnvVariable
from lectern.errors import ConfigError

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

Status = Literal["pass", "warn", "fail"]
MB = 1024 * 1024
# Without uv.lock, Vercel's Python builder cannot move packages out of the bundle, so past ~225 MB the
# build fails with LAMBDA_SIZE_EXCEEDED (vercel.md §1.4); the documented 500 MB needs that uv.lock path.
BUNDLE_LIMIT_BYTES = 225 * MB
BUNDLE_WARN_BYTES = 180 * MB
COLD_START_WARN_SECONDS = 1.0


@dataclass(frozen=True)
class CheckResult:
    """One preflight check: its status, a one-line summary and detail lines (never a value)."""

    name: str
    status: Status
    summary: str
    details: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "summary": self.summary, "details": list(self.details)}


def megabytes(size: int) -> str:
    """Bytes as MB (1,048,576 bytes, as Vercel's limits count them)."""
    return f"{size / MB:.1f} MB"


# --- the env contract on the target ---------------------------------------------------------------------------


def check_env(contract: Contract, remote: Mapping[str, EnvVariable], target: str) -> CheckResult:
    """The contract against the target's variables; secrets Vercel hides pass on presence, and must be sensitive."""
    failed, warned = [], []
    for check in check_target(contract, remote, target):
        if check.verdict == "PASS":
            continue
        line = f"{check.name}: {check.verdict} ({check.reason}; rule: {check.rule})"
        # Preview may get DATABASE_URL & co from an integration at deployment time, invisible here.
        if check.verdict == "MISSING" and target == "preview":
            warned.append(line + "; unless an integration injects it at deployment time")
        else:
            failed.append(line)
    for name, record in sorted(remote.items()):
        var = contract.variables.get(name)
        if var is not None and var.sensitive and not record.sensitive and target != "development":
            warned.append(f"{name}: a secret stored readable ({record.type}); `lectern env set {name} --sensitive`")
    checked = len(contract.variables)
    if failed:
        return CheckResult(
            "env", "fail", f"{len(failed)} variable(s) break the contract on {target}", (*failed, *warned)
        )
    if warned:
        return CheckResult("env", "warn", f"{len(warned)} warning(s) for {target}'s variables", tuple(warned))
    return CheckResult("env", "pass", f"{checked} contract variables checked on {target}")


# --- dependencies and bundle size -------------------------------------------------------------------------------


def python_of(root: Path) -> str:
    """The Python version Vercel will use: `.python-version`, else Vercel's default."""
    path = root / ".python-version"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").split()
        if lines:
            return ".".join(lines[0].split(".")[:2])
    return DEFAULT_PYTHON


def check_dependencies(root: Path) -> CheckResult:
    """requirements.txt must name everything Lectern needs at run time; pins differing from here are noted."""
    path = root / REQUIREMENTS
    if not path.is_file():
        return CheckResult("dependencies", "fail", f"no {REQUIREMENTS}: run `lectern init`")
    pinned = {r.key: r for r in read_pins(path)}
    needed = runtime_pins("lectern", Platform(python_of(root)))
    missing = [p.name for p in needed if normalize(p.name) not in pinned]
    if missing:
        return CheckResult(
            "dependencies",
            "fail",
            f"{REQUIREMENTS} lacks {len(missing)} of Lectern's dependencies: run `lectern init` again",
            (", ".join(missing),),
        )
    different = [
        f"{p.name}: {pinned[normalize(p.name)].specifier or 'unpinned'} in {REQUIREMENTS}, {p.version} installed here"
        for p in needed
        if p.version is not None and pinned[normalize(p.name)].specifier != f"=={p.version}"
    ]
    if different:
        return CheckResult(
            "dependencies", "warn", f"{len(different)} pin(s) differ from what runs here", tuple(different)
        )
    return CheckResult("dependencies", "pass", f"{len(needed)} runtime dependencies pinned in {REQUIREMENTS}")


def check_bundle(root: Path, bundle: Bundle) -> CheckResult:
    """What Vercel installs (each pinned package's installed size here) plus the upload, against the limit."""
    path = root / REQUIREMENTS
    requirements = read_pins(path) if path.is_file() else []
    sizes = [installed_size(r.name) for r in requirements]
    unknown = [s.name for s in sizes if s.size is None]
    measured = sorted((s for s in sizes if s.size is not None), key=lambda s: s.size or 0, reverse=True)
    total = sum(s.size or 0 for s in measured) + bundle.size
    largest = [f"{s.name} {megabytes(s.size or 0)}" for s in measured[:10]]
    details = [f"largest packages: {', '.join(largest)}" if largest else "no pinned packages"]
    details.append(f"uploaded files: {len(bundle.files)}, {megabytes(bundle.size)}")
    if unknown:
        details.append(f"not installed here, so not counted: {', '.join(unknown)}")
    summary = f"{megabytes(total)} uncompressed of the {megabytes(BUNDLE_LIMIT_BYTES)} a Python function may hold"
    if total > BUNDLE_LIMIT_BYTES:
        return CheckResult("bundle", "fail", summary, tuple(details))
    status: Status = "warn" if total > BUNDLE_WARN_BYTES or unknown else "pass"
    return CheckResult("bundle", status, summary, tuple(details))


# --- cold start ----------------------------------------------------------------------------------------------


def check_cold_start(root: Path, threshold: float = COLD_START_WARN_SECONDS) -> CheckResult:
    """Import the entrypoint in a fresh process; warn above `threshold` seconds, fail if it cannot import."""
    entrypoint = root / ENTRYPOINT
    if not entrypoint.is_file():
        return CheckResult("cold start", "fail", f"no {ENTRYPOINT}: run `lectern init`")
    try:
        measured = measure_cold_start(entrypoint)
    except ColdStartError as exc:
        return CheckResult("cold start", "fail", f"{ENTRYPOINT} does not import: {exc}")
    slowest = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in measured.slowest())
    details = (f"slowest imports: {slowest}",) if slowest else ()
    status: Status = "warn" if measured.seconds > threshold else "pass"
    summary = f"{measured.seconds:.2f} s to import {ENTRYPOINT} in a fresh process (warning above {threshold:.2f} s)"
    return CheckResult("cold start", status, summary, details)


# --- migrations ----------------------------------------------------------------------------------------------


def _safe_reason(exc: Exception, url: str) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    password = urlsplit(url.replace("+psycopg", "")).password
    if password:
        text = text.replace(password, "***")
    return text.replace(url, "the database URL")


def check_migrations(remote: Mapping[str, EnvVariable], target: str) -> CheckResult:
    """Compare the target database's Alembic revision with the code's head, through the direct URL if readable."""
    upgrade = f"run `lectern db upgrade` with DATABASE_URL_UNPOOLED set to {target}'s direct database URL"
    records = [remote[name] for name in ("DATABASE_URL_UNPOOLED", "DATABASE_URL") if name in remote]
    url = next((r.value for r in records if r.value), None)
    if url is None:
        why = (
            f"{records[0].key} is sensitive on {target}, so Vercel does not return it"
            if records
            else f"no DATABASE_URL on {target}"
        )
        return CheckResult("migrations", "warn", f"not checked: {why}", (f"before deploying, {upgrade}",))
    from lectern.db import migrate
    from lectern.db.url import sqlalchemy_url

    try:
        current = migrate.current_revision(sqlalchemy_url(url))
    except Exception as exc:  # any failure to reach the database makes the check inconclusive, not the deploy
        return CheckResult("migrations", "warn", f"not checked: cannot reach the database ({_safe_reason(exc, url)})")
    head = migrate.head_revision()
    if current == head:
        return CheckResult("migrations", "pass", f"{target}'s database is at the code's revision ({head})")
    at = current or "an empty database"
    return CheckResult("migrations", "warn", f"{target}'s database is at {at}, the code at {head}", (upgrade,))


def run_preflight(
    client: VercelClient,
    project_id: str,
    target: str,
    root: Path,
    bundle: Bundle,
    *,
    on_check: Callable[[CheckResult], None] = lambda result: None,
    cold_start_threshold: float = COLD_START_WARN_SECONDS,
) -> list[CheckResult]:
    """Run every check in turn, reporting each as it completes."""
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        on_check(result)

    remote = read_target(client, project_id, target)
    try:
        contract = load_contract(os.environ, cwd=root)
    except ConfigError as exc:
        record(CheckResult("env", "fail", str(exc)))
    else:
        record(check_env(contract, remote, target))
    record(check_dependencies(root))
    record(check_bundle(root, bundle))
    record(check_cold_start(root, cold_start_threshold))
    record(check_migrations(remote, target))
    return results
