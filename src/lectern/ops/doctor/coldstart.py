"""Check 2, cold start: the entrypoint's import time in a fresh process, its ten slowest imports, heavy modules
imported at start that could wait for the request that needs them, and the bundle size against Vercel's limit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# The same child and neutral environment as the deploy preflight, so both measure the same import.
from lectern.deploy.coldstart import ColdStartError, ImportedModule, measure_cold_start
from lectern.deploy.init import ENTRYPOINT
from lectern.deploy.preflight import COLD_START_WARN_SECONDS
from lectern.ops.doctor.report import CheckReport, Status, worst

NAME = "cold start"
SLOWEST = 10
HEAVY_SECONDS = 0.05
# What a FastAPI app needs in order to exist at all: these cannot wait for a request.
FRAMEWORK = frozenset(
    {
        "lectern",
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "typing_extensions",
        "typing_inspection",
        "annotated_types",
        "annotated_doc",
        "anyio",
        "sniffio",
        "idna",
    }
)


def _ancestors(module: ImportedModule, importers: dict[str, str | None]) -> set[str]:
    found: set[str] = set()
    current = module.importer
    while current is not None and current not in found:
        found.add(current)
        current = importers.get(current)
    return {name.split(".")[0] for name in found}


def heavy_at_start(modules: tuple[ImportedModule, ...], threshold: float = HEAVY_SECONDS) -> list[ImportedModule]:
    """Packages outside the standard library and the framework that took `threshold` seconds or more to import,
    where the entrypoint or a module it controls imported them (not FastAPI's own dependencies); slowest first.

    A package heavy only because it imports another heavy one is left out: the other is what should wait.
    """
    third_party_framework = FRAMEWORK - {"lectern"}
    candidates = [
        m
        for m in modules
        if m.name == m.package
        and m.package not in sys.stdlib_module_names
        and m.package not in FRAMEWORK
        and not m.package.startswith("_")
        and m.cumulative_us >= threshold * 1e6
        and (m.importer is None or m.importer.split(".")[0] not in third_party_framework)
    ]
    importers = {m.name: m.importer for m in modules}
    above = set().union(*(_ancestors(m, importers) for m in candidates))
    heavy = [m for m in candidates if m.package not in above]
    return sorted(heavy, key=lambda m: m.cumulative_us, reverse=True)


def _bundle(root: Path) -> tuple[Status, list[str], dict[str, Any]]:
    from lectern.deploy.bundle import BundleError, collect_bundle
    from lectern.deploy.preflight import check_bundle

    try:
        result = check_bundle(root, collect_bundle(root))
    except BundleError as exc:
        return "warn", [f"bundle: not measured ({exc})"], {"status": "warn", "summary": str(exc)}
    lines = [f"bundle: {result.summary}", *(f"bundle: {line}" for line in result.details)]
    return result.status, lines, {"status": result.status, "summary": result.summary}


def check_cold_start(root: Path, threshold: float = COLD_START_WARN_SECONDS) -> CheckReport:
    """Warn above `threshold` seconds or near the bundle limit; fail if the entrypoint does not import or is too big."""
    entrypoint = root / ENTRYPOINT
    if not entrypoint.is_file():
        return CheckReport(
            NAME,
            "warn",
            f"not checked: no {ENTRYPOINT} in {root}",
            fixes=("run `lectern doctor` in the project's folder, or `lectern init` to create it",),
        )
    bundle_status, bundle_lines, bundle_facts = _bundle(root)
    try:
        measured = measure_cold_start(entrypoint)
    except ColdStartError as exc:
        see = f"see the whole error: python -c \"import runpy; runpy.run_path('{ENTRYPOINT}')\""
        return CheckReport(
            NAME,
            "fail",
            f"{ENTRYPOINT} does not import in a fresh process: {exc}",
            tuple(bundle_lines),
            (f"fix the import error ({see}); a module it cannot find belongs in requirements.txt",),
            {"error": str(exc), "bundle": bundle_facts},
        )
    slowest = measured.slowest(SLOWEST)
    heavy = heavy_at_start(measured.modules)
    details = [f"slowest imports: {', '.join(f'{name} {seconds:.2f} s' for name, seconds in slowest)}"]
    fixes = []
    if heavy:
        listed = ", ".join(f"{m.package} {m.cumulative_us / 1e6:.2f} s ({_by(m)})" for m in heavy)
        details.append(f"heavy at start, could be imported lazily: {listed}")
        fixes.append(
            f"import {', '.join(m.package for m in heavy)} inside the function that needs "
            f"{'them' if len(heavy) > 1 else 'it'}, not at module level: every new instance pays module-level "
            "imports before its first answer"
        )
    details.extend(bundle_lines)
    slow = measured.seconds > threshold
    if slow and not heavy:
        fixes.append("move slow module-level work of the slowest imports above into the functions that need it")
    if bundle_status == "fail":
        fixes.append(
            "shrink the bundle: drop packages the API does not import from requirements.txt, or commit a uv.lock "
            "so Vercel may install up to 500 MB at cold start"
        )
    status = worst(["warn" if slow else "pass", bundle_status])
    summary = f"{measured.seconds:.2f} s to import {ENTRYPOINT} in a fresh process (warning above {threshold:.2f} s)"
    facts = {
        "seconds": round(measured.seconds, 4),
        "warnAboveSeconds": threshold,
        "slowest": [{"package": name, "seconds": round(seconds, 4)} for name, seconds in slowest],
        "heavy": [
            {"package": m.package, "seconds": round(m.cumulative_us / 1e6, 4), "importedBy": m.importer} for m in heavy
        ],
        "bundle": bundle_facts,
    }
    return CheckReport(NAME, status, summary, tuple(details), tuple(fixes), facts)


def _by(module: ImportedModule) -> str:
    return f"imported by {module.importer}" if module.importer else f"imported by {ENTRYPOINT}"
