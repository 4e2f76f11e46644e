"""`lectern env contract|validate|generate-secrets`."""

from __future__ import annotations

import re
import secrets
import stat
from pathlib import Path

import pytest

from lectern.cli.common import CommandError
from tests.cli.fixtures import Invoke

HEX64 = re.compile(r"[0-9a-f]{64}")


def rows(output: str) -> dict[str, list[str]]:
    """Table rows keyed by their first cell."""
    table: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) > 1 and re.fullmatch(r"[A-Z][A-Z0-9_]*", cells[0]):
            table[cells[0]] = cells[1:]
    return table


def test_contract_lists_required_then_optional_variables(cli: Invoke) -> None:
    result = cli("env", "contract")
    assert result.exit_code == 0
    required, _, optional = result.stdout.partition("Optional variables")
    assert "Required variables" in required
    assert "DATABASE_URL (secret)" in required and "JWT_SECRET (secret)" in required
    assert "LOG_LEVEL" not in required
    for name in ("APP_ENV", "FRONTEND_ORIGINS", "LOG_LEVEL", "DATABASE_URL_UNPOOLED (secret)"):
        assert name in optional
    assert "at least 32 characters" in required
    assert "local: generated once" in required


def test_contract_includes_the_project_file(cli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "env.contract.json").write_text(
        '{"variables": {"required": {"OPENAI_API_KEY": {"description": "Embeddings key", "owner": "ai",'
        ' "deployer": "team", "validation": {"min_length": 20}}}}}'
    )
    result = cli("env", "contract")
    assert result.exit_code == 0
    assert "OPENAI_API_KEY" in result.stdout.partition("Optional variables")[0]


def test_validate_local_passes_on_the_default_local_environment(cli: Invoke) -> None:
    result = cli("env", "validate", "--local")
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert table["JWT_SECRET"] == ["yes", "default", "local_default"]
    assert table["LOG_LEVEL"] == ["no", "default", "default"]
    assert "All variables satisfy the contract" in result.stdout


def test_validate_local_reads_the_environment(cli: Invoke) -> None:
    result = cli("env", "validate", "--local", env={"LOG_LEVEL": "LOUD"})
    assert result.exit_code == 1
    assert rows(result.stdout)["LOG_LEVEL"] == ["no", "invalid", "not_in_enum"]


def test_validate_local_in_production_requires_the_secrets(cli: Invoke) -> None:
    result = cli("env", "validate", "--local", "--production")
    assert result.exit_code == 1
    assert rows(result.stdout)["JWT_SECRET"] == ["yes", "missing", "missing"]


def test_validate_env_file_with_an_invalid_value(cli: Invoke, tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("JWT_SECRET=short-value-e81c\nAPP_ENV=staging-b72d\nDATABASE_URL=postgresql://a@b/c\n")
    result = cli("env", "validate", "--env-file", str(env_file))
    assert result.exit_code == 1
    header = next(line for line in result.stdout.splitlines() if "NAME" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == ["NAME", "required", "status", "reason"]
    table = rows(result.stdout)
    assert table["JWT_SECRET"] == ["yes", "invalid", "too_short"]
    assert table["APP_ENV"] == ["no", "invalid", "not_in_enum"]
    assert table["DATABASE_URL"] == ["yes", "valid", "ok"]
    assert "2 variable(s) break the contract" in result.stdout
    for value in ("short-value-e81c", "staging-b72d", "postgresql://a@b/c"):
        assert value not in result.output


def test_validate_env_file_ignores_this_machines_environment(cli: Invoke, tmp_path: Path) -> None:
    env_file = tmp_path / "ok.env"
    env_file.write_text(f"JWT_SECRET={secrets.token_hex(32)}\nDATABASE_URL=postgresql://a@b/c\n")
    result = cli("env", "validate", "--env-file", str(env_file), "--production", env={"LOG_LEVEL": "LOUD"})
    assert result.exit_code == 0, result.output


def test_validate_needs_a_target(cli: Invoke) -> None:
    result = cli("env", "validate")
    assert result.exit_code == 1
    assert isinstance(result.exception, CommandError)
    assert "--local" in str(result.exception)


def test_validate_a_missing_env_file(cli: Invoke, tmp_path: Path) -> None:
    result = cli("env", "validate", "--env-file", str(tmp_path / "nope.env"))
    assert isinstance(result.exception, CommandError)
    assert "does not exist" in str(result.exception)


def test_generate_secrets_hides_values_by_default(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    generated: list[str] = []
    real = secrets.token_hex

    def recording_token_hex(nbytes: int | None = None) -> str:
        generated.append(real(nbytes))
        return generated[-1]

    monkeypatch.setattr(secrets, "token_hex", recording_token_hex)
    result = cli("env", "generate-secrets")
    assert result.exit_code == 0
    assert generated and all(HEX64.fullmatch(v) for v in generated)
    assert "JWT_SECRET: generated (64 characters, hidden" in result.stdout
    assert not any(value in result.output for value in generated)
    assert not HEX64.search(result.output)


def test_generate_secrets_show_prints_them(cli: Invoke) -> None:
    result = cli("env", "generate-secrets", "--show")
    assert result.exit_code == 0
    assert re.search(r"^JWT_SECRET=[0-9a-f]{64}$", result.stdout, re.MULTILINE)


def test_generate_secrets_write_creates_a_private_env_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / ".env"
    result = cli("env", "generate-secrets", "--write", str(target))
    assert result.exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in target.read_text().splitlines())
    assert HEX64.fullmatch(values["JWT_SECRET"])
    assert values["JWT_SECRET"] not in result.output
    assert "Wrote JWT_SECRET" in result.stdout


def test_generate_secrets_write_replaces_only_its_lines(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("LOG_LEVEL=DEBUG\nexport JWT_SECRET=old-secret\n# a comment\n")
    target.chmod(0o644)
    result = cli("env", "generate-secrets", "--write", str(target))
    assert result.exit_code == 0
    lines = target.read_text().splitlines()
    assert lines[0] == "LOG_LEVEL=DEBUG"
    assert lines[2] == "# a comment"
    assert HEX64.fullmatch(lines[1].removeprefix("JWT_SECRET="))
    assert "old-secret" not in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
