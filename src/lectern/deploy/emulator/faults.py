"""Scripted failures for tests: queued 429s and 500s per path pattern, and builds that end in ERROR or CANCELED."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_BUILD_ERROR_CODE = "BUILD_UTILS_SPAWN_1"
DEFAULT_BUILD_ERROR_MESSAGE = 'Command "uv sync" exited with 1'


@dataclass
class ScriptedResponse:
    """Answer the next `count` requests matching `path` (a glob) and `method` with `status`."""

    path: str
    status: int
    count: int = 1
    method: str | None = None
    retry_after: int | None = None
    code: str | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """Tell whether this rule applies to a request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


@dataclass
class ScriptedBuild:
    """How the next created deployment's build ends."""

    outcome: Literal["ERROR", "CANCELED"] = "ERROR"
    log_lines: list[str] = field(default_factory=list)
    error_code: str = DEFAULT_BUILD_ERROR_CODE
    error_message: str = DEFAULT_BUILD_ERROR_MESSAGE


class Faults:
    """The queue of scripted failures, safe to change from a test while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._responses: list[ScriptedResponse] = []
        self._builds: list[ScriptedBuild] = []

    def add_response(self, rule: ScriptedResponse) -> None:
        """Queue a scripted response rule."""
        if rule.count < 1:
            raise ValueError("a scripted response needs a count of at least 1")
        with self._lock:
            self._responses.append(rule)

    def rate_limit(self, path: str, *, count: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        """Answer the next `count` matching requests with 429 `rate_limited` and `Retry-After`."""
        self.add_response(ScriptedResponse(path=path, status=429, count=count, method=method, retry_after=retry_after))

    def server_error(self, path: str, *, count: int = 1, method: str | None = None) -> None:
        """Answer the next `count` matching requests with 500 `internal_server_error`."""
        self.add_response(ScriptedResponse(path=path, status=500, count=count, method=method))

    def fail_next_build(
        self,
        log_lines: list[str] | None = None,
        *,
        error_code: str = DEFAULT_BUILD_ERROR_CODE,
        error_message: str = DEFAULT_BUILD_ERROR_MESSAGE,
    ) -> None:
        """Make the next created deployment end in ERROR after printing `log_lines`."""
        with self._lock:
            self._builds.append(
                ScriptedBuild(log_lines=list(log_lines or []), error_code=error_code, error_message=error_message)
            )

    def cancel_next_build(self, log_lines: list[str] | None = None) -> None:
        """Make the next created deployment end CANCELED after printing `log_lines`, as if someone stopped it."""
        with self._lock:
            self._builds.append(ScriptedBuild(outcome="CANCELED", log_lines=list(log_lines or [])))

    def take_response(self, method: str, path: str) -> ScriptedResponse | None:
        """Consume one use of the first rule matching this request, if any."""
        with self._lock:
            for rule in self._responses:
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count == 0:
                        self._responses.remove(rule)
                    return rule
        return None

    def take_build(self) -> ScriptedBuild | None:
        """Consume the next scripted build outcome, if any."""
        with self._lock:
            return self._builds.pop(0) if self._builds else None

    def pending(self) -> dict[str, object]:
        """Describe what is still queued."""
        with self._lock:
            return {
                "responses": [
                    {"path": r.path, "method": r.method, "status": r.status, "remaining": r.count}
                    for r in self._responses
                ],
                "builds": [{"outcome": b.outcome, "logLines": list(b.log_lines)} for b in self._builds],
            }

    def clear(self) -> None:
        """Drop every queued failure."""
        with self._lock:
            self._responses.clear()
            self._builds.clear()
