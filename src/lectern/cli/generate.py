"""`lectern generate TASK --page SLUG`: what a reader would get from POST /api/generate, for an author to preview.

Runs on the database `lectern ingest` fills, with the model from the environment if one is configured; as an
anonymous reader (the level and language given here), so nothing is stored and no quota applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lectern.cli.common import CommandError, console, err_console
from lectern.cli.ingest import run_on_book_index

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from lectern.generate.plan import Result, Work
    from lectern.generate.schemas import GeneratedContent, GenerateRequest
    from lectern.settings import Settings

MODES = {"llm": "written by the language model", "extractive": "quoted from the page, no language model used"}


def generate(
    task: Annotated[
        str,
        typer.Argument(metavar="TASK", help="personalize, translate, summarize, explain or quiz.", show_default=False),
    ],
    page: Annotated[
        str,
        typer.Option(
            "--page",
            help="The page: its route ('guides/sessions'), doc id, source file, URL path or id.",
            show_default=False,
        ),
    ],
    language: Annotated[
        str | None, typer.Option("--language", help="BCP 47 tag to write in (to translate into), e.g. ur.")
    ] = None,
    level: Annotated[str | None, typer.Option("--level", help="beginner, intermediate or advanced.")] = None,
    section: Annotated[str | None, typer.Option("--section", help="Only the section with this anchor.")] = None,
    questions: Annotated[int, typer.Option("--questions", help="Questions in a quiz (1 to 10).")] = 5,
    out: Annotated[Path | None, typer.Option("--out", help="Write the Markdown to this file instead.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")] = False,
) -> None:
    """Preview a page personalized, translated, summarized, explained or as a quiz. Nothing is stored."""
    request = _request(task, page, language, level, section, questions)
    found = run_on_book_index(lambda engine: _generate(engine, request))
    text = found.model_dump_json(indent=2) if as_json else found.content
    if out is not None:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write {out}: {error.strerror}") from None
        console.print(f"Wrote {out} ({len(text)} characters).", markup=False, highlight=False)
    else:
        typer.echo(text)
    if not as_json:
        err_console.print(f"[dim]({found.task}, {found.language}, {MODES[found.mode]})[/dim]")
        for warning in found.warnings:
            err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def _request(
    task: str, page: str, language: str | None, level: str | None, section: str | None, questions: int
) -> GenerateRequest:
    from pydantic import ValidationError

    from lectern.generate.schemas import GenerateRequest

    values = {"task": task, "source": {"page": page}, "questions": questions}
    values.update(
        {name: value for name, value in (("language", language), ("level", level), ("section", section)) if value}
    )
    try:
        return GenerateRequest.model_validate(values)
    except ValidationError as error:
        fields = sorted({str(problem["loc"][0]) for problem in error.errors(include_input=False)})
        hints = {
            "task": "TASK is personalize, translate, summarize, explain or quiz",
            "language": "--language takes a BCP 47 tag such as ur or pt-BR",
            "level": "--level is beginner, intermediate or advanced",
            "questions": "--questions is 1 to 10",
        }
        raise CommandError("; ".join(hints.get(field, f"--{field} is not valid") for field in fields)) from None


async def _generate(engine: AsyncEngine, request: GenerateRequest) -> GeneratedContent:
    from datetime import UTC, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from lectern.errors import AppError
    from lectern.generate import service
    from lectern.generate.schemas import Reader
    from lectern.llm import close_clients
    from lectern.settings import get_settings

    settings = get_settings()
    reader = Reader(difficulty=request.level or "beginner", language=request.language or "en")
    try:
        async with AsyncSession(engine) as session:
            plan = await service.plan_generation(
                session, request, reader, service.GenerateOptions.from_settings(settings)
            )
            work = await service.prepare_work(session, plan)
            extracted = await service.extract(session, work) if plan.model is None else None
        result = extracted or await _write(work, settings)
    except AppError as error:
        raise CommandError(error.detail) from None
    finally:
        await close_clients()
    return service.content_of(plan, result, created_at=datetime.now(UTC), cached=False, model=plan.model)


async def _write(work: Work, settings: Settings) -> Result:
    """The model's parts in order, with the progress shown."""
    from lectern.generate import writing
    from lectern.generate.plan import TokenMeter

    tasks = writing.start(work, settings, TokenMeter())
    parts = []
    try:
        with err_console.status("Writing…") as status:
            for number, task in enumerate(tasks, start=1):
                status.update(f"Writing part {number} of {len(tasks)}…")
                parts.append(await task)
    finally:
        writing.stop(tasks)
    return writing.result_of(work.plan, parts)
