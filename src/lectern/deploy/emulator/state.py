"""`EmulatorState`: the store plus what tests reach for directly (seed data, faults, request log)."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lectern.deploy.emulator.clock import Clock
from lectern.deploy.emulator.deployments import create_deployment, new_project
from lectern.deploy.emulator.env_vars import create_env_vars
from lectern.deploy.emulator.errors import VercelError
from lectern.deploy.emulator.lifecycle import advance
from lectern.deploy.emulator.models import Deployment, EnvType, EnvVar, Project
from lectern.deploy.emulator.ratelimit import RateLimiter
from lectern.deploy.emulator.store import DEFAULT_TOKEN, Store

_REQUEST_LOG_SIZE = 10_000


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the emulator saw it (bodies are not kept: they may hold secrets)."""

    method: str
    path: str
    query: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''} -> {self.status}"


class EmulatorState(Store):
    """Everything the emulator knows; safe to read and change from tests while it serves."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token: str = DEFAULT_TOKEN,
        seed: str = "lectern",
        rate_limit: int = 1000,
    ) -> None:
        super().__init__(clock=clock, token=token, seed=seed)
        self.rate_limiter = RateLimiter(limit=rate_limit)
        self._requests: deque[RecordedRequest] = deque(maxlen=_REQUEST_LOG_SIZE)

    def add_project(self, name: str, *, owner_id: str | None = None, project_id: str | None = None) -> Project:
        """Create a project, owned by the default team unless `owner_id` says otherwise."""
        with self.lock:
            return new_project(self, name, owner_id or self.team.id, project_id=project_id)

    def add_env(
        self,
        project: Project,
        key: str,
        value: str,
        *,
        type: EnvType = "encrypted",
        target: Iterable[str] = ("production", "preview", "development"),
        git_branch: str | None = None,
    ) -> EnvVar:
        """Create an env var as `POST /v10/projects/{id}/env` would, raising its error if it fails."""
        item: dict[str, Any] = {"key": key, "value": value, "type": type, "target": list(target)}
        if git_branch is not None:
            item["gitBranch"] = git_branch
        with self.lock:
            created, failed = create_env_vars(self, project, [item], upsert=False, user=self.user)
        if failed:
            error = failed[0]["error"]
            raise VercelError(400, error["code"], error["message"])
        return created[0]

    def env_var(self, project: Project, key: str, *, target: str | None = None) -> EnvVar | None:
        """Return the project's variable named `key` (for `target`, when given)."""
        with self.lock:
            for env in project.env:
                if env.key == key and (target is None or target in env.target):
                    return env
        return None

    def upload(self, content: bytes) -> str:
        """Store a file as `POST /v2/files` would and return its sha1."""
        sha = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        with self.lock:
            self.files[sha] = content
        return sha

    def deploy(
        self,
        project: Project,
        files: Mapping[str, bytes] | None = None,
        *,
        target: str | None = None,
        auto_assign_domains: bool = True,
        meta: Mapping[str, str] | None = None,
    ) -> Deployment:
        """Upload `files` and create a deployment of them, as a client would over HTTP."""
        entries = [
            {"file": path, "sha": self.upload(content), "size": len(content)}
            for path, content in (files or {"api/index.py": b"app = None\n"}).items()
        ]
        body: dict[str, Any] = {
            "name": project.name,
            "project": project.id,
            "files": entries,
            "target": target,
            "meta": dict(meta or {}),
            "autoAssignCustomDomains": auto_assign_domains,
        }
        with self.lock:
            return create_deployment(self, self.user, project.owner_id, body)

    def get_deployment(self, deployment_id: str) -> Deployment:
        """Return a deployment after applying what the clock says has happened."""
        with self.lock:
            advance(self)
            return self.deployments[deployment_id]

    def set_deployment_host(
        self, host: str | None, *, project: Project | None = None, deployment_id: str | None = None
    ) -> None:
        """Point deployments' `url` at `host` (e.g. `127.0.0.1:8000`): new ones, a project's, or one."""
        with self.lock:
            if deployment_id is not None:
                if host is None:
                    raise ValueError("an existing deployment needs a host")
                self.deployments[deployment_id].url = host
            elif project is not None:
                if host is None:
                    self.project_deployment_hosts.pop(project.id, None)
                else:
                    self.project_deployment_hosts[project.id] = host
            else:
                self.deployment_host = host

    def record(self, request: RecordedRequest) -> None:
        """Append one request to the log."""
        with self.lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests seen so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self.lock:
            self._requests.clear()
