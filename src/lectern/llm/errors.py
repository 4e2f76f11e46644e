"""What can go wrong when Lectern asks a language model: each failure is a domain error with a stable code.

Details name the provider's host and HTTP status at most: never a key, never the provider's own message
(OpenAI's 401 message quotes part of the key).
"""

from __future__ import annotations

from lectern.errors import AppError


class LLMError(AppError):
    """Any failure of the language model or embeddings API; callers may fall back to extractive answers."""

    status_code = 502
    code = "llm_error"
    title = "Language model error"


class LLMTimeout(LLMError):
    status_code = 504
    code = "llm_timeout"
    title = "Language model timed out"


class LLMUnavailable(LLMError):
    status_code = 502
    code = "llm_unavailable"
    title = "Language model unavailable"


class LLMNotConfigured(LLMError):
    status_code = 503
    code = "llm_not_configured"
    title = "Language model not configured"
