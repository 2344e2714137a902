"""Question → answer links on SQLite and PostgreSQL: batched upserts, seen by another process's recorder."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from dxcore.store.db import Database
from dxcore.store.links import LinkRecorder, forget_old


async def test_links_are_written_in_batches_and_read_everywhere(db: Database) -> None:
    mine, other = LinkRecorder(db, every=60), LinkRecorder(db)
    mine.add(-100, 7, "/thongke  Cấp sở", [70, 71])
    assert await mine.answer_to(-100, 7) == [70, 71]  # pending, seen by its own process at once
    assert await other.answer_to(-100, 7) is None  # not yet written
    await mine.flush()
    assert await other.answer_to(-100, 7) == [70, 71]
    assert await other.recent_answer(-100, "/thongke cap so", timedelta(seconds=60)) == 70  # same, folded
    assert await other.recent_answer(-101, "/thongke cap so", timedelta(seconds=60)) is None

    mine.add(-100, 7, "/top 3", [70])  # the question was edited: one answer message now
    mine.add(-100, 8, "/top 3", [80])
    await mine.close()
    assert await other.answer_to(-100, 7) == [70] and await other.answer_to(-100, 8) == [80]
    assert await other.recent_answer(-100, "/thongke cap so", timedelta(seconds=60)) is None
    assert await other.recent_answer(-100, "/top 3", timedelta(seconds=60)) in (70, 80)

    async with db.session() as session, session.begin():
        assert await forget_old(session, now=datetime.now(UTC) + timedelta(hours=49)) == 2
    assert await other.answer_to(-100, 7) is None


async def test_links_added_while_a_batch_is_written_are_written_too(db: Database) -> None:
    recorder, reader = LinkRecorder(db, every=0.01), LinkRecorder(db)
    writing, release = asyncio.Event(), asyncio.Event()
    real_session = db.session

    @asynccontextmanager
    async def held_session():
        writing.set()
        await release.wait()  # the batch is on its way to the database
        async with real_session() as session:
            yield session

    db.session = held_session  # type: ignore[method-assign]
    recorder.add(-1, 1, "so y te", [10])
    await writing.wait()
    recorder.add(-1, 2, "so tai chinh", [20])  # arrives while the first batch is being written
    assert await recorder.answer_to(-1, 1) == [10]  # the batch in flight is still seen by its own process
    db.session = real_session  # type: ignore[method-assign]
    release.set()
    for _ in range(200):
        if await reader.answer_to(-1, 2) is not None:
            break
        await asyncio.sleep(0.01)
    assert await reader.answer_to(-1, 1) == [10] and await reader.answer_to(-1, 2) == [20]
    recorder.add(-1, 3, "top 3", [30])
    await recorder.close()  # whatever is still waiting is written at close
    assert await reader.answer_to(-1, 3) == [30]


async def test_a_large_backlog_is_written_in_several_statements(db: Database) -> None:
    """After an outage thousands of links may wait: more than one INSERT may carry on PostgreSQL."""
    recorder, reader = LinkRecorder(db, every=60), LinkRecorder(db)
    for question in range(7000):
        recorder.add(-5, question, f"question {question}", [question + 100_000])
    await recorder.close()
    assert await reader.answer_to(-5, 0) == [100_000] and await reader.answer_to(-5, 6999) == [106_999]
