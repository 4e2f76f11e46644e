"""Token settings as plain values, and the signing key: JWT_SECRET, or locally a secret generated once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from lectern.errors import ConfigError
from lectern.settings import Settings

_cache: dict[Path, str] = {}


@dataclass(frozen=True)
class AuthConfig:
    """Plain values the auth service and the token check need, taken from settings once per app."""

    key: str
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: timedelta
    max_failures: int
    failure_window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        return cls(
            key=signing_key(settings),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=settings.access_token_ttl_seconds,
            refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
            max_failures=settings.login_max_failures,
            failure_window=timedelta(seconds=settings.login_window_seconds),
        )


def signing_key(settings: Settings) -> str:
    """JWT_SECRET when set; in production its absence is an error; locally a stored generated secret."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.production:
        raise ConfigError("JWT_SECRET is required in production (run `lectern env generate-secrets`)")
    path = (settings.lectern_data_dir / "jwt_secret").resolve()
    if path not in _cache:
        _cache[path] = _load_or_create(path)
    return _cache[path]


def _load_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together agree on one secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise ConfigError(f"{path} holds a secret shorter than 32 characters; delete it to regenerate") from None
        return value
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
