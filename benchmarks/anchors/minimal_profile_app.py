"""The minimal app that does what GET /api/profile does: verify a JWT, read one row, return it.

FastAPI + SQLAlchemy async + psycopg + PyJWT, written the way their docs show, with no extras.
"""

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Profile(Base):
    """Only the columns this app reads, as a minimal app would declare them."""

    __tablename__ = "profiles"
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    display_name: Mapped[str | None]
    software_background: Mapped[str]
    hardware_background: Mapped[str]
    experience_level: Mapped[str]
    goals: Mapped[str]
    updated_at: Mapped[datetime]


engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=5, max_overflow=5)
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


def current_user(authorization: Annotated[str, Header()]) -> uuid.UUID:
    token = authorization.removeprefix("Bearer ")
    try:
        claims = jwt.decode(
            token, os.environ["JWT_SECRET"], algorithms=["HS256"], audience="lectern-api", issuer="lectern"
        )
    except jwt.PyJWTError:
        raise HTTPException(401) from None
    return uuid.UUID(claims["sub"])


@app.get("/api/profile")
async def profile(
    user_id: Annotated[uuid.UUID, Depends(current_user)], session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, object]:
    row = (await session.execute(select(Profile).where(Profile.user_id == user_id))).scalar_one_or_none()
    if row is None:
        raise HTTPException(404)
    return {
        "display_name": row.display_name,
        "software_background": row.software_background,
        "hardware_background": row.hardware_background,
        "experience_level": row.experience_level,
        "goals": row.goals,
        "updated_at": row.updated_at.isoformat(),
    }
