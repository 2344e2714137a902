"""Decision documents written the way a Vietnamese provincial office writes them, as DOCX and as PDF.

One content model (``_decision``) feeds both renderers, so the two formats of one decision carry the same text.
Keyword arguments make the variants tests need: no STT column, no merged title row, wrong stated counts, …
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import docx
import matplotlib
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.table import _Cell
from fpdf import FPDF
from fpdf.enums import XPos, YPos

Row = tuple[int, str, str, str]
"""rank, unit name, percentage as printed ("99,73%"), tier word ("Tốt")."""
Level = tuple[str, str, Sequence[Row]]
"""appendix label ("Phụ lục I"), level heading in capitals ("CẤP SỞ"), rows."""

TIERS = ("Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu")
_DEFAULT_ISSUER = ("ỦY BAN NHÂN DÂN", "THÀNH PHỐ CẦN THƠ")
_SIGNER = ("CHỦ TỊCH", "Trần Việt Trường")
_RECIPIENTS = (
    "- Như Điều 3;",
    "- Bộ Thông tin và Truyền thông;",
    "- TT.TU; TT. HĐND TP;",
    "- CT, các PCT UBND TP;",
    "- VP UBND TP (2AD, 3CG, 4, 7);",
    "- Cổng TTĐT TP;",
    "- Lưu: VT.NNH",
)


# --- content model ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Para:
    text: str  # "\n" is a soft line break; "\t" separates a label from its value
    bold: bool = False
    italic: bool = False
    center: bool = False


@dataclass(frozen=True)
class _Columns:
    """Two side-by-side blocks without borders: the header (issuer | motto) and the signature."""

    left: tuple[_Para, ...]
    right: tuple[_Para, ...]


@dataclass(frozen=True)
class _Table:
    title: str | None  # one cell merged across all columns, above the header row
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class _PageBreak:
    pass


_Element = _Para | _Columns | _Table | _PageBreak


def viet_date(day: date) -> str:
    """A date as decisions print it, "ngày 09 tháng 7 năm 2024": days below 10 and months 1–2 take a leading zero
    (Nghị định 30/2020/NĐ-CP)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _count_text(n: int) -> str:
    return f"{n:02d}" if 0 < n < 10 else str(n)  # "08 đơn vị", but "0 đơn vị" and "12 đơn vị"


def _tier_counts(rows: Sequence[Row], override: Mapping[str, int] | None) -> dict[str, int]:
    found = Counter(tier for *_, tier in rows)
    listed = [t for t in TIERS if t != "Xuất sắc" or found[t] or (override and t in override)]
    counts = {tier: found[tier] for tier in listed}
    return {**counts, **(override or {})}


def _decision(
    *,
    levels: Sequence[Level],
    bare_percent: bool,
    number: str = "1568/QĐ-UBND",
    signed: date = date(2024, 7, 12),
    year: int = 2023,
    issuer_lines: Sequence[str] = _DEFAULT_ISSUER,
    place: str = "Cần Thơ",
    stt_column: bool = True,
    merged_title: bool = True,
    counts: Sequence[Mapping[str, int]] | None = None,
) -> list[_Element]:
    authority = "tỉnh" if issuer_lines[-1].upper().startswith("TỈNH") else "thành phố"
    title = f"Công bố kết quả đánh giá, xếp hạng Chuyển đổi số năm {year}"
    body: list[_Element] = [
        _Columns(
            left=(*(_Para(line, bold=True, center=True) for line in issuer_lines), _Para(f"Số: {number}", center=True)),
            right=(
                _Para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True),
                _Para("Độc lập - Tự do - Hạnh phúc", bold=True, center=True),
                _Para(f"{place}, {viet_date(signed)}", italic=True, center=True),
            ),
        ),
        _Para("QUYẾT ĐỊNH", bold=True, center=True),
        _Para(title, bold=True, center=True),
        _Para("CHỦ TỊCH " + " ".join(issuer_lines), bold=True, center=True),
        _Para("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;"),
        _Para(
            "Căn cứ Quyết định số 922/QĐ-BTTTT ngày 20 tháng 5 năm 2022 của Bộ trưởng Bộ Thông tin và Truyền thông "
            "phê duyệt Đề án “Xác định Bộ chỉ số đánh giá chuyển đổi số của các Bộ, cơ quan ngang Bộ, cơ quan thuộc "
            "Chính phủ, các tỉnh, thành phố trực thuộc Trung ương và của quốc gia”;"
        ),
        _Para(
            f"Căn cứ Quyết định số 2088/QĐ-UBND ngày 14 tháng 7 năm 2022 của Ủy ban nhân dân {authority} ban hành "
            f"Bộ chỉ số đánh giá chuyển đổi số {authority} {place};"
        ),
        _Para(
            "Theo đề nghị của Giám đốc Sở Thông tin và Truyền thông tại Tờ trình số 1583/TTr-STTTT "
            f"{viet_date(signed - timedelta(days=3))}."
        ),
        _Para("QUYẾT ĐỊNH:", bold=True, center=True),
        _Para(f"Điều 1. Công bố kết quả đánh giá, xếp hạng Chuyển đổi số năm {year} như sau:"),
    ]
    for index, (_, heading, rows) in enumerate(levels):
        body.append(_Para(f"{index + 1}. {heading.capitalize()}:"))
        stated = _tier_counts(rows, counts[index] if counts else None)
        letters = "abcdefgh"
        for position, (tier, n) in enumerate(stated.items()):
            end = "." if position == len(stated) - 1 else ";"
            body.append(_Para(f"{letters[position]}) Xếp loại {tier}:\t{_count_text(n)} đơn vị{end}"))
    labels = ", ".join(label.removeprefix("Phụ lục ") for label, _, _ in levels)
    body += [
        _Para(f"(Đính kèm Phụ lục {labels} về kết quả đánh giá, xếp hạng của các cơ quan, đơn vị)", italic=True),
        _Para(
            "Điều 2. Thủ trưởng cơ quan chuyên môn thuộc Ủy ban nhân dân thành phố, Chủ tịch Ủy ban nhân dân quận, "
            "huyện căn cứ kết quả đánh giá, xếp hạng Chuyển đổi số để triển khai các giải pháp nâng cao hiệu quả "
            f"chuyển đổi số trong năm {signed.year} và các năm tiếp theo."
        ),
        _Para(
            "Điều 3. Chánh Văn phòng Ủy ban nhân dân thành phố, Giám đốc Sở Thông tin và Truyền thông, Thủ trưởng cơ "
            "quan, đơn vị có liên quan chịu trách nhiệm thi hành Quyết định này kể từ ngày ký./."
        ),
        _Columns(
            left=(_Para("Nơi nhận:", bold=True, italic=True), *(_Para(r) for r in _RECIPIENTS)),
            # Blank paragraphs leave room for the signature and seal.
            right=(
                _Para(_SIGNER[0], bold=True, center=True),
                _Para(""),
                _Para(""),
                _Para(_SIGNER[1], bold=True, center=True),
            ),
        ),
    ]
    percent_header = "Tỷ lệ (%)" if bare_percent else "Tỷ lệ"
    header = ("Xếp hạng", "Đơn vị", percent_header, "Xếp loại")
    for label, heading, rows in levels:
        table_rows = []
        for stt, (rank, name, percentage, tier) in enumerate(rows, start=1):
            value = percentage.removesuffix("%") if bare_percent else percentage
            cells = (str(rank), name, value, tier)
            table_rows.append((str(stt), *cells) if stt_column else cells)
        body += [
            _PageBreak(),
            _Para(label, bold=True, center=True),
            _Para("KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ", bold=True, center=True),
            _Para(f"{heading} NĂM {year}", bold=True, center=True),
            _Para(
                f"(Kèm theo Quyết định số {number} {viet_date(signed)}\ncủa Ủy ban nhân dân {authority})",
                italic=True,
                center=True,
            ),
            _Table(
                title=f"BẢNG XẾP HẠNG {heading}" if merged_title else None,
                header=("STT", *header) if stt_column else header,
                rows=tuple(table_rows),
            ),
        ]
    return body


# --- DOCX ------------------------------------------------------------------------------------------------------


def _docx_paragraph(container: DocxDocument | _Cell, para: _Para, *, first: bool) -> None:
    # A new cell already holds one empty paragraph; writing into it avoids a blank first line.
    p = container.paragraphs[0] if first else container.add_paragraph()
    run = p.add_run(para.text)  # python-docx turns "\n" into <w:br/> and "\t" into <w:tab/>
    run.bold, run.italic = para.bold or None, para.italic or None
    if para.center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def make_decision_docx(
    path: str | Path, **content: Any) -> Path:
    """Write the decision as Word would save it; ``content`` is ``_decision``'s keywords (levels, number, signed,
    year, issuer_lines, place, stt_column, merged_title, and counts: one mapping per level overriding the stated
    tier counts)."""
    return write_docx(_decision(**content, bare_percent=True), path, {_Table: _docx_table})


def write_docx(elements: Iterable[Any], path: str | Path,
               tables: Mapping[type, Callable[[DocxDocument, Any], None]]) -> Path:
    """Paragraphs, two-column headers and page breaks as Word saves them; each kind of table by its writer."""
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(13)
    for element in elements:
        if isinstance(element, _Para):
            _docx_paragraph(document, element, first=False)
        elif isinstance(element, _Columns):
            left, right = document.add_table(rows=1, cols=2).rows[0].cells  # "Normal Table": no borders
            for cell, paras in ((left, element.left), (right, element.right)):
                for i, para in enumerate(paras):
                    _docx_paragraph(cell, para, first=i == 0)
        elif type(element) in tables:
            tables[type(element)](document, element)
        else:
            document.add_page_break()
    path = Path(path)
    document.save(path)
    return path


def _docx_table(document: DocxDocument, element: _Table) -> None:
    width = len(element.header)
    extra = 2 if element.title else 1
    table = document.add_table(rows=len(element.rows) + extra, cols=width)
    table.style = "Table Grid"
    # Iterate rows once: indexing table.rows[i] rebuilds the row list each time, quadratic for thousands of rows.
    rows = iter(table.rows)
    if element.title:
        cells = next(rows).cells
        merged = cells[0].merge(cells[-1])
        merged.text = element.title
        merged.paragraphs[0].runs[0].bold = True
    for cell, text in zip(next(rows).cells, element.header):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row, values in zip(rows, element.rows):
        for cell, text in zip(row.cells, values):
            cell.text = text


# --- PDF -------------------------------------------------------------------------------------------------------

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# Unit-name column narrow enough that long names wrap onto two or three lines, as in printed appendices.
_PDF_WIDTHS = {4: (22, 52, 24, 26), 5: (12, 20, 52, 22, 24)}
_LINE = 6.0  # mm


def _pdf_font(pdf: FPDF, para: _Para, size: float) -> None:
    pdf.set_font("DejaVu", ("B" if para.bold else "") + ("I" if para.italic else ""), size)


def make_decision_pdf(
    path: str | Path, **content: Any) -> Path:
    """The same decision printed to PDF with a text layer (``content`` as for make_decision_docx); appendix tables
    are ruled and may span pages."""
    return write_pdf(_decision(**content, bare_percent=False), path, {_Table: _pdf_table})


def write_pdf(elements: Iterable[Any], path: str | Path,
              tables: Mapping[type, Callable[[FPDF, Any], None]]) -> Path:
    """Paragraphs, two-column headers and page breaks printed to A4 with a text layer; tables by their writers."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(left=30, top=20, right=15)
    pdf.set_auto_page_break(auto=True, margin=20)
    for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Oblique"), ("BI", "-BoldOblique")):
        pdf.add_font("DejaVu", style, str(_FONT_DIR / f"DejaVuSans{suffix}.ttf"))
    pdf.add_page()
    for element in elements:
        if isinstance(element, _Para):
            _pdf_paragraph(pdf, element)
        elif isinstance(element, _Columns):
            _pdf_columns(pdf, element)
        elif type(element) in tables:
            tables[type(element)](pdf, element)
        else:
            pdf.add_page()
    path = Path(path)
    pdf.output(str(path))
    return path


def _pdf_paragraph(pdf: FPDF, para: _Para) -> None:
    _pdf_font(pdf, para, 11)
    if "\t" in para.text:
        # A tab-aligned "label  value" line: the value starts at a fixed position, as a Word tab stop puts it.
        label, value = para.text.split("\t")
        pdf.set_x(pdf.l_margin + 10)
        pdf.cell(70, _LINE, label)
        pdf.cell(0, _LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    pdf.multi_cell(0, _LINE, para.text, align="C" if para.center else "J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)


def _pdf_columns(pdf: FPDF, element: _Columns) -> None:
    left_width = 62
    right_width = pdf.epw - left_width
    blank = _Para("")
    for i in range(max(len(element.left), len(element.right))):
        left = element.left[i] if i < len(element.left) else blank
        right = element.right[i] if i < len(element.right) else blank
        _pdf_font(pdf, left, 10)
        pdf.cell(left_width, _LINE, left.text, align="C" if left.center else "L")
        _pdf_font(pdf, right, 10)
        align = "C" if right.center else "L"
        pdf.cell(right_width, _LINE, right.text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _pdf_table(pdf: FPDF, element: _Table) -> None:
    widths = _PDF_WIDTHS[len(element.header)]
    pdf.set_font("DejaVu", "", 10)
    aligns = tuple("L" if heading == "Đơn vị" else "C" for heading in element.header)
    with pdf.table(
        width=sum(widths),
        col_widths=widths,
        text_align=aligns,
        line_height=5,
        num_heading_rows=2 if element.title else 1,
        padding=1,
    ) as table:
        if element.title:
            table.row().cell(element.title, colspan=len(element.header), align="C")
        table.row(element.header)
        for values in element.rows:
            table.row(values)


# --- data ------------------------------------------------------------------------------------------------------

_SO_ROWS: tuple[Row, ...] = (
    (1, "Sở Lao động - Thương binh và Xã hội", "99,73%", "Tốt"),
    (2, "Sở Văn hóa, Thể thao và Du lịch", "99,30%", "Tốt"),
    (3, "Sở Thông tin và Truyền thông", "98,31%", "Tốt"),
    (4, "Văn phòng UBND thành phố", "97,57%", "Tốt"),
    (5, "Sở Khoa học và Công nghệ", "95,88%", "Tốt"),
    (6, "Sở Tư pháp", "95,73%", "Tốt"),
    (7, "Ban Dân tộc", "87,46%", "Tốt"),
    (8, "Sở Ngoại vụ", "86,91%", "Tốt"),
    (9, "BQL các khu chế xuất và công nghiệp Cần Thơ", "83,76%", "Khá"),
    (10, "Sở Công Thương", "80,06%", "Khá"),
    (11, "Sở Nội vụ", "78,37%", "Khá"),
    (12, "Sở xây dựng", "78,12%", "Khá"),
    (13, "Sở Giáo dục và Đào tạo", "75,03%", "Khá"),
    (14, "Sở Tài nguyên và Môi trường", "73,99%", "Khá"),
    (15, "Sở Kế hoạch và Đầu tư", "73,63%", "Khá"),
    (16, "Thanh tra thành phố", "72,47%", "Khá"),
    (17, "Sở Y tế", "70,74%", "Khá"),
    (18, "Sở Nông nghiệp và Phát triển nông thôn", "62,54%", "Trung bình"),
    (19, "Sở Giao thông vận tải", "61,06%", "Trung bình"),
    (20, "Sở Tài chính", "59,17%", "Trung bình"),
)
_HUYEN_ROWS: tuple[Row, ...] = (
    (1, "UBND quận Thốt Nốt", "84,46%", "Khá"),
    (2, "UBND huyện Vĩnh Thạnh", "80,69%", "Khá"),
    (3, "UBND quận Ô Môn", "76,78%", "Khá"),
    (4, "UBND quận Bình Thủy", "75,38%", "Khá"),
    (5, "UBND quận Cái Răng", "66,18%", "Trung bình"),
    (6, "UBND quận Ninh Kiều", "63,71%", "Trung bình"),
    (7, "UBND huyện Phong Điền", "61,48%", "Trung bình"),
    (8, "UBND huyện Cờ Đỏ", "60,46%", "Trung bình"),
    (9, "UBND huyện Thới Lai", "60,18%", "Trung bình"),
)


def seed_rows() -> list[Level]:
    """The two appendices of decision 1568/QĐ-UBND (Cần Thơ, 2024), exactly as printed."""
    return [("Phụ lục I", "CẤP SỞ", list(_SO_ROWS)), ("Phụ lục II", "CẤP HUYỆN", list(_HUYEN_ROWS))]


# District kind → the commune-level kinds it contains.
_DISTRICTS = (
    ("huyện", "Phong Điền"), ("huyện", "Cờ Đỏ"), ("huyện", "Thới Lai"), ("huyện", "Vĩnh Thạnh"),
    ("quận", "Ninh Kiều"), ("quận", "Bình Thủy"), ("quận", "Cái Răng"), ("quận", "Ô Môn"), ("quận", "Thốt Nốt"),
    ("huyện", "Châu Thành"), ("huyện", "Long Mỹ"), ("thị xã", "Ngã Bảy"), ("thành phố", "Vị Thanh"),
    ("huyện", "Phụng Hiệp"), ("huyện", "Tam Bình"), ("thị xã", "Bình Minh"), ("huyện", "Trà Ôn"),
    ("thành phố", "Vĩnh Long"), ("huyện", "Mang Thít"), ("huyện", "Long Hồ"),
)  # fmt: skip
_COMMUNE_KINDS = {"huyện": ("xã", "xã", "thị trấn"), "quận": ("phường",), "thị xã": ("phường", "xã"),
                  "thành phố": ("phường", "xã")}  # fmt: skip
_FIRST = ("Tân", "Long", "Phú", "Mỹ", "Bình", "An", "Thạnh", "Hòa", "Vĩnh", "Thới", "Trường", "Nhơn", "Đông",
          "Thuận", "Hưng", "Xuân", "Định", "Phước", "Thành", "Hiệp")  # fmt: skip
_SECOND = ("Phú", "Đông", "Lợi", "Thạnh", "Hòa", "Hưng", "An", "Long", "Bình", "Lộc", "Thới", "Tiến", "Thuận",
           "Mỹ", "Định", "Phước", "Khánh", "Trung", "Xuân", "Tây")  # fmt: skip
_THIRD = ("", "", " A", " B", " Đông", " Tây")
_MAX_XA = 10_000


def _tier(hundredths: int) -> str:
    if hundredths >= 8500:
        return "Tốt"
    if hundredths >= 7000:
        return "Khá"
    return "Trung bình" if hundredths >= 5000 else "Yếu"


def xa_rows(n: int, *, seed: int = 0) -> list[Row]:
    """``n`` distinct cấp xã units, best first, with a few tied percentages sharing a competition rank."""
    if not 0 < n <= _MAX_XA:
        raise ValueError(f"n must be between 1 and {_MAX_XA}")
    rng = random.Random(seed)
    names: dict[str, None] = {}  # insertion-ordered set
    while len(names) < n:
        district_kind, district = rng.choice(_DISTRICTS)
        commune_kind = rng.choice(_COMMUNE_KINDS[district_kind])
        first, second = rng.choice(_FIRST), rng.choice(_SECOND)
        if first != second:
            names[f"UBND {commune_kind} {first} {second}{rng.choice(_THIRD)} ({district_kind} {district})"] = None
    # Percentages in hundredths, walking down from near 100 towards about 25 with an occasional zero step (a tie).
    value = rng.randint(9800, 9990)
    mean_step = (value - 2500) / max(n - 1, 1)
    rows: list[Row] = []
    rank = 1
    for position, name in enumerate(names, start=1):
        if position > 1:
            step = 0 if rng.random() < 0.02 else rng.randint(1, max(1, round(2 * mean_step) - 1))
            if step:
                value, rank = max(value - step, 0), position
        rows.append((rank, name, f"{value // 100},{value % 100:02d}%", _tier(value)))
    return rows
