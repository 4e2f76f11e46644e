"""Following a build to READY, ERROR or CANCELED, and the error lines of its log when it fails."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lectern.deploy.errors import DeployError
from lectern.deploy.polling import Deadline, pause
from lectern.deploy.vercel.models import Deployment

if TYPE_CHECKING:
    from lectern.deploy.vercel.client import VercelClient

FINAL_STATES = frozenset({"READY", "ERROR", "CANCELED"})
ERROR_LINES = 40
_ERROR_WORDS = re.compile(r"\b(error|failed|fatal|traceback)\b", re.IGNORECASE)


def is_final(state: str) -> bool:
    """Whether a deployment has stopped moving (`*_ERROR` states count as failures, as Vercel's client does)."""
    return state in FINAL_STATES or state.endswith("_ERROR")


def follow_build(
    client: VercelClient,
    deployment_id: str,
    deadline: Deadline,
    *,
    on_state: Callable[[str, float], None] = lambda state, elapsed: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployment:
    """Poll the deployment until it is final; `on_state(state, seconds)` after every look."""
    while True:
        deployment = client.get_deployment(deployment_id)
        on_state(deployment.state, deadline.elapsed)
        if is_final(deployment.state):
            return deployment
        if deadline.expired:
            where = f": follow it at {deployment.inspector_url}" if deployment.inspector_url else ""
            raise DeployError(
                f"{deployment_id} is still {deployment.state} after {deadline.seconds:.0f} s (--timeout){where}"
            )
        pause(deadline, sleep)


@dataclass(frozen=True)
class LogLine:
    """One event of a build log: its type (`stdout`, `stderr`, `fatal` …), its level, and its text."""

    kind: str
    level: str
    text: str

    @property
    def tells_an_error(self) -> bool:
        """stderr, fatal or error-level, or a line naming an error."""
        return self.kind in ("stderr", "fatal") or self.level == "error" or bool(_ERROR_WORDS.search(self.text))


def _log_line(event: dict[str, Any]) -> LogLine:
    # Vercel nests an event's text and level in `payload` (the CLI's `format=lines` flattens them).
    nested = event.get("payload")
    payload: dict[str, Any] = nested if isinstance(nested, dict) else event
    text = str(payload.get("text") or event.get("text") or "")
    level = str(payload.get("level") or event.get("level") or "")
    return LogLine(str(event.get("type") or ""), level, text.rstrip())


def build_log(client: VercelClient, deployment_id: str) -> list[LogLine]:
    """Every non-blank line of a deployment's build log, in order."""
    events = client.request(
        "GET", f"/v3/deployments/{quote(deployment_id, safe='')}/events", params={"direction": "forward", "limit": -1}
    )
    lines = (_log_line(event) for event in events if isinstance(event, dict)) if isinstance(events, list) else ()
    return [line for line in lines if line.text.strip()]


def error_lines(log: list[LogLine], *, limit: int = ERROR_LINES) -> list[str]:
    """The last `limit` lines of the log that tell why a build failed."""
    return [line.text for line in log if line.tells_an_error][-limit:]


def build_error_lines(client: VercelClient, deployment_id: str, *, limit: int = ERROR_LINES) -> list[str]:
    """The log lines that tell why a build failed: stderr, fatal or error-level lines, or ones naming an error."""
    return error_lines(build_log(client, deployment_id), limit=limit)
