"""generations: each reader's generated pages (their cache), and the model tokens they use per day

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=True),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=False),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("parts", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "task IN ('personalize', 'translate', 'summarize', 'explain', 'quiz')", name=op.f("ck_generations_task")
        ),
        sa.CheckConstraint("mode IN ('llm', 'extractive')", name=op.f("ck_generations_mode")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generations_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["book_pages.id"], name=op.f("fk_generations_page_id_book_pages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index("uq_generations_user_id_cache_key", "generations", ["user_id", "cache_key"], unique=True)
    op.create_index("ix_generations_page_id", "generations", ["page_id"], unique=False)
    op.create_table(
        "generation_usage",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generation_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_generation_usage")),
    )


def downgrade() -> None:
    op.drop_table("generation_usage")
    op.drop_index("ix_generations_page_id", table_name="generations")
    op.drop_index("uq_generations_user_id_cache_key", table_name="generations")
    op.drop_table("generations")
