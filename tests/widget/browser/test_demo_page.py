"""The widget in chromium on the demo book, under the demo's strict CSP (no inline script or style, Trusted Types).

Chat runs against the real POST /api/chat with the OpenAI stand-in as model; "Personalize" and "Translate" run
against the test app's stand-in for POST /api/generate (tests/widget/generate_stub.py), which Lectern lacks yet.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.widget.browser.chromium import chromium_path, screenshot
from tests.widget.browser.fixtures import Session
from tests.widget.browser.generate_stub import Failure

pytestmark = pytest.mark.skipif(not Path(chromium_path()).exists(), reason=f"no chromium at {chromium_path()}")

ANSWER = "Refresh tokens **rotate** on every use [1]. The old token stops working, and a reused one revokes its family."
STREAMING = """() => {
  const answer = document.querySelector("lectern-chat").shadowRoot.querySelector(".msg.answer[aria-busy]");
  return Boolean(answer && answer.textContent.trim());
}"""
CRAFTED = (
    "<script>window.pwned = 1</script>\n\n"
    '<img src=x onerror="window.pwned = 2">\n\n'
    "[run](javascript:window.pwned=3) [data](data:text/html,<b>x</b>) ![pic](javascript:window.pwned=4) "
    '[spaced](  JaVa\tScRiPt:window.pwned=5) [fine](https://example.org/page "Fine") **bold** `<b>code</b>`'
)


def visit(session: Session, path: str) -> None:
    session.page.goto(session.server.url + path)
    session.page.locator("main h1").wait_for()


def ask(session: Session, question: str) -> None:
    page = session.page
    if page.locator("lectern-chat .panel").is_hidden():
        page.get_by_role("button", name="Ask the book").click()
    box = page.locator("lectern-chat textarea")
    box.fill(question)
    box.press("Enter")


def tab(session: Session, name: str) -> None:
    session.page.get_by_role("navigation", name="Assistant").get_by_role("button", name=name).click()


def open_this_page(session: Session, path: str) -> None:
    """The widget's "This page" view, on a page of the demo book."""
    visit(session, path)
    session.page.get_by_role("button", name="Ask the book").click()
    tab(session, "This page")


def wait_for_answer(session: Session) -> None:
    session.page.locator("lectern-chat .msg.answer:not([aria-busy])").last.wait_for()


def test_a_streamed_answer_cites_and_deep_links_into_the_book(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(lambda messages: ANSWER)
    server.model.set_delay(0, per_chunk=0.04)
    visit(session, "/book/guides/sessions")

    ask(session, "How do refresh tokens rotate?")
    page.wait_for_function(STREAMING)  # text shows while the answer is still being written
    wait_for_answer(session)

    answer = page.locator("lectern-chat .msg.answer").last
    assert "Refresh tokens rotate on every use" in answer.inner_text()
    assert answer.locator("strong").inner_text() == "rotate"
    links = answer.locator(".citations a")
    hrefs = links.evaluate_all("links => links.map(link => link.href)")
    assert hrefs and all(href.startswith(f"{server.url}/book/") for href in hrefs), hrefs
    assert f"{server.url}/book/guides/sessions#refresh-tokens" in hrefs
    assert page.locator("lectern-chat [role=log]").count() == 1
    assert page.locator("lectern-chat [role=status]").inner_text() == "Answer complete."

    links.filter(has_text="Refresh tokens").first.click()
    page.wait_for_url("**/book/guides/sessions#refresh-tokens")
    page.locator("#refresh-tokens").wait_for()
    assert page.locator("#refresh-tokens").inner_text() == "Refresh tokens"
    assert session.watch.errors == []


def test_ask_about_selected_text_sends_the_selection(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(lambda messages: "It rotates about one axis [1].")
    visit(session, "/book/guides/robots")
    paragraph = page.locator("main p", has_text="revolute joint")

    paragraph.select_text()
    page.get_by_role("button", name="Ask about this").click()
    quote = page.locator("lectern-chat .quote")
    assert "revolute joint" in quote.inner_text()
    assert page.locator("lectern-chat textarea").input_value() == "Explain this passage."
    page.locator("lectern-chat textarea").press("Enter")
    wait_for_answer(session)

    sent = session.watch.bodies("/api/chat")[-1]
    assert sent["selected_text"] == paragraph.inner_text().strip()
    assert sent["page_url"] == f"{server.url}/book/guides/robots"
    assert sent["message"] == "Explain this passage."
    assert any("revolute joint" in str(message) for message in server.model.last_request.messages)
    assert quote.is_hidden()
    assert session.watch.errors == []


def test_sign_up_then_preferences_are_stored(session: Session) -> None:
    page, server = session.page, session.server
    email = "widget-reader@example.org"
    visit(session, "/")
    page.get_by_role("button", name="Ask the book").click()
    tab(session, "Sign in")
    page.get_by_role("button", name="Create an account").click()

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    with page.expect_response("**/api/preferences"):
        page.get_by_role("button", name="Create account").click()
    form = page.locator("lectern-chat .preferences form")
    form.locator("select[name=difficulty]").select_option("advanced")
    form.locator("select[name=language]").select_option("ur")
    form.locator("select[name=learning_style]").select_option("hands_on")
    form.locator("select[name=answer_length]").select_option("short")
    form.locator("input[name=topics]").fill("robots, sensors")
    form.get_by_role("button", name="Save preferences").click()
    page.locator("lectern-chat [role=status]", has_text="Preferences saved.").wait_for()

    with httpx.Client(base_url=server.url, timeout=10) as http:
        tokens = http.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
        stored = http.get("/api/preferences", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert {key: stored[key] for key in ("difficulty", "language", "learning_style", "answer_length", "topics")} == {
        "difficulty": "advanced",
        "language": "ur",
        "learning_style": "hands_on",
        "answer_length": "short",
        "topics": ["robots", "sensors"],
    }
    assert page.get_by_role("button", name="Account").is_visible()
    assert session.watch.errors == []


def test_personalize_renders_the_generated_page(session: Session) -> None:
    page, server = session.page, session.server
    open_this_page(session, "/book/guides/sessions")

    page.get_by_role("button", name="Personalize this page").click()
    article = page.locator("lectern-chat article.generated")
    article.locator("h2").wait_for()

    assert article.locator("h2").inner_text() == "Your version"
    assert article.locator("strong").inner_text() == "beginner"
    assert article.locator("li").count() == 2
    assert article.get_attribute("dir") == "ltr"
    assert server.generate.requests == [
        {"task": "personalize", "source": {"page": "/book/guides/sessions"}, "stream": False}
    ]
    assert session.watch.errors == []


def test_an_urdu_translation_reads_right_to_left(session: Session) -> None:
    page, server = session.page, session.server
    open_this_page(session, "/book/guides/sessions")

    page.locator("lectern-chat select#language").select_option("ur")
    page.get_by_role("button", name="Translate this page").click()
    article = page.locator("lectern-chat article.generated[dir=rtl]")
    article.wait_for()

    assert article.get_attribute("lang") == "ur"
    assert "ریفریش ٹوکن" in article.inner_text()
    heading = "document.querySelector('lectern-chat').shadowRoot.querySelector('article h2')"
    assert page.evaluate(f"() => getComputedStyle({heading}).direction") == "rtl"
    assert server.generate.requests[-1]["language"] == "ur"
    screenshot(page, "urdu-translation")

    page.locator("lectern-chat select#language").select_option("fr")
    page.get_by_role("button", name="Translate this page").click()
    page.locator("lectern-chat article.generated[lang=fr][dir=ltr]").wait_for()
    assert session.watch.errors == []


def test_failures_are_said_plainly(session: Session) -> None:
    page, server = session.page, session.server
    alert = page.locator("lectern-chat [role=alert]")
    open_this_page(session, "/book/intro")

    server.generate.failure = Failure(503, "llm_not_configured", "No model: set LLM_MODEL.")
    page.get_by_role("button", name="Personalize this page").click()
    alert.filter(has_text="not set up yet").wait_for()

    server.generate.failure = Failure(429, "rate_limited", "Too many pages.", {"Retry-After": "120"})
    page.get_by_role("button", name="Translate this page").click()
    alert.filter(has_text="Try again in 2 minutes.").wait_for()

    tab(session, "Chat")
    page.context.set_offline(True)
    ask(session, "Is anyone there?")
    alert.filter(has_text="You are offline").wait_for()
    page.context.set_offline(False)
    assert session.watch.csp_violations == []


def test_crafted_markdown_renders_inert(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(lambda messages: CRAFTED)
    server.generate.content = CRAFTED
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    visit(session, "/book/intro")

    ask(session, "How do refresh tokens rotate?")
    wait_for_answer(session)
    tab(session, "This page")
    page.get_by_role("button", name="Personalize this page").click()
    page.locator("lectern-chat article.generated:not([aria-busy]) strong").wait_for()

    for container in ("lectern-chat .msg.answer .md", "lectern-chat article.generated"):
        rendered = page.locator(container).last
        assert rendered.locator("script, img, iframe, object, [onerror]").count() == 0, container
        hrefs = rendered.locator("a").evaluate_all("links => links.map(link => link.href)")
        assert hrefs == ["https://example.org/page"], (container, hrefs)
        text = rendered.inner_text()
        assert "<script>window.pwned = 1</script>" in text
        assert '<img src=x onerror="window.pwned = 2">' in text
        assert rendered.locator("code").inner_text() == "<b>code</b>"
    page.locator("lectern-chat article.generated").get_by_text("run", exact=True).click()
    assert page.evaluate("() => window.pwned") is None
    assert dialogs == []
    assert session.watch.errors == []


def test_keyboard_focus_and_theme_without_csp_violations(session: Session) -> None:
    page = session.page
    visit(session, "/book/intro")
    fab = page.locator("lectern-chat .fab")
    active = "() => document.querySelector('lectern-chat').shadowRoot.activeElement?.id ?? null"

    fab.focus()
    page.keyboard.press("Enter")
    assert fab.get_attribute("aria-expanded") == "true"
    assert page.evaluate(active) == "question"
    for name in ("This page", "Preferences", "Sign in", "Chat"):
        tab(session, name)
    page.keyboard.press("Escape")
    assert page.locator("lectern-chat .panel").is_hidden()
    assert page.evaluate("() => document.querySelector('lectern-chat').shadowRoot.activeElement?.className") == (
        "fab primary"
    )

    theme = "() => document.querySelector('lectern-chat').shadowRoot.querySelector('.root').dataset.theme"
    page.locator("#theme").click()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    page.wait_for_function(f"() => ({theme})() === 'dark'")
    page.get_by_role("button", name="Ask the book").click()
    screenshot(page, "dark-theme")
    page.locator("#theme").click()
    page.wait_for_function(f"() => ({theme})() === 'light'")
    assert session.watch.csp_violations == []
    assert session.watch.errors == []


def test_the_watch_does_see_violations(session: Session) -> None:
    """The control for every "no violation" above: an inline style and an HTML string are reported."""
    page = session.page
    visit(session, "/book/intro")

    page.evaluate(
        """() => {
          const box = document.createElement("div");
          document.querySelector("lectern-chat").shadowRoot.append(box);
          box.setAttribute("style", "color: red");
          try { document.body.insertAdjacentHTML("beforeend", "<b>x</b>"); } catch {}
        }"""
    )

    for _ in range(40):  # console messages arrive asynchronously: up to 2 s
        violations = " ".join(session.watch.csp_violations)
        if "style-src-attr" in violations and "require-trusted-types-for" in violations:
            break
        page.wait_for_timeout(50)
    assert "style-src-attr" in violations
    assert "require-trusted-types-for" in violations
