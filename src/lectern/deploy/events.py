"""What a deploy tells its audience as it goes (a terminal, a CI log, nobody); this base tells nobody.

Kept free of heavy imports so the CLI can subclass it at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lectern.deploy.preflight import CheckResult


class DeployEvents:
    """Hooks the pipeline calls; override the ones you show."""

    def phase(self, name: str) -> None:
        """A phase starts."""

    def check(self, result: CheckResult) -> None:
        """A preflight check finished."""

    def upload_started(self, files: int, size: int) -> None:
        """Vercel lacks `files` files of `size` bytes in all: their upload starts."""

    def uploaded(self, size: int) -> None:
        """One file of `size` bytes is uploaded."""

    def build_state(self, deployment_id: str, state: str, seconds: float) -> None:
        """The build was looked at: its state after `seconds`."""

    def note(self, text: str) -> None:
        """Something the user should know now (e.g. an automatic rollback starting)."""
