"""The environment contract: parsing, validation statuses, project extensions, coverage of what the code reads."""

from __future__ import annotations

import ast
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import lectern
from lectern.app import create_app
from lectern.contract import Contract, builtin_contract, load_contract, parse_contract
from lectern.errors import ConfigError
from lectern.settings import Settings, load_settings
from tests.cli.serving import clear_contract_env

SRC = Path(lectern.__file__).parent
VALID_SECRET = secrets.token_hex(32)
PROJECT_CONTRACT = {
    "variables": {
        "required": {
            "OPENAI_API_KEY": {
                "description": "Key for the embedding model.",
                "owner": "ai",
                "deployer": "team",
                "validation": {"min_length": 20, "pattern": "^sk-"},
            }
        },
        "optional": {"BOOK_TITLE": {"description": "Shown in the API docs."}},
    }
}


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def statuses(contract: Contract, env: dict[str, str], *, production: bool) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.reason) for c in contract.validate(env, production=production)}


def test_builtin_contract_parses_and_describes_every_variable() -> None:
    contract = builtin_contract()
    assert {v.name for v in contract.required} >= {"DATABASE_URL", "JWT_SECRET"}
    assert len(contract.optional) >= 10
    for var in contract.variables.values():
        assert var.description and var.owner and var.deployer, var.name
        assert var.required == (var.local_default is not None), var.name
    assert contract.variables["JWT_SECRET"].sensitive
    assert contract.variables["DATABASE_URL"].sensitive
    assert contract.variables["JWT_SECRET"].rule == "at least 32 characters"


def test_builtin_defaults_and_examples_satisfy_their_own_rules() -> None:
    for var in builtin_contract().variables.values():
        for sample in (var.default, var.example):
            if sample is not None:
                assert var.problem(sample) is None, (var.name, sample)


def test_validation_statuses_and_reasons() -> None:
    env = {
        "JWT_SECRET": "too-short",
        "DATABASE_URL": "mysql://app@db/app",
        "APP_ENV": "staging",
        "LOG_LEVEL": "",
        "JWT_ISSUER": "book",
        "VERCEL_GIT_COMMIT_SHA": "0123abcd",
    }
    result = statuses(builtin_contract(), env, production=False)
    assert result["JWT_SECRET"] == ("invalid", "too_short")
    assert result["DATABASE_URL"] == ("invalid", "pattern_mismatch")
    assert result["APP_ENV"] == ("invalid", "not_in_enum")
    assert result["LOG_LEVEL"] == ("invalid", "empty")
    assert result["JWT_ISSUER"] == ("valid", "ok")
    assert result["VERCEL_GIT_COMMIT_SHA"] == ("valid", "ok")
    assert result["ACCESS_TOKEN_TTL_SECONDS"] == ("default", "default")
    assert result["GITHUB_PAGES_URL"] == ("unset", "optional")


def test_required_variables_have_local_defaults_but_are_missing_in_production() -> None:
    contract = builtin_contract()
    assert statuses(contract, {}, production=False)["JWT_SECRET"] == ("default", "local_default")
    assert statuses(contract, {}, production=True)["JWT_SECRET"] == ("missing", "missing")
    checks = {c.name: c for c in contract.validate({"JWT_SECRET": VALID_SECRET}, production=True)}
    assert checks["JWT_SECRET"].ok and checks["JWT_SECRET"].present
    assert not checks["DATABASE_URL"].ok and not checks["DATABASE_URL"].present


def test_a_required_variable_without_a_local_default_is_missing_everywhere() -> None:
    contract = parse_contract(PROJECT_CONTRACT)
    assert statuses(contract, {}, production=False)["OPENAI_API_KEY"] == ("missing", "missing")
    assert statuses(contract, {"OPENAI_API_KEY": "sk-" + "a" * 30}, production=True)["OPENAI_API_KEY"] == (
        "valid",
        "ok",
    )
    assert statuses(contract, {"OPENAI_API_KEY": "pk-" + "a" * 30}, production=True)["OPENAI_API_KEY"] == (
        "invalid",
        "pattern_mismatch",
    )


def test_a_project_file_in_the_working_directory_extends_the_contract(tmp_path: Path) -> None:
    (tmp_path / "env.contract.json").write_text(json.dumps(PROJECT_CONTRACT))
    contract = load_contract({}, cwd=tmp_path)
    assert set(builtin_contract().variables) < set(contract.variables)
    assert contract.variables["OPENAI_API_KEY"].required
    assert contract.variables["OPENAI_API_KEY"].rule == "at least 20 characters; matches ^sk-"
    assert not contract.variables["BOOK_TITLE"].required
    assert contract.notes[-len(builtin_contract().notes) :] == builtin_contract().notes


def test_lectern_contract_points_at_the_project_file(tmp_path: Path) -> None:
    path = tmp_path / "contracts" / "book.json"
    path.parent.mkdir()
    path.write_text(json.dumps(PROJECT_CONTRACT))
    contract = load_contract({"LECTERN_CONTRACT": str(path)}, cwd=tmp_path)
    assert "OPENAI_API_KEY" in contract.variables


def test_without_a_project_file_the_builtin_contract_is_used(tmp_path: Path) -> None:
    assert load_contract({}, cwd=tmp_path).variables == builtin_contract().variables


def test_lectern_contract_naming_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_contract({"LECTERN_CONTRACT": str(tmp_path / "nope.json")}, cwd=tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"variables": []}),
        json.dumps({"variables": {"required": ["JWT_SECRET"]}}),
        json.dumps({"variables": {"required": {"lower_case": {}}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": "a string"}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": {"validation": "min 3"}}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": {"validation": {"pattern": "(unclosed"}}}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": {"validation": {"pattern": 5}}}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": {"validation": {"min_length": "3"}}}}}),
        json.dumps({"variables": {"optional": {"BOOK_TITLE": {"validation": {"enum": "abc"}}}}}),
    ],
)
def test_a_broken_project_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "env.contract.json").write_text(text)
    with pytest.raises(ConfigError):
        load_contract({}, cwd=tmp_path)


# --- The contract covers everything the code reads -------------------------------------------------------


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _literal_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isupper():
        return node.value
    return None


def variables_read_by(source: str) -> set[str]:
    """UPPER_CASE names read via os.environ[...], os.environ.get(...), os.getenv(...) or env.get(...)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _literal_name(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            func = node.func
            reads = (func.attr == "get" and (_is_environ(func.value) or getattr(func.value, "id", "") == "env")) or (
                func.attr in ("getenv", "getenvb") and getattr(func.value, "id", "") == "os"
            )
            name = _literal_name(node.args[0]) if reads else None
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getenv" and node.args:
            name = _literal_name(node.args[0])
        else:
            name = None
        if name:
            found.add(name)
    return found


def test_the_scanner_finds_every_way_of_reading_a_variable() -> None:
    source = (
        "import os\nfrom os import environ, getenv\n"
        "a = os.environ['ALPHA']\nb = os.environ.get('BRAVO', 'x')\nc = os.getenv('CHARLIE')\n"
        "d = env.get('DELTA')\ne = environ['ECHO']\nf = getenv('FOXTROT')\ng = os.environ.get(name)\n"
        "h = settings.get('lower')\n"
    )
    assert variables_read_by(source) == {"ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"}


def test_every_variable_the_code_reads_is_in_the_contract() -> None:
    declared = set(builtin_contract().variables)
    read: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for name in variables_read_by(path.read_text(encoding="utf-8")):
            read.setdefault(name, set()).add(str(path.relative_to(SRC)))
    settings_fields = {name.upper() for name in Settings.model_fields}
    assert "LECTERN_CONTRACT" in read  # the scan does see reads
    undeclared = {name: sorted(files) for name, files in read.items() if name not in declared}
    assert not undeclared, f"read by the code but not in env_contract.json: {undeclared}"
    assert not settings_fields - declared, f"Settings fields missing from the contract: {settings_fields - declared}"


def same_default(python: Any, contract: str) -> bool:
    """Whether a Settings default and the contract's text default mean the same value."""
    if isinstance(python, bool):
        return contract in (("true", "1") if python else ("false", "0"))
    if isinstance(python, int | float):
        try:
            return float(contract) == python
        except ValueError:
            return False
    return str(python) == contract


def test_settings_defaults_match_the_contract_defaults() -> None:
    contract = builtin_contract()
    compared = 0
    for name, field in Settings.model_fields.items():
        var = contract.variables[name.upper()]
        if field.default is None or var.default is None:
            continue
        assert same_default(field.default, var.default), (name.upper(), field.default, var.default)
        compared += 1
    assert compared >= 10


# --- Production startup ------------------------------------------------------------------------------------


def test_production_start_without_jwt_secret_names_it_and_its_rule(
    make_settings: Any, bare_env: pytest.MonkeyPatch
) -> None:
    bare_env.setenv("DATABASE_URL", "postgresql://app@db.example.org/app")
    with pytest.raises(ConfigError) as caught:
        create_app(make_settings(app_env="production"))
    message = str(caught.value)
    assert "JWT_SECRET" in message
    assert "missing" in message
    assert "at least 32 characters" in message
    assert "DATABASE_URL" not in message


def test_production_start_with_a_short_jwt_secret_never_shows_it(
    make_settings: Any, bare_env: pytest.MonkeyPatch
) -> None:
    weak = "hunter2-is-my-jwt-secret"
    bare_env.setenv("DATABASE_URL", "postgresql://app@db.example.org/app")
    bare_env.setenv("JWT_SECRET", weak)
    with pytest.raises(ConfigError) as caught:
        create_app(make_settings(app_env="production", jwt_secret=weak))
    message = str(caught.value)
    assert "JWT_SECRET" in message
    assert "too_short" in message
    assert weak not in message
    assert "hunter2" not in message


def test_production_start_counts_vercel_env(make_settings: Any, bare_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(make_settings(vercel_env="production"))


def test_production_start_with_a_valid_environment(make_settings: Any, bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("DATABASE_URL", "postgresql://app@db.example.org/app")
    bare_env.setenv("JWT_SECRET", VALID_SECRET)
    app = create_app(make_settings(app_env="production", jwt_secret=SecretStr(VALID_SECRET)))
    assert app.state.settings.production


@pytest.mark.parametrize("value", ["not-a-number-7731", "7731000000"])
def test_a_bad_setting_names_the_variable_without_its_value(bare_env: pytest.MonkeyPatch, value: str) -> None:
    bare_env.setenv("ACCESS_TOKEN_TTL_SECONDS", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ACCESS_TOKEN_TTL_SECONDS" in message
    assert value not in message
    # No chained pydantic error either: a traceback would print the value.
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
