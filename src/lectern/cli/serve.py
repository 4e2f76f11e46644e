"""`lectern serve`: run the API locally with uvicorn (migrating the embedded database first)."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from lectern.cli.common import console, load_dotenv


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes (development).")] = False,
) -> None:
    """Serve the API. Without DATABASE_URL an embedded PostgreSQL starts in LECTERN_DATA_DIR and is migrated."""
    import uvicorn

    from lectern.db import migrate
    from lectern.db.session import resolve_url
    from lectern.settings import get_settings

    load_dotenv()
    settings = get_settings()
    if settings.embedded_database:
        console.print("[dim]DATABASE_URL is not set: starting the embedded PostgreSQL…[/dim]")
        migrate.upgrade(resolve_url(settings, migrations=True))
    # Fail early, in this process, on a configuration the app would refuse.
    from lectern.app import create_app

    create_app(settings)
    console.print(f"Lectern on [bold]http://{host}:{port}[/bold]  (API docs: http://{host}:{port}/docs)")
    # uvicorn re-raises SIGTERM after its graceful shutdown, which would kill us before the atexit hook
    # that stops the embedded PostgreSQL; exit normally instead so the database does not outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "lectern.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        access_log=False,  # our own JSON line per request replaces it
        server_header=False,
        log_level="warning",
    )
