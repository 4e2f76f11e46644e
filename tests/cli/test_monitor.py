"""`lectern monitor` end to end: from the metrics table, from a real app's /api/metrics, with the Vercel
emulator's deployments; --json, --watch, one-line errors, and no secret in any output.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from lectern.cli import vercel_options
from lectern.deploy.emulator import RunningEmulator
from lectern.deploy.vercel import RetryPolicy
from lectern.metrics.histogram import bucket_index
from lectern.metrics.recorder import MetricsRecorder
from tests.cli.fixtures import Invoke, run_main
from tests.deploy.fixtures import emulator, fresh_state, linked_env, seed_deployment
from tests.ops.test_monitor import (
    TOKEN,
    clock,
    database,
    known_latencies,
    metrics_host,
    recorder,
    seed,
    true_quantile,
)

__all__ = ["clock", "database", "emulator", "metrics_host", "recorder"]

DB_PASSWORD = "dbpw-marker-" + "c4" * 6
ROUTE_KEYS = {
    "route",
    "requests",
    "latencySeconds",
    "serverErrors",
    "errorRate",
    "clientErrors",
    "clientErrorRate",
    "coldStarts",
    "coldStartRate",
    "coldStartsPerHour",
    "meanInitSeconds",
}


@pytest.fixture
def marked_url(database_url: str) -> str:
    """The test database with a recognisable password (trust authentication on the socket ignores it)."""
    url = database_url.replace("postgres:@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in url
    return url


@pytest.fixture
def vercel_env(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Project `book` on the emulator: 3 READY and 2 ERROR deployments."""
    state, project = fresh_state(emulator, "127.0.0.1:9", "127.0.0.1:9")
    for outcome in ("READY", "ERROR", "READY", "ERROR", "READY"):
        if outcome == "ERROR":
            state.faults.fail_next_build(["ERROR: boom"])
        seed_deployment(state, project, "127.0.0.1:9", target=None)
    monkeypatch.setattr(vercel_options, "retry_policy", RetryPolicy(sleep=lambda seconds: None))
    yield linked_env(emulator)


def main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, **env: str
) -> tuple[int, str, str]:
    """Through the real entry point: exit code, stdout, stderr (wide, so Rich does not wrap the error line)."""
    return run_main(monkeypatch, capsys, list(args), {"COLUMNS": "250", **env})


async def run(cli: Invoke, *args: str, env: dict[str, str] | None = None) -> Result:
    """The command in a worker thread: it runs its own event loop, as it does from a shell."""
    return await asyncio.to_thread(cli, *args, env=env)


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


async def test_json_from_the_database_has_every_route_and_the_p95_within_a_bucket(
    cli: Invoke, recorder: MetricsRecorder, marked_url: str
) -> None:
    durations = known_latencies()
    await seed(recorder, durations)
    result = await run(cli, "monitor", "--database-url", marked_url, "--since", "30m", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"source", "window", "overall", "routes", "deployments"}
    assert report["source"]["kind"] == "database" and DB_PASSWORD not in result.output
    assert report["window"]["kind"] == "range" and report["window"]["seconds"] == 1800
    assert report["deployments"] is None  # no Vercel project configured
    assert set(report["overall"]) == ROUTE_KEYS and all(set(r) == ROUTE_KEYS for r in report["routes"])
    chapters, profile = report["routes"]
    assert chapters["route"] == "/api/chapters/{chapter_id}" and chapters["requests"] == 2_000
    p95 = chapters["latencySeconds"]["p95"]
    assert abs(bucket_index(p95) - bucket_index(true_quantile(durations, 0.95))) <= 1
    assert profile["route"] == "/api/profile" and profile["coldStarts"] == 2 and profile["coldStartRate"] == 0.5
    assert profile["coldStartsPerHour"] == 4.0  # 2 in half an hour
    assert profile["errorRate"] == 0.25 and profile["clientErrorRate"] == 0.25
    assert report["overall"]["route"] is None and report["overall"]["requests"] == 2_004


async def test_the_table_shows_each_route_the_total_and_the_deployments(
    cli: Invoke, recorder: MetricsRecorder, marked_url: str, vercel_env: dict[str, str]
) -> None:
    await seed(recorder, known_latencies(100))
    result = await run(cli, "monitor", "--database-url", marked_url, env=vercel_env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Traffic over the last 1 h" in out
    assert "/api/chapters/{chapter_id}" in out and "/api/profile" in out and "all routes" in out
    assert "Deployments of book: 60.0% READY (3 of 5 finished, last 5)" in out
    assert DB_PASSWORD not in result.output and vercel_env["VERCEL_TOKEN"] not in result.output
    only = await run(cli, "monitor", "--database-url", marked_url, "--route", "/api/profile", "--json", env=vercel_env)
    report = json.loads(only.stdout)
    assert [r["route"] for r in report["routes"]] == ["/api/profile"]
    assert report["deployments"] == {
        "project": "book",
        "considered": 5,
        "ready": 3,
        "finished": 5,
        "rate": 0.6,
        "error": None,
    }


async def test_url_reads_a_real_apps_metrics_and_watch_refreshes(
    cli: Invoke, recorder: MetricsRecorder, metrics_host: str
) -> None:
    await seed(recorder, known_latencies(200))
    result = await run(cli, "monitor", "--url", metrics_host, "--json", env={"METRICS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == {"kind": "url", "location": metrics_host + "/api/metrics"}
    assert report["window"]["kind"] == "totals" and report["overall"]["requests"] == 204
    assert report["overall"]["coldStartsPerHour"] is None
    args = ("--watch", "--count", "2", "--interval", "0.1", "--json")
    watched = await run(cli, "monitor", "--url", metrics_host, *args, env={"METRICS_TOKEN": TOKEN})
    assert watched.exit_code == 0, watched.output
    frames = [json.loads(line) for line in watched.stdout.splitlines()]
    assert [f["window"]["kind"] for f in frames] == ["totals", "scrapes"]
    assert frames[1]["overall"]["requests"] == 0  # nothing happened between the two refreshes
    table = await run(cli, "monitor", "--url", metrics_host, env={"METRICS_TOKEN": TOKEN})
    assert "Traffic since the first recorded request" in table.stdout and TOKEN not in table.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--url", "http://127.0.0.1:9", "--database-url", "postgresql://x@h/db"), {}, "not both"),
        (("--url", "http://127.0.0.1:9", "--since", "1h"), {"METRICS_TOKEN": TOKEN}, "--since needs a database"),
        (("--url", "http://127.0.0.1:9"), {}, "needs the deployment's metrics token: set METRICS_TOKEN"),
        (("--url", "http://example.org"), {"METRICS_TOKEN": TOKEN}, "refusing plain http to example.org"),
        (("--database-url", "mysql://x@h/db"), {}, "DATABASE_URL must start with postgres://"),
        (("--database-url", "postgresql://x@h/db", "--since", "soon"), {}, "'soon' is not a duration"),
    ],
)
def test_usage_mistakes_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    code, out, err = main(monkeypatch, capsys, "monitor", *args, **env)
    assert code == 1 and out == ""
    assert message in one_line_error(err)


def test_a_wrong_token_is_one_line_and_not_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, metrics_host: str
) -> None:
    monkeypatch.chdir(tmp_path)
    wrong = "wrong-token-" + "5" * 16
    code, out, err = main(monkeypatch, capsys, "monitor", "--url", metrics_host, METRICS_TOKEN=wrong)
    assert code == 1 and out == ""
    assert one_line_error(err) == (
        f"error: {metrics_host}/api/metrics refused the metrics token (401): METRICS_TOKEN here differs from the"
        " deployment's"
    )
    assert wrong not in err


def test_an_unreachable_vercel_project_is_reported_not_fatal(
    cli: Invoke, marked_url: str, vercel_env: dict[str, str], clean_database: Any
) -> None:
    result = cli("monitor", "--database-url", marked_url, "--json", env={**vercel_env, "VERCEL_PROJECT_ID": "prj_no"})
    assert result.exit_code == 0, result.output
    deployments = json.loads(result.stdout)["deployments"]
    assert deployments["rate"] is None and "Vercel answered GET /v9/projects/prj_no with 404" in deployments["error"]
