"""Failures of Vercel operations, each one line for the user: what was asked, what Vercel said, what to check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def one_line(text: str) -> str:
    """Collapse whitespace so a message from Vercel never spans several lines."""
    return " ".join(text.split())


class VercelError(Exception):
    """Any failure of a Vercel operation; `str()` is one line for the user, never holding a secret."""


class NotLinkedError(VercelError):
    """Lectern cannot tell which token, team, project or API address to use."""


class VercelConnectionError(VercelError):
    """Vercel could not be reached (connection refused, DNS, timeout), retries included."""


class VercelApiError(VercelError):
    """Vercel answered with an error: its HTTP status and the `error.code`/`error.message` of its body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        method: str,
        path: str,
        details: Mapping[str, Any] | None = None,
        attempts: int = 1,
        note: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = one_line(message)
        self.method = method
        self.path = path
        self.details = dict(details or {})
        self.attempts = attempts
        self.note = note
        super().__init__(str(self))

    @property
    def hint(self) -> str:
        """What the user can check, for the failures that have a usual cause."""
        if self.status == 401 or self.details.get("invalidToken") or self.details.get("missingToken"):
            return "check the token (--token or VERCEL_TOKEN)"
        if self.status == 403:
            return "check the token's access to the team (--scope or VERCEL_ORG_ID)"
        return ""

    def __str__(self) -> str:
        text = f"Vercel answered {self.method} {self.path} with {self.status} {self.code}: {self.message}"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        extras = [part for part in (self.note, self.hint) if part]
        return text + ("; " + "; ".join(extras) if extras else "")
