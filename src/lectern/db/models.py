"""All tables, one model each (domains import these; this module imports no domain)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, REAL, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from lectern.db.base import Base


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()


class RefreshToken(Base):
    """Opaque refresh tokens, stored as SHA-256 digests; one family per login."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One row per failed login, keyed by the normalized email (known or not), shared by all instances."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_failed_at", "email", "failed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    failed_at: Mapped[datetime] = _now()


class Profile(Base):
    __tablename__ = "profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    software_background: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    hardware_background: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    experience_level: Mapped[str] = mapped_column(String(20), nullable=False)
    goals: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    updated_at: Mapped[datetime] = _now()


class Preferences(Base):
    __tablename__ = "preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    difficulty: Mapped[str] = mapped_column(String(20), nullable=False)
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    learning_style: Mapped[str] = mapped_column(String(20), nullable=False)
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    answer_length: Mapped[str] = mapped_column(String(10), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    updated_at: Mapped[datetime] = _now()


class BookPage(Base):
    """One ingested page, keyed by book (one source root), locale and source file; its chunks hang off it."""

    __tablename__ = "book_pages"
    __table_args__ = (Index("uq_book_pages_book_locale_source_path", "book", "locale", "source_path", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    book: Mapped[str] = mapped_column(String(100), nullable=False)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    source_path: Mapped[str] = mapped_column(Text, nullable=False)  # relative to the root, '/' separators
    doc_id: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    route: Mapped[str] = mapped_column(Text, nullable=False)  # under the docs route base: "/guides/writing"
    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    search_config: Mapped[str] = mapped_column(String(63), nullable=False)  # text search config of its chunks
    # SHA-256 of the source text and of the options that shape the stored rows: equal hash, nothing to do.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The sidebar's order: each enclosing folder's `_category_` position, then the page's `sidebar_position` (number
    # prefixes where those are missing), null where there is none; a null array for rows ingested before 0008.
    sidebar_positions: Mapped[list[float | None] | None] = mapped_column(ARRAY(Double))
    chunk_count: Mapped[int] = mapped_column(Integer, nullable=False)
    term_count: Mapped[int] = mapped_column(Integer, nullable=False)  # indexed terms in all its chunks (BM25)
    # The model that embedded its chunks (`openai:<model>`, `local:<folder>@<digest>`) and the vectors' size;
    # null when they have no vectors. Search compares query vectors only with vectors of the same model.
    embedding_model: Mapped[str | None] = mapped_column(Text)
    embedding_dimensions: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class BookChunk(Base):
    """A citable passage of a page with its full-text vector; replaced with its page, never alone."""

    __tablename__ = "book_chunks"
    __table_args__ = (
        Index("uq_book_chunks_page_id_ordinal", "page_id", "ordinal", unique=True),
        Index("ix_book_chunks_tsv", "tsv", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    page_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("book_pages.id", ondelete="CASCADE"), nullable=False)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)  # heading path line, blank line, body
    heading_path: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)  # page title first
    anchor: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    char_count: Mapped[int] = mapped_column(Integer, nullable=False)
    term_count: Mapped[int] = mapped_column(Integer, nullable=False)  # indexed terms (BM25 length)
    tsv: Mapped[str] = mapped_column(TSVECTOR, nullable=False)
    # Any size, so that a new model can be rolled in beside the old one; the HNSW index is per size (a partial
    # index on `embedding::vector(n)`, made by ingest for the size in use: lectern.ingest.vectors).
    embedding: Mapped[list[float] | None] = mapped_column(VECTOR())


class BookLocale(Base):
    """Per locale: how many chunks its pages hold and their indexed terms (BM25's N and average length).

    Kept by the triggers on book_chunks (migration 0007), like BookTerm and BookPosting.
    """

    __tablename__ = "book_locales"

    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    search_config: Mapped[str] = mapped_column(String(63), nullable=False)  # of its latest chunks
    chunks: Mapped[int] = mapped_column(BigInteger, nullable=False)
    terms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BookTerm(Base):
    """A lexeme of one locale, and how many chunks hold it (its document frequency); 0 rows are kept."""

    __tablename__ = "book_terms"
    __table_args__ = (
        Index("uq_book_terms_locale_lexeme", "locale", "lexeme", unique=True),
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    lexeme: Mapped[str] = mapped_column(Text, nullable=False)
    chunks: Mapped[int] = mapped_column(Integer, nullable=False)


class BookPosting(Base):
    """One lexeme in one chunk: how often (tf), the chunk's length, and the impact that orders a term's postings."""

    __tablename__ = "book_postings"
    __table_args__ = (
        Index(
            "ix_book_postings_term_id_impact",
            "term_id",
            text("impact DESC"),
            postgresql_include=["chunk_id", "tf", "terms"],
        ),
    )

    # The primary key also carries tf and the length (INCLUDE in migration 0007), so rescoring reads the index only.
    # No foreign key to book_chunks: its check would cost every one of a page's ~300 postings; the triggers that
    # write postings also delete them.
    chunk_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    term_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # book_terms.id
    impact: Mapped[float] = mapped_column(REAL, nullable=False)
    tf: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    terms: Mapped[int] = mapped_column(Integer, nullable=False)


class RequestMetric(Base):
    """Requests of one minute × route × method × status class, summed over every instance (lectern.metrics).

    Durations are whole microseconds; `buckets` holds one count per OpenTelemetry bucket bound plus the
    overflow. Minutes past the retention are folded into one row per series at minute 1970-01-01T00:00Z.
    """

    __tablename__ = "request_metrics"

    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    route: Mapped[str] = mapped_column(Text, primary_key=True)  # the route template, never the raw path
    method: Mapped[str] = mapped_column(String(16), primary_key=True)
    status_class: Mapped[int] = mapped_column(Integer, primary_key=True)  # 2 for 2xx
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_us: Mapped[int] = mapped_column(BigInteger, nullable=False)
    buckets: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    cold_starts: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    init_us: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class Conversation(Base):
    """A signed-in reader's conversation with the book (anonymous chats are never stored)."""

    __tablename__ = "chat_conversations"
    __table_args__ = (Index("ix_chat_conversations_user_id_updated_at", "user_id", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)  # the first question, shortened
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class ConversationMessage(Base):
    """One turn of a conversation: the reader's question or the answer, with the passages it cites."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("uq_chat_messages_conversation_id_position", "conversation_id", "position", unique=True),
        CheckConstraint("role IN ('user', 'assistant')", name="role"),
        CheckConstraint("mode IS NULL OR mode IN ('llm', 'extractive')", name="mode"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, … in the conversation
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    selected_text: Mapped[str | None] = mapped_column(Text)  # questions about a selection
    page_url: Mapped[str | None] = mapped_column(Text)
    citations: Mapped[list[dict[str, object]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    mode: Mapped[str | None] = mapped_column(String(12))  # answers only: llm or extractive
    created_at: Mapped[datetime] = _now()


class AnswerFeedback(Base):
    """A reader's rating of one stored answer; rating again replaces it."""

    __tablename__ = "chat_feedback"
    __table_args__ = (CheckConstraint("rating IN ('up', 'down')", name="rating"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    rating: Mapped[str] = mapped_column(String(4), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class RateLimitCounter(Base):
    """Hits on one key (a reader, an IP) in one fixed window, shared by every instance (lectern.limits)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class Generation(Base):
    """A reader's generated page or section (lectern.generate), kept as that reader's cache: private to them."""

    __tablename__ = "generations"
    __table_args__ = (
        Index("uq_generations_user_id_cache_key", "user_id", "cache_key", unique=True),
        CheckConstraint("task IN ('personalize', 'translate', 'summarize', 'explain', 'quiz')", name="task"),
        CheckConstraint("mode IN ('llm', 'extractive')", name="mode"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # SHA-256 of everything the content depends on: source hash, task, section, language, level, reader, model.
    cache_key: Mapped[str] = mapped_column(String(64), nullable=False)
    # Null for a text the reader supplied; a page removed from the book takes its generations with it.
    page_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("book_pages.id", ondelete="CASCADE"), index=True)
    source_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    task: Mapped[str] = mapped_column(String(20), nullable=False)
    section: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    level: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(12), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_json: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    parts: Mapped[list[dict[str, object]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    warnings: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default="[]")
    tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = _now()


class GenerationUsage(Base):
    """Model tokens one reader's generations used in one UTC day, shared by every instance (lectern.generate)."""

    __tablename__ = "generation_usage"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)  # the day's first instant, UTC
    tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
