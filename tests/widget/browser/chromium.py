"""Headless Debian chromium through Playwright: launch flags, what a page reports, and screenshots."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
# Without the background-networking flags chromium keeps calling home, and this machine refuses every call.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000
# Reports every CSP violation, wherever it happens (the event is composed: it leaves shadow roots).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
}, true);
"""


def chromium_path() -> str:
    return os.environ.get("LECTERN_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Watch:
    """Everything a page said while a test drove it."""

    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    api_requests: list[Request] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.add_init_script(REPORT_VIOLATIONS)

        def on_console(message: ConsoleMessage) -> None:
            self.console.append((message.type, message.text))

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("request", lambda request: self.api_requests.append(request) if "/api/" in request.url else None)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.page_errors

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.errors if re.search(r"CSP violation|Content Security Policy", text)]

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """JSON bodies of the page's requests to an API path."""
        return [
            json.loads(request.post_data or "{}")
            for request in self.api_requests
            if request.url.split("?")[0].endswith(path) and request.method == "POST"
        ]


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), animations="disabled")
    return path
