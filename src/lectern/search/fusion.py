"""Fusing the keyword and vector legs into one ranking.

Each candidate comes with both of its scores (a keyword hit's cosine similarity, a vector hit's BM25 score), so
the two methods compared in benchmarks/retrieval_xquad.py see everything: reciprocal rank fusion, which uses
each leg's ranks only, and a convex combination of the two scores, each normalised over the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from lectern.search.repository import Candidate

FusionMethod = Literal["rrf", "convex"]
Normalisation = Literal["minmax", "max"]

RRF_K = 60  # Cormack et al.'s constant, as DocsGPT and quackir use it
VECTOR_WEIGHT = 0.5  # the vector score's share in the convex combination


def admitted(candidates: Sequence[Candidate], min_similarity: float) -> list[Candidate]:
    """The candidates that hold a query term, or whose vector is at least `min_similarity` close to the query's."""
    return [c for c in candidates if c.bm25 > 0 or (c.similarity is not None and c.similarity >= min_similarity)]


def reciprocal_rank_fusion(candidates: Sequence[Candidate], *, k: int = RRF_K) -> list[tuple[int, float]]:
    """Score each chunk Σ 1 / (k + rank) over the legs that rank it (ranks from 1); best first, ties by id."""
    fused = {
        c.chunk_id: sum(1.0 / (k + rank) for rank in (c.keyword_rank, c.vector_rank) if rank is not None)
        for c in candidates
    }
    return _best_first(fused)


def _normalised(scores: Sequence[float], how: Normalisation) -> list[float]:
    """Scores mapped onto [0, 1] over this candidate set: by its minimum and maximum, or by its maximum only."""
    if not scores:
        return []
    high = max(scores)
    low = min(scores) if how == "minmax" else 0.0
    span = high - low
    return [(score - low) / span if span > 0 else (1.0 if score > 0 else 0.0) for score in scores]


def convex_combination(
    candidates: Sequence[Candidate], *, weight: float = VECTOR_WEIGHT, normalisation: Normalisation = "minmax"
) -> list[tuple[int, float]]:
    """Score each chunk (1 − w)·BM25 + w·cosine, each normalised over the candidates; best first, ties by id.

    A chunk without a vector of the query's model counts the lowest similarity among the candidates.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError("weight must be between 0 and 1")
    if not candidates:
        return []
    known = [c.similarity for c in candidates if c.similarity is not None]
    floor = min(known) if known else 0.0
    lexical = _normalised([c.bm25 for c in candidates], normalisation)
    semantic = _normalised([floor if c.similarity is None else c.similarity for c in candidates], "minmax")
    fused = {
        c.chunk_id: (1.0 - weight) * word + weight * meaning
        for c, word, meaning in zip(candidates, lexical, semantic, strict=True)
    }
    return _best_first(fused)


def fuse(candidates: Sequence[Candidate], method: FusionMethod, *, min_similarity: float) -> list[tuple[int, float]]:
    """The candidates as one ranking, by `method`, leaving out vector hits less similar than `min_similarity`."""
    kept = admitted(candidates, min_similarity)
    if method == "convex":
        return convex_combination(kept)
    return reciprocal_rank_fusion(kept)


def _best_first(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
