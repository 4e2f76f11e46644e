"""Retrieval quality on XQuAD English: 240 paragraphs as pages, 1,190 questions, the question's paragraph is gold.

Lectern's keyword search (BM25 in SQL), its vector leg (local all-MiniLM-L6-v2, HNSW) and its hybrid search
(both fused), beside two anchors computed in the same run on the same chunks: BM25 from the bm25s package
(Snowball stemmer, English stopwords, the same k1 and b) and exact cosine similarity over the same vectors.
Recall@1/5/10, MRR@10 and nDCG@10 at page level (a page's best chunk counts). Fusion settings are compared
on the same candidate lists, with two-fold cross-validation over articles so the chosen setting is scored on
questions it was not chosen on.
Usage: python -m benchmarks.retrieval_xquad [--data PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.ingest_throughput import default_data, own_database
from benchmarks.stats import save
from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.llm.embeddings import Embedder, embedder_for
from lectern.search import bm25, fusion, proximity, repository
from lectern.search.service import candidate_depth, search_passages
from lectern.settings import Settings

CUTOFFS = (1, 5, 10)
DEPTH = 10  # pages ranked per question
CHUNKS = 20  # chunks asked for, so that DEPTH distinct pages remain after merging a page's chunks
RRF_KS = (20, 60)
CONVEX_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
THRESHOLDS = (-1.0, 0.1, 0.2, 0.3)
NORMALISATIONS: tuple[fusion.Normalisation, ...] = ("minmax", "max")
PROXIMITY_WEIGHTS = (0.0, 0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Question:
    text: str
    gold: str  # the source path of its paragraph's page
    article: int


def write_book(xquad: Path, folder: Path) -> list[Question]:
    """One page per paragraph, titled with its article (as a book's pages carry their title)."""
    questions: list[Question] = []
    for a, article in enumerate(json.loads(xquad.read_text(encoding="utf-8"))["data"]):
        title = article["title"].replace("_", " ")
        for p, paragraph in enumerate(article["paragraphs"]):
            path = f"docs/a{a:02d}/p{p}.md"
            page = folder / path
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(f"# {title}\n\n{paragraph['context']}\n", encoding="utf-8")
            questions.extend(Question(qa["question"], path, a) for qa in paragraph["qas"])
    return questions


def page_ranking(chunk_pages: Sequence[str]) -> list[str]:
    """Pages in the order of their best chunk."""
    return list(dict.fromkeys(chunk_pages))[:DEPTH]


def metrics(rankings: Sequence[Sequence[str]], questions: Sequence[Question]) -> dict[str, float]:
    ranks = [
        next((i for i, page in enumerate(r, 1) if page == q.gold), None)
        for r, q in zip(rankings, questions, strict=True)
    ]
    found: dict[str, float] = {f"R@{c}": sum(1 for r in ranks if r and r <= c) / len(ranks) for c in CUTOFFS}
    found["MRR@10"] = sum(1 / r for r in ranks if r) / len(ranks)
    found["nDCG@10"] = sum(1 / math.log2(r + 1) for r in ranks if r) / len(ranks)
    found["no hit"] = sum(1 for r in rankings if not r) / len(rankings)
    return found


@dataclass(frozen=True)
class Corpus:
    chunk_page: dict[int, str]
    ids: list[int]
    texts: list[str]
    vectors: list[list[float]]


def read_corpus(libpq: str) -> Corpus:
    with psycopg.connect(libpq) as conn:
        rows = conn.execute(
            "SELECT c.id, p.source_path, c.text, c.embedding::text FROM book_chunks c"
            " JOIN book_pages p ON p.id = c.page_id ORDER BY c.id"
        ).fetchall()
    return Corpus(
        chunk_page={r[0]: r[1] for r in rows},
        ids=[r[0] for r in rows],
        texts=[r[2] for r in rows],
        vectors=[json.loads(r[3]) for r in rows],
    )


def bm25s_anchor(corpus: Corpus, questions: Sequence[Question]) -> list[list[str]]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    index = bm25s.BM25(k1=bm25.K1, b=bm25.B, method="lucene")
    index.index(bm25s.tokenize(corpus.texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([q.text for q in questions], stopwords="en", stemmer=stemmer, show_progress=False)
    found, scores = index.retrieve(tokens, k=CHUNKS, show_progress=False)
    return [
        page_ranking([corpus.chunk_page[corpus.ids[i]] for i, s in zip(row, score_row, strict=True) if s > 0])
        for row, score_row in zip(found, scores, strict=True)
    ]


def cosine_anchor(corpus: Corpus, query_vectors: Sequence[Sequence[float]]) -> list[list[str]]:
    import numpy as np

    chunks = np.asarray(corpus.vectors, dtype=np.float32)
    chunks /= np.linalg.norm(chunks, axis=1, keepdims=True)
    queries = np.asarray(query_vectors, dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    similarity = queries @ chunks.T
    best = np.argsort(-similarity, axis=1, kind="stable")[:, :CHUNKS]
    return [page_ranking([corpus.chunk_page[corpus.ids[i]] for i in row]) for row in best]


Candidates = list[repository.Candidate]
Positions = dict[int, list[proximity.TermPositions]]
Fuser = Callable[[Candidates], list[tuple[int, float]]]


def fusers() -> dict[str, Fuser]:
    """Every fusion setting compared: name -> function of one question's candidates."""
    found: dict[str, Fuser] = {}
    for t in THRESHOLDS:
        for k in RRF_KS:
            found[f"rrf k={k}, min sim {t:g}"] = lambda c, k=k, t=t: fusion.reciprocal_rank_fusion(
                fusion.admitted(c, t), k=k
            )
        for w in CONVEX_WEIGHTS:
            for norm in NORMALISATIONS:
                found[f"convex w={w:g} {norm}, min sim {t:g}"] = lambda c, w=w, n=norm, t=t: fusion.convex_combination(
                    fusion.admitted(c, t), weight=w, normalisation=n
                )
    return found


def keyword_leg(candidates: Candidates) -> list[tuple[int, float]]:
    """The BM25 leg of the candidates alone, best first."""
    hits = sorted((c for c in candidates if c.keyword_rank is not None), key=lambda c: c.keyword_rank or 0)
    return [(c.chunk_id, c.bm25) for c in hits]


async def collect(
    engine: AsyncEngine,
    questions: Sequence[Question],
    query_vectors: Sequence[list[float]],
    embedder: Embedder,
    corpus: Corpus,
    keyword_settings: Settings,
    hybrid_settings: dict[str, Settings],
) -> dict[str, Any]:
    keyword: list[list[str]] = []
    vector: list[list[str]] = []
    product: dict[str, list[list[str]]] = {name: [] for name in hybrid_settings}
    candidates: list[Candidates] = []
    positions: list[Positions] = []
    timings: dict[str, list[float]] = {"keyword": [], "candidates": [], **{name: [] for name in hybrid_settings}}
    async with AsyncSession(engine) as session:
        for question, vector_ in zip(questions, query_vectors, strict=True):
            started = time.perf_counter()
            found = await search_passages(session, question.text, k=CHUNKS, settings=keyword_settings)
            timings["keyword"].append(time.perf_counter() - started)
            keyword.append(page_ranking([r.source_path for r in found.results]))
            started = time.perf_counter()
            legs = await repository.candidates(
                session, question.text, vector_, model=embedder.model, depth=candidate_depth(CHUNKS)
            )
            timings["candidates"].append(time.perf_counter() - started)
            candidates.append(legs)
            positions.append(await repository.term_positions(session, question.text, [c.chunk_id for c in legs]))
            by_vector = sorted((c for c in legs if c.vector_rank is not None), key=lambda c: c.vector_rank or 0)
            vector.append(page_ranking([corpus.chunk_page[c.chunk_id] for c in by_vector][:CHUNKS]))
            for name, settings in hybrid_settings.items():
                started = time.perf_counter()
                found = await search_passages(session, question.text, k=CHUNKS, settings=settings)
                timings[name].append(time.perf_counter() - started)
                product[name].append(page_ranking([r.source_path for r in found.results]))
    return {
        "keyword": keyword,
        "vector": vector,
        "product": product,
        "candidates": candidates,
        "positions": positions,
        "timings": timings,
    }


def fused_rankings(
    fuser: Fuser, candidates: Sequence[Candidates], positions: Sequence[Positions], corpus: Corpus, weight: float
) -> list[list[str]]:
    """Page rankings from each question's candidates, fused, then re-scored by proximity as search does."""
    return [
        page_ranking([corpus.chunk_page[i] for i, _ in proximity.rerank(fuser(c)[:CHUNKS], p, weight=weight)])
        for c, p in zip(candidates, positions, strict=True)
    ]


def cross_validate(
    rankings: dict[str, list[list[str]]], questions: Sequence[Question], key: str = "MRR@10"
) -> dict[str, Any]:
    """Choose the setting on even articles and score it on odd ones, and the other way round."""
    folds = [[i for i, q in enumerate(questions) if q.article % 2 == parity] for parity in (0, 1)]
    held_out: list[list[str]] = [[] for _ in questions]
    chosen = []
    for train, test in (folds, folds[::-1]):
        scores = {
            name: metrics([r[i] for i in train], [questions[i] for i in train])[key] for name, r in rankings.items()
        }
        best = max(sorted(scores), key=lambda name: scores[name])
        chosen.append(best)
        for i in test:
            held_out[i] = rankings[best][i]
    return {"chosen per fold": chosen, "held-out": metrics(held_out, questions)}


def table(rows: dict[str, dict[str, float]]) -> str:
    columns = [*[f"R@{c}" for c in CUTOFFS], "MRR@10", "nDCG@10"]
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{m[c]:.3f}" for c in columns) + " |" for name, m in rows.items()]
    return "\n".join(lines)


async def run(data: Path, limit: int | None) -> dict[str, Any]:
    db = own_database("lectern-xquad-db-")
    libpq = db.url.replace("postgresql+psycopg://", "postgresql://", 1)
    base = {"database_url": db.url, "app_env": "test"}
    keyword_settings = Settings(**base, embeddings="none")
    local = Settings(**base, embeddings="local")
    embedder = embedder_for(local)
    assert embedder is not None
    hybrid_settings = {
        "hybrid (rrf)": Settings(**base, embeddings="local", search_fusion="rrf"),
        "hybrid (convex)": Settings(**base, embeddings="local", search_fusion="convex"),
    }
    folder = Path(tempfile.mkdtemp(prefix="lectern-xquad-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    questions = write_book(data / "xquad" / "xquad.en.json", folder)
    if limit:
        questions = questions[:: max(1, len(questions) // limit)][:limit]
    database = Database(local)
    engine = await database.engine()
    started = time.perf_counter()
    report = await ingest_book(engine, folder, IngestOptions(), embedder=embedder)
    ingest_seconds = time.perf_counter() - started
    assert report.ok, report.failures
    corpus = read_corpus(libpq)
    print(
        f"{report.pages_written} pages, {report.chunks_written} chunks, embedded in {ingest_seconds:.0f} s", flush=True
    )
    started = time.perf_counter()
    query_vectors = await embedder.embed([q.text for q in questions])
    embed_seconds = time.perf_counter() - started
    found = await collect(engine, questions, query_vectors, embedder, corpus, keyword_settings, hybrid_settings)
    await database.dispose()

    candidates: list[Candidates] = found["candidates"]
    gold_similarity = []
    for question, legs in zip(questions, candidates, strict=True):
        gold = [
            c.similarity
            for c in legs
            if c.vector_rank is not None and c.similarity is not None and corpus.chunk_page[c.chunk_id] == question.gold
        ]
        gold_similarity.append(max(gold) if gold else None)
    positions: list[Positions] = found["positions"]
    variants = {
        f"{name}, proximity {weight:g}": fused_rankings(f, candidates, positions, corpus, weight)
        for name, f in fusers().items()
        for weight in PROXIMITY_WEIGHTS
    }
    keyword_variants = {
        f"keyword, proximity {weight:g}": fused_rankings(keyword_leg, candidates, positions, corpus, weight)
        for weight in PROXIMITY_WEIGHTS
    }
    bm25_alone = keyword_variants["keyword, proximity 0"]
    rows = {
        "anchor: BM25 (bm25s)": metrics(bm25s_anchor(corpus, questions), questions),
        "anchor: cosine, exact (MiniLM)": metrics(cosine_anchor(corpus, query_vectors), questions),
        "Lectern BM25 leg alone (SQL)": metrics(bm25_alone, questions),
        "Lectern keyword (BM25 + proximity)": metrics(found["keyword"], questions),
        "Lectern vector (MiniLM, HNSW)": metrics(found["vector"], questions),
        **{f"Lectern {name}": metrics(r, questions) for name, r in found["product"].items()},
    }
    variant_metrics = {name: metrics(r, questions) for name, r in {**keyword_variants, **variants}.items()}
    # The product path (search_passages) must rank exactly as the same fusion computed here from its candidates.
    min_similarity = hybrid_settings["hybrid (convex)"].search_min_similarity
    product_fusion = f"convex w={fusion.VECTOR_WEIGHT:g} minmax, min sim {min_similarity:g},"
    default = f"{product_fusion} proximity {proximity.WEIGHT:g}"
    same = variants[default] == found["product"]["hybrid (convex)"]
    return {
        "questions": len(questions),
        "pages": report.pages_written,
        "chunks": report.chunks_written,
        "model": embedder.model,
        "ingest_seconds": ingest_seconds,
        "query_embedding_ms_mean": embed_seconds / len(questions) * 1000,
        "methods": rows,
        "fusion_variants": variant_metrics,
        "product_matches_offline_fusion": same,
        "cross_validation": {
            "by MRR@10": cross_validate(variants, questions),
            "by R@1": cross_validate(variants, questions, "R@1"),
            "keyword, by MRR@10": cross_validate(keyword_variants, questions),
            # The fusion setting fixed at the product's (chosen before proximity existed), only its weight chosen.
            "proximity weight with the product's fusion, by R@1": cross_validate(
                {name: r for name, r in variants.items() if name.startswith(product_fusion)}, questions, "R@1"
            ),
        },
        "gold_similarity": {
            "found in the vector leg": sum(1 for s in gold_similarity if s is not None) / len(questions),
            **{
                f"below {t:g}": sum(1 for s in gold_similarity if s is not None and s < t) / len(questions)
                for t in THRESHOLDS[1:]
            },
            "median": statistics.median(s for s in gold_similarity if s is not None),
        },
        "search_ms_median": {name: statistics.median(t) * 1000 for name, t in found["timings"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data(), help="The shared data folder (../shared/data).")
    parser.add_argument("--limit", type=int, default=None, help="Only N questions, spread over the articles.")
    args = parser.parse_args()
    if args.data is None or not (args.data / "xquad" / "xquad.en.json").is_file():
        raise SystemExit("XQuAD not found: pass --data pointing at the folder that holds xquad/xquad.en.json")
    results = asyncio.run(run(args.data, args.limit))
    print(table(results["methods"]))
    best = sorted(results["fusion_variants"].items(), key=lambda item: -item[1]["MRR@10"])[:8]
    print("\nBest fusion settings on all questions:\n" + table(dict(best)))
    print("\nCross-validated:", json.dumps(results["cross_validation"], indent=1))
    print("Gold chunk's cosine similarity:", results["gold_similarity"])
    print("Median search time (ms):", {k: round(v, 1) for k, v in results["search_ms_median"].items()})
    print(f"saved {save('retrieval_xquad', results)}")


if __name__ == "__main__":
    main()
