"""The widget's files as served: read once per process, versioned by content, with their SRI hashes.

`lectern.js` is served as one file: the client, the Markdown renderer, the messages, the stylesheet and the
element, in that order, with their imports of each other dropped. One Subresource Integrity hash then covers
every line that runs; an imported module would escape the hash the page pins.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).parent / "assets"
BUNDLE = "lectern.js"
BUNDLED = ("lectern-client.js", "lectern-markdown.js", "lectern-messages.js", "lectern-styles.js", "lectern.js")
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",  # TypeScript declarations, to read: no registered type
    ".svg": "image/svg+xml",
}
_RELATIVE_IMPORT = re.compile(r'^import [^;]+ from "\./([\w-]+\.js)";\n', re.MULTILINE)


@dataclass(frozen=True)
class Asset:
    """One served file: its bytes, their gzip, type, SRI hash and ETag."""

    name: str
    body: bytes
    gzipped: bytes
    content_type: str
    integrity: str  # "sha384-…", as a <script integrity> attribute takes it
    etag: str


@dataclass(frozen=True)
class WidgetAssets:
    """Every served file, and the version that names them all: it changes whenever any byte does."""

    version: str
    files: dict[str, Asset]

    def path(self, name: str) -> str:
        """The versioned, immutable path of a file: /widget/<version>/<name>."""
        return f"/widget/{self.version}/{name}"


def bundle(sources: dict[str, str]) -> str:
    """Join the bundled modules in order, dropping their imports of each other; refuse any other relative import."""
    parts = []
    for name in BUNDLED:

        def drop(match: re.Match[str], importer: str = name) -> str:
            if match[1] not in BUNDLED or BUNDLED.index(match[1]) >= BUNDLED.index(importer):
                raise ValueError(f"{importer} imports {match[1]}, which the bundle does not hold before it")
            return ""

        parts.append(_RELATIVE_IMPORT.sub(drop, sources[name]))
    joined = "\n".join(parts)
    if 'from "./' in joined or "import(" in joined:
        raise ValueError("the bundled modules import something the bundle does not hold")
    return joined


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha384(body).digest()
    return Asset(
        name=name,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        content_type=CONTENT_TYPES[Path(name).suffix],
        integrity="sha384-" + base64.b64encode(digest).decode("ascii"),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


@lru_cache(maxsize=1)
def widget_assets() -> WidgetAssets:
    """The files under assets/, with lectern.js bundled; built on first use, then kept."""
    sources = {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(FOLDER.iterdir())
        if path.is_file() and path.suffix in CONTENT_TYPES
    }
    served = {name: text.encode("utf-8") for name, text in sources.items()}
    served[BUNDLE] = bundle(sources).encode("utf-8")
    files = {name: _asset(name, body) for name, body in sorted(served.items())}
    version = hashlib.sha256()
    for asset in files.values():
        version.update(asset.name.encode() + b"\0" + asset.body + b"\0")
    return WidgetAssets(version=version.hexdigest()[:16], files=files)
