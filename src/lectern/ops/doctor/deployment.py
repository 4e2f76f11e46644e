"""Check 1, deployment: the state of the target's latest deployment and, for ERROR, the build log's error lines
and the likely cause (missing dependency, Python version, entrypoint not found, bundle too large …).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lectern.deploy.builds import is_final
from lectern.ops.doctor.report import CheckReport

if TYPE_CHECKING:
    from lectern.deploy.vercel import Deployment, Project, VercelClient

NAME = "deployment"
SUPPORTED_PYTHON = "3.12, 3.13 or 3.14"


@dataclass(frozen=True)
class BuildCause:
    """Why a build most likely failed, the log line that says so, and what to do."""

    cause: str
    evidence: str
    fix: str


@dataclass(frozen=True)
class _Rule:
    cause: str
    pattern: re.Pattern[str]
    fix: Callable[[re.Match[str]], str]


# First match wins: a size or Python-version failure often also prints install errors further down.
_RULES = (
    _Rule(
        "bundle too large",
        re.compile(
            r"LAMBDA_SIZE_EXCEEDED|exceeded the unzipped maximum size|maximum size of \d+ ?MB|"
            r"function size .*exceeds|too large",
            re.IGNORECASE,
        ),
        lambda m: (
            "shrink the function below 225 MB: drop packages the API does not import from requirements.txt "
            "(`lectern doctor` lists the largest under cold start), or commit a uv.lock so Vercel may install "
            "up to 500 MB at cold start"
        ),
    ),
    _Rule(
        "Python version",
        re.compile(
            r"Requires-Python|requires a different Python|Python>=?\s*[\d.]+|python_requires|"
            r"(?:invalid|unsupported|discontinued) Python version|No interpreter found for Python|"
            r"Python version \S+ is not (?:supported|available)|current Python version \([\d.]+\) does not satisfy",
            re.IGNORECASE,
        ),
        lambda m: (
            f"pin a Python Vercel offers ({SUPPORTED_PYTHON}) in .python-version, and versions in requirements.txt "
            "that support it (`lectern init` writes both)"
        ),
    ),
    _Rule(
        "missing dependency",
        re.compile(r"ModuleNotFoundError: No module named '([^']+)'|No module named '([^']+)'"),
        lambda m: (
            f"add the package that provides `{(m[1] or m[2]).split('.')[0]}` to requirements.txt "
            "(`lectern init` pins Lectern's own dependencies), then deploy again"
        ),
    ),
    _Rule(
        "missing dependency",
        re.compile(
            r"No matching distribution found for (\S+)|Could not find a version that satisfies the requirement (\S+)|"
            r"No solution found when resolving|Because (\S+) was not found in the package registry",
            re.IGNORECASE,
        ),
        lambda m: (
            f"requirements.txt asks for {next((g for g in m.groups() if g), 'a package')}, which the index does "
            "not have for Linux x86_64 and Vercel's Python: fix the name or pin a version that exists"
        ),
    ),
    _Rule(
        "entrypoint not found",
        re.compile(
            r"No (?:FastAPI|Flask|Python|ASGI|WSGI)? ?(?:app|application|entrypoint)s? (?:was )?(?:found|detected)|"
            r"entrypoint (?:not found|is missing)|Could not find (?:a|the) (?:top-level )?`?app`?|"
            r"defines no top-level app",
            re.IGNORECASE,
        ),
        lambda m: (
            "api/index.py must exist and define a top-level `app` (run `lectern init`), and .vercelignore must "
            "not exclude it"
        ),
    ),
)


def likely_cause(lines: Sequence[str]) -> BuildCause | None:
    """The first rule any line matches, in rule order."""
    for rule in _RULES:
        for line in lines:
            match = rule.pattern.search(line)
            if match:
                return BuildCause(rule.cause, line.strip(), rule.fix(match))
    return None


def _age(created_at: int, now_ms: int) -> str:
    minutes = max(0, now_ms - created_at) // 60_000
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago" if minutes < 2880 else f"{minutes // 1440} d ago"


def _facts(deployment: Deployment, **more: object) -> dict[str, object]:
    return {"id": deployment.id, "state": deployment.state, "url": deployment.url or None, **more}


def check_deployment(client: VercelClient, project: Project, target: str) -> CheckReport:
    """The target's newest deployment: READY passes, still building or CANCELED warns, ERROR fails with its cause."""
    from lectern.deploy.builds import build_log, error_lines
    from lectern.deploy.vercel import VercelError

    try:
        page = client.list_deployments(project.id, target=target, limit=1)
    except VercelError as exc:
        return CheckReport(NAME, "fail", f"cannot list {project.name}'s deployments: {exc}")
    if not page.deployments:
        deploy = "lectern deploy --prod" if target == "production" else "lectern deploy"
        return CheckReport(NAME, "warn", f"{project.name} has no {target} deployment yet", fixes=(f"run `{deploy}`",))
    latest = page.deployments[0]
    when = _age(latest.created_at, time.time_ns() // 1_000_000)
    head = f"latest {target} deployment {latest.id} ({when}) is {latest.state}"
    if latest.state == "READY":
        return CheckReport(NAME, "pass", head, facts=_facts(latest))
    if not is_final(latest.state):
        return CheckReport(
            NAME,
            "warn",
            head + ": still building",
            fixes=("run `lectern doctor` again once it is done",),
            facts=_facts(latest),
        )
    if latest.state == "CANCELED":
        return CheckReport(
            NAME, "warn", head, fixes=("deploy again: a canceled build never serves",), facts=_facts(latest)
        )
    try:
        log = build_log(client, latest.id)
    except VercelError as exc:
        lines, texts = [f"(the build log could not be read: {exc})"], []
    else:
        lines, texts = error_lines(log), [line.text for line in log]
    reason = " ".join(p for p in (latest.error_code and f"{latest.error_code}:", latest.error_message) if p)
    # The whole log: a traceback's last line (ModuleNotFoundError …) often names no "error" word of its own.
    cause = likely_cause([*lines, *texts, reason])
    if cause is not None and cause.evidence not in lines:
        lines.append(cause.evidence)
    summary = head + (f" ({reason})" if reason else "")
    details = [f"build log: {line}" for line in lines] or ["the build log has no error lines"]
    facts = _facts(latest, errorLines=lines, cause=cause.cause if cause else None)
    if cause is None:
        fix = f"read the whole build log: `vercel inspect {latest.id} --logs`"
        return CheckReport(NAME, "fail", summary + "; cause unknown", tuple(details), (fix,), facts)
    details.append(f"likely cause: {cause.cause} ({cause.evidence})")
    return CheckReport(NAME, "fail", f"{summary}; likely cause: {cause.cause}", tuple(details), (cause.fix,), facts)
