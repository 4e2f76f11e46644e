"""The Vercel REST client against the emulator over real HTTP: lookups, env, deployments, errors, retries, linking."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from lectern.deploy.emulator import (
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    EmulatorState,
    ManualClock,
    Project,
    RunningEmulator,
)
from lectern.deploy.vercel import (
    NotLinkedError,
    RetryPolicy,
    VercelApiError,
    VercelClient,
    VercelConnectionError,
    resolve_link,
)
from lectern.deploy.vercel.retries import retry_wait
from tests.deploy.fixtures import PROJECT_ID


class Waits:
    """A `sleep` that records what it was asked to wait and, given a clock, moves it instead of sleeping."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.seconds: list[float] = []
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def client(emulator: RunningEmulator, state: EmulatorState, waits: Waits) -> Iterator[VercelClient]:
    """Records the waits it is asked for instead of sleeping."""
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=RetryPolicy(sleep=waits)) as c:
        yield c


def statuses(state: EmulatorState) -> list[int]:
    return [r.status for r in state.requests]


# --- lookups -------------------------------------------------------------------------------------------------


def test_user_team_and_project_lookups(client: VercelClient, state: EmulatorState) -> None:
    assert client.get_user().id == DEFAULT_USER_ID
    assert client.get_team(DEFAULT_TEAM_ID).slug == "lectern"
    project = client.get_project(PROJECT_ID)
    assert (project.id, project.name, project.account_id) == (PROJECT_ID, "book", DEFAULT_TEAM_ID)
    assert client.get_project("book").id == PROJECT_ID
    project_request = state.requests[-1]
    assert project_request.path == "/v9/projects/book" and f"teamId={DEFAULT_TEAM_ID}" in project_request.query


def test_a_team_slug_and_the_personal_account_scope_requests(emulator: RunningEmulator, state: EmulatorState) -> None:
    state.add_project("mine", owner_id=DEFAULT_USER_ID, project_id="prj_mine")
    with VercelClient(emulator.token, team="lectern", api_url=emulator.url) as by_slug:
        assert by_slug.get_project(PROJECT_ID).id == PROJECT_ID
    assert "slug=lectern" in state.requests[-1].query
    with VercelClient(emulator.token, team=DEFAULT_USER_ID, api_url=emulator.url) as personal:
        assert personal.get_project("prj_mine").id == "prj_mine"
    assert state.requests[-1].query == ""


# --- env variables -------------------------------------------------------------------------------------------


def test_env_create_list_get_edit_delete(client: VercelClient, state: EmulatorState, project: Project) -> None:
    created = client.create_env(PROJECT_ID, "LOG_LEVEL", "INFO", type="encrypted", targets=["production"])
    assert (created.key, created.type, created.targets) == ("LOG_LEVEL", "encrypted", ("production",))
    listed = client.list_env(PROJECT_ID)
    assert [(r.key, r.value) for r in listed] == [("LOG_LEVEL", None)]  # ciphertext is not a value
    assert client.get_env(PROJECT_ID, created.id).value == "INFO"

    client.create_env(PROJECT_ID, "LOG_LEVEL", "DEBUG", type="encrypted", targets=["production"])  # upsert
    assert [e.value for e in project.env] == ["DEBUG"]

    edited = client.edit_env(PROJECT_ID, created.id, targets=["production", "preview"], value="WARNING")
    assert edited.targets == ("production", "preview")
    assert client.list_env(PROJECT_ID, target="preview")[0].id == created.id
    assert client.list_env(PROJECT_ID, target="development") == []

    client.delete_env(PROJECT_ID, created.id)
    assert project.env == []


def test_sensitive_values_never_come_back(client: VercelClient) -> None:
    created = client.create_env(PROJECT_ID, "JWT_SECRET", "s" * 64, type="sensitive", targets=["production"])
    assert created.sensitive
    assert client.get_env(PROJECT_ID, created.id).value is None
    assert "s" * 64 not in repr(client.list_env(PROJECT_ID))


def test_pull_gives_readable_values_and_empty_sensitive_ones(client: VercelClient, state: EmulatorState) -> None:
    state.add_env(state.projects[PROJECT_ID], "LOG_LEVEL", "INFO", target=["production"])
    state.add_env(state.projects[PROJECT_ID], "JWT_SECRET", "s" * 64, type="sensitive", target=["production"])
    pulled = client.pull_env(PROJECT_ID, "production")
    assert pulled["LOG_LEVEL"] == "INFO"
    assert pulled["JWT_SECRET"] == ""


def test_a_refused_create_surfaces_vercels_code_and_message(client: VercelClient) -> None:
    client.create_env(PROJECT_ID, "LOG_LEVEL", "INFO", type="encrypted", targets=["production", "preview"])
    with pytest.raises(VercelApiError) as caught:
        client.create_env(PROJECT_ID, "LOG_LEVEL", "DEBUG", type="encrypted", targets=["production"], upsert=False)
    error = caught.value
    assert (error.status, error.code) == (400, "ENV_CONFLICT")
    assert "already exists" in str(error) and "\n" not in str(error)
    assert str(error).startswith("Vercel answered POST /v10/projects/prj_book/env with 400 ENV_CONFLICT:")


# --- deployments ---------------------------------------------------------------------------------------------


def test_list_and_get_deployments(client: VercelClient, state: EmulatorState, project: Project) -> None:
    older = state.deploy(project, target="production")
    newer = state.deploy(project)
    page = client.list_deployments(PROJECT_ID, limit=1)
    assert [d.id for d in page.deployments] == [newer.id]
    assert page.next is not None
    rest = client.list_deployments(PROJECT_ID, limit=1, until=page.next)
    assert [d.id for d in rest.deployments] == [older.id]
    assert [d.id for d in client.list_deployments(PROJECT_ID, target="production").deployments] == [older.id]

    deployment = client.get_deployment(older.id)
    assert (deployment.id, deployment.target, deployment.project_id) == (older.id, "production", PROJECT_ID)
    assert deployment.state in ("QUEUED", "BUILDING", "READY")
    assert client.get_deployment(deployment.url).id == older.id


# --- errors --------------------------------------------------------------------------------------------------


def test_a_bad_token_is_one_line_naming_the_token(emulator: RunningEmulator, state: EmulatorState) -> None:
    with (
        VercelClient("not-a-token", team=DEFAULT_TEAM_ID, api_url=emulator.url) as client,
        pytest.raises(VercelApiError) as caught,
    ):
        client.get_project(PROJECT_ID)
    message = str(caught.value)
    assert caught.value.status == 403 and caught.value.code == "forbidden"
    assert "VERCEL_TOKEN" in message and "\n" not in message and "not-a-token" not in message
    assert statuses(state) == [403]  # refused requests are not retried


def test_a_team_the_token_cannot_use(emulator: RunningEmulator, state: EmulatorState) -> None:
    with (
        VercelClient(emulator.token, team="team_elsewhere", api_url=emulator.url) as client,
        pytest.raises(VercelApiError, match="VERCEL_ORG_ID"),
    ):
        client.get_project(PROJECT_ID)


def test_an_unknown_project_is_a_404(client: VercelClient) -> None:
    with pytest.raises(VercelApiError) as caught:
        client.get_project("prj_nope")
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "not_found", "Project not found")


def test_an_error_without_vercels_body_still_reads_well(waits: Waits) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="<html>nope</html>"))
    with (
        VercelClient("t", api_url="https://api.example.org", transport=transport) as client,
        pytest.raises(VercelApiError, match=r"404 http_error: Not Found$"),
    ):
        client.get_deployment("dpl_x")


# --- retries -------------------------------------------------------------------------------------------------


def test_a_429_storm_waits_as_retry_after_says(client: VercelClient, state: EmulatorState, waits: Waits) -> None:
    state.faults.rate_limit("/v9/projects/*", count=3, retry_after=2)
    assert client.get_project(PROJECT_ID).id == PROJECT_ID
    assert waits.seconds == [2, 2, 2]
    assert statuses(state) == [429, 429, 429, 200]


def test_the_real_rate_limit_is_waited_out_until_its_reset(emulator: RunningEmulator) -> None:
    clock = ManualClock()
    state = emulator.use_state(EmulatorState(clock=clock, rate_limit=2))
    state.add_project("book", project_id=PROJECT_ID)
    waits = Waits(clock)  # waiting moves the emulator's clock into the next window
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=RetryPolicy(sleep=waits)) as c:
        for _ in range(3):
            c.get_project(PROJECT_ID)
    assert statuses(state) == [200, 200, 429, 200]
    assert len(waits.seconds) == 1 and 0 < waits.seconds[0] <= 60


def test_server_errors_are_retried_with_backoff(client: VercelClient, state: EmulatorState, waits: Waits) -> None:
    state.faults.server_error("/v10/projects/*/env", count=2)
    assert client.list_env(PROJECT_ID) == []
    assert statuses(state) == [500, 500, 200]
    first, second = waits.seconds
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0


def test_a_persistent_500_gives_up_after_the_attempts(client: VercelClient, state: EmulatorState, waits: Waits) -> None:
    state.faults.server_error("/v9/projects/*", count=50)
    with pytest.raises(VercelApiError) as caught:
        client.get_project(PROJECT_ID)
    assert caught.value.status == 500 and caught.value.attempts == 5
    assert str(caught.value).endswith("An unexpected internal error occurred (after 5 attempts)")
    assert statuses(state) == [500] * 5
    assert len(waits.seconds) == 4 and sum(waits.seconds) <= RetryPolicy().max_total_wait


def test_a_wait_beyond_the_budget_fails_at_once(client: VercelClient, state: EmulatorState, waits: Waits) -> None:
    state.faults.rate_limit("/v9/projects/*", count=1, retry_after=600)
    with pytest.raises(VercelApiError, match="wait 600 s more; try again later") as caught:
        client.get_project(PROJECT_ID)
    assert caught.value.status == 429
    assert waits.seconds == []


def test_the_total_wait_is_bounded(client: VercelClient, state: EmulatorState, waits: Waits) -> None:
    state.faults.rate_limit("/v9/projects/*", count=4, retry_after=25)
    with pytest.raises(VercelApiError, match="429 rate_limited"):
        client.get_project(PROJECT_ID)
    assert waits.seconds == [25, 25]  # a third wait would pass the 60 s budget
    assert statuses(state) == [429, 429, 429]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_an_unreachable_api_is_one_line_after_bounded_retries(waits: Waits) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        VercelClient("t", api_url=url, retry=RetryPolicy(attempts=3, sleep=waits)) as client,
        pytest.raises(VercelConnectionError) as caught,
    ):
        client.get_user()
    assert str(caught.value).startswith(f"cannot reach Vercel at {url} for GET /v2/user:")
    assert "(after 3 attempts)" in str(caught.value) and len(waits.seconds) == 2


NOW = 1_767_225_600.0


@pytest.mark.parametrize(
    ("status", "headers", "error", "expected"),
    [
        (429, {"retry-after": "7"}, None, 7.0),
        (503, {"retry-after": format_datetime(datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=30))}, None, 30.0),
        (429, {"x-ratelimit-reset": str(int(NOW) + 12)}, None, 12.0),
        (429, {"x-ratelimit-reset": str(int(NOW + 5) * 1000)}, None, 5.0),
        (429, {}, {"limit": {"reset": int(NOW) + 9}}, 9.0),
        (429, {"x-ratelimit-reset": str(int(NOW) - 10)}, None, 0.0),
    ],
)
def test_retry_wait_reads_retry_after_then_the_reset(
    status: int, headers: dict[str, str], error: dict[str, object] | None, expected: float
) -> None:
    policy = RetryPolicy(now=lambda: NOW)
    assert retry_wait(policy, 1, status, headers, error) == pytest.approx(expected)


def test_retry_wait_backs_off_for_a_5xx_even_when_the_bucket_resets_later() -> None:
    policy = RetryPolicy(now=lambda: NOW, backoff_base=1.0, backoff_cap=4.0)
    headers = {"x-ratelimit-reset": str(int(NOW) + 50)}
    waits = [retry_wait(policy, retry, 500, headers) for retry in (1, 2, 3, 4)]
    assert [0.5 <= waits[0] <= 1, 1 <= waits[1] <= 2, 2 <= waits[2] <= 4, 2 <= waits[3] <= 4] == [True] * 4


# --- which project --------------------------------------------------------------------------------------------


def link_file(folder: Path, **data: str) -> None:
    (folder / ".vercel").mkdir()
    (folder / ".vercel" / "project.json").write_text(json.dumps(data))


def test_the_link_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"VERCEL_TOKEN": "tok_123456", "VERCEL_ORG_ID": "team_a", "VERCEL_PROJECT_ID": "prj_a"}
    link = resolve_link(env, tmp_path)
    assert (link.project_id, link.team, link.api_url) == ("prj_a", "team_a", "https://api.vercel.com")
    assert "tok_123456" not in repr(link)


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = {
        "VERCEL_TOKEN": "env-token",
        "VERCEL_ORG_ID": "team_a",
        "VERCEL_PROJECT_ID": "prj_a",
        "VERCEL_API_URL": "https://api.example.org",
    }
    link = resolve_link(env, tmp_path, token="flag-token", scope="team_b", api="http://127.0.0.1:3939/")
    assert (link.token, link.team, link.team_source, link.api_url) == (
        "flag-token",
        "team_b",
        "--scope",
        "http://127.0.0.1:3939",
    )


def test_the_link_comes_from_vercel_project_json(tmp_path: Path) -> None:
    link_file(tmp_path, projectId="prj_file", orgId="team_file")
    link = resolve_link({"VERCEL_TOKEN": "t"}, tmp_path)
    assert (link.project_id, link.team, link.project_source) == ("prj_file", "team_file", ".vercel/project.json")
    assert resolve_link({"VERCEL_TOKEN": "t", "VERCEL_ORG_ID": "team_env"}, tmp_path).team == "team_env"


@pytest.mark.parametrize(
    ("env", "files", "message"),
    [
        ({"VERCEL_PROJECT_ID": "prj_a"}, None, "no Vercel token: set VERCEL_TOKEN or pass --token"),
        ({"VERCEL_TOKEN": "  "}, None, "no Vercel token"),
        ({"VERCEL_TOKEN": "t"}, None, "no Vercel project: set VERCEL_PROJECT_ID"),
        ({"VERCEL_TOKEN": "t"}, "{broken", "is not readable JSON"),
        ({"VERCEL_TOKEN": "t"}, '{"orgId": "team_a"}', "has no projectId"),
        (
            {"VERCEL_TOKEN": "t", "VERCEL_PROJECT_ID": "p", "VERCEL_API_URL": "ftp://x"},
            None,
            r"must be an http\(s\) URL",
        ),
        (
            {"VERCEL_TOKEN": "t", "VERCEL_PROJECT_ID": "p", "VERCEL_API_URL": "http://api.example.org"},
            None,
            "over plain http",
        ),
    ],
)
def test_what_the_link_lacks_is_said_in_one_line(
    tmp_path: Path, env: dict[str, str], files: str | None, message: str
) -> None:
    if files is not None:
        (tmp_path / ".vercel").mkdir()
        (tmp_path / ".vercel" / "project.json").write_text(files)
    with pytest.raises(NotLinkedError, match=message) as caught:
        resolve_link(env, tmp_path)
    assert "\n" not in str(caught.value)
