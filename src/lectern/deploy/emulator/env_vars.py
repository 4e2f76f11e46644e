"""Project env vars: validation, create (upsert, batch), edit, delete, pull.

Values are stored byte-exact: the newline `echo v | vercel env add` sends stays, so tests can see it.
"""

from __future__ import annotations

import re
from typing import Any

from lectern.deploy.emulator.errors import VercelError, bad_request, not_found
from lectern.deploy.emulator.models import ENV_TYPES, STANDARD_TARGETS, EnvType, EnvVar, Project, User
from lectern.deploy.emulator.store import Store

_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _conflict_error(key: str, existing: EnvVar, target: list[str], git_branch: str | None) -> VercelError:
    # The real message says "on branch undefined" when no branch was given (vercel/vercel#16588).
    return bad_request(
        f"A variable with the name `{key}` already exists for the target {','.join(target)} "
        f"on branch {git_branch or 'undefined'}",
        code="ENV_CONFLICT",
        key=key,
        envVarKey=key,
        envVarId=existing.id,
        target=target,
        gitBranch=git_branch,
    )


def _validated_key(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise bad_request("The `key` of the Environment Variable is missing.", code="MISSING_KEY")
    if not _KEY_PATTERN.fullmatch(raw):
        raise bad_request(
            "The name of your Environment Variable contains invalid characters. Only letters, digits, "
            "and underscores are allowed. Furthermore, the name should not start with a digit.",
            code="KEY_INVALID_CHARACTERS",
            key=raw,
        )
    return raw


def _validated_type(raw: object) -> EnvType:
    if raw not in ENV_TYPES:
        raise bad_request(f"Invalid request: `type` should be one of {', '.join(ENV_TYPES)}.")
    return raw


def _validated_targets(raw: object, custom_ids: list[str]) -> list[str]:
    if raw is None and custom_ids:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or (not raw and not custom_ids):
        raise bad_request("The `target` of the Environment Variable is missing.", code="MISSING_TARGET")
    unknown = [t for t in raw if t not in STANDARD_TARGETS]
    if unknown:
        raise bad_request(f"Invalid request: unknown `target` {unknown!r}.")
    return [str(t) for t in raw]


def _validated_value(raw: object) -> str:
    if not isinstance(raw, str):
        raise bad_request("The `value` of the Environment Variable must be a string.", code="VALUE_INVALID_TYPE")
    return raw


def _check_combination(env_type: str, target: list[str], git_branch: str | None) -> None:
    if env_type == "sensitive" and "development" in target:
        raise bad_request("Sensitive Environment Variables cannot be added to the Development environment.")
    if git_branch is not None and target != ["preview"]:
        raise bad_request("A `gitBranch` can only be set for the preview target alone.")


def _overlaps(env: EnvVar, key: str, target: list[str], custom_ids: list[str], git_branch: str | None) -> bool:
    return (
        env.key == key
        and env.git_branch == git_branch
        and bool(set(env.target) & set(target) or set(env.custom_environment_ids) & set(custom_ids))
    )


def _create_one(store: Store, project: Project, item: object, upsert: bool, user: User) -> EnvVar:
    if not isinstance(item, dict):
        raise bad_request("Invalid request: each Environment Variable must be an object.")
    key = _validated_key(item.get("key"))
    env_type = _validated_type(item.get("type", "encrypted"))
    value = _validated_value(item.get("value"))
    custom_ids = [str(c) for c in item.get("customEnvironmentIds") or []]
    target = _validated_targets(item.get("target"), custom_ids)
    git_branch = item.get("gitBranch") or None
    if git_branch is not None and not isinstance(git_branch, str):
        raise bad_request("Invalid request: `gitBranch` should be a string.")
    _check_combination(env_type, target, git_branch)
    comment = item.get("comment")
    clashing = [e for e in project.env if _overlaps(e, key, target, custom_ids, git_branch)]
    now = store.now_ms()
    if clashing:
        existing = clashing[0]
        same_scope = set(existing.target) == set(target) and set(existing.custom_environment_ids) == set(custom_ids)
        # Upsert replaces only a variable with exactly these targets; a partial overlap is a conflict.
        if not (upsert and same_scope and len(clashing) == 1):
            raise _conflict_error(key, existing, target, git_branch)
        existing.value, existing.type, existing.updated_at = value, env_type, now
        existing.comment = comment if isinstance(comment, str) else existing.comment
        return existing
    env = EnvVar(
        id=store.ids.token(16),
        key=key,
        value=value,
        type=env_type,
        target=target,
        created_at=now,
        updated_at=now,
        created_by=user.id,
        git_branch=git_branch,
        custom_environment_ids=custom_ids,
        comment=comment if isinstance(comment, str) else None,
    )
    project.env.append(env)
    return env


def create_env_vars(
    store: Store, project: Project, items: list[object], *, upsert: bool, user: User
) -> tuple[list[EnvVar], list[dict[str, Any]]]:
    """Create or upsert each item; return the created records and Vercel-shaped failures."""
    created: list[EnvVar] = []
    failed: list[dict[str, Any]] = []
    for item in items:
        try:
            created.append(_create_one(store, project, item, upsert, user))
        except VercelError as error:
            failed.append(error.body())
    project.updated_at = store.now_ms()
    return created, failed


def find_env(project: Project, env_id: str) -> EnvVar:
    """Return one variable of the project, or 404."""
    for env in project.env:
        if env.id == env_id:
            return env
    raise not_found("Environment Variable not found")


def edit_env_var(store: Store, project: Project, env_id: str, changes: dict[str, Any]) -> EnvVar:
    """Apply a PATCH: any of key, value, type, target, gitBranch, customEnvironmentIds, comment."""
    env = find_env(project, env_id)
    key = _validated_key(changes["key"]) if "key" in changes else env.key
    env_type = _validated_type(changes["type"]) if "type" in changes else env.type
    if "sensitive" in (env_type, env.type) and env_type != env.type:
        # Vercel cannot read a sensitive value back, so the type cannot change in place.
        raise bad_request("The type of a sensitive Environment Variable cannot change; remove and add it again.")
    value = _validated_value(changes["value"]) if "value" in changes else env.value
    custom_ids = [str(c) for c in changes.get("customEnvironmentIds", env.custom_environment_ids)]
    target = _validated_targets(changes["target"], custom_ids) if "target" in changes else env.target
    git_branch = (changes["gitBranch"] or None) if "gitBranch" in changes else env.git_branch
    _check_combination(env_type, target, git_branch)
    for other in project.env:
        if other is not env and _overlaps(other, key, target, custom_ids, git_branch):
            raise _conflict_error(key, other, target, git_branch)
    env.key, env.type, env.value, env.target = key, env_type, value, target
    env.git_branch, env.custom_environment_ids = git_branch, custom_ids
    if isinstance(changes.get("comment"), str):
        env.comment = changes["comment"]
    env.updated_at = store.now_ms()
    return env


def delete_env_var(project: Project, env_id: str) -> EnvVar:
    """Remove one variable and return it."""
    env = find_env(project, env_id)
    project.env.remove(env)
    return env


def pulled_env(project: Project, target: str, git_branch: str | None) -> dict[str, str]:
    """Resolve what `vercel env pull` gets for a target: sensitive values come back empty."""
    resolved = {"VERCEL": "1", "VERCEL_ENV": target, "VERCEL_TARGET_ENV": target, "VERCEL_URL": ""}
    applicable = [
        env
        for env in project.env
        if (target in env.target or target in env.custom_environment_ids) and env.git_branch in (None, git_branch)
    ]
    # A branch-specific value overrides the one for all branches.
    for env in sorted(applicable, key=lambda env: env.git_branch is not None):
        resolved[env.key] = "" if env.type == "sensitive" else env.value
    return resolved
