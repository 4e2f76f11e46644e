"""`lectern doctor` end to end, through the real entry point: a deliberately broken setup (a failed build, a slow
import, a wrong database password, an origin missing from the allow-list), a healthy one, one with nothing
configured, and bad input. Exit codes, one-line errors, and no secret in any output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lectern.cli import vercel_options
from lectern.deploy.emulator import EmulatorState, Project, RunningEmulator
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.vercel import RetryPolicy
from tests.cli.serving import clear_contract_env
from tests.cli.test_monitor import main, one_line_error
from tests.deploy.fixtures import emulator, fresh_state, linked_env, seed_deployment
from tests.ops.fixtures import PasswordRole, PgRelay, password_role, pg_relay, tcp_url
from tests.ops.test_doctor_cors import BOOK, MISSING, served_lectern

__all__ = ["emulator", "password_role", "pg_relay"]

WRONG_PASSWORD = "wrong-pw-marker-" + "9d" * 6
DB_PASSWORD = "dbpw-marker-" + "6a" * 6


@dataclass
class Setup:
    state: EmulatorState
    project: Project
    env: dict[str, str]
    url: str
    outputs: list[str]

    def run(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, **env: str
    ) -> tuple[int, str, str]:
        code, out, err = main(monkeypatch, capsys, "doctor", *args, **{**self.env, **env})
        self.outputs.append(out + err)
        return code, out, err


@pytest.fixture
def book_api(database_url: str, clean_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Lectern app whose allow-list holds the book's origin only (its metrics go before the tables empty)."""
    with served_lectern(database_url, tmp_path_factory.mktemp("doctor-app"), frontend_origins=BOOK) as host:
        yield f"http://{host}"


@pytest.fixture
def setup(emulator: RunningEmulator, book_api: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Setup]:
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(vercel_options, "retry_policy", RetryPolicy(sleep=lambda seconds: None))
    state, project = fresh_state(emulator, "127.0.0.1:9", book_api.removeprefix("http://"))
    yield Setup(state, project, linked_env(emulator), book_api, [])


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def test_a_broken_setup_fails_three_checks_and_says_how_to_fix_each(
    setup: Setup,
    pg_relay: PgRelay,
    password_role: PasswordRole,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.py").write_text("import slowdep\napp = object()\n")
    (tmp_path / "api" / "slowdep.py").write_text("import time\ntime.sleep(1.1)\n")
    setup.state.faults.fail_next_build(
        ["Traceback (most recent call last):", "ModuleNotFoundError: No module named 'x'"]
    )
    seed_deployment(setup.state, setup.project, setup.url.removeprefix("http://"))
    wrong = tcp_url(pg_relay, "lectern_test", user=password_role.name, password=WRONG_PASSWORD)
    setup.state.add_env(setup.project, "DATABASE_URL", wrong, type="encrypted", target=["production"])
    setup.state.add_env(setup.project, "FRONTEND_ORIGINS", f"{BOOK},{MISSING}", type="plain", target=["production"])

    code, out, err = setup.run(monkeypatch, capsys, "--url", setup.url, "--json")
    assert code == 1
    assert one_line_error(err) == "error: 3 of 4 checks failed: deployment, database, cors"
    report = json.loads(out)
    assert report["ok"] is False and report["target"] == "production"
    assert statuses(report) == {"deployment": "fail", "cold start": "warn", "database": "fail", "cors": "fail"}
    deployment, coldstart, database, cors = report["checks"]
    assert deployment["facts"]["cause"] == "missing dependency"
    assert deployment["fixes"] == [
        "add the package that provides `x` to requirements.txt (`lectern init` pins Lectern's own dependencies),"
        " then deploy again"
    ]
    assert [h["package"] for h in coldstart["facts"]["heavy"]] == ["slowdep"]
    assert coldstart["fixes"][0].startswith("import slowdep inside the function that needs it")
    assert database["facts"]["stage"] == "auth" and database["facts"]["source"] == "Vercel (production)"
    assert database["fixes"][0].startswith(f"the password of {password_role.name} is wrong")
    assert database["fixes"][0].endswith("`lectern env set DATABASE_URL --target production` and deploy again")
    assert cors["summary"] == f"1 of 2 origin(s) fail on {setup.url}: {MISSING}"
    assert "FRONTEND_ORIGINS on Vercel (production) lists https://missing.example.org" in cors["fixes"][0]

    code, out, _ = setup.run(monkeypatch, capsys, "--url", setup.url)
    assert code == 1
    assert "Doctor for production of book" in out
    assert "  fail  deployment" in out and "  warn  cold start" in out
    assert "  fail  database" in out and "  fail  cors" in out
    assert "fix: add the package that provides `x` to requirements.txt" in out
    everything = "\n".join(setup.outputs)
    for secret in (WRONG_PASSWORD, password_role.password, setup.env["VERCEL_TOKEN"]):
        assert secret not in everything


def test_a_healthy_setup_passes_and_a_sensitive_url_falls_back_to_the_local_one(
    setup: Setup, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    initialise(tmp_path, InitOptions(name="book-api"))
    seed_deployment(setup.state, setup.project, setup.url.removeprefix("http://"))
    marked = database_url.replace("postgres:@", f"postgres:{DB_PASSWORD}@", 1)
    setup.state.add_env(setup.project, "DATABASE_URL", marked, type="sensitive", target=["production"])
    setup.state.add_env(setup.project, "FRONTEND_ORIGINS", BOOK, type="plain", target=["production"])

    code, out, err = setup.run(monkeypatch, capsys, "--url", setup.url, "--json", DATABASE_URL=marked)
    assert code == 0, err
    report = json.loads(out)
    checks = statuses(report)
    assert report["ok"] is True and checks["cold start"] in ("pass", "warn")  # a busy machine may pass 1 s
    assert (checks["deployment"], checks["database"], checks["cors"]) == ("pass", "pass", "pass")
    database = report["checks"][2]
    assert database["facts"]["source"] == "the local environment"
    assert database["details"][0] == (
        "note: DATABASE_URL is sensitive on Vercel (production), so Vercel does not return it: used the local"
        " DATABASE_URL instead"
    )
    assert report["checks"][1]["facts"]["heavy"] == []  # Lectern's own entrypoint imports nothing heavy
    assert report["checks"][3]["details"][0] == f"origins from FRONTEND_ORIGINS (Vercel (production)): {BOOK}"
    assert DB_PASSWORD not in out + err


def test_with_nothing_configured_every_check_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clear_contract_env(monkeypatch)
    monkeypatch.delenv("VERCEL_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = main(monkeypatch, capsys, "doctor")
    assert code == 0 and err == ""
    lines = [line for line in out.splitlines() if line.startswith("  warn")]
    assert [line.split()[1] for line in lines] == ["deployment", "cold", "database", "cors"]
    assert "not checked: no Vercel project is linked" in out
    assert "fix: set VERCEL_TOKEN, VERCEL_ORG_ID and VERCEL_PROJECT_ID, or run `vercel link` in this folder" in out
    assert out.rstrip().endswith("No check failed; warnings: deployment, cold start, database, cors")


def test_a_bad_token_fails_the_deployment_check_without_showing_it(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "wrong-token-" + "4" * 12
    code, out, err = setup.run(monkeypatch, capsys, "--url", setup.url, "--json", VERCEL_TOKEN=wrong)
    assert code == 1 and one_line_error(err).startswith("error: 1 of 4 checks failed: deployment")
    deployment = json.loads(out)["checks"][0]
    assert deployment["summary"] == (
        "cannot read the Vercel project: Vercel answered GET /v9/projects/prj_book with 403 forbidden: Not"
        " authorized; check the token (--token or VERCEL_TOKEN)"
    )
    assert wrong not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "http://example.org"), "error: refusing plain http to example.org: use https"),
        (("--url", "https://book.example.org/api"), "error: give the deployment's base URL"),
        (("--target", "staging"), "Invalid value for '--target'"),
    ],
)
def test_bad_input_is_refused_before_any_check(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = main(monkeypatch, capsys, "doctor", *args)
    assert code in (1, 2) and out == "" and message in err and "Traceback" not in err
