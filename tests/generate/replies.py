"""Stand-in replies that play a model for generation: faithful, translating, or answering attempt by attempt.

Shared by the generation tests, the browser tests of the widget and the generation benchmarks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_SOURCE = re.compile(r"<source>\n(.*)\n</source boundary=", re.S)
_TOKEN = re.compile(r"⟦\d+⟧")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
URDU_WORD = "اردو"


def source_of(messages: list[dict[str, Any]]) -> str:
    """The text a generation prompt quotes in its <source> block (the first user message)."""
    first_user = next(message["content"] for message in messages if message["role"] == "user")
    found = _SOURCE.search(first_user)
    assert found, first_user
    return found.group(1)


def faithful(messages: list[dict[str, Any]]) -> str:
    """A model that changes nothing: the source, tokens and all."""
    return source_of(messages)


def into_urdu(messages: list[dict[str, Any]]) -> str:
    """A 'translation': every English word becomes an Urdu one; tokens, marks and table rules stay."""
    return _WORD.sub(URDU_WORD, source_of(messages))


def code_tokens(text: str) -> list[str]:
    """Tokens alone on their line: those that stand for code blocks."""
    return [line.strip() for line in text.splitlines() if _TOKEN.fullmatch(line.strip())]


def attempts(*replies: Callable[[list[dict[str, Any]]], str]) -> Callable[[list[dict[str, Any]]], str]:
    """A model whose n-th answer to a part comes from the n-th reply (the last one repeats). A retry carries the
    first answer back, so the number of assistant messages says which attempt this is."""

    def reply(messages: list[dict[str, Any]]) -> str:
        attempt = sum(1 for message in messages if message["role"] == "assistant")
        return replies[min(attempt, len(replies) - 1)](messages)

    return reply


def quiz_reply(questions: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], str]:
    return lambda messages: json.dumps({"questions": questions})
