"""Preflight checks: the env contract on Vercel (values never in a result), dependencies, bundle size,
cold start of the entrypoint in a fresh process, and pending migrations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lectern.contract import builtin_contract, load_contract
from lectern.db import migrate
from lectern.deploy import preflight
from lectern.deploy.bundle import collect_bundle
from lectern.deploy.coldstart import read_importtime, slowest_packages
from lectern.deploy.emulator import EmulatorState, Project
from lectern.deploy.envsync import read_target
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.preflight import (
    check_bundle,
    check_cold_start,
    check_dependencies,
    check_env,
    check_migrations,
    run_preflight,
)
from lectern.deploy.vercel import EnvVariable, VercelClient
from tests.cli.serving import clear_contract_env
from tests.db.fixtures import empty_database
from tests.deploy.fixtures import PROJECT_ID

__all__ = ["empty_database"]

JWT = "jwt-marker-" + "5e" * 20
ALL = ["production", "preview"]


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clear_contract_env(monkeypatch)
    initialise(tmp_path, InitOptions(name="book"))
    return tmp_path


@pytest.fixture
def vercel(
    vercel_client: VercelClient, state: EmulatorState, project: Project
) -> tuple[VercelClient, EmulatorState, Project]:
    return vercel_client, state, project


def text(result: preflight.CheckResult) -> str:
    return " ".join([result.status, result.summary, *result.details])


# --- env ---------------------------------------------------------------------------------------------------


def test_env_passes_when_the_contract_holds(vercel: tuple[VercelClient, EmulatorState, Project]) -> None:
    client, state, project = vercel
    state.add_env(project, "DATABASE_URL", "postgresql://u:pw-marker@db/x", type="sensitive", target=ALL)
    state.add_env(project, "JWT_SECRET", JWT, type="sensitive", target=ALL)
    result = check_env(builtin_contract(), read_target(client, PROJECT_ID, "production"), "production")
    assert result.status == "pass", text(result)


def test_env_fails_on_production_and_warns_on_preview_for_a_missing_variable(
    vercel: tuple[VercelClient, EmulatorState, Project],
) -> None:
    client, state, project = vercel
    state.add_env(project, "DATABASE_URL", "postgresql://u:pw-marker@db/x", type="sensitive", target=ALL)
    production = check_env(builtin_contract(), read_target(client, PROJECT_ID, "production"), "production")
    assert production.status == "fail" and "JWT_SECRET: MISSING" in text(production)
    preview = check_env(builtin_contract(), read_target(client, PROJECT_ID, "preview"), "preview")
    assert preview.status == "warn" and "integration injects it" in text(preview)


def test_env_reports_invalid_values_without_them(vercel: tuple[VercelClient, EmulatorState, Project]) -> None:
    client, state, project = vercel
    state.add_env(project, "DATABASE_URL", "mysql://pw-marker@db/x", type="encrypted", target=ALL)
    state.add_env(project, "JWT_SECRET", "short-marker", type="encrypted", target=ALL)
    result = check_env(builtin_contract(), read_target(client, PROJECT_ID, "production"), "production")
    assert result.status == "fail"
    assert "DATABASE_URL: FAIL (pattern_mismatch" in text(result) and "JWT_SECRET: FAIL (too_short" in text(result)
    assert "secret stored readable (encrypted)" in text(result)
    assert "marker" not in text(result)


def test_a_project_contract_variable_is_checked_too(
    vercel: tuple[VercelClient, EmulatorState, Project], tmp_path: Path
) -> None:
    client, state, project = vercel
    state.add_env(project, "DATABASE_URL", "postgresql://db/x", type="sensitive", target=ALL)
    state.add_env(project, "JWT_SECRET", JWT, type="sensitive", target=ALL)
    initialise(tmp_path, InitOptions(name="book", frontend_origins=("https://book.example.org",)))
    result = check_env(load_contract({}, cwd=tmp_path), read_target(client, PROJECT_ID, "production"), "production")
    assert result.status == "fail" and "FRONTEND_ORIGINS: MISSING" in text(result)


# --- dependencies and bundle ---------------------------------------------------------------------------------


def test_dependencies_pass_after_init_and_fail_when_one_is_dropped(project_dir: Path) -> None:
    assert check_dependencies(project_dir).status == "pass"
    requirements = project_dir / "requirements.txt"
    lines = requirements.read_text().splitlines()
    requirements.write_text("\n".join(line for line in lines if not line.lower().startswith("sqlalchemy==")) + "\n")
    result = check_dependencies(project_dir)
    assert result.status == "fail" and "SQLAlchemy" in text(result)


def test_a_pin_differing_from_this_machine_is_a_warning(project_dir: Path) -> None:
    requirements = project_dir / "requirements.txt"
    text_before = requirements.read_text()
    pinned = next(line for line in text_before.splitlines() if line.startswith("fastapi=="))
    requirements.write_text(text_before.replace(pinned, "fastapi==0.1.0"))
    result = check_dependencies(project_dir)
    assert result.status == "warn" and "fastapi: ==0.1.0 in requirements.txt" in text(result)


def test_bundle_size_counts_what_vercel_installs(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = collect_bundle(project_dir)
    result = check_bundle(project_dir, bundle)
    assert result.status == "pass", text(result)
    assert result.summary.endswith("of the 225.0 MB a Python function may hold")
    largest = result.details[0].removeprefix("largest packages: ").split(", ")
    assert len(largest) == 10 and all(item.endswith(" MB") for item in largest)
    monkeypatch.setattr(preflight, "BUNDLE_LIMIT_BYTES", 10 * preflight.MB)
    assert check_bundle(project_dir, bundle).status == "fail"


def test_a_pin_not_installed_here_is_a_warning(project_dir: Path) -> None:
    with (project_dir / "requirements.txt").open("a") as handle:
        handle.write("surely-not-installed-pkg==1.0\n")
    result = check_bundle(project_dir, collect_bundle(project_dir))
    assert result.status == "warn" and "not counted: surely-not-installed-pkg" in text(result)


# --- cold start ----------------------------------------------------------------------------------------------


def test_cold_start_of_the_entrypoint(project_dir: Path) -> None:
    result = check_cold_start(project_dir)
    assert result.status == "pass", text(result)
    assert "to import api/index.py in a fresh process" in result.summary
    assert result.details[0].startswith("slowest imports: ") and "fastapi" in result.details[0]
    assert not (project_dir / "api" / "__pycache__").exists()
    assert not (project_dir / ".lectern").exists()
    assert check_cold_start(project_dir, threshold=0.0).status == "warn"


def test_an_entrypoint_that_cannot_import_fails(project_dir: Path) -> None:
    (project_dir / "api" / "index.py").write_text("import no_such_module_anywhere\n")
    result = check_cold_start(project_dir)
    assert result.status == "fail"
    assert result.summary.endswith("ModuleNotFoundError: No module named 'no_such_module_anywhere'")


def test_importtime_lines_are_summed_by_package() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |   fastapi.routing\n"
        "import time:       300 |        400 | fastapi\n"
        "import time:       250 |        250 | pydantic\n"
        "Traceback: not an import line\n"
    )
    assert slowest_packages(read_importtime(stderr)) == [("fastapi", 0.0004), ("pydantic", 0.00025)]


# --- migrations ----------------------------------------------------------------------------------------------


def record(key: str, value: str | None, env_type: str = "encrypted") -> dict[str, EnvVariable]:
    return {key: EnvVariable(id="env_1", key=key, type=env_type, targets=("production",), value=value)}


def test_migrations_at_head_pass(database_url: str) -> None:
    result = check_migrations(record("DATABASE_URL", database_url), "production")
    assert result.status == "pass" and migrate.head_revision() in result.summary


def test_pending_migrations_warn_with_the_command(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0001")
    result = check_migrations(record("DATABASE_URL_UNPOOLED", empty_database), "production")
    assert result.status == "warn"
    assert f"production's database is at 0001, the code at {migrate.head_revision()}" == result.summary
    assert result.details == (
        "run `lectern db upgrade` with DATABASE_URL_UNPOOLED set to production's direct database URL",
    )


def test_an_unreadable_or_unreachable_database_is_a_warning(database_url: str) -> None:
    hidden = check_migrations(record("DATABASE_URL", None, "sensitive"), "production")
    assert hidden.status == "warn" and "sensitive on production" in hidden.summary
    assert check_migrations({}, "preview").summary == "not checked: no DATABASE_URL on preview"
    unreachable = "postgresql://book:pw-marker-77@127.0.0.1:9/book?connect_timeout=2"
    result = check_migrations(record("DATABASE_URL", unreachable), "production")
    assert result.status == "warn" and "cannot reach the database" in result.summary
    assert "pw-marker-77" not in text(result)


def test_run_preflight_reports_each_check(
    vercel: tuple[VercelClient, EmulatorState, Project], project_dir: Path, database_url: str
) -> None:
    client, state, project = vercel
    state.add_env(project, "DATABASE_URL", database_url, type="encrypted", target=ALL)
    state.add_env(project, "JWT_SECRET", JWT, type="sensitive", target=ALL)
    seen: list[str] = []
    results = run_preflight(
        client, PROJECT_ID, "preview", project_dir, collect_bundle(project_dir), on_check=lambda r: seen.append(r.name)
    )
    assert seen == ["env", "dependencies", "bundle", "cold start", "migrations"] == [r.name for r in results]
    statuses = {r.name: r.status for r in results}
    assert statuses == {
        "env": "warn",
        "dependencies": "pass",
        "bundle": "pass",
        "cold start": "pass",
        "migrations": "pass",
    }
    assert all(JWT not in text(r) and database_url not in text(r) for r in results)
