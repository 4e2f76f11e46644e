"""Run the benchmarks in turn: `python -m benchmarks` (each also runs alone: python -m benchmarks.NAME)."""

from __future__ import annotations

import shutil
import subprocess
import sys

BENCHMARKS = ["coldstart", "cpu_per_request", "throughput", "metrics_overhead", "deploy_upload"]
NEEDS_WRK = {"throughput", "metrics_overhead"}


def main() -> None:
    for name in BENCHMARKS:
        if name in NEEDS_WRK and shutil.which("wrk") is None:
            print(f"skipping {name}: wrk is not installed (apt-get install wrk)")
            continue
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=True)


if __name__ == "__main__":
    main()
