"""One Database per app: the engine is built on first use (never at import) and sized for short-lived instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from lectern.db.url import is_local, is_pooled, libpq_url, sqlalchemy_url
from lectern.errors import AppError
from lectern.settings import Settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def resolve_url(settings: Settings, *, migrations: bool = False) -> str:
    """The SQLAlchemy URL to use: DATABASE_URL(_UNPOOLED for migrations) or the embedded server."""
    if migrations and settings.database_url_unpooled is not None:
        return sqlalchemy_url(settings.database_url_unpooled.get_secret_value())
    if settings.database_url is not None:
        return sqlalchemy_url(settings.database_url.get_secret_value())
    from lectern.db.embedded import start_embedded

    return start_embedded(settings.lectern_data_dir)


def build_engine(url: str, settings: Settings) -> AsyncEngine:
    """An async engine that works through PgBouncer in transaction mode (Neon's pooler).

    Direct remote hosts get a liveness ping on checkout (a suspended Neon compute drops idle
    connections); through the pooler or on a local socket that round trip buys nothing.
    """
    # SQLAlchemy costs ~0.2 s to import: only requests that use the database pay it.
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=300,
        pool_pre_ping=not (is_pooled(url) or is_local(url)),
        # Server-side prepared statements do not survive PgBouncer's transaction mode: never prepare.
        connect_args={"prepare_threshold": None, "connect_timeout": 10},
    )


class Database:
    """Lazily built engine and session factory for one app instance."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self._settings = settings
        self._url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._read_sessions: async_sessionmaker[AsyncSession] | None = None
        self._resolved_url: str | None = None
        self._readers: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._lock = asyncio.Lock()

    async def engine(self) -> AsyncEngine:
        """The engine, built on first use (starting the embedded server if needed)."""
        if self._engine is None:
            async with self._lock:
                if self._engine is None:
                    url = self._url
                    if url is None and self._settings.embedded_database:
                        # Starting the embedded server blocks for about a second: not on the event loop.
                        url = await asyncio.to_thread(resolve_url, self._settings)
                    elif url is None:
                        url = resolve_url(self._settings)
                    from sqlalchemy.ext.asyncio import async_sessionmaker

                    self._resolved_url = url
                    self._engine = build_engine(url, self._settings)
                    self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
                    # Reads need no transaction: one round trip per query instead of BEGIN … COMMIT.
                    reading = self._engine.execution_options(isolation_level="AUTOCOMMIT")
                    self._read_sessions = async_sessionmaker(reading, expire_on_commit=False)
        return self._engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session committed when the block ends without error, rolled back otherwise (see AppError.keeps_changes)."""
        await self.engine()
        assert self._sessions is not None
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except AppError as exc:
                await (session.commit() if exc.keeps_changes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for requests that only read: each statement runs on its own, nothing to commit."""
        await self.engine()
        assert self._read_sessions is not None
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A pooled psycopg connection in autocommit, for hot single-row reads.

        SQLAlchemy's async layer (engine checkout, execution, check-in) costs several times the query
        itself in CPU, more than the rest of a GET /api/profile together, so the hottest reads use a
        small psycopg pool of their own (docs/decisions/0004).
        """
        pool = self._readers or await self._open_readers()
        async with pool.connection() as connection:
            yield connection

    async def _open_readers(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        await self.engine()  # resolves the URL (starting the embedded server if needed)
        async with self._lock:
            if self._readers is None:
                from psycopg_pool import AsyncConnectionPool

                assert self._resolved_url is not None
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    libpq_url(self._resolved_url),
                    min_size=1,
                    max_size=self._settings.db_pool_size,
                    open=False,
                    # No server-side prepared statements: PgBouncer in transaction mode (Neon's pooler).
                    kwargs={"autocommit": True, "prepare_threshold": None, "connect_timeout": 10},
                    max_idle=300,
                    name="lectern-readers",
                )
                await pool.open()
                self._readers = pool
        return self._readers

    async def dispose(self) -> None:
        if self._readers is not None:
            await self._readers.close()
            self._readers = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessions = None
            self._read_sessions = None
