"""The widget's modules, exercised in chromium: the SSE reader, the Markdown renderer and the client's tokens.

Each test imports the served, versioned lectern.js into the demo page and runs a script there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lectern.widget.assets import BUNDLE, widget_assets
from tests.conftest import PASSWORD
from tests.generate.replies import faithful
from tests.widget.browser.chromium import chromium_path
from tests.widget.browser.fixtures import Session

pytestmark = pytest.mark.skipif(not Path(chromium_path()).exists(), reason=f"no chromium at {chromium_path()}")


def run(session: Session, body: str) -> Any:
    """Run `body` (an async function body that has `lectern`, the module) on the demo page; its result."""
    page = session.page
    if not page.url.startswith(session.server.url):
        page.goto(session.server.url + "/")
    module = json.dumps(widget_assets().path(BUNDLE))
    return page.evaluate(f"async () => {{ const lectern = await import({module}); {body} }}")


SSE = r"""
const encoder = new TextEncoder();
const urdu = encoder.encode('event: token\ndata: {"text": "ہے"}\n\n');
const pieces = [
  encoder.encode("event: citations\r"),
  encoder.encode('\ndata: {"citations": []}\r\n\r\n: heartbeat\n\n'),
  urdu.slice(0, 26),
  urdu.slice(26),
  encoder.encode("data: line one\ndata:line two\nid: 7\n\nevent: done\ndata: {}\n\n"),
  encoder.encode("event: token\ndata: cut off"),
];
const body = new ReadableStream({
  start(controller) {
    for (const piece of pieces) controller.enqueue(piece);
    controller.close();
  },
});
const events = [];
for await (const event of lectern.readServerSentEvents(body)) events.push(event);
return events;
"""


def test_server_sent_events_survive_any_chunking(session: Session) -> None:
    assert run(session, SSE) == [
        {"event": "citations", "data": '{"citations": []}', "id": None},
        {"event": "token", "data": '{"text": "ہے"}', "id": None},
        {"event": "message", "data": "line one\nline two", "id": "7"},
        {"event": "done", "data": "{}", "id": "7"},
    ]


MARKDOWN_CASES = {
    "# Title\n\nSome *em*, **strong**, ~~gone~~ and `<code>`.": (
        "<h1>Title</h1><p>Some <em>em</em>, <strong>strong</strong>, <del>gone</del> and <code>&lt;code&gt;</code>.</p>"
    ),
    "- a\n- b\n  - c\n\n3. three\n4. four": (
        '<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul><ol start="3"><li>three</li><li>four</li></ol>'
    ),
    "| Name | Rule |\n|:---|---:|\n| `a\\|b` | x \\| y |": (
        '<div class="table"><table><thead><tr><th>Name</th><th class="align-right">Rule</th>'
        '</tr></thead><tbody><tr><td><code>a|b</code></td><td class="align-right">x | y</td>'
        "</tr></tbody></table></div>"
    ),
    "```html\n<script>alert(1)</script>\n```": (
        '<pre><code class="language-html">&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>'
    ),
    "> quoted\n> text\n\nline  \nbreak": "<blockquote><p>quoted\ntext</p></blockquote><p>line<br>break</p>",
    "snake_case_name and 2 * 3 * 4": "<p>snake_case_name and 2 * 3 * 4</p>",
    "<b>raw</b> <img src=x onerror=alert(1)>": "<p>&lt;b&gt;raw&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>",
    '[ok](https://x.org/a "T") [bad](javascript:alert(1)) ![pic](javascript:x) <javascript:alert(1)> <https://x.org>': (
        '<p><a href="https://x.org/a" rel="noopener noreferrer" title="T">ok</a> <span>bad</span> pic '
        '&lt;javascript:alert(1)&gt; <a href="https://x.org/" rel="noopener noreferrer">https://x.org</a></p>'
    ),
    "[up](../api.md#errors) ![logo](/logo.png)": (
        '<p><a href="{origin}/api.md#errors" rel="noopener noreferrer">up</a> '
        '<img alt="logo" src="{origin}/logo.png" loading="lazy" referrerpolicy="no-referrer"></p>'
    ),
}


def test_markdown_becomes_inert_nodes(session: Session) -> None:
    rendered = run(
        session,
        f"""
        const cases = {json.dumps(list(MARKDOWN_CASES))};
        return cases.map((markdown) => {{
          const box = document.createElement("div");
          box.append(lectern.renderMarkdown(markdown, {{ baseUrl: location.origin + "/book/guide" }}));
          return box.innerHTML;
        }});
        """,
    )

    expected = [html.replace("{origin}", session.server.url) for html in MARKDOWN_CASES.values()]
    assert rendered == expected


CLIENT = r"""
const calls = [];
const answer = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers },
  });
const tokens = (n) => ({
  user: { id: "u1", email: "reader@example.org", name: null, created_at: "2026-01-01T00:00:00Z" },
  access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer", expires_in: 900,
});
let refreshes = 0;
const fetch = async (url, init) => {
  const path = new URL(url).pathname;
  calls.push({ method: init.method, path, auth: init.headers.authorization ?? null, body: init.body ?? null });
  if (path === "/api/auth/login") return answer(200, tokens(1));
  if (path === "/api/auth/refresh") {
    refreshes += 1;
    await new Promise((resolve) => setTimeout(resolve, 30));
    if (REVOKED) return answer(401, { status: 401, code: "invalid_refresh_token", detail: "Sign in again." });
    return answer(200, tokens(2));
  }
  if (path === "/api/auth/logout") return new Response(null, { status: 204 });
  if (path === "/api/preferences") {
    return init.headers.authorization === "Bearer access-2"
      ? answer(200, { language: "ur" }, { etag: '"v1"' })
      : answer(401, { status: 401, code: "invalid_token", detail: "The access token expired." });
  }
  return answer(429, { status: 429, code: "rate_limited", detail: "Slow down." }, { "retry-after": "90" });
};
const client = new lectern.LecternClient({ baseUrl: "https://api.test", fetch, storage: STORAGE });
const seen = [];
client.onAuthChange((user) => seen.push(user && user.email));
await client.login({ email: "reader@example.org", password: "a long passphrase" });
const stored = localStorage.getItem("lectern:https://api.test");
const reloaded = new lectern.LecternClient({ baseUrl: "https://api.test", fetch, storage: STORAGE }).user;
const outcome = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({
      error: { status: error.status, code: error.code, retryAfter: error.retryAfter, message: error.message },
    }),
  );
const both = await Promise.all([outcome(client.getPreferences()), outcome(client.getPreferences())]);
const chat = await outcome(client.chat({ message: "hello" }));
const user = client.user;
await client.logout();
const after = localStorage.getItem("lectern:https://api.test");
return { calls, refreshes, stored: stored !== null, reloaded, both, chat, user, seen, after };
"""


def test_the_client_refreshes_once_for_concurrent_requests(session: Session) -> None:
    result = run(session, "const REVOKED = false, STORAGE = 'memory';" + CLIENT)

    assert result["refreshes"] == 1
    assert [outcome["value"] for outcome in result["both"]] == [{"preferences": {"language": "ur"}, "etag": '"v1"'}] * 2
    assert result["chat"]["error"] == {"status": 429, "code": "rate_limited", "retryAfter": 90, "message": "Slow down."}
    assert result["stored"] is False and result["reloaded"] is None  # memory: nothing outlives the page
    assert result["seen"] == ["reader@example.org", "reader@example.org", None]
    logout = [call for call in result["calls"] if call["path"] == "/api/auth/logout"]
    assert json.loads(logout[0]["body"]) == {"refresh_token": "refresh-2"}
    assert all(call["auth"] is None for call in result["calls"] if call["path"].startswith("/api/auth/"))


def test_a_revoked_sign_in_signs_the_reader_out(session: Session) -> None:
    result = run(session, "const REVOKED = true, STORAGE = 'memory';" + CLIENT)

    assert [outcome["error"]["status"] for outcome in result["both"]] == [401, 401]
    assert result["user"] is None
    assert result["seen"] == ["reader@example.org", None]


def test_local_storage_is_opt_in_and_survives_a_reload(session: Session) -> None:
    result = run(session, "const REVOKED = false, STORAGE = 'local';" + CLIENT)

    assert result["stored"] is True
    assert result["reloaded"]["email"] == "reader@example.org"
    assert result["after"] is None


REAL_API = r"""
const client = new lectern.LecternClient({ baseUrl: location.origin });
const email = `client-${crypto.randomUUID()}@example.org`;
const user = await client.signup({ email, password: PASSWORD });
const me = await client.me();
const { profile, etag } = await client.getProfile();
const saved = await client.updateProfile({ software_background: "Python web apps" }, { ifMatch: etag });
const stale = await client.updateProfile({ software_background: "Rust" }, { ifMatch: etag }).then(
  () => null,
  (error) => ({ status: error.status, code: error.code }),
);
const found = await client.search("refresh tokens rotate", { k: 3 });
const chat = await client.chat({ message: "How do refresh tokens rotate?" });
const request = { task: "personalize", source: { page: "/book/guides/sessions" } };
const events = [];
for await (const event of client.generateStream(request)) events.push(event);
const stored = await client.generate(request);
const refreshed = await client.refresh();
await client.logout();
const signedOut = await client.me().then(() => "still signed in", (error) => error.status);
return {
  user: user.email, me: me.email, before: profile.software_background, saved: saved.profile.software_background,
  savedEtag: saved.etag !== etag, stale, found: found.results.map((result) => result.url), chat,
  kinds: [...new Set(events.map((event) => event.type))], last: events.at(-1),
  streamed: events.filter((event) => event.type === "token").map((event) => event.text).join(""),
  stored, refreshed: refreshed.email, signedOut,
};
"""


def test_the_client_against_the_real_api(session: Session) -> None:
    """Accounts, profile with ETags, search, chat as JSON, and generate as JSON and streamed, on the running app."""
    server = session.server
    server.model.respond_with(
        lambda messages: faithful(messages) if "</source boundary=" in str(messages) else "They rotate [1]."
    )

    result = run(session, f"const PASSWORD = {json.dumps(PASSWORD)};" + REAL_API)

    assert result["user"] == result["me"] == result["refreshed"]
    assert (result["before"], result["saved"], result["savedEtag"]) == ("", "Python web apps", True)
    assert result["stale"] == {"status": 412, "code": "precondition_failed"}
    assert f"{server.url}/book/guides/sessions#refresh-tokens" in result["found"]
    assert result["chat"]["answer"] == "They rotate [1]." and result["chat"]["citations"]
    assert result["kinds"] == ["section", "token", "done"]
    assert result["last"]["task"] == "personalize" and result["last"]["cached"] is False
    assert result["stored"]["cached"] is True and result["stored"]["content"] == result["streamed"]
    assert "## Refresh tokens" in result["streamed"]
    assert result["signedOut"] == 401
    # The stale write is the one refused request (signed out, `me` fails before any request is sent).
    assert session.watch.errors == [
        "Failed to load resource: the server responded with a status of 412 (Precondition Failed)"
    ]
