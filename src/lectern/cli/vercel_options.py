"""What the commands that talk to Vercel share: --token/--scope/--api/--target, the linked project, one-line errors.

Nothing here imports httpx at module level: `lectern --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli.common import CommandError

if TYPE_CHECKING:
    from lectern.deploy.vercel import Project, RetryPolicy, VercelClient


class Target(StrEnum):
    """A Vercel environment."""

    production = "production"
    preview = "preview"
    development = "development"


TargetOption = Annotated[Target, typer.Option("--target", help="The Vercel environment to act on.")]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="Vercel access token (default: VERCEL_TOKEN).", show_default=False)
]
ScopeOption = Annotated[
    str | None,
    typer.Option(
        "--scope", help="Team id or slug (default: VERCEL_ORG_ID or .vercel/project.json).", show_default=False
    ),
]
ApiOption = Annotated[
    str | None,
    typer.Option(
        "--api",
        help="Vercel API base URL (default: VERCEL_API_URL or https://api.vercel.com).",
        show_default=False,
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking (needed when not interactive).")]

# The retry policy of every command (None: the client's default); tests swap in one that does not really sleep.
retry_policy: RetryPolicy | None = None


@contextmanager
def vercel_errors() -> Iterator[None]:
    """Turn a Vercel failure, or a value Lectern refuses to store, into our one-line CommandError."""
    from lectern.deploy.envsync import EnvChangeError
    from lectern.deploy.vercel import VercelError

    try:
        yield
    except (VercelError, EnvChangeError) as exc:
        raise CommandError(str(exc)) from None


@contextmanager
def linked_project(token: str | None, scope: str | None, api: str | None) -> Iterator[tuple[VercelClient, Project]]:
    """A client for the linked project and the project itself; any failure inside is one line and exit 1."""
    from lectern.deploy.vercel import VercelApiError, VercelClient, resolve_link

    with vercel_errors():
        link = resolve_link(os.environ, Path.cwd(), token=token, scope=scope, api=api)
        with VercelClient(link.token, team=link.team, api_url=link.api_url, retry=retry_policy) as client:
            try:
                project = client.get_project(link.project_id)
            except VercelApiError as exc:
                if exc.status != 404:
                    raise
                hint = "" if link.team else ": set --scope or VERCEL_ORG_ID for a team's project"
                where = f"{link.team} ({link.team_source})" if link.team else "your personal account"
                raise CommandError(
                    f"Vercel has no project {link.project_id} ({link.project_source}) in {where}" + hint
                ) from None
            yield client, project


def confirm(question: str, *, yes: bool) -> None:
    """Ask before a change; without a terminal, only --yes goes ahead."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(f"{question} Not confirmed: pass --yes to go ahead without a prompt")
    if not typer.confirm(question, default=False):
        raise CommandError("stopped: nothing was changed")
