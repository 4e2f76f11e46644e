"""The recorder inside the app: route templates, instances that add up, the shutdown flush, outages, cold starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from lectern.app import create_app
from lectern.db.session import Database
from lectern.metrics.recorder import MetricsRecorder
from tests.cli.serving import clean_env
from tests.metrics.support import Clock, StalledDatabase, requests_by_route, stored_rows
from tests.web.checks import RecordingHandler


async def send(app: FastAPI, *paths: str) -> list[int]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
        return [(await client.get(path)).status_code for path in paths]


def use_recorder(app: FastAPI, recorder: MetricsRecorder) -> None:
    """Swap the app's recorder for one on a test clock (the sinks list is the one the edge middleware reads)."""
    sinks = app.state.request_sinks
    sinks[sinks.index(app.state.metrics.record)] = recorder.record
    app.state.metrics = recorder


async def test_routes_are_recorded_as_templates_and_unknown_paths_collapse(make_settings: Any) -> None:
    app = create_app(make_settings())

    async def chapter(chapter_id: str) -> dict[str, str]:
        return {"chapter": chapter_id}

    app.add_api_route("/api/chapters/{chapter_id}", chapter, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the lazy catch-all
    statuses = await send(app, "/api/chapters/notes-0c4e", "/api/chapters/other", "/api/u/ada-9f3b", "/wp-login.php")
    assert statuses == [200, 200, 404, 404]
    routes: dict[tuple[str, int], int] = {}
    for (_, route, _, status), tally in app.state.metrics.pending.items():  # a minute may turn meanwhile
        routes[route, status] = routes.get((route, status), 0) + tally.requests
    assert routes == {("/api/chapters/{chapter_id}", 2): 2, ("<unmatched>", 4): 2}
    await app.state.database.dispose()


async def test_shutdown_flushes_what_is_pending(make_settings: Any, clean_database: str) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        await send(app, "/api/health", "/api/health", "/api/nowhere")
        assert stored_rows(clean_database) == []  # well within METRICS_FLUSH_SECONDS: nothing written yet
    assert requests_by_route(clean_database) == {"/api/health": 2, "<unmatched>": 1}


async def test_two_instances_on_one_database_add_up(make_settings: Any, clean_database: str) -> None:
    first, second = create_app(make_settings()), create_app(make_settings())
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        await send(first, "/api/health", "/api/health", "/api/health")
        await send(second, "/api/health", "/api/health", "/api/nowhere")
    assert requests_by_route(clean_database) == {"/api/health": 5, "<unmatched>": 1}
    health = [r for r in stored_rows(clean_database) if r["route"] == "/api/health"]
    assert len(health) <= 2  # one row per minute: the instances added to the same row
    assert sum(sum(r["buckets"]) for r in health) == 5


async def test_requests_are_served_while_a_flush_is_stuck_or_failing(
    make_settings: Any, clock: Clock, lectern_log: RecordingHandler
) -> None:
    app = create_app(make_settings())
    database = StalledDatabase()
    recorder = MetricsRecorder(
        database,  # type: ignore[arg-type]
        flush_seconds=10,
        retention_days=14,
        monotonic=clock.monotonic,
        wall_clock=clock.wall_clock,
    )
    use_recorder(app, recorder)
    assert await send(app, "/api/health") == [200]
    clock.advance(10)
    assert await send(app, "/api/health") == [200]
    flushing = recorder.flushing
    assert flushing is not None
    await database.entered.wait()
    assert await send(app, *["/api/health"] * 5) == [200] * 5  # the flush holds the database meanwhile
    database.release.set()
    await flushing
    assert await send(app, "/api/health") == [200]
    assert sum(t.requests for t in recorder.pending.values()) == 8
    assert "metrics flush failed" in lectern_log.text()
    await app.state.database.dispose()


async def test_a_shutdown_flush_that_fails_does_not_break_shutdown(
    make_settings: Any, lectern_log: RecordingHandler
) -> None:
    settings = make_settings()
    unreachable = Database(settings, url="postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    app = create_app(settings, database=unreachable)
    async with app.router.lifespan_context(app):
        assert await send(app, "/api/health") == [200]
    assert "metrics flush failed" in lectern_log.text()


ONE_PROCESS = """
import asyncio, httpx
from lectern.app import create_app
from lectern.settings import load_settings

app = create_app(load_settings())

async def main():
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            for path in ("/api/health", "/api/health", "/api/nowhere", "/api/health"):
                assert (await client.get(path)).status_code in (200, 404)

asyncio.run(main())
"""


def test_a_process_counts_one_cold_start_with_its_init_duration(
    database_url: str, clean_database: str, tmp_path: Path
) -> None:
    """A fresh process, so the edge's module-level first-request flag is really unset."""
    env = clean_env(DATABASE_URL=database_url, JWT_SECRET="x" * 64, APP_ENV="test", LECTERN_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", ONE_PROCESS], env=env, cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    rows = stored_rows(clean_database)
    assert sum(r["requests"] for r in rows) == 4
    cold = [(r["route"], r["cold_starts"], r["init_us"]) for r in rows if r["cold_starts"]]
    assert len(cold) == 1
    route, count, init_us = cold[0]
    assert (route, count) == ("/api/health", 1)  # its first request, and only that one
    assert 0 < init_us < 60_000_000


def test_the_recorder_and_the_app_import_no_sqlalchemy() -> None:
    probe = "import sys, json, lectern.app; print(json.dumps([m for m in sys.modules if m.startswith('sqlalchemy')]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []


def test_flush_interval_and_retention_come_from_the_settings(make_settings: Any) -> None:
    default = create_app(make_settings()).state.metrics
    chosen = create_app(make_settings(metrics_flush_seconds=30, metrics_retention_days=3)).state.metrics

    assert (default.flush_seconds, default.retention_days) == (10, 14)
    assert (chosen.flush_seconds, chosen.retention_days) == (30, 3)
