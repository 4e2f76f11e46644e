"""A benchmark database: the embedded PostgreSQL, migrated, with one reader who has a profile."""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

from lectern.auth.passwords import hash_password
from lectern.auth.tokens import create_access_token
from lectern.db import migrate
from lectern.db.embedded import start_embedded


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # SQLAlchemy URL
    jwt_secret: str
    token: str

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "JWT_SECRET": self.jwt_secret, "APP_ENV": "test", "LOG_LEVEL": "WARNING"}


def prepare(data_dir: Path | None = None) -> BenchDatabase:
    """Start, migrate and seed a database in `data_dir` (a temporary folder by default)."""
    folder = data_dir
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="lectern-bench-"))
        # Registered before the server starts, so it runs after the server's own stop hook.
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = start_embedded(folder)
    migrate.upgrade(url)
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    secret = secrets.token_hex(32)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("TRUNCATE users CASCADE")
        user_id = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('bench@example.org', %s) RETURNING id",
            (hash_password("bench password 123"),),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO profiles (user_id, software_background, hardware_background, experience_level, goals)"
            " VALUES (%s, 'Python, some Rust', 'Raspberry Pi', 'intermediate', 'Ship a robot')",
            (user_id,),
        )
    token = create_access_token(user_id, key=secret, issuer="lectern", audience="lectern-api", ttl_seconds=86_400)
    return BenchDatabase(url=url, jwt_secret=secret, token=token)
