"""Queries over the stored seed (and a later decision), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from dxcore.answering.queries import (
    Snapshot,
    list_decisions,
    load_snapshot,
    tier_counts,
    top,
    unit_result,
    unit_years,
    units_of_tier,
)
from dxcore.parsing import parse_bytes
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Unit
from dxcore.understanding.text import name_key


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


async def _snapshot(db: Database) -> Snapshot:
    async with db.session() as session:
        return await load_snapshot(session)


async def _unit_id(db: Database, name: str) -> int:
    async with db.session() as session:
        return await session.scalar(select(Unit.id).where(Unit.name_key == name_key(name)))


async def test_unit_result_with_neighbours_gap_and_citation(seeded: Database) -> None:
    snap = await _snapshot(seeded)
    result = unit_result(snap, await _unit_id(seeded, "Ban Dân tộc"))
    assert (result.row.rank, result.total, result.row.score, result.row.tier) == (7, 20, Decimal("87.46"), "tot")
    assert result.above.name == "Sở Tư pháp" and result.below.name == "Sở Ngoại vụ"
    assert result.next_tier is None  # already in the best tier present
    c = result.citation
    assert (c.number, c.signed_date, c.appendix, c.evaluated_year) == ("1568/QĐ-UBND", date(2024, 7, 12), "Phụ lục I", 2023)

    y_te = unit_result(snap, await _unit_id(seeded, "Sở Y tế"))
    assert (y_te.row.rank, y_te.total, y_te.tied_with) == (17, 20, 0)
    # Measured against the lowest Tốt in the same ranking (Sở Ngoại vụ, 86,91%), not a guessed threshold.
    assert (y_te.next_tier.tier, y_te.next_tier.lowest, y_te.next_tier.points) == (
        "tot", Decimal("86.91"), Decimal("16.17"),
    )


async def test_tier_counts_in_the_decisions_wording(seeded: Database) -> None:
    levels = tier_counts(await _snapshot(seeded))
    assert [lc.level for lc in levels] == ["so", "huyen"]
    assert [(c.label, c.count) for c in levels[1].counts] == [
        ("Xếp loại Tốt", 0), ("Xếp loại Khá", 4), ("Xếp loại Trung bình", 5), ("Xếp loại Yếu", 0),
    ]
    assert levels[0].total == 20 and levels[0].citation.appendix == "Phụ lục I"


async def test_top_bottom_and_tier_lists(seeded: Database) -> None:
    snap = await _snapshot(seeded)
    (first3,) = top(snap, 3, "so")
    (last2,) = top(snap, 2, "huyen", bottom=True)
    (good,) = units_of_tier(snap, "tot", "so")
    both = top(snap, 1)
    assert [r.name for r in first3.rows] == [
        "Sở Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch", "Sở Thông tin và Truyền thông",
    ]
    assert [r.rank for r in last2.rows] == [8, 9] and last2.rows[-1].name == "UBND huyện Thới Lai"
    assert len(good.rows) == 8 and good.rows[-1].name == "Sở Ngoại vụ"
    assert [s.level for s in both] == ["so", "huyen"]


async def test_latest_decision_wins_and_years_select(seeded: Database, seed_text: str) -> None:
    # A later decision (results for 2024) in which Sở Y tế moved up: default answers use it, year 2023 the old one.
    later = (
        seed_text.replace("1568 /QĐ-UBND ngày 12 tháng 7 năm 2024", "2001 /QĐ-UBND ngày 10 tháng 6 năm 2025")
        .replace("năm 2023", "năm 2024").replace("NĂM 2023", "NĂM 2024")
        .replace("17\tSở Y tế\t70,74%", "17\tSở Y Tế\t71,00%")
    )
    parsed = parse_bytes(later.encode(), "later.txt")
    assert parsed.ok, parsed.errors
    async with seeded.session() as session, session.begin():
        await store_decision(session, parsed.decision, actor="test")
    unit_id = await _unit_id(seeded, "Sở Y tế")
    snap = await _snapshot(seeded)
    latest = unit_result(snap, unit_id)
    old = unit_result(snap, unit_id, year=2023)
    missing = unit_result(snap, unit_id, year=2019)
    years = unit_years(snap, unit_id)
    decisions = list_decisions(snap)
    assert (latest.row.score, latest.citation.number, latest.name) == (Decimal("71"), "2001/QĐ-UBND", "Sở Y Tế")
    assert (old.row.score, old.citation.number) == (Decimal("70.74"), "1568/QĐ-UBND")
    assert missing is None and years == [2024, 2023]
    assert [d.number for d in decisions] == ["2001/QĐ-UBND", "1568/QĐ-UBND"]
    assert decisions[1].levels == [("so", 20), ("huyen", 9)]
