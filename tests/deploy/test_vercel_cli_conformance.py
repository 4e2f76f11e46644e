"""The real Vercel CLI (pinned in tools/vercel-cli) against the emulator: each sees what the other wrote.

All commands complete; `promote`/`rollback` need `--scope` (see the test for where they stop without). The last
tests put `lectern` and the Vercel CLI on one project: variables and deployments either tool writes, the other reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from lectern.cli import app
from lectern.deploy.emulator import (
    DEFAULT_TEAM_ID,
    Deployment,
    EmulatorState,
    Project,
    RecordedRequest,
    RunningEmulator,
)
from lectern.deploy.init import InitOptions, initialise
from tests.cli.serving import clear_contract_env
from tests.deploy.fixtures import PROJECT_ID, linked_env, wait_until

CLI = Path(__file__).resolve().parents[2] / "tools" / "vercel-cli" / "node_modules" / ".bin" / "vercel"
CLI_TIMEOUT_SECONDS = 45
TEAM_QUERY = f"teamId={DEFAULT_TEAM_ID}"


@dataclass(frozen=True)
class CliResult:
    returncode: int
    output: str
    requests: list[RecordedRequest]

    def calls(self) -> list[str]:
        """The requests as `METHOD /path?query`, in the order the emulator saw them."""
        return [f"{r.method} {r.path}{'?' + r.query if r.query else ''}" for r in self.requests]


class VercelCli:
    """Runs the pinned CLI against one emulator with an isolated home directory."""

    def __init__(self, binary: Path, emulator: RunningEmulator, home: Path) -> None:
        self.binary, self.emulator, self.home = binary, emulator, home
        self.workdir = home / "project"
        self.workdir.mkdir(parents=True)

    def _environment(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "VERCEL_TOKEN": self.emulator.token,
            "VERCEL_ORG_ID": DEFAULT_TEAM_ID,
            "VERCEL_PROJECT_ID": PROJECT_ID,
            "VERCEL_TELEMETRY_DISABLED": "1",
            "NO_UPDATE_NOTIFIER": "1",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "TZ": "UTC",
        }

    def run(self, *args: str, stdin: bytes | None = None, scope: bool = False) -> CliResult:
        """Run `vercel ARGS` and return its exit code, output and the requests it made."""
        state = self.emulator.state
        before = len(state.requests)
        command = [str(self.binary), *args, "--api", self.emulator.url, "--token", self.emulator.token]
        command += ["--global-config", str(self.home / "global-config")]
        if scope:
            command += ["--scope", DEFAULT_TEAM_ID]
        completed = subprocess.run(
            command,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            cwd=self.workdir,
            env=self._environment(),
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        output = completed.stdout.decode(errors="replace") + completed.stderr.decode(errors="replace")
        return CliResult(completed.returncode, output, state.requests[before:])


@pytest.fixture(scope="module")
def vercel_binary() -> Path:
    if os.environ.get("LECTERN_SKIP_VERCEL_CLI") == "1":
        pytest.skip("LECTERN_SKIP_VERCEL_CLI=1")
    if not CLI.exists():
        pytest.fail(f"The pinned Vercel CLI is missing at {CLI}: run `make vercel-cli` to install it.")
    if shutil.which("node") is None:
        pytest.fail("The Vercel CLI needs Node.js (20 or later) on PATH.")
    return CLI


@pytest.fixture
def state(state: EmulatorState) -> EmulatorState:
    """The shared fresh state, with builds fast enough for the CLI's polling."""
    state.timings.queued_seconds, state.timings.building_seconds, state.timings.alias_seconds = 0.05, 0.15, 0.05
    return state


@pytest.fixture
def cli(vercel_binary: Path, emulator: RunningEmulator, state: EmulatorState, tmp_path: Path) -> VercelCli:
    return VercelCli(vercel_binary, emulator, tmp_path / "home")


def wait_until_final(state: EmulatorState, *deployments: Deployment) -> None:
    """Let the wall clock finish the builds, for 10 s at most."""
    wait_until(lambda: all(state.get_deployment(d.id).is_final for d in deployments), timeout=10)


# Env: the CLI writes, the emulator stores; the API writes, the CLI reads.


def test_env_add_from_the_cli_lands_in_the_emulator(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    added = cli.run("env", "add", "CLI_VAR", "production", stdin=b"cli-value\n")
    assert added.returncode == 0, added.output
    stored = state.env_var(project, "CLI_VAR")
    assert stored is not None
    # CLI 48 keeps the newline of piped stdin; the emulator stores the bytes it was sent.
    assert (stored.type, stored.target, stored.value) == ("encrypted", ["production"], "cli-value\n")
    assert sorted(added.calls()[:-1]) == sorted(
        [
            f"GET /teams/{DEFAULT_TEAM_ID}",
            f"GET /v9/projects/{PROJECT_ID}?{TEAM_QUERY}",
            f"GET /v10/projects/{PROJECT_ID}/env?source=vercel-cli%3Aenv%3Aadd&{TEAM_QUERY}",
            f"GET /projects/{PROJECT_ID}/custom-environments?{TEAM_QUERY}",
        ]
    )
    assert added.calls()[-1] == f"POST /v10/projects/{PROJECT_ID}/env?{TEAM_QUERY}"

    sensitive = cli.run("env", "add", "CLI_SECRET", "preview", "--sensitive", stdin=b"hidden")
    assert sensitive.returncode == 0, sensitive.output
    secret = state.env_var(project, "CLI_SECRET")
    assert secret is not None
    assert (secret.type, secret.target, secret.value) == ("sensitive", ["preview"], "hidden")

    forced = cli.run("env", "add", "CLI_VAR", "production", "--force", stdin=b"replaced")
    assert forced.returncode == 0, forced.output
    assert forced.calls()[-1] == f"POST /v10/projects/{PROJECT_ID}/env?upsert=true&{TEAM_QUERY}"
    replaced = state.env_var(project, "CLI_VAR")
    assert replaced is not None
    assert (replaced.id, replaced.value) == (stored.id, "replaced")

    duplicate = cli.run("env", "add", "CLI_VAR", "production", stdin=b"again")
    assert duplicate.returncode == 1
    assert "already exists for the target production" in duplicate.output


def test_env_written_over_the_api_shows_in_env_ls_and_env_pull(cli: VercelCli, api: httpx.Client) -> None:
    for body in (
        {"key": "DOCS_URL", "value": "https://d.test", "type": "plain", "target": ["production"]},
        {"key": "MULTILINE", "value": "line1\nline2", "type": "encrypted", "target": ["development"]},
        {"key": "API_TOKEN", "value": "s3cret", "type": "sensitive", "target": ["production"]},
    ):
        assert api.post(f"/v10/projects/{PROJECT_ID}/env", json=body).status_code == 201

    listed = cli.run("env", "ls")
    assert listed.returncode == 0, listed.output
    rows = {line.split()[0]: line for line in listed.output.splitlines() if line.strip()[:1].isupper()}
    assert "https://d.test" in rows["DOCS_URL"]
    assert "Encrypted" in rows["MULTILINE"]
    assert "Encrypted" in rows["API_TOKEN"]
    assert "s3cret" not in listed.output

    production_only = cli.run("env", "ls", "production")
    assert "MULTILINE" not in production_only.output
    assert any("target=production" in call for call in production_only.calls())

    pulled = cli.run("env", "pull", "dev.env", "--yes")
    assert pulled.returncode == 0, pulled.output
    assert (
        pulled.calls()[-1] == f"GET /v3/env/pull/{PROJECT_ID}/development?source=vercel-cli%3Aenv%3Apull&{TEAM_QUERY}"
    )
    assert (cli.workdir / "dev.env").read_text() == (
        "# Created by Vercel CLI\n"
        'MULTILINE="line1\\nline2"\n'
        'VERCEL="1"\n'
        'VERCEL_ENV="development"\n'
        'VERCEL_TARGET_ENV="development"\n'
        'VERCEL_URL=""\n'
    )
    production = cli.run("env", "pull", "prod.env", "--environment", "production", "--yes")
    assert production.returncode == 0, production.output
    lines = (cli.workdir / "prod.env").read_text().splitlines()
    assert 'API_TOKEN=""' in lines
    assert 'DOCS_URL="https://d.test"' in lines


def test_env_rm_from_the_cli_deletes_in_the_emulator(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    doomed = state.add_env(project, "OLD_KEY", "x", type="plain", target=["production", "preview"])
    removed = cli.run("env", "rm", "OLD_KEY", "production", "--yes")
    assert removed.returncode == 0, removed.output
    assert state.env_var(project, "OLD_KEY") is None
    assert f"GET /v10/projects/{PROJECT_ID}/env?target=production&source=vercel-cli%3Aenv%3Arm&{TEAM_QUERY}" in (
        removed.calls()
    )
    assert removed.calls()[-1] == f"DELETE /v10/projects/{PROJECT_ID}/env/{doomed.id}?{TEAM_QUERY}"


# Deployments: listed, inspected, created, promoted and rolled back.


def test_ls_lists_the_emulator_deployments(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    production = state.deploy(project, target="production")
    preview = state.deploy(project)
    state.faults.fail_next_build(["boom"])
    failed = state.deploy(project)
    wait_until_final(state, production, preview, failed)
    listed = cli.run("ls")
    assert listed.returncode == 0, listed.output
    for deployment in (production, preview, failed):
        assert f"https://{deployment.url}" in listed.output
    assert "Production" in listed.output
    assert "Error" in listed.output
    assert f"GET /v6/deployments?limit=20&projectId={PROJECT_ID}&{TEAM_QUERY}" in listed.calls()


def test_inspect_shows_a_deployment_and_its_build_logs(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    ready = state.deploy(project, target="production")
    state.faults.fail_next_build(["Collecting fastapi", "ERROR: resolution failed"], error_message="uv failed")
    broken = state.deploy(project)
    wait_until_final(state, ready, broken)

    inspected = cli.run("inspect", ready.id)
    assert inspected.returncode == 0, inspected.output
    assert ready.id in inspected.output
    assert f"https://{ready.url}" in inspected.output
    assert "production" in inspected.output
    assert "Ready" in inspected.output
    assert inspected.calls() == [
        "GET /v2/user",
        f"GET /v13/deployments/{ready.id}",
        f"GET /v11/deployments/{ready.id}/builds",
    ]

    logs = cli.run("inspect", broken.id, "--logs")
    assert logs.returncode == 1, logs.output
    for line in ("Collecting fastapi", "ERROR: resolution failed", "Error: uv failed"):
        assert line in logs.output
    assert f"GET /v3/now/deployments/{broken.id}/events?direction=forward&follow=&format=lines" in logs.calls()


def write_app(workdir: Path) -> dict[str, bytes]:
    files = {
        "api/index.py": b"from fastapi import FastAPI\n\napp = FastAPI()\n",
        "requirements.txt": b"fastapi\n",
    }
    for name, content in files.items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_bytes(content)
    return files


def test_deploy_uploads_missing_files_then_waits_for_ready(cli: VercelCli, state: EmulatorState) -> None:
    files = write_app(cli.workdir)
    deployed = cli.run("deploy", "--yes")
    assert deployed.returncode == 0, deployed.output
    [deployment] = state.deployments.values()
    assert f"https://{deployment.url}" in deployed.output
    assert state.get_deployment(deployment.id).ready_state == "READY"
    assert {f.path: state.files[f.sha] for f in deployment.files} == files
    creates = [r for r in deployed.requests if r.path == "/v13/deployments"]
    uploads = [r for r in deployed.requests if r.path == "/v2/files"]
    assert [r.status for r in creates] == [400, 200]
    assert [r.status for r in uploads] == [200, 200]
    first_upload = deployed.requests.index(uploads[0])
    assert deployed.requests.index(creates[0]) < first_upload < deployed.requests.index(creates[1])
    for content in files.values():
        assert hashlib.sha1(content).hexdigest() in state.files


def test_deploy_of_a_folder_whose_files_are_all_ignored(cli: VercelCli, state: EmulatorState) -> None:
    """The CLI sends such a folder as `{"file": "tests", "mode": 16877}`, with no sha or size, and nothing of it."""
    files = write_app(cli.workdir)
    ignored = b"def test_nothing() -> None: ...\n"
    (cli.workdir / "tests").mkdir()
    (cli.workdir / "tests" / "test_app.py").write_bytes(ignored)
    (cli.workdir / ".vercelignore").write_bytes(b"tests/*.py\n")
    deployed = cli.run("deploy", "--yes")
    assert deployed.returncode == 0, deployed.output
    [deployment] = state.deployments.values()
    assert state.get_deployment(deployment.id).ready_state == "READY"
    folders = [(f.path, f.size, stat.S_ISDIR(f.mode)) for f in deployment.files if f.is_folder]
    assert folders == [("tests", 0, True)]
    assert {f.path for f in deployment.files if not f.is_folder} == {*files, ".vercelignore"}
    assert hashlib.sha1(ignored).hexdigest() not in state.files


def test_staged_production_deploy_then_promote(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    live = state.deploy(project, target="production")
    wait_until_final(state, live)
    write_app(cli.workdir)
    staged_run = cli.run("deploy", "--prod", "--skip-domain", "--yes")
    assert staged_run.returncode == 0, staged_run.output
    staged = next(d for d in state.deployments.values() if d.id != live.id)
    assert (staged.target, state.get_deployment(staged.id).ready_substate) == ("production", "STAGED")
    assert project.production_deployment_id == live.id

    promoted = cli.run("promote", staged.id, "--yes", scope=True)
    assert promoted.returncode == 0, promoted.output
    assert "Success!" in promoted.output
    assert project.production_deployment_id == staged.id
    assert f"POST /v10/projects/{PROJECT_ID}/promote/{staged.id}?{TEAM_QUERY}" in promoted.calls()
    assert f"GET /v9/projects/{PROJECT_ID}?rollbackInfo=true&{TEAM_QUERY}" in promoted.calls()


def test_promote_of_a_preview_rebuilds_it_for_production(
    cli: VercelCli, state: EmulatorState, project: Project
) -> None:
    preview = state.deploy(project)
    wait_until_final(state, preview)
    promoted = cli.run("promote", preview.id, "--yes", scope=True)
    assert promoted.returncode == 0, promoted.output
    [rebuilt] = [d for d in state.deployments.values() if d.id != preview.id]
    assert (rebuilt.target, rebuilt.meta, rebuilt.files) == ("production", {"action": "promote"}, preview.files)
    assert promoted.calls()[-1] == f"POST /v13/deployments?{TEAM_QUERY}"


def test_rollback_moves_production_back(cli: VercelCli, state: EmulatorState, project: Project) -> None:
    first = state.deploy(project, target="production")
    wait_until_final(state, first)
    second = state.deploy(project, target="production")
    wait_until_final(state, second)
    assert project.production_deployment_id == second.id

    rolled_back = cli.run("rollback", first.id, "--yes", scope=True)
    assert rolled_back.returncode == 0, rolled_back.output
    assert "rolled back" in rolled_back.output
    assert project.production_deployment_id == first.id
    assert f"POST /v9/projects/{PROJECT_ID}/rollback/{first.id}?{TEAM_QUERY}" in rolled_back.calls()


@pytest.mark.parametrize("command", ["promote", "rollback"])
def test_promote_and_rollback_without_scope_stop_at_the_team_check(
    cli: VercelCli, state: EmulatorState, project: Project, command: str
) -> None:
    """Without `--scope`, the CLI has no current team, so it sends no `teamId` and stops.

    It reads the user and the deployment (found across the user's teams, as Vercel does), sees that
    the deployment's `team` is not its current team, and exits 1 with "Deployment belongs to a
    different team" before touching the project. This is the CLI's own check, not an emulator
    failure: with `--scope <team>` both commands complete (tests above).
    """
    deployment = state.deploy(project, target="production")
    wait_until_final(state, deployment)
    result = cli.run(command, deployment.id, "--yes")
    assert result.returncode == 1
    assert "Deployment belongs to a different team" in result.output
    assert result.calls() == ["GET /v2/user", f"GET /v13/deployments/{deployment.id}"]


# Lectern and the Vercel CLI on one project: what either writes, the other reads.

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture
def lectern(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """`lectern ARGS` linked to the emulator's project, as a user's shell would run it, in a folder of its own."""
    clear_contract_env(monkeypatch)
    folder = tmp_path / "lectern"
    folder.mkdir()
    monkeypatch.chdir(folder)

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, env={**linked_env(emulator), "COLUMNS": "250"})

    return run


def test_lectern_reads_the_variables_vercel_env_add_wrote(cli: VercelCli, lectern: Callable[..., Result]) -> None:
    assert cli.run("env", "add", "DOCS_URL", "production", stdin=b"https://d.test").returncode == 0
    assert cli.run("env", "add", "API_TOKEN", "production", "--sensitive", stdin=b"s3cret").returncode == 0

    listed = lectern("env", "ls", "--target", "production")
    assert listed.exit_code == 0, listed.output
    names = {line.split("│")[1].strip() for line in listed.stdout.splitlines() if line.count("│") > 2}
    assert {"DOCS_URL", "API_TOKEN"} <= names
    assert "https://d.test" not in listed.output and "s3cret" not in listed.output
    shown = lectern("env", "get", "DOCS_URL", "--show", "--target", "production")
    assert (shown.exit_code, shown.stdout) == (0, "https://d.test\n")
    hidden = lectern("env", "get", "API_TOKEN", "--show", "--target", "production")
    assert hidden.exit_code == 1 and "Vercel never returns its value" in str(hidden.exception)

    assert cli.run("env", "rm", "DOCS_URL", "production", "--yes").returncode == 0
    gone = lectern("env", "get", "DOCS_URL", "--target", "production")
    assert gone.exit_code == 1 and "DOCS_URL is not set on production" in str(gone.exception)


def test_the_vercel_cli_reads_the_variables_lectern_set(cli: VercelCli, lectern: Callable[..., Result]) -> None:
    assert lectern("env", "set", "DOCS_URL", "https://d.test", "--plain", "--target", "production").exit_code == 0
    multi_line = lectern("env", "set", "TLS_KEY", "--plain", "--target", "production", input=PEM + "\n")
    assert multi_line.exit_code == 0, multi_line.output
    secret = lectern("env", "set", "API_TOKEN", "s3cret", "--target", "production")
    assert secret.exit_code == 0, secret.output

    listed = cli.run("env", "ls", "production")
    assert listed.returncode == 0, listed.output
    rows = {line.split()[0]: line for line in listed.output.splitlines() if line.strip()[:1].isupper()}
    assert {"DOCS_URL", "TLS_KEY", "API_TOKEN"} <= set(rows)
    assert "s3cret" not in listed.output
    pulled = cli.run("env", "pull", "prod.env", "--environment", "production", "--yes")
    assert pulled.returncode == 0, pulled.output
    lines = (cli.workdir / "prod.env").read_text().splitlines()
    assert 'DOCS_URL="https://d.test"' in lines
    assert "TLS_KEY=" + json_quoted(PEM) in lines  # whole, newlines escaped, no trailing newline
    assert 'API_TOKEN=""' in lines  # sensitive: Vercel gives nobody its value back

    assert lectern("env", "rm", "DOCS_URL", "--target", "production", "--yes").exit_code == 0
    assert "DOCS_URL" not in cli.run("env", "ls", "production").output


def json_quoted(value: str) -> str:
    return '"' + value.replace("\n", "\\n") + '"'


def test_deployments_either_tool_makes_or_moves_the_other_sees(
    cli: VercelCli,
    lectern: Callable[..., Result],
    state: EmulatorState,
    project: Project,
    edge: str,
    healthy_host: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.domains = [edge]
    state.set_deployment_host(healthy_host)  # every deployment serves a real, healthy Lectern app
    book = tmp_path / "book-api"
    book.mkdir()
    initialise(book, InitOptions(name="book-api"))
    monkeypatch.chdir(book)

    ours = lectern("deploy", "--prod", "--yes", "--skip-checks")
    assert ours.exit_code == 0, ours.output
    lectern_id = project.production_deployment_id
    assert lectern_id is not None
    inspected = cli.run("inspect", lectern_id)
    assert inspected.returncode == 0, inspected.output
    assert lectern_id in inspected.output and "production" in inspected.output and "Ready" in inspected.output
    assert f"https://{edge}" in inspected.output

    write_app(cli.workdir)
    theirs = cli.run("deploy", "--prod", "--yes")
    assert theirs.returncode == 0, theirs.output
    cli_id = project.production_deployment_id
    assert cli_id not in (None, lectern_id)
    status = lectern("status", "--json")
    assert status.exit_code == 0, status.output
    seen = json.loads(status.stdout)
    assert seen["production"]["id"] == cli_id and seen["health"]["ok"] is True
    assert {lectern_id, cli_id} <= {deployment["id"] for deployment in seen["deployments"]}

    rolled_back = cli.run("rollback", lectern_id, "--yes", scope=True)
    assert rolled_back.returncode == 0, rolled_back.output
    assert json.loads(lectern("status", "--json").stdout)["production"]["id"] == lectern_id

    ours_again = lectern("rollback", cli_id, "--yes")
    assert ours_again.exit_code == 0, ours_again.output
    assert project.production_deployment_id == cli_id
    # The CLI shows the production domain as an alias of the deployment production serves, and only of that one.
    assert f"https://{edge}" in cli.run("inspect", cli_id).output
    assert f"https://{edge}" not in cli.run("inspect", lectern_id).output
