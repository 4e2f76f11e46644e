"""CLI tests run `lectern` through CliRunner (see fixtures.py) and, where it matters, as a real process."""

from tests.cli.fixtures import cli
from tests.db.fixtures import empty_database

__all__ = ["cli", "empty_database"]
