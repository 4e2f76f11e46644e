"""The deployment check against the Vercel emulator: the latest deployment's state, and for a failed build its
error lines and the likely cause with a fix.
"""

from __future__ import annotations

import pytest

from lectern.deploy.emulator import EmulatorState, Project, RunningEmulator
from lectern.deploy.vercel import Project as VercelProject
from lectern.deploy.vercel import VercelClient
from lectern.ops.doctor.deployment import check_deployment, likely_cause
from tests.deploy.fixtures import PROJECT_ID, fresh_state, seed_deployment

HOST = "127.0.0.1:9"


@pytest.fixture
def book(emulator: RunningEmulator) -> tuple[EmulatorState, Project]:
    return fresh_state(emulator, HOST, HOST)


def project(vercel_client: VercelClient) -> VercelProject:
    return vercel_client.get_project(PROJECT_ID)


def test_a_missing_module_in_the_build_is_a_missing_dependency(
    book: tuple[EmulatorState, Project], vercel_client: VercelClient
) -> None:
    state, emulated = book
    seed_deployment(state, emulated, HOST)
    state.faults.fail_next_build(
        [
            "Installing required dependencies from requirements.txt...",
            "Traceback (most recent call last):",
            '  File "/var/task/api/index.py", line 3, in <module>',
            "ModuleNotFoundError: No module named 'pandas'",
        ]
    )
    failed = seed_deployment(state, emulated, HOST)
    report = check_deployment(vercel_client, project(vercel_client), "production")
    assert report.status == "fail"
    assert report.summary.startswith(f"latest production deployment {failed.id} (0 min ago) is ERROR")
    assert report.summary.endswith(
        '(BUILD_UTILS_SPAWN_1: Command "uv sync" exited with 1); likely cause: missing dependency'
    )
    assert "build log: ModuleNotFoundError: No module named 'pandas'" in report.details
    assert "build log: Installing required dependencies from requirements.txt..." not in report.details
    assert report.details[-1] == "likely cause: missing dependency (ModuleNotFoundError: No module named 'pandas')"
    assert report.fixes == (
        "add the package that provides `pandas` to requirements.txt (`lectern init` pins Lectern's own"
        " dependencies), then deploy again",
    )
    assert report.facts["cause"] == "missing dependency" and report.facts["state"] == "ERROR"


def test_a_size_error_is_a_bundle_too_large(book: tuple[EmulatorState, Project], vercel_client: VercelClient) -> None:
    state, emulated = book
    state.faults.fail_next_build(
        ["Error: A Serverless Function has exceeded the unzipped maximum size of 250 MB."],
        error_code="LAMBDA_SIZE_EXCEEDED",
        error_message="A Serverless Function has exceeded the unzipped maximum size",
    )
    seed_deployment(state, emulated, HOST)
    report = check_deployment(vercel_client, project(vercel_client), "production")
    assert report.status == "fail" and report.facts["cause"] == "bundle too large"
    assert "below 225 MB" in report.fixes[0] and "uv.lock" in report.fixes[0]


def test_an_unknown_failure_points_at_the_whole_log(
    book: tuple[EmulatorState, Project], vercel_client: VercelClient
) -> None:
    state, emulated = book
    state.faults.fail_next_build(["ERROR: something odd"])
    failed = seed_deployment(state, emulated, HOST)
    report = check_deployment(vercel_client, project(vercel_client), "production")
    assert report.status == "fail" and report.summary.endswith("; cause unknown")
    assert report.fixes == (f"read the whole build log: `vercel inspect {failed.id} --logs`",)


def test_a_ready_deployment_passes_and_previews_are_their_own_target(
    book: tuple[EmulatorState, Project], vercel_client: VercelClient
) -> None:
    state, emulated = book
    ready = seed_deployment(state, emulated, HOST)
    state.faults.fail_next_build(["ERROR: boom"])
    seed_deployment(state, emulated, HOST, target=None)
    report = check_deployment(vercel_client, project(vercel_client), "production")
    assert report.status == "pass" and report.summary.endswith(f"{ready.id} (0 min ago) is READY")
    assert check_deployment(vercel_client, project(vercel_client), "preview").status == "fail"


def test_no_deployment_or_one_still_building_warns(
    book: tuple[EmulatorState, Project], vercel_client: VercelClient
) -> None:
    state, emulated = book
    empty = check_deployment(vercel_client, project(vercel_client), "production")
    assert empty.status == "warn" and empty.fixes == ("run `lectern deploy --prod`",)
    state.timings.building_seconds = 60
    state.deploy(emulated, target="production")
    building = check_deployment(vercel_client, project(vercel_client), "production")
    assert building.status == "warn" and building.summary.endswith(": still building")


@pytest.mark.parametrize(
    ("line", "cause", "in_fix"),
    [
        ("ModuleNotFoundError: No module named 'yaml.loader'", "missing dependency", "`yaml`"),
        ("ERROR: No matching distribution found for fastapi==99.0", "missing dependency", "fastapi==99.0"),
        (
            "Because the current Python version (3.12.3) does not satisfy Python>=3.13 and numpy==3.0 depends on it",
            "Python version",
            ".python-version",
        ),
        ("Error: Invalid Python version: 3.9", "Python version", "3.12, 3.13 or 3.14"),
        (
            "Error: No FastAPI entrypoint found. Add an 'app' script in pyproject.toml",
            "entrypoint not found",
            "api/index.py",
        ),
        ("the entrypoint defines no top-level app, application or handler", "entrypoint not found", "`app`"),
        ("Error: LAMBDA_SIZE_EXCEEDED", "bundle too large", "225 MB"),
    ],
)
def test_build_log_lines_name_their_cause(line: str, cause: str, in_fix: str) -> None:
    found = likely_cause(["Running build in iad1", line])
    assert found is not None and (found.cause, found.evidence) == (cause, line)
    assert in_fix in found.fix


def test_nothing_recognisable_is_no_cause() -> None:
    assert likely_cause(["Running build", 'Error: Command "uv sync" exited with 1']) is None
