"""GET /api/health: liveness. Imports nothing heavy, so a cold start answers it fast."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from lectern import __version__

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["healthy"]
    version: str


@router.get("/api/health")
async def health() -> Liveness:
    """Liveness: the function runs. Touches nothing external."""
    return Liveness(status="healthy", version=__version__)
