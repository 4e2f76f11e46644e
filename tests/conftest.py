"""Shared fixtures: one embedded PostgreSQL per run, migrated once; tables emptied after each test."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from lectern.app import create_app
from lectern.db import migrate
from lectern.db.embedded import start_embedded
from lectern.settings import Settings

TEST_DB = "lectern_test"
JWT_SECRET = "test-secret-" + secrets.token_hex(24)
PASSWORD = "a long and unusual passphrase"
TABLES = (
    "users, login_failures, book_pages, book_chunks, request_metrics, "
    "chat_conversations, chat_messages, chat_feedback, rate_limit_counters, "
    "generations, generation_usage"
)


def _libpq(url: str, database: str = "postgres") -> str:
    """psycopg's own URL form of an embedded-server SQLAlchemy URL, pointed at `database`."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    head, _, query = plain.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}?{query}"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedded server's SQLAlchemy URL (maintenance database)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return start_embedded(tmp_path_factory.mktemp("embedded"))


@pytest.fixture(scope="session")
def database_url(server_url: str) -> str:
    """A fresh, migrated test database; its SQLAlchemy URL."""
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {TEST_DB}")
    url = server_url.replace("/postgres?", f"/{TEST_DB}?", 1)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def libpq_url(database_url: str) -> str:
    """The test database as a plain libpq URL, for direct psycopg checks in tests."""
    return _libpq(database_url, TEST_DB)


@pytest.fixture
def clean_database(libpq_url: str) -> Iterator[str]:
    """The test database, emptied after the test (libpq URL)."""
    yield libpq_url
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")


@pytest.fixture
def make_settings(database_url: str, clean_database: str, tmp_path: Path) -> Any:
    """Settings for an app on the test database; keyword overrides win."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_env": "test",
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "lectern_data_dir": tmp_path / "data",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()  # type: ignore[no-any-return]


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.database.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def signup(client: AsyncClient, email: str = "reader@example.org", password: str = PASSWORD) -> dict[str, Any]:
    """Create an account through the API; returns the token response."""
    response = await client.post("/api/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
