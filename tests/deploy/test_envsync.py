"""Env changes on one target: cleaning values, choosing types, plans, and writes verified against the emulator."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lectern.contract import builtin_contract
from lectern.deploy import envsync
from lectern.deploy.emulator import DEFAULT_TEAM_ID, EmulatorState, Project, RunningEmulator
from lectern.deploy.emulator import env_vars as emulator_env_vars
from lectern.deploy.envsync import (
    EnvChangeError,
    apply_plan,
    check_target,
    choose_type,
    clean_value,
    plan_sync,
    pull_to_file,
    read_target,
    remove_from_target,
    store_variable,
    write_value,
)
from lectern.deploy.vercel import EnvVariable, RetryPolicy, VercelApiError, VercelClient
from tests.deploy.fixtures import PROJECT_ID

CONTRACT = builtin_contract()
SECRET = "0123456789abcdef" * 4
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
ALL = ["production", "preview", "development"]


# --- values and types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "warning"),
    [
        ("abc", "abc", None),
        ("abc\n", "abc", "removed a trailing newline from the value of NAME"),
        ("abc\r\n", "abc", "removed a trailing newline from the value of NAME"),
        ("  abc \t", "abc", "removed 2 trailing blanks and 2 leading blanks from the value of NAME"),
        (PEM + "\n", PEM, "removed a trailing newline from the value of NAME"),
    ],
)
def test_clean_value_strips_around_and_keeps_inside(raw: str, value: str, warning: str | None) -> None:
    cleaned = clean_value("NAME", raw)
    assert (cleaned.value, cleaned.warning) == (value, warning)
    assert value not in repr(cleaned)


@pytest.mark.parametrize("raw", ["", "\n", "  \t\r\n"])
def test_clean_value_refuses_empty_values(raw: str) -> None:
    with pytest.raises(EnvChangeError, match="refusing to store an empty value for NAME"):
        clean_value("NAME", raw)


def test_clean_value_refuses_what_vercel_cannot_hold() -> None:
    with pytest.raises(EnvChangeError, match="larger than 64 KB"):
        clean_value("NAME", "x" * (64 * 1024 + 1))


def record(
    key: str, type: str = "encrypted", targets: tuple[str, ...] = ("production",), value: str | None = None
) -> EnvVariable:
    return EnvVariable(id=f"env_{key}", key=key, type=type, targets=targets, value=value)


@pytest.mark.parametrize(
    ("name", "target", "flag", "existing", "expected"),
    [
        ("JWT_SECRET", "production", None, None, "sensitive"),
        ("JWT_SECRET", "development", None, None, "encrypted"),
        ("LOG_LEVEL", "production", None, None, "encrypted"),
        ("BOOK_TITLE", "production", None, None, "sensitive"),
        ("BOOK_TITLE", "development", None, None, "encrypted"),
        ("BOOK_TITLE", "production", None, "plain", "plain"),
        ("LOG_LEVEL", "production", None, "sensitive", "sensitive"),
        ("JWT_SECRET", "production", False, None, "encrypted"),
        ("LOG_LEVEL", "preview", True, None, "sensitive"),
    ],
)
def test_choose_type(name: str, target: str, flag: bool | None, existing: str | None, expected: str) -> None:
    current = record(name, existing) if existing else None
    assert choose_type(name, target, CONTRACT, sensitive=flag, existing=current)[0] == expected


def test_sensitive_is_refused_on_development() -> None:
    with pytest.raises(EnvChangeError, match="cannot store sensitive values on development"):
        choose_type("JWT_SECRET", "development", CONTRACT, sensitive=True)


# --- plans ---------------------------------------------------------------------------------------------------


def test_the_plan_says_what_sync_would_do() -> None:
    remote = {
        "LOG_LEVEL": record("LOG_LEVEL", value="INFO"),
        "APP_ENV": record("APP_ENV", value="production"),
        "JWT_SECRET": record("JWT_SECRET", "sensitive"),
        "JWT_ISSUER": record("JWT_ISSUER", targets=("production", "preview"), value="old"),
        "LLM_API_KEY": record("LLM_API_KEY", value="readable-key"),
        "OLD_FLAG": record("OLD_FLAG", value="1"),
    }
    local = {
        "LOG_LEVEL": "DEBUG",
        "APP_ENV": "production",
        "JWT_SECRET": "another" * 8,
        "JWT_ISSUER": "  book ",
        "LLM_API_KEY": "readable-key",
        "BOOK_TITLE": "Physics",
        "DB_POOL_SIZE": "lots",
        "VERCEL_TOKEN": "not-for-vercel",
        "EMPTY": "",
    }
    plan = plan_sync(local, remote, CONTRACT, "production", prune=False)
    actions = {c.name: (c.action, c.type) for c in plan.changes}
    assert actions == {
        "LOG_LEVEL": ("change", "encrypted"),
        "APP_ENV": ("unchanged", "encrypted"),
        "JWT_SECRET": ("unchanged", "sensitive"),
        "JWT_ISSUER": ("change", "encrypted"),
        "LLM_API_KEY": ("change", "sensitive"),
        "BOOK_TITLE": ("add", "sensitive"),
        "DB_POOL_SIZE": ("invalid", ""),
        "VERCEL_TOKEN": ("skip", ""),
        "EMPTY": ("skip", ""),
        "OLD_FLAG": ("keep", "encrypted"),
    }
    notes = {c.name: c.note for c in plan.changes}
    assert notes["LOG_LEVEL"] == "value differs (4 → 5 characters)"
    assert notes["JWT_SECRET"] == "sensitive: compared by presence only"
    assert notes["JWT_ISSUER"] == (
        "surrounding whitespace stripped; value differs (3 → 4 characters); production only: preview unchanged"
    )
    assert notes["LLM_API_KEY"] == "encrypted → sensitive (sensitive: a secret in the contract)"
    assert notes["DB_POOL_SIZE"] == "breaks the contract: pattern_mismatch (rule: matches ^[1-9][0-9]?$)"
    assert notes["OLD_FLAG"] == "only on Vercel (--prune removes it)"
    assert [c.name for c in plan.pending] == ["BOOK_TITLE", "JWT_ISSUER", "LLM_API_KEY", "LOG_LEVEL"]
    assert next(c for c in plan.changes if c.name == "JWT_ISSUER").value == "book"
    assert "DEBUG" not in repr(plan)


def test_only_prune_removes_and_never_a_vercel_name() -> None:
    remote = {"OLD_FLAG": record("OLD_FLAG", value="1"), "VERCEL_TOKEN": record("VERCEL_TOKEN", "sensitive")}
    assert plan_sync({}, remote, CONTRACT, "production", prune=False).pending == []
    pruned = plan_sync({}, remote, CONTRACT, "production", prune=True)
    assert [(c.name, c.action) for c in pruned.pending] == [("OLD_FLAG", "remove")]
    assert [(c.name, c.action) for c in pruned.of("skip")] == [("VERCEL_TOKEN", "skip")]


def test_check_target_passes_fails_and_misses() -> None:
    remote = {
        "JWT_SECRET": record("JWT_SECRET", "sensitive"),
        "LOG_LEVEL": record("LOG_LEVEL", value="LOUD"),
        "APP_ENV": record("APP_ENV", value="production"),
    }
    checks = {c.name: (c.verdict, c.reason) for c in check_target(CONTRACT, remote, "production")}
    assert checks["JWT_SECRET"] == ("PASS", "sensitive: present")
    assert checks["LOG_LEVEL"] == ("FAIL", "not_in_enum")
    assert checks["APP_ENV"] == ("PASS", "ok")
    assert checks["DATABASE_URL"] == ("MISSING", "missing")
    assert checks["JWT_ISSUER"] == ("PASS", "default")
    development = {c.name: c.verdict for c in check_target(CONTRACT, {}, "development")}
    assert development["DATABASE_URL"] == "PASS"  # local defaults apply on development


# --- against the emulator ------------------------------------------------------------------------------------


@pytest.fixture
def client(emulator: RunningEmulator, state: EmulatorState) -> Iterator[VercelClient]:
    """Two attempts only: the scripted 500s below outlast them."""
    policy = RetryPolicy(attempts=2, sleep=lambda seconds: None)
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=policy) as c:
        yield c


def stored(project: Project) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return sorted((e.key, e.type, e.value, tuple(e.target)) for e in project.env)


def test_set_variable_writes_and_reads_back(client: VercelClient, project: Project) -> None:
    result = store_variable(client, PROJECT_ID, CONTRACT, "TLS_KEY", PEM, "production", sensitive=False)
    assert (result.type, result.verified_by) == ("encrypted", "value")
    assert stored(project) == [("TLS_KEY", "encrypted", PEM, ("production",))]


def test_set_variable_refuses_a_value_that_breaks_the_contract(client: VercelClient, project: Project) -> None:
    with pytest.raises(EnvChangeError) as caught:
        store_variable(client, PROJECT_ID, CONTRACT, "JWT_SECRET", "short-secret", "production", sensitive=None)
    assert str(caught.value) == (
        "JWT_SECRET breaks the contract: too_short (rule: at least 32 characters); nothing was stored"
    )
    assert project.env == []


def test_a_value_vercel_stores_differently_fails_the_read_back(
    client: VercelClient, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As vercel/vercel#14971: multi-line values cut to their first line on the way in.
    monkeypatch.setattr(emulator_env_vars, "_validated_value", lambda raw: str(raw).splitlines()[0])
    with pytest.raises(EnvChangeError) as caught:
        store_variable(client, PROJECT_ID, CONTRACT, "TLS_KEY", PEM, "production", sensitive=False)
    first_line = PEM.splitlines()[0]
    assert str(caught.value) == (
        f"verify failed: Vercel stored {len(first_line)} characters for TLS_KEY on production where {len(PEM)} were"
        " sent, and their SHA-256 differ; check the variable on Vercel and set it again"
    )
    assert "PRIVATE" not in str(caught.value)


def test_writing_one_target_splits_a_shared_record(
    client: VercelClient, state: EmulatorState, project: Project
) -> None:
    state.add_env(project, "LOG_LEVEL", "INFO", target=ALL)
    shared = read_target(client, PROJECT_ID, "preview")["LOG_LEVEL"]
    write_value(client, PROJECT_ID, "LOG_LEVEL", "DEBUG", "encrypted", "preview", shared)
    assert stored(project) == [
        ("LOG_LEVEL", "encrypted", "DEBUG", ("preview",)),
        ("LOG_LEVEL", "encrypted", "INFO", ("production", "development")),
    ]


def test_a_failed_split_gives_the_target_back(client: VercelClient, state: EmulatorState, project: Project) -> None:
    state.add_env(project, "LOG_LEVEL", "INFO", target=ALL)
    shared = read_target(client, PROJECT_ID, "preview")["LOG_LEVEL"]
    state.faults.server_error(f"/v10/projects/{PROJECT_ID}/env", count=2, method="POST")
    with pytest.raises(VercelApiError, match="500 internal_server_error"):
        write_value(client, PROJECT_ID, "LOG_LEVEL", "DEBUG", "encrypted", "preview", shared)
    assert stored(project) == [("LOG_LEVEL", "encrypted", "INFO", tuple(ALL))]


def test_removing_from_one_target_keeps_the_others(
    client: VercelClient, state: EmulatorState, project: Project
) -> None:
    state.add_env(project, "LOG_LEVEL", "INFO", target=ALL)
    state.add_env(project, "OLD_FLAG", "1", target=["production"])
    remote = read_target(client, PROJECT_ID, "production")
    assert remove_from_target(client, PROJECT_ID, remote["LOG_LEVEL"], "production") == ("preview", "development")
    assert remove_from_target(client, PROJECT_ID, remote["OLD_FLAG"], "production") == ()
    assert stored(project) == [("LOG_LEVEL", "encrypted", "INFO", ("preview", "development"))]
    # Removing what is already gone (a retry after a lost answer) counts as done.
    assert remove_from_target(client, PROJECT_ID, remote["OLD_FLAG"], "production") == ()


def test_an_applied_plan_leaves_nothing_to_do(client: VercelClient, state: EmulatorState, project: Project) -> None:
    state.add_env(project, "LOG_LEVEL", "INFO", target=ALL)
    state.add_env(project, "JWT_SECRET", SECRET, type="sensitive", target=["production", "preview"])
    state.add_env(project, "OLD_FLAG", "1", target=["production"])
    local = {"LOG_LEVEL": "DEBUG", "JWT_SECRET": SECRET, "BOOK_TITLE": "Physics", "TLS_KEY": PEM}
    plan = plan_sync(local, read_target(client, PROJECT_ID, "production"), CONTRACT, "production", prune=True)
    reported: list[str] = []
    apply_plan(client, PROJECT_ID, plan, report=lambda change: reported.append(f"{change.action} {change.name}"))
    assert reported == ["add BOOK_TITLE", "change LOG_LEVEL", "add TLS_KEY", "remove OLD_FLAG"]
    again = plan_sync(local, read_target(client, PROJECT_ID, "production"), CONTRACT, "production", prune=True)
    assert again.pending == []
    assert state.env_var(project, "TLS_KEY", target="production").value == PEM  # type: ignore[union-attr]
    assert state.env_var(project, "LOG_LEVEL", target="preview").value == "INFO"  # type: ignore[union-attr]


def test_a_plan_with_invalid_values_changes_nothing(
    client: VercelClient, state: EmulatorState, project: Project
) -> None:
    plan = plan_sync({"BOOK_TITLE": "Physics", "APP_ENV": "staging"}, {}, CONTRACT, "production", prune=False)
    with pytest.raises(EnvChangeError, match=r"1 value\(s\) break the contract \(APP_ENV\): nothing was changed"):
        apply_plan(client, PROJECT_ID, plan)
    assert project.env == []


def test_pull_writes_a_private_file_that_reads_back(
    client: VercelClient, state: EmulatorState, project: Project, tmp_path: Path
) -> None:
    tricky = 'say "hi"\\n\nsecond line'
    state.add_env(project, "TLS_KEY", PEM, target=["production"])
    state.add_env(project, "GREETING", tricky, target=["production"])
    state.add_env(project, "JWT_SECRET", SECRET, type="sensitive", target=["production"])
    path = tmp_path / ".env.vercel"
    pulled = pull_to_file(client, PROJECT_ID, "production", path, force=False, title="test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pulled.sensitive == ["JWT_SECRET"] and "TLS_KEY" in pulled.written
    values = dotenv_values(path, interpolate=False)
    assert values["TLS_KEY"] == PEM and values["GREETING"] == tricky
    assert "JWT_SECRET" not in values and SECRET not in path.read_text()

    with pytest.raises(EnvChangeError, match="exists: pass --force to overwrite it"):
        pull_to_file(client, PROJECT_ID, "production", path, force=False, title="test")
    path.chmod(0o644)
    pull_to_file(client, PROJECT_ID, "production", path, force=True, title="test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_secrets_are_stored_sensitive_and_kept_unless_rotated(client: VercelClient, project: Project) -> None:
    assert envsync.store_generated(client, PROJECT_ID, "production", {"JWT_SECRET": SECRET}, rotate=False) == [
        ("JWT_SECRET", "stored")
    ]
    assert stored(project) == [("JWT_SECRET", "sensitive", SECRET, ("production",))]
    other = SECRET[::-1]
    assert envsync.store_generated(client, PROJECT_ID, "production", {"JWT_SECRET": other}, rotate=False) == [
        ("JWT_SECRET", "kept")
    ]
    assert envsync.store_generated(client, PROJECT_ID, "production", {"JWT_SECRET": other}, rotate=True) == [
        ("JWT_SECRET", "replaced")
    ]
    assert stored(project) == [("JWT_SECRET", "sensitive", other, ("production",))]
    with pytest.raises(EnvChangeError, match="development cannot hold sensitive values"):
        envsync.store_generated(client, PROJECT_ID, "development", {"JWT_SECRET": other}, rotate=False)
