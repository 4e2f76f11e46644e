"""Alembic environment: a synchronous psycopg connection, with our models' metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from lectern.db import models
from lectern.db.base import Base

assert models  # the tables register on Base.metadata when models is imported

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_engine(url, poolclass=pool.NullPool, connect_args={"prepare_threshold": None})
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
