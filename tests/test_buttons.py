"""Forged button presses through the fake Bot API: whatever callback data a client sends, from several users in
several chats, no answer changes for anyone; the bot's own buttons still work."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from telegram.ext import Application

from dxcore.parsing import parse_bytes
from dxcore.store.decisions import store_decision
from dxcore.store.models import Alias
from tests.conftest import polling_bot
from tests.fakebot import FakeBotApi, call_buttons, call_text
from tests.test_delivery import later_decision

GROUP, ASKER, MALLORY, TRUDY, EVE = -100555, 5, 21, 22, 23


@pytest.fixture
async def running(db_url: str) -> AsyncIterator[tuple[Application, FakeBotApi]]:
    async with polling_bot(db_url) as running:
        yield running


def _to(chat_id: int, methods=("sendMessage", "editMessageText")):
    return lambda c: c.method in methods and str(c.params.get("chat_id")) == str(chat_id)


async def _ask(fake: FakeBotApi, chat_id: int, text: str, user_id: int):
    mark = fake.mark()
    fake.push_message(chat_id, text, user_id=user_id)
    return await fake.wait_for_async(_to(chat_id), since=mark)


async def _press(fake: FakeBotApi, chat_id: int, message_id: int, data: str, user_id: int):
    """Press, and return (the callback answer, every chat message the press caused). Updates are handled in order,
    so a /help sent after the press is answered only once the press is done: what came between is the press's."""
    mark = fake.mark()
    fake.push_callback(chat_id, message_id, data, user_id=user_id)
    answered = await fake.wait_for_async("answerCallbackQuery", since=mark)
    fake.push_message(chat_id, "/help", user_id=user_id)
    await fake.wait_for_async(lambda c: _to(chat_id)(c) and _is_sentinel(c), since=mark)
    return answered, [c for c in fake.calls[mark:] if _to(chat_id)(c) and not _is_sentinel(c)]


def _is_sentinel(call) -> bool:
    """The answer to /help, or in a group the pointer to the /help answered a moment ago."""
    return "/bieudo" in call_text(call) or "vừa gửi" in call_text(call)


def _altered(payload: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(payload[2:] + "=" * (-len(payload[2:]) % 4)))
    raw[1] ^= 0x01  # the unit id
    return payload[:2] + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


async def test_forged_callback_data_changes_no_answer_and_a_real_tap_works(running, seed_text: str) -> None:
    application, fake = running
    view = await application.bot_data["catalog"].current(application.bot_data["db"])
    finance = view.resolver.resolve("Sở Tài chính").unit.id

    offered = await _ask(fake, GROUP, "/hang Sở KH", ASKER)
    choices = call_buttons(offered)
    assert {b["text"] for b in choices} == {"Sở Khoa học và Công nghệ", "Sở Kế hoạch và Đầu tư"}
    genuine = choices[0]["callback_data"]
    group_message = offered.result["message_id"]
    private_message = (await _ask(fake, EVE, "/hang Sở Y tế", EVE)).result["message_id"]
    unrelated = (await _ask(fake, GROUP, "/hang Sở Y tế", ASKER)).result["message_id"]

    forged = [
        (GROUP, group_message, f"p:{finance}"),  # the old format, naming a unit that was not offered
        (GROUP, group_message, f"a1{finance}"),
        (GROUP, group_message, _altered(genuine)),
        (EVE, private_message, genuine),  # another chat's button
        (EVE, private_message, f"p:{finance}"),
        (GROUP, unrelated, genuine),  # a genuine button, pressed on a message that never offered it
    ]
    for user in (MALLORY, TRUDY, EVE):  # three users in two chats
        for chat_id, message_id, data in forged:
            if (chat_id == EVE) != (user == EVE):
                continue
            answered, caused = await _press(fake, chat_id, message_id, data, user)
            assert answered.params.get("text"), data  # a toast on the button, not a message
            assert caused == [], data

    # The catalog changes (a new decision); the genuine button offered before it is now outdated.
    async with application.bot_data["db"].session() as session, session.begin():
        await store_decision(session, parse_bytes(later_decision(seed_text), "qd.txt").decision, actor="test")
    answered, caused = await _press(fake, GROUP, group_message, genuine, MALLORY)
    assert "đã cũ" in answered.params["text"] and caused == []

    for chat_id, user in ((GROUP, ASKER), (EVE, EVE), (MALLORY, MALLORY), (TRUDY, TRUDY)):
        answer = await _ask(fake, chat_id, "sở y tế hạng mấy" if chat_id > 0 else "/hang sở y tế hạng mấy", user)
        assert "Sở Y tế" in call_text(answer) and "Tài chính" not in call_text(answer)

    # A real tap on fresh buttons answers in place (asked in private: the group would get a pointer to the
    # answer it had a minute ago).
    offered = await _ask(fake, ASKER, "Sở KH", ASKER)
    pick = next(b for b in call_buttons(offered) if b["text"] == "Sở Kế hoạch và Đầu tư")
    answered, caused = await _press(fake, ASKER, offered.result["message_id"], pick["callback_data"], ASKER)
    assert not answered.params.get("text")
    (edited,) = caused
    assert edited.method == "editMessageText" and "Sở Kế hoạch và Đầu tư" in call_text(edited)
    assert await _aliases(application) == 1  # the tap taught this chat; none of the forged presses taught anything
    assert "Sở Kế hoạch và Đầu tư (cấp sở" in call_text(await _ask(fake, ASKER, "so kh", ASKER))


async def _aliases(application: Application) -> int:
    async with application.bot_data["db"].session() as session:
        return await session.scalar(select(func.count(Alias.id)))


async def test_a_real_tap_works_when_the_question_mentions_the_bot(running) -> None:
    application, fake = running
    for chat_id, question in ((ASKER, "@dxbot_test_bot Sở KH"), (GROUP, "/hang Sở KH @dxbot_test_bot")):
        offered = await _ask(fake, chat_id, question, ASKER)
        pick = next(b for b in call_buttons(offered) if b["text"] == "Sở Kế hoạch và Đầu tư")
        answered, caused = await _press(fake, chat_id, offered.result["message_id"], pick["callback_data"], ASKER)
        assert not answered.params.get("text") and "Sở Kế hoạch và Đầu tư" in call_text(caused[0])
    # Both taught "sở kh" (the mention is not part of the question): one row per text, unit and user.
    assert await _aliases(application) == 1
