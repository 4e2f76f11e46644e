"""A small known book, ingested into the test database: the gold pages the search tests expect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book

BASE_URL = "https://book.example"
TARGET_CHARS = 100  # small chunks: one per section of these short pages
PAGES = {
    "docs/intro.md": "# Welcome\n\nThis book teaches you to publish a textbook with Lectern.\n",
    "docs/guides/sessions.md": (
        "# Sessions\n\nReaders sign in with a password.\n\n"
        "## Refresh tokens\n\nRefresh tokens rotate on every use: each refresh returns a new token and the old "
        "one stops working. A reused token revokes its whole family.\n"
    ),
    "docs/guides/database.md": (
        "# Database\n\nEverything is stored in PostgreSQL. On Neon, paste the pooled connection string.\n"
    ),
    "docs/guides/deploy.md": (
        "# Deploy\n\nDeploy the backend to Vercel with `lectern deploy --prod`; roll back with `lectern rollback`.\n"
    ),
    "docs/reference/commands.md": (
        "# Commands\n\nEvery command takes --help.\n\n## ingest\n\n`lectern ingest docs/` reads your Markdown, "
        "chunks it and indexes it for search.\n\n## serve\n\nRuns the API locally, on the embedded PostgreSQL.\n"
    ),
    "docs/reference/widget.md": (
        "# Widget\n\nPaste the widget's script tag & the chat appears when a < b and c > d; a \ue000planted\ue001 "
        'marker stays text.\n\n```html\n<img src=x onerror="alert(1)"> <script src="widget.js"></script>\n```\n'
    ),
    "i18n/fr/docusaurus-plugin-content-docs/current/guides/deploy.md": (
        "# Déployer\n\nDéployez le backend sur Vercel avec lectern deploy.\n"
    ),
}


def write_book(root: Path) -> Path:
    """Write the known book under `root` as a Docusaurus site; returns root."""
    for relative, text in PAGES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
async def engine(make_settings: Any) -> AsyncIterator[AsyncEngine]:
    database = Database(make_settings())
    yield await database.engine()
    await database.dispose()


@pytest.fixture
async def book(engine: AsyncEngine, tmp_path: Path) -> Path:
    """The known book, ingested (emptied again after the test)."""
    root = write_book(tmp_path / "site")
    report = await ingest_book(engine, root, IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS))
    assert report.ok and report.pages_written == len(PAGES), report.failures
    return root


@pytest.fixture
async def session(engine: AsyncEngine, book: Path) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine) as session:
        yield session
