"""The Vercel emulator for tests of deploy, ops and the CLI: one server per module, a fresh state per test.

tests/deploy/conftest.py and tests/ops/conftest.py register these fixtures; a test module elsewhere imports the
ones it needs (and lists them in `__all__`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from lectern.deploy.emulator import DEFAULT_TEAM_ID, Deployment, EmulatorState, Project, RunningEmulator, serve_emulator
from lectern.deploy.vercel import RetryPolicy, VercelClient

PROJECT_ID = "prj_book"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator for the module (cheaper than one per test); each test swaps in its own state."""
    with serve_emulator() as running:
        yield running


@pytest.fixture
def state(emulator: RunningEmulator) -> EmulatorState:
    """A fresh emulator state with project `book` (PROJECT_ID) of the default team."""
    state = emulator.use_state(EmulatorState())
    state.add_project("book", project_id=PROJECT_ID)
    return state


@pytest.fixture
def project(state: EmulatorState) -> Project:
    return state.projects[PROJECT_ID]


@pytest.fixture
def vercel_client(emulator: RunningEmulator) -> Iterator[VercelClient]:
    """Lectern's Vercel client for the default team; it retries without sleeping."""
    retry = RetryPolicy(sleep=lambda seconds: None)
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=retry) as client:
        yield client


@pytest.fixture(scope="module")
def api(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A raw HTTP client acting for the default team, as Lectern's client and the Vercel CLI do."""
    headers = {"Authorization": f"Bearer {emulator.token}"}
    with httpx.Client(base_url=emulator.url, headers=headers, params={"teamId": DEFAULT_TEAM_ID}, timeout=10) as c:
        yield c


def linked_env(emulator: RunningEmulator) -> dict[str, str]:
    """The variables that link `lectern` to project `book` on the emulator, as a user's shell would."""
    return {
        "VERCEL_TOKEN": emulator.token,
        "VERCEL_ORG_ID": DEFAULT_TEAM_ID,
        "VERCEL_PROJECT_ID": PROJECT_ID,
        "VERCEL_API_URL": emulator.url,
    }


def fresh_state(emulator: RunningEmulator, edge: str, deployment_host: str) -> tuple[EmulatorState, Project]:
    """A new emulator state: project `book`, whose domain is the edge, deployments pointing at a Lectern app."""
    state = emulator.use_state(EmulatorState())
    state.timings.queued_seconds, state.timings.building_seconds, state.timings.alias_seconds = 0.01, 0.05, 0.02
    project = state.add_project("book", project_id=PROJECT_ID)
    project.domains = [edge]
    state.set_deployment_host(deployment_host)
    return state, project


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def seed_deployment(
    state: EmulatorState, project: Project, host: str, *, target: str | None = "production", tag: str = ""
) -> Deployment:
    """A deployment created straight in the state (as another client would), waited on until it is final."""
    state.set_deployment_host(host)
    made = state.deploy(project, {"api/index.py": f"app = None  # {tag or time.time_ns()}\n".encode()}, target=target)
    wait_until(lambda: state.get_deployment(made.id).is_final)
    return state.get_deployment(made.id)


def uploads(state: EmulatorState) -> list[str]:
    """The files uploaded (`POST /v2/files` answered 200) since the state was new or its log cleared."""
    return [r.path for r in state.requests if r.method == "POST" and r.path == "/v2/files" and r.status == 200]
