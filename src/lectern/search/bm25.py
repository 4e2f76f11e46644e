"""The SQL that ranks chunks by BM25 from the postings (migration 0007), without reading every matching chunk.

Each query term's postings are read best first (by impact) up to a depth, the chunks they name get a partial score,
and a shortlist of the best gets its exact BM25 score. When every term's postings fit in the budget, all of them
are read and the ranking is exact; past that it is an approximation whose cost grows with the square root of the
corpus. docs/decisions/0005-impact-ordered-postings.md gives the numbers behind each constant.
"""

from __future__ import annotations

# BM25 parameters (Robertson, as Lucene and Elasticsearch default them). Migration 0007's triggers order
# postings with the same two values.
K1 = 1.2
B = 0.75
# Postings read per query: at least MIN_POSTINGS, and POSTINGS_PER_ROOT_CHUNK × √(chunks in the scope's
# locales). While the query terms' lists add up to no more, each is read whole and the ranking is exact.
MIN_POSTINGS = 4000
POSTINGS_PER_ROOT_CHUNK = 40
# Otherwise the budget is shared out in proportion to each term's IDF (rare words decide the ranking), with at
# least MIN_DEPTH postings for any term.
MIN_DEPTH = 100
# The chunks with the best partial scores get their exact score: SHORTLIST_PER_RESULT per result asked for.
SHORTLIST_PER_RESULT = 20
MIN_SHORTLIST = 400
# A URL or path prefix narrower than this many chunks is scored whole (exact). A wider one reads more postings,
# up to MAX_WIDENING times the budget, as the share of the corpus it covers falls, and keeps those in scope.
SCAN_CHUNKS = 2000
MAX_WIDENING = 2
# How the heads are kept to a wider prefix: by looking up each head's page, best first, until the shortlist is full
# (about shortlist × N / scope lookups), or by listing the scope's chunks and joining (scope lookups). Listing wins
# while scope² ≤ JOIN_FACTOR × shortlist × N. On 16 copies of the AWS corpus (238,464 chunks), medians: a prefix
# of 3,488 chunks took 120 ms by lookups and 35 ms joined, one of 9,376 chunks 95 and 50 ms.
JOIN_FACTOR = 1.0


def shortlist_size(k: int) -> int:
    """How many chunks get their exact score when `k` are asked for."""
    return max(MIN_SHORTLIST, SHORTLIST_PER_RESULT * k)


# One term's BM25 contribution to chunk `p` (a posting: tf, and the chunk's length in `terms`) for query term `t`.
TERM_SCORE = "t.idf * p.tf * (:k1 + 1) / (p.tf + :k1 * (1 - :b + :b * p.terms / t.average_terms))"

# A query's lexemes OR-ed into one tsquery, each quoted so that no query text is read as tsquery syntax.
OR_QUERY = """
CAST(string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ') AS tsquery)
""".strip()

# The scope's locales with their totals (N and the average chunk length); the query's lexemes as each locale's
# configuration analyses them, with their counters; each term's IDF over the scope's locales (a lexeme's chunks
# summed over the locales that share a configuration) and how deep to read its postings.
_STATISTICS = """
WITH languages AS MATERIALIZED (
    SELECT l.locale, l.search_config, l.chunks, l.terms FROM book_locales AS l WHERE l.chunks > 0 AND {languages}
),
corpus AS MATERIALIZED (
    SELECT sum(chunks)::float8 AS chunks, sum(terms)::float8 / nullif(sum(chunks), 0) AS average_terms
    FROM languages
),
scope AS MATERIALIZED (
    SELECT p.id, p.chunk_count, p.embedding_model FROM book_pages AS p WHERE {scope}
),
{scope_size},
words AS MATERIALIZED (
    SELECT l.search_config, w.lexeme, t.id AS term_id, t.chunks AS df
    FROM languages AS l
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(CAST(l.search_config AS regconfig), :q))) AS w(lexeme)
    -- LIMIT 1: one index probe per lexeme, never a join that scans every counter.
    CROSS JOIN LATERAL (
        SELECT id, chunks FROM book_terms WHERE locale = l.locale AND lexeme = w.lexeme AND chunks > 0 LIMIT 1
    ) AS t
),
weighted AS (
    SELECT w.term_id, w.df, c.average_terms, ln(1 + (c.chunks - w.frequency + 0.5) / (w.frequency + 0.5)) AS idf
    FROM (SELECT *, sum(df) OVER (PARTITION BY search_config, lexeme) AS frequency FROM words) AS w, corpus AS c
),
query_terms AS MATERIALIZED (
    SELECT w.term_id, w.idf, w.average_terms,
           CASE WHEN sum(w.df) OVER () <= b.postings THEN w.df
                ELSE greatest(:min_depth, ceil(b.postings * w.idf / nullif(sum(w.idf) OVER (), 0)))
           END::integer AS depth
    FROM weighted AS w,
         (SELECT greatest(:min_postings, :postings_per_root * sqrt(c.chunks)) * z.widening AS postings
          FROM corpus AS c, scope_size AS z) AS b
),
queries AS (
    SELECT l.locale, {or_query} AS query
    FROM languages AS l,
         unnest(tsvector_to_array(to_tsvector(CAST(l.search_config AS regconfig), :q))) AS lexeme
    GROUP BY l.locale
)""".replace("{or_query}", OR_QUERY)

# Without a prefix, the scope is every page of the locales: its size is the corpus's.
_WHOLE_LOCALES = "scope_size AS (SELECT chunks, 1.0::float8 AS widening, false AS narrow FROM corpus)"
_PREFIX_SCOPE = """scope_size AS MATERIALIZED (
    SELECT s.chunks, least(:max_widening, greatest(c.chunks / greatest(s.chunks, 1), 1)) AS widening,
           s.chunks <= :scan_chunks AS narrow,
           s.chunks > :scan_chunks AND s.chunks * s.chunks <= :join_factor * :shortlist * c.chunks AS joined
    FROM (SELECT coalesce(sum(chunk_count), 0)::float8 AS chunks FROM scope) AS s, corpus AS c
)"""

# Each term's best postings; the chunks they name, by the sum of the contributions seen (exact when every list
# was read whole, a lower bound otherwise); the best of those in scope make the shortlist.
_HEADS = """,
heads AS MATERIALIZED (
    SELECT p.chunk_id, sum({term_score}) AS partial
    FROM query_terms AS t
    CROSS JOIN LATERAL (
        SELECT chunk_id, tf, terms FROM book_postings WHERE term_id = t.term_id ORDER BY impact DESC LIMIT t.depth
    ) AS p
    GROUP BY p.chunk_id
)""".replace("{term_score}", TERM_SCORE)
_SHORTLIST = """,
shortlist AS (
    SELECT chunk_id FROM heads ORDER BY partial DESC, chunk_id LIMIT :shortlist
)"""
# The ids of the scope's chunks. OFFSET 0 keeps this a probe of each page's chunks: written as a join, a scope of
# many pages is planned as a scan of every chunk in the book (on 16 copies of the AWS corpus, 150 ms instead of 50).
_SCOPE_CHUNK_IDS = (
    "SELECT c.id FROM scope AS s CROSS JOIN LATERAL (SELECT id FROM book_chunks WHERE page_id = s.id OFFSET 0) AS c"
)
# Under a prefix, one of two ways (each branch runs only when its one-time filter holds; see JOIN_FACTOR):
# - joined: the scope's chunks are listed and the heads joined to them, best first;
# - looked up: each head's page is looked up, best chunk first, until the shortlist is full. The ordered CTE is
#   read in its order (a hash semi-join keeps its outer side's order), so the lookups stop at the limit.
_SHORTLIST_IN_SCOPE = """,
ordered AS MATERIALIZED (
    SELECT chunk_id, partial FROM heads ORDER BY partial DESC, chunk_id
),
scope_chunks AS MATERIALIZED (
    {scope_chunk_ids} WHERE (SELECT joined FROM scope_size)
),
shortlist AS (
    (SELECT h.chunk_id FROM heads AS h JOIN scope_chunks AS s ON s.id = h.chunk_id
     WHERE (SELECT joined FROM scope_size)
     ORDER BY h.partial DESC, h.chunk_id LIMIT :shortlist)
    UNION ALL
    (SELECT o.chunk_id FROM ordered AS o
     WHERE NOT (SELECT joined FROM scope_size)
       AND (SELECT c.page_id FROM book_chunks AS c WHERE c.id = o.chunk_id) IN (SELECT id FROM scope)
     LIMIT :shortlist)
)""".replace("{scope_chunk_ids}", _SCOPE_CHUNK_IDS)

# Whichever set of chunks applies (each branch runs only when its one-time filter holds) gets exact scores.
_EVERY_LIST = """,
candidates AS (SELECT chunk_id FROM shortlist)"""
_NARROW_OR_LISTS = """,
candidates AS (
    SELECT chunk_id FROM shortlist WHERE NOT (SELECT narrow FROM scope_size)
    UNION ALL
    {scope_chunk_ids} WHERE (SELECT narrow FROM scope_size)
)""".replace("{scope_chunk_ids}", _SCOPE_CHUNK_IDS)

# A chunk's exact BM25 score over the query terms: one index probe per term it may hold.
EXACT_SCORE = """(
    SELECT sum({term_score})
    FROM book_postings AS p
    JOIN query_terms AS t ON t.term_id = p.term_id
    WHERE p.chunk_id = {chunk} AND p.term_id = ANY(ARRAY(SELECT term_id FROM query_terms))
)""".replace("{term_score}", TERM_SCORE)

_RANKED = """,
scored AS MATERIALIZED (
    SELECT c.chunk_id, {exact} AS score FROM candidates AS c
),
ranked AS (
    SELECT chunk_id, score FROM scored WHERE score IS NOT NULL ORDER BY score DESC, chunk_id LIMIT :k
)""".replace("{exact}", EXACT_SCORE.replace("{chunk}", "c.chunk_id"))


def ranking(*, prefix: bool) -> str:
    """CTEs ending in `ranked`, the best :k chunks by BM25 in scope; `{languages}` and `{scope}` are left to fill.

    Along the way: `scope` (pages), `scope_size`, `corpus`, `query_terms` and `queries` (the OR-ed tsquery per
    locale, for snippets), which the statements that continue these CTEs may use.
    """
    statistics = _STATISTICS.replace("{scope_size}", _PREFIX_SCOPE if prefix else _WHOLE_LOCALES)
    shortlist = _SHORTLIST_IN_SCOPE if prefix else _SHORTLIST
    return statistics + _HEADS + shortlist + (_NARROW_OR_LISTS if prefix else _EVERY_LIST) + _RANKED


def parameters(query: str, k: int) -> dict[str, object]:
    """The values `ranking`'s SQL needs, besides the scope's."""
    return {
        "q": query,
        "k": k,
        "k1": K1,
        "b": B,
        "min_postings": MIN_POSTINGS,
        "postings_per_root": POSTINGS_PER_ROOT_CHUNK,
        "min_depth": MIN_DEPTH,
        "shortlist": shortlist_size(k),
        "scan_chunks": SCAN_CHUNKS,
        "join_factor": JOIN_FACTOR,
        "max_widening": MAX_WIDENING,
    }
