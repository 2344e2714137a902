"""DOCX and PDF readers: Blocks in document order, with the locations error messages will print."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pdfplumber
import pytest
from docx.document import Document as DocxDocument
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from fpdf import FPDF
from PIL import Image

from dxcore.parsing import docx_reader
from dxcore.parsing.docx_reader import read_docx
from dxcore.parsing.model import Block, Location, Problem
from dxcore.parsing.pdf_reader import read_pdf
from dxcore.parsing.readers import DocumentError, read_blocks
from tests.docgen import make_decision_docx, make_decision_pdf, seed_rows, xa_rows

SEED_NAMES = [name for _, _, rows in seed_rows() for _, name, _, _ in rows]


def _bytes_of(document: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _simple(blocks: list[Block]) -> list[tuple[str, tuple[str, ...], bool]]:
    return [(str(b.loc), b.cells, b.is_table_row) for b in blocks]


def _assert_one_sentence(error: pytest.ExceptionInfo[DocumentError], name: str) -> None:
    """DocumentError's contract: one plain sentence; the caller puts the file in front ("qd.pdf: the PDF has …")."""
    message = str(error.value)
    assert message[0].islower() and message.endswith(".") and "\n" not in message and name not in message
    assert str(Problem(Location(name), message)) == f"{name}: {message}"


@pytest.fixture(scope="module")
def seed_docx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_decision_docx(tmp_path_factory.mktemp("docx") / "seed.docx", levels=seed_rows()).read_bytes()


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_decision_pdf(tmp_path_factory.mktemp("pdf") / "seed.pdf", levels=seed_rows()).read_bytes()


@pytest.fixture(scope="module")
def seed_pdf_blocks(seed_pdf: bytes) -> list[Block]:
    return read_pdf(seed_pdf, "seed.pdf")


def test_generated_xa_rows_are_distinct_competition_ranked_and_tiered() -> None:
    rows = xa_rows(3000, seed=1)
    percentages = [float(p.removesuffix("%").replace(",", ".")) for _, _, p, _ in rows]

    assert len({name for _, name, _, _ in rows}) == 3000
    assert percentages == sorted(percentages, reverse=True)
    # Competition ranking: a tie keeps the rank of the row above, the next distinct value takes its position.
    for position, ((rank, *_), (above, *_), p, q) in enumerate(zip(rows[1:], rows, percentages[1:], percentages), 2):
        assert rank == (above if p == q else position)
    assert any(a == b for a, b in zip(percentages, percentages[1:]))
    tiers = {"Tốt": 85, "Khá": 70, "Trung bình": 50, "Yếu": 0}
    assert all(tiers[tier] <= p for (*_, tier), p in zip(rows, percentages))
    assert {tier for *_, tier in rows} == set(tiers)


# --- DOCX ------------------------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_interleave_in_body_order() -> None:
    document = docx.Document()
    document.add_paragraph("QUYẾT ĐỊNH")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Xếp hạng", "Đơn vị"
    table.cell(1, 0).text, table.cell(1, 1).text = "1", "Sở Y tế"
    table.cell(1, 1).add_table(rows=1, cols=1).cell(0, 0).text = "nested, ignored"
    document.add_paragraph("")  # counted as a paragraph, yields nothing
    document.add_paragraph("(Kèm theo Quyết định số 1568/QĐ-UBND\ncủa Ủy ban nhân dân thành phố)")
    document.add_paragraph("a) Xếp loại Tốt:\t08 đơn vị;")
    signature = document.add_paragraph("Trần Việt Trường")
    signature.add_run().add_break(WD_BREAK.PAGE)
    signature.add_run("Phụ lục I")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "Phụ lục"

    assert _simple(read_docx(_bytes_of(document), "qd.docx")) == [
        ("qd.docx:paragraph 1", ("QUYẾT ĐỊNH",), False),
        ("qd.docx:table 1, row 1", ("Xếp hạng", "Đơn vị"), True),
        ("qd.docx:table 1, row 2", ("1", "Sở Y tế"), True),
        ("qd.docx:paragraph 3", ("(Kèm theo Quyết định số 1568/QĐ-UBND",), False),
        ("qd.docx:paragraph 3", ("của Ủy ban nhân dân thành phố)",), False),
        ("qd.docx:paragraph 4", ("a) Xếp loại Tốt:", "08 đơn vị;"), False),  # a tab separates cells, as in TXT
        ("qd.docx:paragraph 5", ("Trần Việt Trường",), False),
        ("qd.docx:paragraph 5", ("Phụ lục I",), False),  # a page break ends a line too
        ("qd.docx:table 2, row 1", ("Phụ lục",), True),
    ]


def test_docx_text_inside_tracked_insertions_and_content_controls_is_read() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Sở ")
    insertion = OxmlElement("w:ins", {qn("w:id"): "1", qn("w:author"): "VT"})
    insertion.append(paragraph.add_run("Y tế")._r)
    paragraph._p.append(insertion)
    control = document.add_paragraph("Sở Tư pháp")._p
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    control.addprevious(sdt)
    content.append(control)
    sdt.append(content)

    blocks = read_docx(_bytes_of(document), "qd.docx")

    assert [(b.text, b.loc.paragraph) for b in blocks] == [("Sở Y tế", 1), ("Sở Tư pháp", 2)]


def test_docx_merged_cells_appear_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "BẢNG XẾP HẠNG CẤP SỞ"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Khối sở"
    for row in (1, 2):
        table.cell(row, 1).text, table.cell(row, 2).text = f"Sở {row}", f"9{row},00"

    blocks = read_docx(_bytes_of(document), "qd.docx")

    assert [b.cells for b in blocks] == [
        ("BẢNG XẾP HẠNG CẤP SỞ",),
        ("Khối sở", "Sở 1", "91,00"),
        ("", "Sở 2", "92,00"),  # the vertical continuation holds no text of its own
    ]


def test_docx_header_table_lines_keep_their_line_structure(seed_docx: bytes) -> None:
    header = read_docx(seed_docx, "seed.docx")[0]

    assert header.is_table_row and header.loc == Location("seed.docx", table=1, row=1)
    assert header.lines == (
        "ỦY BAN NHÂN DÂN",
        "THÀNH PHỐ CẦN THƠ",
        "Số: 1568/QĐ-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Cần Thơ, ngày 12 tháng 7 năm 2024",
    )
    assert header.cells == ("ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ Số: 1568/QĐ-UBND", " ".join(header.lines[3:]))


def test_docx_seed_appendices_come_back_row_by_row(seed_docx: bytes) -> None:
    blocks = read_docx(seed_docx, "seed.docx")
    texts = [b.text for b in blocks]
    appendix = texts.index("Phụ lục I")
    # Headings precede their table; the merged title is one cell, then the header, then the data rows.
    assert texts[appendix + 1 : appendix + 3] == ["KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ", "CẤP SỞ NĂM 2023"]
    title = next(b for b in blocks[appendix:] if b.is_table_row)
    assert (title.cells, title.loc) == (("BẢNG XẾP HẠNG CẤP SỞ",), Location("seed.docx", table=3, row=1))

    data = [b for b in blocks if b.is_table_row and b.cells[0].isdigit()]
    assert [b.cells[2] for b in data] == SEED_NAMES
    assert data[0].cells == ("1", "1", "Sở Lao động - Thương binh và Xã hội", "99,73", "Tốt")
    assert data[0].loc == Location("seed.docx", table=3, row=3)
    assert data[-1].loc == Location("seed.docx", table=4, row=11)
    # Paragraph numbers keep counting across tables and page breaks.
    paragraphs = [b.loc.paragraph for b in blocks if b.loc.paragraph is not None]
    assert paragraphs == sorted(paragraphs)


def test_docx_without_stt_or_title_row(tmp_path: Path) -> None:
    path = make_decision_docx(tmp_path / "plain.docx", levels=seed_rows()[1:], stt_column=False, merged_title=False)

    rows = [b for b in read_docx(path.read_bytes(), "plain.docx") if b.loc.table == 3]

    assert rows[0].cells == ("Xếp hạng", "Đơn vị", "Tỷ lệ (%)", "Xếp loại")
    assert rows[1].cells == ("1", "UBND quận Thốt Nốt", "84,46", "Khá") and rows[1].loc.row == 2
    assert len(rows) == 10


def test_docx_goes_through_the_dispatcher(seed_docx: bytes) -> None:
    assert read_blocks(seed_docx, "seed.docx") == read_docx(seed_docx, "seed.docx")


def _zip(**members: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, text in members.items():
            archive.writestr(member.replace("__", "."), text)
    return buffer.getvalue()


_EMPTY_PACKAGE = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda seed: b"PK\x03\x04" + b"\x00" * 200, id="corrupt-zip"),
        pytest.param(lambda seed: seed[: len(seed) // 2], id="truncated-docx"),
        pytest.param(lambda seed: _zip(ket_qua__txt="Sở Y tế 70,74%"), id="zip-not-docx"),
        pytest.param(lambda seed: _zip(**{"[Content_Types]__xml": _EMPTY_PACKAGE}), id="package-without-document"),
    ],
)
def test_bad_docx_is_refused_with_one_sentence(make: Callable[[bytes], bytes], seed_docx: bytes) -> None:
    with pytest.raises(DocumentError) as error:
        read_blocks(make(seed_docx), "qd 1568.docx")

    _assert_one_sentence(error, "qd 1568.docx")


def test_docx_that_unpacks_too_large_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docx_reader, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (2 * 1024 * 1024))  # compresses to a few kilobytes

    with pytest.raises(DocumentError, match="unpacks to more than 1 MB") as error:
        read_docx(buffer.getvalue(), "bomb.docx")

    _assert_one_sentence(error, "bomb.docx")


# --- PDF -------------------------------------------------------------------------------------------------------


def test_pdf_text_lines_and_table_rows_in_reading_order(seed_pdf_blocks: list[Block]) -> None:
    blocks = seed_pdf_blocks

    # Side-by-side header columns are one visual line, split into cells at the wide gap.
    assert _simple(blocks[:3]) == [
        ("seed.pdf:page 1, line 1", ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), False),
        ("seed.pdf:page 1, line 2", ("THÀNH PHỐ CẦN THƠ", "Độc lập - Tự do - Hạnh phúc"), False),
        ("seed.pdf:page 1, line 3", ("Số: 1568/QĐ-UBND", "Cần Thơ, ngày 12 tháng 7 năm 2024"), False),
    ]
    assert ("a) Xếp loại Tốt:", "08 đơn vị;") in [b.cells for b in blocks]
    texts = [b.text for b in blocks]
    appendix = texts.index("Phụ lục II")
    assert texts[appendix + 2] == "CẤP HUYỆN NĂM 2023"
    title, header, first = blocks[appendix + 5 : appendix + 8]
    assert title.cells == ("BẢNG XẾP HẠNG CẤP HUYỆN", "", "", "", "")  # cells covered by the merge are empty
    assert header.cells == ("STT", "Xếp hạng", "Đơn vị", "Tỷ lệ", "Xếp loại")
    assert first.cells == ("1", "1", "UBND quận Thốt Nốt", "84,46%", "Khá")
    assert first.loc == Location("seed.pdf", page=blocks[appendix].loc.page, table=2, row=3)


def test_pdf_wrapped_unit_names_are_one_cell_value(seed_pdf: bytes, seed_pdf_blocks: list[Block]) -> None:
    with pdfplumber.open(io.BytesIO(seed_pdf)) as pdf:
        raw = [cell for page in pdf.pages for table in page.extract_tables() for row in table for cell in row]
    assert "Sở Lao động - Thương binh\nvà Xã hội" in raw  # the generator really wraps long names

    data = [b for b in seed_pdf_blocks if b.is_table_row and b.cells[0].isdigit()]

    assert [b.cells[2] for b in data] == SEED_NAMES
    assert data[0].lines == ("1", "1", "Sở Lao động - Thương binh", "và Xã hội", "99,73%", "Tốt")


def test_pdf_table_spanning_pages_keeps_every_row(tmp_path: Path) -> None:
    rows = xa_rows(60, seed=7)
    path = make_decision_pdf(tmp_path / "xa.pdf", levels=[("Phụ lục III", "CẤP XÃ", rows)], stt_column=False)

    table_rows = [b for b in read_pdf(path.read_bytes(), "xa.pdf") if b.is_table_row]
    data = [b for b in table_rows if b.cells[0].isdigit()]

    assert [(int(b.cells[0]), b.cells[1], b.cells[2], b.cells[3]) for b in data] == rows
    pages = sorted({b.loc.page for b in data})
    assert len(pages) >= 3
    # Each page holds one piece of the table, numbered on through the document, rows counted from 1 in each piece.
    assert sorted({b.loc.table for b in table_rows}) == list(range(1, len(pages) + 1))
    assert all(b.loc.row == 1 for b in table_rows if b.cells[0] == "BẢNG XẾP HẠNG CẤP XÃ")


def _scanned_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("L", (400, 560), color=235), x=10, y=10, w=190)
    return bytes(pdf.output())


def _encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_encryption(owner_password="chu-tich", user_password="mat-khau")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="QUYET DINH")
    return bytes(pdf.output())


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda seed: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + b"\xff" * 64, "damaged", id="corrupt"),
        pytest.param(lambda seed: seed[:200], "damaged", id="truncated"),
        pytest.param(lambda seed: _encrypted_pdf(), "password-protected", id="encrypted"),
        pytest.param(lambda seed: _scanned_pdf(), "has no text layer", id="scanned"),
    ],
)
def test_bad_pdf_is_refused_with_one_sentence(make: Callable[[bytes], bytes], reason: str, seed_pdf: bytes) -> None:
    with pytest.raises(DocumentError, match=reason) as error:
        read_blocks(make(seed_pdf), "qd-1568.pdf")

    _assert_one_sentence(error, "qd-1568.pdf")
