"""`lectern init`: the files Vercel needs to run Lectern as one Python function, written idempotently.

A manifest (`.lectern-init.json`) keeps the SHA-256 of what init wrote, so a later run can tell a file it
may refresh (unchanged since written) from one the user edited (replaced only with `force`, after a diff).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Literal

from lectern import __version__
from lectern.contract import Contract, Variable, builtin_contract, parse_contract
from lectern.deploy.pins import Platform, runtime_pins
from lectern.errors import ConfigError

MANIFEST = ".lectern-init.json"
ENTRYPOINT = "api/index.py"
REQUIREMENTS = "requirements.txt"
# Files whose new content init computes from the user's own (so a user's edit is never a conflict).
MERGED = frozenset({"env.contract.json"})
# Vercel's default Python is 3.12 (vercel.md §1.1); pinning it keeps a later default switch from moving us.
DEFAULT_PYTHON = "3.12"
VERCEL_PYTHONS = ("3.12", "3.13", "3.14")
DEFAULT_REGION = "iad1"
# An LLM answer streams for up to LLM_TIMEOUT_SECONDS (30 s) plus retrieval; 60 s bounds a hung request.
MAX_DURATION_SECONDS = 60
# Vercel's Standard instance (2 GB), the most Hobby allows: written out so a team default cannot shrink it.
MEMORY_MB = 2048

Action = Literal["created", "updated", "unchanged", "kept", "replaced", "appended"]


class InitError(Exception):
    """An option init cannot work with: one line for the user."""


@dataclass(frozen=True)
class InitOptions:
    """What the user asked for; `name` defaults to the folder's name."""

    name: str
    frontend_origins: tuple[str, ...] = ()
    region: str = DEFAULT_REGION
    force: bool = False
    python: str = DEFAULT_PYTHON


@dataclass(frozen=True)
class FileOutcome:
    """What init did to one file, and the diff between the user's file and init's when they differ."""

    path: str
    action: Action
    diff: str = field(default="", repr=False)


def project_name(raw: str) -> str:
    """A Vercel project name from `raw`: lower case, letters, digits, `.`, `_` and `-`, at most 100 characters."""
    name = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-._")[:100].strip("-._")
    name = re.sub(r"-{3,}", "--", name)  # Vercel refuses "---" in a name
    return name or "lectern"


def _check_options(options: InitOptions, contract: Contract) -> None:
    if project_name(options.name) != options.name:
        raise InitError(
            f"--name {options.name!r} is not a Vercel project name: lower case letters, digits, '.', '_' and '-'"
        )
    if not re.fullmatch(r"[a-z]{3}[0-9]", options.region):
        raise InitError(f"--region {options.region!r} is not a Vercel region id such as iad1, fra1 or hnd1")
    origins = contract.variables["FRONTEND_ORIGINS"]
    for origin in options.frontend_origins:
        if origins.problem(origin) is not None or "*" in origin:
            raise InitError(f"--frontend-origin {origin!r} is not an origin such as https://book.example.org")


def python_for_vercel(version_info: tuple[int, int] | None = None) -> str:
    """This machine's Python when Vercel offers it, else Vercel's default."""
    major, minor = version_info or sys.version_info[:2]
    local = f"{major}.{minor}"
    return local if local in VERCEL_PYTHONS else DEFAULT_PYTHON


# --- the files ---------------------------------------------------------------------------------------------


def _template(name: str) -> Template:
    text = resources.files("lectern.deploy").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def vercel_json(options: InitOptions) -> str:
    """Function settings, one rewrite sending every path to the function, and a header for the whole API."""
    config: dict[str, Any] = {
        "$schema": "https://openapi.vercel.sh/vercel.json",
        "regions": [options.region],
        "functions": {ENTRYPOINT: {"maxDuration": MAX_DURATION_SECONDS, "memory": MEMORY_MB}},
        "rewrites": [{"source": "/(.*)", "destination": "/api/index"}],
        "headers": [{"source": "/(.*)", "headers": [{"key": "X-Robots-Tag", "value": "noindex"}]}],
    }
    return json.dumps(config, indent=2) + "\n"


def requirements_txt(options: InitOptions) -> str:
    """Lectern's runtime dependencies pinned to the versions installed here, for the function's platform."""
    pins = runtime_pins("lectern", Platform(options.python))
    lines = [
        f"# Written by `lectern init` for Vercel: the runtime dependencies of Lectern {__version__}, pinned",
        f"# to the versions installed where init ran, for CPython {options.python} on Linux x86_64.",
        "# Lectern itself is uploaded by `lectern deploy` (to _vendor/) unless you pin it here from a",
        f"# public index (lectern=={__version__}). Run `lectern init` again after upgrading Lectern.",
    ]
    unpinned = [pin.name for pin in pins if pin.version is None]
    if unpinned:
        lines.append(f"# Not installed where init ran, so not pinned: {', '.join(unpinned)}")
    return "\n".join([*lines, *(pin.line for pin in pins)]) + "\n"


def contract_json(options: InitOptions, builtin: Contract, existing: str | None = None) -> str:
    """The project's contract, extending the built-in one. An existing file is the user's to grow: init only
    makes FRONTEND_ORIGINS required when origins are given, and otherwise returns the file as it is."""
    if existing is not None:
        try:
            data = json.loads(existing)
        except ValueError as exc:
            raise InitError(
                f"env.contract.json is not valid JSON ({exc}): fix it, or delete it to start over"
            ) from None
    else:
        data = {
            "description": f"Variables of {options.name}'s Lectern backend beyond the built-in contract"
            " (`lectern env contract` lists both).",
            "variables": {"required": {}, "optional": {}},
            "notes": [
                "Add the variables your deployment needs with the built-in contract's fields (description, owner,"
                " validation, example, sensitive); `lectern deploy` checks them on Vercel before it deploys."
            ],
        }
    _loadable(data, builtin)
    before = json.dumps(data, sort_keys=True)
    if options.frontend_origins:
        groups = data["variables"]
        spec = _builtin_spec("FRONTEND_ORIGINS")
        spec["example"] = ",".join(options.frontend_origins)
        (groups.get("optional") or {}).pop("FRONTEND_ORIGINS", None)
        groups["required"] = {**(groups.get("required") or {}), "FRONTEND_ORIGINS": spec}
        _loadable(data, builtin)
    if existing is not None and json.dumps(data, sort_keys=True) == before:
        return existing
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _loadable(data: Any, builtin: Contract) -> None:
    try:
        parse_contract(data, base=builtin)
    except ConfigError as exc:
        raise InitError(f"env.contract.json: {exc}") from None


def _builtin_spec(name: str) -> dict[str, Any]:
    source = json.loads(resources.files("lectern").joinpath("env_contract.json").read_text(encoding="utf-8"))
    groups = source["variables"]
    return dict(groups["optional"].get(name) or groups["required"][name])


def _comment(text: str) -> list[str]:
    words, lines, line = text.split(), [], "#"
    for word in words:
        if len(line) + len(word) + 1 > 100 and line != "#":
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line] if line != "#" else lines


def _example_lines(var: Variable, given: dict[str, str]) -> list[str]:
    lines = _comment(var.description)
    facts = [f"rule: {var.rule}"] if var.rule != "any value" else []
    if var.sensitive and var.name.startswith("VERCEL_"):
        facts.append("secret: keep it in your shell or your CI's secret store")
    elif var.sensitive:
        facts.append("secret: store it sensitive on Vercel (`lectern env set`)")
    if var.generate_command:
        facts.append(f"generate: {var.generate_command}")
    if var.local_default:
        facts.append(f"locally: {var.local_default}")
    lines += [f"# {fact}" for fact in facts]  # one per line: a rule's pattern must not be cut
    if var.name in given:
        return [*lines, f"{var.name}={given[var.name]}"]
    value = "" if var.sensitive else (var.default or var.example or "")
    return [*lines, f"# {var.name}={value}"]


def env_example(options: InitOptions, contract: Contract) -> str:
    """Every contract variable with its description and rule; only what init was told is set, never a secret."""
    given = {"FRONTEND_ORIGINS": ",".join(options.frontend_origins)} if options.frontend_origins else {}
    sections = [
        (
            "Required on Vercel (production and preview)",
            [v for v in contract.required if v.owner != "vercel" and not v.name.startswith("VERCEL_")],
        ),
        (
            "Optional",
            [v for v in contract.optional if v.owner != "vercel" and not v.name.startswith("VERCEL_")],
        ),
        (
            "For the lectern command on your machine or in CI (never synced to Vercel)",
            [v for v in contract.variables.values() if v.owner != "vercel" and v.name.startswith("VERCEL_")],
        ),
    ]
    lines = [
        f"# {options.name}: Lectern's environment variables, generated by `lectern init` from the contract",
        "# (built-in + env.contract.json). Copy to .env for local runs and uncomment what you set; put",
        "# deployed values on Vercel with `lectern env set` or `lectern env sync`. Never commit a value.",
    ]
    for title, variables in sections:
        lines += ["", f"# === {title} ==="]
        for var in variables:
            lines += ["", *_example_lines(var, given)]
    return "\n".join(lines) + "\n"


def rendered_files(root: Path, options: InitOptions) -> dict[str, str]:
    """Every file init owns, by path relative to the project, with the content it writes."""
    builtin = builtin_contract()
    _check_options(options, builtin)
    path = root / "env.contract.json"
    contract_text = contract_json(options, builtin, path.read_text(encoding="utf-8") if path.is_file() else None)
    contract = parse_contract(json.loads(contract_text), base=builtin)
    return {
        ENTRYPOINT: _template("entrypoint.py.tmpl").substitute(name=options.name),
        "vercel.json": vercel_json(options),
        REQUIREMENTS: requirements_txt(options),
        ".python-version": options.python + "\n",
        "env.contract.json": contract_text,
        ".env.example": env_example(options, contract),
        ".vercelignore": _template("vercelignore.tmpl").template,
    }


# --- writing, idempotently ---------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _diff(path: str, current: str, desired: str) -> str:
    lines = difflib.unified_diff(
        current.splitlines(keepends=True),
        desired.splitlines(keepends=True),
        fromfile=f"{path} (yours)",
        tofile=f"{path} (lectern init)",
    )
    return "".join(lines)


def _read_manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        raise InitError(f"{MANIFEST} is not readable JSON: delete it and run `lectern init --force`") from None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _place(root: Path, relative: str, desired: str, recorded: str | None, force: bool) -> FileOutcome:
    path = root / relative
    if not path.exists():
        _write(path, desired)
        return FileOutcome(relative, "created")
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"cannot read {relative}: {exc}") from None
    if current == desired:
        return FileOutcome(relative, "unchanged")
    # A merged file already holds everything the user wrote, so replacing it loses nothing.
    if relative in MERGED or (recorded is not None and _digest(current) == recorded):
        _write(path, desired)
        return FileOutcome(relative, "updated")
    diff = _diff(relative, current, desired)
    if not force:
        return FileOutcome(relative, "kept", diff)
    _write(path, desired)
    return FileOutcome(relative, "replaced", diff)


def _merge_gitignore(root: Path) -> FileOutcome:
    """Append the entries .gitignore lacks; the user's own lines are never touched."""
    path = root / ".gitignore"
    block = _template("gitignore.tmpl").template.splitlines()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip() for line in current.splitlines()}
    missing = [line for line in block if not line.startswith("#") and line.strip() not in present]
    if not missing:
        return FileOutcome(".gitignore", "unchanged")
    header = [line for line in block if line.startswith("#")]
    separator = "" if not current or current.endswith("\n") else "\n"
    spacer = "\n" if current else ""
    path.write_text(current + separator + spacer + "\n".join([*header, *missing]) + "\n", encoding="utf-8")
    return FileOutcome(".gitignore", "appended" if current else "created")


def initialise(root: Path, options: InitOptions) -> list[FileOutcome]:
    """Write (or refresh) every file; a file the user changed stays unless `force`, with its diff returned."""
    files = rendered_files(root, options)
    recorded = _read_manifest(root)
    outcomes = [_place(root, path, text, recorded.get(path), options.force) for path, text in files.items()]
    outcomes.append(_merge_gitignore(root))
    hashes = dict(recorded)
    for outcome in outcomes:
        if outcome.path in files and outcome.action != "kept":
            hashes[outcome.path] = _digest(files[outcome.path])
    manifest = {"generator": f"lectern {__version__}", "name": options.name, "files": dict(sorted(hashes.items()))}
    manifest_text = json.dumps(manifest, indent=2) + "\n"
    manifest_path = root / MANIFEST
    if not manifest_path.exists() or manifest_path.read_text(encoding="utf-8") != manifest_text:
        manifest_path.write_text(manifest_text, encoding="utf-8")
    return outcomes
