"""The Vercel project a folder is linked to, when there is one: monitor and doctor work without it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lectern.deploy.vercel import Project, RetryPolicy, VercelClient


@dataclass(frozen=True)
class Linked:
    """A client and the project; both None when no project is configured (`problem` None) or it failed (said)."""

    client: VercelClient | None = None
    project: Project | None = None
    problem: str | None = None


@contextmanager
def linked_project(
    env: Mapping[str, str],
    cwd: Path,
    *,
    token: str | None = None,
    scope: str | None = None,
    api: str | None = None,
    retry: RetryPolicy | None = None,
) -> Iterator[Linked]:
    """Without a Vercel token nothing is configured; with one, any failure to reach the project is the problem."""
    from lectern.deploy.vercel import VercelClient, VercelError, resolve_link

    if not (token or env.get("VERCEL_TOKEN")):
        yield Linked()
        return
    try:
        link = resolve_link(env, cwd, token=token, scope=scope, api=api)
    except VercelError as exc:
        failure = str(exc)
    else:
        with VercelClient(link.token, team=link.team, api_url=link.api_url, retry=retry) as client:
            try:
                project = client.get_project(link.project_id)
            except VercelError as exc:
                failure = str(exc)
            else:
                # Outside the except clauses: a failure in the caller's block must not chain to a Vercel error.
                yield Linked(client, project)
                return
    yield Linked(problem=failure)
