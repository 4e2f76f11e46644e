"""/widget/…: content types, versioned and cacheable paths, CORS and CORP for other sites, the bundle, its size."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from httpx import AsyncClient

from lectern.widget.assets import BUNDLE, BUNDLED, FOLDER, bundle, widget_assets
from lectern.widget.routes import IMMUTABLE
from tests.web.checks import csp_directives
from tests.web.fixtures import ClientFactory

MAX_GZIPPED_BYTES = 30 * 1024
OTHER_SITE = "https://some-other-site.example"
BOOK_SITE = "https://book.example.org"


async def test_versioned_script_is_immutable_and_pinned_by_its_hash(client: AsyncClient) -> None:
    assets = widget_assets()
    response = await client.get(assets.path(BUNDLE))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and "sandbox" in csp
    assert response.content == assets.files[BUNDLE].body
    digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
    assert assets.files[BUNDLE].integrity == f"sha384-{digest}"


async def test_a_listed_origin_may_load_the_script_and_gets_its_own_origin_back(make_client: ClientFactory) -> None:
    client = await make_client(frontend_origins=BOOK_SITE)
    for path in ("/widget/lectern.js", widget_assets().path(BUNDLE)):
        response = await client.get(path, headers={"Origin": BOOK_SITE})

        assert response.headers["access-control-allow-origin"] == BOOK_SITE, path
        # Caches must keep one answer per origin: another site must not get this one's allowance.
        assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize("name", [BUNDLE, "lectern-client.js", "lectern-client.d.ts", "demo.css", "lectern.svg"])
async def test_an_unlisted_origin_is_not_allowed_any_file(make_client: ClientFactory, name: str) -> None:
    """No CORS allowance, so the browser refuses the module; CORP same-origin refuses no-CORS loads too."""
    client = await make_client(frontend_origins=BOOK_SITE)
    response = await client.get(widget_assets().path(name), headers={"Origin": OTHER_SITE})

    assert response.status_code == 200  # the browser, not the server, enforces CORS on a GET
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["cross-origin-resource-policy"] == "same-origin"
    assert "origin" in response.headers["vary"].lower()


async def test_without_frontend_origins_no_other_site_may_load_it(client: AsyncClient) -> None:
    response = await client.get(widget_assets().path(BUNDLE), headers={"Origin": BOOK_SITE})

    assert "access-control-allow-origin" not in response.headers


async def test_an_allow_list_of_any_origin_lets_any_site_load_it(make_client: ClientFactory) -> None:
    client = await make_client(frontend_origins="*", cors_allow_credentials=False)
    response = await client.get(widget_assets().path(BUNDLE), headers={"Origin": OTHER_SITE})

    assert response.headers["access-control-allow-origin"] == "*"


async def test_plain_path_is_the_current_version_revalidated_by_etag(client: AsyncClient) -> None:
    first = await client.get("/widget/lectern.js")
    again = await client.get("/widget/lectern.js", headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert "max-age=300" in first.headers["cache-control"]
    assert first.content == widget_assets().files[BUNDLE].body
    assert again.status_code == 304
    assert again.content == b""


async def test_another_version_is_a_404_naming_the_current_one(client: AsyncClient) -> None:
    response = await client.get("/widget/0000000000000000/lectern.js")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert widget_assets().path(BUNDLE) in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("lectern-client.js", "text/javascript; charset=utf-8"),
        ("lectern-markdown.js", "text/javascript; charset=utf-8"),
        ("lectern-client.d.ts", "text/plain; charset=utf-8"),
        ("demo.js", "text/javascript; charset=utf-8"),
        ("demo.css", "text/css; charset=utf-8"),
        ("lectern.svg", "image/svg+xml"),
    ],
)
async def test_every_file_has_its_content_type(client: AsyncClient, name: str, content_type: str) -> None:
    response = await client.get(widget_assets().path(name))

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


async def test_unknown_files_are_404(client: AsyncClient) -> None:
    for path in ("/widget/nothing.js", "/widget/../app.py", f"/widget/{widget_assets().version}/assets.py"):
        assert (await client.get(path)).status_code == 404, path


async def test_gzip_when_accepted(client: AsyncClient) -> None:
    response = await client.get("/widget/lectern.js", headers={"Accept-Encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.content == widget_assets().files[BUNDLE].body  # httpx decodes it


async def test_manifest_names_the_versioned_paths_and_hashes(client: AsyncClient) -> None:
    manifest = (await client.get("/widget/manifest.json")).json()
    assets = widget_assets()

    assert manifest["version"] == assets.version
    assert manifest["files"][BUNDLE] == {"path": assets.path(BUNDLE), "integrity": assets.files[BUNDLE].integrity}


def test_the_bundle_gzipped_is_at_most_30_kb() -> None:
    body = widget_assets().files[BUNDLE].body
    assert len(gzip.compress(body, compresslevel=9)) <= MAX_GZIPPED_BYTES


def test_the_bundle_holds_every_module_once_and_no_relative_import() -> None:
    body = widget_assets().files[BUNDLE].body.decode()

    assert 'from "./' not in body
    assert body.count('customElements.define("lectern-chat"') == 1
    for name in ("export class LecternClient", "export function renderMarkdown", "export class LecternChatElement"):
        assert body.count(name) == 1, name


def test_the_bundle_refuses_imports_it_cannot_satisfy() -> None:
    sources = {name: (FOLDER / name).read_text(encoding="utf-8") for name in BUNDLED}
    sources["lectern-client.js"] = 'import { x } from "./elsewhere.js";\n' + sources["lectern-client.js"]
    with pytest.raises(ValueError, match="elsewhere"):
        bundle(sources)


def test_no_eval_no_html_strings_in_the_widget() -> None:
    """What a strict CSP (no 'unsafe-eval') and Trusted Types would refuse is simply not there."""
    for name in (*BUNDLED, "demo.js"):
        source = (FOLDER / name).read_text(encoding="utf-8")
        for pattern in (r"\beval\(", r"new Function", r"innerHTML", r"outerHTML", r"insertAdjacentHTML", r"\.write\("):
            assert not re.search(pattern, source), (name, pattern)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("name", [BUNDLE, "lectern-client.js", "lectern-markdown.js", "demo.js"])
def test_the_served_modules_parse(name: str, tmp_path: Path) -> None:
    module = tmp_path / (Path(name).stem + ".mjs")
    module.write_bytes(widget_assets().files[name].body)
    done = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
