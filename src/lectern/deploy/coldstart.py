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
class ColdStart:
    """Seconds to import the entrypoint, and the packages that took longest (seconds of their own time)."""

    seconds: float
    slowest: tuple[tuple[str, float], ...]


def slowest_packages(stderr: str, count: int = 5) -> list[tuple[str, float]]:
    """Sum `-X importtime` self times by top-level package; the `count` costliest, in seconds."""
    totals: dict[str, int] = defaultdict(int)
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            totals[match[4].split(".")[0]] += int(match[1])
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


def run_import(entrypoint: Path, *, python: str | None = None) -> tuple[float, str]:
    """Import `entrypoint` once in a new interpreter with `-X importtime`: (seconds, importtime output).

    Raises ColdStartError when it does not import or prints no timing.
    """
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
    return seconds, done.stderr


def measure_cold_start(entrypoint: Path, *, python: str | None = None) -> ColdStart:
    """Import `entrypoint` once in a new interpreter and time it; raises ColdStartError if it fails."""
    seconds, importtime = run_import(entrypoint, python=python)
    return ColdStart(seconds, tuple(slowest_packages(importtime)))
