"""Which token, team and project a command acts on: flags first, then VERCEL_* variables, then .vercel/project.json."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lectern.deploy.vercel.errors import NotLinkedError

DEFAULT_API_URL = "https://api.vercel.com"
PROJECT_FILE = Path(".vercel") / "project.json"


@dataclass(frozen=True)
class VercelLink:
    """Everything needed to talk to one project: where it came from is kept for error messages."""

    token: str = field(repr=False)
    project_id: str
    team: str | None
    api_url: str
    project_source: str
    team_source: str


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def api_url(raw: str | None) -> str:
    """The API base URL: https anywhere, plain http only on loopback (an emulator), so a token never travels bare."""
    url = (raw or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLinkedError(f"the Vercel API URL must be an http(s) URL, not {url!r} (--api or VERCEL_API_URL)")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise NotLinkedError(f"refusing to send the Vercel token over plain http to {parts.hostname}: use https")
    return url


def _project_file(cwd: Path) -> tuple[str, str | None] | None:
    path = cwd / PROJECT_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotLinkedError(f"{PROJECT_FILE} is not readable JSON ({exc}); run `vercel link` again") from None
    project_id = data.get("projectId") if isinstance(data, dict) else None
    if not isinstance(project_id, str) or not project_id:
        raise NotLinkedError(f"{PROJECT_FILE} has no projectId; run `vercel link` again")
    org_id = data.get("orgId")
    return project_id, org_id if isinstance(org_id, str) and org_id else None


def resolve_link(
    env: Mapping[str, str],
    cwd: Path,
    *,
    token: str | None = None,
    scope: str | None = None,
    api: str | None = None,
) -> VercelLink:
    """Resolve the link as the Vercel CLI does: --token/VERCEL_TOKEN, --scope/VERCEL_ORG_ID, VERCEL_PROJECT_ID."""
    token = (token or env.get("VERCEL_TOKEN") or "").strip()
    if not token:
        raise NotLinkedError("no Vercel token: set VERCEL_TOKEN or pass --token (https://vercel.com/account/tokens)")
    url = api_url(api or env.get("VERCEL_API_URL"))
    team, team_source = (scope, "--scope") if scope else (env.get("VERCEL_ORG_ID") or None, "VERCEL_ORG_ID")
    project_id, source = env.get("VERCEL_PROJECT_ID") or None, "VERCEL_PROJECT_ID"
    if project_id is None:
        linked = _project_file(cwd)
        if linked is None:
            raise NotLinkedError(
                "no Vercel project: set VERCEL_PROJECT_ID and VERCEL_ORG_ID, or run `vercel link` in this folder"
            )
        (project_id, file_team), source = linked, str(PROJECT_FILE)
        if team is None:
            team, team_source = file_team, source
    return VercelLink(
        token=token, project_id=project_id, team=team, api_url=url, project_source=source, team_source=team_source
    )
