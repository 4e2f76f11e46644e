"""The Docusaurus chapter publishes the widget's versioned URL and SRI hash: they must be the served ones."""

from __future__ import annotations

import re
from pathlib import Path

from lectern.widget.assets import BUNDLE, widget_assets

CHAPTER = Path(__file__).resolve().parents[2] / "docs" / "docusaurus.md"


def test_published_url_and_integrity_are_the_served_files() -> None:
    text = CHAPTER.read_text(encoding="utf-8")
    assets = widget_assets()
    published_paths = set(re.findall(r"/widget/[0-9a-f]{16}/lectern\.js", text))
    published_hashes = set(re.findall(r"sha384-[A-Za-z0-9+/]{64}", text))

    assert published_paths == {assets.path(BUNDLE)}, (
        f"docs/docusaurus.md names {sorted(published_paths)}; the widget is now at {assets.path(BUNDLE)}"
    )
    assert published_hashes == {assets.files[BUNDLE].integrity}, (
        f"docs/docusaurus.md publishes {sorted(published_hashes)}; lectern.js now hashes to "
        f"{assets.files[BUNDLE].integrity}"
    )
