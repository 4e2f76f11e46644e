"""The emulator's in-memory data and the lookups every endpoint shares (scope, project, deployment)."""

from __future__ import annotations

import secrets
import threading

from lectern.deploy.emulator.clock import Clock, SystemClock
from lectern.deploy.emulator.errors import invalid_token, not_found, team_forbidden
from lectern.deploy.emulator.faults import Faults
from lectern.deploy.emulator.ids import IdMaker
from lectern.deploy.emulator.models import Alias, BuildTimings, Deployment, Project, Team, User

# The well-known token the emulator accepts (word characters only, as the CLI requires); it guards nothing.
DEFAULT_TOKEN = "emulator_token"  # noqa: S105
DEFAULT_USER_ID = "user_emulator"
DEFAULT_TEAM_ID = "team_emulator"
DEFAULT_TEAM_SLUG = "lectern"


class Store:
    """Accounts, projects, files and deployments; guard every use with `lock`."""

    def __init__(self, *, clock: Clock | None = None, token: str = DEFAULT_TOKEN, seed: str = "lectern") -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or SystemClock()
        self.ids = IdMaker(seed)
        self.faults = Faults()
        self.timings = BuildTimings()
        # Where new deployments' `url` points: None gives Vercel-style `*.vercel.app` hostnames.
        self.deployment_host: str | None = None
        self.project_deployment_hosts: dict[str, str] = {}
        self.user = User(DEFAULT_USER_ID, "lectern-dev", "dev@lectern.invalid", "Lectern Developer")
        self.team = Team(DEFAULT_TEAM_ID, DEFAULT_TEAM_SLUG, "Lectern")
        self.tokens: set[str] = {token}
        self.teams: dict[str, Team] = {self.team.id: self.team}
        self.memberships: dict[str, set[str]] = {self.user.id: {self.team.id}}
        self.projects: dict[str, Project] = {}
        self.files: dict[str, bytes] = {}
        self.deployments: dict[str, Deployment] = {}
        self.custom_aliases: dict[str, Alias] = {}
        # Keys the fake ciphertext of encrypted values; never derived from the values alone.
        self.cipher_key = secrets.token_bytes(16)
        self._last_created_ms = 0

    def now_ms(self) -> int:
        """Return the clock's time."""
        return self.clock.now_ms()

    def unique_timestamp(self) -> int:
        """Return now, bumped so no two deployments share a creation time (`until` paging relies on it)."""
        now = max(self.now_ms(), self._last_created_ms + 1)
        self._last_created_ms = now
        return now

    def user_for_token(self, token: str) -> User:
        """Return the token's user or raise Vercel's invalid-token 403."""
        if token not in self.tokens:
            raise invalid_token()
        return self.user

    def owner_for_scope(self, user: User, team_id: str | None, slug: str | None) -> str:
        """Return the account a request acts for: the team named by `teamId`/`slug`, else the user."""
        if not team_id and not slug:
            return user.id
        team = self.teams.get(team_id or "") if team_id else self._team_by_slug(slug or "")
        if team is None or team.id not in self.memberships.get(user.id, set()):
            raise team_forbidden()
        return team.id

    def _team_by_slug(self, slug: str) -> Team | None:
        return next((team for team in self.teams.values() if team.slug == slug), None)

    def accessible_owners(self, user: User) -> set[str]:
        """Return the user's own id and the ids of the user's teams."""
        return {user.id, *self.memberships.get(user.id, set())}

    def project(self, id_or_name: str, owner_id: str) -> Project:
        """Find a project by id or name within one account, or raise 404 `not_found`."""
        for project in self.projects.values():
            if project.owner_id == owner_id and id_or_name in (project.id, project.name):
                return project
        raise not_found("Project not found")

    def deployment(self, id_or_host: str, owner_ids: set[str]) -> Deployment:
        """Find a deployment by id or hostname (its url or a domain now aliased to it)."""
        found = self.deployments.get(id_or_host)
        if found is None:
            matches = [d for d in self.deployments.values() if id_or_host in self.hostnames(d)]
            found = max(matches, key=lambda d: d.created_at) if matches else None
        if found is None or found.owner_id not in owner_ids:
            raise not_found("The deployment could not be found.")
        return found

    def hostnames(self, deployment: Deployment) -> list[str]:
        """Return the deployment's url and the domains currently aliased to it."""
        return [deployment.url, *self.aliases(deployment)]

    def aliases(self, deployment: Deployment) -> list[str]:
        """Return the domains now pointing at this deployment: production ones, then assigned ones."""
        project = self.projects.get(deployment.project_id)
        serving = project is not None and project.production_deployment_id == deployment.id
        domains = list(project.domains) if project is not None and serving else []
        assigned = [a.alias for a in self.custom_aliases.values() if a.deployment_id == deployment.id]
        return domains + [alias for alias in assigned if alias not in domains]

    def owner_slug(self, owner_id: str) -> str:
        """Return the team slug or username that Vercel shows in URLs."""
        team = self.teams.get(owner_id)
        return team.slug if team else self.user.username
