"""Run the benchmarks in turn: `python -m benchmarks` (each also runs alone: python -m benchmarks.NAME)."""

from __future__ import annotations

import shutil
import subprocess
import sys

BENCHMARKS = ["coldstart", "cpu_per_request", "throughput"]


def main() -> None:
    for name in BENCHMARKS:
        if name == "throughput" and shutil.which("wrk") is None:
            print("skipping throughput: wrk is not installed (apt-get install wrk)")
            continue
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=True)


if __name__ == "__main__":
    main()
