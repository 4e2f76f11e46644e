"""Cold start, fresh process to first response: Lectern vs anchor apps, side by side in one run.

(a) GET /api/health: Lectern vs a bare FastAPI hello-world (goal ≤ 1.2×).
(b) GET /api/profile (JWT + database read): Lectern vs a minimal FastAPI + SQLAlchemy async + psycopg +
    PyJWT app doing only that read (goal ≤ 1.0×).
Usage: python -m benchmarks.coldstart [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.fixture import prepare
from benchmarks.stats import save, summary

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "health: lectern": ("benchmarks.lectern_entry:app", "/api/health", False),
    "health: hello-world": ("benchmarks.anchors.hello_app:app", "/api/health", False),
    "profile: lectern": ("benchmarks.lectern_entry:app", "/api/profile", True),
    "profile: minimal": ("benchmarks.anchors.minimal_profile_app:app", "/api/profile", True),
}


def first_response_seconds(spec: str, path: str, token: str, env: dict[str, str]) -> float:
    """Wall time from spawning a process to it printing the first response's status."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.coldstart_child", spec, path, token],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    elapsed = time.perf_counter() - started
    child.wait(timeout=30)
    if line != "200":
        raise SystemExit(f"{spec} {path} answered {line!r}, expected 200")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    db = prepare()
    env = {**os.environ, **db.env(), "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for spec, path, auth in CASES.values():  # warm-up: compile bytecode, warm the OS page cache
        first_response_seconds(spec, path, db.token if auth else "", env)
    for run in range(args.runs):
        order = list(CASES.items()) if run % 2 == 0 else list(reversed(CASES.items()))
        for name, (spec, path, auth) in order:
            times[name].append(first_response_seconds(spec, path, db.token if auth else "", env))
    results = {name: summary([t * 1000 for t in values]) for name, values in times.items()}
    ratios = {
        "health (lectern / hello-world)": results["health: lectern"]["median"]
        / results["health: hello-world"]["median"],
        "profile (lectern / minimal)": results["profile: lectern"]["median"] / results["profile: minimal"]["median"],
    }
    print(f"{'case':<22} {'median ms':>10} {'min':>8} {'max':>8}")
    for name, s in results.items():
        print(f"{name:<22} {s['median']:>10.1f} {s['min']:>8.1f} {s['max']:>8.1f}")
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}x")
    print("saved", save("coldstart", {"runs": args.runs, "ms": results, "ratios": ratios}))


if __name__ == "__main__":
    main()
