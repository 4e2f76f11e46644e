"""All SQL for search: BM25 over the postings of the query's lexemes (lectern.search.bm25), and the chunks
nearest to a query vector, found through the HNSW index of their size."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.ingest.store import vector_expression, vector_literal
from lectern.search import bm25
from lectern.search.proximity import TermPositions

# ts_headline wraps matches in these private-use characters (stripped from the text first): the
# service escapes the snippet as HTML and only then turns them into <mark> tags.
MARK_START = "\ue000"
MARK_END = "\ue001"
_HEADLINE = (
    f'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=18, MinWords=6, MaxFragments=2, FragmentDelimiter=" … "'
)

# The best chunks with their pages, and snippets for those only.
_KEYWORD_HITS = """
SELECT r.chunk_id, r.score, c.page_id, p.title, c.url, c.heading_path, p.source_path,
       ts_headline(
           CAST(p.search_config AS regconfig),
           translate(regexp_replace(c.text, '^[^\\n]*\\n\\n', ''), :markers, ''),
           q.query,
           :headline
       ) AS snippet
FROM ranked AS r
JOIN book_chunks AS c ON c.id = r.chunk_id
JOIN book_pages AS p ON p.id = c.page_id
JOIN queries AS q ON q.locale = c.locale
ORDER BY r.score DESC, r.chunk_id
"""

# The scope's filters, chosen from these fixed fragments only: values always travel as parameters. The locale
# filters both the pages (`p`) and the locales whose totals and counters weigh the terms (`l`).
_LOCALE = "lower({table}.locale) = lower(:locale)"
_PREFIX = (
    "(starts_with(p.url, :prefix)"
    " OR starts_with(regexp_replace(p.url, '^[a-z][a-z0-9+.-]*://[^/]*', '', 'i'), :prefix))"
)


@dataclass(frozen=True)
class KeywordHit:
    """A ranked chunk with its page, and a snippet whose matches sit between MARK_START and MARK_END."""

    chunk_id: int
    score: float
    page_id: uuid.UUID
    title: str
    url: str
    heading_path: list[str]
    source_path: str
    snippet: str


@dataclass(frozen=True)
class _Scope:
    """The scope's filters, on locales' totals (`l`) and on pages (`p`), and whether a prefix narrows it."""

    locales: str
    pages: str
    prefix: bool

    def ranking(self) -> str:
        """The BM25 CTEs over this scope."""
        ctes = bm25.ranking(prefix=self.prefix)
        return ctes.replace("{languages}", self.locales).replace("{scope}", self.pages)


def _scope(locale: str | None, prefix: str | None, params: dict[str, object]) -> _Scope:
    """The scope's filters, chosen from the fixed fragments; their values go into `params`."""
    locales, pages = ["true"], ["true"]
    if locale is not None:
        locales.append(_LOCALE.replace("{table}", "l"))
        pages.append(_LOCALE.replace("{table}", "p"))
        params["locale"] = locale
    if prefix is not None:
        pages.append(_PREFIX)
        params["prefix"] = prefix
    return _Scope(" AND ".join(locales), " AND ".join(pages), prefix is not None)


async def keyword_hits(
    session: AsyncSession, query: str, *, k: int, locale: str | None = None, prefix: str | None = None
) -> list[KeywordHit]:
    """The `k` best chunks for `query` among the pages in scope (locale, URL or path prefix)."""
    params = {**bm25.parameters(query, k), "markers": MARK_START + MARK_END, "headline": _HEADLINE}
    statement = text(_scope(locale, prefix, params).ranking() + _KEYWORD_HITS)
    rows = await session.execute(statement, params)
    return [KeywordHit(*row) for row in rows]


# The chunks nearest to the query vector among the pages in scope whose vectors come from the query's model,
# found one of two ways, chosen by the scope's size (each branch runs only when its one-time filter holds):
# - A small scope (a narrow prefix, a small book) is scanned exactly: ordering by the bare column, which no
#   index serves, computes the distance of each of its chunks.
# - A large one goes through the HNSW index of the vectors' size: a partial index on `embedding::vector(n)`, so
#   the query orders by that expression. The scan finds its `ef_search` nearest rows and filters them after,
#   which could leave few; pgvector's iterative scan goes on until the limit is met. SET LOCAL needs a
#   transaction, which GET requests do not open: set_config(..., true) in a one-row subquery that the scan
#   depends on sets both knobs for this statement's own transaction, before the scan starts.
_NEAREST = """,
exact AS (
    SELECT c.id AS chunk_id, 1 - (c.embedding <=> CAST(:embedding AS vector)) AS similarity
    FROM scope AS s
    JOIN book_chunks AS c ON c.page_id = s.id
    WHERE s.embedding_model = :model AND vector_dims(c.embedding) = {dimensions}
      AND (SELECT chunks FROM scope_size) <= :exact_limit
    ORDER BY c.embedding <=> CAST(:embedding AS vector), c.id
    LIMIT :depth
),
indexed AS (
    SELECT n.chunk_id, n.similarity
    FROM (SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative,
                 set_config('hnsw.ef_search', :ef_search, true) AS ef_search) AS knobs,
         LATERAL (
             SELECT c.id AS chunk_id, 1 - ({column} <=> {vector}) AS similarity
             FROM book_chunks AS c
             JOIN book_pages AS p ON p.id = c.page_id
             WHERE vector_dims(c.embedding) = {dimensions} AND p.embedding_model = :model AND {scope}
               AND knobs.iterative IS NOT NULL AND knobs.ef_search IS NOT NULL
             ORDER BY {column} <=> {vector}
             LIMIT :depth
         ) AS n
    WHERE (SELECT chunks FROM scope_size) > :exact_limit
),
nearest AS (
    SELECT chunk_id, row_number() OVER (ORDER BY similarity DESC, chunk_id) AS rank
    FROM (SELECT chunk_id, similarity FROM exact UNION ALL SELECT chunk_id, similarity FROM indexed) AS found
),
pool AS (
    SELECT chunk_id FROM ranked UNION SELECT chunk_id FROM nearest
)
-- Each candidate with both scores: a keyword hit's cosine similarity, a vector hit's BM25 score (0: no term).
SELECT pool.chunk_id, r.rank, n.rank, coalesce({bm25}, 0),
       CASE WHEN p.embedding_model = :model AND vector_dims(c.embedding) = {dimensions}
            THEN 1 - (c.embedding <=> CAST(:embedding AS vector)) END
FROM pool
JOIN book_chunks AS c ON c.id = pool.chunk_id
JOIN book_pages AS p ON p.id = c.page_id
LEFT JOIN (SELECT chunk_id, row_number() OVER (ORDER BY score DESC, chunk_id) AS rank FROM ranked) AS r
    ON r.chunk_id = pool.chunk_id
LEFT JOIN nearest AS n ON n.chunk_id = pool.chunk_id
""".replace("{bm25}", bm25.EXACT_SCORE.replace("{chunk}", "pool.chunk_id"))
# Up to this many chunks in scope, the vector leg computes every distance instead of using the HNSW index.
EXACT_SCAN_CHUNKS = 2000


@dataclass(frozen=True)
class Candidate:
    """A chunk found by either leg: its rank in each (None: not in that leg's best), and both of its scores."""

    chunk_id: int
    keyword_rank: int | None
    vector_rank: int | None
    bm25: float  # 0 when it holds none of the query's terms
    similarity: float | None  # cosine similarity; None when it has no vector of the query's model


async def candidates(
    session: AsyncSession,
    query: str,
    vector: list[float],
    *,
    model: str,
    depth: int,
    locale: str | None = None,
    prefix: str | None = None,
) -> list[Candidate]:
    """The `depth` best chunks by BM25 and the `depth` nearest by cosine among `model`'s vectors, in one query."""
    params: dict[str, object] = {
        **bm25.parameters(query, depth),
        "embedding": vector_literal(vector),
        "model": model,
        "depth": depth,
        "ef_search": str(max(40, depth)),
        "exact_limit": EXACT_SCAN_CHUNKS,
    }
    dimensions = len(vector)
    scope = _scope(locale, prefix, params)
    nearest = (
        _NEAREST.replace("{column}", vector_expression(dimensions, "c.embedding"))
        .replace("{vector}", vector_expression(dimensions, "CAST(:embedding AS vector)"))
        .replace("{dimensions}", str(int(dimensions)))
        .replace("{scope}", scope.pages)
    )
    statement = text(scope.ranking() + nearest)
    return [Candidate(*row) for row in await session.execute(statement, params)]


# Chosen chunks in the order given, with the query's matches marked in a snippet (NULL when the chunk holds
# none of its words: a vector hit) and the start of the body to show instead.
_PASSAGES = """
WITH chosen AS (
    SELECT c.id, chosen.position, c.page_id, c.url, c.heading_path, c.tsv,
           translate(regexp_replace(c.text, '^[^\\n]*\\n\\n', ''), :markers, '') AS body
    FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS chosen(id, position)
    JOIN book_chunks AS c ON c.id = chosen.id
),
pages AS (
    SELECT p.id, p.title, p.source_path, p.search_config FROM book_pages AS p WHERE p.id IN (SELECT page_id FROM chosen)
),
queries AS (
    SELECT languages.search_config, {or_query} AS query
    FROM (SELECT DISTINCT search_config FROM pages) AS languages,
         unnest(tsvector_to_array(to_tsvector(CAST(languages.search_config AS regconfig), :q))) AS lexeme
    GROUP BY languages.search_config
)
SELECT c.id, c.page_id, p.title, c.url, c.heading_path, p.source_path,
       CASE WHEN c.tsv @@ q.query THEN ts_headline(CAST(p.search_config AS regconfig), c.body, q.query, :headline) END,
       left(c.body, :opening_chars)
FROM chosen AS c
JOIN pages AS p ON p.id = c.page_id
LEFT JOIN queries AS q ON q.search_config = p.search_config
ORDER BY c.position
""".replace("{or_query}", bm25.OR_QUERY)


@dataclass(frozen=True)
class Passage:
    """A chosen chunk and its page; `snippet` marks the query's matches (None: it has none), `opening` its start."""

    chunk_id: int
    page_id: uuid.UUID
    title: str
    url: str
    heading_path: list[str]
    source_path: str
    snippet: str | None
    opening: str


async def passages(session: AsyncSession, query: str, chunk_ids: list[int], *, opening_chars: int) -> list[Passage]:
    """These chunks, in this order, with snippets for `query` (a chunk deleted meanwhile is left out)."""
    params: dict[str, object] = {
        "q": query,
        "ids": chunk_ids,
        "markers": MARK_START + MARK_END,
        "headline": _HEADLINE,
        "opening_chars": opening_chars,
    }
    rows = await session.execute(text(_PASSAGES), params)
    return [Passage(*row) for row in rows]


# Where each of the query's lexemes (as the chunk's locale analyses the query) occurs in these chunks, with its IDF
# in that locale. The query is analysed once per locale, not once per chunk word. tsvector positions count every
# word, stop words included.
_TERM_POSITIONS = """
WITH chosen AS MATERIALIZED (
    SELECT c.id, c.locale, c.tsv, l.search_config, l.chunks
    FROM book_chunks AS c
    JOIN book_locales AS l ON l.locale = c.locale
    WHERE c.id = ANY(CAST(:ids AS bigint[]))
),
words AS MATERIALIZED (
    SELECT l.locale, w.lexeme, ln(1 + (l.chunks - t.chunks + 0.5) / (t.chunks + 0.5)) AS idf
    FROM (SELECT DISTINCT locale, search_config, chunks FROM chosen) AS l
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(CAST(l.search_config AS regconfig), :q))) AS w(lexeme)
    JOIN book_terms AS t ON t.locale = l.locale AND t.lexeme = w.lexeme
)
SELECT c.id, w.lexeme, w.idf, e.positions
FROM chosen AS c
JOIN words AS w ON w.locale = c.locale
CROSS JOIN LATERAL unnest(c.tsv) AS e(lexeme, positions, weights)
WHERE e.lexeme = w.lexeme
ORDER BY c.id, w.lexeme
"""


async def term_positions(session: AsyncSession, query: str, chunk_ids: list[int]) -> dict[int, list[TermPositions]]:
    """For each of these chunks, the query's terms it holds, with their positions and IDF."""
    found: dict[int, list[TermPositions]] = {}
    if not chunk_ids:
        return found
    rows = await session.execute(text(_TERM_POSITIONS), {"q": query, "ids": chunk_ids})
    for chunk_id, lexeme, idf, positions in rows:
        found.setdefault(chunk_id, []).append(TermPositions(lexeme, float(idf), tuple(sorted(positions))))
    return found
