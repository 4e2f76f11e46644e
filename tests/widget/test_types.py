"""lectern-client.d.ts says what the API sends and takes: its interfaces have the fields of the Pydantic schemas
behind the OpenAPI document, with the same nullability and, for requests, the same optional fields."""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from lectern.auth.schemas import UserRead
from lectern.book.schemas import BookPageRead, BookPageSummary, BookSection
from lectern.chat.schemas import ChatAnswer, ChatRequest, Citation
from lectern.generate.schemas import (
    GeneratedContent,
    GenerateRequest,
    Quiz,
    QuizCitation,
    QuizQuestion,
    SourceRead,
)
from lectern.profiles.schemas import PreferencesRead, ProfileRead
from lectern.search.schemas import SearchResult
from lectern.widget.assets import FOLDER

DECLARATIONS = FOLDER / "lectern-client.d.ts"
# Answers: the same fields, null where the API may send null.
ANSWERS: dict[str, type[BaseModel]] = {
    "User": UserRead,
    "Profile": ProfileRead,
    "Preferences": PreferencesRead,
    "Citation": Citation,
    "ChatAnswer": ChatAnswer,
    "SearchResult": SearchResult,
    "GeneratedPage": GeneratedContent,
    "GeneratedSource": SourceRead,
    "Quiz": Quiz,
    "QuizQuestion": QuizQuestion,
    "QuizCitation": QuizCitation,
    "BookPageSummary": BookPageSummary,
    "BookSection": BookSection,
    "BookPage": BookPageRead,
}
# Requests: the same fields, optional (`?`) exactly where the API has a default, null only where it takes one.
REQUESTS: dict[str, type[BaseModel]] = {"ChatRequest": ChatRequest, "GenerateRequest": GenerateRequest}


@dataclass(frozen=True)
class Member:
    optional: bool
    type: str

    @property
    def nullable(self) -> bool:
        return re.search(r"(^|\|)\s*null\s*($|\|)", self.type) is not None


def _without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def _split_top_level(body: str) -> list[str]:
    """The members of an interface body: split at `;` outside nested braces, brackets and parentheses."""
    members, depth, current = [], 0, []
    for char in body.replace("=>", "->"):  # an arrow's > closes nothing
        depth += char in "{[(<"
        depth -= char in "}])>"
        if char == ";" and depth == 0:
            members.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    members.append("".join(current).strip())  # the last member may go without its ;
    return [member for member in members if member]


def interfaces(text: str) -> dict[str, dict[str, Member]]:
    """Every `export interface` of a declaration file, with its members (those it extends included)."""
    text = _without_comments(text)
    found: dict[str, dict[str, Member]] = {}
    for match in re.finditer(r"export interface (\w+)(?: extends (\w+))? \{", text):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        members = dict(found.get(match[2], {})) if match[2] else {}
        for member in _split_top_level(text[match.end() : end - 1]):
            name = re.match(r"(\"?)([\w-]+)\1(\??):\s*(.+)$", member, re.S)
            assert name, f"{match[1]}: cannot read the member {member!r}"
            members[name[2]] = Member(optional=bool(name[3]), type=" ".join(name[4].split()))
        found[match[1]] = members
    return found


def accepts_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


DECLARED = interfaces(DECLARATIONS.read_text(encoding="utf-8"))


def test_the_reader_reads_nested_types_and_inheritance() -> None:
    read = interfaces(
        "export interface A { /** doc; with a semicolon */ a: { b: string; c?: number } | null; d?: string[] }\n"
        "// a comment; here\nexport interface B extends A { e: Array<{ f: string }> }"
    )
    assert read["B"] == {
        "a": Member(False, "{ b: string; c?: number } | null"),
        "d": Member(True, "string[]"),
        "e": Member(False, "Array<{ f: string }>"),
    }
    assert read["B"]["a"].nullable and not read["B"]["d"].nullable


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_answer_types_have_the_schemas_fields(name: str) -> None:
    model, declared = ANSWERS[name], DECLARED[name]

    assert set(declared) == set(model.model_fields), name
    nullable = {field for field, info in model.model_fields.items() if accepts_none(info.annotation)}
    assert {field for field, member in declared.items() if member.nullable} == nullable, name


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_types_have_the_schemas_fields(name: str) -> None:
    model, declared = REQUESTS[name], DECLARED[name]

    assert set(declared) == set(model.model_fields), name
    optional = {field for field, info in model.model_fields.items() if not info.is_required()}
    assert {field for field, member in declared.items() if member.optional} == optional, name
    for field, member in declared.items():
        assert not member.nullable or accepts_none(model.model_fields[field].annotation), (name, field)


def test_the_quiz_answer_is_typed_as_the_api_sends_it() -> None:
    assert DECLARED["GeneratedPage"]["content_json"].type == "Quiz | null"
    assert DECLARED["QuizQuestion"]["citation"].type == "QuizCitation"
    assert DECLARED["GeneratedPage"]["source"].type == "GeneratedSource"
