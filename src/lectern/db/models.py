"""All tables, one model each (domains import these; this module imports no domain)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
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
    chunk_count: Mapped[int] = mapped_column(Integer, nullable=False)
    term_count: Mapped[int] = mapped_column(Integer, nullable=False)  # indexed terms in all its chunks (BM25)
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
