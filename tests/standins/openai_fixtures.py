"""pytest fixtures for the OpenAI stand-in: one server per session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.openai_server import OpenAIStandIn


@pytest.fixture(scope="session")
def openai_standin_server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as server:
        yield server


@pytest.fixture
def openai_standin(openai_standin_server: OpenAIStandIn) -> Iterator[OpenAIStandIn]:
    """The running stand-in with no requests, no faults and default replies."""
    openai_standin_server.reset()
    yield openai_standin_server
    openai_standin_server.reset()
