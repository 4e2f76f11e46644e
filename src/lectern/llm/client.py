"""The official SDK's AsyncOpenAI client, built on first use and kept per provider and per event loop."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from lectern.llm.config import Provider

if TYPE_CHECKING:
    from openai import AsyncOpenAI

# An AsyncOpenAI holds connections bound to the event loop that opened them, so each loop gets its own.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def openai_client(provider: Provider) -> AsyncOpenAI:
    """The client for `provider` on the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    key = (provider.base_url, provider.api_key)
    client = clients.get(key)
    if client is None:
        from openai import AsyncOpenAI

        # Lectern retries itself, within its time budget (retries.py); the SDK's own retries would not count
        # against it. The base URL is always explicit so that OPENAI_BASE_URL in the environment cannot win.
        # Each call passes its own timeout: providers with the same URL and key share this client.
        client = AsyncOpenAI(
            api_key=provider.api_key,
            base_url=provider.base_url,
            max_retries=0,
            timeout=provider.timeout_seconds,
        )
        clients[key] = client
    return client


async def close_clients() -> None:
    """Close the clients of the running event loop (at shutdown, and between tests)."""
    clients = _clients.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.close()
