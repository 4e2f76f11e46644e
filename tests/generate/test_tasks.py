"""Summaries, explanations and quizzes, with a model and without one: offline, summaries and quizzes quote the page
(mode extractive); personalizing, translating and explaining answer 503 llm_not_configured, naming what to set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from lectern.generate.quiz import flatten
from tests.chat.conftest import instance, reader_headers
from tests.generate.conftest import ARM, SESSIONS, quiz_reply
from tests.standins.openai_server import OpenAIStandIn
from tests.web.checks import assert_problem

ARM_PAGE = {"page": "robotics/arm"}


async def post(client: AsyncClient, body: dict[str, Any]) -> Any:
    return await client.post("/api/generate", json=body, headers=await reader_headers(client))


async def test_offline_summaries_quote_key_sentences_with_links_to_their_sections(
    client: AsyncClient, book: Path
) -> None:
    response = await post(client, {"task": "summarize", "source": ARM_PAGE})

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["mode"] == "extractive" and result["model"] is None and result["language"] == "en"
    lines = result["content"].splitlines()
    assert lines[0] == "Key sentences from this page, quoted (no language model was used):"
    bullets = [line for line in lines if line.startswith("- ")]
    assert len(bullets) == 5  # medium answers, the default
    for bullet in bullets:
        sentence, link = re.fullmatch(
            r"- (.*) \(\[(?:Joints|Sensors|Control|top of the page)\]\((\S+)\)\)", bullet
        ).groups()  # type: ignore[union-attr]
        assert flatten(sentence) in flatten(ARM)
        assert link.startswith("https://book.example/docs/robotics/arm")


async def test_a_short_answer_length_gives_a_shorter_offline_summary(client: AsyncClient, book: Path) -> None:
    headers = await reader_headers(client)
    await client.patch("/api/preferences", json={"answer_length": "short"}, headers=headers)
    response = await client.post("/api/generate", json={"task": "summarize", "source": ARM_PAGE}, headers=headers)

    assert len([line for line in response.json()["content"].splitlines() if line.startswith("- ")]) == 3


async def test_offline_quizzes_are_cloze_questions_with_answers_and_citations(client: AsyncClient, book: Path) -> None:
    response = await post(client, {"task": "quiz", "source": ARM_PAGE, "questions": 3})

    result = response.json()
    assert result["mode"] == "extractive"
    questions = result["content_json"]["questions"]
    assert len(questions) == 3
    for question in questions:
        answer = question["options"][question["answer"]]
        assert "_____" in question["question"]
        assert question["question"].replace("_____", answer) == question["citation"]["quote"]
        assert flatten(question["citation"]["quote"]) in flatten(ARM)
        assert question["citation"]["url"] == f"https://book.example/docs/robotics/arm#{question['citation']['anchor']}"
        assert 2 <= len(question["options"]) <= 4 and len(set(question["options"])) == len(question["options"])
    assert "## Answers" in result["content"]
    assert result["content"].count("_____") == 3


async def test_offline_summary_of_a_text_and_of_one_section(client: AsyncClient, book: Path) -> None:
    text = "# Notes\n\nThe pump moves water uphill. The pump needs power. The valve stops the water when closed."
    headers = await reader_headers(client)
    of_text = (
        await client.post("/api/generate", json={"task": "summarize", "source": {"text": text}}, headers=headers)
    ).json()
    of_section = (
        await client.post(
            "/api/generate", json={"task": "summarize", "source": ARM_PAGE, "section": "sensors"}, headers=headers
        )
    ).json()

    assert of_text["language"] == "und" and of_text["source"]["url"] is None
    assert "- The pump moves water uphill." in of_text["content"]
    assert of_section["content"].startswith("Key sentences from this section")
    assert "encoder" in of_section["content"] and "revolute" not in of_section["content"]


@pytest.mark.parametrize("task", ["personalize", "translate", "explain"])
async def test_offline_the_other_tasks_are_503_naming_the_variables(client: AsyncClient, book: Path, task: str) -> None:
    response = await post(client, {"task": task, "source": ARM_PAGE, "language": "ur"})

    problem = assert_problem(response, 503, "llm_not_configured")
    assert "LLM_MODEL" in problem["detail"] and "LLM_API_KEY" in problem["detail"]


async def test_summaries_and_explanations_with_a_model_follow_the_reader(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: "Joints move; sensors measure; a controller steers.")
    async with instance(llm_settings()) as client:
        headers = await reader_headers(client)
        await client.patch("/api/preferences", json={"difficulty": "advanced", "language": "fr"}, headers=headers)
        summary = await client.post("/api/generate", json={"task": "summarize", "source": ARM_PAGE}, headers=headers)
        explained = await client.post(
            "/api/generate",
            json={"task": "explain", "source": ARM_PAGE, "section": "control", "level": "beginner"},
            headers=headers,
        )

    assert summary.json()["mode"] == "llm" and summary.json()["language"] == "fr"
    assert explained.json()["content"] == "Joints move; sensors measure; a controller steers."
    summary_prompt, explain_prompt = (request.messages for request in openai_standin.requests_to("chat"))
    assert "advanced" in summary_prompt[0]["content"] and "French (fr)" in summary_prompt[0]["content"]
    assert "a beginner" in explain_prompt[1]["content"] and "PID controller" in explain_prompt[1]["content"]
    assert "revolute" not in explain_prompt[1]["content"]  # only the section asked for


async def test_a_model_quiz_keeps_only_questions_its_page_supports(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    supported = {
        "question": "What measures a joint's angle?",
        "options": ["An encoder", "A torque sensor", "A PID controller"],
        "answer": 0,
        "quote": "An encoder measures the angle of a joint.",
    }
    invented = {**supported, "question": "Who built it?", "quote": "The arm was built in 1961."}
    malformed = {
        "question": "Broken",
        "options": ["only one"],
        "answer": 3,
        "quote": "A revolute joint rotates about one axis.",
    }
    openai_standin.respond_with(quiz_reply([supported, invented, malformed]))
    async with instance(llm_settings()) as client:
        response = await post(client, {"task": "quiz", "source": ARM_PAGE, "questions": 3})

    result = response.json()
    (question,) = result["content_json"]["questions"]
    assert question["citation"] == {
        "heading": "Sensors",
        "anchor": "sensors",
        "url": "https://book.example/docs/robotics/arm#sensors",
        "quote": "An encoder measures the angle of a joint.",
    }
    assert result["warnings"] == ["The model wrote 1 usable questions of the 3 asked."]
    assert "**A. An encoder**" in result["content"]


async def test_a_model_that_writes_no_usable_quiz_is_502(
    llm_settings: Any, openai_standin: OpenAIStandIn, book: Path
) -> None:
    openai_standin.respond_with(lambda messages: "Sure! Here is a quiz: what is a joint?")
    async with instance(llm_settings()) as client:
        response = await post(client, {"task": "quiz", "source": {"page": "guides/sessions"}})

    assert_problem(response, 502, "llm_unavailable")
    assert len(openai_standin.requests_to("chat")) == 2
    assert "Sessions" in SESSIONS  # the page the quiz was asked about
