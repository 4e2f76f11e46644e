"""Ops fixtures: the embedded PostgreSQL over TCP, a role with a password, and an unmigrated database."""

from tests.db.fixtures import empty_database
from tests.ops.fixtures import password_role, pg_relay

__all__ = ["empty_database", "password_role", "pg_relay"]
