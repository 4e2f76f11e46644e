"""POST /api/generate served from a reader's stored result (a cache hit) vs generated again (a miss), in-process.

The app runs over ASGI on the embedded PostgreSQL, its model the OpenAI stand-in over real loopback HTTP (no added
latency, so a miss costs only Lectern's own work plus one local HTTP round trip per section). Goal: hit p95
at most 15 ms. Wall-clock times on a shared machine: noisy; read the ratio against the miss in the same run.
Usage: python -m benchmarks.generate_cache [--hits N] [--misses N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from tests.generate.conftest import faithful
from tests.standins.openai_server import OpenAIStandIn

from benchmarks.fixture import BenchDatabase, prepare
from benchmarks.stats import save, summary
from lectern.app import create_app
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm import close_clients
from lectern.settings import Settings

MODEL = "gpt-4o-mini"
SECTION = (
    "## {title}\n\nA reader signs in with a password and gets an access token that lasts fifteen minutes. "
    "Refresh tokens rotate on every use, and a reused one revokes its family. See the "
    "[security guide](https://book.example/docs/security) for the threat model.\n\n"
    "```python\nclient.refresh(token)  # rotates\n```\n"
)
PAGE = "# Sessions\n\nHow readers stay signed in.\n\n" + "\n".join(
    SECTION.format(title=title) for title in ("Tokens", "Refresh", "Storage")
)
BODY = {"task": "personalize", "source": {"page": "guides/sessions"}}


async def ingest_pages(db: BenchDatabase, pages: dict[str, str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="lectern-bench-book-"))
    for relative, text in pages.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    database = Database(Settings(database_url=db.url, jwt_secret=db.jwt_secret))  # type: ignore[arg-type]
    try:
        report = await ingest_book(await database.engine(), root, IngestOptions(base_url="https://book.example"))
        assert report.ok, report.failures
    finally:
        await database.dispose()


@asynccontextmanager
async def bench_client(db: BenchDatabase, standin: OpenAIStandIn, **overrides: Any) -> AsyncIterator[AsyncClient]:
    """An app on the benchmark database, its model the stand-in, quotas off; a client signed in as the reader."""
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": db.url,
        "jwt_secret": db.jwt_secret,
        "log_level": "WARNING",
        "llm_base_url": standin.base_url,
        "llm_api_key": standin.api_key,
        "llm_model": MODEL,
        "generate_requests_per_hour": 0,
        "generate_daily_tokens_per_reader": 0,
        **overrides,
    }
    app = create_app(Settings(**values))
    headers = {"Authorization": f"Bearer {db.token}"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench", headers=headers) as client:
            yield client
    finally:
        await app.state.database.dispose()
        await close_clients()


async def timed(client: AsyncClient, body: dict[str, Any], *, cached: bool) -> float:
    started = time.perf_counter()
    response = await client.post("/api/generate", json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json()["cached"] is cached
    return elapsed * 1000


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


async def measure(hits: int, misses: int) -> dict[str, Any]:
    db = prepare()
    await ingest_pages(db, {"guides/sessions.md": PAGE})
    with OpenAIStandIn() as standin:
        standin.respond_with(faithful)
        async with bench_client(db, standin) as client:
            for _ in range(10):  # warm-up: imports, pools, the SDK client
                await timed(client, {**BODY, "refresh": True}, cached=False)
                await timed(client, BODY, cached=True)
            miss_ms = [await timed(client, {**BODY, "refresh": True}, cached=False) for _ in range(misses)]
            hit_ms = [await timed(client, BODY, cached=True) for _ in range(hits)]
    return {
        "hit_ms": {**summary(hit_ms), "p95": percentile(hit_ms, 0.95), "p99": percentile(hit_ms, 0.99)},
        "miss_ms": {**summary(miss_ms), "p95": percentile(miss_ms, 0.95)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=500)
    parser.add_argument("--misses", type=int, default=50)
    args = parser.parse_args()
    result = asyncio.run(measure(args.hits, args.misses))
    hit, miss = result["hit_ms"], result["miss_ms"]
    ratio = miss["median"] / hit["median"]
    goal = hit["p95"] <= 15
    print(f"hit:  median {hit['median']:.2f} ms, p95 {hit['p95']:.2f} ms, p99 {hit['p99']:.2f} ms (n={hit['n']})")
    print(f"miss: median {miss['median']:.2f} ms, p95 {miss['p95']:.2f} ms (n={miss['n']}), {ratio:.1f}x a hit")
    print(f"goal hit p95 <= 15 ms: {'met' if goal else 'NOT met'}")
    path = save("generate_cache", {"hits": args.hits, "misses": args.misses, **result, "miss_over_hit": ratio})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
