"""Chat logic: prepare a grounded answer (passages, prompt, the extractive fallback), write it, store it.

No database transaction stays open while a model writes: preparing reads, writing talks to the model only,
and storing is one short transaction at the end (docs/chat.md, "Storage").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.chat import extractive, repository
from lectern.chat.citations import keep_known_markers
from lectern.chat.prompts import MAX_TOKENS, QuotedPassage, Turn, grounded_messages
from lectern.chat.retrieval import BookSearch, Passage, Question, retrieve_passages
from lectern.chat.schemas import (
    ChatAnswer,
    ChatRequest,
    Citation,
    ConversationList,
    ConversationRead,
    ConversationSummary,
    FeedbackCreate,
    FeedbackRead,
    MessageRead,
    Mode,
    ReaderContext,
)
from lectern.db.models import ConversationMessage
from lectern.errors import NotFound
from lectern.llm import ChatMessage, LLMError, LLMTimeout, complete, llm_configured
from lectern.settings import Settings

TITLE_CHARS = 80
TEMPERATURE = 0.2


@dataclass(frozen=True)
class ChatOptions:
    """How much context an answer gets (from the contract's CHAT_* variables)."""

    passages: int
    history_turns: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatOptions:
        return cls(passages=settings.chat_passages, history_turns=settings.chat_history_turns)


@dataclass(frozen=True)
class Reply:
    text: str
    mode: Mode


@dataclass
class PreparedAnswer:
    """Everything needed to answer, known before any model is called."""

    request: ChatRequest
    reader: ReaderContext
    passages: list[Passage]
    citations: list[Citation]
    messages: list[ChatMessage]
    sentences: list[extractive.Sentence]
    conversation_id: uuid.UUID | None
    new_conversation: bool
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def ids(self) -> list[str]:
        return [citation.id for citation in self.citations]

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS.get(self.reader.answer_length, MAX_TOKENS["medium"])

    def extractive(self, lead: str = extractive.LEAD) -> Reply:
        """The answer quoted from the book, with `lead` saying why."""
        if not self.passages:
            return Reply(extractive.NOT_COVERED, "extractive")
        return Reply(extractive.compose(self.sentences, self.ids, lead), "extractive")


def _citation(number: int, passage: Passage) -> Citation:
    chunk = passage.chunk
    return Citation(
        id=str(number),
        title=chunk.title,
        url=chunk.url,
        heading=passage.heading,
        snippet=passage.snippet,
        source_path=chunk.source_path,
        score=round(passage.score, 4),
    )


def _turns(messages: list[ConversationMessage]) -> list[Turn]:
    turns = []
    for question, answer in zip(messages, messages[1:], strict=False):
        if question.role == "user" and answer.role == "assistant":
            turns.append(Turn(question.content, answer.content))
    return turns


async def _history(
    session: AsyncSession, request: ChatRequest, reader: ReaderContext, options: ChatOptions
) -> list[Turn]:
    if request.conversation_id is None:
        return []
    if reader.user_id is None:
        raise NotFound("No such conversation: conversations are kept for signed-in readers only.")
    if await repository.owned_conversation(session, request.conversation_id, reader.user_id) is None:
        raise NotFound("No such conversation.")
    if options.history_turns == 0:
        return []
    messages = await repository.messages_of(session, request.conversation_id, last=2 * options.history_turns)
    return _turns(messages)


async def _extractive_sentences(
    session: AsyncSession, question: str, passages: list[Passage], count: int
) -> list[extractive.Sentence]:
    sentences = extractive.candidates([p.chunk.body for p in passages])
    if not sentences:
        return []
    words = await repository.lexemes(session, passages[0].chunk.search_config, [question, *(s.text for s in sentences)])
    return extractive.pick(sentences, words[1:], words[0], count)


async def prepare_answer(
    session: AsyncSession, request: ChatRequest, reader: ReaderContext, options: ChatOptions, search: BookSearch
) -> PreparedAnswer:
    """Check the conversation, retrieve passages with `search`, build the prompt and the extractive fallback."""
    history = await _history(session, request, reader, options)
    question = Question(
        text=request.message,
        selection=request.selected_text or None,
        page_url=request.page_url or None,
        previous_question=history[-1].question if history else None,
        language=reader.language,
    )
    passages = await retrieve_passages(session, question, options.passages, search)
    citations = [_citation(number, passage) for number, passage in enumerate(passages, start=1)]
    quoted = [
        QuotedPassage(c.id, p.chunk.title, p.chunk.heading_path, p.chunk.url, p.chunk.body)
        for c, p in zip(citations, passages, strict=True)
    ]
    messages = grounded_messages(
        request.message, quoted, reader, history=history, selection=question.selection, page_url=question.page_url
    )
    count = extractive.SENTENCES.get(reader.answer_length, extractive.SENTENCES["medium"])
    sentences = await _extractive_sentences(session, request.message, passages, count)
    signed_in = reader.user_id is not None
    conversation_id = request.conversation_id or (uuid.uuid4() if signed_in else None)
    return PreparedAnswer(
        request=request,
        reader=reader,
        passages=passages,
        citations=citations,
        messages=messages,
        sentences=sentences,
        conversation_id=conversation_id,
        new_conversation=signed_in and request.conversation_id is None,
    )


def fallback(prepared: PreparedAnswer, error: LLMError) -> Reply:
    """The extractive answer, saying why the model's is missing."""
    lead = extractive.LEAD_TIMEOUT if isinstance(error, LLMTimeout) else extractive.LEAD_UNAVAILABLE
    return prepared.extractive(lead)


def uses_model(prepared: PreparedAnswer, settings: Settings) -> bool:
    """Whether a model writes this answer: one is configured and the book has passages for it."""
    return bool(prepared.passages) and llm_configured(settings)


async def write_answer(prepared: PreparedAnswer, settings: Settings) -> Reply:
    """The model's answer with its markers checked; the extractive one without a model or when it fails."""
    if not uses_model(prepared, settings):
        return prepared.extractive()
    try:
        completion = await complete(
            prepared.messages, settings=settings, temperature=TEMPERATURE, max_tokens=prepared.max_tokens
        )
    except LLMError as error:
        return fallback(prepared, error)
    text = keep_known_markers(completion.text, prepared.ids).strip()
    return Reply(text, "llm") if text else prepared.extractive(extractive.LEAD_UNAVAILABLE)


def _title(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


async def record_exchange(session: AsyncSession, prepared: PreparedAnswer, reply: Reply) -> None:
    """Store the question and its answer in the reader's conversation (nothing for anonymous readers)."""
    user_id, conversation_id = prepared.reader.user_id, prepared.conversation_id
    if user_id is None or conversation_id is None:
        return
    if prepared.new_conversation:
        await repository.create_conversation(session, conversation_id, user_id, _title(prepared.request.message))
    elif await repository.owned_conversation(session, conversation_id, user_id, lock=True) is None:
        raise NotFound("The conversation was deleted while the answer was being written.")
    request = prepared.request
    question: dict[str, Any] = {
        "id": uuid.uuid4(),
        "role": "user",
        "content": request.message,
        "selected_text": request.selected_text or None,
        "page_url": request.page_url or None,
        "citations": [],
        "mode": None,
    }
    answer: dict[str, Any] = {
        "id": prepared.message_id,
        "role": "assistant",
        "content": reply.text,
        "selected_text": None,
        "page_url": None,
        "citations": [citation.model_dump() for citation in prepared.citations],
        "mode": reply.mode,
    }
    await repository.append_messages(session, conversation_id, [question, answer])


def chat_answer(prepared: PreparedAnswer, reply: Reply) -> ChatAnswer:
    return ChatAnswer(
        answer=reply.text,
        citations=prepared.citations,
        conversation_id=prepared.conversation_id,
        message_id=prepared.message_id,
        mode=reply.mode,
    )


# --- Conversations and feedback -------------------------------------------------------------------------------


async def list_conversations(session: AsyncSession, user_id: uuid.UUID, limit: int) -> ConversationList:
    rows = await repository.conversations_of(session, user_id, limit)
    return ConversationList(
        conversations=[ConversationSummary.model_validate(row, from_attributes=True) for row in rows]
    )


async def read_conversation(session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID) -> ConversationRead:
    """The reader's conversation with every message; 404 for anyone else's."""
    conversation = await repository.owned_conversation(session, conversation_id, user_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    messages = await repository.messages_of(session, conversation_id)
    return ConversationRead(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=[MessageRead.model_validate(message, from_attributes=True) for message in messages],
    )


async def delete_conversation(session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID) -> None:
    if not await repository.delete_conversation(session, conversation_id, user_id):
        raise NotFound("No such conversation.")


async def rate_answer(session: AsyncSession, feedback: FeedbackCreate, user_id: uuid.UUID | None) -> FeedbackRead:
    """Store a rating of one of the reader's stored answers; 404 for any other message."""
    if user_id is None or not await repository.owned_answer(session, feedback.message_id, user_id):
        raise NotFound("No such answer: only answers to signed-in readers are stored and can be rated, by them.")
    row = await repository.save_feedback(session, feedback.message_id, user_id, feedback.rating, feedback.comment)
    return FeedbackRead.model_validate(row, from_attributes=True)
