"""Fixtures for the browser tests: one app under uvicorn for the package (demo on, the known book ingested at its
own URL, the OpenAI stand-in as model over real HTTP), apps of other settings on the same database when a test
asks (no model, a tight quota), two other sites, chromium, and a watched page."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from fastapi import FastAPI

from lectern.app import create_app
from lectern.db.session import Database
from lectern.settings import Settings
from tests.book.known_book import ingest
from tests.conftest import JWT_SECRET
from tests.standins.openai_server import OpenAIStandIn
from tests.widget.browser.chromium import CHROMIUM_ARGS, WAIT_MS, Watch, chromium_path, screenshot
from tests.widget.browser.servers import LiveServer, StaticSite

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHAT_MODEL = "gpt-4o-mini"


@dataclass
class WidgetServer:
    """The running app and what the tests script or inspect around it."""

    url: str
    app: FastAPI
    model: OpenAIStandIn
    allowed: StaticSite  # an origin in FRONTEND_ORIGINS
    refused: StaticSite  # one that is not
    libpq_url: str


def _empty_tables(libpq_url: str) -> None:
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        kept = [table for table in tables if table != "alembic_version"]
        if kept:
            connection.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in kept) + " CASCADE")


def _ingest_in_a_thread(settings: Settings, root: Path, base_url: str) -> None:
    """Ingest on an event loop of its own: Playwright's sync API keeps one running in this thread."""

    async def run() -> None:
        database = Database(settings)
        try:
            await ingest(await database.engine(), root, base_url)
        finally:
            await database.dispose()

    failures: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    thread = threading.Thread(target=target, name="widget-ingest")
    thread.start()
    thread.join(timeout=60)
    if failures:
        raise failures[0]


@pytest.fixture(scope="package")
def widget_server(
    database_url: str,
    libpq_url: str,
    openai_standin_server: OpenAIStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WidgetServer]:
    workdir = tmp_path_factory.mktemp("widget")
    allowed, refused = StaticSite(), StaticSite()
    live = LiveServer()
    settings = demo_settings(
        database_url,
        workdir,
        frontend_origins=allowed.origin,
        llm_base_url=openai_standin_server.base_url,
        llm_api_key=openai_standin_server.api_key,
        llm_model=CHAT_MODEL,
        llm_timeout_seconds=5,
    )
    _ingest_in_a_thread(settings, workdir / "site", live.url)
    app = create_app(settings)
    live.serve(app)
    try:
        yield WidgetServer(live.url, app, openai_standin_server, allowed, refused, libpq_url)
    finally:
        live.stop()
        allowed.stop()
        refused.stop()
        _empty_tables(libpq_url)


def demo_settings(database_url: str, workdir: Path, **overrides: Any) -> Settings:
    """A demo app's settings on the test database; without an `llm_model` override it has no model."""
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "jwt_secret": JWT_SECRET,
        "lectern_data_dir": workdir / "data",
        "lectern_demo": True,
        "llm_model": None,
    }
    return Settings(**{**values, **overrides})


OtherApp = Callable[..., str]


@pytest.fixture(scope="package")
def other_app(
    widget_server: WidgetServer, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OtherApp]:
    """Serves the demo book from an app of other settings (keyword overrides) on the same database: its URL.

    Started on first use and kept for the package; the book and the readers are those of `widget_server`."""
    started: dict[tuple[tuple[str, Any], ...], LiveServer] = {}

    def serve(**overrides: Any) -> str:
        key = tuple(sorted(overrides.items()))
        if key not in started:
            live = LiveServer()
            live.serve(create_app(demo_settings(database_url, tmp_path_factory.mktemp("other-app"), **overrides)))
            started[key] = live
        return started[key].url

    try:
        yield serve
    finally:
        for live in started.values():
            live.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Session:
    page: Page
    watch: Watch
    server: WidgetServer


@pytest.fixture
def session(browser: Browser, widget_server: WidgetServer, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A fresh browser context (no stored tokens) on a watched page; a screenshot when the test ends."""
    widget_server.model.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    try:
        yield Session(page, watch, widget_server)
    finally:
        screenshot(page, f"{Path(request.node.path).stem}-{request.node.name}")
        context.close()
