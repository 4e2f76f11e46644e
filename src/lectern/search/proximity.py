"""Term proximity: among the best few passages, those where the query's words stand close together move up.

BM25 (and a vector) weighs each word on its own, so two passages of one chapter that both name "Josh Norman" and
"interceptions" score alike however far apart the words are; the one that answers usually has them within a few
words. Each pair of query terms found within WINDOW words adds the rarer-of-the-two's weight over the squared
distance (the pair term of BM25TP, Rasolofo and Savoy 2003). The head of a ranking is re-scored with that
closeness, scaled so the closest passage gains WEIGHT of the best score. docs/decisions/0006 gives the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WINDOW = 8  # words: pairs further apart add nothing
WEIGHT = 0.2  # the closest passage's bonus, as a share of the best passage's score
DEPTH = 10  # passages re-scored: the rest keep their order, below them


@dataclass(frozen=True)
class TermPositions:
    """Where one query term occurs in a chunk (word positions, ascending), and its weight (IDF)."""

    lexeme: str
    idf: float
    positions: tuple[int, ...]


def nearest_distance(left: Sequence[int], right: Sequence[int]) -> int:
    """The smallest gap between a position of `left` and one of `right` (both ascending, neither empty)."""
    i = j = 0
    best = abs(left[0] - right[0])
    while i < len(left) and j < len(right):
        best = min(best, abs(left[i] - right[j]))
        if left[i] < right[j]:
            i += 1
        else:
            j += 1
    return best


def closeness(terms: Sequence[TermPositions], *, window: int = WINDOW) -> float:
    """Σ over pairs of distinct terms at most `window` words apart: min(IDF) / distance²."""
    found = [term for term in terms if term.positions]
    total = 0.0
    for a, first in enumerate(found):
        for second in found[a + 1 :]:
            distance = nearest_distance(first.positions, second.positions)
            if 0 < distance <= window:
                total += min(first.idf, second.idf) / distance**2
    return total


def rerank(
    ranked: Sequence[tuple[int, float]],
    terms: Mapping[int, Sequence[TermPositions]],
    *,
    weight: float = WEIGHT,
    depth: int = DEPTH,
) -> list[tuple[int, float]]:
    """`ranked` (chunk id, score; best first) with its first `depth` re-scored by closeness; ties keep their order.

    A head chunk's score becomes score + weight · best score · closeness / best closeness, so the head still
    ranks above the rest, whose scores are unchanged. `terms` holds each head chunk's query terms.
    """
    head, tail = list(ranked[:depth]), list(ranked[depth:])
    near = [closeness(terms.get(chunk_id, ())) for chunk_id, _ in head]
    closest = max(near, default=0.0)
    if not head or closest <= 0 or weight <= 0:
        return [*head, *tail]
    best = head[0][1]
    rescored = [
        (chunk_id, score + weight * best * nearness / closest)
        for (chunk_id, score), nearness in zip(head, near, strict=True)
    ]
    order = sorted(range(len(rescored)), key=lambda i: -rescored[i][1])  # stable: ties keep their order
    return [*(rescored[i] for i in order), *tail]
