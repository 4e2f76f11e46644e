"""The OpenAI API's JSON shapes as the stand-in writes them, and its deterministic embeddings and token counts."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import time
from collections.abc import Sequence
from typing import Any

WORD = re.compile(r"\w+", re.UNICODE)
# A rough tokenizer: words and single punctuation marks. Deterministic, which is all usage numbers need here.
TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
# Deltas keep their trailing whitespace, so joining them gives the reply back exactly.
PIECE = re.compile(r"\s*\S+\s*|\s+")


def count_tokens(text: str) -> int:
    """How many tokens the stand-in bills for `text`."""
    return len(TOKEN.findall(text))


def message_text(message: Any) -> str:
    """The text of a chat message whose content is a string or a list of text parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def last_user_text(messages: Sequence[Any]) -> str:
    """The latest user message's text (what the default reply echoes)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return ""


def reply_pieces(reply: str, max_tokens: int | None) -> tuple[list[str], str]:
    """Split a reply into stream deltas, cut to `max_tokens` pieces; returns (pieces, finish_reason)."""
    pieces = PIECE.findall(reply)
    if max_tokens is not None and len(pieces) > max_tokens:
        return pieces[:max_tokens], "length"
    return pieces, "stop"


def error_body(message: str, *, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chat_completion(
    completion_id: str, model: str, text: str, finish_reason: str, token_usage: dict[str, int]
) -> dict[str, Any]:
    """A non-streamed chat completion."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": token_usage,
        "system_fingerprint": "fp_standin",
    }


def chat_chunk(
    completion_id: str,
    model: str,
    delta: dict[str, Any] | None,
    *,
    finish_reason: str | None = None,
    token_usage: dict[str, int] | None = None,
    with_usage_field: bool = False,
) -> dict[str, Any]:
    """One streamed chunk; `delta=None` makes the usage-only chunk that has no choices."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
    chunk: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_standin",
        "choices": choices,
    }
    # With include_usage, OpenAI sends "usage": null on every chunk but the last.
    if with_usage_field or token_usage is not None:
        chunk["usage"] = token_usage
    return chunk


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    """A bag-of-words vector by feature hashing, L2-normalised: texts sharing words point the same way."""
    vector = [0.0] * dimensions
    for word in WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        # No words (or they cancelled out): still a valid unit vector, the same for every such text.
        vector[0] = 1.0
        return vector
    return [x / norm for x in vector]


def encode_base64(vector: list[float]) -> str:
    """The vector as OpenAI's base64 format: little-endian float32s."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def embeddings_list(model: str, vectors: list[list[float]], encoding: str, prompt_tokens: int) -> dict[str, Any]:
    """The answer to POST /v1/embeddings."""
    data = [
        {"object": "embedding", "index": i, "embedding": encode_base64(v) if encoding == "base64" else v}
        for i, v in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def model_entry(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "lectern-standin"}
