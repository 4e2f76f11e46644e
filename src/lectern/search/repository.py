"""All SQL for search: OR-ed query lexemes matched through the GIN index and ranked with BM25 in PostgreSQL, and
the chunks nearest to a query vector, found through the HNSW index of their size."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.ingest.store import vector_expression, vector_literal

# BM25 parameters (Robertson, as Lucene and Elasticsearch default them).
K1 = 1.2
B = 0.75
# ts_headline wraps matches in these private-use characters (stripped from the text first): the
# service escapes the snippet as HTML and only then turns them into <mark> tags.
MARK_START = "\ue000"
MARK_END = "\ue001"
_HEADLINE = (
    f'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=18, MinWords=6, MaxFragments=2, FragmentDelimiter=" … "'
)

# A query's lexemes OR-ed into one tsquery, each quoted so that no query text is read as tsquery syntax.
_OR_QUERY = """
CAST(string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ') AS tsquery)
""".strip()

# Per locale in the scope, the query's lexemes (stopwords removed, stemmed as that locale's chunks were)
# OR-ed into one tsquery. Document frequencies come from the matches themselves: every chunk holding a
# query term matches the OR query, so counting matches per term gives the exact df over the scope. N and
# the average chunk length come from the per-page totals kept at ingest.
_STATISTICS = """
WITH scope AS MATERIALIZED (
    SELECT p.id, p.title, p.source_path, p.locale, p.search_config, p.chunk_count, p.term_count, p.embedding_model
    FROM book_pages AS p
    WHERE {scope}
),
corpus AS MATERIALIZED (
    SELECT sum(chunk_count)::float8 AS chunks,
           sum(term_count)::float8 / nullif(sum(chunk_count), 0) AS average_terms
    FROM scope
),
queries AS (
    SELECT languages.locale, languages.search_config,
           array_agg(lexeme) AS lexemes,
           {or_query} AS query
    FROM (SELECT DISTINCT locale, search_config FROM scope) AS languages,
         unnest(tsvector_to_array(to_tsvector(CAST(languages.search_config AS regconfig), :q))) AS lexeme
    GROUP BY languages.locale, languages.search_config
),
matches AS (
    SELECT c.id AS chunk_id, c.term_count, q.search_config, t.lexeme, cardinality(t.positions) AS tf
    FROM queries AS q
    JOIN book_chunks AS c ON c.locale = q.locale AND c.tsv @@ q.query
    JOIN scope AS s ON s.id = c.page_id
    -- Only the query's lexemes, picked out in C (weight them A, keep A) rather than row by row in SQL.
    CROSS JOIN LATERAL unnest(ts_filter(setweight(c.tsv, 'A', q.lexemes), '{a}')) AS t
),
frequencies AS (
    SELECT search_config, lexeme, count(*)::float8 AS df
    FROM matches
    GROUP BY search_config, lexeme
)""".replace("{or_query}", _OR_QUERY)
# Every matching chunk's BM25 score.
_BM25 = """
    SELECT m.chunk_id,
           sum(
               ln(1 + (corpus.chunks - f.df + 0.5) / (f.df + 0.5))
               * m.tf * (:k1 + 1)
               / (m.tf + :k1 * (1 - :b + :b * m.term_count / corpus.average_terms))
           ) AS score
    FROM matches AS m
    JOIN frequencies AS f USING (search_config, lexeme)
    CROSS JOIN corpus
    GROUP BY m.chunk_id"""
# The `k` best.
_RANKING = (
    _STATISTICS
    + ",\nranked AS ("
    + _BM25
    + """
    ORDER BY score DESC, m.chunk_id
    LIMIT :k
)
"""
)
_KEYWORD_HITS = """
SELECT r.score, c.page_id, s.title, c.url, c.heading_path, s.source_path,
       ts_headline(
           CAST(s.search_config AS regconfig),
           translate(regexp_replace(c.text, '^[^\\n]*\\n\\n', ''), :markers, ''),
           q.query,
           :headline
       ) AS snippet
FROM ranked AS r
JOIN book_chunks AS c ON c.id = r.chunk_id
JOIN scope AS s ON s.id = c.page_id
JOIN queries AS q ON q.locale = c.locale
ORDER BY r.score DESC, r.chunk_id
"""

# The scope's filters, chosen from these fixed fragments only: values always travel as parameters.
_LOCALE = "lower(p.locale) = lower(:locale)"
_PREFIX = (
    "(starts_with(p.url, :prefix)"
    " OR starts_with(regexp_replace(p.url, '^[a-z][a-z0-9+.-]*://[^/]*', '', 'i'), :prefix))"
)


@dataclass(frozen=True)
class KeywordHit:
    """A ranked chunk with its page, and a snippet whose matches sit between MARK_START and MARK_END."""

    score: float
    page_id: uuid.UUID
    title: str
    url: str
    heading_path: list[str]
    source_path: str
    snippet: str


def _scope(locale: str | None, prefix: str | None, params: dict[str, object]) -> str:
    """The scope's filters on pages `p`, chosen from the fixed fragments; their values go into `params`."""
    conditions = ["true"]
    if locale is not None:
        conditions.append(_LOCALE)
        params["locale"] = locale
    if prefix is not None:
        conditions.append(_PREFIX)
        params["prefix"] = prefix
    return " AND ".join(conditions)


async def keyword_hits(
    session: AsyncSession, query: str, *, k: int, locale: str | None = None, prefix: str | None = None
) -> list[KeywordHit]:
    """The `k` best chunks for `query` among the pages in scope (locale, URL or path prefix)."""
    params: dict[str, object] = {
        "q": query,
        "k": k,
        "k1": K1,
        "b": B,
        "markers": MARK_START + MARK_END,
        "headline": _HEADLINE,
    }
    statement = text((_RANKING + _KEYWORD_HITS).replace("{scope}", _scope(locale, prefix, params)))
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
      AND (SELECT chunks FROM corpus) <= :exact_limit
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
    WHERE (SELECT chunks FROM corpus) > :exact_limit
),
nearest AS (
    SELECT chunk_id, row_number() OVER (ORDER BY similarity DESC, chunk_id) AS rank
    FROM (SELECT chunk_id, similarity FROM exact UNION ALL SELECT chunk_id, similarity FROM indexed) AS found
),
pool AS (
    SELECT chunk_id FROM ranked UNION SELECT chunk_id FROM nearest
)
-- Each candidate with both scores: a keyword hit's cosine similarity, a vector hit's BM25 score (0: no term).
SELECT pool.chunk_id, r.rank, n.rank, coalesce(b.score, 0),
       CASE WHEN s.embedding_model = :model AND vector_dims(c.embedding) = {dimensions}
            THEN 1 - (c.embedding <=> CAST(:embedding AS vector)) END
FROM pool
JOIN book_chunks AS c ON c.id = pool.chunk_id
JOIN scope AS s ON s.id = c.page_id
LEFT JOIN ranked AS r ON r.chunk_id = pool.chunk_id
LEFT JOIN nearest AS n ON n.chunk_id = pool.chunk_id
LEFT JOIN scored AS b ON b.chunk_id = pool.chunk_id
"""
# Candidates keep every matching chunk's BM25 score, and number the best `k`.
_NUMBERED = """
),
ranked AS (
    SELECT chunk_id, row_number() OVER (ORDER BY score DESC, chunk_id) AS rank
    FROM scored
    ORDER BY score DESC, chunk_id
    LIMIT :k
)"""
_SCORED = _STATISTICS + ",\nscored AS (" + _BM25 + _NUMBERED
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
        "q": query,
        "k": depth,
        "k1": K1,
        "b": B,
        "embedding": vector_literal(vector),
        "model": model,
        "depth": depth,
        "ef_search": str(max(40, depth)),
        "exact_limit": EXACT_SCAN_CHUNKS,
    }
    dimensions = len(vector)
    nearest = (
        _NEAREST.replace("{column}", vector_expression(dimensions, "c.embedding"))
        .replace("{vector}", vector_expression(dimensions, "CAST(:embedding AS vector)"))
        .replace("{dimensions}", str(int(dimensions)))
    )
    statement = text((_SCORED + nearest).replace("{scope}", _scope(locale, prefix, params)))
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
""".replace("{or_query}", _OR_QUERY)


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
