"""The demo book at / and /book/… only with LECTERN_DEMO=1, under its own strict CSP; liveness stays cold."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from lectern.settings import load_settings
from lectern.widget.assets import BUNDLE, widget_assets
from tests.web.checks import csp_directives
from tests.web.fixtures import ClientFactory


@pytest.mark.parametrize("path", ["/", "/book", "/book/", "/book/guides/sessions"])
async def test_the_demo_is_served_when_asked(make_client: ClientFactory, path: str) -> None:
    client = await make_client(lectern_demo=True)
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<lectern-chat" in response.text


async def test_the_demo_page_allows_only_its_own_files(make_client: ClientFactory) -> None:
    client = await make_client(lectern_demo=True)
    response = await client.get("/")

    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    # No inline script or style: every script and stylesheet is a pinned, versioned file.
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert "<style" not in response.text and "style=" not in response.text
    bundle = widget_assets().files[BUNDLE]
    assert f'src="{widget_assets().path(BUNDLE)}" integrity="{bundle.integrity}"' in response.text


async def test_without_the_demo_there_is_no_page(client: AsyncClient) -> None:
    for path in ("/", "/book/guides/sessions"):
        assert (await client.get(path)).status_code == 404


async def test_the_demo_loads_no_domain(make_client: ClientFactory) -> None:
    client = await make_client(lectern_demo=True)
    await client.get("/")
    await client.get("/api/health")
    app = client._transport.app  # type: ignore[attr-defined]

    assert app.state.domains.loaded == []


def test_lectern_demo_reads_zero_and_one() -> None:
    assert load_settings(lectern_demo="1").lectern_demo is True
    assert load_settings(lectern_demo="0").lectern_demo is False
