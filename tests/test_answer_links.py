"""Question → answer links on SQLite and PostgreSQL: batched upserts, seen by another process's recorder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dxcore.answer_links import LinkRecorder, forget_old
from dxcore.db import Database


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
