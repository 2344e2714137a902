"""The link from a user's question to the bot's answer messages, kept in the database: an edited question edits its
answer, and a command repeated in a group within moments points to the first answer, whichever replica got it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.models import AnswerLink
from dxcore.text import fold

EDITABLE_FOR = timedelta(hours=48)  # Telegram lets bots edit their messages for 48 hours


def question_key(text: str) -> str:
    """The question as a repeat is recognised: folded, spaces collapsed ("/top  Cấp sở" = "/top cap so")."""
    return " ".join(fold(text).split())[:200]


async def remember(session: AsyncSession, chat_id: int, question_id: int, text: str, answer_ids: list[int],
                   now: datetime | None = None) -> None:
    link = await session.scalar(select(AnswerLink).where(AnswerLink.chat_id == chat_id,
                                                         AnswerLink.question_id == question_id))
    now = now or datetime.now(UTC)
    if link is None:
        session.add(AnswerLink(chat_id=chat_id, question_id=question_id, question_key=question_key(text),
                               answer_ids=answer_ids, created_at=now))
    else:  # the question was edited: it now reads differently, and may have more or fewer answer messages
        link.question_key, link.answer_ids = question_key(text), answer_ids


async def answer_to(session: AsyncSession, chat_id: int, question_id: int) -> list[int] | None:
    return await session.scalar(select(AnswerLink.answer_ids).where(AnswerLink.chat_id == chat_id,
                                                                    AnswerLink.question_id == question_id))


async def recent_answer(session: AsyncSession, chat_id: int, text: str, within: timedelta,
                        now: datetime | None = None) -> int | None:
    """The first message answering the same question in this chat within ``within``, if any."""
    now = now or datetime.now(UTC)
    ids = await session.scalar(
        select(AnswerLink.answer_ids)
        .where(AnswerLink.chat_id == chat_id, AnswerLink.question_key == question_key(text),
               AnswerLink.created_at >= now - within)
        .order_by(AnswerLink.created_at.desc()).limit(1)
    )
    return ids[0] if ids else None


async def forget_old(session: AsyncSession, now: datetime | None = None) -> int:
    """Links to answers Telegram no longer lets the bot edit."""
    result = await session.execute(delete(AnswerLink).where(
        AnswerLink.created_at < (now or datetime.now(UTC)) - EDITABLE_FOR))
    return result.rowcount or 0
