"""`lectern deploy`, `status`, `rollback` and `dev vercel-emulator` against the Vercel emulator over real HTTP.

Deployments point at a real Lectern app served by uvicorn on a loopback port; the project's production
domain is a small stand-in for Vercel's edge that forwards to whichever deployment production serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from lectern.cli import app, vercel_options
from lectern.deploy.emulator import DEFAULT_TEAM_ID, Deployment, EmulatorState, Project, RunningEmulator
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.vercel import RetryPolicy
from tests.cli.fixtures import run_main
from tests.cli.serving import clear_contract_env
from tests.deploy.fixtures import PROJECT_ID, emulator, fresh_state, linked_env, seed_deployment, uploads
from tests.deploy.servers import (
    ReadinessFailsAfter,
    edge,
    fast_smoke,
    healthy_host,
    lectern_app,
    serve_asgi,
    unready_host,
)

__all__ = ["edge", "emulator", "fast_smoke", "healthy_host", "unready_host"]

pytestmark = pytest.mark.usefixtures("fast_smoke")

JWT = "jwt-marker-" + "a1b2c3d4" * 5
DB_PASSWORD = "dbpw-marker-5f5f5f"
BYPASS = "bypass-marker-" + "9" * 20
ALL = ["production", "preview"]


@dataclass
class Deployer:
    """Runs `lectern …` in an initialised project against the emulator; keeps every output."""

    emulator: RunningEmulator
    state: EmulatorState
    project: Project
    root: Path
    edge: str
    healthy: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    waits: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**linked_env(self.emulator), "COLUMNS": "250"}

    def __call__(self, *args: str, **env: str) -> Result:
        result = CliRunner().invoke(app, list(args), env={**self.env, **env})
        self.outputs.append(result.output + str(result.exception or ""))
        return result

    def main(self, *args: str, **env: str) -> tuple[int, str, str]:
        """Through the real entry point: exit code, stdout, stderr."""
        code, out, err = run_main(self.monkeypatch, self.capsys, list(args), {**self.env, **env})
        self.outputs.append(out + err)
        return code, out, err

    def requests(self, method: str, fragment: str) -> list[str]:
        return [r.path for r in self.state.requests if r.method == method and fragment in r.path]

    def production(self) -> str | None:
        with self.state.lock:
            return self.state.get_deployment(self.project.production_deployment_id or "").id

    def seed(self, host: str | None = None, *, target: str | None = "production") -> Deployment:
        made = seed_deployment(self.state, self.project, host or self.healthy, target=target)
        self.state.set_deployment_host(self.healthy)
        return made


@pytest.fixture
def deployer(
    emulator: RunningEmulator,
    edge: str,
    healthy_host: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Deployer:
    clear_contract_env(monkeypatch)
    root = tmp_path / "book-api"
    root.mkdir()
    initialise(root, InitOptions(name="book-api"))
    monkeypatch.chdir(root)
    state, project = fresh_state(emulator, edge, healthy_host)
    marked_url = database_url.replace("postgres:@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in marked_url  # trust authentication on the local socket ignores the password
    state.add_env(project, "DATABASE_URL", marked_url, type="encrypted", target=ALL)
    state.add_env(project, "JWT_SECRET", JWT, type="sensitive", target=ALL)
    runner = Deployer(emulator, state, project, root, edge, healthy_host, monkeypatch, capsys)
    monkeypatch.setattr(vercel_options, "retry_policy", RetryPolicy(sleep=runner.waits.append))
    return runner


@pytest.fixture
def going_bad_host(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real Lectern app whose readiness passes once (the smoke test), then fails."""
    with serve_asgi(ReadinessFailsAfter(lectern_app(database_url, tmp_path / "bad"), passes=1)) as host:
        yield host


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), err
    assert "Traceback" not in err
    return lines[-1]


# --- deploy --------------------------------------------------------------------------------------------------


def test_a_preview_uploads_every_file_then_an_unchanged_one_uploads_nothing(deployer: Deployer) -> None:
    first = deployer("deploy", "--skip-checks")
    assert first.exit_code == 0, first.output
    distinct = len(uploads(deployer.state))
    assert distinct > 100  # the project's files and Lectern's own package
    assert f"{distinct} uploaded" in first.stdout and f"({distinct} distinct)" in first.stdout
    assert f"READY  http://{deployer.healthy}" in first.stdout
    assert "Smoke test: /api/health 200, /api/health/ready 200" in first.stdout
    deployer.state.clear_requests()
    second = deployer("deploy", "--skip-checks")
    assert second.exit_code == 0, second.output
    assert uploads(deployer.state) == [] and ", 0 uploaded (0.0 MB)" in second.stdout
    assert deployer.requests("POST", "/v13/deployments") == ["/v13/deployments"]
    assert not deployer.requests("POST", "/promote/") and deployer.project.production_deployment_id is None
    previews = [d for d in deployer.state.deployments.values() if d.target is None]
    assert len(previews) == 2 and all(d.ready_state == "READY" for d in previews)


def test_a_production_deploy_is_staged_smoke_tested_promoted_and_verified(deployer: Deployer) -> None:
    before = deployer.seed()
    result = deployer("deploy", "--prod", "--yes", "--skip-checks")
    assert result.exit_code == 0, result.output
    new = deployer.production()
    assert new != before.id and deployer.state.deployments[new].target == "production"
    assert deployer.state.deployments[new].auto_assign_domains is False  # staged: the domain waited for the checks
    assert deployer.requests("POST", "/promote/") == [f"/v10/projects/{PROJECT_ID}/promote/{new}"]
    assert f"Production: http://{deployer.edge}, healthy (before: {before.id})" in result.stdout
    phases = result.stdout.split("Phases: ")[1].splitlines()[0]
    assert [p.split()[0] for p in phases.split(" · ")] == [
        "prepare",
        "upload",
        "create",
        "build",
        "smoke",
        "promote",
        "verify",
    ]


def test_production_needs_yes_when_nobody_can_answer(deployer: Deployer) -> None:
    result = deployer("deploy", "--prod", "--skip-checks")
    assert result.exit_code == 1 and "pass --yes" in str(result.exception)
    assert not deployer.requests("POST", "/v13/deployments")


def test_a_failed_build_prints_its_error_lines_and_exits_1(deployer: Deployer) -> None:
    deployer.state.faults.fail_next_build(
        ["Collecting fastapi==99.0", "ERROR: No matching distribution found for fastapi==99.0"]
    )
    code, out, err = deployer.main("deploy", "--skip-checks")
    assert code == 1
    assert "Build log, error lines:" in out
    assert "ERROR: No matching distribution found for fastapi==99.0" in out
    assert 'Error: Command "uv sync" exited with 1' in out
    assert "Collecting fastapi" not in out
    line = error_line(err)
    assert line.startswith("error: the build of dpl_") and line.endswith(
        'ended ERROR (BUILD_UTILS_SPAWN_1: Command "uv sync" exited with 1)'
    )


def test_a_canceled_build_exits_1_and_promotes_nothing(deployer: Deployer) -> None:
    before = deployer.seed()
    deployer.state.faults.cancel_next_build(["Installing required dependencies..."])
    code, out, err = deployer.main("deploy", "--prod", "--yes", "--skip-checks")
    assert code == 1
    assert "Build log" not in out  # a canceled build did not fail: its log tells nothing
    line = error_line(err)
    assert line.startswith("error: the build of dpl_") and line.endswith("ended CANCELED")
    assert not deployer.requests("POST", "/promote/") and deployer.production() == before.id


def test_a_failed_smoke_test_does_not_promote(deployer: Deployer, unready_host: str) -> None:
    before = deployer.seed()
    deployer.state.set_deployment_host(unready_host)
    code, out, err = deployer.main("deploy", "--prod", "--yes", "--skip-checks")
    assert code == 1
    assert not deployer.requests("POST", "/promote/") and deployer.production() == before.id
    line = error_line(err)
    assert f"the smoke test of http://{unready_host} failed: /api/health/ready answered 503" in line
    assert line.endswith("production was not changed")
    assert "database:responseTime: cannot reach the database" in line


def test_a_failure_after_promotion_rolls_back_automatically(deployer: Deployer, going_bad_host: str) -> None:
    before = deployer.seed()
    deployer.state.set_deployment_host(going_bad_host)
    code, out, err = deployer.main("deploy", "--prod", "--yes", "--skip-checks")
    assert code == 1
    new = next(d.id for d in deployer.state.deployments.values() if d.url == going_bad_host)
    assert deployer.requests("POST", "/promote/") == [f"/v10/projects/{PROJECT_ID}/promote/{new}"]
    assert deployer.requests("POST", "/rollback/") == [f"/v9/projects/{PROJECT_ID}/rollback/{before.id}"]
    assert deployer.production() == before.id
    assert f"rolling back to {before.id}" in err
    assert f"Rolled back to {before.id}: healthy" in out
    line = error_line(err)
    assert f"production (http://{deployer.edge}) failed its health check after promotion" in line
    assert line.endswith(f"rolled back automatically to {before.id}, and it is healthy")


def test_a_failure_after_a_first_promotion_has_nothing_to_roll_back_to(deployer: Deployer, going_bad_host: str) -> None:
    deployer.state.set_deployment_host(going_bad_host)
    code, _, err = deployer.main("deploy", "--prod", "--yes", "--skip-checks")
    assert code == 1 and "no earlier production deployment to roll back to" in error_line(err)
    assert not deployer.requests("POST", "/rollback/")


def test_a_429_storm_during_the_upload_is_waited_out(deployer: Deployer) -> None:
    deployer.monkeypatch.setattr(vercel_options, "retry_policy", RetryPolicy(attempts=30, sleep=deployer.waits.append))
    deployer.state.faults.rate_limit("/v2/files", count=25, retry_after=2, method="POST")
    deployer.state.faults.rate_limit("/v13/deployments", count=2, retry_after=1, method="POST")
    result = deployer("deploy", "--skip-checks")
    assert result.exit_code == 0, result.output
    limited = [r for r in deployer.state.requests if r.status == 429]
    assert len(limited) == 27 and len(deployer.waits) == 27
    assert sorted(deployer.waits) == [1.0] * 2 + [2.0] * 25
    deployment = next(iter(deployer.state.deployments.values()))
    assert len(uploads(deployer.state)) == len({f.sha for f in deployment.files})


def test_a_bad_token_is_one_line(deployer: Deployer) -> None:
    code, out, err = deployer.main("deploy", VERCEL_TOKEN="wrong-token-4242")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "wrong-token-4242" not in err
    assert error_line(err) == (
        "error: Vercel answered GET /v9/projects/prj_book with 403 forbidden: Not authorized;"
        " check the token (--token or VERCEL_TOKEN)"
    )


def test_an_unknown_project_is_one_line(deployer: Deployer) -> None:
    code, out, err = deployer.main("deploy", VERCEL_PROJECT_ID="prj_nope")
    assert code == 1 and out == "" and err.strip().count("\n") == 0
    assert (
        error_line(err) == "error: Vercel has no project prj_nope (VERCEL_PROJECT_ID) in team_emulator (VERCEL_ORG_ID)"
    )


def test_deploy_outside_an_initialised_project_is_one_line(deployer: Deployer, tmp_path: Path) -> None:
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    deployer.monkeypatch.chdir(elsewhere)
    code, _, err = deployer.main("deploy")
    assert code == 1 and "run `lectern init` here first" in error_line(err)


def test_a_failing_preflight_check_stops_the_deploy(deployer: Deployer) -> None:
    jwt = deployer.state.env_var(deployer.project, "JWT_SECRET")
    assert jwt is not None
    deployer.project.env.remove(jwt)
    result = deployer("deploy", "--prod", "--yes")
    assert result.exit_code == 1
    assert "fail  env" in result.stdout and "JWT_SECRET: MISSING" in result.stdout
    assert "preflight failed (env)" in str(result.exception) and "--skip-checks" in str(result.exception)
    assert not deployer.requests("POST", "/v13/deployments")


def test_json_output(deployer: Deployer) -> None:
    result = deployer("deploy", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {
        "ok",
        "error",
        "project",
        "target",
        "deployment",
        "files",
        "checks",
        "buildLog",
        "smoke",
        "production",
        "phases",
    }
    assert report["ok"] is True and report["error"] is None and report["target"] == "preview"
    assert report["project"] == {"id": PROJECT_ID, "name": "book"}
    assert report["deployment"]["id"].startswith("dpl_") and report["deployment"]["state"] == "READY"
    assert report["deployment"]["url"] == f"http://{deployer.healthy}"
    assert report["files"]["uploaded"] == report["files"]["distinct"] > 100
    assert [c["name"] for c in report["checks"]] == ["env", "dependencies", "bundle", "cold start", "migrations"]
    assert all(c["status"] in ("pass", "warn") and isinstance(c["details"], list) for c in report["checks"])
    assert report["smoke"]["ok"] is True and [e["status"] for e in report["smoke"]["endpoints"]] == [200, 200]
    assert report["production"] is None and report["buildLog"] == []
    assert list(report["phases"]) == ["prepare", "preflight", "upload", "create", "build", "smoke"]
    assert all(isinstance(v, float | int) and v >= 0 for v in report["phases"].values())


def test_json_output_of_a_failure_says_why(deployer: Deployer, unready_host: str) -> None:
    deployer.state.set_deployment_host(unready_host)
    result = deployer("deploy", "--json", "--skip-checks")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["error"].startswith("the smoke test of")
    assert report["smoke"]["endpoints"][1]["status"] == 503


def test_secret_values_never_reach_the_output(deployer: Deployer, going_bad_host: str) -> None:
    env = {"VERCEL_AUTOMATION_BYPASS_SECRET": BYPASS}
    deployer.seed()
    assert deployer("deploy", "--prod", "--yes", **env).exit_code == 0
    assert deployer("deploy", "--json", "--skip-checks", **env).exit_code == 0
    deployer.state.set_deployment_host(going_bad_host)
    assert deployer("deploy", "--prod", "--yes", "--json", "--skip-checks", **env).exit_code == 1
    assert deployer("status", **env).exit_code == 0
    assert deployer("status", "--json", **env).exit_code == 0
    assert deployer.main("rollback", "--yes", **env)[0] in (0, 1)
    everything = "\n".join(deployer.outputs)
    assert "warn  env" in everything  # the checks did read the variables
    for secret in (JWT, DB_PASSWORD, BYPASS, deployer.emulator.token):
        assert secret not in everything


# --- status --------------------------------------------------------------------------------------------------


def cancel(deployer: Deployer, deployment_id: str) -> None:
    headers = {"Authorization": f"Bearer {deployer.emulator.token}"}
    url = f"{deployer.emulator.url}/v12/deployments/{deployment_id}/cancel?teamId={DEFAULT_TEAM_ID}"
    assert httpx.patch(url, headers=headers, timeout=10).status_code == 200


def seed_history(deployer: Deployer) -> dict[str, Any]:
    """5 READY (2 production), 2 ERROR, 1 CANCELED and 1 still building: 5 of 8 finished are READY."""
    state = deployer.state
    ready = [deployer.seed(target=None) for _ in range(3)]
    production = [deployer.seed(), deployer.seed()]
    for _ in range(2):
        state.faults.fail_next_build(["ERROR: boom"])
        deployer.seed(target=None)
    state.timings.building_seconds = 60
    canceled = state.deploy(deployer.project, {"api/index.py": b"app = 'c'\n"})
    cancel(deployer, canceled.id)
    building = state.deploy(deployer.project, {"api/index.py": b"app = 'b'\n"})
    state.timings.building_seconds = 0.05
    return {"ready": ready, "production": production, "building": building}


def test_status_shows_production_history_success_rate_and_health(deployer: Deployer) -> None:
    seeded = seed_history(deployer)
    result = deployer("status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["successRate"] == {"ready": 5, "finished": 8, "rate": 0.625}
    current = seeded["production"][-1]
    assert status["production"]["id"] == current.id and status["production"]["state"] == "READY"
    assert status["production"]["url"] == f"http://{deployer.edge}"
    assert status["production"]["ageSeconds"] >= 0
    assert status["health"]["ok"] is True
    assert len(status["deployments"]) == 9 and status["deployments"][0]["id"] == seeded["building"].id
    assert {d["state"] for d in status["deployments"]} == {"READY", "ERROR", "CANCELED", "BUILDING"}
    human = deployer("status", "--limit", "5")
    assert human.exit_code == 0, human.output
    assert f"Production of book: {current.id}  READY  http://{deployer.edge}" in human.stdout
    assert "Health now: healthy" in human.stdout and "Last 5 deployments" in human.stdout
    assert "Success rate: 25.0% (1 READY of 4 finished)" in human.stdout


def test_status_exits_1_when_production_is_unhealthy(deployer: Deployer, unready_host: str) -> None:
    deployer.seed(unready_host)
    code, out, err = deployer.main("status")
    assert code == 1 and "Health now: failing" in out
    assert error_line(err).startswith("error: production fails its health check: /api/health/ready answered 503")


def test_status_of_a_project_without_production(deployer: Deployer) -> None:
    result = deployer("status")
    assert result.exit_code == 0, result.output
    assert "book: no production deployment yet." in result.stdout
    assert "Success rate: n/a (0 READY of 0 finished)" in result.stdout


# --- rollback ------------------------------------------------------------------------------------------------


def test_rollback_to_the_previous_production_deployment(deployer: Deployer) -> None:
    first, second = deployer.seed(), deployer.seed()
    deployer.state.add_env(deployer.project, "LOG_LEVEL", "DEBUG", type="plain", target=["production"])
    code, out, err = deployer.main("rollback", "--yes")
    assert code == 0, out + err
    assert deployer.production() == first.id
    assert f"serves {second.id}; rolling back to {first.id}" in out
    assert f"Rolled back to {first.id}; production is healthy." in out
    assert "changed since: LOG_LEVEL" in err


def test_rollback_to_a_given_deployment(deployer: Deployer) -> None:
    first, _, _ = deployer.seed(), deployer.seed(), deployer.seed()
    result = deployer("rollback", first.id, "--yes")
    assert result.exit_code == 0, result.output
    assert deployer.production() == first.id
    assert deployer.requests("POST", "/rollback/") == [f"/v9/projects/{PROJECT_ID}/rollback/{first.id}"]


def test_rollback_asks_and_without_an_answer_changes_nothing(deployer: Deployer) -> None:
    _, second = deployer.seed(), deployer.seed()
    result = deployer("rollback")
    assert result.exit_code == 1 and "pass --yes" in str(result.exception)
    assert not deployer.requests("POST", "/rollback/") and deployer.production() == second.id


def test_rollback_verifies_health_and_exits_1_when_it_fails(deployer: Deployer, unready_host: str) -> None:
    first = deployer.seed(unready_host)
    deployer.seed()
    code, _, err = deployer.main("rollback", "--yes")
    assert code == 1 and deployer.production() == first.id
    assert error_line(err) == (
        f"error: rolled back to {first.id}, but production fails its health check: /api/health/ready answered 503"
        " (database:responseTime: cannot reach the database (OperationalError))"
    )


def test_a_rollback_that_does_not_take_exits_1(deployer: Deployer) -> None:
    first, second = deployer.seed(), deployer.seed()
    deployer.state.timings.alias_seconds = 30
    code, _, err = deployer.main("rollback", "--yes", "--timeout", "1")
    assert code == 1
    assert error_line(err) == (
        f"error: the rollback to {first.id} did not take within 1 s; production still serves {second.id}"
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("none", "the project has no production deployment yet"),
        ("one", "no READY production deployment before"),
        ("preview", "is a preview deployment, READY: roll back only to READY production"),
        ("current", "production already serves"),
    ],
)
def test_rollback_refusals_are_one_line(deployer: Deployer, setup: str, message: str) -> None:
    args = ["rollback", "--yes"]
    if setup != "none":
        current = deployer.seed()
    if setup == "preview":
        args.insert(1, deployer.seed(target=None).id)
    if setup == "current":
        args.insert(1, current.id)
    code, out, err = deployer.main(*args)
    assert code == 1 and message in error_line(err)
    assert not deployer.requests("POST", "/rollback/")


# --- dev ------------------------------------------------------------------------------------------------------


def test_the_dev_emulator_refuses_a_public_interface(deployer: Deployer) -> None:
    code, _, err = deployer.main("dev", "vercel-emulator", "--host", "0.0.0.0")
    assert code == 1 and "only listens on loopback" in error_line(err)
