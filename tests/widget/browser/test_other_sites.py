"""The widget on other sites: a site in FRONTEND_ORIGINS embeds it; any other can load neither the script nor the API.

Each site is a plain HTTP server on its own loopback port whose page loads the pinned /widget/<version>/lectern.js
(with its SRI hash) from the app and points `api-base` at it, as a Docusaurus site would.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from lectern.widget.assets import BUNDLE, widget_assets
from tests.widget.browser.chromium import chromium_path
from tests.widget.browser.fixtures import OtherApp, Session, WidgetServer

pytestmark = pytest.mark.skipif(not Path(chromium_path()).exists(), reason=f"no chromium at {chromium_path()}")

THEME = "() => document.querySelector('lectern-chat').shadowRoot.querySelector('.root').dataset.theme"
FAB_COLOUR = (
    "() => getComputedStyle(document.querySelector('lectern-chat').shadowRoot.querySelector('.fab')).backgroundColor"
)
# A page's own fetch of the API, as any script on it could try: "answered", or the name of the error.
CALL = """async ([url, init]) => {
  try {
    await fetch(url, init);
    return "answered";
  } catch (error) {
    return error.name;
  }
}"""


def book_site(
    server: WidgetServer, *, api_base: str | None = None, data_theme: str | None = "dark", theme: str = ""
) -> str:
    """A page of "the book's own site", embedding the widget the way docs/docusaurus.md says."""
    assets = widget_assets()
    script = html.escape(server.url + assets.path(BUNDLE))
    page_theme = f' data-theme="{data_theme}"' if data_theme else ""
    element_theme = f' theme="{theme}"' if theme else ""
    return f"""<!doctype html>
<html lang="en"{page_theme}>
<head><meta charset="utf-8"><title>Another site</title><link rel="icon" href="data:,">
<script type="module" src="{script}" integrity="{assets.files[BUNDLE].integrity}" crossorigin="anonymous"></script>
</head>
<body><h1>A chapter on the book's own site</h1><p>Robot arms chain joints from the base to the wrist.</p>
<lectern-chat api-base="{html.escape(api_base or server.url)}" title="Ask this book"{element_theme}></lectern-chat>
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
    assert session.page.evaluate(THEME) == "dark"
    assert session.page.locator("lectern-chat h2").inner_text() == "Ask this book"
    assert session.watch.errors == []


def test_without_data_theme_the_system_colour_scheme_is_followed_live(session: Session) -> None:
    page, server = session.page, session.server
    server.allowed.html = book_site(server, data_theme=None)
    page.emulate_media(color_scheme="dark")
    page.goto(server.allowed.origin + "/")
    page.get_by_role("button", name="Ask the book").wait_for()

    assert page.evaluate(THEME) == "dark"
    dark_fab = page.evaluate(FAB_COLOUR)
    page.emulate_media(color_scheme="light")  # the reader's system switches: no reload
    page.wait_for_function(f"() => ({THEME})() === 'light'")
    assert page.evaluate(FAB_COLOUR) != dark_fab  # the stylesheet follows, not only the attribute

    page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")  # Docusaurus's toggle wins
    page.wait_for_function(f"() => ({THEME})() === 'dark'")
    assert page.evaluate(FAB_COLOUR) == dark_fab
    assert session.watch.errors == []


def test_the_theme_attribute_overrides_the_page_and_the_system(session: Session) -> None:
    page, server = session.page, session.server
    server.allowed.html = book_site(server, data_theme="dark", theme="light")
    page.emulate_media(color_scheme="dark")
    page.goto(server.allowed.origin + "/")
    page.get_by_role("button", name="Ask the book").wait_for()

    assert page.evaluate(THEME) == "light"
    page.evaluate("() => document.querySelector('lectern-chat').setAttribute('theme', 'auto')")
    assert page.evaluate(THEME) == "dark"
    assert session.watch.errors == []


def test_an_unlisted_site_can_load_neither_the_script_nor_the_api(session: Session) -> None:
    page, server = session.page, session.server
    server.refused.html = book_site(server)
    script = server.url + widget_assets().path(BUNDLE)

    page.goto(server.refused.origin + "/")
    page.locator("h1").wait_for()
    for _ in range(40):  # console messages arrive asynchronously: up to 2 s
        if any(script in error and "blocked by CORS policy" in error for error in session.watch.errors):
            break
        page.wait_for_timeout(50)
    chat = [f"{server.url}/api/chat", {"method": "POST", "headers": {"content-type": "application/json"}, "body": "{}"}]
    called = page.evaluate(CALL, chat)
    read = page.evaluate(CALL, [f"{server.url}/api/book/pages", {}])

    refusals = [error for error in session.watch.errors if "blocked by CORS policy" in error]
    assert any(script in error and server.refused.origin in error for error in refusals), session.watch.errors
    assert page.evaluate("() => customElements.get('lectern-chat') === undefined")
    assert page.get_by_role("button", name="Ask the book").count() == 0
    assert (called, read) == ("TypeError", "TypeError")  # the preflight is refused; the GET's answer withheld
    assert server.model.requests == []


def test_a_listed_site_is_told_plainly_when_the_api_refuses_it(session: Session, other_app: OtherApp) -> None:
    """The script comes from the app that lists the site; `api-base` names another app that does not."""
    server = session.server
    api = other_app()  # no FRONTEND_ORIGINS
    server.allowed.html = book_site(server, api_base=api)

    ask(session, server.allowed.origin, "What does a revolute joint do?")
    alert = session.page.locator("lectern-chat [role=alert]")
    alert.filter(has_text="Cannot reach").wait_for()

    assert alert.inner_text() == (
        f"Cannot reach the book's assistant at {api}. The server may be down, or this site may not be "
        "allowed to use it."
    )
    assert session.page.locator("lectern-chat .msg.answer").count() == 0
    refusals = [error for error in session.watch.errors if "blocked by CORS policy" in error]
    assert refusals and all(server.allowed.origin in error and api in error for error in refusals), session.watch.errors
    assert server.model.requests == []
