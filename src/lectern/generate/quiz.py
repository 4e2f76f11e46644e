"""Quizzes: the model's JSON checked question by question (each answer must be cited from the page), the
citation found in its section, and the quiz rendered as Markdown with the answers after the questions."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lectern.generate.schemas import Quiz, QuizCitation, QuizQuestion

MIN_OPTIONS = 2
MAX_OPTIONS = 6
MAX_FIELD_CHARS = 1000
LETTERS = "ABCDEF"
_MARKUP = re.compile(r"[*_`#>|\[\]()!]+")
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class Place:
    """A section a citation can point at: its heading, anchor, address, and its text flattened for matching."""

    heading: str | None
    anchor: str | None
    url: str | None
    flat: str

    @classmethod
    def of(cls, heading: str | None, anchor: str | None, page_url: str | None, markdown: str) -> Place:
        url = None if page_url is None else (f"{page_url}#{anchor}" if anchor else page_url)
        return cls(heading, anchor, url, flatten(markdown))

    def cite(self, quote: str) -> QuizCitation:
        return QuizCitation(heading=self.heading, anchor=self.anchor, url=self.url, quote=quote)


def flatten(text: str) -> str:
    """Text compared without case, Markdown marks or line breaks, so a quote matches however the page wraps it."""
    return _BLANKS.sub(" ", _MARKUP.sub(" ", text)).strip().casefold()


def place_of(quote: str, places: Sequence[Place]) -> Place | None:
    """The first section holding the quote."""
    wanted = flatten(quote)
    if len(wanted) < 8:
        return None
    return next((place for place in places if wanted in place.flat), None)


def parse_quiz(answer: str, count: int, places: Sequence[Place]) -> list[QuizQuestion]:
    """The usable questions of a model's JSON answer, at most `count`: well formed, and quoting the page."""
    start, end = answer.find("{"), answer.rfind("}")
    if start < 0 or end < start:
        return []
    try:
        data = json.loads(answer[start : end + 1])
    except json.JSONDecodeError:
        return []
    items = data.get("questions") if isinstance(data, dict) else None
    found: list[QuizQuestion] = []
    for item in items if isinstance(items, list) else []:
        question = _question(item, places)
        if question is not None:
            found.append(question)
        if len(found) == count:
            break
    return found


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if 0 < len(text) <= MAX_FIELD_CHARS and "\x00" not in text else None


def _question(item: object, places: Sequence[Place]) -> QuizQuestion | None:
    if not isinstance(item, dict):
        return None
    question, quote = _text(item.get("question")), _text(item.get("quote"))
    raw_options = item.get("options")
    options = [_text(option) for option in raw_options] if isinstance(raw_options, list) else []
    answer = item.get("answer")
    if question is None or quote is None or not isinstance(answer, int) or isinstance(answer, bool):
        return None
    kept = [option for option in options if option is not None]
    if len(kept) != len(options) or not MIN_OPTIONS <= len(kept) <= MAX_OPTIONS or not 0 <= answer < len(kept):
        return None
    if len({option.casefold() for option in kept}) != len(kept):
        return None
    place = place_of(quote, places)
    if place is None:
        return None  # an answer the page does not support is no answer
    return QuizQuestion(question=question, options=kept, answer=answer, citation=place.cite(quote))


def render_quiz(quiz: Quiz) -> str:
    """The questions with lettered options, then the answers with their citations."""
    lines: list[str] = []
    for number, question in enumerate(quiz.questions, start=1):
        lines.append(f"{number}. {question.question}")
        lines.extend(f"   - {LETTERS[index]}. {option}" for index, option in enumerate(question.options))
        lines.append("")
    lines.append("## Answers")
    lines.append("")
    for number, question in enumerate(quiz.questions, start=1):
        citation = question.citation
        where = citation.heading or "the page"
        source = f"[{where}]({citation.url})" if citation.url else where
        answer = f"{LETTERS[question.answer]}. {question.options[question.answer]}"
        lines.append(f"{number}. **{answer}** — “{citation.quote}” ({source})")
    return "\n".join(lines)
