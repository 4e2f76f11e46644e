"""Checks on the keyword index (migration 0007) that several test folders share: its rows against what the chunks
say they must be, and BM25 computed in Python from the chunks' own vectors."""

from __future__ import annotations

import math
from collections import Counter

import psycopg

from lectern.search.bm25 import K1, B

# Each pair: what the chunks imply, and what the index holds. Both sides must match exactly.
_EXPECTED_AND_STORED = {
    "postings": (
        """SELECT c.id, c.locale, t.lexeme, cardinality(t.positions), c.term_count
           FROM book_chunks AS c, unnest(c.tsv) AS t""",
        """SELECT p.chunk_id, w.locale, w.lexeme, p.tf, p.terms
           FROM book_postings AS p JOIN book_terms AS w ON w.id = p.term_id""",
    ),
    "term counters": (
        "SELECT c.locale, t.lexeme, count(*) FROM book_chunks AS c, unnest(c.tsv) AS t GROUP BY 1, 2",
        "SELECT locale, lexeme, chunks FROM book_terms WHERE chunks <> 0",
    ),
    "locale totals": (
        """SELECT c.locale, min(p.search_config), count(*), sum(c.term_count)
           FROM book_chunks AS c JOIN book_pages AS p ON p.id = c.page_id GROUP BY c.locale""",
        "SELECT locale, search_config, chunks, terms FROM book_locales WHERE chunks <> 0",
    ),
}


def index_differences(conn: psycopg.Connection) -> dict[str, int]:
    """How many rows differ, each way, between what the chunks imply and what the index holds (all 0: in step)."""
    found = {}
    for name, (expected, stored) in _EXPECTED_AND_STORED.items():
        missing = conn.execute(f"SELECT count(*) FROM ({expected} EXCEPT ALL {stored}) AS d").fetchone()
        extra = conn.execute(f"SELECT count(*) FROM ({stored} EXCEPT ALL {expected}) AS d").fetchone()
        found[f"{name} missing"] = missing[0] if missing else -1
        found[f"{name} extra"] = extra[0] if extra else -1
    negative = conn.execute("SELECT count(*) FROM book_terms WHERE chunks < 0").fetchone()
    found["negative counters"] = negative[0] if negative else -1
    impacts = conn.execute("SELECT count(*) FROM book_postings WHERE NOT (impact > 0 AND impact < 1)").fetchone()
    found["impacts out of (0, 1)"] = impacts[0] if impacts else -1
    return found


IN_STEP = {f"{name} {way}": 0 for name in _EXPECTED_AND_STORED for way in ("missing", "extra")} | {
    "negative counters": 0,
    "impacts out of (0, 1)": 0,
}


def python_bm25(conn: psycopg.Connection, question: str, *, locale: str = "en") -> dict[int, float]:
    """Every chunk of `locale` that shares a word with `question`, with its BM25 score computed here."""
    row = conn.execute(
        """SELECT tsvector_to_array(to_tsvector(CAST(search_config AS regconfig), %s))
           FROM book_pages WHERE locale = %s LIMIT 1""",
        [question, locale],
    ).fetchone()
    lexemes = set(row[0]) if row else set()
    chunks = conn.execute(
        """SELECT id, term_count, (SELECT array_agg(lexeme || ':' || cardinality(positions)) FROM unnest(tsv))
           FROM book_chunks WHERE locale = %s""",
        [locale],
    ).fetchall()
    terms = {chunk_id: dict(entry.rsplit(":", 1) for entry in entries or []) for chunk_id, _, entries in chunks}
    lengths = {chunk_id: length for chunk_id, length, _ in chunks}
    average = sum(lengths.values()) / len(lengths)
    df = Counter(lexeme for counts in terms.values() for lexeme in counts if lexeme in lexemes)
    scores = {}
    for chunk_id, counts in terms.items():
        score = 0.0
        for lexeme in lexemes:
            if tf := int(counts.get(lexeme, 0)):
                idf = math.log(1 + (len(lengths) - df[lexeme] + 0.5) / (df[lexeme] + 0.5))
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[chunk_id] / average))
        if score > 0:
            scores[chunk_id] = score
    return scores
