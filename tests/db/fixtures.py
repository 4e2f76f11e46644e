"""Database helpers other test folders reuse: psycopg URLs, a throw-away unmigrated database, a downgrade."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest


def libpq(sqlalchemy_url: str, database: str) -> str:
    """The embedded server's URL in psycopg's own form, pointed at `database`."""
    head, _, query = sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1).partition("?")
    return f"{head.rsplit('/', 1)[0]}/{database}?{query}"


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    """A database that exists on the embedded server but was never migrated; its SQLAlchemy URL."""
    name = "lectern_empty_" + secrets.token_hex(4)
    with psycopg.connect(libpq(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield libpq(server_url, name).replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(libpq(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def downgrade(database: str, revision: str) -> None:
    """Migrate the database at this SQLAlchemy URL down to `revision`."""
    from alembic import command
    from alembic.config import Config

    from lectern.db import migrate

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database)
    command.downgrade(config, revision)
