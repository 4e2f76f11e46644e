"""The demo book at / and /book/… (LECTERN_DEMO=1): a page shell under its own strict CSP.

The shell holds no inline script or style: demo.js fills it from /api/book, and <lectern-chat> sits on it.
Trusted Types are required too, so any HTML string reaching the DOM would be refused (and reported).
"""

from __future__ import annotations

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from lectern.widget.assets import BUNDLE, widget_assets

DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
DEMO_HEADERS = {
    "Content-Security-Policy": DEMO_CSP,
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
TITLE = "Ask the Lectern book"


def demo_shell() -> str:
    """The page every demo URL serves; the scripts and stylesheet are the versioned, pinned files."""
    assets = widget_assets()
    script = assets.files[BUNDLE]

    def path(name: str) -> str:
        return html.escape(assets.path(name))

    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lectern demo book</title>
<link rel="icon" href="{path("lectern.svg")}" type="image/svg+xml">
<link rel="stylesheet" href="{path("demo.css")}" integrity="{assets.files["demo.css"].integrity}">
<script type="module" src="{path(BUNDLE)}" integrity="{script.integrity}"></script>
<script type="module" src="{path("demo.js")}" integrity="{assets.files["demo.js"].integrity}"></script>
</head>
<body>
<a class="skip" href="#page">Skip to the page</a>
<header class="top">
<a class="brand" href="/">Lectern</a><span>demo book</span>
<button id="theme" type="button" aria-pressed="false">Dark theme</button>
</header>
<div class="layout">
<nav id="pages" aria-label="Pages of the book"></nav>
<main id="page" tabindex="-1" aria-busy="true"><p>Loading the book…</p></main>
</div>
<lectern-chat title="{html.escape(TITLE)}"></lectern-chat>
</body>
</html>
"""


async def demo_page() -> HTMLResponse:
    """The demo shell."""
    return HTMLResponse(demo_shell(), headers=DEMO_HEADERS)


def install_demo(app: FastAPI) -> None:
    """Serve the demo at / and under /book/, where `make run` ingests the book's pages."""
    for path in ("/", "/book", "/book/{page:path}"):
        app.add_api_route(path, demo_page, methods=["GET"], include_in_schema=False)
