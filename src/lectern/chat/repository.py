"""All SQL for chat: the book's chunks around search hits, lexemes for extractive answers, conversations, feedback."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db.models import AnswerFeedback, Conversation, ConversationMessage
from lectern.errors import InvalidToken

_CHUNKS = """
SELECT c.id, c.page_id, c.ordinal, c.text, c.heading_path, c.url, p.title, p.source_path, p.locale, p.search_config
FROM book_chunks AS c
JOIN book_pages AS p ON p.id = c.page_id
"""


@dataclass(frozen=True)
class ChunkRow:
    """A chunk with its page: everything a citation and the prompt need."""

    id: int
    page_id: uuid.UUID
    ordinal: int
    text: str  # the heading path line, a blank line, the body
    heading_path: list[str]
    url: str
    title: str
    source_path: str
    locale: str
    search_config: str

    @property
    def body(self) -> str:
        return self.text.split("\n\n", 1)[1] if "\n\n" in self.text else self.text


@dataclass(frozen=True)
class PageRef:
    id: uuid.UUID
    locale: str


async def _chunks(session: AsyncSession, where: str, params: dict[str, Any]) -> list[ChunkRow]:
    rows = await session.execute(text(f"{_CHUNKS} WHERE {where} ORDER BY c.page_id, c.ordinal"), params)
    return [ChunkRow(*row) for row in rows]


async def chunks_at(session: AsyncSession, places: Sequence[tuple[uuid.UUID, str]]) -> list[ChunkRow]:
    """The chunks at these (page, URL) places: one per place, or several where a long section was split."""
    if not places:
        return []
    where = "(c.page_id, c.url) IN (SELECT * FROM unnest(CAST(:pages AS uuid[]), CAST(:urls AS text[])))"
    return await _chunks(session, where, {"pages": [p for p, _ in places], "urls": [u for _, u in places]})


async def chunk_containing(session: AsyncSession, page_id: uuid.UUID, needle: str) -> ChunkRow | None:
    """The page's first chunk whose text, blanks collapsed, contains `needle`."""
    where = "c.page_id = :page AND strpos(regexp_replace(c.text, '\\s+', ' ', 'g'), :needle) > 0"
    found = await _chunks(session, where, {"page": page_id, "needle": needle})
    return found[0] if found else None


async def chunks_around(session: AsyncSession, chunk: ChunkRow, radius: int = 1) -> list[ChunkRow]:
    """The chunks just before and after `chunk` on its page."""
    where = "c.page_id = :page AND c.ordinal BETWEEN :low AND :high AND c.ordinal <> :ordinal"
    params = {"page": chunk.page_id, "low": chunk.ordinal - radius, "high": chunk.ordinal + radius}
    return await _chunks(session, where, {**params, "ordinal": chunk.ordinal})


async def page_at(session: AsyncSession, url: str, path: str) -> PageRef | None:
    """The indexed page at this URL (or path on the site, when the book was ingested without a base URL)."""
    statement = text(
        """
        SELECT id, locale FROM book_pages
        WHERE rtrim(url, '/') = :url OR rtrim(regexp_replace(url, '^[a-z][a-z0-9+.-]*://[^/]*', '', 'i'), '/') = :path
        ORDER BY (rtrim(url, '/') = :url) DESC, book, locale
        LIMIT 1
        """
    )
    row = (await session.execute(statement, {"url": url, "path": path})).first()
    return None if row is None else PageRef(*row)


async def indexed_locales(session: AsyncSession) -> list[str]:
    rows = await session.execute(text("SELECT DISTINCT locale FROM book_pages ORDER BY locale"))
    return [locale for (locale,) in rows]


async def lexemes(session: AsyncSession, config: str, texts: Sequence[str]) -> list[set[str]]:
    """Each text's lexemes under a text search configuration, in order (one round trip for all)."""
    if not texts:
        return []
    statement = text(
        """
        SELECT tsvector_to_array(to_tsvector(CAST(:config AS regconfig), t.body))
        FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS t(body, n)
        ORDER BY t.n
        """
    )
    rows = await session.execute(statement, {"config": config, "texts": list(texts)})
    return [set(words) for (words,) in rows]


# --- Conversations --------------------------------------------------------------------------------------------


async def owned_conversation(
    session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
) -> Conversation | None:
    """The conversation if this reader owns it; with `lock`, held until the transaction ends."""
    statement = select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def messages_of(
    session: AsyncSession, conversation_id: uuid.UUID, *, last: int | None = None
) -> list[ConversationMessage]:
    """The conversation's messages in order; with `last`, only the newest that many."""
    statement = select(ConversationMessage).where(ConversationMessage.conversation_id == conversation_id)
    if last is None:
        return list((await session.execute(statement.order_by(ConversationMessage.position))).scalars())
    newest = statement.order_by(ConversationMessage.position.desc()).limit(last)
    return list(reversed((await session.execute(newest)).scalars().all()))


async def create_conversation(
    session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID, title: str
) -> None:
    try:
        await session.execute(insert(Conversation).values(id=conversation_id, user_id=user_id, title=title))
    except IntegrityError:
        # Only the user foreign key can fail: the token is valid but its account is gone.
        raise InvalidToken("The account behind this token no longer exists.") from None


async def append_messages(
    session: AsyncSession, conversation_id: uuid.UUID, messages: Sequence[dict[str, Any]]
) -> None:
    """Add messages after the conversation's last one (the caller holds the conversation's lock)."""
    last = await session.scalar(
        select(func.coalesce(func.max(ConversationMessage.position), 0)).where(
            ConversationMessage.conversation_id == conversation_id
        )
    )
    rows = [
        {**message, "conversation_id": conversation_id, "position": (last or 0) + number}
        for number, message in enumerate(messages, start=1)
    ]
    await session.execute(insert(ConversationMessage).values(rows))
    await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=func.now()))


async def conversations_of(session: AsyncSession, user_id: uuid.UUID, limit: int) -> list[Conversation]:
    statement = (
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def delete_conversation(session: AsyncSession, conversation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Delete the reader's conversation with its messages and their feedback; False when there is none."""
    statement = (
        delete(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        .returning(Conversation.id)
    )
    return (await session.execute(statement)).first() is not None


# --- Feedback ---------------------------------------------------------------------------------------------


async def owned_answer(session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the message is an answer in one of this reader's conversations."""
    statement = (
        select(ConversationMessage.id)
        .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
        .where(
            ConversationMessage.id == message_id,
            ConversationMessage.role == "assistant",
            Conversation.user_id == user_id,
        )
    )
    return (await session.execute(statement)).first() is not None


async def save_feedback(
    session: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID, rating: str, comment: str | None
) -> AnswerFeedback:
    """Insert or replace the rating of one answer."""
    values = {"rating": rating, "comment": comment}
    statement = (
        insert(AnswerFeedback)
        .values(message_id=message_id, user_id=user_id, **values)
        .on_conflict_do_update(index_elements=[AnswerFeedback.message_id], set_={**values, "updated_at": func.now()})
        .returning(AnswerFeedback)
    )
    result = await session.execute(statement, execution_options={"populate_existing": True})
    return result.scalar_one()
