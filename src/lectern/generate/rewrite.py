"""Personalize or translate one unit under the guard: protect, ask, repair and check, ask once more saying what
broke, restore; and when the model's version still breaks the structure, keep the original text. The result's
code blocks (and addresses, and for translations inline code) are the source's, byte for byte, always."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from lectern.generate.markdown_guard import check, code_unchanged, expect, repair
from lectern.generate.placeholders import protect, restore
from lectern.generate.prompts import new_boundary, retry_messages, rewrite_max_tokens, rewrite_messages
from lectern.generate.schemas import Reader, Task
from lectern.generate.sections import Unit
from lectern.llm import ChatMessage, Completion

ATTEMPTS = 2
# One call to the model: the messages and a token cap in, its completion out.
Ask = Callable[[list[ChatMessage], int], Awaitable[Completion]]


@dataclass(frozen=True)
class Rewritten:
    text: str
    warning: str | None = None


@dataclass(frozen=True)
class RewriteRequest:
    """What every unit of one page shares."""

    task: Task
    language: str
    level: str
    reader: Reader
    terms: Mapping[str, str | None]  # glossary terms of a translation: translation, or None to keep as written
    keep_headings: bool


async def rewrite_unit(unit: Unit, request: RewriteRequest, ask: Ask) -> Rewritten:
    """The unit personalized or translated, or as it was, with a warning saying why."""
    translating = request.task == "translate"
    protected = protect(unit.markdown, inline_code=translating, terms=request.terms if translating else None)
    if not protected.pattern.sub("", protected.text).strip():
        return Rewritten(unit.markdown)  # code and addresses only: nothing to rewrite
    expected = expect(protected, keep_headings=request.keep_headings)
    messages = rewrite_messages(
        request.task,
        protected,
        language=request.language,
        level=request.level,
        reader=request.reader,
        boundary=new_boundary(),
    )
    max_tokens = rewrite_max_tokens(request.task, protected)
    conversation = messages
    problems: list[str] = []
    for _ in range(ATTEMPTS):
        completion = await ask(conversation, max_tokens)
        output = repair(completion.text, expected)
        problems = check(output, expected)
        if completion.finish_reason == "length":
            problems.append("the answer was cut off before its end: write it more compactly")
        if not output.strip():
            problems.append("the answer was empty")
        if not problems:
            result = restore(output, protected)
            if code_unchanged(unit.markdown, result, inline=translating):
                return Rewritten(result)
            problems = ["code or an address changed"]
        conversation = retry_messages(messages, completion.text, problems)
    where = f"“{unit.heading}”" if unit.heading else "at the top of the page"
    return Rewritten(
        unit.markdown,
        f"The part {where} is shown as written: the model's version did not keep its structure ({problems[0]}).",
    )
