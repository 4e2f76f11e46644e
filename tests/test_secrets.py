"""Secrets never leak: not in responses, headers or logs, and not from the CLI."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

from lectern.app import create_app
from tests.cli.fixtures import Invoke, cli
from tests.cli.serving import clear_contract_env
from tests.conftest import PASSWORD
from tests.web.checks import RecordingHandler
from tests.web.fixtures import ClientFactory, lectern_log, make_client

__all__ = ["cli", "lectern_log", "make_client"]

JWT_MARKER = "jwt-marker-" + secrets.token_hex(16)
DB_MARKER = "dbpw-marker-" + secrets.token_hex(8)
SIGNUP = {"email": "reader@example.org", "password": PASSWORD}


@pytest.fixture
def marked_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    """A production environment whose JWT secret and database password are recognisable markers."""
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    # Trust authentication on the local socket ignores the password, so the marked URL still connects.
    marked_url = database_url.replace("postgres:@", f"postgres:{DB_MARKER}@", 1)
    assert DB_MARKER in marked_url
    monkeypatch.setenv("DATABASE_URL", marked_url)
    monkeypatch.setenv("JWT_SECRET", JWT_MARKER)
    return marked_url


async def exercise(client: AsyncClient) -> list[Response]:
    """Many routes, failures included; returns every response."""
    out = [await client.post("/api/auth/signup", json=SIGNUP)]
    assert out[0].status_code == 201, out[0].text
    tokens = out[0].json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    out += [
        await client.post("/api/auth/signup", json=SIGNUP),
        await client.post("/api/auth/login", json={**SIGNUP, "password": PASSWORD + "!"}),
        await client.post("/api/auth/login", json=SIGNUP),
        await client.post("/api/auth/signup", json={"email": "nope", "password": "x"}),
        await client.post("/api/auth/login", content=b"{", headers={"content-type": "application/json"}),
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        await client.get("/api/auth/me", headers=auth),
        await client.get("/api/auth/me", headers={"Authorization": "Bearer " + JWT_MARKER}),
        await client.put("/api/profile", json={"experience_level": "wizard"}, headers=auth),
        await client.get("/api/no-such-route"),
        await client.delete("/api/health"),
        await client.post("/api/auth/login", content=b"x" * 1_100_000, headers={"content-type": "application/json"}),
        await client.get("/api/health"),
        await client.get("/api/health/env"),
        await client.get("/api/health/ready"),
        await client.get("/openapi.json"),
        await client.get("/docs"),
    ]
    return out


def assert_absent(markers: list[str], responses: list[Response], *texts: str) -> None:
    for response in responses:
        where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
        for marker in markers:
            assert marker not in response.text, where
            assert all(marker not in value for value in response.headers.values()), where
    for text in texts:
        for marker in markers:
            assert marker not in text


async def test_no_secret_in_responses_headers_or_logs(
    marked_env: str,
    make_client: ClientFactory,
    make_settings: Any,
    lectern_log: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(app_env="production", database_url=marked_env, jwt_secret=JWT_MARKER, log_level="DEBUG")
    client = await make_client(app=create_app(settings))
    responses = await exercise(client)
    assert [r.status_code for r in responses[-4:-1]] == [200, 200, 200]  # health, env, ready all pass

    tokens = responses[0].json()
    captured = capsys.readouterr()
    logs = lectern_log.text() + "\n" + caplog.text + "\n" + captured.out + captured.err
    assert len(lectern_log.access_lines()) == len(responses)
    assert_absent([JWT_MARKER, DB_MARKER], responses, logs)
    for token in (PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert token not in logs


async def test_no_database_password_when_the_database_is_down(
    marked_env: str,
    make_client: ClientFactory,
    lectern_log: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    down = f"postgresql://lectern:{DB_MARKER}@127.0.0.1:9/lectern"
    client = await make_client(database_url=down, log_level="DEBUG", raise_app_exceptions=False)
    responses = [
        await client.get("/api/health/ready"),
        await client.post("/api/auth/signup", json=SIGNUP),
        await client.post("/api/auth/login", json=SIGNUP),
    ]
    assert [r.status_code for r in responses] == [503, 500, 500]
    captured = capsys.readouterr()
    logs = lectern_log.text() + "\n" + caplog.text + "\n" + captured.out + captured.err
    assert "Traceback" in logs  # the 500s were logged in full, for the operator
    assert_absent([DB_MARKER, JWT_MARKER], responses, logs)


def test_cli_never_prints_env_file_values(cli: Invoke, tmp_path: Path) -> None:
    env_file = tmp_path / "production.env"
    env_file.write_text(
        f"DATABASE_URL=postgresql://app:{DB_MARKER}@db.example.org/app\nJWT_SECRET={JWT_MARKER}\n"
        f"JWT_ISSUER=\nFRONTEND_ORIGINS=not-an-origin-{DB_MARKER}\n"
    )
    result = cli("env", "validate", "--env-file", str(env_file), "--production")
    assert result.exit_code == 1  # FRONTEND_ORIGINS and the empty issuer break the contract
    assert DB_MARKER not in result.output
    assert JWT_MARKER not in result.output


def test_cli_contract_listing_never_prints_the_environment(cli: Invoke) -> None:
    env = {"DATABASE_URL": f"postgresql://app:{DB_MARKER}@db.example.org/app", "JWT_SECRET": JWT_MARKER}
    result = cli("env", "contract", env=env)
    assert result.exit_code == 0
    assert DB_MARKER not in result.output
    assert JWT_MARKER not in result.output


def test_cli_generated_secrets_stay_hidden_unless_shown(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / ".env"
    written = cli("env", "generate-secrets", "--write", str(target))
    assert written.exit_code == 0
    value = re.search(r"^JWT_SECRET=([0-9a-f]{64})$", target.read_text(), re.MULTILINE)
    assert value is not None
    assert value.group(1) not in written.output
    assert (target.stat().st_mode & 0o777) == 0o600

    hidden = cli("env", "generate-secrets")
    assert not re.search(r"[0-9a-f]{32,}", hidden.output)

    shown = cli("env", "generate-secrets", "--show")
    assert re.search(r"^JWT_SECRET=[0-9a-f]{64}$", shown.stdout, re.MULTILINE)
