"""Publishing and the alert outbox on SQLite and PostgreSQL, with a recording Sender and an injected clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from dxcore.alerts.delivery import (
    BLOCKED,
    MIGRATED,
    RETRY,
    SENT,
    DeliveryWorker,
    QuietHours,
    SendResult,
)
from dxcore.alerts.subscriptions import (
    ALL,
    LEVEL,
    UNIT,
    Target,
    ensure_chat,
    subscribe,
    unsubscribe,
)
from dxcore.answering.answers import Answer
from dxcore.observability import metrics
from dxcore.parsing import parse_bytes
from dxcore.publishing.publish import publish
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Chat, Decision, Delivery, Subscription, Unit
from dxcore.understanding.catalog import Catalog
from dxcore.understanding.text import name_key

NOON = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 12:00 in Asia/Ho_Chi_Minh


class RecordingSender:
    def __init__(self, script: dict[int, list[SendResult]] | None = None) -> None:
        self.sent: list[tuple[int, int, str, bool]] = []
        self.script = script or {}
        self.times: list[float] = []

    async def send(self, chat_id: int, thread_id: int, answer: Answer, *, silent: bool,
                   lang: str = "vi") -> SendResult:
        planned = self.script.get(chat_id)
        if planned:
            return planned.pop(0)
        self.sent.append((chat_id, thread_id, answer.render_plain(lang), silent))
        self.times.append(time.monotonic())
        return SendResult(SENT, message_id=len(self.sent))


def later_decision(seed_text: str) -> bytes:
    """Results for 2024: Sở Y tế climbs from 17th (70,74%, Khá) to 5th (95,90%, Tốt); the others keep their order."""
    text = (seed_text.replace("1568 /QĐ-UBND ngày 12 tháng 7 năm 2024", "2001 /QĐ-UBND ngày 10 tháng 6 năm 2025")
            .replace("năm 2023", "năm 2024").replace("NĂM 2023", "NĂM 2024"))
    so = [line.split("\t") for line in text.split("Phụ lục II")[0].splitlines() if line[:1].isdigit() and "\t" in line]
    others = [row for row in so if row[1] != "Sở Y tế"]
    others.insert(4, ["5", "Sở Y tế", "95,90%", "Tốt"])
    reranked = "\n".join(f"{i}\t{name}\t{pct}\t{tier}" for i, (_, name, pct, tier) in enumerate(others, start=1))
    text = text.replace("\n".join("\t".join(row) for row in so), reranked)
    return (text.replace("| a) Xếp loại Tốt: | 08 đơn vị; |", "| a) Xếp loại Tốt: | 09 đơn vị; |")
            .replace("| b) Xếp loại Khá: | 09 đơn vị; |", "| b) Xếp loại Khá: | 08 đơn vị; |").encode())


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


async def _unit(db: Database, name: str) -> int:
    async with db.session() as session:
        return await session.scalar(select(Unit.id).where(Unit.name_key == name_key(name)))


async def _store_later(db: Database, seed_text: str) -> int:
    outcome = parse_bytes(later_decision(seed_text), "later.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    async with db.session() as session, session.begin():
        return (await store_decision(session, outcome.decision, actor="test")).decision_id


async def _publish_later(db: Database, seed_text: str) -> int:
    decision_id = await _store_later(db, seed_text)
    async with db.session() as session, session.begin():
        await publish(session, decision_id, actor="test", now=NOON)
    return decision_id


async def _subscribe(db: Database, chat_id: int, target: Target, language: str | None = None, **kwargs) -> None:
    async with db.session() as session, session.begin():
        await ensure_chat(session, chat_id, "private" if chat_id > 0 else "supergroup", language=language)
        await subscribe(session, chat_id, target, **kwargs)


async def test_publish_enqueues_one_alert_per_chat_and_topic_once(seeded: Database, seed_text: str) -> None:
    y_te = await _unit(seeded, "Sở Y tế")
    await _subscribe(seeded, 1, Target(ALL))
    await _subscribe(seeded, 1, Target(UNIT, unit_id=y_te))  # same chat: still one alert
    await _subscribe(seeded, 2, Target(LEVEL, level="huyen"))
    await _subscribe(seeded, -100, Target(UNIT, unit_id=y_te), thread_id=7)  # a forum topic
    await _subscribe(seeded, -100, Target(LEVEL, level="xa"))  # follows nothing in this decision
    await _subscribe(seeded, 3, Target(ALL))
    async with seeded.session() as session, session.begin():
        await unsubscribe(session, 3, None)
    decision_id = await _store_later(seeded, seed_text)

    async with seeded.session() as session, session.begin():
        first = await publish(session, decision_id, actor="cli:test", now=NOON)
    async with seeded.session() as session, session.begin():
        again = await publish(session, decision_id, actor="cli:test", now=NOON)
    assert (first.published, first.alerts) == (True, 3)
    assert (again.published, again.alerts) == (False, 0)
    async with seeded.session() as session:
        targets = set((await session.execute(select(Delivery.chat_id, Delivery.thread_id))).all())
        decision = await session.get(Decision, decision_id)
    assert targets == {(1, 0), (2, 0), (-100, 7)}
    assert decision.published_by == "cli:test" and decision.published_at is not None


async def test_alerts_say_what_changed_and_are_sent_once(seeded: Database, seed_text: str) -> None:
    y_te = await _unit(seeded, "Sở Y tế")
    await _subscribe(seeded, 1, Target(UNIT, unit_id=y_te), silent=True)
    await _subscribe(seeded, 2, Target(ALL))
    await _publish_later(seeded, seed_text)
    sender = RecordingSender()
    worker = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: NOON)
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0  # nothing twice
    by_chat = {chat: (text, silent) for chat, _, text, silent in sender.sent}
    text, silent = by_chat[1]
    assert "Kết quả Chuyển đổi số năm 2024 đã được công bố" in text
    assert "Quyết định số 2001/QĐ-UBND ngày 10/6/2025" in text
    assert "Sở Y tế: hạng 5/20 (↑ 12 hạng), 95,90% (+25,16 điểm %), Khá → Tốt" in text and silent
    assert "Sở Y tế: hạng" not in by_chat[2][0]  # chat 2 follows no unit: the headline only
    async with seeded.session() as session:
        statuses = Counter(await session.scalars(select(Delivery.status)))
        ids = set(await session.scalars(select(Delivery.message_id)))
    assert statuses == {"sent": 2} and ids == {1, 2}


async def test_alerts_are_written_in_the_subscribers_language(seeded: Database, seed_text: str) -> None:
    y_te = await _unit(seeded, "Sở Y tế")
    await _subscribe(seeded, 1, Target(UNIT, unit_id=y_te), language="en")
    await _subscribe(seeded, 2, Target(UNIT, unit_id=y_te))
    await _publish_later(seeded, seed_text)
    sender = RecordingSender()
    await DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: NOON).run_once()
    by_chat = {chat: text for chat, _, text, _ in sender.sent}
    assert by_chat[1].startswith("Digital transformation results for 2024 are out")
    assert "Sở Y tế: rank 5/20 (↑ 12), 95.90% (+25.16 percentage points), Fair → Good" in by_chat[1]
    assert "Sở Y tế: hạng 5/20 (↑ 12 hạng), 95,90% (+25,16 điểm %), Khá → Tốt" in by_chat[2]


async def test_retry_after_blocked_and_migrated(seeded: Database, seed_text: str, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dxbot.delivery")
    before = {kind: _alerts(kind) for kind in (SENT, RETRY, BLOCKED, MIGRATED)}
    for chat in (1, 2, -300):
        await _subscribe(seeded, chat, Target(ALL))
    await _publish_later(seeded, seed_text)
    now = [NOON]
    sender = RecordingSender({
        1: [SendResult(RETRY, retry_after=0.01, error="429")],
        2: [SendResult(BLOCKED, error="Forbidden: bot was blocked by the user")],
        -300: [SendResult(MIGRATED, new_chat_id=-100300, error="migrated")],
    })
    worker = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: now[0],
                            admins=frozenset({777}))
    await worker.run_once()
    assert not any(chat == 777 for chat, *_ in sender.sent)  # no receipt while an alert waits to be retried
    now[0] += timedelta(seconds=5)
    await worker.run_once()
    await worker.run_once()
    receipts = [text for chat, _, text, _ in sender.sent if chat == 777]
    assert len(receipts) == 1  # once, however often the worker looks again
    assert "Đã gửi xong thông báo Quyết định số 2001/QĐ-UBND" in receipts[0]
    assert "Đã gửi: 2" in receipts[0] and "Bị chặn hoặc bot bị xóa khỏi nhóm: 1" in receipts[0]
    assert "(gửi tới địa chỉ mới): 1" in receipts[0]
    assert sorted(chat for chat, *_ in sender.sent if chat != 777) == [-100300, 1]
    async with seeded.session() as session:
        blocked = await session.get(Chat, 2)
        moved = await session.scalar(select(func.count()).select_from(Subscription)
                                     .where(Subscription.chat_id == -100300))
        statuses = dict((await session.execute(select(Delivery.chat_id, Delivery.status))).all())
    assert blocked.active is False and moved == 1
    assert statuses == {1: "sent", 2: "blocked", -100300: "sent"}
    # The operator's view: one count per alert handled, a line per chat that left or moved, a line per round.
    assert {kind: _alerts(kind) - before[kind] for kind in before} == {SENT: 2, RETRY: 1, BLOCKED: 1, MIGRATED: 1}
    said = [r.getMessage() for r in caplog.records]
    assert "chat 2 blocked the bot or removed it: no more alerts go there until it comes back" in said
    assert "chat -300 moved to supergroup -100300: its subscriptions and alerts follow" in said
    rounds = [line for line in said if line.startswith("delivery round: ")]
    assert rounds[0].endswith("(blocked 1, migrated 1, retry 1, sent 1)") and rounds[0].startswith(
        "delivery round: 4 alerts in ")


def _alerts(result: str) -> float:
    return metrics.REGISTRY.get_sample_value("dxbot_alerts_total", {"result": result}) or 0.0


async def test_quiet_hours_hold_alerts_until_morning(seeded: Database, seed_text: str, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dxbot.delivery")
    await _subscribe(seeded, 1, Target(ALL))
    await _publish_later(seeded, seed_text)
    night = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 23:30 local
    quiet = QuietHours.parse("21:00-07:00")
    assert quiet.resume_at(night) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 local
    now = [night]
    sender = RecordingSender()
    worker = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, quiet=quiet, clock=lambda: now[0])
    assert await worker.run_once() == 0 and sender.sent == []
    now[0] += timedelta(seconds=30)
    assert await worker.run_once() == 0  # said once: the worker looks every second all night
    held = [r.getMessage() for r in caplog.records if r.getMessage().startswith("quiet hours")]
    assert held == ["quiet hours: 1 alerts wait until 2026-11-27T07:00+07:00"]
    now[0] = datetime(2026, 11, 27, 0, 1, tzinfo=UTC)
    assert await worker.run_once() == 1 and len(sender.sent) == 1
    assert QuietHours.parse("off").resume_at(night) is None
    with pytest.raises(ValueError):
        QuietHours.parse("9pm")


async def test_a_crashed_claim_is_sent_by_the_next_worker(seeded: Database, seed_text: str) -> None:
    for chat in range(1, 31):
        await _subscribe(seeded, chat, Target(ALL))
    await _publish_later(seeded, seed_text)
    now = [NOON]
    dead = DeliveryWorker(seeded, RecordingSender(), Catalog(), rate=1000, clock=lambda: now[0], worker_id="dead")
    claimed = await dead.claim()  # claimed, then the process died before sending or recording
    assert len(claimed) == 20  # four chunks of five ahead
    sender = RecordingSender()
    alive = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: now[0])
    await alive.run_once()  # taking the sender role, it finds the dead sender's claims and queues them again
    assert sorted(chat for chat, *_ in sender.sent) == list(range(1, 31))  # none lost, none twice


async def test_a_running_sender_keeps_its_claims(seeded: Database, seed_text: str) -> None:
    """While one worker is the sender, another neither sends nor takes its claims."""
    for chat in range(1, 11):
        await _subscribe(seeded, chat, Target(ALL))
    await _publish_later(seeded, seed_text)
    first_sent, release = asyncio.Event(), asyncio.Event()

    class SlowSender(RecordingSender):
        async def send(self, chat_id: int, thread_id: int, answer: Answer, *, silent: bool,
                   lang: str = "vi") -> SendResult:
            first_sent.set()
            await release.wait()
            return await super().send(chat_id, thread_id, answer, silent=silent)

    slow, other = SlowSender(), RecordingSender()
    sending = asyncio.create_task(DeliveryWorker(seeded, slow, Catalog(), rate=1000, clock=lambda: NOON).run_once())
    await first_sent.wait()
    assert await DeliveryWorker(seeded, other, Catalog(), rate=1000, clock=lambda: NOON).run_once() == 0
    release.set()
    assert await sending == 10
    assert not other.sent and sorted(chat for chat, *_ in slow.sent) == list(range(1, 11))


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_two_workers_share_the_outbox_and_one_budget(pg_url: str, seed_text: str, backend: str) -> None:
    db = Database(pg_url)
    await db.prepare(load_shipped_if_empty)
    try:
        async with db.session() as session, session.begin():
            for chat in range(1, 2001):
                await ensure_chat(session, chat, "private")
                await subscribe(session, chat, Target(ALL))
        decision_id = await _store_later(db, seed_text)
        async with db.session() as session, session.begin():
            assert (await publish(session, decision_id, actor="test", now=NOON)).alerts == 2000
        senders = [RecordingSender(), RecordingSender()]
        workers = [DeliveryWorker(db, s, Catalog(), rate=400, clock=lambda: NOON, batch=5) for s in senders]
        await asyncio.gather(*(w.run_once(max_seconds=60) for w in workers),
                             *(_again(w) for w in workers))
        chats = Counter(chat for s in senders for chat, *_ in s.sent)
        assert sorted(chats) == list(range(1, 2001)) and set(chats.values()) == {1}  # none lost, none twice
        stamps = sorted(t for s in senders for t in s.times)
        busiest = max(sum(1 for t in stamps[i:i + 450] if t - stamps[i] < 1.0) for i in range(0, len(stamps), 50))
        assert busiest <= 400 * 1.05 + 5, f"{busiest} sends in one second with a budget of 400/s"
    finally:
        await db.close()


async def _again(worker: DeliveryWorker) -> None:
    """A replica that keeps looking while the other holds the send lock."""
    for _ in range(200):
        await asyncio.sleep(0.05)
        await worker.run_once(max_seconds=60)


async def test_a_sender_whose_lock_connection_drops_stops(pg_url: str, seed_text: str) -> None:
    """The advisory lock goes with its connection (a network blip, a timeout, an admin's kill): the sender notices
    before its next chunk and stops, the next sender re-queues what it left, and at most one chunk goes out twice."""
    db = Database(pg_url)
    await db.prepare(load_shipped_if_empty)
    try:
        for chat in range(1, 41):
            await _subscribe(db, chat, Target(ALL))
        await _publish_later(db, seed_text)
        first, second = RecordingSender(), RecordingSender()
        sending = asyncio.create_task(DeliveryWorker(db, first, Catalog(), rate=20, clock=lambda: NOON).run_once())
        await asyncio.sleep(0.5)
        async with db.engine.connect() as conn:
            holder = await conn.scalar(text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"))
            state = await conn.scalar(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": holder})
            assert state in ("idle", "active")  # autocommit: never "idle in transaction" (it may be mid-check)
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
            await conn.commit()
        # The server ends the killed backend, and so frees its lock, a moment later: the next worker takes the role
        # as soon as it is free (bounded, so a sender that never stops still fails the test).
        second_worker = DeliveryWorker(db, second, Catalog(), rate=20, clock=lambda: NOON)
        for _ in range(100):
            await second_worker.run_once()
            if len({chat for chat, *_ in first.sent + second.sent}) == 40:
                break
            await asyncio.sleep(0.1)
        await sending
        chats = Counter(chat for chat, *_ in first.sent + second.sent)
        assert sorted(chats) == list(range(1, 41)) and first.sent and second.sent
        assert sum(n - 1 for n in chats.values()) <= 5
    finally:
        await db.close()


async def test_a_migrated_group_keeps_its_alert_language(seeded: Database) -> None:
    from dxcore.alerts.subscriptions import migrate_chat

    await _subscribe(seeded, -100, Target(ALL), language="en")
    async with seeded.session() as session, session.begin():
        await migrate_chat(session, -100, -1001)
    async with seeded.session() as session:
        assert (await session.get(Chat, -1001)).language == "en"


async def test_a_migrated_group_that_already_has_the_alert_is_not_sent_twice(seeded: Database,
                                                                                seed_text: str) -> None:
    """The old group and its new supergroup were both subscribed: the migration merges them, nothing loops."""
    for chat in (-300, -100300, 1, 2, 3):
        await _subscribe(seeded, chat, Target(ALL))
    await _publish_later(seeded, seed_text)
    sender = RecordingSender({-300: [SendResult(MIGRATED, new_chat_id=-100300, error="migrated")]})
    worker = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: NOON)
    await worker.run_once()
    await worker.run_once()
    assert sorted(chat for chat, *_ in sender.sent) == [-100300, 1, 2, 3]
    async with seeded.session() as session:
        statuses = Counter(await session.scalars(select(Delivery.status)))
        follows = list(await session.scalars(select(Subscription.chat_id)))
    assert statuses == {"sent": 5} and sorted(follows) == [-100300, 1, 2, 3]


async def test_a_row_that_cannot_be_recorded_does_not_resend_its_chunk(seeded: Database, seed_text: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import IntegrityError

    import dxcore.alerts.delivery as delivery

    async def broken_migration(*_args, **_kwargs) -> None:
        raise IntegrityError("UPDATE subscription …", {}, Exception("unique constraint"))

    monkeypatch.setattr(delivery, "migrate_chat", broken_migration)
    for chat in (-300, 1, 2, 3):
        await _subscribe(seeded, chat, Target(ALL))
    await _publish_later(seeded, seed_text)
    sender = RecordingSender({-300: [SendResult(MIGRATED, new_chat_id=-100300, error="migrated")]})
    worker = DeliveryWorker(seeded, sender, Catalog(check_every=0), rate=1000, clock=lambda: NOON)
    await worker.run_once()
    assert await worker.run_once() == 0  # nothing left to send again
    assert sorted(chat for chat, *_ in sender.sent) == [1, 2, 3]
    async with seeded.session() as session:
        rows = dict((await session.execute(select(Delivery.chat_id, Delivery.status))).all())
    assert rows == {-300: "failed", 1: "sent", 2: "sent", 3: "sent"}
