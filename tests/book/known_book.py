"""A small known book for the widget's tests, ingested as `make run` ingests docs/ (route base /book)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from lectern.ingest.index import IngestOptions, ingest_book

ROUTE_BASE = "/book"
TARGET_CHARS = 200
PAGES = {
    "intro.md": (
        "---\ndescription: Where the book starts.\n---\n\n# Welcome\n\n"
        "This book teaches you to publish a textbook with Lectern and to answer your readers.\n\n"
        "## Who it is for\n\nAuthors and their readers.\n\n"
        "## What you need\n\nPython and a browser.\n"
    ),
    "guides/sessions.md": (
        "# Sessions\n\nReaders sign in with a password and get an access token that lasts fifteen minutes.\n\n"
        "## Refresh tokens\n\nRefresh tokens rotate on every use. Each refresh returns a new token and the old "
        "one stops working. A reused refresh token revokes its whole family, so a stolen token is noticed.\n\n"
        "### Storage\n\nThe widget keeps tokens in memory unless the site opts into localStorage.\n"
    ),
    "guides/robots.md": (
        "# Robot arms\n\nA robot arm chains joints from the base to the wrist.\n\n"
        "## Joints\n\nA revolute joint rotates about one axis; a prismatic joint slides along one axis.\n\n"
        "```python\n# not a heading: a comment in code\nangle = 90\n```\n\n"
        "## Sensors\n\nAn encoder measures the angle of a joint, hundreds of times a second.\n"
    ),
}


def write_book(root: Path) -> Path:
    """The known book's Markdown under `root`."""
    for relative, text in PAGES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


async def ingest(engine: AsyncEngine, root: Path, base_url: str) -> None:
    """Ingest the known book with its pages at `base_url`/book/…."""
    options = IngestOptions(base_url=base_url, route_base=ROUTE_BASE, target_chars=TARGET_CHARS)
    report = await ingest_book(engine, write_book(root), options)
    assert report.ok and report.pages_written == len(PAGES), report.failures
