"""Alerts through the real Bot API client against the fake server: every fault Telegram can answer with is
mapped to what the outbox does (retry after, retry, blocked, migrated), and the whole flow delivers once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.alerts import TelegramSender
from dxcore.alerts.delivery import (
    BLOCKED,
    FAILED,
    MIGRATED,
    RETRY,
    SENT,
    DeliveryWorker,
)
from dxcore.alerts.subscriptions import ALL, Target, ensure_chat, subscribe
from dxcore.answering.answers import Answer, Section
from dxcore.publishing.publish import publish
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.store.models import Chat, Delivery
from dxcore.understanding.catalog import Catalog
from tests.fakebot import BotApiError, FakeBotApi
from tests.test_delivery import _store_later

ANSWER = Answer("alert", "Kết quả Chuyển đổi số năm 2024 đã được công bố", [Section(None, ["Sở Y tế: hạng 5/20"])])


@pytest.fixture
async def fake_and_sender():
    with FakeBotApi() as fake:
        bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.file_base_url,
                  request=HTTPXRequest(read_timeout=1.0, connect_timeout=1.0))
        async with bot:
            yield fake, TelegramSender(bot)


@pytest.mark.parametrize(("fault", "kind", "extra"), [
    ("429", RETRY, {"retry_after": 3.0}),
    ("500", RETRY, {}),
    ("timeout", RETRY, {}),
    ("403", BLOCKED, {}),
    ("400_migrated", MIGRATED, {"new_chat_id": -1009999}),
])
async def test_faults_map_to_outbox_outcomes(fake_and_sender, fault: str, kind: str, extra: dict) -> None:
    fake, sender = fake_and_sender
    fake.fail_next("sendMessage", fault, retry_after=3, migrate_to_chat_id=-1009999, hold=2.0)
    result = await sender.send(-4242 if fault == "400_migrated" else 4242, 0, ANSWER, silent=False)
    assert result.kind == kind
    for key, value in extra.items():
        assert getattr(result, key) == value
    again = await sender.send(4242, 0, ANSWER, silent=True)
    assert again.kind == SENT and again.message_id
    (call,) = [c for c in fake.sent(4242)]
    assert call.params["disable_notification"] in (True, "true") and "<b>Kết quả" in call.params["text"]


async def test_a_forum_topic_gets_its_alert_in_the_topic(fake_and_sender) -> None:
    fake, sender = fake_and_sender
    result = await sender.send(-1001234, 77, ANSWER, silent=False)
    assert result.kind == SENT and fake.sent(-1001234)[0].params["message_thread_id"] in (77, "77")


async def test_bad_request_is_not_retried(fake_and_sender) -> None:
    fake, sender = fake_and_sender
    def chat_not_found(_params: dict) -> None:
        raise BotApiError(400, "Bad Request: chat not found")

    fake.register("sendMessage", chat_not_found)
    assert (await sender.send(4242, 0, ANSWER, silent=False)).kind == FAILED


async def test_publish_to_delivery_through_the_fake_api(db_url: str, seed_text: str) -> None:
    db = Database(db_url)
    await db.prepare(load_shipped_if_empty)
    now = datetime.now(UTC)
    try:
        async with db.session() as session, session.begin():
            for chat in (11, 12, 13, -100500):
                await ensure_chat(session, chat, "private" if chat > 0 else "supergroup")
                await subscribe(session, chat, Target(ALL))
        decision_id = await _store_later(db, seed_text)
        async with db.session() as session, session.begin():
            await publish(session, decision_id, actor="test", now=now)
        with FakeBotApi() as fake:
            fake.fail_next("sendMessage", "429", chat_id=11, retry_after=1)
            fake.fail_next("sendMessage", "403", chat_id=12)
            fake.fail_next("sendMessage", "400_migrated", chat_id=-100500, migrate_to_chat_id=-100600)
            bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.file_base_url)
            async with bot:
                worker = DeliveryWorker(db, TelegramSender(bot), Catalog(), rate=50)
                await worker.run_once()
                await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == "13")
                await asyncio.sleep(1.1)  # the 429's retry_after
                await worker.run_once()
            delivered = {str(c.params["chat_id"]) for c in fake.sent()}
        assert delivered == {"11", "13", "-100600"}
        async with db.session() as session:
            statuses = dict((await session.execute(select(Delivery.chat_id, Delivery.status))).all())
            blocked = await session.get(Chat, 12)
        assert statuses == {11: "sent", 12: "blocked", 13: "sent", -100600: "sent"} and blocked.active is False
    finally:
        await db.close()
