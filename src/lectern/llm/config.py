"""Which OpenAI-compatible API Lectern calls for chat and for embeddings, read from Settings."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

from lectern.llm.errors import LLMNotConfigured
from lectern.settings import Settings

# Local servers (Ollama, vLLM, LM Studio) ignore the key, but the SDK insists on one.
KEYLESS = "no-key"


@dataclass(frozen=True)
class Provider:
    """An OpenAI-compatible API and how patiently to call it."""

    base_url: str
    api_key: str = field(repr=False)
    timeout_seconds: float = 30.0
    max_retries: int = 2

    @property
    def host(self) -> str:
        """The provider's host name, the only part of its address that errors and logs show."""
        return urlsplit(self.base_url).hostname or "the provider"


@dataclass(frozen=True)
class ChatConfig:
    provider: Provider
    model: str


@dataclass(frozen=True)
class EmbeddingsConfig:
    provider: Provider
    model: str
    dimensions: int | None
    batch_size: int


def is_local(base_url: str) -> bool:
    """Tell whether a base URL points at this machine or a private network (where servers need no key)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _key(secret: SecretStr | None) -> str | None:
    text = secret.get_secret_value().strip() if secret is not None else ""
    return text or None


def llm_configured(settings: Settings) -> bool:
    """Tell whether chat can use a language model: a model, and a key or a local base URL."""
    return bool(settings.llm_model) and (_key(settings.llm_api_key) is not None or is_local(settings.llm_base_url))


def chat_config(settings: Settings) -> ChatConfig:
    """The chat model to call; LLMNotConfigured names the variables to set."""
    if not llm_configured(settings):
        missing = [] if settings.llm_model else ["LLM_MODEL"]
        if _key(settings.llm_api_key) is None and not is_local(settings.llm_base_url):
            missing.append("LLM_API_KEY (or LLM_BASE_URL pointing at a local server)")
        raise LLMNotConfigured("No language model is configured: set " + " and ".join(missing) + ".")
    provider = Provider(
        base_url=settings.llm_base_url,
        api_key=_key(settings.llm_api_key) or KEYLESS,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )
    return ChatConfig(provider=provider, model=str(settings.llm_model))


def embeddings_api_key(settings: Settings) -> str | None:
    """The embeddings key; LLM_API_KEY serves only when embeddings go to the same base URL.

    Sending the chat provider's key to another provider would hand it a credential it must not see.
    """
    own = _key(settings.embeddings_api_key)
    if own is not None or settings.embeddings_base_url:
        return own
    return _key(settings.llm_api_key)


def embeddings_configured(settings: Settings) -> bool:
    """Tell whether embeddings go through an OpenAI-compatible API and can be called."""
    base_url = settings.embeddings_base_url or settings.llm_base_url
    return (
        settings.embeddings == "openai"
        and bool(settings.embeddings_model)
        and (embeddings_api_key(settings) is not None or is_local(base_url))
    )


def embeddings_config(settings: Settings) -> EmbeddingsConfig:
    """The embeddings model to call; LLMNotConfigured names the variables to set."""
    base_url = settings.embeddings_base_url or settings.llm_base_url
    if not embeddings_configured(settings):
        missing = [] if settings.embeddings == "openai" else ["EMBEDDINGS=openai"]
        if not settings.embeddings_model:
            missing.append("EMBEDDINGS_MODEL")
        if embeddings_api_key(settings) is None and not is_local(base_url):
            missing.append("EMBEDDINGS_API_KEY (or LLM_API_KEY when EMBEDDINGS_BASE_URL is unset)")
        raise LLMNotConfigured("Embeddings through an API are not configured: set " + " and ".join(missing) + ".")
    provider = Provider(
        base_url=base_url,
        api_key=embeddings_api_key(settings) or KEYLESS,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
    )
    return EmbeddingsConfig(
        provider=provider,
        model=str(settings.embeddings_model),
        dimensions=settings.embeddings_dimensions,
        batch_size=settings.embeddings_batch_size,
    )
