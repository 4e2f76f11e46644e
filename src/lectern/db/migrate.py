"""Alembic migrations shipped inside the package, run programmatically (never on a request path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is an INI file: a % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    command.upgrade(_config(url), revision)


def head_revision() -> str | None:
    """The newest revision the package ships."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return script.get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url, connect_args={"prepare_threshold": None, "connect_timeout": 10})
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
