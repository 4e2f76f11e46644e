"""The widget on another site: it works from an origin in FRONTEND_ORIGINS, and is refused by CORS otherwise.

Each site is a plain HTTP server on its own loopback port whose page loads the pinned /widget/<version>/lectern.js
(with its SRI hash) from the app and points `api-base` at it, as a Docusaurus site would.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from lectern.widget.assets import BUNDLE, widget_assets
from tests.widget.browser.chromium import chromium_path
from tests.widget.browser.fixtures import Session, WidgetServer

pytestmark = pytest.mark.skipif(not Path(chromium_path()).exists(), reason=f"no chromium at {chromium_path()}")


def book_site(server: WidgetServer) -> str:
    """A page of "the book's own site", embedding the widget the way docs/docusaurus.md says."""
    assets = widget_assets()
    script = html.escape(server.url + assets.path(BUNDLE))
    return f"""<!doctype html>
<html lang="en" data-theme="dark">
<head><meta charset="utf-8"><title>Another site</title><link rel="icon" href="data:,">
<script type="module" src="{script}" integrity="{assets.files[BUNDLE].integrity}" crossorigin="anonymous"></script>
</head>
<body><h1>A chapter on the book's own site</h1><p>Robot arms chain joints from the base to the wrist.</p>
<lectern-chat api-base="{html.escape(server.url)}" title="Ask this book"></lectern-chat>
</body></html>"""


def ask(session: Session, origin: str, question: str) -> None:
    page = session.page
    page.goto(origin + "/")
    page.get_by_role("button", name="Ask the book").click()
    box = page.locator("lectern-chat textarea")
    box.fill(question)
    box.press("Enter")


def test_a_listed_site_embeds_the_widget(session: Session) -> None:
    server = session.server
    server.allowed.html = book_site(server)
    server.model.respond_with(lambda messages: "A revolute joint rotates about one axis [1].")

    ask(session, server.allowed.origin, "What does a revolute joint do?")
    answer = session.page.locator("lectern-chat .msg.answer:not([aria-busy])").last
    answer.locator(".citations a").first.wait_for()

    assert "rotates about one axis" in answer.inner_text()
    hrefs = answer.locator(".citations a").evaluate_all("links => links.map(link => link.href)")
    assert all(href.startswith(f"{server.url}/book/") for href in hrefs), hrefs
    # Docusaurus's <html data-theme> is followed.
    theme = "() => document.querySelector('lectern-chat').shadowRoot.querySelector('.root').dataset.theme"
    assert session.page.evaluate(theme) == "dark"
    assert session.page.locator("lectern-chat h2").inner_text() == "Ask this book"
    assert session.watch.errors == []


def test_an_unlisted_site_is_refused_by_cors(session: Session) -> None:
    server = session.server
    server.refused.html = book_site(server)

    ask(session, server.refused.origin, "What does a revolute joint do?")
    alert = session.page.locator("lectern-chat [role=alert]")
    alert.filter(has_text="Cannot reach").wait_for()

    assert alert.inner_text() == (
        f"Cannot reach the book's assistant at {server.url}. The server may be down, or this site may not be "
        "allowed to use it."
    )
    assert session.page.locator("lectern-chat .msg.answer").count() == 0
    refusals = [error for error in session.watch.errors if "blocked by CORS policy" in error]
    assert refusals and all(server.refused.origin in error for error in refusals), session.watch.errors
    assert server.model.requests == []
