"""After the 2025 reorganisation a city's latest decision ranks fewer levels (no district level): counts and lists
asked with no year show only the levels of its latest year; an abolished level is answered when asked for, with
its year named (issue 14, item 5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dxcore.answering.assistant import answer_text
from dxcore.parsing import Location, ParsedDecision, ParsedLevel, ParsedRow
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.understanding.catalog import Catalog

HERE = Location("2025.txt")


def _decision_2025() -> ParsedDecision:
    """Cần Thơ's departments for 2025, ranked after the district level was abolished (communes not ranked yet)."""
    rows = [ParsedRow(1, "Sở Khoa học và Công nghệ", Decimal("97.10"), "tot", "Tốt", HERE),
            ParsedRow(2, "Sở Tài chính", Decimal("90.25"), "tot", "Tốt", HERE),
            ParsedRow(3, "Sở Nông nghiệp và Môi trường", Decimal("84.00"), "kha", "Khá", HERE)]
    return ParsedDecision("2025.txt", "UBND thành phố Cần Thơ", "900/QĐ-UBND", date(2026, 6, 1), 2025,
                          levels=[ParsedLevel("so", "Phụ lục I", HERE, rows)])


async def test_counts_with_no_year_show_the_latest_years_levels_only(db: Database) -> None:
    await load_shipped_if_empty(db)
    async with db.session() as session, session.begin():
        await store_decision(session, _decision_2025(), actor="test")
    view = await Catalog(check_every=0).current(db)
    summary = answer_text(view, "thống kê").render_plain()
    assert "Cấp sở (năm 2025)" in summary and "Cấp huyện" not in summary
    top = answer_text(view, "top 3").render_plain()
    assert "Sở Khoa học và Công nghệ" in top and "UBND quận" not in top
    districts = answer_text(view, "thống kê cấp huyện").render_plain()
    assert "Cấp huyện (năm 2023)" in districts  # abolished since: answered, with its year
    assert "Cấp huyện (năm 2023)" in answer_text(view, "thống kê năm 2023").render_plain()
