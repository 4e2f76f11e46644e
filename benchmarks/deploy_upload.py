"""Deploy upload: a generated project of N small files sent to the Vercel API emulator over loopback HTTP.

Lectern is pinned in the project's requirements.txt, so only the generated files and init's are uploaded.

Four ways, side by side in one run, for each N:
  naive (anchor):  every file uploaded one after another, then the deployment created;
  first, serial:   Lectern's create → missing_files → upload → create, one upload at a time;
  first:           the same with CONCURRENCY uploads in flight (Vercel has nothing yet);
  second:          the same project again, unchanged (Vercel has every file: nothing is uploaded).
The emulator runs in its own process (as `lectern dev vercel-emulator` does), started fresh for each
measurement so it holds no file beforehand. Wall time runs from reading the project (hashing included)
to the created deployment: the build and the smoke test are Vercel's and the app's time, not the upload's.
Cases: each --files on bare loopback, and the first --files again with a modelled --latency-ms round
trip per request (an async delay in the emulator: Vercel is tens of milliseconds away, loopback is not).
Medians of --runs runs.
Usage: python -m benchmarks.deploy_upload [--files 200 2000] [--runs 5] [--size 400] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.stats import save, summary
from lectern import __version__
from lectern.deploy.bundle import collect_bundle
from lectern.deploy.emulator import DEFAULT_TEAM_ID, DEFAULT_TOKEN
from lectern.deploy.init import InitOptions, initialise
from lectern.deploy.upload import CONCURRENCY, create_deployment
from lectern.deploy.vercel import VercelClient

PROJECT_ID = "prj_lectern"  # the project the emulator's seeded state holds
SERVER = """
import asyncio, sys
import uvicorn
from lectern.deploy.emulator import create_emulator_app, seeded_state

state = seeded_state()
state.rate_limiter.limit = 10_000_000  # measure the client, not the emulator's 1000 requests a minute
state.timings.queued_seconds = state.timings.building_seconds = 0.0
app = create_emulator_app(state)
latency = float(sys.argv[2]) / 1000

async def with_latency(scope, receive, send):
    if scope["type"] == "http" and latency:
        await asyncio.sleep(latency)  # a network round trip: other requests go on meanwhile
    await app(scope, receive, send)

uvicorn.run(with_latency, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="off")
"""


def make_project(root: Path, files: int, size: int) -> None:
    """`lectern init`, plus `files` files of about `size` bytes each, with distinct contents.

    Lectern is pinned from an index, so its own package files (which change as Lectern is developed) stay out.
    """
    initialise(root, InitOptions(name="bench"))
    with (root / "requirements.txt").open("a", encoding="utf-8") as handle:
        handle.write(f"lectern=={__version__}\n")
    rng = random.Random(files)
    for index in range(files):
        folder = root / "content" / f"part{index // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(f"w{rng.randrange(10_000)}" for _ in range(size // 6))
        (folder / f"page{index:05d}.md").write_text(f"# Page {index}\n\n{words}\n"[:size])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def emulator_process(latency_ms: float) -> Iterator[str]:
    """A fresh emulator in its own process, answering each request `latency_ms` late; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(latency_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_emulator/faults", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def body() -> dict[str, Any]:
    return {"name": "lectern", "project": PROJECT_ID}


def naive(client: VercelClient, root: Path) -> tuple[float, int]:
    """Anchor: hash and upload every file in turn, whatever Vercel has, then create."""
    started = time.perf_counter()
    bundle = collect_bundle(root)
    for file in bundle.files:
        content = file.source.read_bytes()
        digest = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        headers = {"Content-Type": "application/octet-stream", "x-vercel-digest": digest}
        client.request("POST", "/v2/files", content=content, headers=headers)
    client.request("POST", "/v13/deployments", json={**body(), "files": bundle.entries()})
    return time.perf_counter() - started, len(bundle.files)


def lectern_deploy(client: VercelClient, root: Path, concurrency: int = CONCURRENCY) -> tuple[float, int]:
    """Lectern's way: only what Vercel reports missing, `concurrency` at a time."""
    started = time.perf_counter()
    bundle = collect_bundle(root)
    _, stats = create_deployment(client, bundle, body(), concurrency=concurrency)
    return time.perf_counter() - started, stats.files


Way = Callable[[VercelClient, Path], tuple[float, int]]


def measure(root: Path, runs: int, latency_ms: float) -> dict[str, Any]:
    ways: list[tuple[str, list[tuple[str, Way]]]] = [
        ("naive", [("naive", naive)]),
        ("first, serial", [("first, serial", lambda c, r: lectern_deploy(c, r, 1))]),
        ("first", [("first", lectern_deploy), ("second", lectern_deploy)]),
    ]
    results: dict[str, dict[str, list[float]]] = {}
    for run in range(runs + 1):  # run 0 warms up imports, connections and the page cache
        for _, steps in ways:
            with (
                emulator_process(latency_ms) as url,
                VercelClient(DEFAULT_TOKEN, team=DEFAULT_TEAM_ID, api_url=url) as client,
            ):
                for name, way in steps:
                    seconds, uploaded = way(client, root)
                    if run:
                        row = results.setdefault(name, {"seconds": [], "uploaded": []})
                        row["seconds"].append(seconds)
                        row["uploaded"].append(uploaded)
    out: dict[str, Any] = {"files_in_deployment": len(collect_bundle(root).files)}
    anchor = summary(results["naive"]["seconds"])["median"]
    for name, values in results.items():
        wall = summary(values["seconds"])
        out[name] = {
            "wall_seconds": wall,
            "files_uploaded": int(values["uploaded"][0]),
            "vs_naive": wall["median"] / anchor,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=400, help="bytes per generated file")
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="modelled round trip for an extra case with the first --files"
    )
    args = parser.parse_args()
    cases = [(count, 0.0) for count in args.files]
    if args.latency_ms:
        cases.append((args.files[0], args.latency_ms))
    report: dict[str, Any] = {"runs": args.runs, "file_size_bytes": args.size, "concurrency": CONCURRENCY, "cases": {}}
    for count, latency in cases:
        with tempfile.TemporaryDirectory(prefix="lectern-bench-") as folder:
            root = Path(folder)
            make_project(root, count, args.size)
            case = measure(root, args.runs, latency)
        key = f"{count} files" + (f", {latency:g} ms round trip" if latency else ", loopback")
        report["cases"][key] = case
        print(f"{key} ({case['files_in_deployment']} in the deployment with what `lectern init` wrote):")
        for name in ("naive", "first, serial", "first", "second"):
            row = case[name]
            print(
                f"  {name:<13} {row['wall_seconds']['median']:7.3f} s median"
                f"  ({row['files_uploaded']} uploaded, {row['vs_naive']:.2f}× naive)"
            )
    path = save("deploy_upload", report)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
