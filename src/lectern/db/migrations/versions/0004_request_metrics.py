"""request metrics: per-minute counts and latency histograms per route, method and status class

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_metrics",
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status_class", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("buckets", sa.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("cold_starts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("init_us", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("minute", "route", "method", "status_class", name=op.f("pk_request_metrics")),
    )


def downgrade() -> None:
    op.drop_table("request_metrics")
