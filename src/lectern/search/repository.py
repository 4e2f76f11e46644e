"""All SQL for search: OR-ed query lexemes matched through the GIN index and ranked with BM25 in PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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

# Per locale in the scope, the query's lexemes (stopwords removed, stemmed as that locale's chunks were)
# OR-ed into one tsquery, each lexeme quoted so no query text is read as tsquery syntax. Document
# frequencies come from the matches themselves: every chunk holding a query term matches the OR query,
# so counting matches per term gives the exact df over the scope. N and the average chunk length come
# from the per-page totals kept at ingest.
_SEARCH = """
WITH scope AS MATERIALIZED (
    SELECT p.id, p.title, p.source_path, p.locale, p.search_config, p.chunk_count, p.term_count
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
           CAST(string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ') AS tsquery)
               AS query
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
),
ranked AS (
    SELECT m.chunk_id,
           sum(
               ln(1 + (corpus.chunks - f.df + 0.5) / (f.df + 0.5))
               * m.tf * (:k1 + 1)
               / (m.tf + :k1 * (1 - :b + :b * m.term_count / corpus.average_terms))
           ) AS score
    FROM matches AS m
    JOIN frequencies AS f USING (search_config, lexeme)
    CROSS JOIN corpus
    GROUP BY m.chunk_id
    ORDER BY score DESC, m.chunk_id
    LIMIT :k
)
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


async def keyword_hits(
    session: AsyncSession, query: str, *, k: int, locale: str | None = None, prefix: str | None = None
) -> list[KeywordHit]:
    """The `k` best chunks for `query` among the pages in scope (locale, URL or path prefix)."""
    conditions = ["true"]
    params: dict[str, object] = {
        "q": query,
        "k": k,
        "k1": K1,
        "b": B,
        "markers": MARK_START + MARK_END,
        "headline": _HEADLINE,
    }
    if locale is not None:
        conditions.append(_LOCALE)
        params["locale"] = locale
    if prefix is not None:
        conditions.append(_PREFIX)
        params["prefix"] = prefix
    statement = text(_SEARCH.replace("{scope}", " AND ".join(conditions)))
    rows = await session.execute(statement, params)
    return [KeywordHit(*row) for row in rows]
