"""Liveness, readiness (database and migrations, IETF health+json) and the env contract endpoint."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest

import lectern
from lectern.db.migrate import head_revision
from tests.cli.serving import clear_contract_env
from tests.web.fixtures import ClientFactory

HEALTH_JSON = "application/health+json"
UNREACHABLE = "postgresql://u:p@127.0.0.1:9/x"
VALID_SECRET = secrets.token_hex(32)
CHECKS = {"database:responseTime", "database:migrations"}


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No contract variable set and no project contract in the working directory."""
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def check_statuses(body: dict[str, Any]) -> dict[str, str]:
    assert set(body["checks"]) == CHECKS
    for name, entries in body["checks"].items():
        assert isinstance(entries, list) and entries, name
        assert entries[0]["status"] in ("pass", "warn", "fail")
        assert entries[0]["time"]
    return {name: entries[0]["status"] for name, entries in body["checks"].items()}


async def test_liveness(make_client: ClientFactory) -> None:
    # Liveness touches nothing external: it answers even when the database is down.
    client = await make_client(database_url=UNREACHABLE)
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": lectern.__version__}


async def test_ready_passes_on_the_migrated_database(make_client: ClientFactory) -> None:
    client = await make_client()
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.headers["content-type"] == HEALTH_JSON
    body = response.json()
    assert body["status"] == "pass"
    assert body["version"] == lectern.__version__
    assert check_statuses(body) == dict.fromkeys(CHECKS, "pass")
    assert body["checks"]["database:migrations"][0]["observedValue"] == head_revision()
    assert body["checks"]["database:responseTime"][0]["observedUnit"] == "ms"
    assert "releaseId" not in body


async def test_ready_reports_the_release(make_client: ClientFactory) -> None:
    client = await make_client(vercel_git_commit_sha="0123abc")
    body = (await client.get("/api/health/ready")).json()
    assert body["releaseId"] == "0123abc"


async def test_ready_fails_fast_when_the_database_is_down(make_client: ClientFactory) -> None:
    client = await make_client(database_url=UNREACHABLE)
    started = time.monotonic()
    response = await client.get("/api/health/ready")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.headers["content-type"] == HEALTH_JSON
    body = response.json()
    assert body["status"] == "fail"
    assert check_statuses(body) == dict.fromkeys(CHECKS, "fail")


async def test_ready_fails_when_migrations_were_not_run(make_client: ClientFactory, empty_database: str) -> None:
    client = await make_client(database_url=empty_database)
    response = await client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert check_statuses(body) == {"database:responseTime": "pass", "database:migrations": "fail"}
    assert "lectern db upgrade" in body["checks"]["database:migrations"][0]["output"]


def _env_entries(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = {item["name"]: item for item in body["variables"]}
    for item in entries.values():
        assert set(item) == {"name", "required", "present", "valid", "status", "reason"}
    return entries


async def test_env_lists_every_contract_variable_without_values(
    make_client: ClientFactory, bare_env: pytest.MonkeyPatch
) -> None:
    database_url = "postgresql://app:env-pass-91ab@db.example.org/app"
    bare_env.setenv("DATABASE_URL", database_url)
    bare_env.setenv("JWT_SECRET", VALID_SECRET)
    client = await make_client(app_env="production", jwt_secret=VALID_SECRET)
    response = await client.get("/api/health/env")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    entries = _env_entries(body)
    assert set(entries) == set(lectern.contract.builtin_contract().variables)
    assert entries["JWT_SECRET"] == {
        "name": "JWT_SECRET",
        "required": True,
        "present": True,
        "valid": True,
        "status": "valid",
        "reason": "ok",
    }
    assert entries["LOG_LEVEL"]["present"] is False
    assert entries["LOG_LEVEL"]["status"] == "default"
    assert VALID_SECRET not in response.text
    assert "env-pass-91ab" not in response.text
    assert "db.example.org" not in response.text


async def test_env_fails_when_a_required_variable_goes_missing_in_production(
    make_client: ClientFactory, bare_env: pytest.MonkeyPatch
) -> None:
    bare_env.setenv("DATABASE_URL", "postgresql://app@db.example.org/app")
    bare_env.setenv("JWT_SECRET", VALID_SECRET)
    client = await make_client(app_env="production", jwt_secret=VALID_SECRET)
    bare_env.delenv("JWT_SECRET")
    response = await client.get("/api/health/env")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    jwt = _env_entries(body)["JWT_SECRET"]
    assert (jwt["present"], jwt["valid"], jwt["status"], jwt["reason"]) == (False, False, "missing", "missing")


async def test_env_fails_on_an_invalid_required_value_without_echoing_it(
    make_client: ClientFactory, bare_env: pytest.MonkeyPatch
) -> None:
    bare_env.setenv("JWT_SECRET", "short-secret-4f2e")
    client = await make_client()
    response = await client.get("/api/health/env")
    assert response.status_code == 503
    jwt = _env_entries(response.json())["JWT_SECRET"]
    assert (jwt["present"], jwt["valid"], jwt["reason"]) == (True, False, "too_short")
    assert "short-secret-4f2e" not in response.text


async def test_env_passes_locally_on_the_embedded_defaults(
    make_client: ClientFactory, bare_env: pytest.MonkeyPatch
) -> None:
    client = await make_client()
    response = await client.get("/api/health/env")
    assert response.status_code == 200
    entries = _env_entries(response.json())
    assert entries["DATABASE_URL"]["status"] == "default"
    assert entries["DATABASE_URL"]["reason"] == "local_default"


async def test_env_warns_on_an_invalid_optional_value(make_client: ClientFactory, bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("VERCEL_GIT_COMMIT_SHA", "not-a-sha")
    client = await make_client()
    response = await client.get("/api/health/env")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn"
    sha = _env_entries(body)["VERCEL_GIT_COMMIT_SHA"]
    assert (sha["valid"], sha["reason"]) == (False, "pattern_mismatch")
