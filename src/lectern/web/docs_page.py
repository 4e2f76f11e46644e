"""The OpenAPI UI at /docs, with a CSP that lets Swagger UI render (the API's own CSP would blank it)."""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

_CDN = "https://cdn.jsdelivr.net"


def install_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="Lectern API")
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        csp = (
            f"default-src 'none'; script-src 'nonce-{nonce}' {_CDN}; style-src {_CDN} 'unsafe-inline'; "
            f"img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})
