"""vectors: pgvector, an embedding per chunk, and the model that made a page's embeddings

The HNSW indexes are not made here: each is a partial index for one vector size, made by ingest once it
knows the configured model's size (lectern.ingest.vectors).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import VECTOR

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.add_column("book_pages", sa.Column("embedding_model", sa.Text(), nullable=True))
    op.add_column("book_pages", sa.Column("embedding_dimensions", sa.Integer(), nullable=True))
    op.add_column("book_chunks", sa.Column("embedding", VECTOR(), nullable=True))


def downgrade() -> None:
    # The per-size HNSW indexes go with the column. The extension stays: other schemas may use it.
    op.drop_column("book_chunks", "embedding")
    op.drop_column("book_pages", "embedding_dimensions")
    op.drop_column("book_pages", "embedding_model")
