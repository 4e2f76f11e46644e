"""Generation: plan it (task, source, reader, cache key), read the page, write it unit by unit under the guard
(or quote it when no model is configured), and store the result as the reader's own cache.

No database transaction stays open while a model writes: planning and reading are short reads, and storing is
one short transaction at the end (as chat does, docs/chat.md "Storage").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.errors import InvalidInput, NotFound
from lectern.generate import extractive, repository
from lectern.generate.glossary import load_glossary, terms_digest
from lectern.generate.languages import UNDETERMINED, describe, direction, same_language
from lectern.generate.plan import Part, Plan, Result, SourceFacts, Work
from lectern.generate.prompts import READING_TOKENS, approximate_tokens, quiz_max_tokens
from lectern.generate.quiz import Place, render_quiz
from lectern.generate.schemas import (
    EXTRACTIVE_TASKS,
    GeneratedContent,
    GenerateRequest,
    PageSource,
    Quiz,
    Reader,
    SourceRead,
    Task,
    TextSource,
)
from lectern.generate.sections import (
    READING_UNIT_CHARS,
    REWRITE_UNIT_CHARS,
    Section,
    Unit,
    outline,
    page_markdown,
    select_section,
    units,
)
from lectern.llm import LLMNotConfigured
from lectern.llm.config import chat_config
from lectern.settings import Settings

# Bump when prompts or the guard change what a generation says: every stored result then misses once.
KEY_FORMAT = "1"
# A quiz reads the page's first this many characters (about 6,000 tokens).
QUIZ_SOURCE_CHARS = 24_000
TEXT_TITLE = "Your text"
NOTHING_TO_QUOTE = "This page has no sentences to quote: it holds only code, tables or headings."
VERBS: dict[Task, str] = {
    "personalize": "Personalizing a page",
    "translate": "Translating",
    "summarize": "Summarizing",
    "explain": "Explaining",
    "quiz": "Writing a quiz",
}
# The reader's fields each task adapts to: changing one of these misses the cache, changing another does not.
READER_FIELDS: dict[Task, tuple[str, ...]] = {
    "personalize": (
        "experience_level",
        "software_background",
        "hardware_background",
        "learning_style",
        "answer_length",
    ),
    "translate": (),
    "summarize": ("answer_length",),
    "explain": ("experience_level", "software_background", "hardware_background", "learning_style", "answer_length"),
    "quiz": (),
}


@dataclass(frozen=True)
class GenerateOptions:
    """The model (None when none is configured, with the reason), the translation glossary, and how long a
    stored result serves as the cache."""

    model: str | None
    missing_model: str
    glossary_path: Path | None
    cache_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> GenerateOptions:
        try:
            model: str | None = chat_config(settings).model
            missing = ""
        except LLMNotConfigured as error:
            model, missing = None, error.detail
        return cls(model, missing, settings.glossary_path, settings.generate_cache_days)


# --- Planning ------------------------------------------------------------------------------------------------


async def plan_generation(
    session: AsyncSession, request: GenerateRequest, reader: Reader, options: GenerateOptions
) -> Plan:
    """Check what can be done and name it by its cache key (reads only): 503 without a model for the tasks that
    need one, 404 for an unknown page, 422 for a translation into the page's own language."""
    task = request.task
    if task not in EXTRACTIVE_TASKS and options.model is None:
        raise LLMNotConfigured(f"{VERBS[task]} needs a language model. {options.missing_model}")
    source = await _source(session, request.source, reader)
    language = (request.language or reader.language) if options.model else (source.locale or UNDETERMINED)
    if task == "translate" and same_language(language, source.locale):
        raise InvalidInput(f"The page is already in {describe(language)}: choose another language.", field="language")
    level = None if task == "translate" else (request.level or reader.difficulty)
    terms = load_glossary(options.glossary_path).terms_for(language) if task == "translate" else {}
    plan = Plan(
        task=task,
        source=source,
        section=request.section,
        language=language,
        level=level,
        questions=request.questions,
        reader=reader,
        model=options.model,
        terms=terms,
        cache_key="",
    )
    return replace(plan, cache_key=cache_key(plan))


def cache_key(plan: Plan) -> str:
    """SHA-256 of everything the content depends on; the reader's fields enter only as far as the task uses them."""
    parts = {
        "format": KEY_FORMAT,
        "task": plan.task,
        "source": plan.source.fingerprint,
        "section": plan.section,
        "language": plan.language,
        "level": plan.level,
        "reader": {name: getattr(plan.reader, name) for name in READER_FIELDS[plan.task]},
        "model": plan.model or "extractive",
        "questions": plan.questions if plan.task == "quiz" else None,
        "glossary": terms_digest(plan.terms) if plan.task == "translate" else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def page_reference(value: str) -> str:
    """What the book's page lookup takes: a URL becomes its path; a query or fragment is dropped."""
    parts = urlsplit(value.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return parts.path or "/"
    return value.strip().split("#", 1)[0].split("?", 1)[0]


async def _source(session: AsyncSession, source: PageSource | TextSource, reader: Reader) -> SourceFacts:
    if isinstance(source, TextSource):
        from lectern.ingest.index import search_config

        sections = outline(source.text)
        title = sections[0].heading if sections and sections[0].heading else TEXT_TITLE
        fingerprint = hashlib.sha256(source.text.encode("utf-8")).hexdigest()
        return SourceFacts(None, title, None, None, search_config(reader.language), fingerprint, source.text)
    page = await repository.find_page(session, page_reference(source.page))
    if page is None:
        raise NotFound("No page of the book has this id, route, doc id, source file or URL path.")
    return SourceFacts(page.id, page.title, page.url, page.locale, page.search_config, page.content_hash)


# --- Stored results ------------------------------------------------------------------------------------------


async def stored_result(
    session: AsyncSession, plan: Plan, options: GenerateOptions
) -> tuple[GeneratedContent, Result] | None:
    """The reader's stored generation for this plan's key; None when there is none, it is older than the cache
    retention (GENERATE_CACHE_DAYS), or there is no reader."""
    if plan.reader.user_id is None:
        return None
    max_age = timedelta(days=options.cache_days)
    row = await repository.stored_generation(session, plan.reader.user_id, plan.cache_key, max_age)
    if row is None:
        return None
    result = Result(
        parts=[Part.from_stored(part) for part in row.parts],
        quiz=Quiz.model_validate(row.content_json) if row.content_json is not None else None,
        warnings=list(row.warnings),
    )
    return content_of(plan, result, created_at=row.created_at, cached=True, model=row.model), result


async def store(session: AsyncSession, plan: Plan, result: Result, tokens: int) -> GeneratedContent:
    """Keep the result as the reader's cache (replacing an older one with the same key); nothing without a reader."""
    if plan.reader.user_id is None:
        return content_of(plan, result, created_at=datetime.now(UTC), cached=False, model=plan.model)
    row = await repository.save_generation(
        session,
        {
            "user_id": plan.reader.user_id,
            "cache_key": plan.cache_key,
            "page_id": plan.source.page_id,
            "source_hash": plan.source.fingerprint,
            "task": plan.task,
            "section": plan.section,
            "language": plan.language,
            "level": plan.level,
            "model": plan.model,
            "mode": plan.mode,
            "title": plan.source.title,
            "url": plan.source.url,
            "content": result.content,
            "content_json": result.quiz.model_dump() if result.quiz is not None else None,
            "parts": [part.stored() for part in result.parts],
            "warnings": result.warnings,
            "tokens": tokens,
        },
    )
    return content_of(plan, result, created_at=row.created_at, cached=False, model=plan.model)


def content_of(
    plan: Plan, result: Result, *, created_at: datetime, cached: bool, model: str | None
) -> GeneratedContent:
    return GeneratedContent(
        content=result.content,
        content_json=result.quiz,
        task=plan.task,
        source=SourceRead(page_id=plan.source.page_id, title=plan.source.title, url=plan.source.url),
        section=plan.section,
        language=plan.language,
        dir=direction(plan.language),
        mode=plan.mode,
        cached=cached,
        model=model,
        created_at=created_at,
        warnings=result.warnings,
    )


# --- Reading the page ----------------------------------------------------------------------------------------


async def prepare_work(session: AsyncSession, plan: Plan) -> Work:
    """Read the page (or text) into sections, and cut them into the units a model writes; 404 for a section the
    page does not have."""
    sections = await _sections(session, plan)
    if plan.section is not None:
        chosen = select_section(sections, plan.section)
        if chosen is None:
            raise NotFound(f"The page has no section with the anchor “{plan.section}”.")
        sections = chosen
    places = [Place.of(s.heading, s.anchor, plan.source.url, s.markdown) for s in sections]
    if plan.model is None:
        return Work(plan, sections, [], places, 0)
    size = {"personalize": REWRITE_UNIT_CHARS, "translate": REWRITE_UNIT_CHARS, "quiz": QUIZ_SOURCE_CHARS}
    work_units = units(sections, size.get(plan.task, READING_UNIT_CHARS))
    if plan.task == "quiz":
        work_units = work_units[:1]
    return Work(plan, sections, work_units, places, sum(_estimate(plan, unit) for unit in work_units))


async def _sections(session: AsyncSession, plan: Plan) -> list[Section]:
    if plan.source.text is not None or plan.source.page_id is None:
        return outline(plan.source.text or "")
    chunks = await repository.page_chunks(session, plan.source.page_id)
    if not chunks:
        raise InvalidInput("The page has no text to generate from.")
    return outline(page_markdown(plan.source.title, chunks))


def _estimate(plan: Plan, unit: Unit) -> int:
    """Tokens one unit may use: its prompt (rules and source) and the most its answer may take."""
    prompt = 600 + approximate_tokens(unit.markdown)
    if plan.task in ("personalize", "translate"):
        # The legend repeats code for personalizing; either way, about the source's size once more at most.
        return 2 * prompt + 2 * approximate_tokens(unit.markdown) + 256
    if plan.task == "quiz":
        return prompt + quiz_max_tokens(plan.questions)
    return prompt + READING_TOKENS.get(plan.reader.answer_length, READING_TOKENS["medium"])


async def extract(session: AsyncSession, work: Work) -> Result:
    """The summary or quiz quoted from the page, without a model: key sentences, cloze questions."""
    plan, sections, places = work.plan, work.sections, work.places
    first = sections[0] if sections else None
    heading, anchor = (first.heading, first.anchor) if first else (None, None)
    sentences = extractive.sentences_of_sections([section.markdown for section in sections])
    if not sentences:
        quiz = Quiz(questions=[]) if plan.task == "quiz" else None
        return Result([Part(0, heading, anchor, NOTHING_TO_QUOTE)], quiz)
    config = plan.source.search_config
    words = await repository.lexemes(session, config, [sentence.text for sentence in sentences])
    ranked = extractive.score_sentences(sentences, words)
    if plan.task == "summarize":
        count = extractive.SUMMARY_SENTENCES.get(plan.reader.answer_length, extractive.SUMMARY_SENTENCES["medium"])
        return Result(
            [
                Part(
                    0,
                    heading,
                    anchor,
                    extractive.summary_markdown(ranked[:count], places, of_section=plan.section is not None),
                )
            ]
        )
    candidates = ranked[: 3 * plan.questions]
    vocabulary = sorted({word for scored in candidates for word in extractive.words_of(scored.sentence.text)})
    analysed = await repository.lexemes(session, config, vocabulary)
    quiz = extractive.cloze_quiz(candidates, dict(zip(vocabulary, analysed, strict=True)), places, plan.questions)
    text = f"{extractive.QUIZ_LEAD}\n\n{render_quiz(quiz)}" if quiz.questions else NOTHING_TO_QUOTE
    warnings = []
    if len(quiz.questions) < plan.questions:
        warnings.append(f"The page had material for {len(quiz.questions)} of the {plan.questions} questions asked.")
    return Result([Part(0, heading, anchor, text)], quiz, warnings)
