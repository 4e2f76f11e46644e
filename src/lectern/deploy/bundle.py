"""What a deployment uploads: the project's files (minus ignores) and, unless pinned from an index, Lectern itself.

Every file is named by the SHA-1 of its content, as Vercel's file API wants; identical files upload once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lectern.deploy.ignore import IgnoreRules
from lectern.deploy.pins import exact_version, read_pins

VENDOR_DIR = "_vendor"


class BundleError(Exception):
    """The project cannot be uploaded as it is: one line for the user."""


@dataclass(frozen=True)
class BundleFile:
    """One file of the deployment: its path there, where it is read from, and its SHA-1, size and mode."""

    path: str
    source: Path
    sha: str
    size: int
    mode: int


@dataclass(frozen=True)
class Bundle:
    """Every file of one deployment, in path order."""

    files: tuple[BundleFile, ...]
    vendored: bool

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def entries(self) -> list[dict[str, Any]]:
        """The `files` list of `POST /v13/deployments`."""
        return [{"file": f.path, "sha": f.sha, "size": f.size, "mode": f.mode} for f in self.files]

    def by_sha(self) -> dict[str, BundleFile]:
        """One file per distinct content."""
        return {f.sha: f for f in self.files}


def sha1_of(path: Path) -> tuple[str, int]:
    """The SHA-1 (hex) and size of a file's content."""
    digest = hashlib.sha1(usedforsecurity=False)
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _file(path: Path, relative: str) -> BundleFile:
    sha, size = sha1_of(path)
    executable = bool(path.stat().st_mode & stat.S_IXUSR)
    return BundleFile(relative, path, sha, size, 0o100755 if executable else 0o100644)


def project_files(root: Path) -> list[BundleFile]:
    """The project's files as the Vercel CLI would pick them; ignored folders are not walked."""
    rules = IgnoreRules.for_project(root)
    found = []
    for folder, subfolders, names in os.walk(root):
        base = Path(folder)
        prefix = base.relative_to(root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        subfolders[:] = sorted(d for d in subfolders if not rules.ignores(prefix + d, folder=True))
        for name in sorted(names):
            relative = prefix + name
            path = base / name
            if path.is_file() and not rules.ignores(relative, folder=False):
                found.append(_file(path, relative))
    return found


def lectern_package() -> Path:
    """The folder of the installed `lectern` package."""
    import lectern

    return Path(lectern.__file__).resolve().parent


def vendored_files(package: Path) -> list[BundleFile]:
    """Lectern's package files under `_vendor/lectern/`, bytecode left out."""
    found = []
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        base = Path(folder)
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            relative = (base / name).relative_to(package.parent).as_posix()
            found.append(_file(base / name, f"{VENDOR_DIR}/{relative}"))
    return found


def pins_lectern(root: Path) -> bool:
    """Whether requirements.txt pins `lectern==X` from an index, so the upload need not carry it."""
    path = root / "requirements.txt"
    if not path.is_file():
        return False
    return any(r.key == "lectern" and exact_version(r) is not None for r in read_pins(path))


def collect_bundle(root: Path, *, package: Path | None = None) -> Bundle:
    """The files to deploy: the project's, plus Lectern's own unless requirements.txt pins it."""
    files = project_files(root)
    vendored = not pins_lectern(root)
    if vendored:
        clashes = [f.path for f in files if f.path.startswith(VENDOR_DIR + "/lectern/")]
        if clashes:
            raise BundleError(f"{clashes[0]} is in the project: {VENDOR_DIR}/lectern/ is where deploy puts Lectern")
        files += vendored_files(package or lectern_package())
    return Bundle(tuple(sorted(files, key=lambda f: f.path)), vendored)
