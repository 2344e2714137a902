"""XLSX and CSV exports of rankings, read back and compared with the decision's own text."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dxcore.answering.exports import (
    _sheet_titles,
    export_filename,
    rankings_csv,
    rankings_xlsx,
)
from dxcore.answering.i18n import Level, Tier, word
from dxcore.answering.queries import (
    DecisionView,
    RankedRow,
    RankingView,
    Snapshot,
    latest_rankings,
)
from dxcore.store.db import Database
from tests.test_charts import stored_snapshot

BOM = b"\xef\xbb\xbf"


def printed_rows(seed_text: str, appendix: str) -> list[tuple[int, str, Decimal, str]]:
    """(rank, unit, percentage, tier word) as the seed prints them in one appendix, independently of the parser."""
    part = seed_text.split("Phụ lục II")[0 if appendix == "I" else 1].split("Phụ lục I")[-1]
    rows = []
    for line in part.splitlines():
        if re.match(r"\d+\t", line):
            rank, name, percentage, tier = line.split("\t")
            rows.append((int(rank), name, Decimal(percentage.rstrip("%").replace(",", ".")), tier))
    return rows


@pytest.fixture
async def two_years(sqlite_url: str, seed_text: str) -> Snapshot:
    """The seed (2023 results) and the later decision (2024 results)."""
    db = Database(sqlite_url)
    await db.prepare()
    try:
        return await stored_snapshot(db, seed_text)
    finally:
        await db.close()


async def test_xlsx_has_a_cited_sheet_per_level_with_the_decisions_numbers(db: Database, seed_text: str) -> None:
    rankings = latest_rankings(await stored_snapshot(db))
    book = load_workbook(io.BytesIO(rankings_xlsx(rankings)))
    assert book.sheetnames == ["Cấp sở", "Cấp huyện"]

    for sheet, appendix in ((book["Cấp sở"], "I"), (book["Cấp huyện"], "II")):
        assert sheet["A1"].value.startswith("Kết quả đánh giá, xếp hạng Chuyển đổi số cấp")
        assert sheet["A2"].value.startswith(
            f"Nguồn: Quyết định số 1568/QĐ-UBND ngày 12/7/2024 của UBND thành phố Cần Thơ, Phụ lục {appendix} ")
        assert [c.value for c in sheet[4]] == ["Hạng", "Đơn vị", "Tỷ lệ", "Xếp loại"]
        assert all(c.font.bold for c in sheet[4])
        assert sheet.freeze_panes == "A5"
        table = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
        expected = printed_rows(seed_text, appendix)
        assert sheet.auto_filter.ref == f"A4:D{4 + len(expected)}"
        assert [(rank, name, round(Decimal(str(share)) * 100, 3), tier) for rank, name, share, tier in table] \
            == expected
        assert all(type(rank) is int and isinstance(share, float) for rank, _, share, _ in table)
        assert {sheet.cell(r, 3).number_format for r in range(5, 5 + len(expected))} == {"0.00%"}

    so = book["Cấp sở"]
    assert so.max_row == 4 + 20
    [y_te] = [row for row in so.iter_rows(min_row=5) if row[1].value == "Sở Y tế"]
    assert (y_te[0].value, y_te[2].value, y_te[3].value) == (17, pytest.approx(0.7074), "Khá")
    assert "%" in y_te[2].number_format
    assert so.column_dimensions["B"].width > len("Sở Lao động - Thương binh và Xã hội")


def test_xlsx_in_english_across_years_is_deterministic(two_years: Snapshot) -> None:
    snapshot = two_years
    rankings = snapshot.rankings  # both decisions, newest first
    data = rankings_xlsx(rankings, "en")
    assert data == rankings_xlsx(rankings, "en")  # no save time, no zip timestamps
    book = load_workbook(io.BytesIO(data))
    so, huyen = word(Level("so"), "en"), word(Level("huyen"), "en")
    assert book.sheetnames == [f"{so} 2024", f"{huyen} 2024", f"{so} 2023", f"{huyen} 2023"]
    sheet = book[f"{so} 2024"]
    assert [c.value for c in sheet[4]] == ["Rank", "Unit", "Percentage", "Tier"]
    assert sheet["A2"].value.startswith("Source: ") and "2001/QĐ-UBND" in sheet["A2"].value
    assert "10 Jun 2025" in sheet["A2"].value
    [y_te] = [row for row in sheet.iter_rows(min_row=5, values_only=True) if row[1] == "Sở Y tế"]
    assert y_te == (5, "Sở Y tế", pytest.approx(0.959), word(Tier("tot"), "en"))
    assert book.properties.creator == "dxbot"


def made_up(level: str, year: int, rows: list[RankedRow] | None = None) -> RankingView:
    decision = DecisionView(1, "UBND tỉnh Thử", "1/QĐ-UBND", date(year + 1, 3, 1), year, "Quyết định",
                            datetime(year + 1, 3, 2), None)
    return RankingView(1, level, 0, "Phụ lục I", [], decision, rows or [])


def test_sheet_titles_are_unique_short_and_allowed() -> None:
    assert _sheet_titles([made_up("so", 2023), made_up("so", 2023)], "vi") == ["Cấp sở", "Cấp sở (2)"]
    assert _sheet_titles([made_up("so", 2023), made_up("so", 2024)], "vi") == ["Cấp sở năm 2023", "Cấp sở năm 2024"]
    # An unknown level is shown by its code, which must still make a valid sheet title.
    [title] = _sheet_titles([made_up("khối/phường*" + "x" * 40, 2023)], "vi")
    assert len(title) == 31 and not set("[]:*?/\\") & set(title)


def test_three_decimal_percentages_keep_their_third_decimal() -> None:
    rows = [RankedRow(1, "Xã A", 1, Decimal("80.125"), "tot"), RankedRow(2, "Xã B", 2, Decimal("70.500"), "kha")]
    sheet = load_workbook(io.BytesIO(rankings_xlsx([made_up("xa", 2023, rows)]))).active
    assert [(sheet.cell(r, 3).value, sheet.cell(r, 3).number_format) for r in (5, 6)] == [
        (pytest.approx(0.80125), "0.000%"), (pytest.approx(0.705), "0.000%")]
    sheet = load_workbook(io.BytesIO(rankings_xlsx([made_up("xa", 2023, rows[1:])]))).active
    assert sheet.cell(5, 3).number_format == "0.00%"


async def test_csv_parses_back_with_machine_readable_numbers(db: Database, seed_text: str) -> None:
    rankings = latest_rankings(await stored_snapshot(db))
    data = rankings_csv(rankings)
    assert data.startswith(BOM)
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == ["Cấp", "Hạng", "Đơn vị", "Tỷ lệ (%)", "Xếp loại", "Quyết định số", "Cơ quan ban hành",
                      "Năm đánh giá"]
    assert len(rows) == 29
    expected = [(word(Level("so")), *r) for r in printed_rows(seed_text, "I")] \
        + [(word(Level("huyen")), *r) for r in printed_rows(seed_text, "II")]
    assert [(level, int(rank), name, Decimal(pct), tier) for level, rank, name, pct, tier, *_ in rows] == expected
    assert all(re.fullmatch(r"\d{1,3}\.\d{2,3}", row[3]) for row in rows)
    assert {tuple(row[5:]) for row in rows} == {("1568/QĐ-UBND", "UBND thành phố Cần Thơ", "2023")}
    assert ["Cấp sở", "17", "Sở Y tế", "70.74", "Khá"] in [row[:5] for row in rows]

    english = rankings_csv(rankings, "en").decode("utf-8-sig").splitlines()
    assert english[0].split(",")[:5] == ["Level", "Rank", "Unit", "Percentage (%)", "Tier"]
    assert len(english) == 30 and "70.74" in english[17]
    assert rankings_csv([], "vi").decode("utf-8-sig").count("\n") == 1  # the header alone


def test_export_filenames_are_ascii(two_years: Snapshot) -> None:
    snapshot = two_years
    seed = latest_rankings(snapshot, year=2023)
    assert export_filename(seed, "xlsx") == "xep-hang-cds-2023.xlsx"
    assert export_filename(seed[:1], ".csv") == "xep-hang-cds-so-2023.csv"
    assert export_filename(snapshot.rankings, "xlsx") == "xep-hang-cds-2023-2024.xlsx"
    assert export_filename([], "csv") == "xep-hang-cds.csv"
    with pytest.raises(ValueError):
        rankings_xlsx([])
