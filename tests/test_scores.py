"""Rankings of any kind (issue 13): points out of a maximum, indices with sub-indices, rank-only rankings, groups
within a level, tiers as printed; stored exactly as printed, and answered in the document's own terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, text

from alembic import command
from dxcore.store.db import Database, alembic_config
from dxcore.store.models import Ranking, Result


async def test_migration_0008_keeps_stored_percentages(db_url: str) -> None:
    database = Database(db_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0007"))
            await conn.execute(text(
                "INSERT INTO decision (id, issuer, number, signed_date, evaluated_year, title, content_hash, "
                "source_name, loaded_at) VALUES (1, 'UBND X', '1/QĐ', :d, 2023, '', 'h', 'f.txt', :t)"),
                {"d": date(2024, 7, 12), "t": date(2024, 7, 12)})
            await conn.execute(text("INSERT INTO ranking (id, decision_id, level, position, appendix, stated_counts) "
                                    "VALUES (1, 1, 'so', 0, 'Phụ lục I', '[]')"))
            await conn.execute(text("INSERT INTO unit (id, issuer, level, name_key, name) "
                                    "VALUES (1, 'UBND X', 'so', 'sở y tế', 'Sở Y tế')"))
            await conn.execute(text("INSERT INTO result (id, ranking_id, unit_id, position, rank, percentage, tier, "
                                    "printed_name) VALUES (1, 1, 1, 0, 1, 70.74, 'kha', 'Sở Y tế')"))
        await database.prepare()
        async with database.session() as session:
            ranking = await session.scalar(select(Ranking))
            result = await session.scalar(select(Result))
        assert (ranking.group_name, ranking.score_kind, ranking.score_max, ranking.subscore_names) == \
            ("", "percent", None, [])
        assert result.score == Decimal("70.74") and result.tier == "kha" and result.tier_printed is None
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0007"))
            back = (await conn.execute(text("SELECT percentage, tier FROM result"))).all()
        assert [(Decimal(str(p)), t) for p, t in back] == [(Decimal("70.74"), "kha")]
    finally:
        await database.close()


# --- rankings of other kinds, stored and answered ----------------------------------------------------------------

from dxcore.answering.assistant import answer_text  # noqa: E402
from dxcore.parsing.model import (  # noqa: E402
    Location,
    ParsedDecision,
    ParsedLevel,
    ParsedRow,
    SubScore,
)
from dxcore.store.decisions import store_decision  # noqa: E402
from dxcore.understanding.catalog import Catalog  # noqa: E402

HERE = Location("test.txt", 1)


def _row(rank: int, name: str, score: str | None, tier: str | None = None, printed: str = "",
         subs: tuple[str, ...] = ()) -> ParsedRow:
    return ParsedRow(rank, name, None if score is None else Decimal(score), tier, printed or "", HERE,
                     [SubScore(Decimal(s), s.replace(".", ",")) for s in subs])


def _points_decision() -> ParsedDecision:
    """Points out of 1.000 in two groups of one level, one with a Trung bình khá unit."""
    with_tthc = ParsedLevel("so", "Phụ lục I", HERE, [
        _row(1, "Sở Tư pháp", "885.58", "tot", "Tốt"),
        _row(2, "Sở Y tế", "741.62", "trung_binh_kha", "Trung bình khá"),
    ], group="Nhóm sở có TTHC", score_kind="points", score_max=Decimal("1000"))
    without = ParsedLevel("so", "Phụ lục I", HERE, [
        _row(1, "Ban Dân tộc", "96.53", "tot", "Tốt"),
        _row(2, "Văn phòng UBND tỉnh", "80.10", "kha", "Khá"),
    ], group="Nhóm sở không có TTHC", score_kind="points", score_max=Decimal("100"))
    return ParsedDecision("points.txt", "UBND tỉnh Tuyên Quang", "12/QĐ-UBND", date(2024, 3, 1), 2023,
                          levels=[with_tthc, without])


def _index_decision() -> ParsedDecision:
    """The national DTI: an index 0–1 with 4 decimals and sub-indices; and a rank-only ranking."""
    provinces = ParsedLevel("tinh", "Bảng 1", HERE, [
        _row(1, "Đà Nẵng", "0.8340", None, "", ("0.7120", "0.9001")),
        _row(2, "Quảng Ninh", "0.8020", None, "", ("0.8500", "0.6000")),
    ], score_kind="index", subscore_names=["Chính quyền số", "Kinh tế số"])
    ministries = ParsedLevel("bo", "Bảng 2", HERE, [_row(1, "Bộ Tài chính", None), _row(2, "Bộ Tư pháp", None)],
                             score_kind=None)
    return ParsedDecision("dti.txt", "Bộ Thông tin và Truyền thông", "DTI-2022/BTTTT", date(2023, 7, 1), 2022,
                          levels=[provinces, ministries])


async def _stored(db: Database) -> Catalog:
    async with db.session() as session, session.begin():
        await store_decision(session, _points_decision(), actor="test")
        await store_decision(session, _index_decision(), actor="test")
    return Catalog()


async def _ask(db: Database, catalog: Catalog, question: str, lang: str = "vi") -> str:
    view = await catalog.current(db)
    return answer_text(view, question).render_plain(lang)


async def test_points_in_groups_are_answered_in_points_with_the_group_named(db: Database) -> None:
    catalog = await _stored(db)
    card = await _ask(db, catalog, "Sở Y tế")
    assert "Xếp hạng: 2/2 trong Nhóm sở có TTHC\nKết quả: 741,62/1.000 điểm\nXếp loại: Trung bình khá\n" in card
    assert "Cần thêm 143,96 điểm để bằng mức Tốt thấp nhất năm 2023 (885,58/1.000 điểm)." in card
    assert "Đứng trên: Sở Tư pháp (hạng 1, 885,58/1.000 điểm), cao hơn 143,96 điểm" in card
    english = await _ask(db, catalog, "Sở Y tế", "en")
    assert "Rank: 2/2 in Nhóm sở có TTHC\nScore: 741.62/1,000 points\nTier: Fairly average" in english
    top = await _ask(db, catalog, "top 5 cấp sở")
    assert "Cấp sở – Nhóm sở có TTHC (năm 2023, 2 đơn vị)\n1. Sở Tư pháp: 885,58/1.000 điểm (Tốt)\n" \
           "2. Sở Y tế: 741,62/1.000 điểm (Trung bình khá)" in top
    assert "Cấp sở – Nhóm sở không có TTHC (năm 2023, 2 đơn vị)\n1. Ban Dân tộc: 96,53 điểm (Tốt)\n" \
           "2. Văn phòng UBND tỉnh: 80,10 điểm (Khá)" in top
    counts = await _ask(db, catalog, "thống kê cấp sở")
    assert "Cấp sở – Nhóm sở có TTHC (năm 2023)\nTốt: 1 đơn vị\nTrung bình khá: 1 đơn vị\nTổng số: 2 đơn vị" in counts


async def test_an_index_with_sub_indices_and_a_rank_only_ranking(db: Database) -> None:
    from dxcore.answering import answers as A
    from dxcore.answering.queries import unit_result

    catalog = await _stored(db)
    view = await catalog.current(db)
    da_nang = next(u for u in view.snapshot.units.values() if u.name == "Đà Nẵng")
    card = A.unit_answer(unit_result(view.snapshot, da_nang.id)).render_plain()
    assert "Xếp hạng: 1/2\nKết quả: chỉ số 0,8340\nChỉ số thành phần: Chính quyền số 0,7120; Kinh tế số 0,9001\n" \
           "Đứng dưới: Quảng Ninh (hạng 2, chỉ số 0,8020), thấp hơn 0,0320" in card
    assert "Xếp loại" not in card
    english = A.unit_answer(unit_result(view.snapshot, da_nang.id)).render_plain("en")
    assert "Score: index 0.8340\nSub-indices: Chính quyền số 0.7120; Kinh tế số 0.9001" in english
    ministry = await _ask(db, catalog, "Bộ Tài chính")
    assert "Xếp hạng: 1/2\nĐứng dưới: Bộ Tư pháp (hạng 2)\nNguồn:" in ministry


def test_scores_are_worded_by_kind_with_the_digits_printed() -> None:
    from dxcore.answering.formatting import format_gap, format_score

    assert format_score(Decimal("70.74"), "percent") == "70,74%"
    assert format_score(Decimal("96.53"), "points", Decimal("100")) == "96,53 điểm"
    assert format_score(Decimal("885.58"), "points", Decimal("1000")) == "885,58/1.000 điểm"
    assert format_score(Decimal("885.58"), "points", Decimal("1000"), "en") == "885.58/1,000 points"
    assert format_score(Decimal("0.8340"), "index") == "chỉ số 0,8340"
    assert format_score(Decimal("0.8340"), "index", lang="en") == "index 0.8340"
    assert format_gap(Decimal("25.16"), "percent") == "25,16 điểm %"


async def test_dxbot_ask_answers_in_points(tmp_path) -> None:
    from tests.test_cli import dxbot

    url = f"sqlite+aiosqlite:///{tmp_path / 'scores.sqlite3'}"
    database = Database(url)
    try:
        await database.prepare()
        await _stored(database)
    finally:
        await database.close()
    result = dxbot("ask", "Ban Dân tộc", cwd=tmp_path, env={"DXBOT_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "Xếp hạng: 1/2 trong Nhóm sở không có TTHC\nKết quả: 96,53 điểm\nXếp loại: Tốt" in result.stdout
