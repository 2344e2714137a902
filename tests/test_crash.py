"""The bot process killed with SIGKILL in the middle of a 1,000-chat fan-out, several times, then restarted: the fake
Bot API's log shows every chat alerted, and repeats only within the in-flight bound (one chunk of five per kill)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from dxcore.alerts.subscriptions import ALL, Target, ensure_chat, subscribe
from dxcore.parsing import parse_bytes
from dxcore.publishing.publish import publish
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Delivery
from tests.conftest import start_bot
from tests.fakebot import FakeBotApi
from tests.test_delivery import later_decision

CHATS = range(100_001, 101_001)
IN_FLIGHT = 5  # DeliveryWorker's chunk: sent but not yet recorded at most


async def _publish_to_every_chat(url: str, seed_text: str) -> None:
    db = Database(url)
    await db.prepare(load_shipped_if_empty)
    try:
        async with db.session() as session, session.begin():
            for chat in CHATS:
                await ensure_chat(session, chat, "private")
                await subscribe(session, chat, Target(ALL))
            outcome = parse_bytes(later_decision(seed_text), "later.txt")
            stored = await store_decision(session, outcome.decision, actor="test")
            assert (await publish(session, stored.decision_id, actor="test")).alerts == len(CHATS)
    finally:
        await db.close()


def _alerts(fake: FakeBotApi) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in fake.sent() if c.method == "sendMessage"
                   and int(c.params["chat_id"]) in CHATS)


def _wait(fake: FakeBotApi, process, reached, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not reached(_alerts(fake)):
        assert process.poll() is None, f"the bot exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {sum(_alerts(fake).values())} alerts"
        time.sleep(0.005)


async def test_sigkill_during_fan_out_loses_nothing(db_url: str, seed_text: str, tmp_path: Path) -> None:
    await _publish_to_every_chat(db_url, seed_text)
    env = {"DXBOT_DATABASE_URL": db_url, "DXBOT_QUIET_HOURS": "off", "DXBOT_SEND_RATE": "150"}
    kills = (123, 437, 761)  # alerts seen by the fake when each SIGKILL lands
    with FakeBotApi() as fake:
        for at in kills:
            process = start_bot(fake, tmp_path, **env)
            try:
                _wait(fake, process, lambda seen, at=at: sum(seen.values()) >= at, 60, f"{at} alerts")
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait()
            assert process.returncode == -signal.SIGKILL
        process = start_bot(fake, tmp_path, **env)
        try:
            _wait(fake, process, lambda seen: len(seen) == len(CHATS), 60, "every chat's alert")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        seen = _alerts(fake)

    assert sorted(seen) == list(CHATS)  # 0 lost
    repeats = sum(count - 1 for count in seen.values())
    assert repeats <= IN_FLIGHT * len(kills), f"{repeats} alerts sent twice over {len(kills)} kills"
    db = Database(db_url)
    try:
        async with db.session() as session:
            statuses = dict((await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status))).all())
    finally:
        await db.close()
    assert statuses == {"sent": len(CHATS)}


async def test_two_bot_processes_on_one_sqlite_file_send_each_alert_once(sqlite_url: str, seed_text: str,
                                                                        tmp_path: Path) -> None:
    """An overlapping deploy: a second `dxbot run` starts on the same SQLite file while the first still sends. The
    sender role is an OS lock on a file next to the database, so one of them sends and nothing goes out twice."""
    await _publish_to_every_chat(sqlite_url, seed_text)
    env = {"DXBOT_DATABASE_URL": sqlite_url, "DXBOT_QUIET_HOURS": "off", "DXBOT_SEND_RATE": "150"}
    with FakeBotApi() as fake:
        first = start_bot(fake, tmp_path, **env)
        _wait(fake, first, lambda seen: sum(seen.values()) >= 50, 60, "the first bot's alerts")
        second = start_bot(fake, tmp_path, **env)
        try:
            _wait(fake, second, lambda seen: len(seen) == len(CHATS), 60, "every chat's alert")
        finally:
            for process in (first, second):
                process.send_signal(signal.SIGTERM)
            for process in (first, second):
                process.wait(timeout=30)
        seen = _alerts(fake)
    assert sorted(seen) == list(CHATS) and set(seen.values()) == {1}
