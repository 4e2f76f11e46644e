"""Run the benchmarks in turn: `python -m benchmarks` (each also runs alone: python -m benchmarks.NAME)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from benchmarks.ingest_throughput import default_data

BENCHMARKS = [
    "coldstart",
    "cpu_per_request",
    "throughput",
    "metrics_overhead",
    "deploy_upload",
    "generate_cache",
    "generate_sections",
    "retrieval_xquad",
    "chunk_size",
    "ingest_throughput",
    "rag_latency",
]
NEEDS_WRK = {"throughput", "metrics_overhead"}
# These read ../shared/data (XQuAD, the AWS docs corpus); each also takes --data.
NEEDS_DATA = {"retrieval_xquad", "chunk_size", "ingest_throughput", "rag_latency"}


def main() -> None:
    for name in BENCHMARKS:
        if name in NEEDS_WRK and shutil.which("wrk") is None:
            print(f"skipping {name}: wrk is not installed (apt-get install wrk)")
            continue
        if name in NEEDS_DATA and default_data() is None:
            print(f"skipping {name}: no ../shared/data here (run it alone with --data PATH)")
            continue
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=True)


if __name__ == "__main__":
    main()
