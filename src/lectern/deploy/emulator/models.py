"""The records the emulator keeps: accounts, projects, env vars, files, deployments, alias jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EnvType = Literal["plain", "encrypted", "sensitive", "system"]
ENV_TYPES: tuple[EnvType, ...] = ("plain", "encrypted", "sensitive", "system")
STANDARD_TARGETS = ("production", "preview", "development")

ReadyState = Literal["QUEUED", "BUILDING", "READY", "ERROR", "CANCELED"]
FINAL_STATES: frozenset[str] = frozenset({"READY", "ERROR", "CANCELED"})


@dataclass
class User:
    id: str
    username: str
    email: str
    name: str


@dataclass
class Team:
    id: str
    slug: str
    name: str


@dataclass
class BuildTimings:
    """How long each phase takes; read when a deployment is created."""

    queued_seconds: float = 0.2
    building_seconds: float = 0.3
    alias_seconds: float = 0.1


@dataclass
class EnvVar:
    id: str
    key: str
    value: str
    type: EnvType
    target: list[str]
    created_at: int
    updated_at: int
    created_by: str
    git_branch: str | None = None
    custom_environment_ids: list[str] = field(default_factory=list)
    comment: str | None = None


@dataclass
class Alias:
    """A hostname assigned to one deployment through `POST /v2/deployments/{id}/aliases`."""

    uid: str
    alias: str
    deployment_id: str
    created: int


@dataclass
class AliasRequest:
    """A promote or rollback job: Vercel accepts it at once and moves the domains a moment later."""

    type: Literal["promote", "rollback"]
    from_deployment_id: str | None
    to_deployment_id: str
    requested_at: int
    completes_at: int
    job_status: Literal["pending", "in-progress", "succeeded", "failed", "skipped"] = "in-progress"


@dataclass
class Project:
    id: str
    name: str
    owner_id: str
    created_at: int
    updated_at: int
    domains: list[str]
    framework: str | None = "fastapi"
    env: list[EnvVar] = field(default_factory=list)
    production_deployment_id: str | None = None
    last_alias_request: AliasRequest | None = None
    # After an instant rollback Vercel stops promoting new production builds until a promote.
    auto_promote_paused: bool = False


@dataclass(frozen=True)
class DeploymentFile:
    """One entry of a deployment's file tree; a folder left empty by `.vercelignore` has no sha."""

    path: str
    sha: str | None
    size: int
    mode: int = 0o100644

    @property
    def is_folder(self) -> bool:
        return self.sha is None


@dataclass(frozen=True)
class BuildEvent:
    id: str
    serial: int
    created: int
    type: str
    text: str
    level: str | None = None


@dataclass
class Deployment:
    id: str
    project_id: str
    owner_id: str
    creator_id: str
    name: str
    url: str
    target: str | None
    created_at: int
    building_at: int
    finishes_at: int
    outcome: Literal["READY", "ERROR", "CANCELED"]
    build_id: str
    files: list[DeploymentFile]
    events: list[BuildEvent]
    meta: dict[str, str] = field(default_factory=dict)
    source: str = "api"
    auto_assign_domains: bool = True
    error_code: str | None = None
    error_message: str | None = None
    ready_state: ReadyState = "QUEUED"
    ready_substate: Literal["STAGED", "PROMOTED"] | None = None
    alias_assigned_at: int | None = None
    served_production: bool = False

    @property
    def is_final(self) -> bool:
        return self.ready_state in FINAL_STATES
