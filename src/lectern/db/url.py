"""Turn the URLs users paste (Neon's included) into SQLAlchemy URLs for psycopg 3."""

from __future__ import annotations

from urllib.parse import urlsplit

from lectern.errors import ConfigError

_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg://")


def sqlalchemy_url(url: str) -> str:
    """`postgres://…` and `postgresql://…` become `postgresql+psycopg://…`; query options pass to libpq as is."""
    url = url.strip()
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    raise ConfigError("DATABASE_URL must start with postgres:// or postgresql://")


def libpq_url(url: str) -> str:
    """The plain libpq form of a URL (what psycopg itself takes)."""
    return "postgresql://" + sqlalchemy_url(url).removeprefix("postgresql+psycopg://")


def is_pooled(url: str) -> bool:
    """Neon's pooled hosts carry `-pooler` in the endpoint id (PgBouncer in transaction mode)."""
    host = urlsplit(url.replace("+psycopg", "")).hostname or ""
    return "-pooler" in host


def is_local(url: str) -> bool:
    """A Unix socket or loopback host: no network between the app and the database."""
    parts = urlsplit(url.replace("+psycopg", ""))
    host = parts.hostname or ""
    socket_dir = "host=/" in parts.query
    return socket_dir or host in ("", "localhost", "127.0.0.1", "::1")


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
