"""The fake Bot API (tests/fakebot.py) through a real PTB Bot, plain httpx and a tiny real Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import re
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakebot import DEFAULT_TOKEN, FakeBotApi, UploadedFile
from tests.inprocess import BOT, InProcessTelegram

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Quyết định 1568", callback_data="dec:1568"),
                                  InlineKeyboardButton("Nguồn", url="https://example.org/qd-1568")]])


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, base_file_url=fake.file_base_url) as client:
        yield client


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff" * width * 3 for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def test_get_me(bot: Bot, fake: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "dxbot_test_bot" and me.id == 123456
    assert me.can_join_groups and not me.can_read_all_group_messages and me.supports_inline_queries
    assert fake.wait_for("getMe").params == {}


async def test_send_message_parses_html_and_keeps_the_inline_keyboard(bot: Bot, fake: FakeBotApi) -> None:
    first = await bot.send_message(42, "  <b>Xếp hạng</b> chuyển đổi số &lt;2024&gt;\n", parse_mode=ParseMode.HTML,
                                   reply_markup=KEYBOARD)
    assert first.text == "Xếp hạng chuyển đổi số <2024>"  # tags parsed, entities decoded, whitespace trimmed
    assert first.entities == (MessageEntity(MessageEntity.BOLD, 0, 8),)
    assert first.reply_markup == KEYBOARD
    assert first.chat.type == "private" and first.from_user is not None and first.from_user.id == bot.id
    assert first.date.timestamp() == pytest.approx(time.time(), abs=5)  # seconds, not milliseconds
    second = await bot.send_message(-1001234, "nhóm")
    assert second.chat.type == "supergroup" and second.message_id == 1
    assert (await bot.send_message(42, "again")).message_id == first.message_id + 1

    call = fake.sent(42)[0]
    assert call.params["chat_id"] == 42 and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == KEYBOARD.to_dict()  # form field JSON, decoded
    assert fake.message(42, first.message_id)["reply_markup"] == KEYBOARD.to_dict()

    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await bot.send_message(42, "điểm <br> 5", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(42, "x", reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("x", callback_data="Quyết định 1568/QĐ-UBND của Ủy ban nhân dân tỉnh Thừa Thiên Huế")))
    assert [r.description for r in fake.rejected][-1] == "Bad Request: BUTTON_DATA_INVALID"


async def test_get_updates_long_polls_and_offsets_confirm(bot: Bot, fake: FakeBotApi) -> None:
    timer = threading.Timer(0.2, fake.push_message, (42, "/start@dxbot_test_bot hi"))
    timer.start()
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    timer.join()
    assert time.monotonic() - started < 2
    message = updates[0].message
    assert message is not None and message.text == "/start@dxbot_test_bot hi"
    assert message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 21),)
    assert message.from_user is not None and message.from_user.language_code == "vi"

    assert [u.update_id for u in await bot.get_updates()] == [updates[0].update_id]  # not confirmed yet
    started = time.monotonic()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    ids = [fake.push_message(42, "một"), fake.push_message(42, "hai")]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
    assert [u.update_id for u in await bot.get_updates(offset=ids[0] + 1)] == ids[1:]


async def test_edit_message_text(bot: Bot, fake: FakeBotApi) -> None:
    sent = await bot.send_message(42, "Đang tính…", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("<i>Xong</i>", chat_id=42, message_id=sent.message_id,
                                         parse_mode=ParseMode.HTML)
    assert isinstance(edited, Message) and edited.text == "Xong" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing without reply_markup drops the keyboard, as on Telegram
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("<i>Xong</i>", chat_id=42, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    assert [c.method for c in fake.sent(42)] == ["sendMessage", "editMessageText"]


async def test_callback_query_round_trip(bot: Bot, fake: FakeBotApi) -> None:
    sent = await bot.send_message(42, "Chọn quyết định", reply_markup=KEYBOARD)
    fake.push_callback(42, sent.message_id, "dec:1568")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "dec:1568" and query.chat_instance
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.message.reply_markup == KEYBOARD  # the bot's message as it was sent
    assert await query.answer("Đã chọn") is True
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer()  # a query is answered once
    assert fake.wait_for("answerCallbackQuery").params["text"] == "Đã chọn"


async def test_documents_and_photos_upload_and_download(bot: Bot, fake: FakeBotApi) -> None:
    content = b"%PDF-1.4 fake\r\n--not-a-boundary\r\n\x00\xff"
    sent = await bot.send_document(42, content, filename="báo cáo \"2024\".pdf", caption="<b>QĐ</b> 1568",
                                   parse_mode=ParseMode.HTML)
    assert sent.document is not None and sent.document.file_name == 'báo cáo "2024".pdf'
    assert sent.caption == "QĐ 1568" and sent.caption_entities[0].type == MessageEntity.BOLD
    upload = fake.sent(42)[0].params["document"]
    assert upload == UploadedFile('báo cáo "2024".pdf', "application/pdf", content)
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None and file.file_path.startswith(fake.file_base_url)
    assert bytes(await file.download_as_bytearray()) == content

    photo = await bot.send_photo(42, _png(3, 2))
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
    again = await bot.send_document(42, sent.document.file_id)  # re-send by file_id
    assert again.document is not None and again.document.file_unique_id == sent.document.file_unique_id

    fake.push_document(42, b"user bytes", "quyet-dinh.docx", caption="gửi bot")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert bytes(await (await update.message.document.get_file()).download_as_bytearray()) == b"user bytes"


async def test_set_my_commands_per_scope_and_language(bot: Bot, fake: FakeBotApi) -> None:
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("xephang", "Xếp hạng")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeChat(42), language_code="vi")
    assert fake.commands({"type": "chat", "chat_id": 42}, "vi") == [c.to_dict() for c in commands]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(42), language_code="vi") == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert await bot.set_my_description("Tra cứu xếp hạng", language_code="vi")
    assert await bot.set_my_short_description("DX bot")
    assert fake.description("vi") == "Tra cứu xếp hạng" and fake.description(short=True) == "DX bot"
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("XepHang", "uppercase is refused")])


@pytest.mark.parametrize(("kind", "error"), [("429", RetryAfter), ("500", NetworkError), ("403", Forbidden),
                                             ("400_migrated", ChatMigrated)])
async def test_injected_faults_surface_as_ptb_errors(bot: Bot, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch,
                                                     kind: str, error: type[Exception]) -> None:
    # Without PTB_TIMEDELTA, PTB 22 warns (an error here) when RetryAfter is constructed: opt in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next("sendMessage", kind, chat_id=-500, retry_after=3, migrate_to_chat_id=-100500)
    await bot.send_message(-499, "other chats are not affected")
    with pytest.raises(error) as caught:
        await bot.send_message(-500, "x")
    if isinstance(caught.value, RetryAfter):
        assert caught.value.retry_after == dtm.timedelta(seconds=3) and fake.served_429 == 1
    if isinstance(caught.value, ChatMigrated):
        assert caught.value.new_chat_id == -100500
    await bot.send_message(-500, "the fault was consumed")
    assert [c.params["chat_id"] for c in fake.sent()] == [-499, -500]


async def test_blocked_by_the_user_until_unblocked(bot: Bot, fake: FakeBotApi) -> None:
    fake.push_my_chat_member(77)  # member -> kicked: the user blocked the bot
    (update,) = await bot.get_updates()
    assert update.my_chat_member is not None and update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(77, "alert")
    fake.push_my_chat_member(77, old_status="kicked", new_status="member")
    assert (await bot.send_message(77, "alert")).chat.id == 77


async def test_injected_timeout_is_timed_out(fake: FakeBotApi) -> None:
    fake.fail_next("sendMessage", "timeout", hold=1.0)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request) as client:
        with pytest.raises(TimedOut):
            await client.send_message(42, "x")
        assert (await client.send_message(42, "y")).text == "y"
    assert fake.rejected[0].error_code == 0 and fake.rejected[0].method == "sendMessage"


async def test_rate_limit_serves_429(bot: Bot, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.rate_limit(1, burst=2)
    await bot.send_message(42, "1")
    await bot.send_message(42, "2")
    with pytest.raises(RetryAfter):
        await bot.send_message(42, "3")
    assert fake.served_429 == 1 and len(fake.sent()) == 2
    assert (await bot.get_me()).is_bot  # polling and setup methods are never throttled


async def test_wrong_token_is_rejected(fake: FakeBotApi) -> None:
    intruder = Bot("999:WRONG", base_url=fake.base_url)
    try:
        with pytest.raises(InvalidToken):
            await intruder.initialize()
    finally:
        await intruder.shutdown()
    async with httpx.AsyncClient() as client:
        response = await client.post(f"http://127.0.0.1:{fake.base_url.split(':')[2]}999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_plain_http_clients_json_form_and_get(fake: FakeBotApi) -> None:
    url = f"{fake.base_url}{fake.token}"
    with httpx.Client() as client:
        as_json = client.post(f"{url}/sendMessage",
                              json={"chat_id": 7, "text": "123", "reply_markup": KEYBOARD.to_dict()})
        as_form = client.post(f"{url}/sendMessage", data={"chat_id": "7", "text": "true"})
        as_get = client.get(f"{url}/getUpdates", params={"timeout": "0"})
        unknown = client.post(f"{url}/someFutureMethod", data={"x": "1"})
        missing = client.get(f"{fake.file_base_url}{fake.token}/documents/nothing.pdf")
    assert as_json.json()["result"]["reply_markup"] == KEYBOARD.to_dict()
    assert as_json.json()["result"]["text"] == "123" and as_form.json()["result"]["text"] == "true"
    assert as_get.json() == {"ok": True, "result": []}
    assert unknown.json() == {"ok": True, "result": True}
    assert missing.status_code == 404
    assert [c.params["text"] for c in fake.sent(7)] == ["123", "true"]


def test_stop_wakes_long_polls_promptly() -> None:
    server = FakeBotApi().start()
    results: list[object] = []

    def poll() -> None:
        with httpx.Client(timeout=30) as client:
            try:
                response = client.post(f"{server.base_url}{server.token}/getUpdates", data={"timeout": "30"})
                results.append(response.json())
            except httpx.HTTPError as exc:
                results.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    poller.join(5)
    assert time.monotonic() - started < 2 and not poller.is_alive() and len(results) == 1


async def test_tiny_application_answers_ping(fake: FakeBotApi) -> None:
    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("pong")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.file_base_url).build()
    app.add_handler(CommandHandler("ping", ping))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        fake.push_message(42, "/ping")
        reply = await fake.wait_for_async(lambda c: c.method == "sendMessage" and c.params["text"] == "pong", 5)
        assert reply.params["chat_id"] == 42
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    await asyncio.sleep(0)
    assert not fake.rejected or all(r.error_code == 409 for r in fake.rejected)


# --- the same core without HTTP (tests/inprocess.py) -------------------------------------------------------------

@pytest.fixture
async def local() -> AsyncIterator[tuple[Bot, InProcessTelegram]]:
    transport = InProcessTelegram()
    async with Bot("123:abc", request=transport, get_updates_request=transport) as client:
        yield client, transport


async def _script(bot: Bot) -> list[Message]:
    """A few calls that exercise form decoding: HTML, a keyboard, an upload, nested objects, an edit."""
    return [
        await bot.send_message(42, "  <b>Xếp hạng</b> &amp; <i>điểm</i> 123\n", parse_mode=ParseMode.HTML,
                               reply_markup=KEYBOARD),
        await bot.send_document(42, b"%PDF-1.4\r\n--x\r\n", filename="quyết định.pdf", caption="<b>QĐ</b> 1568",
                                parse_mode=ParseMode.HTML),
        await bot.send_message(42, "true", reply_parameters=ReplyParameters(1)),
        await bot.edit_message_text("<i>mới</i>", chat_id=42, message_id=1, parse_mode=ParseMode.HTML,
                                    reply_markup=KEYBOARD),
    ]


async def test_in_process_and_http_hand_the_core_the_same_params(bot: Bot, fake: FakeBotApi, local) -> None:
    local_bot, transport = local
    assert await bot.set_my_commands([BotCommand("hang", "Xếp hạng")], scope=BotCommandScopeChat(42))
    assert await local_bot.set_my_commands([BotCommand("hang", "Xếp hạng")], scope=BotCommandScopeChat(42))
    over_http, in_process = await _script(bot), await _script(local_bot)
    assert [(c.method, c.params) for c in fake.calls] == [(c.method, c.params) for c in transport.api.calls]
    assert [(m.text, m.caption, m.entities, m.caption_entities, m.reply_markup) for m in over_http] == \
        [(m.text, m.caption, m.entities, m.caption_entities, m.reply_markup) for m in in_process]
    assert transport.calls == [(c.method, c.params) for c in transport.api.calls]
    first = transport.sent()[0]
    assert first["text"] == "  <b>Xếp hạng</b> &amp; <i>điểm</i> 123\n"  # the HTML as sent
    assert first["reply_markup"] == KEYBOARD.to_dict() and first["chat_id"] == 42
    assert transport.messages[(42, 1)]["text"] == "mới"  # as Telegram stores it
    assert transport.files == {(42, 2): ("quyết định.pdf", b"%PDF-1.4\r\n--x\r\n")}
    assert in_process[2].reply_to_message is not None and in_process[2].reply_to_message.message_id == 1
    document = in_process[1].document
    assert document is not None
    assert bytes(await (await local_bot.get_file(document.file_id)).download_as_bytearray()) == b"%PDF-1.4\r\n--x\r\n"
    transport.assert_no_unexpected_rejections()


async def test_in_process_calls_are_validated_like_telegram(local, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    bot, transport = local
    assert (await bot.get_me()).username == BOT["username"]
    question = transport.message(-100777, "Sở KH?", user_id=5)["message"]
    choices = await bot.send_message(-100777, "Chọn", reply_markup=KEYBOARD,
                                     reply_parameters=ReplyParameters(question["message_id"]))
    assert choices.reply_to_message is not None and choices.reply_to_message.text == "Sở KH?"
    photo = await bot.send_photo(42, _png(3, 2), caption="biểu đồ")
    inline_id = transport.inline_query(5, "so y te")["inline_query"]["id"]
    card = InlineQueryResultArticle("u1", "Sở Y tế", InputTextMessageContent("<b>17/20", parse_mode=ParseMode.HTML))
    refused = [  # (method, what Telegram says, the call)
        ("sendMessage", "can't parse entities", lambda: bot.send_message(42, "a <br> b", parse_mode=ParseMode.HTML)),
        ("sendMessage", "message is too long", lambda: bot.send_message(42, "x" * 4097)),
        ("sendPhoto", "message caption is too long", lambda: bot.send_photo(42, _png(3, 2), caption="x" * 1025)),
        ("sendMessage", "BUTTON_DATA_INVALID", lambda: bot.send_message(42, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("x", callback_data="p:" + "9" * 63)]]))),
        ("sendMessage", "Text buttons are unallowed", lambda: bot.send_message(
            42, "x", reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("x")))),
        ("sendMessage", "message to be replied not found",
         lambda: bot.send_message(42, "x", reply_parameters=ReplyParameters(9))),
        ("editMessageText", "message to edit not found", lambda: bot.edit_message_text("x", 42, 999)),
        ("editMessageText", "there is no text in the message to edit",
         lambda: bot.edit_message_text("x", 42, photo.message_id)),
        ("editMessageCaption", "there is no caption in the message to edit",
         lambda: bot.edit_message_caption(-100777, choices.message_id, caption="x")),
        ("editMessageText", "message is not modified",
         lambda: bot.edit_message_text("Chọn", -100777, choices.message_id, reply_markup=KEYBOARD)),
        ("answerInlineQuery", "can't parse entities", lambda: bot.answer_inline_query(inline_id, [card])),
    ]
    for _, description, call in refused:
        with pytest.raises(BadRequest, match="(?i)" + re.escape(description)):
            await call()
    tap = transport.callback(transport.messages[(-100777, choices.message_id)], "dec:1568", user_id=5)
    assert await bot.answer_callback_query(tap["callback_query"]["id"], "Đã chọn") is True
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(tap["callback_query"]["id"])  # answered once
    assert len(transport.rejected) == len(refused) + 1
    assert [m for m, _ in transport.calls].count("sendMessage") == 6  # refused calls are recorded too
    with pytest.raises(AssertionError, match="BUTTON_DATA_INVALID"):
        transport.assert_no_unexpected_rejections()

    transport.api.fail_next("sendMessage", "429", retry_after=2)
    with pytest.raises(RetryAfter):
        await bot.send_message(42, "x")
    transport.api.fail_next("sendMessage", "timeout")
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(42, "x")
    assert time.monotonic() - started < 1  # in-process there is no connection to hold open

    for method, description, _ in refused:
        transport.expect_rejection(method, description)
    transport.expect_rejection("answerCallbackQuery", "query is too old")
    transport.expect_rejection("sendMessage", "Too Many Requests")
    transport.expect_rejection("sendMessage", "timeout")
    transport.assert_no_unexpected_rejections()
    transport.expect_rejection("sendDocument", "file is too big")
    with pytest.raises(AssertionError, match="expected but never happened: sendDocument 'file is too big'"):
        transport.assert_no_unexpected_rejections()
