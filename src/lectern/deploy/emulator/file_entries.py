"""The `files` of `POST /v13/deployments`: uploaded files, inlined files and folders, checked as Vercel documents them.

Vercel's `UploadedFile` is `{file, sha?, size?}` (the CLI adds `mode`). The CLI leaves out `sha` and `size` for
a folder all of whose files `.vercelignore` drops: it sends `{"file": "tests/unit", "mode": 16877}` so the folder
still exists in the build. Such an entry has no content to upload, so it is never in `missing_files`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import stat
from typing import Any

from lectern.deploy.emulator.errors import VercelError, bad_request
from lectern.deploy.emulator.models import DeploymentFile
from lectern.deploy.emulator.store import Store

FILE_MODE = stat.S_IFREG | 0o644
FOLDER_MODE = stat.S_IFDIR | 0o755
_SHA1 = re.compile(r"[0-9a-f]{40}")


def parse_files(store: Store, raw: object) -> list[DeploymentFile]:
    """Read the `files` array; inlined contents are stored at once, as Vercel does."""
    if not isinstance(raw, list):
        raise bad_request("Invalid request: `files` should be an array.")
    return [_parse_entry(store, entry) for entry in raw]


def missing_shas(store: Store, files: list[DeploymentFile]) -> list[str]:
    """The shas of the files the store does not hold yet, each once, in the order given."""
    missing: list[str] = []
    for file in files:
        if file.sha is not None and file.sha not in store.files and file.sha not in missing:
            missing.append(file.sha)
    return missing


def _invalid(path: str, problem: str) -> VercelError:
    return bad_request(f"Invalid request: `files` item {path!r} {problem}.")


def _whole_number(entry: dict[str, Any], key: str) -> int | None:
    value = entry.get(key)
    # JSON true/false arrive as bool, which Python counts as int: neither is a size or a mode.
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise _invalid(entry["file"], f"has a `{key}` that is not a whole number")


def _parse_entry(store: Store, entry: object) -> DeploymentFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not entry["file"]:
        raise bad_request("Invalid request: each item of `files` needs a `file` path.")
    path: str = entry["file"]
    mode = _whole_number(entry, "mode")
    if "data" in entry:
        content = _inline_content(entry)
        digest = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        store.files[digest] = content
        return DeploymentFile(path, digest, len(content), FILE_MODE if mode is None else mode)
    size, sha = _whole_number(entry, "size"), entry.get("sha")
    if sha is None:
        if mode is not None and not stat.S_ISDIR(mode):
            raise _invalid(path, "has no `sha`: only a folder (a directory `mode`) comes without content")
        if size:
            raise _invalid(path, "has a `size` but no `sha` to find its content by")
        return DeploymentFile(path, None, 0, FOLDER_MODE if mode is None else mode)
    if not isinstance(sha, str) or not _SHA1.fullmatch(sha.lower()):
        raise _invalid(path, "has a `sha` that is not a SHA1 hex digest")
    if mode is not None and stat.S_ISDIR(mode):
        raise _invalid(path, "is a folder (a directory `mode`) yet has a `sha`")
    return DeploymentFile(path, sha.lower(), size or 0, FILE_MODE if mode is None else mode)


def _inline_content(entry: dict[str, Any]) -> bytes:
    data, encoding = entry["data"], entry.get("encoding", "utf-8")
    if not isinstance(data, str) or encoding not in ("utf-8", "base64"):
        raise bad_request("Invalid request: inlined files need string `data` and `encoding` utf-8 or base64.")
    if encoding == "utf-8":
        return data.encode()
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        raise bad_request(f"Invalid request: `data` of {entry['file']} is not valid base64.") from None
