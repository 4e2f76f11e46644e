"""lectern.llm against the OpenAI stand-in: settings that point at it, fast backoff, clients closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from lectern.contract import builtin_contract
from lectern.llm import close_clients, retries
from lectern.settings import Settings
from tests.standins.openai_fixtures import openai_standin, openai_standin_server
from tests.standins.openai_server import OpenAIStandIn

__all__ = ["openai_standin", "openai_standin_server"]

CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"
MakeSettings = Callable[..., Settings]


@pytest.fixture(autouse=True)
async def closed_clients() -> AsyncIterator[None]:
    """Every cached SDK client is closed when the test ends (unclosed sockets fail the run)."""
    yield
    await close_clients()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of about 10 ms, so tests of retries without Retry-After stay fast."""
    monkeypatch.setattr(retries, "INITIAL_BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(retries, "MAX_BACKOFF_SECONDS", 0.02)


@pytest.fixture
def llm_settings(openai_standin: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    """Settings for chat and embeddings through the stand-in; keyword overrides win."""
    for name in builtin_contract().variables:
        monkeypatch.delenv(name, raising=False)

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_env": "test",
            "llm_base_url": openai_standin.base_url,
            "llm_api_key": openai_standin.api_key,
            "llm_model": CHAT_MODEL,
            "llm_timeout_seconds": 5,
            "llm_max_retries": 2,
            "embeddings": "openai",
            "embeddings_model": EMBED_MODEL,
        }
        values.update(overrides)
        return Settings(**values)

    return make
