"""Password hashing with Argon2id (pwdlib), and the built-in list of common passwords."""

from __future__ import annotations

import secrets
from functools import lru_cache
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@lru_cache
def _hasher() -> PasswordHash:
    # OWASP's Argon2id floor (19 MiB, t=2, p=1): affordable per login on a small serverless instance.
    return PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; with no hash (unknown account) spend the same time and fail."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False, None
    return _hasher().verify_and_update(password, password_hash)


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("lectern.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()
