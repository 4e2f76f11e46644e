"""sidebar positions: each page's folder `_category_` positions and its own `sidebar_position`

The book's page list follows Docusaurus's sidebar, which orders by these positions; until now only the number
prefixes of source paths were known. Rows ingested before this keep a null array (their prefixes still order them)
until the next ingest rewrites them (INDEX_FORMAT 4).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("book_pages", sa.Column("sidebar_positions", postgresql.ARRAY(sa.Double()), nullable=True))


def downgrade() -> None:
    op.drop_column("book_pages", "sidebar_positions")
