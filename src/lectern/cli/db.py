"""`lectern db upgrade|current`: migrations, run from the CLI (never on a request path)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from lectern.cli.common import CommandError, console, load_dotenv

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def _url() -> str:
    from lectern.db.session import resolve_url
    from lectern.settings import get_settings

    load_dotenv()
    return resolve_url(get_settings(), migrations=True)


@contextmanager
def _database_errors() -> Iterator[None]:
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise CommandError(f"cannot use the database: {reason}") from None


@app.command()
def upgrade() -> None:
    """Apply pending migrations (uses DATABASE_URL_UNPOOLED when set: Neon's direct host)."""
    from lectern.db import migrate

    url = _url()
    with _database_errors():
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    if before == after:
        console.print(f"Already at head ({after}).")
    else:
        console.print(f"Migrated from {before or 'an empty database'} to {after}.")


@app.command()
def current() -> None:
    """Print the database's revision and the newest one this version ships."""
    from lectern.db import migrate

    with _database_errors():
        at, head = migrate.current_revision(_url()), migrate.head_revision()
    state = "up to date" if at == head else "behind: run `lectern db upgrade`"
    console.print(f"database: {at or 'empty'}   code: {head}   ({state})")
    if at != head:
        raise typer.Exit(1)
