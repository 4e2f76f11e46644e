"""Engines that survive Neon's PgBouncer (no server-side prepared statements) and the reusable embedded server."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from lectern.db.embedded import start_embedded
from lectern.db.session import Database, build_engine

REPEATS = 10
QUERY = text("SELECT count(*) FROM users WHERE email = :email")
PREPARED = text("SELECT count(*) FROM pg_prepared_statements")


async def test_the_app_engine_never_prepares_statements(database_url: str, make_settings: Any) -> None:
    engine = build_engine(database_url, make_settings())
    try:
        async with engine.connect() as connection:
            for i in range(REPEATS):
                await connection.execute(QUERY, {"email": f"reader{i}@example.org"})
            assert (await connection.execute(PREPARED)).scalar() == 0
    finally:
        await engine.dispose()


async def test_request_sessions_never_prepare_statements(make_settings: Any) -> None:
    database = Database(make_settings())
    try:
        async with database.session() as session:
            for i in range(REPEATS):
                await session.execute(QUERY, {"email": f"reader{i}@example.org"})
            assert (await session.execute(PREPARED)).scalar() == 0
    finally:
        await database.dispose()


def test_psycopg_would_prepare_them_by_default(libpq_url: str) -> None:
    """The control: without prepare_threshold=None the same loop leaves prepared statements behind."""
    with psycopg.connect(libpq_url) as connection:
        for i in range(REPEATS):
            connection.execute("SELECT count(*) FROM users WHERE email = %s", (f"reader{i}@example.org",))
        row = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert row is not None and row[0] > 0


def test_embedded_server_is_reused_for_the_same_folder(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        first = start_embedded(tmp_path / "data")
        second = start_embedded(tmp_path / "data")
    assert first == second
    assert first.startswith("postgresql+psycopg://")

    # Another process on the same folder joins the running server, and leaving does not stop it for us.
    script = "import sys; from pathlib import Path; from lectern.db.embedded import start_embedded; "
    script += "print(start_embedded(Path(sys.argv[1])))"
    other = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert other.stdout.strip().splitlines()[-1] == first
    libpq = first.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, connect_timeout=5) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
