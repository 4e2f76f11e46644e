"""The widget in chromium on the demo book, under the demo's strict CSP (no inline script or style, Trusted Types).

Everything runs against the real API: POST /api/chat and POST /api/generate (its route, stored results, quotas and
structure guard), with the OpenAI stand-in as model over real HTTP. The failures come from apps of other settings
on the same database: one without a model (503 llm_not_configured), one with a quota of one generation an hour.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from lectern.generate.prompts import LEVELS, STYLES
from tests.conftest import PASSWORD
from tests.generate.replies import URDU_WORD, faithful, into_urdu
from tests.widget.browser.chromium import chromium_path, screenshot
from tests.widget.browser.fixtures import CHAT_MODEL, OtherApp, Session

pytestmark = pytest.mark.skipif(not Path(chromium_path()).exists(), reason=f"no chromium at {chromium_path()}")

ANSWER = "Refresh tokens **rotate** on every use [1]. The old token stops working, and a reused one revokes its family."
STREAMING = """() => {
  const answer = document.querySelector("lectern-chat").shadowRoot.querySelector("[role=log] .msg.answer[aria-busy]");
  return Boolean(answer && answer.textContent.trim());
}"""
CRAFTED_HTML = '<script>window.pwned = 1</script>\n\n<img src=x onerror="window.pwned = 2">'
CRAFTED = (
    CRAFTED_HTML + "\n\n"
    "[run](javascript:window.pwned=3) [data](data:text/html,<b>x</b>) ![pic](javascript:window.pwned=4) "
    '[spaced](  JaVa\tScRiPt:window.pwned=5) [fine](https://example.org/page "Fine") **bold** `<b>code</b>`'
)


# The only console errors a refused API call may leave: chromium reports the status of every failed fetch.
FAILED_FETCH = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


def visit(session: Session, path: str, origin: str | None = None) -> None:
    session.page.goto((origin or session.server.url) + path)
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


def sign_up(session: Session) -> str:
    """Create an account in the widget (Sign in tab, then "Create an account"); the new reader's email."""
    page = session.page
    email = f"reader-{uuid.uuid4().hex[:12]}@example.org"
    if page.locator("lectern-chat .panel").is_hidden():
        page.get_by_role("button", name="Ask the book").click()
    tab(session, "Sign in")
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (at least 8 characters)").fill(PASSWORD)
    with page.expect_response("**/api/preferences"):  # signed in: the widget loads the reader's preferences
        page.get_by_role("button", name="Create account").click()
    return email


def generate(session: Session, button: str) -> dict[str, Any]:
    """Press "Personalize this page" or "Translate this page"; the API's answer, as the page received it."""
    with session.page.expect_response("**/api/generate") as answer:
        session.page.get_by_role("button", name=button).click()
    response = answer.value
    body: dict[str, Any] = response.json()
    return {"status": response.status, "headers": response.headers, **body}


def refused_statuses(session: Session) -> list[str]:
    """The statuses of the refused API calls chromium reported; any other console error fails the test."""
    statuses = []
    for error in session.watch.errors:
        refused = FAILED_FETCH.match(error)
        assert refused, error
        statuses.append(refused[1])
    return statuses


def rewritten_for_the_reader(messages: list[dict[str, Any]]) -> str:
    """A personalizing model: the page as it is, with one sentence explained (structure, code and links kept)."""
    return faithful(messages).replace(
        "Refresh tokens rotate on every use.", "Refresh tokens **rotate**: each use swaps the token for a new one."
    )


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
    # Streamed into the log, an implicit polite live region, which screen readers announce as it grows.
    assert page.locator("lectern-chat [role=log]").count() == 1
    assert page.locator("lectern-chat [role=log] .msg.answer").count() == 1
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


def test_sign_up_set_preferences_then_personalize(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(rewritten_for_the_reader)
    visit(session, "/book/guides/sessions")
    email = sign_up(session)

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

    tab(session, "This page")
    answer = generate(session, "Personalize this page")
    article = page.locator("lectern-chat article.generated:not([aria-busy])")
    article.locator("strong").wait_for()

    assert (answer["status"], answer["task"], answer["mode"], answer["cached"]) == (200, "personalize", "llm", False)
    assert answer["model"] == CHAT_MODEL and answer["source"]["url"] == f"{server.url}/book/guides/sessions"
    assert article.locator("strong").inner_text() == "rotate"
    assert "each use swaps the token for a new one" in article.inner_text()
    assert article.locator("h2").all_inner_texts() == ["Refresh tokens"]  # the page's headings, kept by the guard
    # The saved preferences reached the model: the reader's level, learning style and language.
    prompt = " ".join(str(message["content"]) for message in server.model.last_request.messages)
    assert LEVELS["advanced"] in prompt and STYLES["hands_on"] in prompt and "Urdu (ur)" in prompt
    assert (article.get_attribute("lang"), article.get_attribute("dir")) == ("ur", "rtl")
    assert session.watch.bodies("/api/generate") == [
        {"task": "personalize", "source": {"page": "/book/guides/sessions"}, "stream": False}
    ]
    screenshot(page, "personalized-page")

    calls = len(server.model.requests_to("chat"))
    again = generate(session, "Personalize this page")
    page.locator("lectern-chat .meta", has_text="(saved earlier)").wait_for()
    assert again["cached"] is True and again["content"] == answer["content"]
    assert len(server.model.requests_to("chat")) == calls  # the stored result, not the model
    assert session.watch.errors == []


def test_sign_in_again_and_tokens_stay_in_memory(session: Session) -> None:
    """By default the widget keeps the reader's tokens in the page only: nothing stored, signed out on reload."""
    page = session.page
    visit(session, "/book/intro")
    email = sign_up(session)
    stored = "() => [localStorage.length, sessionStorage.length, document.cookie]"
    assert page.evaluate(stored) == [0, 0, ""]
    assert page.context.cookies() == []

    tab(session, "Account")
    page.get_by_role("button", name="Sign out").click()
    page.locator("lectern-chat [role=status]", has_text="Signed out.").wait_for()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).last.click()
    page.locator("lectern-chat [role=status]", has_text=f"Signed in as {email}.").wait_for()
    assert page.get_by_role("button", name="Account").is_visible()
    assert page.evaluate(stored) == [0, 0, ""]

    page.reload()
    page.locator("main h1").wait_for()
    page.get_by_role("button", name="Ask the book").click()
    assert page.get_by_role("navigation", name="Assistant").get_by_role("button", name="Sign in").is_visible()
    assert session.watch.errors == []


def test_an_urdu_translation_reads_right_to_left(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(into_urdu)
    open_this_page(session, "/book/guides/sessions")
    sign_up(session)
    tab(session, "This page")

    page.locator("lectern-chat select#language").select_option("ur")
    answer = generate(session, "Translate this page")
    article = page.locator("lectern-chat article.generated[dir=rtl]:not([aria-busy])")
    article.wait_for()

    assert (answer["status"], answer["language"], answer["dir"]) == (200, "ur", "rtl")
    assert article.get_attribute("lang") == "ur"
    assert URDU_WORD in article.inner_text() and "Refresh" not in article.inner_text()
    heading = "document.querySelector('lectern-chat').shadowRoot.querySelector('article h2')"
    assert page.evaluate(f"() => getComputedStyle({heading}).direction") == "rtl"
    assert session.watch.bodies("/api/generate")[-1]["language"] == "ur"
    screenshot(page, "urdu-translation")

    server.model.respond_with(faithful)
    page.locator("lectern-chat select#language").select_option("fr")
    assert generate(session, "Translate this page")["dir"] == "ltr"
    page.locator("lectern-chat article.generated[lang=fr][dir=ltr]").wait_for()
    assert session.watch.errors == []


def test_without_a_model_the_reader_is_told_plainly(session: Session, other_app: OtherApp) -> None:
    """A real app without a model: 401 before signing in, then 503 llm_not_configured, each said in plain words."""
    page = session.page
    alert = page.locator("lectern-chat [role=alert]")
    origin = other_app()
    visit(session, "/book/intro", origin)
    page.get_by_role("button", name="Ask the book").click()
    tab(session, "This page")

    signed_out = generate(session, "Personalize this page")
    alert.filter(has_text="Sign in first").wait_for()
    sign_up(session)
    tab(session, "This page")
    refused = generate(session, "Personalize this page")
    alert.filter(has_text="not set up yet").wait_for()

    assert (signed_out["status"], refused["status"], refused["code"]) == (401, 503, "llm_not_configured")
    assert "LLM_MODEL" in refused["detail"]
    assert alert.inner_text() == (
        "The book's AI model is not set up yet, so this cannot be generated. The site's team needs to configure it."
    )
    assert page.locator("lectern-chat article.generated").is_hidden()
    assert refused_statuses(session) == ["401", "503"]
    assert session.watch.csp_violations == []


def test_past_the_quota_the_reader_is_told_how_long_to_wait(session: Session, other_app: OtherApp) -> None:
    """A real app allowing one generation per reader an hour: the second is a 429 whose Retry-After is said."""
    page, server = session.page, session.server
    server.model.respond_with(faithful)
    alert = page.locator("lectern-chat [role=alert]")
    origin = other_app(
        llm_base_url=server.model.base_url,
        llm_api_key=server.model.api_key,
        llm_model=CHAT_MODEL,
        generate_requests_per_hour=1,
    )
    visit(session, "/book/guides/sessions", origin)
    sign_up(session)
    tab(session, "This page")

    first = generate(session, "Personalize this page")
    page.locator("lectern-chat article.generated:not([aria-busy]) h2").first.wait_for()
    page.locator("lectern-chat select#language").select_option("ur")
    refused = generate(session, "Translate this page")
    alert.filter(has_text="You have reached the limit for now.").wait_for()

    assert (first["status"], refused["status"], refused["code"]) == (200, 429, "rate_limited")
    assert 0 < int(refused["headers"]["retry-after"]) <= 2 * 3600  # a sliding window: up to two hours
    assert re.fullmatch(
        r"You have reached the limit for now\. Try again in (\d+ minutes|a minute|an hour|2 hours)\.",
        alert.inner_text(),
    )
    assert page.locator("lectern-chat article.generated").get_attribute("lang") == "en"  # the first page stays
    assert refused_statuses(session) == ["429"]
    assert session.watch.csp_violations == []


def test_offline_is_said_plainly(session: Session) -> None:
    page = session.page
    visit(session, "/book/intro")
    page.context.set_offline(True)
    ask(session, "Is anyone there?")
    page.locator("lectern-chat [role=alert]").filter(has_text="You are offline").wait_for()
    page.context.set_offline(False)
    assert session.watch.csp_violations == []


def test_crafted_markdown_renders_inert(session: Session) -> None:
    page, server = session.page, session.server
    server.model.respond_with(lambda messages: CRAFTED)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    visit(session, "/book/intro")

    ask(session, "How do refresh tokens rotate?")
    wait_for_answer(session)
    answer = page.locator("lectern-chat .msg.answer .md").last
    assert answer.locator("script, img, iframe, object, [onerror]").count() == 0
    hrefs = answer.locator("a").evaluate_all("links => links.map(link => link.href)")
    assert hrefs == ["https://example.org/page"], hrefs
    text = answer.inner_text()
    assert "<script>window.pwned = 1</script>" in text
    assert '<img src=x onerror="window.pwned = 2">' in text
    assert answer.locator("code").inner_text() == "<b>code</b>"
    answer.get_by_text("run", exact=True).click()

    # A personalized page goes through the structure guard (a link or code of the model's own would not pass);
    # HTML the model writes in prose does, and reaches the widget as text.
    server.model.respond_with(lambda messages: faithful(messages) + "\n\n" + CRAFTED_HTML)
    sign_up(session)
    tab(session, "This page")
    personalized = generate(session, "Personalize this page")
    article = page.locator("lectern-chat article.generated:not([aria-busy])")
    article.locator("h2").first.wait_for()
    assert CRAFTED_HTML in personalized["content"]
    assert article.locator("script, img, iframe, object, [onerror]").count() == 0
    assert "<script>window.pwned = 1</script>" in article.inner_text()
    assert '<img src=x onerror="window.pwned = 2">' in article.inner_text()
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
