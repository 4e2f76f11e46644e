"""An 8-section page personalized with sections written concurrently vs one after another.

The OpenAI stand-in answers every call after a fixed delay (set_delay), as a provider would; the same request runs
with GENERATE_CONCURRENCY 1 (the anchor: one section after another), 4 (the default) and 8, interleaved over
several rounds. Goal: the default at least 2.5x faster than one after another. Wall-clock times on a shared
machine: noisy; the ratio is measured within each round.
Usage: python -m benchmarks.generate_sections [--delay S] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from tests.generate.conftest import faithful, long_page
from tests.standins.openai_server import OpenAIStandIn

from benchmarks.fixture import prepare
from benchmarks.generate_cache import bench_client, ingest_pages, timed
from benchmarks.stats import save, summary

SECTIONS = 8
CONCURRENCY = (1, 4, 8)
BODY = {"task": "personalize", "source": {"page": "reference/manual"}, "refresh": True}


async def measure(delay: float, rounds: int) -> dict[str, Any]:
    db = prepare()
    await ingest_pages(db, {"reference/manual.md": long_page(SECTIONS)})
    seconds: dict[int, list[float]] = {concurrency: [] for concurrency in CONCURRENCY}
    ratios: list[float] = []
    with OpenAIStandIn() as standin:
        standin.respond_with(faithful)
        for round_number in range(rounds + 1):  # round 0 warms up and is not kept
            standin.set_delay(0)
            took: dict[int, float] = {}
            for concurrency in CONCURRENCY:
                async with bench_client(db, standin, generate_concurrency=concurrency) as client:
                    await timed(client, BODY, cached=False)  # imports, pools, the SDK client
                    standin.set_delay(delay)
                    before = len(standin.requests_to("chat"))
                    took[concurrency] = await timed(client, BODY, cached=False) / 1000
                    assert len(standin.requests_to("chat")) - before == SECTIONS
                    standin.set_delay(0)
            if round_number:
                for concurrency, value in took.items():
                    seconds[concurrency].append(value)
                ratios.append(took[1] / took[4])
    return {
        "seconds": {str(concurrency): summary(values) for concurrency, values in seconds.items()},
        "sequential_over_default": summary(ratios),
        "ideal_seconds": {str(c): delay * -(-SECTIONS // c) for c in CONCURRENCY},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.25, help="Seconds the stand-in takes per call.")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(measure(args.delay, args.rounds))
    for concurrency in CONCURRENCY:
        row = result["seconds"][str(concurrency)]
        ideal = result["ideal_seconds"][str(concurrency)]
        print(f"concurrency {concurrency}: median {row['median']:.3f} s (min {row['min']:.3f}, ideal {ideal:.2f})")
    ratio = result["sequential_over_default"]
    print(f"one after another / default (4): median {ratio['median']:.2f}x (min {ratio['min']:.2f}x); goal >= 2.5x")
    path = save(
        "generate_sections", {"sections": SECTIONS, "delay_seconds": args.delay, "rounds": args.rounds, **result}
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
