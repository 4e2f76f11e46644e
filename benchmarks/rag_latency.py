"""Latency on the AWS docs corpus (1,539 pages) and on 4× and 16× copies of it: p50/p95 of search (keyword only,
and hybrid with the local all-MiniLM-L6-v2, the query's embedding included), of extractive chat, and of LLM chat
to its first token against the OpenAI stand-in with a fixed delay (the delay is subtracted: what remains is
Lectern's own time). Goal: search p95 ≤ 30 ms at 1×, growing sublinearly with the corpus.

Keyword search reads a budget of postings (lectern.search.bm25); beside it, the same search reading every
posting of the query's terms (exact BM25, the anchor) is timed, and each query's ten scores are compared with it.
Keyword search within two prefixes (a guide, a section) is timed too, beside the same search keeping its heads to the
prefix by looking up each one's page (bm25.JOIN_FACTOR = 0, the anchor).

The corpus is ingested once with its vectors (cached on disk between runs: embedding it on the CPU takes many
minutes); the copies are made in SQL, as further books with the same pages, chunks and vectors (the triggers of
migration 0007 index them as they would any chunk). Each scale is vacuumed and analysed before it is measured,
as autovacuum would soon do. Questions are section titles of the corpus, sampled with a fixed seed; the 16× copy
uses fewer of them.
Usage: python -m benchmarks.rag_latency [--data PATH] [--queries N] [--queries-16x N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from tests.standins.openai_server import OpenAIStandIn

from benchmarks.ingest_throughput import corpus_folder, default_data, own_database
from benchmarks.stats import save
from lectern.chat.schemas import ChatRequest, ReaderContext
from lectern.chat.service import ChatOptions, prepare_answer, write_answer
from lectern.chat.streaming import answer_events
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm import close_clients
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.search import bm25
from lectern.search.service import search_passages
from lectern.settings import Settings

SCALES = (1, 4, 16)
LLM_DELAY = 0.2  # the stand-in waits this long before its first chunk
CACHE = Path(tempfile.gettempdir()) / "lectern-bench-cache"
WARM_UP = 5
# Prefixes of the corpus timed at each scale (chunks at 1x): a whole guide (586) and one section of a guide (218).
PREFIXES = {
    "a guide": "/docs/amazon-sqs-developer-guide/",
    "a section": "/docs/iam-user-guide/reference_aws-services-that-work-with-iam",
}


@dataclass(frozen=True)
class CachedEmbedder(Embedder):
    """The real embedder, with a disk cache of vectors by text, so the corpus is embedded once across runs."""

    cache: dict[str, list[float]] = field(default_factory=dict, compare=False, repr=False)
    calls: list[int] = field(default_factory=list, compare=False, repr=False)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if self.key(t) not in self.cache]
        if missing:
            self.calls.append(len(missing))
            for text, vector in zip(missing, await super().embed(missing), strict=True):
                self.cache[self.key(text)] = vector
        return [self.cache[self.key(t)] for t in texts]

    def load(self, path: Path) -> None:
        if path.is_file():
            self.cache.update(json.loads(path.read_text()))

    def store(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.cache))


_COPY_BOOK = """
WITH copied AS (
    INSERT INTO book_pages (book, locale, source_path, doc_id, title, route, url, description, search_config,
                            content_hash, chunk_count, term_count, embedding_model, embedding_dimensions)
    SELECT %(copy)s, locale, source_path, doc_id, title, route, url, description, search_config,
           content_hash, chunk_count, term_count, embedding_model, embedding_dimensions
    FROM book_pages WHERE book = %(book)s
    RETURNING id, locale, source_path
)
INSERT INTO book_chunks (page_id, ordinal, text, heading_path, anchor, url, locale, char_count, term_count, tsv,
                         embedding)
SELECT copied.id, c.ordinal, c.text, c.heading_path, c.anchor, c.url, c.locale, c.char_count, c.term_count, c.tsv,
       c.embedding
FROM copied
JOIN book_pages AS p ON p.book = %(book)s AND p.locale = copied.locale AND p.source_path = copied.source_path
JOIN book_chunks AS c ON c.page_id = p.id
"""


def grow(libpq: str, copies: int, dimensions: int) -> dict[str, float]:
    """Copy book `aws` until there are `copies` books, then rebuild the HNSW index over all of them."""
    timings: dict[str, float] = {}
    with psycopg.connect(libpq, autocommit=True) as conn:
        have = conn.execute("SELECT count(DISTINCT book) FROM book_pages").fetchone()[0]  # type: ignore[index]
        index = f"ix_book_chunks_embedding_{dimensions}"
        (definition,) = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index]).fetchone()  # type: ignore[misc]
        conn.execute(f"DROP INDEX {index}")
        started = time.perf_counter()
        for number in range(have, copies):
            conn.execute(_COPY_BOOK, {"copy": f"aws-{number}", "book": "aws"})
        timings["copy_seconds"] = time.perf_counter() - started
        vacuum(conn)
        # The graph is built once, in memory (the default 64 MB would spill at 16×).
        conn.execute("SET maintenance_work_mem = '2GB'")
        started = time.perf_counter()
        conn.execute(definition)
        timings["index_seconds"] = time.perf_counter() - started
    return timings


def vacuum(conn: psycopg.Connection) -> None:
    for table in ("book_pages", "book_chunks", "book_postings", "book_terms", "book_locales"):
        conn.execute(f"VACUUM ANALYZE {table}")


@contextmanager
def lookups_only() -> Iterator[None]:
    """Keyword search under a prefix keeping its heads to the scope by looking up each one's page (no join)."""
    factor = bm25.JOIN_FACTOR
    bm25.JOIN_FACTOR = 0.0
    try:
        yield
    finally:
        bm25.JOIN_FACTOR = factor


@contextmanager
def every_posting() -> Iterator[None]:
    """Keyword search reading every posting of the query's terms: exact BM25, whatever the corpus's size."""
    budget = bm25.MIN_POSTINGS
    bm25.MIN_POSTINGS = 2**31 - 1
    try:
        yield
    finally:
        bm25.MIN_POSTINGS = budget


def questions(libpq: str, count: int) -> list[str]:
    """Section titles of the corpus, as a reader might type them, sampled with a fixed seed."""
    with psycopg.connect(libpq) as conn:
        titles = sorted(
            {
                row[0]
                for row in conn.execute(
                    "SELECT heading_path[cardinality(heading_path)] FROM book_chunks c"
                    " JOIN book_pages p ON p.id = c.page_id WHERE p.book = 'aws'"
                )
                if 3 <= len(row[0].split()) <= 12
            }
        )
    return random.Random(20261204).sample(titles, count)


def percentiles(milliseconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(milliseconds, n=100, method="inclusive")
    return {"p50": statistics.median(milliseconds), "p95": cuts[94], "n": len(milliseconds)}


async def measure(queries: Sequence[str], call: Callable[[str], Awaitable[float | None]]) -> dict[str, float]:
    """Milliseconds per query (the call may return its own measure in seconds, else it is timed whole)."""
    for query in queries[:WARM_UP]:
        await call(query)
    found = []
    for query in queries:
        started = time.perf_counter()
        own = await call(query)
        found.append((own if own is not None else time.perf_counter() - started) * 1000)
    return percentiles(found)


async def scale_run(
    database: Database,
    queries: Sequence[str],
    keyword: Settings,
    hybrid: Settings,
    llm: Settings,
    embedder: Embedder,
    server: OpenAIStandIn,
) -> dict[str, Any]:
    async def search(settings: Settings, query: str, prefix: str | None = None) -> None:
        async with database.read_session() as session:
            await search_passages(session, query, k=10, prefix=prefix, settings=settings)

    async def looked_up(query: str, prefix: str) -> None:
        with lookups_only():
            await search(keyword, query, prefix)

    async def exhaustive(query: str) -> None:
        with every_posting():
            await search(keyword, query)

    async def embed_only(query: str) -> None:
        await embedder.embed([query])

    async def extractive(query: str) -> None:
        async with database.read_session() as session:
            prepared = await prepare_answer(
                session,
                ChatRequest(message=query),
                ReaderContext(),
                ChatOptions.from_settings(keyword),
                partial(search_passages, settings=keyword),
            )
        await write_answer(prepared, keyword)

    async def first_token(query: str) -> float:
        started = time.perf_counter()
        async with database.read_session() as session:
            prepared = await prepare_answer(
                session,
                ChatRequest(message=query),
                ReaderContext(),
                ChatOptions.from_settings(llm),
                partial(search_passages, settings=llm),
            )

        async def record(*_: object) -> None:
            return None

        async with aclosing(answer_events(prepared, llm, record)) as frames:
            async for frame in frames:
                if frame.startswith("event: token"):
                    return time.perf_counter() - started - LLM_DELAY
        raise AssertionError("the answer had no token")

    server.set_delay(LLM_DELAY)
    within = {}
    for name, prefix in PREFIXES.items():
        within[f"search: keyword, prefix {name}"] = await measure(queries, lambda q, p=prefix: search(keyword, q, p))
        within[f"search: keyword, prefix {name}, heads looked up (anchor)"] = await measure(
            queries, lambda q, p=prefix: looked_up(q, p)
        )
    return {
        "search: keyword": await measure(queries, lambda q: search(keyword, q)),
        "search: keyword, every posting read (exact)": await measure(queries, exhaustive),
        **within,
        "search: hybrid": await measure(queries, lambda q: search(hybrid, q)),
        "of which: query embedding": await measure(queries, embed_only),
        "chat: extractive": await measure(queries, extractive),
        "chat: LLM, first token minus the stand-in's delay": await measure(queries, first_token),
    }


async def agreement(database: Database, queries: Sequence[str], keyword: Settings) -> dict[str, float]:
    """How often the budgeted keyword search returns the exact top ten (scores compared, ties by any chunk)."""
    same_ten = same_first = 0
    shares = []
    for query in queries:
        async with database.read_session() as session:
            found = [r.score for r in (await search_passages(session, query, k=10, settings=keyword)).results]
            with every_posting():
                exact = [r.score for r in (await search_passages(session, query, k=10, settings=keyword)).results]
        same_ten += [round(s, 9) for s in found] == [round(s, 9) for s in exact]
        same_first += bool(found) == bool(exact) and (not found or round(found[0], 9) == round(exact[0], 9))
        if exact:
            shares.append(sum(found) / sum(exact))
    return {
        "same_top10": same_ten / len(queries),
        "same_top1": same_first / len(queries),
        "score_share_mean": statistics.mean(shares),
        "score_share_min": min(shares),
    }


async def run(data: Path, count: int, count_16x: int) -> dict[str, Any]:
    corpus = corpus_folder(data)
    db = own_database("lectern-latency-db-")
    libpq = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
    base: dict[str, Any] = {"database_url": db.url, "app_env": "test", "chat_quota_per_ip_per_hour": 0}
    keyword = Settings(**base)
    hybrid = Settings(**base, embeddings="local")
    real = embedder_for(hybrid)
    assert real is not None
    embedder = CachedEmbedder(real.model, real.dimensions, real.batch_size, real.settings)
    cache = CACHE / f"aws-{real.model.replace(':', '-').replace('@', '-')}.json"
    embedder.load(cache)
    database = Database(keyword)
    started = time.perf_counter()
    report = await ingest_book(await database.engine(), corpus, IngestOptions(book="aws"), embedder=embedder)
    assert report.ok, report.failures[:3]
    embedder.store(cache)
    seconds = time.perf_counter() - started
    print(
        f"ingested {report.pages_written} pages, {report.chunks_written} chunks in {seconds:.0f} s"
        f" ({sum(embedder.calls)} texts embedded, the rest from the cache)",
        flush=True,
    )
    with psycopg.connect(libpq, autocommit=True) as conn:
        vacuum(conn)
    all_queries = questions(libpq, count)
    results: dict[str, Any] = {
        "pages": report.pages_written,
        "chunks": report.chunks_written,
        "ingest_seconds": seconds,
        "texts_embedded": sum(embedder.calls),  # 0 when every vector came from the cache
        "scales": {},
    }
    with OpenAIStandIn() as server:
        llm = Settings(**base, llm_base_url=server.base_url, llm_api_key=server.api_key, llm_model="gpt-4o-mini")
        for scale in SCALES:
            growth = grow(libpq, scale, 384) if scale > 1 else {}
            queries = all_queries if scale < 16 else all_queries[:count_16x]
            print(f"{scale}×: {growth}; {len(queries)} queries", flush=True)
            measured = await scale_run(database, queries, keyword, hybrid, llm, real, server)
            agreed = await agreement(database, queries, keyword)
            results["scales"][f"{scale}x"] = {
                "chunks": report.chunks_written * scale,
                **growth,
                **measured,
                "keyword vs exact BM25": agreed,
            }
            for name, value in measured.items():
                print(f"  {name}: p50 {value['p50']:.1f} ms, p95 {value['p95']:.1f} ms", flush=True)
            print(f"  keyword vs exact BM25: {agreed}", flush=True)
        await close_clients()
    await database.dispose()
    return results


def table(results: dict[str, Any]) -> str:
    scales = results["scales"]
    first = next(iter(scales.values()))
    names = [n for n, v in first.items() if isinstance(v, dict) and "p50" in v]
    header = "| | " + " | ".join(f"{s} ({v['chunks']:,} chunks) p50 / p95" for s, v in scales.items()) + " |"
    lines = [header, "|---|" + "---:|" * len(scales)]
    for name in names:
        cells = [f"{v[name]['p50']:.1f} / {v[name]['p95']:.1f} ms" for v in scales.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    # Answers are read only to their first token, then the stream is closed: the stand-in's writes to the closed
    # socket are expected, and asyncio would warn about each one.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="The shared data folder (../shared/data).")
    parser.add_argument("--queries", type=int, default=200, help="Questions at 1× and 4×.")
    parser.add_argument("--queries-16x", type=int, default=60, help="Questions at 16× (the first of the same set).")
    args = parser.parse_args()
    if args.data is None:
        raise SystemExit("no data folder: pass --data pointing at the folder that holds aws-docs-corpus/")
    results = asyncio.run(run(args.data, args.queries, args.queries_16x))
    print(table(results))
    print(f"saved {save('rag_latency', results)}")


if __name__ == "__main__":
    main()
