"""`lectern db current|upgrade` against real databases, and the one-line failure when there is none."""

from __future__ import annotations

import subprocess

from lectern.cli.common import CommandError
from lectern.db.migrate import head_revision
from tests.cli.fixtures import Invoke
from tests.cli.serving import LECTERN, clean_env

UNREACHABLE = "postgresql://lectern:pw-3e9a@127.0.0.1:9/lectern"


def test_current_on_the_migrated_database(cli: Invoke, database_url: str) -> None:
    result = cli("db", "current", env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert f"database: {head_revision()}" in result.stdout
    assert "up to date" in result.stdout


def test_upgrade_on_the_migrated_database_changes_nothing(cli: Invoke, database_url: str) -> None:
    result = cli("db", "upgrade", env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert f"Already at head ({head_revision()})" in result.stdout


def test_upgrade_migrates_an_empty_database(cli: Invoke, empty_database: str) -> None:
    env = {"DATABASE_URL": empty_database}
    behind = cli("db", "current", env=env)
    assert behind.exit_code == 1
    assert "database: empty" in behind.stdout and "lectern db upgrade" in behind.stdout

    upgraded = cli("db", "upgrade", env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Migrated from an empty database to {head_revision()}" in upgraded.stdout

    assert cli("db", "current", env=env).exit_code == 0


def test_upgrade_prefers_the_unpooled_url(cli: Invoke, empty_database: str) -> None:
    result = cli("db", "upgrade", env={"DATABASE_URL": UNREACHABLE, "DATABASE_URL_UNPOOLED": empty_database})
    assert result.exit_code == 0, result.output
    assert "Migrated from an empty database" in result.stdout


def test_unreachable_database_is_a_command_error(cli: Invoke) -> None:
    result = cli("db", "current", env={"DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert str(result.exception).startswith("cannot use the database")
    assert "pw-3e9a" not in str(result.exception)


def test_unreachable_database_prints_one_line_and_no_traceback() -> None:
    done = subprocess.run(
        [str(LECTERN), "db", "current"],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(DATABASE_URL=UNREACHABLE, COLUMNS="250"),
        check=False,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot use the database")
    assert "Traceback" not in done.stderr + done.stdout
    assert "pw-3e9a" not in done.stderr + done.stdout
