"""The one failure type of a deploy, a rollback or a status read: one line for the user, never a secret."""

from __future__ import annotations


class DeployError(Exception):
    """A deploy step that did not succeed; `str()` says what happened and what to do."""
