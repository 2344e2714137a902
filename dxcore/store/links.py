"""The link from a user's question to the bot's answer messages, kept in the database: an edited question edits its
answer, and a command repeated in a group within moments points to the first answer, whichever replica got it.

Links are written in batches a moment after the answer (LinkRecorder): a transaction per answer would cost more than
the answer itself. Lookups see this process's pending links too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.observability.logs import FAILURES
from dxcore.store.db import Database
from dxcore.store.models import AnswerLink
from dxcore.understanding.text import fold

log = logging.getLogger("dxbot.links")

EDITABLE_FOR = timedelta(hours=48)  # Telegram lets bots edit their messages for 48 hours
WRITE_ROWS = 1000  # links per INSERT: asyncpg takes at most 32,767 parameters per statement (5 per link)
MAX_WAITING = 20_000  # links kept in memory while the database is unreachable


def question_key(text: str) -> str:
    """The question as a repeat is recognised: folded, spaces collapsed ("/top  Cấp sở" = "/top cap so")."""
    return " ".join(fold(text).split())[:200]


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


@dataclass(frozen=True)
class _Pending:
    chat_id: int
    question_id: int
    question_key: str
    answer_ids: list[int]
    created_at: datetime


class LinkRecorder:
    """Links of one process, written together every ``every`` seconds (and at close) with one upsert. Lookups see
    links still waiting and the batch being written, then the database."""

    def __init__(self, db: Database, every: float = 0.2) -> None:
        self.db, self.every = db, every
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._writing: dict[tuple[int, int], _Pending] = {}
        self._flushing: asyncio.Task | None = None
        self._sleeping = False

    def add(self, chat_id: int, question_id: int, text: str, answer_ids: list[int]) -> None:
        earlier = self._pending.get((chat_id, question_id)) or self._writing.get((chat_id, question_id))
        self._pending[(chat_id, question_id)] = _Pending(chat_id, question_id, question_key(text), answer_ids,
                                                         earlier.created_at if earlier else datetime.now(UTC))
        if self._flushing is None or self._flushing.done():
            self._sleeping = True  # its first step is the wait: close() may cancel it before it even ran
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._pending:  # links added while a batch was being written go in the next one
            self._sleeping = True
            try:
                await asyncio.sleep(self.every)
            finally:
                self._sleeping = False
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - kept for the next try; a lost link only means an edit is answered anew
                FAILURES.report(log, "storing answer links", exc, detail=f" ({len(self._pending)} waiting)")
                return

    async def flush(self) -> None:
        if not self._pending:
            return
        self._writing, self._pending = self._pending, {}
        try:
            insert = pg_insert if self.db.is_postgres else sqlite_insert
            links = [vars(link) for link in self._writing.values()]
            async with self.db.session() as session, session.begin():
                for start in range(0, len(links), WRITE_ROWS):
                    statement = insert(AnswerLink).values(links[start : start + WRITE_ROWS])
                    statement = statement.on_conflict_do_update(  # an edited question: its new wording and answer
                        index_elements=["chat_id", "question_id"],
                        set_={"question_key": statement.excluded.question_key,
                              "answer_ids": statement.excluded.answer_ids},
                    )
                    await session.execute(statement)
        except BaseException:
            kept = {**self._writing, **self._pending}  # newer links win; past the cap the oldest are dropped
            self._pending = dict(list(kept.items())[-MAX_WAITING:])
            raise
        finally:
            self._writing = {}

    async def close(self) -> None:
        """Write everything still waiting: a batch being written is awaited, never cut off."""
        task = self._flushing
        if task is not None and not task.done():
            if self._sleeping:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.flush()

    def _waiting(self, chat_id: int, question_id: int) -> _Pending | None:
        return self._pending.get((chat_id, question_id)) or self._writing.get((chat_id, question_id))

    async def answer_to(self, chat_id: int, question_id: int) -> list[int] | None:
        if pending := self._waiting(chat_id, question_id):
            return pending.answer_ids
        async with self.db.session() as session:
            return await answer_to(session, chat_id, question_id)

    async def recent_answer(self, chat_id: int, text: str, within: timedelta) -> int | None:
        key, now = question_key(text), datetime.now(UTC)
        mine = [p for p in (*self._pending.values(), *self._writing.values())
                if p.chat_id == chat_id and p.question_key == key and p.created_at >= now - within]
        if mine:
            return (max(mine, key=lambda p: p.created_at).answer_ids or [None])[0]
        async with self.db.session() as session:
            return await recent_answer(session, chat_id, text, within, now)
