"""The deploy pipeline's parts against the Vercel emulator over real HTTP: files and ignores, uploads, builds,
smoke tests, promotion and rollback.

The emulator's deployments point at real Lectern apps served on loopback ports (tests/deploy/servers.py).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lectern.deploy import smoke
from lectern.deploy.builds import build_error_lines, follow_build, is_final
from lectern.deploy.bundle import VENDOR_DIR, collect_bundle, sha1_of
from lectern.deploy.emulator import DEFAULT_TEAM_ID, RunningEmulator
from lectern.deploy.errors import DeployError
from lectern.deploy.history import success_rate
from lectern.deploy.ignore import IgnoreRules
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.pipeline import DeployOptions, run_deploy
from lectern.deploy.polling import Deadline
from lectern.deploy.releases import move_production, previous_production, production_of, read_production
from lectern.deploy.smoke import base_url, check_health
from lectern.deploy.upload import create_deployment
from lectern.deploy.vercel import Deployment as VercelDeployment
from lectern.deploy.vercel import RetryPolicy, VercelApiError, VercelClient
from tests.cli.serving import clean_env
from tests.conftest import JWT_SECRET
from tests.deploy.fixtures import PROJECT_ID, fresh_state, seed_deployment, uploads, wait_until
from tests.deploy.servers import serve_asgi

pytestmark = pytest.mark.usefixtures("fast_smoke")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A project after `lectern init`."""
    root = tmp_path / "book-api"
    root.mkdir()
    initialise(root, InitOptions(name="book-api"))
    return root


# --- files and ignores ---------------------------------------------------------------------------------------


def test_ignore_rules_follow_gitignore() -> None:
    rules = IgnoreRules([".env*", "tests", "/build/", "*.log", "!keep.log", "docs/**/draft.md"])
    assert rules.ignores(".env", folder=False) and rules.ignores(".env.production.local", folder=False)
    assert rules.ignores("tests", folder=True) and rules.ignores("api/tests", folder=True)
    assert rules.ignores("build", folder=True) and not rules.ignores("api/build", folder=True)
    assert not rules.ignores("build", folder=False)  # `/build/` names a folder only
    assert rules.ignores("api/debug.log", folder=False) and not rules.ignores("keep.log", folder=False)
    assert rules.ignores("docs/a/b/draft.md", folder=False) and rules.ignores("docs/draft.md", folder=False)
    assert not rules.ignores("api/index.py", folder=False)


def test_the_bundle_leaves_out_ignored_files_and_carries_lectern(project_dir: Path) -> None:
    for name in (".env", ".env.production", "tests/test_x.py", ".venv/lib/x.py", "node_modules/a.js", ".lectern/db"):
        path = project_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SECRET=1\n")
    (project_dir / "api" / "__pycache__").mkdir()
    (project_dir / "api" / "__pycache__" / "index.cpython-311.pyc").write_bytes(b"\0")
    bundle = collect_bundle(project_dir)
    own = sorted(f.path for f in bundle.files if not f.path.startswith(VENDOR_DIR + "/"))
    assert own == [
        ".python-version",
        ".vercelignore",
        "api/index.py",
        "env.contract.json",
        "requirements.txt",
        "vercel.json",
    ]
    vendored = {f.path for f in bundle.files if f.path.startswith(VENDOR_DIR + "/")}
    assert f"{VENDOR_DIR}/lectern/app.py" in vendored and f"{VENDOR_DIR}/lectern/env_contract.json" in vendored
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in vendored)
    entry = next(f for f in bundle.files if f.path == "api/index.py")
    assert (entry.sha, entry.size) == sha1_of(project_dir / "api" / "index.py")
    assert entry.sha == hashlib.sha1((project_dir / "api" / "index.py").read_bytes()).hexdigest()


def test_a_manifest_pinning_lectern_from_an_index_uploads_no_copy(project_dir: Path) -> None:
    with (project_dir / "requirements.txt").open("a") as handle:
        handle.write("lectern==0.1.0\n")
    bundle = collect_bundle(project_dir)
    assert not bundle.vendored
    assert not any(f.path.startswith(VENDOR_DIR) for f in bundle.files)


def test_identical_files_are_one_upload(project_dir: Path) -> None:
    (project_dir / "a.txt").write_text("same\n")
    (project_dir / "b.txt").write_text("same\n")
    bundle = collect_bundle(project_dir)
    a, b = (next(f for f in bundle.files if f.path == name) for name in ("a.txt", "b.txt"))
    assert a.sha == b.sha and len(bundle.by_sha()) == len({f.sha for f in bundle.files}) < len(bundle.files)


# --- upload and create ---------------------------------------------------------------------------------------


def test_only_what_vercel_lacks_is_uploaded(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient, project_dir: Path
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    bundle = collect_bundle(project_dir)
    already = list(bundle.by_sha().values())[:10]
    for file in already:
        state.upload(file.source.read_bytes())
    created, stats = create_deployment(vercel_client, bundle, {"name": "book", "project": PROJECT_ID}, concurrency=4)
    assert stats.files == len(bundle.by_sha()) - 10 == len(uploads(state))
    assert stats.rounds == 2 and stats.bytes == sum(f.size for f in bundle.by_sha().values()) - sum(
        f.size for f in already
    )
    stored = state.get_deployment(created["id"])
    assert sorted(f.path for f in stored.files) == [f.path for f in bundle.files]


def test_uploads_run_in_parallel_but_never_more_than_the_bound_at_once(
    emulator: RunningEmulator,
    edge: str,
    healthy_host: str,
    vercel_client: VercelClient,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    in_flight = peak = 0
    lock = threading.Lock()
    send = vercel_client.request

    def counted(method: str, path: str, **options: Any) -> Any:
        nonlocal in_flight, peak
        if path != "/v2/files":
            return send(method, path, **options)
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            time.sleep(0.005)  # long enough for the others to start, if the bound lets them
            return send(method, path, **options)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(vercel_client, "request", counted)
    bundle = collect_bundle(project_dir)
    _, stats = create_deployment(vercel_client, bundle, {"name": "book", "project": PROJECT_ID}, concurrency=3)
    assert stats.files == len(bundle.by_sha()) == len(uploads(state)) > 3
    assert peak == 3


def test_a_failed_upload_stops_the_create(
    emulator: RunningEmulator, edge: str, healthy_host: str, project_dir: Path
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    state.faults.server_error("/v2/files", count=100, method="POST")
    retry = RetryPolicy(attempts=2, sleep=lambda seconds: None)
    with (
        VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=retry) as vercel,
        pytest.raises(VercelApiError, match="500 internal_server_error"),
    ):
        create_deployment(vercel, collect_bundle(project_dir), {"name": "book", "project": PROJECT_ID})
    assert not [r for r in state.requests if r.path == "/v13/deployments" and r.status == 200]


# --- builds --------------------------------------------------------------------------------------------------


def test_a_failed_build_gives_its_error_lines(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    state.faults.fail_next_build(["Collecting fastapi==99", "ERROR: No matching distribution found"])
    made = state.deploy(project)
    seen: list[str] = []
    done = follow_build(vercel_client, made.id, Deadline(10), on_state=lambda state, seconds: seen.append(state))
    assert done.state == "ERROR" and seen[-1] == "ERROR"
    lines = build_error_lines(vercel_client, made.id)
    assert lines == ["ERROR: No matching distribution found", 'Error: Command "uv sync" exited with 1']


def test_following_a_build_is_bounded(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    state.timings.building_seconds = 60
    made = state.deploy(project)
    with pytest.raises(DeployError, match=r"is still (QUEUED|BUILDING) after 0 s"):
        follow_build(vercel_client, made.id, Deadline(0.3))


def test_final_states() -> None:
    assert all(is_final(s) for s in ("READY", "ERROR", "CANCELED", "LAMBDA_ERROR"))
    assert not any(is_final(s) for s in ("QUEUED", "BUILDING", "INITIALIZING"))


def test_success_rate_counts_only_finished_deployments() -> None:
    def made(state: str) -> VercelDeployment:
        return VercelDeployment(id=state, url="", name="b", state=state, target=None, created_at=0)

    rate = success_rate([made(s) for s in ("READY", "READY", "ERROR", "CANCELED", "BUILDING", "QUEUED")])
    assert (rate.ready, rate.finished, rate.rate) == (2, 4, 0.5)
    assert success_rate([made("BUILDING")]).rate is None


# --- smoke tests ---------------------------------------------------------------------------------------------


def test_loopback_hosts_get_http_and_all_others_https() -> None:
    assert base_url("127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert base_url("localhost:3000") == "http://localhost:3000"
    assert base_url("[::1]:8000") == "http://[::1]:8000"
    assert base_url("book-abc123.vercel.app") == "https://book-abc123.vercel.app"
    assert base_url("http://book.example.org") == "https://book.example.org"
    assert base_url("127.0.0.1.nip.io") == "https://127.0.0.1.nip.io"


def test_smoke_test_of_a_healthy_unready_and_dead_host(healthy_host: str, unready_host: str, dead_host: str) -> None:
    good = check_health(healthy_host)
    assert good.ok and [e.status for e in good.endpoints] == [200, 200]
    unready = check_health(unready_host)
    assert not unready.ok and [e.status for e in unready.endpoints] == [200, 503]
    assert unready.problem.startswith("/api/health/ready answered 503 (database:responseTime: cannot reach")
    dead = check_health(dead_host)
    assert not dead.ok and dead.endpoints[0].status is None and "no answer" in dead.problem


def test_the_bypass_secret_is_sent_only_to_the_deployment(healthy_host: str) -> None:
    seen: list[str | None] = []

    async def record(request: Request) -> Response:
        seen.append(request.headers.get(smoke.BYPASS_HEADER))
        return JSONResponse({"status": "healthy"})

    with serve_asgi(Starlette(routes=[Route("/{path:path}", record)])) as host:
        check_health(host, bypass_secret="bypass-" + "x" * 24)
    assert seen and all(value == "bypass-" + "x" * 24 for value in seen)


# --- promotion and rollback ---------------------------------------------------------------------------------


def test_production_is_read_from_the_project(emulator: RunningEmulator, edge: str, healthy_host: str) -> None:
    assert production_of({"targets": {}}).deployment_id is None
    body = {"targets": {"production": {"id": "dpl_1", "url": "b-1.vercel.app", "alias": ["book.example.org"]}}}
    assert production_of(body).host == "book.example.org"
    state, project = fresh_state(emulator, edge, healthy_host)
    made = seed_deployment(state, project, healthy_host)
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url) as vercel:
        production = read_production(vercel, PROJECT_ID)
    assert (production.deployment_id, production.domain, production.deployment_url) == (made.id, edge, healthy_host)


def test_promote_then_roll_back(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    first = seed_deployment(state, project, healthy_host)
    staged = state.deploy(project, {"api/index.py": b"app = 2\n"}, target="production", auto_assign_domains=False)
    wait_until(lambda: state.get_deployment(staged.id).is_final)
    assert project.production_deployment_id == first.id
    promoted = move_production(vercel_client, PROJECT_ID, staged.id, "promote", Deadline(5))
    assert promoted.deployment_id == staged.id == project.production_deployment_id
    previous = previous_production(vercel_client, PROJECT_ID, promoted)
    assert previous is not None and previous.id == first.id
    rolled = move_production(vercel_client, PROJECT_ID, first.id, "rollback", Deadline(5))
    assert rolled.deployment_id == first.id


def test_a_move_that_does_not_take_in_time_is_an_error(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    first = seed_deployment(state, project, healthy_host)
    seed_deployment(state, project, healthy_host)
    state.timings.alias_seconds = 30
    with pytest.raises(DeployError, match=f"the rollback to {first.id} did not take within 0 s"):
        move_production(vercel_client, PROJECT_ID, first.id, "rollback", Deadline(0.3))


# --- the whole pipeline, in-process --------------------------------------------------------------------------


def test_run_deploy_preview_then_nothing_to_upload(
    emulator: RunningEmulator, edge: str, healthy_host: str, vercel_client: VercelClient, project_dir: Path
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    project = vercel_client.get_project(PROJECT_ID)
    options = DeployOptions(root=project_dir, skip_checks=True, timeout=10)
    first = run_deploy(vercel_client, project, options)
    assert first.ok, first.error
    assert first.files_uploaded == first.files_distinct == len(uploads(state)) > 100
    assert first.deployment is not None and first.deployment.state == "READY" and first.smoke and first.smoke.ok
    state.clear_requests()
    second = run_deploy(vercel_client, project, options)
    assert second.ok and second.files_uploaded == 0 and uploads(state) == []
    assert list(second.phases) == ["prepare", "upload", "create", "build", "smoke"]


def test_the_uploaded_files_run_lectern_from_the_upload(
    emulator: RunningEmulator,
    edge: str,
    healthy_host: str,
    vercel_client: VercelClient,
    project_dir: Path,
    tmp_path: Path,
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    report = run_deploy(
        vercel_client, vercel_client.get_project(PROJECT_ID), DeployOptions(root=project_dir, skip_checks=True)
    )
    assert report.ok and report.deployment is not None, report.error
    task = tmp_path / "task"  # the deployment as Vercel unpacks it: only what was uploaded
    for file in state.get_deployment(report.deployment.id).files:
        (task / file.path).parent.mkdir(parents=True, exist_ok=True)
        (task / file.path).write_bytes(state.files[file.sha])
    script = (
        "import runpy; entry = runpy.run_path('api/index.py'); import lectern;"
        " print(lectern.__file__, type(entry['app']).__name__)"
    )
    env = clean_env(JWT_SECRET=JWT_SECRET, LECTERN_DATA_DIR=str(tmp_path / "data"), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=task, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    module_file, app_type = done.stdout.split()
    assert module_file == str(task / VENDOR_DIR / "lectern" / "__init__.py") and app_type == "FastAPI"
