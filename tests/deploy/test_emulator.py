"""The Vercel API emulator over real HTTP: shapes, auth and scope, env, files, lifecycle, faults."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lectern.deploy.emulator import (
    DEFAULT_TEAM_ID,
    EmulatorState,
    ManualClock,
    Project,
    RunningEmulator,
)
from tests.deploy.fixtures import PROJECT_ID


@pytest.fixture(scope="module")
def anonymous(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A client without token or team: for auth failures and the `/_emulator` control API."""
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(autouse=True)
def state(clock: ManualClock, emulator: RunningEmulator) -> EmulatorState:
    """Every test on a manual clock, with project `lectern-book`."""
    state = emulator.use_state(EmulatorState(clock=clock))
    state.add_project("lectern-book", project_id=PROJECT_ID)
    return state


def sha1(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def upload(api: httpx.Client, content: bytes) -> str:
    digest = sha1(content)
    response = api.post(
        "/v2/files",
        content=content,
        headers={"x-vercel-digest": digest, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    return digest


def deploy(api: httpx.Client, *, target: str | None = None, **extra: Any) -> dict[str, Any]:
    content = b"from fastapi import FastAPI\napp = FastAPI()\n"
    sha = upload(api, content)
    body = {"name": "lectern-book", "project": PROJECT_ID, "target": target, **extra}
    body["files"] = [{"file": "api/index.py", "sha": sha, "size": len(content)}]
    response = api.post("/v13/deployments", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# Accounts, auth and scope


def test_user_and_teams_have_vercel_shapes(api: httpx.Client) -> None:
    user = api.get("/v2/user").json()["user"]
    assert {"id", "email", "username", "name"} <= user.keys()
    team = api.get(f"/teams/{DEFAULT_TEAM_ID}").json()
    assert (team["id"], team["slug"]) == (DEFAULT_TEAM_ID, "lectern")
    assert [t["id"] for t in api.get("/v1/teams").json()["teams"]] == [DEFAULT_TEAM_ID]


def test_missing_token_is_403_forbidden(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v2/user")
    assert response.status_code == 403
    assert error_of(response) == {
        "code": "forbidden",
        "message": "The request is missing an authentication token",
        "missingToken": True,
    }


def test_unknown_token_is_403_invalid_token(emulator: RunningEmulator, anonymous: httpx.Client) -> None:
    response = anonymous.get("/v2/user", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert error_of(response)["invalidToken"] is True


def test_unknown_project_is_404_not_found(api: httpx.Client) -> None:
    response = api.get("/v9/projects/prj_missing")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Project not found"}


def test_team_project_is_found_only_in_the_team_scope(
    emulator: RunningEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    without_team = anonymous.get(f"/v9/projects/{PROJECT_ID}", headers=headers)
    assert without_team.status_code == 404
    by_slug = anonymous.get("/v9/projects/lectern-book", headers=headers, params={"slug": "lectern"})
    assert by_slug.json()["id"] == PROJECT_ID
    foreign = api.get(f"/v9/projects/{PROJECT_ID}", params={"teamId": "team_someone_else"})
    assert foreign.status_code == 403
    assert error_of(foreign)["code"] == "forbidden"


def test_rate_limit_headers_are_on_every_response(api: httpx.Client, anonymous: httpx.Client) -> None:
    for response in (api.get("/v2/user"), api.get("/v9/projects/nope"), anonymous.get("/v2/user")):
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= response.headers.keys()
    first, second = api.get("/v2/user"), api.get("/v2/user")
    assert int(second.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1


def test_exhausted_rate_limit_is_429_with_limit_body(emulator: RunningEmulator, api: httpx.Client) -> None:
    emulator.state.rate_limiter.limit = 2
    assert [api.get("/v2/user").status_code for _ in range(2)] == [200, 200]
    response = api.get("/v2/user")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["x-ratelimit-remaining"] == "0"
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert error["limit"]["remaining"] == 0
    assert error["limit"]["total"] == 2


# Scripted faults


def test_scripted_429_burst_over_http_then_success(
    emulator: RunningEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    rule = {"path": "/v9/projects/*", "status": 429, "count": 2, "retryAfter": 3}
    assert anonymous.post("/_emulator/faults/responses", json=rule).status_code == 204
    burst = [api.get(f"/v9/projects/{PROJECT_ID}") for _ in range(2)]
    assert [(r.status_code, r.headers["Retry-After"], error_of(r)["code"]) for r in burst] == [
        (429, "3", "rate_limited")
    ] * 2
    assert api.get(f"/v9/projects/{PROJECT_ID}").status_code == 200
    assert anonymous.get("/_emulator/faults").json()["responses"] == []


def test_scripted_500s_on_the_state_match_method_and_path(state: EmulatorState, api: httpx.Client) -> None:
    state.faults.server_error("/v13/deployments", count=2, method="POST")
    assert api.get("/v13/deployments/dpl_missing").status_code == 404
    failures = [api.post("/v13/deployments", json={}) for _ in range(2)]
    assert [(r.status_code, error_of(r)["code"]) for r in failures] == [(500, "internal_server_error")] * 2
    assert api.post("/v13/deployments", json={}).status_code == 400


def test_scripted_build_error_keeps_its_log_lines(
    emulator: RunningEmulator, api: httpx.Client, clock: ManualClock, anonymous: httpx.Client
) -> None:
    script = {"logLines": ["Collecting fastapi", "ERROR: No matching distribution"], "errorMessage": "pip failed"}
    assert anonymous.post("/_emulator/faults/builds", json=script).status_code == 204
    created = deploy(api, target="production")
    clock.advance(1)
    deployment = api.get(f"/v13/deployments/{created['id']}").json()
    assert deployment["readyState"] == "ERROR"
    assert (deployment["errorCode"], deployment["errorMessage"]) == ("BUILD_UTILS_SPAWN_1", "pip failed")
    assert deployment["alias"] == []
    events = api.get(f"/v3/deployments/{created['id']}/events").json()
    texts = [event["payload"]["text"] for event in events]
    assert texts[-3:] == ["Collecting fastapi", "ERROR: No matching distribution", "Error: pip failed"]
    assert events[-1]["type"] == "stderr"
    assert api.get(f"/v9/projects/{PROJECT_ID}").json()["targets"] == {}


def test_scripted_cancel_ends_the_build_canceled_without_an_error(
    api: httpx.Client, clock: ManualClock, anonymous: httpx.Client
) -> None:
    assert anonymous.post("/_emulator/faults/builds", json={"outcome": "CANCELED"}).status_code == 204
    assert anonymous.post("/_emulator/faults/builds", json={"outcome": "LOST"}).status_code == 400
    created = deploy(api, target="production")
    clock.advance(1)
    deployment = api.get(f"/v13/deployments/{created['id']}").json()
    assert (deployment["readyState"], deployment.get("errorCode")) == ("CANCELED", None)
    events = api.get(f"/v3/deployments/{created['id']}/events").json()
    assert [event["type"] for event in events if event["type"] == "stderr"] == []
    assert api.get(f"/v9/projects/{PROJECT_ID}").json()["targets"] == {}


# Env vars


def create_env(api: httpx.Client, body: object, **params: str) -> httpx.Response:
    return api.post(f"/v10/projects/{PROJECT_ID}/env", json=body, params=params)


def test_env_types_and_decrypt_never_reveal_sensitive_values(api: httpx.Client) -> None:
    for key, env_type in (("PLAIN", "plain"), ("ENCRYPTED", "encrypted"), ("SENSITIVE", "sensitive")):
        response = create_env(api, {"key": key, "value": f"{key}-value", "type": env_type, "target": ["production"]})
        assert response.status_code == 201
        assert response.json()["failed"] == []
    listed = {e["key"]: e for e in api.get(f"/v10/projects/{PROJECT_ID}/env").json()["envs"]}
    assert listed["PLAIN"]["value"] == "PLAIN-value"
    assert listed["ENCRYPTED"]["value"] != "ENCRYPTED-value"
    assert listed["ENCRYPTED"]["decrypted"] is False
    assert "value" not in listed["SENSITIVE"]
    listed_decrypted = api.get(f"/v9/projects/{PROJECT_ID}/env", params={"decrypt": "true"}).json()["envs"]
    decrypted = {e["key"]: e for e in listed_decrypted}
    assert decrypted["ENCRYPTED"]["value"] == "ENCRYPTED-value"
    assert "value" not in decrypted["SENSITIVE"]
    one = api.get(f"/v1/projects/{PROJECT_ID}/env/{listed['ENCRYPTED']['id']}").json()
    assert (one["value"], one["decrypted"]) == ("ENCRYPTED-value", True)
    assert "value" not in api.get(f"/v1/projects/{PROJECT_ID}/env/{listed['SENSITIVE']['id']}").json()


def test_env_values_are_stored_byte_exact(api: httpx.Client, state: EmulatorState, project: Project) -> None:
    value = "  key-with-newline\n"
    created = create_env(api, {"key": "API_KEY", "value": value, "type": "encrypted", "target": ["development"]})
    env_id = created.json()["created"]["id"]
    stored = state.env_var(project, "API_KEY")
    assert stored is not None
    assert stored.value == value
    assert api.get(f"/v1/projects/{PROJECT_ID}/env/{env_id}").json()["value"] == value
    assert api.get(f"/v3/env/pull/{PROJECT_ID}/development").json()["env"]["API_KEY"] == value


def test_env_conflict_and_upsert_follow_vercel(api: httpx.Client) -> None:
    first = create_env(api, {"key": "DSN", "value": "one", "type": "encrypted", "target": ["production", "preview"]})
    env_id = first.json()["created"]["id"]
    clash = create_env(api, {"key": "DSN", "value": "two", "type": "encrypted", "target": ["production"]})
    assert clash.status_code == 400
    assert error_of(clash)["code"] == "ENV_CONFLICT"
    assert error_of(clash)["message"] == (
        "A variable with the name `DSN` already exists for the target production on branch undefined"
    )
    # Upsert only replaces a variable with exactly the same targets.
    partial = create_env(api, {"key": "DSN", "value": "two", "target": ["production"]}, upsert="true")
    assert error_of(partial)["code"] == "ENV_CONFLICT"
    body = {"key": "DSN", "value": "two", "type": "encrypted", "target": ["preview", "production"]}
    same = create_env(api, body, upsert="true")
    assert same.status_code == 201
    assert same.json()["created"]["id"] == env_id
    assert api.get(f"/v1/projects/{PROJECT_ID}/env/{env_id}").json()["value"] == "two"


def test_env_batch_create_reports_failures_per_item(api: httpx.Client) -> None:
    create_env(api, {"key": "TAKEN", "value": "x", "type": "plain", "target": ["preview"]})
    batch = [
        {"key": "FIRST", "value": "1", "type": "plain", "target": ["production"]},
        {"key": "TAKEN", "value": "y", "type": "plain", "target": ["preview"]},
        {"key": "SECOND", "value": "2", "type": "encrypted", "target": ["preview", "development"]},
    ]
    response = create_env(api, batch)
    assert response.status_code == 201
    assert [env["key"] for env in response.json()["created"]] == ["FIRST", "SECOND"]
    [failure] = response.json()["failed"]
    assert (failure["error"]["code"], failure["error"]["key"]) == ("ENV_CONFLICT", "TAKEN")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"key": "1BAD", "value": "v", "type": "plain", "target": ["production"]}, "KEY_INVALID_CHARACTERS"),
        ({"key": "NO_TARGET", "value": "v", "type": "plain", "target": []}, "MISSING_TARGET"),
        ({"key": "DEV", "value": "v", "type": "sensitive", "target": ["development"]}, "bad_request"),
        ({"key": "NUM", "value": 5, "type": "plain", "target": ["production"]}, "VALUE_INVALID_TYPE"),
        ({"key": "T", "value": "v", "type": "secretish", "target": ["production"]}, "bad_request"),
    ],
)
def test_env_validation_errors(api: httpx.Client, body: dict[str, Any], code: str) -> None:
    response = create_env(api, body)
    assert response.status_code == 400
    assert error_of(response)["code"] == code


def test_env_edit_and_delete_in_both_versions(api: httpx.Client) -> None:
    ids = [
        create_env(api, {"key": key, "value": "v", "type": "plain", "target": ["preview"]}).json()["created"]["id"]
        for key in ("A", "B", "C", "D")
    ]
    edited = api.patch(f"/v9/projects/{PROJECT_ID}/env/{ids[0]}", json={"value": "w", "target": ["production"]})
    assert (edited.json()["value"], edited.json()["target"]) == ("w", ["production"])
    assert api.patch(f"/v10/projects/{PROJECT_ID}/env/{ids[1]}", json={"comment": "c"}).json()["comment"] == "c"
    assert api.delete(f"/v9/projects/{PROJECT_ID}/env/{ids[0]}").json()["key"] == "A"
    assert api.delete(f"/v10/projects/{PROJECT_ID}/env/{ids[1]}").json()["key"] == "B"
    assert api.delete(f"/v10/projects/{PROJECT_ID}/env/{ids[1]}").status_code == 404
    batch = api.request("DELETE", f"/v1/projects/{PROJECT_ID}/env", json={"ids": ids[2:]})
    assert batch.json() == {"deleted": 2, "ids": ids[2:]}
    assert api.get(f"/v10/projects/{PROJECT_ID}/env").json()["envs"] == []


def test_env_pull_resolves_target_branch_and_sensitive(api: httpx.Client) -> None:
    create_env(api, {"key": "URL", "value": "all-previews", "type": "plain", "target": ["preview"]})
    create_env(api, {"key": "URL", "value": "feature", "type": "plain", "target": ["preview"], "gitBranch": "f/x"})
    create_env(api, {"key": "TOKEN", "value": "secret", "type": "sensitive", "target": ["preview"]})
    create_env(api, {"key": "PROD_ONLY", "value": "p", "type": "plain", "target": ["production"]})
    preview = api.get(f"/v3/env/pull/{PROJECT_ID}/preview").json()["env"]
    assert (preview["URL"], preview["TOKEN"], preview["VERCEL_ENV"]) == ("all-previews", "", "preview")
    assert "PROD_ONLY" not in preview
    assert api.get(f"/v3/env/pull/{PROJECT_ID}/preview/f%2Fx").json()["env"]["URL"] == "feature"
    listed = api.get(f"/v10/projects/{PROJECT_ID}/env", params={"target": "production"}).json()["envs"]
    assert [env["key"] for env in listed] == ["PROD_ONLY"]


# Files and deployments


def test_file_upload_checks_digest_and_size(api: httpx.Client, state: EmulatorState) -> None:
    content = b"print('hi')\n"
    assert api.post("/v2/files", content=content, headers={"x-now-digest": sha1(content)}).json() == {}
    assert state.files[sha1(content)] == content
    wrong = api.post("/v2/files", content=content, headers={"x-vercel-digest": sha1(b"other")})
    assert (wrong.status_code, error_of(wrong)["code"]) == (400, "invalid_digest")
    assert api.post("/v2/files", content=content).status_code == 400
    short = api.post("/v2/files", content=content, headers={"x-vercel-digest": sha1(content), "x-now-size": "3"})
    assert short.status_code == 400


def test_create_deployment_lists_missing_files_then_succeeds(api: httpx.Client) -> None:
    first, second = b"app = 1\n", b"fastapi\n"
    body = {
        "name": "lectern-book",
        "project": PROJECT_ID,
        "files": [
            {"file": "api/index.py", "sha": sha1(first), "size": len(first)},
            {"file": "requirements.txt", "sha": sha1(second), "size": len(second)},
            {"file": "copy.txt", "sha": sha1(second), "size": len(second)},
        ],
    }
    missing = api.post("/v13/deployments", json=body)
    assert missing.status_code == 400
    assert missing.json() == {
        "error": {"code": "missing_files", "message": "Missing files", "missing": [sha1(first), sha1(second)]}
    }
    upload(api, first)
    assert error_of(api.post("/v13/deployments", json=body))["missing"] == [sha1(second)]
    upload(api, second)
    created = api.post("/v13/deployments", json=body)
    assert created.status_code == 200
    assert created.json()["readyState"] == "QUEUED"
    assert created.json()["id"].startswith("dpl_")


def test_a_folder_without_content_is_part_of_the_deployment(api: httpx.Client, state: EmulatorState) -> None:
    """Vercel's `UploadedFile` has an optional `sha` and `size`: the CLI sends a folder that way (mode 0o40755)."""
    content = b"app = 1\n"
    body = {
        "name": "lectern-book",
        "project": PROJECT_ID,
        "files": [
            {"file": "tests/unit", "mode": 16877},
            {"file": "api/index.py", "sha": sha1(content), "size": len(content), "mode": 33188},
            {"file": "docs"},
        ],
    }
    assert error_of(api.post("/v13/deployments", json=body))["missing"] == [sha1(content)]
    upload(api, content)
    created = api.post("/v13/deployments", json=body)
    assert created.status_code == 200, created.text
    files = state.deployments[created.json()["id"]].files
    assert [(f.path, f.sha, f.size, oct(f.mode)) for f in files] == [
        ("tests/unit", None, 0, "0o40755"),
        ("api/index.py", sha1(content), len(content), "0o100644"),
        ("docs", None, 0, "0o40755"),
    ]


@pytest.mark.parametrize(
    "entry",
    [
        {"sha": "0" * 40, "size": 1},
        {"file": "", "sha": "0" * 40, "size": 1},
        {"file": "api/index.py", "mode": 33188},
        {"file": "api/index.py", "size": 7},
        {"file": "api/index.py", "sha": "not-a-sha1", "size": 7},
        {"file": "api/index.py", "sha": 12, "size": 7},
        {"file": "api/index.py", "sha": "0" * 40, "size": -1},
        {"file": "api/index.py", "sha": "0" * 40, "size": "7"},
        {"file": "api/index.py", "sha": "0" * 40, "size": 7, "mode": True},
        {"file": "tests", "sha": "0" * 40, "size": 7, "mode": 16877},
        "api/index.py",
    ],
)
def test_malformed_file_entries_are_refused(api: httpx.Client, state: EmulatorState, entry: object) -> None:
    response = api.post("/v13/deployments", json={"name": "lectern-book", "project": PROJECT_ID, "files": [entry]})
    assert (response.status_code, error_of(response)["code"]) == (400, "bad_request")
    assert error_of(response)["message"].startswith("Invalid request: ")
    assert not state.deployments


def test_deployment_moves_queued_building_ready_with_the_clock(api: httpx.Client, clock: ManualClock) -> None:
    created = deploy(api, target="production")
    assert (created["readyState"], created["buildingAt"], created["alias"]) == ("QUEUED", None, [])
    clock.advance(0.2)
    building = api.get(f"/v13/deployments/{created['id']}").json()
    assert building["readyState"] == "BUILDING"
    assert building["buildingAt"] == created["createdAt"] + 200
    clock.advance(0.3)
    ready = api.get(f"/v13/deployments/{created['id']}").json()
    assert (ready["readyState"], ready["readySubstate"], ready["target"]) == ("READY", "PROMOTED", "production")
    assert ready["ready"] == created["createdAt"] + 500
    assert ready["aliasAssigned"] == ready["ready"]
    assert ready["alias"] == ["lectern-book.vercel.app"]
    assert ready["team"]["id"] == DEFAULT_TEAM_ID
    assert api.get("/v13/deployments/lectern-book.vercel.app").json()["id"] == created["id"]
    assert api.get(f"/v13/deployments/{ready['url']}").json()["id"] == created["id"]


def test_deployment_lifecycle_runs_on_wall_time(emulator: RunningEmulator, api: httpx.Client) -> None:
    """The default clock drives builds by itself; the polling loop is bounded."""
    fresh = emulator.use_state(EmulatorState())
    fresh.timings.queued_seconds, fresh.timings.building_seconds = 0.05, 0.1
    project = fresh.add_project("wall-clock")
    deployment = fresh.deploy(project)
    states = []
    for _ in range(100):
        states.append(api.get(f"/v13/deployments/{deployment.id}").json()["readyState"])
        if states[-1] == "READY":
            break
        time.sleep(0.02)
    assert states[-1] == "READY"
    assert set(states) <= {"QUEUED", "BUILDING", "READY"}


def test_preview_deployment_has_no_substate_or_production_alias(api: httpx.Client, clock: ManualClock) -> None:
    created = deploy(api)
    clock.advance(1)
    ready = api.get(f"/v13/deployments/{created['id']}").json()
    assert (ready["target"], ready["readySubstate"], ready["alias"]) == (None, None, [])


def test_staged_production_deployment_waits_for_promote(
    api: httpx.Client, clock: ManualClock, state: EmulatorState
) -> None:
    live = deploy(api, target="production")
    staged = deploy(api, target="production", autoAssignCustomDomains=False)
    clock.advance(1)
    assert api.get(f"/v13/deployments/{staged['id']}").json()["readySubstate"] == "STAGED"
    assert api.get(f"/v9/projects/{PROJECT_ID}").json()["targets"]["production"]["uid"] == live["id"]
    promoted = api.post(f"/v10/projects/{PROJECT_ID}/promote/{staged['id']}", json={})
    assert (promoted.status_code, promoted.content) == (201, b"")
    pending = api.get(f"/v9/projects/{PROJECT_ID}", params={"rollbackInfo": "true"}).json()["lastAliasRequest"]
    assert pending["type"] == "promote"
    assert (pending["jobStatus"], pending["toDeploymentId"]) == ("in-progress", staged["id"])
    clock.advance(0.1)
    project = api.get(f"/v9/projects/{PROJECT_ID}").json()
    assert project["lastAliasRequest"]["jobStatus"] == "succeeded"
    assert project["targets"]["production"]["uid"] == staged["id"]
    assert api.get(f"/v13/deployments/{staged['id']}").json()["readySubstate"] == "PROMOTED"
    assert api.get(f"/v13/deployments/{live['id']}").json()["alias"] == []


def test_rollback_in_both_versions_pauses_auto_promotion(api: httpx.Client, clock: ManualClock) -> None:
    first = deploy(api, target="production")
    clock.advance(1)
    second = deploy(api, target="production")
    preview = deploy(api)
    clock.advance(1)
    candidates = {d["uid"]: d["isRollbackCandidate"] for d in api.get("/v6/deployments").json()["deployments"]}
    assert candidates == {first["id"]: True, second["id"]: False, preview["id"]: False}
    assert api.post(f"/v1/projects/{PROJECT_ID}/rollback/{preview['id']}").status_code == 400
    rollback = api.post(f"/v1/projects/{PROJECT_ID}/rollback/{first['id']}", params={"description": "bad"})
    assert rollback.status_code == 201
    clock.advance(0.1)
    project = api.get(f"/v9/projects/{PROJECT_ID}").json()
    assert project["targets"]["production"]["uid"] == first["id"]
    assert project["lastRollbackTarget"]["toDeploymentId"] == first["id"]
    # After a rollback, new production builds stay staged until a promote.
    third = deploy(api, target="production")
    clock.advance(1)
    assert api.get(f"/v13/deployments/{third['id']}").json()["readySubstate"] == "STAGED"
    assert api.post(f"/v9/projects/{PROJECT_ID}/rollback/{second['id']}", json={}).status_code == 201
    clock.advance(0.1)
    assert api.get(f"/v9/projects/{PROJECT_ID}").json()["targets"]["production"]["uid"] == second["id"]


def test_list_deployments_paginates_with_until_and_since(
    api: httpx.Client, emulator: RunningEmulator, anonymous: httpx.Client
) -> None:
    ids = [deploy(api, target="production" if i % 2 else None)["id"] for i in range(5)]
    newest_first = ids[::-1]
    page = api.get("/v6/deployments", params={"projectId": PROJECT_ID, "limit": 2}).json()
    assert [d["uid"] for d in page["deployments"]] == newest_first[:2]
    assert page["pagination"]["count"] == 2
    assert page["pagination"]["prev"] is None
    seen = [d["uid"] for d in page["deployments"]]
    for _ in range(5):
        if page["pagination"]["next"] is None:
            break
        page = api.get("/v6/deployments", params={"limit": 2, "until": page["pagination"]["next"]}).json()
        seen += [d["uid"] for d in page["deployments"]]
    assert seen == newest_first
    back = api.get("/v6/deployments", params={"limit": 2, "since": page["pagination"]["prev"]}).json()
    assert [d["uid"] for d in back["deployments"]] == newest_first[2:4]
    production = api.get("/v6/deployments", params={"target": "production"}).json()["deployments"]
    assert [d["uid"] for d in production] == [ids[3], ids[1]]
    assert api.get("/v6/deployments", params={"state": "READY,ERROR"}).json()["deployments"] == []
    headers = {"Authorization": f"Bearer {emulator.token}"}
    personal = anonymous.get("/v6/deployments", headers=headers).json()
    assert personal == {"pagination": {"count": 0, "next": None, "prev": None}, "deployments": []}


def test_events_as_json_ndjson_and_followed_stream(api: httpx.Client, clock: ManualClock) -> None:
    created = deploy(api)
    assert api.get(f"/v3/deployments/{created['id']}/events").json() == []
    clock.advance(1)
    events = api.get(f"/v3/deployments/{created['id']}/events").json()
    assert events[0]["type"] == "stdout"
    assert events[0]["payload"]["deploymentId"] == created["id"]
    assert events[-1]["payload"]["text"] == "Deployment completed"
    lines = api.get(f"/v3/now/deployments/{created['id']}/events", params={"format": "lines"}).text.splitlines()
    assert [json.loads(line)["text"] for line in lines] == [e["payload"]["text"] for e in events]
    followed = api.get(f"/v3/deployments/{created['id']}/events", params={"follow": "1"}).text.splitlines()
    assert len(followed) == len(events)
    newest = api.get(f"/v3/deployments/{created['id']}/events", params={"limit": 2, "direction": "backward"})
    assert [event["payload"]["text"] for event in newest.json()] == ["Deployment completed", "Deploying outputs..."]


def test_follow_streams_a_build_as_it_happens(emulator: RunningEmulator, api: httpx.Client) -> None:
    fresh = emulator.use_state(EmulatorState())
    fresh.timings.queued_seconds, fresh.timings.building_seconds = 0.05, 0.2
    deployment = fresh.deploy(fresh.add_project("streamed"))
    params = {"follow": "1", "format": "lines"}
    with api.stream("GET", f"/v3/deployments/{deployment.id}/events", params=params) as response:
        texts = [json.loads(line)["text"] for line in response.iter_lines() if line]
    assert texts[-1] == "Deployment completed"
    assert fresh.get_deployment(deployment.id).ready_state == "READY"


def test_redeploy_inline_files_cancel_and_aliases(api: httpx.Client, clock: ManualClock) -> None:
    inline = {"file": "api/index.py", "data": "YXBwID0gTm9uZQo=", "encoding": "base64"}
    source = api.post("/v13/deployments", json={"name": "lectern-book", "files": [inline]}).json()
    redeploy = api.post("/v13/deployments", json={"deploymentId": source["id"], "target": "production"}).json()
    assert (redeploy["projectId"], redeploy["target"]) == (PROJECT_ID, "production")
    canceled = api.patch(f"/v12/deployments/{redeploy['id']}/cancel").json()
    assert canceled["readyState"] == "CANCELED"
    clock.advance(1)
    assert api.get(f"/v13/deployments/{redeploy['id']}").json()["readyState"] == "CANCELED"
    assigned = api.post(f"/v2/deployments/{source['id']}/aliases", json={"alias": "docs.example.test"}).json()
    assert (assigned["alias"], assigned["oldDeploymentId"]) == ("docs.example.test", None)
    aliases = api.get(f"/v2/deployments/{source['id']}/aliases").json()["aliases"]
    assert [a["alias"] for a in aliases] == ["docs.example.test"]
    assert api.get("/v13/deployments/docs.example.test").json()["id"] == source["id"]


def test_deployment_url_can_point_at_a_local_app(
    emulator: RunningEmulator, api: httpx.Client, clock: ManualClock, anonymous: httpx.Client
) -> None:
    """Smoke tests reach a real local app at the deployment URL; here the app is the emulator itself."""
    local_host = f"{emulator.host}:{emulator.port}"
    reply = anonymous.put("/_emulator/deployment-host", json={"host": local_host})
    assert reply.status_code == 204
    created = deploy(api, target="production")
    assert created["url"] == local_host
    clock.advance(1)
    smoke = httpx.get(f"http://{created['url']}/v2/user", headers={"Authorization": f"Bearer {emulator.token}"})
    assert smoke.status_code == 200


def test_control_api_state_timings_and_unknown_routes(
    emulator: RunningEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    timings = anonymous.put("/_emulator/timings", json={"queuedSeconds": 0, "buildingSeconds": 1.5})
    assert timings.json() == {"queued_seconds": 0.0, "building_seconds": 1.5, "alias_seconds": 0.1}
    assert anonymous.put("/_emulator/timings", json={"queuedSeconds": -1}).status_code == 400
    created = deploy(api)
    assert created["buildingAt"] is None
    snapshot = anonymous.get("/_emulator/state").json()
    assert snapshot["deployments"][0]["id"] == created["id"]
    unknown = api.get("/v99/nothing")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "not_found")
    wrong_method = api.put("/v2/user")
    assert (wrong_method.status_code, error_of(wrong_method)["code"]) == (405, "method_unknown")
    log = anonymous.get("/_emulator/requests").json()["requests"]
    assert {"method": "PUT", "path": "/v2/user", "query": f"teamId={DEFAULT_TEAM_ID}", "status": 405} in log
