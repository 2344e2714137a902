"""Uploaded decisions are read in a child process with caps and a time limit: over the fake Bot API, a zip bomb and
a 2,000-page PDF are refused, a slow document is stopped at its limit while other chats are answered, Publish stores
what the preview showed without reading the file again, and SIGTERM during a read ends `dxbot run`."""

from __future__ import annotations

import asyncio
import io
import signal
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF

from dxcore.parsing import ParsedDecision, parse_bytes
from dxcore.parsing.sandbox import DocumentReader, ReadFailed
from tests.conftest import polling_bot, running_bot
from tests.fakebot import FakeBotApi
from tests.fakebot import call_buttons as _buttons
from tests.fakebot import call_text as _text
from tests.test_delivery import later_decision
from tests.test_ocr import tesseract  # noqa: F401 - the fixture: skipped with the reason without Tesseract

ADMIN, USER = 900, 5


def zip_bomb() -> bytes:
    """A DOCX-shaped zip whose document.xml unpacks to 60 MB (it compresses to about 60 KB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b" " * (60 * 1024 * 1024))
    return buffer.getvalue()


def long_pdf(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for page in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Trang {page + 1}")
    return bytes(pdf.output())


def slow_document(rows: int) -> bytes:
    """A text decision that takes the parser about 0.07 ms a row on this machine: 100,000 rows take seconds."""
    head = "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ\nSố: 77/QĐ-UBND\nQUYẾT ĐỊNH\nPhụ lục I\nXếp hạng\tĐơn vị\tTỷ lệ\tXếp loại\n"
    body = "".join(f"{i}\tUBND xã Thạnh Lợi {i}\t{50 + i % 50},{i % 100:02d}%\tKhá\n" for i in range(1, rows + 1))
    return (head + body).encode()


def test_parsed_decision_survives_json_exactly(seed_text: str) -> None:
    decision = parse_bytes(seed_text.encode(), "seed.txt").decision
    again = ParsedDecision.from_json(decision.to_json())
    assert again == decision and again.content_hash() == decision.content_hash()


async def test_the_reader_returns_what_parsing_in_process_returns(seed_text: str) -> None:
    read = await DocumentReader().read(seed_text.encode(), "seed.txt")
    assert read.outcome.ok and read.outcome == parse_bytes(seed_text.encode(), "seed.txt")
    assert ParsedDecision.from_json(read.decision_json) == read.outcome.decision


async def test_a_read_past_its_limit_is_killed_and_interrupt_ends_reads_at_once() -> None:
    reader = DocumentReader(seconds=1.0)
    with pytest.raises(ReadFailed) as failed:
        await reader.read(slow_document(100_000), "cham.txt")
    assert failed.value.reason == "too_slow" and not reader._children

    reader = DocumentReader()
    reading = asyncio.create_task(reader.read(slow_document(100_000), "cham.txt"))
    while not reader._children:
        await asyncio.sleep(0.01)
    reader.interrupt()
    with pytest.raises(ReadFailed) as failed:
        await asyncio.wait_for(reading, timeout=10)
    assert failed.value.reason == "interrupted"
    with pytest.raises(ReadFailed):  # a stopping process starts no more reads
        await reader.read(b"x", "x.txt")


async def _upload(fake: FakeBotApi, data: bytes, name: str):
    mark = fake.mark()
    fake.push_document(ADMIN, data, name)
    return await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(ADMIN),
                                     since=mark, timeout=30)


async def test_zip_bomb_and_long_pdf_are_refused(sqlite_url: str) -> None:
    async with polling_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as (application, fake):
        bomb = await _upload(fake, zip_bomb(), "bom.docx")
        assert "giải nén ra hơn 50 MB" in _text(bomb) and "chưa lưu gì" in _text(bomb)
        pdf = await _upload(fake, long_pdf(2000), "dai.pdf")
        assert "có 2000 trang, nhiều hơn giới hạn 300 trang" in _text(pdf)


async def test_others_are_answered_while_a_document_is_read_and_it_stops_at_its_limit(sqlite_url: str) -> None:
    async with polling_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as (application, fake):
        application.bot_data["conversation"].reader.seconds = 4.0
        mark = fake.mark()
        fake.push_document(ADMIN, slow_document(150_000), "cham.txt")
        await fake.wait_for_async("getFile", since=mark, timeout=10)
        fake.push_message(USER, "so y te hang may")
        answer = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER),
                                           since=mark, timeout=10)
        assert "17/20" in _text(answer)
        stopped = await fake.wait_for_async(lambda c: c.method == "sendMessage"
                                            and str(c.params["chat_id"]) == str(ADMIN), since=mark, timeout=20)
        assert "quá 4 giây nên đã dừng" in _text(stopped)
        assert fake.calls.index(answer) < fake.calls.index(stopped)  # answered while the document was still read


async def test_publish_stores_the_previewed_decision_without_reading_the_file_again(sqlite_url: str,
                                                                                  seed_text: str) -> None:
    async with polling_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as (application, fake):
        preview = await _upload(fake, later_decision(seed_text), "qd-2001.txt")
        publish = next(b for b in _buttons(preview) if b["text"] == "Công bố")
        mark = fake.mark()
        fake.push_callback(ADMIN, preview.result["message_id"], publish["callback_data"], user_id=ADMIN)
        done = await fake.wait_for_async("editMessageText", since=mark, timeout=10)
        assert "Đã công bố" in _text(done)
        assert not [c for c in fake.calls[mark:] if c.method == "getFile"]
        mark = fake.mark()
        fake.push_message(USER, "so y te hang may")
        answer = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER),
                                           since=mark, timeout=10)
        assert "5/20" in _text(answer)


def test_sigterm_while_a_document_is_read_ends_the_process(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        with running_bot(fake, tmp_path, DXBOT_ADMIN_IDS=str(ADMIN)) as process:
            fake.wait_for("deleteWebhook", timeout=30)
            mark = fake.mark()
            fake.push_document(ADMIN, slow_document(300_000), "cham.txt")  # about 20 s of parsing
            fake.wait_for("getFile", since=mark, timeout=20)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
        told = [c for c in fake.calls[mark:] if c.method == "sendMessage" and str(c.params["chat_id"]) == str(ADMIN)]
    err = (tmp_path / "bot-0.err").read_text()
    assert process.returncode == 0, err
    assert [_text(c) for c in told] and "khởi động lại" in _text(told[-1]), err


async def test_the_child_gets_no_secrets_and_may_only_answer_with_the_parse_model(monkeypatch) -> None:
    """A reader library exploited by a crafted file runs in the child: it must find no token there, and what it
    writes back must not be able to run code in the bot."""
    import pickle

    from dxcore.parsing import sandbox

    monkeypatch.setenv("DXBOT_TOKEN", "123:secret")
    monkeypatch.setenv("DXBOT_DATABASE_URL", "postgresql+asyncpg://u:password@db/dxbot")
    assert {"DXBOT_TOKEN", "DXBOT_DATABASE_URL"}.isdisjoint(sandbox.child_environment())
    assert "PATH" in sandbox.child_environment()

    evil = pickle.dumps(([], [], __import__("os").system))  # a callable smuggled in the answer
    with pytest.raises(pickle.UnpicklingError):
        sandbox._ModelUnpickler(io.BytesIO(evil)).load()


async def test_a_report_is_asked_for_its_facts_and_previewed_when_the_caption_gives_them(sqlite_url: str) -> None:
    from tests.conftest import ROOT

    report = (ROOT / "tests" / "fixtures" / "layouts" / "national-dti-2022-report.txt").read_bytes()
    async with polling_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as (application, fake):
        asked = await _upload(fake, report, "dti-2022.txt")
        assert "có vẻ là một báo cáo" in _text(asked)
        assert "Cơ quan: …\nSố: …\nNgày: DD/MM/YYYY" in _text(asked)
        assert "Năm:" not in _text(asked)  # the report's title says the year it evaluates

        mark = fake.mark()
        fake.push_document(ADMIN, report, "dti-2022.txt", caption="Cơ quan: Bộ Thông tin và Truyền thông\n"
                           "Số: DTI-2022/BTTTT\nNgày: 12/07/2023\nNăm: 2022")
        preview = await fake.wait_for_async(lambda c: c.method == "sendMessage"
                                            and str(c.params["chat_id"]) == str(ADMIN), since=mark, timeout=30)
        assert "DTI-2022/BTTTT" in _text(preview) and _buttons(preview), _text(preview)

        mark = fake.mark()
        fake.push_document(ADMIN, report, "dti-2022.txt", caption="Ngày: 2023-07-12")
        bad = await fake.wait_for_async(lambda c: c.method == "sendMessage"
                                        and str(c.params["chat_id"]) == str(ADMIN), since=mark, timeout=30)
        assert "không đúng dạng DD/MM/YYYY" in _text(bad)


def test_caption_facts_are_read_by_name_and_other_words_are_left() -> None:
    from datetime import date

    from dxcore.publishing.caption import facts_from_caption

    given, problems = facts_from_caption("QĐ mới nhé; cơ quan ban hành: Bộ TT&TT; SỐ: DTI-2022/BTTTT\nngay ky: 12/07/2023")
    assert (given.issuer, given.number, given.signed, given.year) == ("Bộ TT&TT", "DTI-2022/BTTTT", date(2023, 7, 12),
                                                                      None)
    assert problems == []
    _, problems = facts_from_caption("Year: 22")
    assert [p.key for p in problems] == ["publish.caption_year"]
    assert facts_from_caption(None) == (facts_from_caption("")[0], [])


@pytest.mark.usefixtures("tesseract")
async def test_a_photo_of_a_printed_appendix_is_read_by_ocr_into_a_preview(sqlite_url: str, tmp_path: Path) -> None:
    """Sent as a photo (not a file): the admin is told at once that a scan is being read, then gets the preview
    with the appendix's counts, saying the text came from OCR."""
    from tests.docgen import make_decision_pdf, seed_rows
    from tests.scangen import photo

    shot = photo(make_decision_pdf(tmp_path / "seed.pdf", levels=seed_rows()), 3, angle=-1.0, seed=7)
    async with polling_bot(sqlite_url, admin_ids=frozenset({ADMIN})) as (application, fake):
        mark = fake.mark()
        fake.push_photo(ADMIN, shot, caption="Cơ quan: UBND thành phố Cần Thơ")
        told = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(ADMIN),
                                         since=mark, timeout=30)
        assert "Đang đọc bản quét" in _text(told)
        preview = await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Xem trước" in _text(c),
                                            since=mark, timeout=150)
        said = _text(preview)
        assert "Phụ lục I, cấp sở: 20 đơn vị (Tốt 8, Khá 9, Trung bình 3)." in said, said
        assert "Văn bản được đọc từ bản quét" in said
        fake.push_photo(USER, shot)  # not an admin: refused before anything is read
        refused = await fake.wait_for_async(lambda c: c.method == "sendMessage" and str(c.params["chat_id"]) == str(USER),
                                            since=mark, timeout=30)
        assert "chỉ quản trị viên" in _text(refused)


def test_a_scans_preview_lists_the_cells_to_check_with_their_place(seed_text: str) -> None:
    from dxcore.answering.answers import DOUBTS_SHOWN, preview_answer

    decision = parse_bytes(seed_text.encode(), "qd.txt").decision
    doubts = [f"anh.jpg:trang 1, bảng 1, hàng {n}: “7O,74%” đọc là 70,74%" for n in range(1, DOUBTS_SHOWN + 6)]
    said = preview_answer(decision, [], 2, None, doubts).render_plain()
    assert "Văn bản được đọc từ bản quét" in said and f"{DOUBTS_SHOWN + 5} ô cần kiểm tra" in said
    assert "Ô cần kiểm tra (đã sửa hoặc đọc chưa chắc)" in said and "hàng 1: “7O,74%”" in said
    assert f"hàng {DOUBTS_SHOWN}:" in said and f"hàng {DOUBTS_SHOWN + 1}:" not in said and "… và 5 ô khác." in said
    assert "bản quét" not in preview_answer(decision, [], 2, None).render_plain()  # a typed document
    assert "Cells to check" in preview_answer(decision, [], 2, None, doubts).render_plain("en")


@pytest.mark.usefixtures("tesseract")
async def test_a_refused_notice_loses_no_scan_and_a_failed_scan_shows_its_doubts(sqlite_url: str,
                                                                                  tmp_path: Path) -> None:
    """The "reading a scan" notice failing (a network hiccup) still gives the preview; a scan that fails
    validation lists, beside its errors, the cells OCR was unsure of."""
    from dxcore.conversation.actions import ButtonSeal
    from dxcore.conversation.core import Conversation
    from dxcore.conversation.events import Person, Place, Uploaded
    from dxcore.store.db import Database
    from dxcore.understanding.catalog import Catalog
    from tests.docgen import make_decision_pdf, seed_rows
    from tests.scangen import blot, photo, render, scan_pdf, word_box

    pdf = make_decision_pdf(tmp_path / "seed.pdf", levels=seed_rows())
    files = {"photo": photo(pdf, 3, angle=0.6, seed=11)}
    page = render(pdf, 200)[2]
    files["blotted"] = scan_pdf([blot(page, word_box(pdf, 3, "86,91%", beside="Ngoại"), 200)])  # a score inked over

    async def fetch(ref: str) -> bytes:
        return files[ref]

    async def refused(answer) -> None:
        raise TimeoutError("the messenger timed out")

    db = Database(sqlite_url)
    await db.prepare()
    try:
        core = Conversation(db, Catalog(check_every=0), ButtonSeal("1:test"), admins=frozenset({ADMIN}),
                            fetch_file=fetch)
        admin = (Place(ADMIN), Person(ADMIN))
        caption = "Cơ quan: UBND thành phố Cần Thơ"
        (preview,) = (await core.uploaded(Uploaded(*admin, "photo", "anh.jpg", caption=caption,
                                                   progress=refused))).replies
        assert preview.answer.kind == "preview" and "bản quét" in preview.answer.render_plain()
        (invalid,) = (await core.uploaded(Uploaded(*admin, "blotted", "quet.pdf", caption=caption))).replies
        said = invalid.answer.render_plain()
        assert invalid.answer.kind == "invalid" and "Ô cần kiểm tra" in said, said
    finally:
        await db.close()
