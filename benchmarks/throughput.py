"""Throughput and latency with one uvicorn worker, load from wrk in a separate process.

Lectern's GET /api/health and GET /api/profile, and the minimal anchor app's GET /api/profile, at 1, 8
and 32 connections, interleaved in one run. Goals: profile ≥ 40% of health's req/s at 32 connections,
and ≥ 1.5× the minimal app on the same endpoint.
Usage: python -m benchmarks.throughput [--seconds S] [--rounds R]   (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.fixture import prepare
from benchmarks.stats import save, summary

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).with_name("wrk_report.lua")
CONNECTIONS = (1, 8, 32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(spec: str, env: dict[str, str]) -> Iterator[str]:
    """Run `spec` under one uvicorn worker; yield its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            spec,
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"{spec} did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def wrk(url: str, connections: int, seconds: int, token: str | None) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(SCRIPT), url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if result["errors"] or result["non2xx"]:
        raise SystemExit(f"{url} at {connections} connections: {result['errors']} errors, {result['non2xx']} non-2xx")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    db = prepare()
    env = {**os.environ, **db.env(), "PYTHONPATH": str(ROOT)}
    cases = [
        ("lectern health", "benchmarks.lectern_entry:app", "/api/health", False),
        ("lectern profile", "benchmarks.lectern_entry:app", "/api/profile", True),
        ("minimal profile", "benchmarks.anchors.minimal_profile_app:app", "/api/profile", True),
    ]
    raw: dict[str, dict[int, list[dict[str, Any]]]] = {name: {c: [] for c in CONNECTIONS} for name, *_ in cases}
    for _ in range(args.rounds):
        for spec in dict.fromkeys(spec for _, spec, _, _ in cases):
            with serve(spec, env) as base:
                for name, case_spec, path, auth in cases:
                    if case_spec != spec:
                        continue
                    wrk(base + path, 8, 1, db.token if auth else None)  # warm-up
                    for connections in CONNECTIONS:
                        raw[name][connections].append(
                            wrk(base + path, connections, args.seconds, db.token if auth else None)
                        )
    table: dict[str, dict[str, dict[str, Any]]] = {}
    print(f"{'case':<18} {'conns':>5} {'req/s median':>13} {'range':>17} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name in raw:
        table[name] = {}
        for connections, runs in raw[name].items():
            rps = summary([r["rps"] for r in runs])
            lat = {k: summary([r[f"{k}_us"] / 1000 for r in runs])["median"] for k in ("p50", "p95", "p99")}
            table[name][str(connections)] = {"rps": rps, **{f"{k}_ms": v for k, v in lat.items()}}
            print(
                f"{name:<18} {connections:>5} {rps['median']:>13.0f} {rps['min']:>8.0f}–{rps['max']:<8.0f}"
                f" {lat['p50']:>7.2f} {lat['p95']:>7.2f} {lat['p99']:>7.2f}"
            )
    at32 = {name: table[name]["32"]["rps"]["median"] for name in table}
    ratios = {
        "profile / health (lectern, 32 conns)": at32["lectern profile"] / at32["lectern health"],
        "lectern profile / minimal profile (32 conns)": at32["lectern profile"] / at32["minimal profile"],
    }
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.2f}")
    print(
        "saved",
        save("throughput", {"seconds": args.seconds, "rounds": args.rounds, "results": table, "ratios": ratios}),
    )


if __name__ == "__main__":
    main()
