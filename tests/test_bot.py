"""The bot end to end through the real PTB Application, with the in-process Bot API (tests/inprocess.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Update
from telegram.ext import Application

from bot import app as bot_app
from bot.handlers import common as telegram_io
from bot.render import split_messages
from dxcore.conversation import core as conversation_core
from tests.conftest import inprocess_bot
from tests.inprocess import BOT, InProcessTelegram, assert_telegram_html

PRIVATE, GROUP, ADMIN = 4242, -100777, 99


@pytest.fixture
async def tg(sqlite_url: str) -> AsyncIterator[tuple[Application, InProcessTelegram]]:
    # Every call goes through the strict fake Bot API: one Telegram would refuse fails the test, unless the test
    # declared it with transport.expect_rejection(method, description).
    async with inprocess_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as running:
        yield running


async def feed(application: Application, update: dict) -> None:
    await application.process_update(Update.de_json(update, application.bot))


def _checked(transport: InProcessTelegram) -> list[str]:
    texts = transport.texts()
    for text in texts:
        assert_telegram_html(text)
    return texts


async def test_start_offers_three_tappable_examples(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, "/start"))
    (sent,) = transport.sent()
    assert "Chuyển đổi số" in sent["text"]
    buttons = [row[0] for row in sent["reply_markup"]["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["Sở Y tế xếp hạng mấy?", "thống kê cấp sở", "top 3 cấp huyện"]
    transport.clear()
    await feed(application, transport.callback(transport.last_bot_message(PRIVATE), buttons[0]["callback_data"],
                                               user_id=PRIVATE))
    assert transport.calls[0][0] == "answerCallbackQuery"
    assert "17/20" in _checked(transport)[0]


async def test_deep_link_opens_a_units_answer(tg) -> None:
    application, transport = tg
    async with application.bot_data["db"].session() as session:
        unit_id = (await application.bot_data["catalog"].get(session)).resolver.resolve("Sở Tư pháp").unit.id
    await feed(application, transport.message(PRIVATE, f"/start u_{unit_id}"))
    (text,) = _checked(transport)
    assert "<b>Sở Tư pháp (cấp sở, năm 2023)</b>" in text and "6/20" in text and "95,73%" in text


async def test_free_text_answer_in_private(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, "so y te hang may"))
    (text,) = _checked(transport)
    assert "Xếp hạng: 17/20" in text and "Tỷ lệ: 70,74%" in text and "Xếp loại: Khá" in text
    assert "Đứng trên: Thanh tra thành phố" in text
    assert "<i>Nguồn: Quyết định số 1568/QĐ-UBND ngày 12/7/2024" in text
    assert transport.sent()[0].get("reply_parameters") is None  # no quoting in a private chat


async def test_ambiguous_offers_buttons_and_a_tap_answers_and_teaches(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, "Sở KH"))
    (sent,) = transport.sent()
    buttons = [row[0] for row in sent["reply_markup"]["inline_keyboard"]]
    assert {b["text"] for b in buttons} == {"Sở Khoa học và Công nghệ", "Sở Kế hoạch và Đầu tư"}
    assert all(b["callback_data"].startswith("a1") and len(b["callback_data"].encode()) <= 64 for b in buttons)
    pick = next(b for b in buttons if b["text"] == "Sở Kế hoạch và Đầu tư")

    # The choices quote the question, so Telegram hands it back with the tap (the in-process API does the same).
    assert sent["reply_parameters"]["message_id"]
    bot_message = transport.last_bot_message(PRIVATE)
    assert bot_message["reply_to_message"]["text"] == "Sở KH"
    transport.clear()
    await feed(application, transport.callback(bot_message, pick["callback_data"], user_id=PRIVATE))
    assert transport.calls[0][0] == "answerCallbackQuery"
    (edited,) = transport.sent("editMessageText")
    assert "Sở Kế hoạch và Đầu tư" in edited["text"] and "73,63%" in edited["text"]

    transport.clear()
    await feed(application, transport.message(PRIVATE, "Sở KH"))  # learned for this chat at once
    assert "73,63%" in _checked(transport)[0]
    transport.clear()
    await feed(application, transport.message(PRIVATE + 1, "Sở KH"))  # but not for everyone yet
    assert transport.sent()[0].get("reply_markup")


async def test_not_found_suggests_and_hints(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, "Bộ Tài chính"))
    (sent,) = transport.sent()
    assert "Không tìm thấy đơn vị" in sent["text"] and "ví dụ" in sent["text"]
    assert [row[0]["text"] for row in sent["reply_markup"]["inline_keyboard"]] == ["Sở Tài chính"]
    transport.clear()
    await feed(application, transport.message(PRIVATE, "Bộ Tài chính Hà Nội"))  # another place: no namesake offered
    (sent,) = transport.sent()
    assert "Không tìm thấy đơn vị nào của Hà Nội" in sent["text"] and "reply_markup" not in sent


@pytest.mark.parametrize(("command", "expected", "absent"), [
    ("/hang Sở Tư pháp", ["6/20", "95,73%", "Tốt"], []),
    ("/hang", ["Cách dùng: /hang &lt;tên đơn vị&gt;"], []),
    ("/thongke cấp huyện", ["Xếp loại Khá: 4 đơn vị", "Tổng số: 9 đơn vị"], ["Cấp sở"]),
    ("/thongke", ["<b>Cấp sở (năm 2023)</b>", "<b>Cấp huyện (năm 2023)</b>"], []),
    ("/thongke so 2023", ["Xếp loại Tốt: 8 đơn vị"], ["Cấp huyện"]),
    ("/thongke huyen 2019", ["Chưa có kết quả xếp hạng cấp huyện năm 2019."], []),
    ("/top huyện 3", ["1. UBND quận Thốt Nốt", "3. UBND quận Ô Môn"], ["4. UBND"]),
    ("/top 3 huyện", ["1. UBND quận Thốt Nốt", "3. UBND quận Ô Môn"], ["4. UBND"]),
    ("/top", ["Top 5", "<b>Cấp sở", "<b>Cấp huyện"], []),
    ("/cuoi 2 quận/huyện", ["8. UBND huyện Cờ Đỏ", "9. UBND huyện Thới Lai"], ["7. UBND"]),
    ("/xeploai khá cấp sở", ["9/20 đơn vị xếp loại Khá", "Sở Y tế"], ["Sở Tư pháp"]),
    ("/xeploai", ["Cách dùng: /xeploai"], []),
    ("/quyetdinh", ["Quyết định số 1568/QĐ-UBND ngày 12/7/2024", "cấp sở (20 đơn vị)"], []),
    ("/help", ["những đơn vị cấp sở xếp loại Khá", "/bieudo"], []),
    ("/khongco", ["Không có lệnh này"], []),
])
async def test_commands_in_private(tg, command: str, expected: list[str], absent: list[str]) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, command))
    text = "\n".join(_checked(transport))
    for fragment in expected:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


async def test_group_commands_addressing_and_brief_answers(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(GROUP, "/hang@dxbot_test_bot Sở Y tế", user_id=5))
    (sent,) = transport.sent()
    assert "17/20" in sent["text"] and "Đứng trên" not in sent["text"]  # brief in groups
    assert sent["reply_parameters"]["message_id"]  # replies to the question

    transport.clear()
    await feed(application, transport.message(GROUP, "/hang@otherbot Sở Y tế", user_id=5))
    await feed(application, transport.message(GROUP, "/khongco", user_id=5))  # may be another bot's command
    await feed(application, transport.message(GROUP, "sở y tế hạng mấy", user_id=5))  # not addressed to us
    assert transport.sent() == []

    await feed(application, transport.message(GROUP, f"@{BOT['username']} thống kê cấp huyện", user_id=5))
    assert "Xếp loại Trung bình: 5 đơn vị" in transport.sent()[-1]["text"]
    answer = transport.last_bot_message(GROUP)
    await feed(application, transport.message(GROUP, "ninh kiều thì sao", user_id=6, reply_to=answer))
    assert "63,71%" in transport.sent()[-1]["text"]


async def test_group_repeat_gets_no_second_full_answer(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(GROUP, "/thongke", user_id=5))
    first = transport.sent()
    answer_ids = sorted(m["message_id"] for (chat_id, _), m in transport.messages.items()
                        if chat_id == GROUP and m["from"]["is_bot"])
    await feed(application, transport.message(GROUP, "/thongke", user_id=6))
    second = transport.sent()[len(first):]
    assert len(second) == 1 and second[0]["text"] == "↑ Câu trả lời vừa gửi ở trên."
    assert answer_ids and second[0]["reply_parameters"]["message_id"] == answer_ids[0]  # the first answer's message
    assert transport.last_bot_message(GROUP)["reply_to_message"]["message_id"] == answer_ids[0]  # Telegram found it


async def test_migrated_group_keeps_learned_picks(tg) -> None:
    application, transport = tg
    old, new = -4000, -1004000
    await feed(application, transport.message(old, "/hang Sở KH", user_id=5))
    question = transport.message(old, "/hang Sở KH", user_id=5)["message"]
    bot_message = dict(transport.last_bot_message(old), reply_to_message=question)
    pick = next(row[0] for row in bot_message["reply_markup"]["inline_keyboard"]
                if row[0]["text"] == "Sở Khoa học và Công nghệ")
    await feed(application, transport.callback(bot_message, pick["callback_data"], user_id=5))
    await feed(application, transport.message(old, "", user_id=5, extra={"migrate_to_chat_id": new, "text": None}))
    transport.clear()
    await feed(application, transport.message(new, "/hang Sở KH", user_id=5))
    assert "95,88%" in _checked(transport)[0]


async def test_an_edited_question_edits_its_answer(tg) -> None:
    application, transport = tg
    question = transport.message(PRIVATE, "so y te")
    await feed(application, question)
    (first,) = transport.sent()
    answer_id = transport.last_bot_message(PRIVATE)["message_id"]
    assert "Sở Y tế" in first["text"]
    transport.clear()
    await feed(application, transport.edit(question, "so tai chinh"))
    assert transport.sent() == []  # nothing new: the earlier answer now answers the edited question
    (edited,) = transport.sent("editMessageText")
    assert edited["message_id"] == answer_id and "Sở Tài chính" in edited["text"]

    # The link lives in the database: a new Application (a restart, or another replica) edits the same answer.
    await application.bot_data["links"].flush()  # as it would be a moment after the answer
    transport.clear()
    settings = application.bot_data["settings"]
    other = bot_app.build_application(settings, transport)
    await other.initialize()
    try:
        await feed(other, transport.edit(question, "/top 3 cấp huyện"))
    finally:
        await other.shutdown()
        await bot_app.close_state(other)
    (again,) = transport.sent("editMessageText")
    assert again["message_id"] == answer_id and "Top 3" in again["text"]

    # A question the bot never answered (sent before it ran, say) is answered when edited.
    transport.clear()
    await feed(application, transport.message(PRIVATE, "/hang Sở Y tế", edited=True))
    assert "17/20" in _checked(transport)[0]

    # An edited command that asks nothing is not carried out again, and gets no "no such command".
    transport.clear()
    subscribe = transport.message(PRIVATE, "/dangky tatca")
    await feed(application, subscribe)
    transport.clear()
    await feed(application, transport.edit(subscribe, "/dangky cap so"))
    assert transport.calls == []


async def test_a_chart_edited_into_a_question_is_answered_anew(tg) -> None:
    application, transport = tg
    question = transport.message(PRIVATE, "/bieudo cấp sở")
    await feed(application, question)
    (photo,) = transport.sent("sendPhoto")
    photo_id = max(transport.files)[1]
    transport.clear()
    transport.expect_rejection("editMessageText", "there is no text in the message to edit")
    await feed(application, transport.edit(question, "so y te"))  # a photo cannot become text by editing
    (answer,) = transport.sent()
    assert "Xếp hạng: 17/20" in answer["text"]
    (marked,) = transport.sent("editMessageCaption")
    assert marked["message_id"] == photo_id and "Câu hỏi đã được sửa" in marked["caption"]
    transport.clear()
    await feed(application, transport.edit(question, "so tai chinh"))  # and the new text answer is edited next
    (edited,) = transport.sent("editMessageText")
    assert "Sở Tài chính" in edited["text"] and not transport.sent()


async def test_english_users_get_english(tg) -> None:
    application, transport = tg
    await feed(application, transport.message(PRIVATE, "so y te", language="en"))
    (text,) = _checked(transport)
    assert "Rank: 17/20" in text and "Percentage: 70.74%" in text and "Tier: Fair" in text
    assert "Source: Decision No. 1568/QĐ-UBND of 12 Jul 2024 by UBND thành phố Cần Thơ, Appendix I" in text
    # No Vietnamese boilerplate: what is left once unit, issuer and appendix names are taken out is ASCII.
    view = await application.bot_data["catalog"].current(application.bot_data["db"])
    printed = {row.name for r in view.snapshot.rankings for row in r.rows}
    printed |= {r.decision.issuer for r in view.snapshot.rankings}
    printed |= {r.decision.number for r in view.snapshot.rankings}
    for name in sorted(printed, key=len, reverse=True):
        text = text.replace(name, "")
    leftover = [line for line in text.splitlines() if not line.isascii()]
    assert leftover == [], leftover
    transport.clear()
    await feed(application, transport.message(PRIVATE, "thong ke cap so", language="en-GB"))
    assert "Tier summary" in _checked(transport)[0] and "Good: 8 units" in transport.texts()[0]


async def test_odd_input_never_breaks(tg) -> None:
    application, transport = tg
    hostile = "<b>Sở Y tế</b> & <script>alert(1)</script> " + "🙂 ạ " * 900
    await feed(application, transport.message(PRIVATE, hostile[:4096]))
    texts = _checked(transport)
    assert texts and all(len(t) <= 4096 for t in texts)


async def test_errors_become_one_short_sentence(tg, monkeypatch) -> None:
    application, transport = tg

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(conversation_core, "answer_text", broken)
    await feed(application, transport.message(PRIVATE, "so y te"))
    assert transport.texts() == ["Xin lỗi, đã có lỗi khi trả lời. Bạn thử lại sau ít phút nhé."]
    transport.clear()
    await feed(application, transport.message(PRIVATE, "so y te", language="en"))
    assert transport.texts() == ["Sorry, something went wrong while answering. Please try again in a few minutes."]


async def test_menus_and_descriptions_are_registered(tg) -> None:
    application, transport = tg
    await bot_app.register_menus(application)
    menus = transport.sent("setMyCommands")
    scopes = [(p["scope"]["type"], p.get("language_code"), [c["command"] for c in p["commands"]]) for p in menus]
    assert scopes[0] == ("all_private_chats", None, ["hang", "thongke", "top", "cuoi", "xeploai", "quyetdinh",
                                                     "lichsu", "bieudo", "xuat", "dangky", "huydangky", "help"])
    assert scopes[1][:2] == ("all_group_chats", None) and "hang" in scopes[1][2]
    assert scopes[2][:2] == ("chat", None) and menus[2]["scope"]["chat_id"] == ADMIN
    english = [p for p in menus if p.get("language_code") == "en"]
    assert len(english) == 3 and english[0]["commands"][0]["description"] == "A unit's result: /hang Sở Y tế"
    descriptions = {p.get("language_code"): p["description"] for p in transport.sent("setMyDescription")}
    assert "Chuyển đổi số" in descriptions[None] and descriptions["en"].startswith("Digital transformation")
    assert transport.sent("setMyShortDescription")[0]["short_description"]


def test_long_answers_split_between_rows() -> None:
    rows = [(None, f"{i}. UBND xã Tân Phú Đông {i} (huyện Phong Điền): 70,00%") for i in range(1, 400)]
    messages = split_messages([("b", "Danh sách")] + rows)
    assert len(messages) > 1
    for message in messages:
        assert_telegram_html(message)
    lines = [line for m in messages for line in m.split("\n")]
    assert lines[0] == "<b>Danh sách</b>" and len(lines) == 400  # no row was cut in two
    (giant,) = split_messages([(None, "<&>" * 3000)])[:1]
    assert_telegram_html(giant)


async def test_inline_query_returns_forwardable_cards(tg) -> None:
    application, transport = tg
    await feed(application, transport.inline_query(PRIVATE, "so y te"))
    (call,) = transport.sent("answerInlineQuery")
    (card,) = call["results"]
    assert card["type"] == "article" and "Sở Y tế" in card["title"]
    content = card["input_message_content"]
    assert "Xếp hạng: 17/20" in content["message_text"] and "Nguồn: Quyết định số 1568/QĐ-UBND" in content["message_text"]
    assert_telegram_html(content["message_text"])
    (button,) = card["reply_markup"]["inline_keyboard"][0]
    unit_id = button["url"].rsplit("u_", 1)[1]
    assert button["url"] == f"https://t.me/{BOT['username']}?start=u_{unit_id}"
    assert call["cache_time"] == 300 and call["is_personal"] is True

    # The deep link opens the full answer in a private chat.
    transport.clear()
    await feed(application, transport.message(PRIVATE, f"/start u_{unit_id}"))
    assert "Đứng trên" in _checked(transport)[0]

    # Several plausible units: one card each; a summary and a list are one card each.
    transport.clear()
    await feed(application, transport.inline_query(PRIVATE, "Sở KH"))
    titles = [r["title"] for r in transport.sent("answerInlineQuery")[0]["results"]]
    assert {"Sở Khoa học và Công nghệ (cấp sở, năm 2023)", "Sở Kế hoạch và Đầu tư (cấp sở, năm 2023)"} <= set(titles)
    transport.clear()
    await feed(application, transport.inline_query(PRIVATE, "top 5 cấp sở", language="en"))
    (card,) = transport.sent("answerInlineQuery")[0]["results"]
    assert card["title"] == "Top 5" and card["input_message_content"]["message_text"].count("\n") >= 5
    start = card["reply_markup"]["inline_keyboard"][0][0]["url"].split("start=")[1]
    transport.clear()
    await feed(application, transport.message(PRIVATE, f"/start {start}"))
    assert "Top 5" in _checked(transport)[0]

    # An empty query shows the examples.
    transport.clear()
    await feed(application, transport.inline_query(PRIVATE, ""))
    assert len(transport.sent("answerInlineQuery")[0]["results"]) == 3


async def test_charts_and_exports_are_sent_as_files(tg) -> None:
    import io

    import openpyxl
    from PIL import Image

    application, transport = tg
    await feed(application, transport.message(PRIVATE, "/bieudo cấp sở"))
    (photo,) = transport.sent("sendPhoto")
    assert "Biểu đồ xếp hạng" in photo["caption"] and "Nguồn: Quyết định số 1568/QĐ-UBND" in photo["caption"]
    assert_telegram_html(photo["caption"])
    ((filename, data),) = transport.files.values()
    assert filename == "bieudo-so-2023.png" and Image.open(io.BytesIO(data)).format == "PNG"

    transport.clear()
    transport.files.clear()
    await feed(application, transport.message(PRIVATE, "/xuat", language="en"))
    (document,) = transport.sent("sendDocument")
    assert "Digital transformation rankings" in document["caption"]
    ((filename, data),) = transport.files.values()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert filename.endswith(".xlsx") and len(workbook.worksheets) == 2

    transport.clear()
    transport.files.clear()
    await feed(application, transport.message(GROUP, "/xuat csv cap huyen"))
    ((filename, data),) = transport.files.values()
    assert filename.endswith(".csv") and data.startswith(b"\xef\xbb\xbf") and "UBND quận Ninh Kiều" in data.decode()

    # A unit with only one decision: the text says so, no chart.
    transport.clear()
    await feed(application, transport.message(PRIVATE, "/bieudo sở y tế"))
    assert not transport.sent("sendPhoto") and "Mới có một quyết định" in _checked(transport)[0]


def test_only_images_telegram_accepts_go_as_photos() -> None:
    def png(width: int, height: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")

    assert telegram_io._fits_as_photo(png(1080, 1788))  # 20 units
    assert not telegram_io._fits_as_photo(png(1080, 4111))  # 80 units: Telegram would shrink it; sent as a file
