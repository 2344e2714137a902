"""Sending limits and flood control: the send budget (replies before alerts, a full group never delays another
chat, the long-run rate), FloodGuard and Cooldown on fake time; then the bot over the fake Bot API: a flooding user
gets one notice and is ignored while others are answered, and each chat is handled in order while another chat's
update is not held up by it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json

import pytest
from pydantic import ValidationError
from telegram import Update

from bot.limits import ChatOrderedProcessor
from dxcore.conversation.limits import (
    ALERT,
    CHART,
    EXPORT,
    REPLY,
    Cooldown,
    FloodGuard,
    FloodLimit,
    SendBudget,
    Verdict,
)
from dxcore.settings import Settings
from tests.conftest import inprocess_bot, polling_bot
from tests.fakebot import call_text
from tests.test_bot import feed


class FakeTime:
    """A clock and a sleep that only move when the test calls ``advance``."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            until, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, until)
            if not future.done():
                future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


def start(budget: SendBudget, done: list[str], name: str, priority: int = REPLY, group: int | None = None):
    async def send() -> None:
        await budget.acquire(priority, group=group)
        done.append(name)
    return asyncio.create_task(send())


# --- the send budget ----------------------------------------------------------------------------------------------

async def test_replies_go_before_alerts_when_both_wait() -> None:
    time = FakeTime()
    budget = SendBudget(1, clock=time.clock, sleep=time.sleep)  # one token a second, a burst of one
    done: list[str] = []
    await budget.acquire(REPLY)  # the bucket is empty now
    tasks = [start(budget, done, f"alert {i}", ALERT) for i in range(3)]
    await settle()
    tasks += [start(budget, done, f"reply {i}", REPLY) for i in range(2)]  # arrive later, served first
    await settle()
    assert done == [] and budget.waiting == 5
    for _ in range(5):
        await time.advance(1)
    assert done == ["reply 0", "reply 1", "alert 0", "alert 1", "alert 2"]
    await asyncio.gather(*tasks)


async def test_a_full_group_never_delays_another_chat() -> None:
    time = FakeTime()
    budget = SendBudget(100, group_limit=2, group_window=60, clock=time.clock, sleep=time.sleep)
    done: list[str] = []
    for _ in range(2):
        await budget.acquire(REPLY, group=-100)
    held = start(budget, done, "third to the group", group=-100)  # the group's window is full for 60 s
    await settle()
    others = [start(budget, done, "private", group=None), start(budget, done, "other group", group=-200),
              start(budget, done, "alert", ALERT)]
    await settle()
    assert done == ["private", "other group", "alert"]
    await asyncio.gather(*others)
    await time.advance(59)
    assert "third to the group" not in done
    await time.advance(1)
    assert done[-1] == "third to the group"
    await held


async def test_the_long_run_rate_and_a_pause_hold_for_everyone() -> None:
    time = FakeTime()
    budget = SendBudget(10, clock=time.clock, sleep=time.sleep)  # a burst of one, then one every 0.1 s
    done: list[str] = []
    tasks = [start(budget, done, str(i), ALERT if i % 2 else REPLY) for i in range(31)]
    await settle()
    assert len(done) == 1
    for _ in range(10):
        await time.advance(0.1)
    assert 10 <= len(done) <= 11  # never more than the burst plus rate × time (10 × 0.1 may fall short of 1)
    sent = len(done)
    budget.pause(5)  # Telegram said "retry after 5"
    await time.advance(4.9)
    assert len(done) == sent
    for _ in range(25):
        await time.advance(0.1)
    assert len(done) == 31
    assert {int(name) % 2 for name in done[:16]} == {0}  # every reply went before any alert
    await asyncio.gather(*tasks)


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    time = FakeTime()
    budget = SendBudget(1, clock=time.clock, sleep=time.sleep)
    done: list[str] = []
    await budget.acquire(REPLY)
    first, second = start(budget, done, "first"), start(budget, done, "second")
    await settle()
    first.cancel()
    await settle()
    await time.advance(1)
    assert done == ["second"] and budget.waiting == 0
    await second


# --- flood control and cooldowns ----------------------------------------------------------------------------------

def test_flood_limit_is_parsed_or_refused() -> None:
    assert FloodLimit.parse("20/10s") == FloodLimit(20, 10.0)
    assert FloodLimit.parse(" 30 / 1m ") == FloodLimit(30, 60.0)
    assert FloodLimit.parse("off") is None and FloodLimit.parse("OFF") is None
    for bad in ("20", "ten/10s", "0/10s", "20/0s", "20/10h"):
        with pytest.raises(ValueError, match="20/10s"):
            FloodLimit.parse(bad)
    assert Settings(_env_file=None).flood == "20/10s"
    with pytest.raises(ValidationError, match="flood limit"):
        Settings(_env_file=None, flood="lots")


def test_a_flooding_user_gets_one_notice_then_silence_and_others_are_unaffected() -> None:
    time = FakeTime()
    guard = FloodGuard(FloodLimit(3, 10), block_seconds=30, clock=time.clock)
    assert [guard.check(1) for _ in range(3)] == [Verdict.ADMIT] * 3
    assert guard.check(1) is Verdict.NOTICE
    assert [guard.check(1) for _ in range(5)] == [Verdict.DROP] * 5
    assert guard.check(2) is Verdict.ADMIT  # someone else
    time.now = 29.9
    assert guard.check(1) is Verdict.DROP
    time.now = 30
    assert [guard.check(1) for _ in range(3)] == [Verdict.ADMIT] * 3  # afresh after the block


def test_the_flood_window_slides() -> None:
    time = FakeTime()
    guard = FloodGuard(FloodLimit(3, 10), clock=time.clock)
    for moment in (0, 4, 8):
        time.now = moment
        assert guard.check(7) is Verdict.ADMIT
    time.now = 10  # the first has left the window
    assert guard.check(7) is Verdict.ADMIT
    time.now = 11
    assert guard.check(7) is Verdict.NOTICE  # 4, 8, 10 are within 10 s of 11
    assert FloodGuard(None).check(7) is Verdict.ADMIT


def test_one_chart_and_one_export_per_chat_per_ten_seconds() -> None:
    time = FakeTime()
    cooldown = Cooldown(10, clock=time.clock)
    assert cooldown.claim(5, CHART) == 0
    time.now = 3
    assert cooldown.claim(5, CHART) == pytest.approx(7)
    assert cooldown.claim(5, EXPORT) == 0  # a different kind
    assert cooldown.claim(6, CHART) == 0  # a different chat
    time.now = 9
    assert cooldown.claim(5, CHART) == pytest.approx(1)  # a refused claim does not restart the wait
    time.now = 10
    assert cooldown.claim(5, CHART) == 0


# --- per-chat order ---------------------------------------------------------------------------------------------

def _update(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "hi", "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Lan"}}}, None)


async def test_each_chat_in_order_and_chats_concurrently() -> None:
    processor = ChatOrderedProcessor()
    events: list[str] = []
    hold = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        events.append(f"start {name}")
        if wait is not None:
            await wait.wait()  # e.g. waiting for the send budget
        events.append(f"end {name}")

    tasks = [asyncio.create_task(processor.process_update(_update(1, 10), handle("a1", hold))),
             asyncio.create_task(processor.process_update(_update(2, 10), handle("a2"))),
             asyncio.create_task(processor.process_update(_update(3, 20), handle("b1")))]
    await settle()
    assert events == ["start a1", "start b1", "end b1"]  # b1 was not held up by a1; a2 waits for a1
    hold.set()
    await asyncio.gather(*tasks)
    assert events[3:] == ["end a1", "start a2", "end a2"]
    assert processor.chats_in_flight == 0


# --- the bot over the fake Bot API --------------------------------------------------------------------------------

FLOODER, ENGLISH, OTHER, GROUP, MEMBER = 601, 602, 603, -100604, 605


def _to(chat: int):
    return lambda c: c.method in ("sendMessage", "editMessageText") and str(c.params.get("chat_id")) == str(chat)


async def test_a_flooding_user_is_throttled_while_another_user_is_answered(sqlite_url: str) -> None:
    async with polling_bot(sqlite_url, flood="3/60s") as (application, fake):
        for _ in range(6):
            fake.push_message(FLOODER, "so y te hang may")
        fake.push_message(OTHER, "thống kê cấp sở")
        for _ in range(4):
            fake.push_message(ENGLISH, "Department of Health rank?", language_code="en")
        await fake.wait_for_async(_to(OTHER), timeout=20)
        notice = await fake.wait_for_async(lambda c: _to(FLOODER)(c) and "Vui lòng đợi" in call_text(c), timeout=20)
        assert call_text(notice) == ("Bạn gửi quá nhiều tin nhắn trong thời gian ngắn. "
                                     "Vui lòng đợi 30 giây rồi hỏi tiếp.")
        english = await fake.wait_for_async(lambda c: _to(ENGLISH)(c) and "Please wait" in call_text(c), timeout=20)
        assert "Please wait 30 seconds" in call_text(english)
        await asyncio.sleep(0.5)  # anything more to the flooder would have gone out by now
        to_flooder = [call_text(c) for c in fake.sent(FLOODER)]
        assert len(to_flooder) == 4 and all("17/20" in text for text in to_flooder[:3]), to_flooder
        assert len(fake.sent(ENGLISH)) == 4


async def test_a_flooding_users_presses_get_one_toast_then_nothing(sqlite_url: str) -> None:
    async with inprocess_bot(sqlite_url, flood="2/60s") as (application, transport):
        # Group chatter not addressed to the bot does not count.
        for _ in range(5):
            await feed(application, transport.message(GROUP, "chào cả nhà", user_id=MEMBER))
        await feed(application, transport.message(GROUP, "/thongke", user_id=MEMBER))
        assert len(transport.sent()) == 1
        await feed(application, transport.message(MEMBER, "Sở KH"))  # the second: answered, with buttons
        choices = transport.last_bot_message(MEMBER)
        data = choices["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        transport.clear()
        await feed(application, transport.callback(choices, data, user_id=MEMBER))
        (toast,) = transport.sent("answerCallbackQuery")
        assert "Vui lòng đợi 30 giây" in toast["text"] and transport.texts() == []
        transport.clear()
        await feed(application, transport.callback(choices, data, user_id=MEMBER))
        await feed(application, transport.message(MEMBER, "so y te"))
        assert [m for m, _ in transport.calls] == ["answerCallbackQuery"]  # the spinner stops; nothing is said
        assert "text" not in transport.sent("answerCallbackQuery")[0]


async def test_a_chat_waiting_for_its_group_window_holds_up_no_other_chat(sqlite_url: str) -> None:
    async with polling_bot(sqlite_url) as (application, fake):
        budget: SendBudget = application.bot_data["budget"]
        release, real_sleep = asyncio.Event(), budget.sleep

        async def sleep(seconds: float) -> None:
            if seconds > 5:  # only a full group's window waits this long: held until the test lets it go
                await release.wait()
            else:
                await real_sleep(seconds)

        budget.sleep = sleep
        try:
            for _ in range(budget.group_limit):  # the group has had its 20 messages this minute
                await budget.acquire(REPLY, group=GROUP)
            fake.push_message(GROUP, "/thongke", user_id=MEMBER, chat_type="supergroup")
            first = fake.last_user_message(GROUP)["message_id"]
            fake.push_message(GROUP, "/top 3 cấp huyện", user_id=MEMBER, chat_type="supergroup")
            second = fake.last_user_message(GROUP)["message_id"]
            fake.push_message(OTHER, "so y te hang may")
            answer = await fake.wait_for_async(_to(OTHER), timeout=20)
            assert "17/20" in call_text(answer)
            assert fake.sent(GROUP) == []  # still waiting for the window
        finally:
            release.set()
        await fake.wait_for_async(lambda c: len(fake.sent(GROUP)) >= 2, timeout=20)
        replied = [c.params["reply_parameters"] for c in fake.sent(GROUP)]
        replied = [json.loads(r) if isinstance(r, str) else r for r in replied]
        assert [int(r["message_id"]) for r in replied] == [first, second]  # the group's answers in order
