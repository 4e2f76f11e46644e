"""What the client returns: env variables, projects, accounts and deployments, read from Vercel's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Target = Literal["production", "preview", "development"]
TARGETS: tuple[Target, ...] = ("production", "preview", "development")
# Write-only types: Vercel never returns their value ("secret" is the legacy name).
WRITE_ONLY_TYPES = frozenset({"sensitive", "secret"})


@dataclass(frozen=True)
class EnvVariable:
    """One env variable record; a record can serve several targets. `value` is None when Vercel hid it."""

    id: str
    key: str
    type: str
    targets: tuple[str, ...]
    updated_at: int | None = None
    git_branch: str | None = None
    value: str | None = field(default=None, repr=False)

    @property
    def sensitive(self) -> bool:
        return self.type in WRITE_ONLY_TYPES

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvVariable:
        """Read one record; encrypted values count only when Vercel says it decrypted them."""
        env_type = str(data.get("type", ""))
        readable = env_type in ("plain", "system") or bool(data.get("decrypted"))
        raw_value = data.get("value")
        target = data.get("target") or []
        return cls(
            id=str(data["id"]),
            key=str(data["key"]),
            type=env_type,
            targets=tuple(str(t) for t in ([target] if isinstance(target, str) else target)),
            updated_at=data.get("updatedAt"),
            git_branch=data.get("gitBranch") or None,
            value=raw_value if readable and isinstance(raw_value, str) else None,
        )


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=str(data.get("id") or data.get("uid")),
            username=str(data.get("username", "")),
            email=str(data.get("email", "")),
        )


@dataclass(frozen=True)
class Team:
    id: str
    slug: str
    name: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Team:
        return cls(id=str(data["id"]), slug=str(data.get("slug", "")), name=str(data.get("name", "")))


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    account_id: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Project:
        return cls(id=str(data["id"]), name=str(data.get("name", "")), account_id=str(data.get("accountId", "")))


@dataclass(frozen=True)
class Deployment:
    """A deployment as `GET /v13/deployments/{id}` or a list item (`uid`) describes it."""

    id: str
    url: str
    name: str
    state: str
    target: str | None
    created_at: int
    project_id: str | None = None
    ready_substate: str | None = None
    alias_assigned: bool = False
    inspector_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            id=str(data.get("id") or data["uid"]),
            url=str(data.get("url", "")),
            name=str(data.get("name", "")),
            state=str(data.get("readyState") or data.get("state") or ""),
            target=data.get("target"),
            created_at=int(data.get("createdAt") or data.get("created") or 0),
            project_id=data.get("projectId"),
            ready_substate=data.get("readySubstate"),
            alias_assigned=bool(data.get("aliasAssigned")),
            inspector_url=data.get("inspectorUrl"),
            error_code=data.get("errorCode"),
            error_message=data.get("errorMessage"),
            meta={str(k): str(v) for k, v in (data.get("meta") or {}).items()},
        )


@dataclass(frozen=True)
class DeploymentPage:
    """One page of deployments, newest first; pass `next` as `until` for the older page."""

    deployments: tuple[Deployment, ...]
    next: int | None
