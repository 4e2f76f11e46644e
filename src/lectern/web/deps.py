"""Dependencies every domain's routes share: settings and the request's database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.session import Database
from lectern.settings import Settings


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread pool.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one session: committed at the edge, before the response is sent.

    GET and HEAD requests never write, so they read without a transaction (see Database.read_session).
    """
    database: Database = request.app.state.database
    reading = request.method in ("GET", "HEAD")
    async with database.read_session() if reading else database.session() as session:
        yield session


async def get_reader(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    """A pooled psycopg connection in autocommit, for routes that only read a row or two."""
    database: Database = request.app.state.database
    async with database.reader() as reader:
        yield reader


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReaderDep = Annotated[AsyncConnection[Any], Depends(get_reader, scope="function")]
