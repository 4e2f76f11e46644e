"""What recording metrics costs: GET /api/health throughput with the metrics sink and without it.

The same app served by uvicorn twice, once with the recorder removed from the request sinks. Each
round starts a fresh server per variant (the order flips every round), one at a time, pinned to one
core with wrk on another when the machine has two, so neither variant keeps a better core or a
warmer cache. METRICS_FLUSH_SECONDS=1 makes the measured server flush during every run; the warm-up
is long enough for its first flush (SQLAlchemy import, pool, pruning) to be over. `--control` runs
the variant without metrics against itself: the spread that the setup alone produces.
Goal: overhead ≤ 5% (median of the per-round ratios).
Usage: python -m benchmarks.metrics_overhead [--seconds S] [--rounds R] [--connections C] [--control]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

VARIANTS = ("with_metrics", "without_metrics")
WARM_UP_SECONDS = 3


def __getattr__(name: str) -> Any:
    """uvicorn's `benchmarks.metrics_overhead:with_metrics` / `:without_metrics`: the app, built on first access."""
    if name not in VARIANTS:
        raise AttributeError(name)
    from lectern.app import create_app

    app = create_app()
    if name == "without_metrics":
        app.state.request_sinks.remove(app.state.metrics.record)
    globals()[name] = app
    return app


@contextmanager
def _cores(server: set[int]) -> Iterator[None]:
    """Children started inside run on `server` cores; afterwards this process (and so wrk) moves to the others."""
    everything = os.sched_getaffinity(0)
    if len(everything) < 2:
        yield
        return
    os.sched_setaffinity(0, server)
    try:
        yield
    finally:
        os.sched_setaffinity(0, (everything - server) or everything)


def _server_cpu_seconds() -> float:
    """CPU time (user + system) used so far by this process's uvicorn children: other load does not inflate it."""
    from pathlib import Path

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and b"uvicorn" in (stat.parent / "cmdline").read_bytes():
                total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue  # a process that went away meanwhile
    return total / ticks


def _counted_requests(url: str) -> int:
    import psycopg

    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq) as conn:
        row = conn.execute("SELECT coalesce(sum(requests), 0) FROM request_metrics").fetchone()
    return int(row[0]) if row else 0


def _sink_and_flush_costs(url: str) -> dict[str, float]:
    """In-process, noise-robust: µs of CPU per `record` call, and ms per flush of one row (wall, database included)."""
    import asyncio
    import time
    import timeit

    from lectern.db.session import Database
    from lectern.metrics.recorder import MetricsRecorder
    from lectern.settings import load_settings
    from lectern.web.edge import RequestRecord

    database = Database(load_settings(database_url=url))
    recorder = MetricsRecorder(database, flush_seconds=3600, retention_days=14)
    record = RequestRecord("GET", "/api/health", 200, 0.0004, "bench", False, None)
    calls = 200_000
    record_us = min(timeit.repeat(lambda: recorder.record(record), number=calls, repeat=5)) / calls * 1e6

    async def flushes() -> list[float]:
        timings = []
        for _ in range(30):
            recorder.record(record)
            started = time.perf_counter()
            await recorder.flush()
            timings.append((time.perf_counter() - started) * 1000)
        await database.dispose()
        return timings[5:]  # after the first (imports, pool, pruning)

    return {"record_us": record_us, "flush_ms_median": statistics.median(asyncio.run(flushes()))}


def main() -> None:
    from benchmarks.fixture import prepare
    from benchmarks.stats import save, summary
    from benchmarks.throughput import ROOT, serve, wrk

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--control", action="store_true", help="Both arms without metrics (A/A).")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    db = prepare()
    load_before = os.getloadavg()[0]
    env = {**os.environ, **db.env(), "PYTHONPATH": str(ROOT), "METRICS_FLUSH_SECONDS": "1"}
    arms = {"with_metrics": "with_metrics", "without_metrics": "without_metrics"}
    if args.control:
        arms = {"without_metrics (A)": "without_metrics", "without_metrics (B)": "without_metrics"}
    names = list(arms)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            with _cores({0}), serve(f"benchmarks.metrics_overhead:{arms[name]}", env) as base:
                wrk(base + "/api/health", args.connections, WARM_UP_SECONDS, None)
                cpu_before = _server_cpu_seconds()
                run = wrk(base + "/api/health", args.connections, args.seconds, None)
                run["server_cpu_us_per_request"] = (_server_cpu_seconds() - cpu_before) / run["requests"] * 1e6
                runs[name].append(run)
    load_after = os.getloadavg()[0]
    counted = _counted_requests(db.url)
    costs = _sink_and_flush_costs(db.url)

    results: dict[str, Any] = {}
    print(
        f"{'variant':<20} {'req/s median':>13} {'range':>17} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'server CPU µs/req':>18} {'range':>13}"
    )
    for name, arm_runs in runs.items():
        rps = summary([r["rps"] for r in arm_runs])
        p50 = summary([r["p50_us"] / 1000 for r in arm_runs])["median"]
        p99 = summary([r["p99_us"] / 1000 for r in arm_runs])["median"]
        cpu = summary([r["server_cpu_us_per_request"] for r in arm_runs])
        results[name] = {"rps": rps, "p50_ms": p50, "p99_ms": p99, "server_cpu_us_per_request": cpu}
        print(
            f"{name:<20} {rps['median']:>13.0f} {rps['min']:>8.0f}–{rps['max']:<8.0f} {p50:>7.2f} {p99:>7.2f}"
            f" {cpu['median']:>18.1f} {cpu['min']:>6.1f}–{cpu['max']:<6.1f}"
        )
    first, second = names
    paired = [a["rps"] / b["rps"] for a, b in zip(runs[first], runs[second], strict=True)]
    ratio = statistics.median(paired)
    cpu_ratio = statistics.median(
        a["server_cpu_us_per_request"] / b["server_cpu_us_per_request"]
        for a, b in zip(runs[first], runs[second], strict=True)
    )
    overhead = {
        "paired_round_ratios": summary(paired),
        "server_cpu_per_request_ratio": cpu_ratio,
        "overhead_percent": (1 - ratio) * 100,
        "ratio_of_medians": results[first]["rps"]["median"] / results[second]["rps"]["median"],
        "goal_percent": 5.0,
    }
    print(
        f"{first} / {second}: median of per-round ratios {ratio:.3f} (range {min(paired):.3f}–{max(paired):.3f};"
        f" ratio of medians {overhead['ratio_of_medians']:.3f}) → overhead {overhead['overhead_percent']:.1f}%;"
        " goal ≤ 5%"
    )
    print(f"server CPU per request, {first} / {second}: median of per-round ratios {cpu_ratio:.3f}")
    print(f"requests counted in request_metrics: {counted}")
    print(f"1-minute load average before/after: {load_before:.2f}/{load_after:.2f} on {os.cpu_count()} cores")
    request_us = 1e6 / results[second]["rps"]["median"]  # one busy worker: ≈ CPU per request
    costs["record_share_of_request_percent"] = costs["record_us"] / request_us * 100
    print(
        f"in-process: record() {costs['record_us']:.2f} µs per request"
        f" ({costs['record_share_of_request_percent']:.2f}% of the {request_us:.0f} µs a request takes);"
        f" one flush {costs['flush_ms_median']:.2f} ms (at most one per second here)"
    )
    data = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "flush_seconds": 1,
        "control": args.control,
        "results": results,
        "overhead": overhead,
        "requests_counted": counted,
        "in_process": costs,
        "load_average_1m": {"before": load_before, "after": load_after},
    }
    print("saved", save("metrics_overhead_control" if args.control else "metrics_overhead", data))


if __name__ == "__main__":
    main()
