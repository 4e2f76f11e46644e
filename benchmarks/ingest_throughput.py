"""Ingest throughput on the AWS docs corpus (1,539 pages) with EMBEDDINGS=none and local, and unchanged re-ingests.

Reports pages/s and chunks/s, and an unchanged re-ingest against the first ingest of the same book in the same run
(goal: at most 5% of its time); each round re-ingests the unchanged corpus several times (--again) for a median.
Embedding the whole corpus on the CPU takes many minutes, so `local` ingests a sample of pages (--embed-pages,
every n-th page of the corpus) and the full-corpus figure is an extrapolation from it, labelled as such.
Usage: python -m benchmarks.ingest_throughput [--data PATH] [--embed-pages N] [--rounds R] [--again A]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.fixture import BenchDatabase, prepare
from benchmarks.stats import save, summary
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, IngestReport, ingest_book
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = "aws-docs-corpus"


def default_data() -> Path | None:
    shared = ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None


def own_database(prefix: str) -> BenchDatabase:
    """A benchmark database in a folder of its own (by prefix), removed when the run ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    # Registered before the server starts, so it runs after the server's own stop hook.
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return prepare(folder)


def corpus_folder(data: Path) -> Path:
    folder = data / CORPUS
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: pass --data pointing at the folder that holds {CORPUS}/")
    return folder


def sample_corpus(corpus: Path, pages: int, into: Path) -> Path:
    """Every n-th Markdown page of the corpus (sorted paths), copied with its folders, about `pages` in all."""
    files = sorted(corpus.rglob("*.md"))
    step = max(1, len(files) // pages)
    for file in files[::step][:pages]:
        target = into / file.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    return into


async def timed_ingest(engine: Any, root: Path, book: str, embedder: Embedder | None) -> tuple[float, IngestReport]:
    started = time.perf_counter()
    report = await ingest_book(engine, root, IngestOptions(book=book), embedder=embedder)
    return time.perf_counter() - started, report


async def unchanged_runs(engine: Any, root: Path, book: str, embedder: Embedder | None, runs: int) -> list[float]:
    """Seconds of `runs` re-ingests of an unchanged tree; each must write and embed nothing."""
    times = []
    for _ in range(runs):
        seconds, report = await timed_ingest(engine, root, book, embedder)
        assert report.pages_written == report.pages_embedded == 0 and len(report.plan.changed) == 0
        times.append(seconds)
    return times


def rates(seconds: float, report: IngestReport) -> dict[str, float]:
    return {
        "seconds": seconds,
        "pages": report.pages_written,
        "chunks": report.chunks_written,
        "pages_per_s": report.pages_written / seconds,
        "chunks_per_s": report.chunks_written / seconds,
    }


async def run(data: Path, embed_pages: int, rounds: int, again_runs: int) -> dict[str, Any]:
    corpus = corpus_folder(data)
    db = own_database("lectern-ingest-db-")
    base: dict[str, Any] = {"database_url": db.url, "app_env": "test"}
    database = Database(Settings(**base))
    engine = await database.engine()
    results: dict[str, Any] = {"corpus_pages": len(list(corpus.rglob("*.md"))), "unchanged_runs_per_round": again_runs}

    # EMBEDDINGS=none: the whole corpus, `rounds` times into fresh books, each followed by unchanged runs.
    none_runs: list[dict[str, float]] = []
    none_again: list[list[float]] = []
    for round_ in range(rounds):
        seconds, report = await timed_ingest(engine, corpus, f"none-{round_}", None)
        assert report.ok, report.failures[:3]
        agains = await unchanged_runs(engine, corpus, f"none-{round_}", None, again_runs)
        none_runs.append(rates(seconds, report))
        none_again.append(agains)
        print(
            f"none: {seconds:.1f} s for {report.pages_written} pages; unchanged again: "
            + ", ".join(f"{again:.3f} s" for again in agains),
            flush=True,
        )
    shares = [statistics.median(agains) / r["seconds"] for agains, r in zip(none_again, none_runs, strict=True)]
    results["none"] = {
        "runs": none_runs,
        "seconds": summary([r["seconds"] for r in none_runs]),
        "pages_per_s": statistics.median(r["pages_per_s"] for r in none_runs),
        "chunks_per_s": statistics.median(r["chunks_per_s"] for r in none_runs),
        "unchanged_runs": none_again,
        "unchanged_seconds": summary([again for agains in none_again for again in agains]),
        "unchanged_share": statistics.median(shares),
        "unchanged_share_range": [min(shares), max(shares)],
    }

    # EMBEDDINGS=local: a sample of the corpus (the model is loaded before the clock starts).
    embedder = embedder_for(Settings(**base, embeddings="local"))
    assert embedder is not None
    await embedder.embed(["warm-up"])
    sample = Path(tempfile.mkdtemp(prefix="lectern-aws-sample-"))
    atexit.register(shutil.rmtree, sample, ignore_errors=True)
    sample_corpus(corpus, embed_pages, sample)
    seconds, report = await timed_ingest(engine, sample, "local-sample", embedder)
    assert report.ok and report.chunks_embedded == report.chunks_written, report.failures[:3]
    again = statistics.median(await unchanged_runs(engine, sample, "local-sample", embedder, again_runs))
    local = rates(seconds, report)
    none_chunks = statistics.median(r["chunks"] for r in none_runs)
    local |= {
        "unchanged_seconds": again,
        "unchanged_share": again / seconds,
        "full_corpus_seconds_extrapolated": none_chunks / local["chunks_per_s"],
        "torch_threads": _torch_threads(),
    }
    results["local_sample"] = local
    print(
        f"local: {seconds:.1f} s for {report.pages_written} sampled pages ({report.chunks_written} chunks); "
        f"unchanged again: {again:.2f} s",
        flush=True,
    )
    await database.dispose()
    return results


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def table(results: dict[str, Any]) -> str:
    none, local = results["none"], results["local_sample"]
    low, high = none["unchanged_share_range"]
    lines = [
        "| EMBEDDINGS | pages | chunks | first ingest | pages/s | chunks/s | unchanged re-ingest | share of first |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| none (whole corpus, median of {len(none['runs'])}) | {none['runs'][0]['pages']:,} "
        f"| {none['runs'][0]['chunks']:,} | {none['seconds']['median']:.1f} s | {none['pages_per_s']:.0f} "
        f"| {none['chunks_per_s']:.0f} | {none['unchanged_seconds']['median']:.2f} s "
        f"| {none['unchanged_share']:.1%} ({low:.1%}–{high:.1%}) |",
        f"| local MiniLM (sample) | {local['pages']:,} | {local['chunks']:,} | {local['seconds']:.1f} s "
        f"| {local['pages_per_s']:.1f} | {local['chunks_per_s']:.1f} | {local['unchanged_seconds']:.2f} s "
        f"| {local['unchanged_share']:.1%} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="The shared data folder (../shared/data).")
    parser.add_argument("--embed-pages", type=int, default=150, help="Pages of the corpus ingested with local.")
    parser.add_argument("--rounds", type=int, default=3, help="Whole-corpus runs with EMBEDDINGS=none.")
    parser.add_argument("--again", type=int, default=3, help="Unchanged re-ingests after each first ingest.")
    args = parser.parse_args()
    if args.data is None:
        raise SystemExit(f"no data folder: pass --data pointing at the folder that holds {CORPUS}/")
    results = asyncio.run(run(args.data, args.embed_pages, args.rounds, args.again))
    print(table(results))
    local = results["local_sample"]
    print(
        f"Whole corpus with local embeddings, extrapolated from the sample's chunks/s: "
        f"{local['full_corpus_seconds_extrapolated'] / 60:.0f} min ({os.cpu_count()} cores)"
    )
    print(f"saved {save('ingest_throughput', results)}")


if __name__ == "__main__":
    main()
