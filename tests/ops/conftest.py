"""Ops fixtures: the embedded PostgreSQL over TCP, a role with a password, an unmigrated database, and the Vercel
emulator (tests/deploy/fixtures.py)."""

from tests.db.fixtures import empty_database
from tests.deploy.fixtures import emulator, vercel_client
from tests.ops.fixtures import password_role, pg_relay

__all__ = ["empty_database", "emulator", "password_role", "pg_relay", "vercel_client"]
