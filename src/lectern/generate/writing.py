"""Writing with the model: one task per unit, at most GENERATE_CONCURRENCY at once, each unit under the guard
(personalize, translate) or written directly (summarize, explain) or checked as a quiz; a failure cancels the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from lectern.generate.plan import Part, Plan, Result, TokenMeter, Work
from lectern.generate.prompts import (
    READING_TOKENS,
    approximate_tokens,
    keeps_headings,
    new_boundary,
    quiz_max_tokens,
    quiz_messages,
    reading_messages,
    retry_messages,
)
from lectern.generate.quiz import parse_quiz, render_quiz
from lectern.generate.rewrite import Ask, RewriteRequest, rewrite_unit
from lectern.generate.schemas import Quiz, Task
from lectern.generate.sections import Unit
from lectern.llm import ChatMessage, Completion, LLMUnavailable, complete
from lectern.settings import Settings

TEMPERATURES: dict[Task, float] = {
    "personalize": 0.2,
    "translate": 0.1,
    "summarize": 0.3,
    "explain": 0.3,
    "quiz": 0.4,
}
# Units cancelled but not yet finished: referenced until they are, or they could be collected midway.
_stopping: set[asyncio.Task[Part]] = set()


def start(work: Work, settings: Settings, meter: TokenMeter) -> list[asyncio.Task[Part]]:
    """One task per unit, at most GENERATE_CONCURRENCY of them talking to the model at once."""
    slots = asyncio.Semaphore(settings.generate_concurrency)
    ask = _asker(settings, meter, TEMPERATURES[work.plan.task])

    async def write(unit: Unit) -> Part:
        async with slots:
            return await write_unit(work, unit, ask)

    return [asyncio.create_task(write(unit), name=f"generate-unit-{unit.index}") for unit in work.units]


def stop(tasks: Sequence[asyncio.Task[Part]]) -> None:
    """Cancel the units still running (their model calls close with them)."""
    for task in tasks:
        if not task.done():
            task.cancel()
            _stopping.add(task)
            task.add_done_callback(_stopping.discard)


def result_of(plan: Plan, parts: Sequence[Part]) -> Result:
    quiz = parts[0].quiz if plan.task == "quiz" and parts else None
    return Result(list(parts), quiz, [part.warning for part in parts if part.warning])


async def run(work: Work, settings: Settings, meter: TokenMeter) -> Result:
    """Every unit written by the model, in order (the first failure cancels the others)."""
    tasks = start(work, settings, meter)
    try:
        parts = [await task for task in tasks]
    finally:
        stop(tasks)
    return result_of(work.plan, parts)


def _asker(settings: Settings, meter: TokenMeter, temperature: float) -> Ask:
    async def ask(messages: list[ChatMessage], max_tokens: int) -> Completion:
        completion = await complete(messages, settings=settings, temperature=temperature, max_tokens=max_tokens)
        if completion.usage is not None:
            meter.used += completion.usage.total_tokens
        else:
            sent = sum(approximate_tokens(message["content"]) for message in messages)
            meter.used += sent + approximate_tokens(completion.text)
        return completion

    return ask


async def write_unit(work: Work, unit: Unit, ask: Ask) -> Part:
    """One unit written by the model for the plan's task."""
    plan = work.plan
    level = plan.level or plan.reader.difficulty
    if plan.task in ("personalize", "translate"):
        request = RewriteRequest(
            task=plan.task,
            language=plan.language,
            level=level,
            reader=plan.reader,
            terms=plan.terms,
            keep_headings=keeps_headings(plan.task, plan.language, plan.source.locale),
        )
        rewritten = await rewrite_unit(unit, request, ask)
        return Part(unit.index, unit.heading, unit.anchor, rewritten.text, rewritten.warning)
    if plan.task == "quiz":
        return await _write_quiz(work, unit, ask, level)
    messages = reading_messages(
        plan.task, unit.markdown, language=plan.language, level=level, reader=plan.reader, boundary=new_boundary()
    )
    limit = READING_TOKENS.get(plan.reader.answer_length, READING_TOKENS["medium"])
    text = (await ask(messages, limit)).text.strip()
    if not text:
        raise LLMUnavailable("The language model answered with nothing.")
    return Part(unit.index, unit.heading, unit.anchor, text)


async def _write_quiz(work: Work, unit: Unit, ask: Ask, level: str) -> Part:
    plan = work.plan
    messages = quiz_messages(
        unit.markdown, plan.questions, language=plan.language, level=level, boundary=new_boundary()
    )
    conversation = messages
    for _ in range(2):
        answer = (await ask(conversation, quiz_max_tokens(plan.questions))).text
        questions = parse_quiz(answer, plan.questions, work.places)
        if questions:
            quiz = Quiz(questions=questions)
            warning = None
            if len(questions) < plan.questions:
                warning = f"The model wrote {len(questions)} usable questions of the {plan.questions} asked."
            return Part(unit.index, unit.heading, unit.anchor, render_quiz(quiz), warning, quiz)
        problems = ["no question was usable: answer with the JSON asked for, each quote copied exactly from the text"]
        conversation = retry_messages(messages, answer, problems)
    raise LLMUnavailable("The language model did not write a usable quiz.")
