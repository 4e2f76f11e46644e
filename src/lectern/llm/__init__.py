"""Language models and embeddings through the official `openai` SDK, against any OpenAI-compatible API."""

from lectern.llm.chat import ChatMessage, Completion, Usage, complete, stream
from lectern.llm.client import close_clients
from lectern.llm.config import embeddings_configured, llm_configured
from lectern.llm.embeddings import embed
from lectern.llm.errors import LLMError, LLMNotConfigured, LLMTimeout, LLMUnavailable

__all__ = [
    "ChatMessage",
    "Completion",
    "LLMError",
    "LLMNotConfigured",
    "LLMTimeout",
    "LLMUnavailable",
    "Usage",
    "close_clients",
    "complete",
    "embed",
    "embeddings_configured",
    "llm_configured",
    "stream",
]
