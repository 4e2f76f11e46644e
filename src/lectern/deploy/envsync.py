"""Env variables on one Vercel target: clean a value, choose its type, write and verify it, plan and apply a sync.

Vercel keeps one record per key and set of targets; a command here acts on one target, so a record shared
with other targets is split (narrowed, then a record for this target written) rather than changed for all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lectern.contract import Contract
from lectern.deploy.vercel.errors import VercelApiError, VercelError
from lectern.deploy.vercel.models import EnvVariable

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

# Vercel's limit is 64 KB for all of a deployment's variables together; one value can be no larger.
MAX_VALUE_BYTES = 64 * 1024
READABLE_TYPES = ("plain", "encrypted")

Action = Literal["add", "change", "remove", "unchanged", "keep", "skip", "invalid"]
Verdict = Literal["PASS", "FAIL", "MISSING"]


class EnvChangeError(Exception):
    """A value Lectern refuses to store, or a write Vercel did not keep as sent: one line, never the value."""


# --- values and types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanValue:
    """A value ready to store, and what was removed from around it (to tell the user)."""

    value: str = field(repr=False)
    warning: str | None = None


def clean_value(name: str, raw: str) -> CleanValue:
    """Strip surrounding whitespace (saying so), keep inner newlines (PEM keys), refuse empty or oversized values."""
    value = raw.strip()
    if not value:
        raise EnvChangeError(f"refusing to store an empty value for {name}")
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise EnvChangeError(f"the value of {name} is larger than 64 KB, Vercel's limit for all variables together")
    if value == raw:
        return CleanValue(value)
    parts = []
    if trailing := raw[len(raw.rstrip()) :]:
        parts.append("a trailing newline" if trailing in ("\n", "\r\n") else f"{len(trailing)} trailing blanks")
    if leading := len(raw) - len(raw.lstrip()):
        parts.append(f"{leading} leading blanks")
    return CleanValue(value, f"removed {' and '.join(parts)} from the value of {name}")


def check_against_contract(contract: Contract, name: str, value: str) -> None:
    """Refuse a value that breaks the contract's rule for `name` (the reason and rule, never the value)."""
    var = contract.variables.get(name)
    problem = var.problem(value) if var is not None else None
    if var is not None and problem is not None:
        raise EnvChangeError(f"{name} breaks the contract: {problem} (rule: {var.rule}); nothing was stored")


def choose_type(
    name: str,
    target: str,
    contract: Contract,
    *,
    sensitive: bool | None = None,
    existing: EnvVariable | None = None,
) -> tuple[str, str]:
    """The Vercel type to store and why: the flag, else contract secrets sensitive, else the existing type."""
    if sensitive is True:
        if target == "development":
            raise EnvChangeError("Vercel cannot store sensitive values on development: use --plain or another target")
        return "sensitive", ""
    if sensitive is False:
        return "encrypted", ""
    var = contract.variables.get(name)
    if var is not None and var.sensitive:
        if target == "development":
            return "encrypted", "a secret, stored readable: development cannot hold sensitive values"
        return "sensitive", "" if existing is not None and existing.sensitive else "sensitive: a secret in the contract"
    if existing is not None and existing.type in (*READABLE_TYPES, "sensitive"):
        return existing.type, ""
    if var is not None or target == "development":
        return "encrypted", ""
    return "sensitive", "not in the contract: sensitive by default (--plain stores it readable)"


def reserved_reason(name: str) -> str | None:
    """Why a name is never synced: Vercel's system variables and the CLI's own VERCEL_* settings."""
    if name == "VERCEL" or name.startswith("VERCEL_"):
        return "VERCEL_* belongs to Vercel and to this CLI's settings: never synced"
    return None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


# --- reading, writing and verifying one target -------------------------------------------------------------


def read_target(client: VercelClient, project_id: str, target: str) -> dict[str, EnvVariable]:
    """The target's variables by name (branch-specific ones left out), readable values decrypted."""
    records = [r for r in client.list_env(project_id, target=target) if r.git_branch is None and r.type != "system"]
    return {r.key: r if r.value is not None or r.sensitive else client.get_env(project_id, r.id) for r in records}


def verify_value(
    client: VercelClient, project_id: str, name: str, value: str, env_type: str, target: str
) -> EnvVariable:
    """Read back what Vercel stored: one record of the type asked; for a readable one, the same length and hash."""
    found = [r for r in client.list_env(project_id, target=target) if r.key == name and r.git_branch is None]
    if len(found) != 1:
        raise EnvChangeError(f"verify failed: after the write Vercel lists {len(found)} records of {name} for {target}")
    record = found[0]
    if record.sensitive:  # write-only: presence, type and target are all Vercel shows
        return record
    if env_type == "sensitive" or record.type != env_type:
        raise EnvChangeError(f"verify failed: Vercel stored {name} on {target} as {record.type}, not {env_type}")
    stored = client.get_env(project_id, record.id).value
    if stored is None:
        raise EnvChangeError(f"verify failed: Vercel did not return the value of {name} to compare")
    if _digest(stored) != _digest(value):
        raise EnvChangeError(
            f"verify failed: Vercel stored {len(stored)} characters for {name} on {target} where {len(value)} were"
            " sent, and their SHA-256 differ; check the variable on Vercel and set it again"
        )
    return record


def write_value(
    client: VercelClient,
    project_id: str,
    name: str,
    value: str,
    env_type: str,
    target: str,
    record: EnvVariable | None,
) -> EnvVariable:
    """Upsert `name` for `target` alone (splitting a record shared with other targets), then verify it."""
    if record is not None and set(record.targets) != {target}:
        others = [t for t in record.targets if t != target]
        client.edit_env(project_id, record.id, targets=others)
        try:
            client.create_env(project_id, name, value, type=env_type, targets=[target])
        except VercelError as exc:
            try:
                client.edit_env(project_id, record.id, targets=record.targets)
            except VercelError:
                raise EnvChangeError(
                    f"{exc}; and {target} could not be given back to the record of {name} shared with"
                    f" {', '.join(others)}: check `lectern env ls`"
                ) from exc
            raise
    else:
        client.create_env(project_id, name, value, type=env_type, targets=[target])
    return verify_value(client, project_id, name, value, env_type, target)


def remove_from_target(client: VercelClient, project_id: str, record: EnvVariable, target: str) -> tuple[str, ...]:
    """Take `target` away from the record (deleting it when no target is left); returns the targets it keeps."""
    others = tuple(t for t in record.targets if t != target)
    if others:
        client.edit_env(project_id, record.id, targets=others)
        return others
    try:
        client.delete_env(project_id, record.id)
    except VercelApiError as exc:
        # Already gone (a retry after a lost answer, or someone else): what was asked holds.
        if exc.status != 404:
            raise
    return others


@dataclass(frozen=True)
class StoredValue:
    """The outcome of `set`: the record, its type, why that type, and how it was verified."""

    record: EnvVariable
    type: str
    type_reason: str
    verified_by: Literal["value", "presence"]


def store_variable(
    client: VercelClient,
    project_id: str,
    contract: Contract,
    name: str,
    value: str,
    target: str,
    *,
    sensitive: bool | None,
) -> StoredValue:
    """Store a cleaned value for one target after checking it against the contract, then verify it."""
    check_against_contract(contract, name, value)
    existing = next(
        (r for r in client.list_env(project_id, target=target) if r.key == name and r.git_branch is None), None
    )
    env_type, reason = choose_type(name, target, contract, sensitive=sensitive, existing=existing)
    record = write_value(client, project_id, name, value, env_type, target, existing)
    return StoredValue(record, env_type, reason, "presence" if record.sensitive else "value")


def store_generated(
    client: VercelClient, project_id: str, target: str, values: Mapping[str, str], *, rotate: bool
) -> list[tuple[str, str]]:
    """Store generated secrets as sensitive; an existing one is kept unless `rotate`. Returns (name, outcome)."""
    if target == "development":
        raise EnvChangeError(
            "development cannot hold sensitive values (Vercel's rule): use --write .env for local secrets"
        )
    existing = {r.key: r for r in client.list_env(project_id, target=target) if r.git_branch is None}
    outcomes = []
    for name, value in values.items():
        record = existing.get(name)
        if record is not None and not rotate:
            outcomes.append((name, "kept"))
            continue
        write_value(client, project_id, name, value, "sensitive", target, record)
        outcomes.append((name, "replaced" if record is not None else "stored"))
    return outcomes


# --- sync: plan, then apply ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedChange:
    """What a sync does to one name, with a note for the user; the value itself is never shown."""

    name: str
    action: Action
    type: str = ""
    note: str = ""
    value: str | None = field(default=None, repr=False)
    record: EnvVariable | None = None


@dataclass(frozen=True)
class SyncPlan:
    """Every name of the file and of the target, and what syncing would do to each."""

    target: str
    changes: tuple[PlannedChange, ...]

    def of(self, *actions: Action) -> list[PlannedChange]:
        """The changes with one of these actions."""
        return [c for c in self.changes if c.action in actions]

    @property
    def pending(self) -> list[PlannedChange]:
        """What applying would write or remove."""
        return self.of("add", "change", "remove")


def _shared_note(record: EnvVariable, target: str) -> str:
    others = [t for t in record.targets if t != target]
    return f"{target} only: {', '.join(others)} unchanged" if others else ""


def _plan_one(name: str, raw: str, record: EnvVariable | None, contract: Contract, target: str) -> PlannedChange:
    if reason := reserved_reason(name):
        return PlannedChange(name, "skip", note=reason)
    value = raw.strip()
    if not value:
        return PlannedChange(name, "skip", note="empty in the file: not synced")
    var = contract.variables.get(name)
    problem = var.problem(value) if var is not None else None
    if var is not None and problem is not None:
        return PlannedChange(name, "invalid", note=f"breaks the contract: {problem} (rule: {var.rule})")
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        return PlannedChange(name, "invalid", note="larger than 64 KB")
    env_type, type_reason = choose_type(name, target, contract, existing=record)
    notes = ["surrounding whitespace stripped"] if value != raw else []
    if record is None:
        return PlannedChange(name, "add", env_type, "; ".join([*notes, type_reason] if type_reason else notes), value)
    if record.sensitive:
        return PlannedChange(name, "unchanged", record.type, "sensitive: compared by presence only", record=record)
    if record.type != env_type:
        notes.append(f"{record.type} → {env_type}" + (f" ({type_reason})" if type_reason else ""))
    if record.value != value:
        before = f"{len(record.value)}" if record.value is not None else "unreadable"
        notes.append(f"value differs ({before} → {len(value)} characters)")
    if record.type == env_type and record.value == value:
        return PlannedChange(name, "unchanged", env_type, record=record)
    notes.append(_shared_note(record, target))
    return PlannedChange(name, "change", env_type, "; ".join(n for n in notes if n), value, record)


def plan_sync(
    local: Mapping[str, str], remote: Mapping[str, EnvVariable], contract: Contract, target: str, *, prune: bool
) -> SyncPlan:
    """Compare a file's values with the target's (sensitive ones by presence only); remove only with `prune`."""
    changes = [_plan_one(name, local[name], remote.get(name), contract, target) for name in sorted(local)]
    for name in sorted(set(remote) - set(local)):
        record = remote[name]
        if reason := reserved_reason(name):
            changes.append(PlannedChange(name, "skip", record.type, reason))
        elif prune:
            note = _shared_note(record, target)
            changes.append(PlannedChange(name, "remove", record.type, note, record=record))
        else:
            changes.append(PlannedChange(name, "keep", record.type, "only on Vercel (--prune removes it)"))
    return SyncPlan(target, tuple(changes))


def apply_plan(
    client: VercelClient,
    project_id: str,
    plan: SyncPlan,
    report: Callable[[PlannedChange], None] = lambda change: None,
) -> None:
    """Apply every pending change (each write verified), then check that the removed names are gone."""
    invalid = plan.of("invalid")
    if invalid:
        names = ", ".join(c.name for c in invalid)
        raise EnvChangeError(f"{len(invalid)} value(s) break the contract ({names}): nothing was changed")
    pending = plan.pending
    for done, change in enumerate(pending):
        try:
            if change.action == "remove" and change.record is not None:
                remove_from_target(client, project_id, change.record, plan.target)
            elif change.value is not None:
                write_value(client, project_id, change.name, change.value, change.type, plan.target, change.record)
        except (VercelError, EnvChangeError) as exc:
            raise EnvChangeError(f"stopped after {done} of {len(pending)} changes: {exc}") from exc
        report(change)
    removed = {c.name for c in pending if c.action == "remove"}
    left = sorted(removed & {r.key for r in client.list_env(project_id, target=plan.target) if r.git_branch is None})
    if left:
        raise EnvChangeError(f"verify failed: still on {plan.target} after removal: {', '.join(left)}")


# --- the contract against a target, and pull -----------------------------------------------------------------


@dataclass(frozen=True)
class TargetCheck:
    """One contract variable on a target: PASS, FAIL or MISSING, with the reason and rule; never the value."""

    name: str
    required: bool
    verdict: Verdict
    reason: str
    rule: str


def check_target(contract: Contract, remote: Mapping[str, EnvVariable], target: str) -> list[TargetCheck]:
    """Validate the target's variables; Preview and Production get production rules (no local defaults there)."""
    values = {name: r.value for name, r in remote.items() if r.value is not None}
    checks = []
    for check in contract.validate(values, production=target != "development"):
        record = remote.get(check.name)
        if record is not None and record.sensitive:
            checks.append(TargetCheck(check.name, check.required, "PASS", "sensitive: present", check.rule))
            continue
        verdict: Verdict = "MISSING" if check.status == "missing" else "FAIL" if check.status == "invalid" else "PASS"
        checks.append(TargetCheck(check.name, check.required, verdict, check.reason, check.rule))
    return checks


def _quoted(value: str) -> str:
    # python-dotenv and the Vercel CLI read these escapes inside double quotes.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


@dataclass(frozen=True)
class PulledFile:
    """What `pull` wrote: the names with values, and the sensitive ones Vercel cannot give back."""

    written: list[str]
    sensitive: list[str]


def pull_to_file(
    client: VercelClient, project_id: str, target: str, path: Path, *, force: bool, title: str
) -> PulledFile:
    """Write the target's values to a new file with mode 0600 (an existing one only with `force`)."""
    sensitive = sorted({r.key for r in client.list_env(project_id, target=target) if r.sensitive})
    values = {k: v for k, v in client.pull_env(project_id, target).items() if k not in sensitive}
    lines = [f"# {title}", "# Holds secrets: keep it out of version control and out of deployments."]
    lines += [f"# {name}: sensitive on Vercel, its value cannot be pulled" for name in sensitive]
    lines += [f"{name}={_quoted(value)}" for name, value in sorted(values.items())]
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise EnvChangeError(f"{path} exists: pass --force to overwrite it") from None
    except OSError as exc:
        raise EnvChangeError(f"cannot write {path}: {exc.strerror}") from None
    os.fchmod(fd, 0o600)  # an overwritten file keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return PulledFile(sorted(values), sensitive)
