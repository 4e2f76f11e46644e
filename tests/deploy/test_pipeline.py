"""The deploy pipeline's parts against the Vercel emulator over real HTTP: files and ignores, uploads, builds,
smoke tests, promotion and rollback.

Also home of the servers the other deploy tests reuse: a real Lectern app served by uvicorn on a loopback
port (where the emulator's deployments point), one whose readiness fails, and a stand-in for Vercel's edge
that serves a project's production domain from whichever deployment production is on.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lectern.app import create_app
from lectern.deploy import smoke
from lectern.deploy.builds import build_error_lines, follow_build, is_final
from lectern.deploy.bundle import VENDOR_DIR, collect_bundle, sha1_of
from lectern.deploy.emulator import DEFAULT_TEAM_ID, Deployment, EmulatorState, Project, RunningEmulator, serve_emulator
from lectern.deploy.emulator.lifecycle import advance
from lectern.deploy.errors import DeployError
from lectern.deploy.history import success_rate
from lectern.deploy.ignore import IgnoreRules
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.pipeline import DeployOptions, run_deploy
from lectern.deploy.polling import Deadline
from lectern.deploy.releases import move_production, previous_production, production_of, read_production
from lectern.deploy.smoke import SmokePolicy, base_url, check_health
from lectern.deploy.upload import create_deployment
from lectern.deploy.vercel import Deployment as VercelDeployment
from lectern.deploy.vercel import RetryPolicy, VercelApiError, VercelClient
from lectern.settings import Settings
from tests.cli.serving import clean_env, free_port
from tests.conftest import JWT_SECRET

PROJECT_ID = "prj_book"
STARTUP_TIMEOUT_S = 10.0
FAST_SMOKE = SmokePolicy(attempts=2, delay=0.05, timeout=5.0)


# --- servers -------------------------------------------------------------------------------------------------


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread; yields `127.0.0.1:PORT`."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.01)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


def lectern_app(database_url: str, data_dir: Path) -> Any:
    """A real Lectern app on the test database (or, given a URL nobody answers, one that is not ready)."""
    settings = Settings(app_env="test", database_url=database_url, jwt_secret=JWT_SECRET, lectern_data_dir=data_dir)
    return create_app(settings)


class ReadinessFailsAfter:
    """Wraps an app: `/api/health/ready` answers as the app does `passes` times, then 503 (a deployment going bad)."""

    def __init__(self, app: Any, passes: int) -> None:
        self.app = app
        self.passes = passes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == smoke.READINESS:
            if self.passes <= 0:
                body = {"status": "fail", "checks": {"database:responseTime": [{"status": "fail", "output": "gone"}]}}
                await JSONResponse(body, status_code=503)(scope, receive, send)
                return
            self.passes -= 1
        await self.app(scope, receive, send)


def production_edge(emulator: RunningEmulator) -> Starlette:
    """Vercel's edge in small: a request to a project's domain goes to the deployment production serves."""

    async def forward(request: Request) -> Response:
        state = emulator.state
        host = request.headers.get("host", "")
        with state.lock:
            advance(state)
            project = next((p for p in state.projects.values() if host in p.domains), None)
            serving = state.deployments.get(project.production_deployment_id or "") if project else None
        if serving is None:
            return JSONResponse({"error": {"code": "DEPLOYMENT_NOT_FOUND"}}, status_code=404)
        async with httpx.AsyncClient(base_url=f"http://{serving.url}", timeout=10) as client:
            answer = await client.get(request.url.path)
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return Starlette(routes=[Route("/{path:path}", forward)])


@pytest.fixture(scope="module")
def healthy_host(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Lectern app whose liveness and readiness pass."""
    with serve_asgi(lectern_app(database_url, tmp_path_factory.mktemp("healthy"))) as host:
        yield host


@pytest.fixture(scope="module")
def unready_host(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Lectern app pointed at a database that does not exist: liveness passes, readiness answers 503."""
    missing = database_url.replace("/lectern_test?", "/no_such_database?", 1)
    with serve_asgi(lectern_app(missing, tmp_path_factory.mktemp("unready"))) as host:
        yield host


@pytest.fixture
def dead_host() -> str:
    """A loopback port nobody listens on."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with serve_emulator() as running:
        yield running


@pytest.fixture(scope="module")
def edge(emulator: RunningEmulator) -> Iterator[str]:
    with serve_asgi(production_edge(emulator)) as host:
        yield host


@pytest.fixture(autouse=True)
def fast_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smoke, "DEFAULT_POLICY", FAST_SMOKE)


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


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[VercelClient]:
    retry = RetryPolicy(sleep=lambda seconds: None)
    with VercelClient(emulator.token, team=DEFAULT_TEAM_ID, api_url=emulator.url, retry=retry) as vercel:
        yield vercel


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A project after `lectern init`."""
    root = tmp_path / "book-api"
    root.mkdir()
    initialise(root, InitOptions(name="book-api"))
    return root


def uploads(state: EmulatorState) -> list[str]:
    return [r.path for r in state.requests if r.method == "POST" and r.path == "/v2/files" and r.status == 200]


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
    emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient, project_dir: Path
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    bundle = collect_bundle(project_dir)
    already = list(bundle.by_sha().values())[:10]
    for file in already:
        state.upload(file.source.read_bytes())
    created, stats = create_deployment(client, bundle, {"name": "book", "project": PROJECT_ID}, concurrency=4)
    assert stats.files == len(bundle.by_sha()) - 10 == len(uploads(state))
    assert stats.rounds == 2 and stats.bytes == sum(f.size for f in bundle.by_sha().values()) - sum(
        f.size for f in already
    )
    stored = state.get_deployment(created["id"])
    assert sorted(f.path for f in stored.files) == [f.path for f in bundle.files]


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
    emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    state.faults.fail_next_build(["Collecting fastapi==99", "ERROR: No matching distribution found"])
    made = state.deploy(project)
    seen: list[str] = []
    done = follow_build(client, made.id, Deadline(10), on_state=lambda state, seconds: seen.append(state))
    assert done.state == "ERROR" and seen[-1] == "ERROR"
    lines = build_error_lines(client, made.id)
    assert lines == ["ERROR: No matching distribution found", 'Error: Command "uv sync" exited with 1']


def test_following_a_build_is_bounded(emulator: RunningEmulator, edge: str, healthy_host: str, client: Any) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    state.timings.building_seconds = 60
    made = state.deploy(project)
    with pytest.raises(DeployError, match=r"is still (QUEUED|BUILDING) after 0 s"):
        follow_build(client, made.id, Deadline(0.3))


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


def test_promote_then_roll_back(emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    first = seed_deployment(state, project, healthy_host)
    staged = state.deploy(project, {"api/index.py": b"app = 2\n"}, target="production", auto_assign_domains=False)
    wait_until(lambda: state.get_deployment(staged.id).is_final)
    assert project.production_deployment_id == first.id
    promoted = move_production(client, PROJECT_ID, staged.id, "promote", Deadline(5))
    assert promoted.deployment_id == staged.id == project.production_deployment_id
    previous = previous_production(client, PROJECT_ID, promoted)
    assert previous is not None and previous.id == first.id
    rolled = move_production(client, PROJECT_ID, first.id, "rollback", Deadline(5))
    assert rolled.deployment_id == first.id


def test_a_move_that_does_not_take_in_time_is_an_error(
    emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient
) -> None:
    state, project = fresh_state(emulator, edge, healthy_host)
    first = seed_deployment(state, project, healthy_host)
    seed_deployment(state, project, healthy_host)
    state.timings.alias_seconds = 30
    with pytest.raises(DeployError, match=f"the rollback to {first.id} did not take within 0 s"):
        move_production(client, PROJECT_ID, first.id, "rollback", Deadline(0.3))


# --- the whole pipeline, in-process --------------------------------------------------------------------------


def test_run_deploy_preview_then_nothing_to_upload(
    emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient, project_dir: Path
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    project = client.get_project(PROJECT_ID)
    options = DeployOptions(root=project_dir, skip_checks=True, timeout=10)
    first = run_deploy(client, project, options)
    assert first.ok, first.error
    assert first.files_uploaded == first.files_distinct == len(uploads(state)) > 100
    assert first.deployment is not None and first.deployment.state == "READY" and first.smoke and first.smoke.ok
    state.clear_requests()
    second = run_deploy(client, project, options)
    assert second.ok and second.files_uploaded == 0 and uploads(state) == []
    assert list(second.phases) == ["prepare", "upload", "create", "build", "smoke"]


def test_the_uploaded_files_run_lectern_from_the_upload(
    emulator: RunningEmulator, edge: str, healthy_host: str, client: VercelClient, project_dir: Path, tmp_path: Path
) -> None:
    state, _ = fresh_state(emulator, edge, healthy_host)
    report = run_deploy(client, client.get_project(PROJECT_ID), DeployOptions(root=project_dir, skip_checks=True))
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
