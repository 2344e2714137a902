"""Subscriptions, admin publishing from a phone and alert delivery, through the real PTB Application polling the
fake Bot API over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application

from tests.conftest import polling_bot
from tests.fakebot import FakeBotApi
from tests.fakebot import call_buttons as _buttons
from tests.fakebot import call_text as _text
from tests.test_delivery import later_decision

ADMIN, USER, GROUP, GROUP_ADMIN = 900, 5, -100777, 6




@pytest.fixture
async def running(db_url: str) -> AsyncIterator[tuple[Application, FakeBotApi]]:
    async with polling_bot(db_url, deliver=True, admin_ids=frozenset({ADMIN})) as running:
        yield running


async def _reply(fake: FakeBotApi, chat_id: int, text: str, since: int, **kwargs):
    fake.push_message(chat_id, text, **kwargs)
    return await fake.wait_for_async(lambda c: c.method in ("sendMessage", "editMessageText")
                                     and str(c.params["chat_id"]) == str(chat_id), timeout=10, since=since)


async def test_subscribe_publish_and_alert_once(running, seed_text: str) -> None:
    application, fake = running
    answer = await _reply(fake, USER, "/dangky so y te", fake.mark())
    assert "Đã đăng ký: Sở Y tế." in _text(answer)
    listing = await _reply(fake, USER, "/dangky", fake.mark())
    assert "• Sở Y tế" in _text(listing)
    level_button = next(b for b in _buttons(listing) if b["text"] == "Cấp huyện")
    mark = fake.mark()
    fake.push_callback(USER, listing.result["message_id"], level_button["callback_data"], user_id=USER)
    tapped = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER),
                                       since=mark)
    assert "Đã đăng ký: Cấp huyện." in _text(tapped)

    fake.set_chat_member(GROUP, USER, "member")
    refused = await _reply(fake, GROUP, "/dangky tatca", fake.mark(), user_id=USER)
    assert "chỉ quản trị viên" in _text(refused)
    fake.set_chat_member(GROUP, GROUP_ADMIN, "administrator")
    accepted = await _reply(fake, GROUP, "/dangky tatca", fake.mark(), user_id=GROUP_ADMIN)
    assert "Đã đăng ký: Tất cả quyết định mới." in _text(accepted)

    mark = fake.mark()
    fake.push_document(USER, later_decision(seed_text), "qd-2001.txt")
    refusal = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER),
                                        since=mark)
    assert "chỉ quản trị viên" in _text(refusal)

    mark = fake.mark()
    fake.push_document(ADMIN, later_decision(seed_text), "qd-2001.txt")
    preview = await fake.wait_for_async(lambda c: c.method == "sendMessage" and _buttons(c), since=mark)
    assert "Quyết định số 2001/QĐ-UBND" in _text(preview) and "Sẽ gửi thông báo tới 2 nhóm/người" in _text(preview)
    publish_button = next(b for b in _buttons(preview) if b["text"] == "Công bố")
    mark = fake.mark()
    fake.push_callback(ADMIN, preview.result["message_id"], publish_button["callback_data"], user_id=ADMIN)
    done = await fake.wait_for_async("editMessageText", since=mark)
    assert "Đã công bố. 2 thông báo" in _text(done)

    alert = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER)
                                      and "đã được công bố" in _text(c), since=mark)
    assert "Sở Y tế: hạng 5/20 (↑ 12 hạng)" in _text(alert)
    await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(GROUP)
                              and "đã được công bố" in _text(c), since=mark)
    receipt = await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Đã gửi xong" in _text(c), since=mark)
    assert str(receipt.params["chat_id"]) == str(ADMIN) and "Đã gửi: 2" in _text(receipt)

    # The same decision again: the preview says so and offers no Publish button; nothing is sent.
    mark = fake.mark()
    fake.push_document(ADMIN, later_decision(seed_text), "qd-2001.txt")
    again = await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Xem trước" in _text(c), since=mark)
    assert "đã được công bố trước đây" in _text(again) and not _buttons(again)
    alerts = [c for c in fake.sent() if _text(c).startswith("<b>Kết quả Chuyển đổi số")]
    assert len(alerts) == 2


async def test_invalid_upload_is_refused_with_locations(running, seed_text: str) -> None:
    application, fake = running
    broken = seed_text.replace("| a) Xếp loại Tốt: | 08 đơn vị; |", "| a) Xếp loại Tốt: | 07 đơn vị; |").encode()
    mark = fake.mark()
    fake.push_document(ADMIN, broken, "sai.txt")
    reply = await fake.wait_for_async(lambda c: c.method == "sendMessage", since=mark)
    assert "chưa lưu gì" in _text(reply)
    assert "sai.txt:27: Điều 1 ghi 7 đơn vị Cấp sở xếp loại Tốt, nhưng phụ lục liệt kê 8." in _text(reply)
    mark = fake.mark()
    fake.push_document(ADMIN, broken, "sai.txt", language_code="en")
    reply = await fake.wait_for_async(lambda c: c.method == "sendMessage", since=mark)
    assert "nothing was stored" in _text(reply)
    assert "sai.txt:27: Điều 1 says 7 Cấp sở units are Tốt, but the appendix lists 8." in _text(reply)


async def test_unsubscribe_and_history(running) -> None:
    application, fake = running
    await _reply(fake, USER, "/dangky cap huyen", fake.mark())
    await _reply(fake, USER, "/dangky ninh kieu im lặng", fake.mark())
    listing = await _reply(fake, USER, "/huydangky", fake.mark())
    assert "• Cấp huyện" in _text(listing) and "• UBND quận Ninh Kiều (im lặng)" in _text(listing)
    removed = await _reply(fake, USER, "/huydangky cấp huyện", fake.mark())
    assert "Đã bỏ đăng ký: Cấp huyện." in _text(removed)
    everything = await _reply(fake, USER, "/huydangky tatca", fake.mark())
    assert "Đã bỏ 1 đăng ký." in _text(everything)
    history = await _reply(fake, USER, "/lichsu sở y tế", fake.mark())
    assert "Năm 2023: hạng 17/20, 70,74%, Khá" in _text(history)


async def test_the_alert_worker_recovers_from_a_failed_start(sqlite_url: str, seed_text: str, monkeypatch) -> None:
    """getMe fails when the worker starts (a network blip): it is started again, and the alert still goes out."""
    from bot import app as bot_app
    from dxcore.alerts.subscriptions import ALL, Target
    from tests.test_delivery import _publish_later, _subscribe

    monkeypatch.setattr(bot_app, "RESTART_DELAYS", (0.05,))
    async with polling_bot(sqlite_url) as (application, fake):
        fake.fail_next("getMe", "500", times=2)
        bot_app.start_delivery(application)
        try:
            db = application.bot_data["db"]
            await _subscribe(db, USER, Target(ALL))
            await _publish_later(db, seed_text)
            alert = await fake.wait_for_async(lambda c: c.method == "sendMessage" and "đã được công bố" in _text(c))
            assert str(alert.params["chat_id"]) == str(USER)
            assert [r.method for r in fake.rejected] == ["getMe", "getMe"]
        finally:
            await bot_app.stop_delivery(application)
