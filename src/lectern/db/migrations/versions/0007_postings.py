"""postings: each chunk's lexemes as rows ordered by BM25 impact, document frequencies and per-locale totals

Keyword search reads the few best postings of each query term instead of every matching chunk's tsvector
(docs/decisions/0005-impact-ordered-postings.md). The three tables are derived from book_chunks and kept in step
with it by statement-level triggers, in the transaction that writes the chunks, whoever writes them (ingest,
a page deleted with its chunks by a cascade, TRUNCATE). Existing chunks are indexed here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A posting's impact is its BM25 term weight without the IDF, tf / (tf + k1·(1 − b + b·length / average)), with
# k1 = 1.2 and b = 0.75 (lectern.search.bm25) and the average chunk length of its locale when it was
# written. It only orders a term's postings, best first: scores are always computed from tf and the length.
_IMPACT = "{tf} / ({tf} + 1.2 * (0.25 + 0.75 * {terms} / greatest({average}, 1)))"

# New chunks: the locale's totals first (that row lock orders concurrent writers of a locale, so their term
# counters cannot deadlock), then one counter per lexeme, then the postings with the counters' ids.
_CHUNKS_ADDED = """
CREATE FUNCTION book_chunks_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO book_locales AS l (locale, search_config, chunks, terms)
    SELECT a.locale, min(p.search_config), count(*), sum(a.term_count)
    FROM added AS a
    JOIN book_pages AS p ON p.id = a.page_id
    GROUP BY a.locale
    ORDER BY a.locale
    ON CONFLICT (locale) DO UPDATE
        SET search_config = excluded.search_config,
            chunks = l.chunks + excluded.chunks,
            terms = l.terms + excluded.terms;
    WITH occurrences AS (
        SELECT a.id AS chunk_id, a.locale, t.lexeme, cardinality(t.positions) AS tf, a.term_count
        FROM added AS a, unnest(a.tsv) AS t
    ),
    counted AS (
        INSERT INTO book_terms AS t (locale, lexeme, chunks)
        SELECT locale, lexeme, count(*) FROM occurrences GROUP BY locale, lexeme ORDER BY locale, lexeme
        ON CONFLICT (locale, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks
        RETURNING t.id, t.locale, t.lexeme
    )
    INSERT INTO book_postings (term_id, chunk_id, impact, tf, terms)
    SELECT c.id, o.chunk_id, {impact}, o.tf, o.term_count
    FROM occurrences AS o
    JOIN counted AS c ON c.locale = o.locale AND c.lexeme = o.lexeme
    JOIN book_locales AS l ON l.locale = o.locale;
    RETURN NULL;
END
$$
""".replace(
    "{impact}", _IMPACT.format(tf="o.tf", terms="o.term_count", average="l.terms::float8 / nullif(l.chunks, 0)")
)

# Chunks gone (a page replaced or deleted, by ingest or by a cascade): their postings go, the counters drop. The
# counters are found again from the chunks' own vectors through the same upsert as above (it always updates):
# one index probe per lexeme, where a join against the counters might be planned as a scan of all of them.
_CHUNKS_REMOVED = """
CREATE FUNCTION book_chunks_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM removed) THEN
        RETURN NULL;  -- a new page: nothing to forget
    END IF;
    INSERT INTO book_locales AS l (locale, search_config, chunks, terms)
    SELECT locale, '', -count(*), -sum(term_count) FROM removed GROUP BY locale ORDER BY locale
    ON CONFLICT (locale) DO UPDATE SET chunks = l.chunks + excluded.chunks, terms = l.terms + excluded.terms;
    INSERT INTO book_terms AS t (locale, lexeme, chunks)
    SELECT r.locale, v.lexeme, -count(*) FROM removed AS r, unnest(r.tsv) AS v
    GROUP BY r.locale, v.lexeme ORDER BY r.locale, v.lexeme
    ON CONFLICT (locale, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
    DELETE FROM book_postings AS p USING removed AS r WHERE p.chunk_id = r.id;
    RETURN NULL;
END
$$
"""

_CHUNKS_EMPTIED = """
CREATE FUNCTION book_chunks_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: `TRUNCATE book_chunks CASCADE` has already reached the postings through their
    -- foreign key, and a second TRUNCATE of a table the running statement holds is refused (ObjectInUse).
    DELETE FROM book_postings;
    DELETE FROM book_terms;
    DELETE FROM book_locales;
    RETURN NULL;
END
$$
"""

_TRIGGERS = (
    "CREATE TRIGGER book_chunks_added AFTER INSERT ON book_chunks REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION book_chunks_added()",
    "CREATE TRIGGER book_chunks_removed AFTER DELETE ON book_chunks REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION book_chunks_removed()",
    "CREATE TRIGGER book_chunks_emptied AFTER TRUNCATE ON book_chunks"
    " FOR EACH STATEMENT EXECUTE FUNCTION book_chunks_emptied()",
)

# The chunks already stored, indexed in three passes (the ordered indexes are built after the rows, once).
_BACKFILL = (
    """INSERT INTO book_locales (locale, search_config, chunks, terms)
       SELECT c.locale, min(p.search_config), count(*), sum(c.term_count)
       FROM book_chunks AS c JOIN book_pages AS p ON p.id = c.page_id
       GROUP BY c.locale""",
    """INSERT INTO book_terms (locale, lexeme, chunks)
       SELECT c.locale, t.lexeme, count(*) FROM book_chunks AS c, unnest(c.tsv) AS t GROUP BY c.locale, t.lexeme""",
    """INSERT INTO book_postings (term_id, chunk_id, impact, tf, terms)
       SELECT w.id, o.chunk_id, {impact}, o.tf, o.term_count
       FROM (SELECT c.id AS chunk_id, c.locale, t.lexeme, cardinality(t.positions) AS tf, c.term_count
             FROM book_chunks AS c, unnest(c.tsv) AS t) AS o
       JOIN book_terms AS w ON w.locale = o.locale AND w.lexeme = o.lexeme
       JOIN book_locales AS l ON l.locale = o.locale""".replace(
        "{impact}", _IMPACT.format(tf="o.tf", terms="o.term_count", average="l.terms::float8 / nullif(l.chunks, 0)")
    ),
)


def upgrade() -> None:
    # Chunks written by a concurrent ingest after the backfill's snapshot, before the triggers exist, would be
    # missed: writers wait until this migration commits (readers do not).
    op.execute("LOCK TABLE book_chunks IN SHARE MODE")
    op.create_table(
        "book_locales",
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("search_config", sa.String(length=63), nullable=False),
        sa.Column("chunks", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("locale", name=op.f("pk_book_locales")),
    )
    op.create_table(
        "book_terms",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_terms")),
        # Room on each page for the counters' new row versions: ingest updates them in place (HOT).
        postgresql_with={"fillfactor": 70},
    )
    op.create_index("uq_book_terms_locale_lexeme", "book_terms", ["locale", "lexeme"], unique=True)
    op.create_table(
        "book_postings",
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("chunk_id", sa.BigInteger(), nullable=False),
        sa.Column("impact", sa.REAL(), nullable=False),
        sa.Column("tf", sa.SmallInteger(), nullable=False),
        sa.Column("terms", sa.Integer(), nullable=False),
    )
    for statement in _BACKFILL:
        op.execute(statement)
    op.execute(
        "ALTER TABLE book_postings ADD CONSTRAINT pk_book_postings PRIMARY KEY (chunk_id, term_id) INCLUDE (tf, terms)"
    )
    op.execute(
        "CREATE INDEX ix_book_postings_term_id_impact ON book_postings (term_id, impact DESC)"
        " INCLUDE (chunk_id, tf, terms)"
    )
    for statement in (_CHUNKS_ADDED, _CHUNKS_REMOVED, _CHUNKS_EMPTIED, *_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("book_chunks_emptied", "book_chunks_removed", "book_chunks_added"):
        op.execute(f"DROP TRIGGER {trigger} ON book_chunks")
        op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_table("book_postings")
    op.drop_index("uq_book_terms_locale_lexeme", table_name="book_terms")
    op.drop_table("book_terms")
    op.drop_table("book_locales")
