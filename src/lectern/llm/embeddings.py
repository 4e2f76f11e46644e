"""Embeddings from an OpenAI-compatible API (EMBEDDINGS=openai), requested in batches, or from a local
sentence-transformers model (EMBEDDINGS=local); `Embedder` names the source so the index can record it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lectern.llm.client import openai_client
from lectern.llm.config import embeddings_config
from lectern.llm.errors import LLMUnavailable
from lectern.llm.retries import call_with_retries
from lectern.settings import Settings

if TYPE_CHECKING:
    from openai.types import CreateEmbeddingResponse

WHAT = "The embeddings API"


@dataclass(frozen=True)
class Embedder:
    """The configured source of embeddings, and the model name the index records with its vectors.

    `model` is `openai:<model>` or `local:<folder>@<digest>`; `dimensions` is the size asked for
    (EMBEDDINGS_DIMENSIONS), None for the model's own size, known once it has answered.
    """

    model: str
    dimensions: int | None
    batch_size: int
    settings: Settings = field(repr=False, compare=False)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        return await embed(texts, settings=self.settings)


def embedder_for(settings: Settings) -> Embedder | None:
    """The embedder EMBEDDINGS selects, None for `none`; LLMNotConfigured when it lacks what it needs."""
    if settings.embeddings == "none":
        return None
    if settings.embeddings == "local":
        from lectern.llm.local_embeddings import local_model_name, local_model_path

        model = local_model_name(local_model_path(settings))
    else:
        model = f"openai:{embeddings_config(settings).model}"
    return Embedder(model, settings.embeddings_dimensions, settings.embeddings_batch_size, settings)


async def embed(texts: Sequence[str], *, settings: Settings, batch_size: int | None = None) -> list[list[float]]:
    """One vector per text, in order; each batch is one request (or one local pass), retried within its budget."""
    if settings.embeddings == "local":
        from lectern.llm.local_embeddings import embed_locally

        return await embed_locally(texts, settings=settings, batch_size=batch_size)
    from openai import omit

    config = embeddings_config(settings)
    size = config.batch_size if batch_size is None else batch_size
    if size < 1:
        raise ValueError("batch_size must be at least 1")
    client = openai_client(config.provider)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), size):
        batch = list(texts[start : start + size])

        async def attempt(batch: list[str] = batch) -> CreateEmbeddingResponse:
            # "float" rather than the SDK's default base64: every compatible server supports it.
            return await client.embeddings.create(
                model=config.model,
                input=batch,
                dimensions=omit if config.dimensions is None else config.dimensions,
                encoding_format="float",
                timeout=config.provider.timeout_seconds,
            )

        response = await call_with_retries(attempt, config.provider, what=WHAT)
        if len(response.data) != len(batch):
            raise LLMUnavailable(
                f"{WHAT} at {config.provider.host} returned {len(response.data)} vectors for {len(batch)} texts."
            )
        vectors.extend(list(item.embedding) for item in sorted(response.data, key=lambda item: item.index))
    return vectors
