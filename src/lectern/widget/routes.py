"""/widget/…: the widget's files. Versioned paths are immutable; the plain ones are short-lived aliases.

The files hold no secret, yet only the book's own sites may embed them: the same FRONTEND_ORIGINS that guards
the API. Module scripts are fetched with CORS, so the CORS middleware's answer decides (a listed origin gets
its own origin back, with `Vary: Origin`; any other gets no `Access-Control-Allow-Origin` and the browser
refuses the script). `Cross-Origin-Resource-Policy: same-origin` closes the no-CORS way in (a classic
`<script>` or `<img>` from another site), which the CORS check never sees.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from lectern.errors import NotFound
from lectern.widget.assets import BUNDLE, Asset, widget_assets

router = APIRouter(prefix="/widget", include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"
# The unversioned alias may change with any deploy: caches keep it briefly and revalidate by ETag.
SHORT_LIVED = "public, max-age=300, must-revalidate"
# If a file is opened as a page, it can load and run nothing (an SVG could otherwise run script).
ASSET_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

AcceptEncoding = Annotated[str, Header()]
IfNoneMatch = Annotated[str | None, Header()]


def _serve(asset: Asset, cache_control: str, accept_encoding: str, if_none_match: str | None) -> Response:
    headers = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        "Content-Security-Policy": ASSET_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Vary": "Accept-Encoding",
    }
    if if_none_match is not None and asset.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in accept_encoding.lower():
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.content_type, headers=headers)


def _asset(name: str) -> Asset:
    asset = widget_assets().files.get(name)
    if asset is None:
        raise NotFound("The widget has no such file.")
    return asset


@router.get("/manifest.json")
async def manifest() -> JSONResponse:
    """The current version, and each file's versioned path and SRI hash (to pin them in a site's config)."""
    assets = widget_assets()
    files = {name: {"path": assets.path(name), "integrity": asset.integrity} for name, asset in assets.files.items()}
    return JSONResponse({"version": assets.version, "files": files}, headers={"Cache-Control": SHORT_LIVED})


@router.api_route("/{name}", methods=["GET", "HEAD"])
async def current_file(name: str, accept_encoding: AcceptEncoding = "", if_none_match: IfNoneMatch = None) -> Response:
    """The current version of a file, e.g. /widget/lectern.js."""
    return _serve(_asset(name), SHORT_LIVED, accept_encoding, if_none_match)


@router.api_route("/{version}/{name}", methods=["GET", "HEAD"])
async def versioned_file(
    version: str, name: str, accept_encoding: AcceptEncoding = "", if_none_match: IfNoneMatch = None
) -> Response:
    """A file at the version that names its content; another version is not kept, so it is a 404."""
    assets = widget_assets()
    if version != assets.version:
        raise NotFound(f"This server holds widget version {assets.version} only: {assets.path(BUNDLE)}.")
    return _serve(_asset(name), IMMUTABLE, accept_encoding, if_none_match)
