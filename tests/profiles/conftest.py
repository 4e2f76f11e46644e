"""Signed-in readers for the profile and preferences tests."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import bearer, signup


@pytest.fixture
async def reader(client: AsyncClient) -> dict[str, str]:
    """Authorization headers of a freshly signed-up reader."""
    return bearer(await signup(client, "ada@example.org"))


@pytest.fixture
async def other_reader(client: AsyncClient) -> dict[str, str]:
    return bearer(await signup(client, "grace@example.org"))
