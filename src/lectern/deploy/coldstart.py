"""How long the entrypoint takes to import in a fresh process, and which packages cost the most (`-X importtime`).

On Vercel every new instance pays this before its first answer. The child gets a neutral environment
(no contract variable of this shell, a throw-away data folder) so local settings neither help nor break it.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lectern.contract import builtin_contract

TIMEOUT_SECONDS = 60.0
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")

# Loads the file by path, as Vercel's runtime does, and prints the seconds it took.
_CHILD = """
import importlib.util, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("vercel_entrypoint", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
if not any(hasattr(module, n) for n in ("app", "application", "handler")):
    sys.exit("the entrypoint defines no top-level app, application or handler")
print(f"{elapsed:.6f}")
"""


class ColdStartError(Exception):
    """The entrypoint could not be imported: its last error line (never an environment value)."""


@dataclass(frozen=True)
class ImportedModule:
    """One `-X importtime` line: own and cumulative microseconds, and the module whose import pulled it in."""

    name: str
    self_us: int
    cumulative_us: int
    importer: str | None  # None: the entrypoint itself

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


@dataclass(frozen=True)
class ColdStart:
    """Seconds to import the entrypoint, and every module that import loaded."""

    seconds: float
    modules: tuple[ImportedModule, ...]

    def slowest(self, count: int = 5) -> list[tuple[str, float]]:
        """The `count` top-level packages that took longest, in seconds of their own time."""
        return slowest_packages(self.modules, count)


def read_importtime(stderr: str) -> list[ImportedModule]:
    """The modules of `-X importtime` output, each with its importer (a nested import prints before its parent)."""
    lines = [m for m in map(_IMPORT_LINE.match, stderr.splitlines()) if m]
    found: list[ImportedModule] = []
    parents: list[tuple[int, str]] = []  # (depth, name) of the lines still open, read from the end
    for match in reversed(lines):
        depth = (len(match[3]) - 1) // 2
        while parents and parents[-1][0] >= depth:
            parents.pop()
        importer = parents[-1][1] if parents else None
        found.append(ImportedModule(match[4], int(match[1]), int(match[2]), importer))
        parents.append((depth, match[4]))
    found.reverse()
    return found


def slowest_packages(modules: Iterable[ImportedModule], count: int = 5) -> list[tuple[str, float]]:
    """Sum the modules' own times by top-level package; the `count` costliest, in seconds."""
    totals: dict[str, int] = defaultdict(int)
    for module in modules:
        totals[module.package] += module.self_us
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:count]
    return [(name, micros / 1e6) for name, micros in ranked]


def _child_env(data_dir: str) -> dict[str, str]:
    declared = builtin_contract().variables
    env = {k: v for k, v in os.environ.items() if k not in declared and not k.startswith("PYTHON")}
    env.update(
        {
            "APP_ENV": "development",
            "JWT_SECRET": secrets.token_hex(32),  # so the app does not generate and store one
            "LECTERN_DATA_DIR": data_dir,
            "PYTHONDONTWRITEBYTECODE": "1",  # leave no __pycache__ in the user's project
        }
    )
    return env


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not _IMPORT_LINE.match(line)]
    return lines[-1].strip() if lines else "no error output"


def measure_cold_start(entrypoint: Path, *, python: str | None = None) -> ColdStart:
    """Import `entrypoint` once in a new interpreter with `-X importtime`; ColdStartError if it does not import."""
    entrypoint = entrypoint.resolve()
    with tempfile.TemporaryDirectory(prefix="lectern-coldstart-") as data_dir:
        try:
            done = subprocess.run(  # noqa: S603 - our interpreter, our script, the user's entrypoint
                [python or sys.executable, "-X", "importtime", "-c", _CHILD, str(entrypoint)],
                cwd=entrypoint.parent,
                env=_child_env(data_dir),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ColdStartError(f"importing {entrypoint.name} took over {TIMEOUT_SECONDS:.0f} s") from None
    if done.returncode != 0:
        raise ColdStartError(_last_error(done.stderr))
    try:
        seconds = float(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise ColdStartError("the import printed no timing") from None
    return ColdStart(seconds, tuple(read_importtime(done.stderr)))
