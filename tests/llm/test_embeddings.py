"""embed(): vectors in order, one request per batch, each batch retried on its own."""

from __future__ import annotations

import math

import pytest

from lectern.llm import LLMNotConfigured, LLMUnavailable, embed
from tests.llm.conftest import EMBED_MODEL, MakeSettings
from tests.standins.openai_server import OpenAIStandIn
from tests.standins.openai_shapes import hashed_embedding

TEXTS = [f"passage {i} about vector search and chapter {i % 3}" for i in range(23)]


@pytest.mark.parametrize(("count", "batch_size"), [(23, 5), (23, 23), (23, 100), (1, 1), (10, 3)])
async def test_texts_go_in_batches_and_come_back_in_order(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, count: int, batch_size: int
) -> None:
    texts = TEXTS[:count]
    vectors = await embed(texts, settings=llm_settings(), batch_size=batch_size)
    requests = openai_standin.requests_to("embeddings")
    assert len(requests) == math.ceil(count / batch_size)
    assert [len(r.input) for r in requests] == [min(batch_size, count - i) for i in range(0, count, batch_size)]
    assert all(r.body["encoding_format"] == "float" and r.model == EMBED_MODEL for r in requests)
    assert len(vectors) == count
    for text, vector in zip(texts, vectors, strict=True):
        assert vector == pytest.approx(hashed_embedding(text, 1536))


async def test_the_batch_size_and_dimensions_come_from_settings(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn
) -> None:
    vectors = await embed(TEXTS[:7], settings=llm_settings(embeddings_batch_size=4, embeddings_dimensions=32))
    requests = openai_standin.requests
    assert [len(r.input) for r in requests] == [4, 3]
    assert all(r.body["dimensions"] == 32 for r in requests)
    assert {len(v) for v in vectors} == {32}


async def test_no_texts_no_request(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    assert await embed([], settings=llm_settings()) == []
    assert openai_standin.requests == []


async def test_a_failing_batch_is_retried_alone(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, fast_backoff: None
) -> None:
    openai_standin.server_error(count=1, when=lambda request: "passage 5 " in str(request.input))
    openai_standin.rate_limit(retry_after=0.05, count=1, when=lambda request: "passage 9 " in str(request.input))
    vectors = await embed(TEXTS[:12], settings=llm_settings(), batch_size=4)
    assert len(vectors) == 12
    assert [r.status for r in openai_standin.requests] == [200, 500, 200, 429, 200]


async def test_a_batch_that_keeps_failing_is_unavailable(
    llm_settings: MakeSettings, openai_standin: OpenAIStandIn, fast_backoff: None
) -> None:
    openai_standin.server_error(count=10, endpoint="embeddings")
    with pytest.raises(LLMUnavailable, match="embeddings API"):
        await embed(TEXTS, settings=llm_settings(llm_max_retries=1), batch_size=10)
    assert len(openai_standin.requests) == 2


async def test_embeddings_off_is_not_configured(llm_settings: MakeSettings, openai_standin: OpenAIStandIn) -> None:
    with pytest.raises(LLMNotConfigured, match="EMBEDDINGS"):
        await embed(TEXTS, settings=llm_settings(embeddings="none"))
    assert openai_standin.requests == []
