"""CPU time per request, in-process (no HTTP, no load generator): robust on a shared, noisy machine.

Each app runs in a fresh process and serves the same request many times over raw ASGI; we count
the process's CPU time (time.process_time), which other processes' load does not inflate. Lectern's
GET /api/health vs the hello-world anchor, and GET /api/profile vs the minimal anchor.
Usage: python -m benchmarks.cpu_per_request [--requests N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.fixture import prepare
from benchmarks.stats import save, summary

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "health: lectern": ("benchmarks.lectern_entry:app", "/api/health"),
    "health: hello-world": ("benchmarks.anchors.hello_app:app", "/api/health"),
    "profile: lectern": ("benchmarks.lectern_entry:app", "/api/profile"),
    "profile: minimal": ("benchmarks.anchors.minimal_profile_app:app", "/api/profile"),
}


async def _serve(spec: str, path: str, token: str, requests: int) -> float:
    from benchmarks.coldstart_child import _one_request

    module, _, attribute = spec.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    for _ in range(100):  # warm-up: imports, pools, first-call caches
        assert await _one_request(app, path, token) == 200
    started = time.process_time()
    for _ in range(requests):
        await _one_request(app, path, token)
    return (time.process_time() - started) / requests


def child() -> None:
    spec, path, token, requests = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    print(asyncio.run(_serve(spec, path, token, requests)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = prepare()
    env = {**os.environ, **db.env(), "PYTHONPATH": str(ROOT)}
    micros: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, (spec, path) in CASES.items():
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.cpu_per_request",
                    "--child",
                    spec,
                    path,
                    db.token,
                    str(args.requests),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            ).stdout
            micros[name].append(float(out.strip().splitlines()[-1]) * 1e6)
    results = {name: summary(values) for name, values in micros.items()}
    ratios = {
        "health (lectern / hello-world)": results["health: lectern"]["median"]
        / results["health: hello-world"]["median"],
        "profile (minimal / lectern)": results["profile: minimal"]["median"] / results["profile: lectern"]["median"],
    }
    print(f"{'case':<22} {'median µs':>10} {'min':>8} {'max':>8}")
    for name, s in results.items():
        print(f"{name:<22} {s['median']:>10.0f} {s['min']:>8.0f} {s['max']:>8.0f}")
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}x")
    print(
        "saved",
        save("cpu_per_request", {"requests": args.requests, "runs": args.runs, "cpu_us": results, "ratios": ratios}),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
    else:
        main()
