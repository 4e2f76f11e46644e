"""Fixtures other test folders reuse (import them into a conftest): app clients and the lectern log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from lectern.app import create_app
from tests.web.checks import RecordingHandler, recording

ClientFactory = Callable[..., Awaitable[AsyncClient]]


@pytest.fixture
async def make_client(make_settings: Any) -> AsyncIterator[ClientFactory]:
    """`await make_client(**settings_overrides)` (or `app=`) → a client; everything is closed after the test."""
    async with AsyncExitStack() as stack:

        async def make(
            *,
            app: FastAPI | None = None,
            base_url: str = "http://testserver",
            raise_app_exceptions: bool = True,
            **overrides: Any,
        ) -> AsyncClient:
            application = app if app is not None else create_app(make_settings(**overrides))
            stack.push_async_callback(application.state.database.dispose)
            transport = ASGITransport(app=application, raise_app_exceptions=raise_app_exceptions)
            return await stack.enter_async_context(AsyncClient(transport=transport, base_url=base_url))

        yield make


@pytest.fixture
def lectern_log() -> Iterator[RecordingHandler]:
    """Every record logged under `lectern` during the test (that logger does not propagate to caplog)."""
    with recording("lectern") as handler:
        yield handler
