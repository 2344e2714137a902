"""One unit however its name abbreviates (issue 14, item 6): "BQL X" and "Ban Quản lý X", "Văn phòng UBND X" and
"Văn phòng Ủy ban nhân dân X", printed by two decisions, are one unit; stores made before are merged by 0009."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from alembic import command
from dxcore.parsing import Location, ParsedDecision, ParsedLevel, ParsedRow
from dxcore.parsing.validate import validate
from dxcore.publishing.publish import audience_of_parsed
from dxcore.store.db import Database, alembic_config
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Chat, Result, Subscription, Unit
from dxcore.understanding.text import name_key
from dxcore.understanding.vocabulary import unit_key

HERE = Location("2025.txt", 1)
SEED_ISSUER = "UBND thành phố Cần Thơ"
BQL = "BQL các khu chế xuất và công nghiệp Cần Thơ"
BAN_QUAN_LY = "Ban Quản lý các khu chế xuất và công nghiệp Cần Thơ"
VP_UBND = "Văn phòng UBND thành phố"
VP_UY_BAN = "Văn phòng Ủy ban nhân dân thành phố"


# --- the key -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("one", "other"), [
    (BQL, BAN_QUAN_LY),
    (VP_UBND, VP_UY_BAN),
    ("UBND quận Ninh Kiều", "Ủy ban nhân dân quận Ninh Kiều"),
    ("Q.Ninh Kiều", "Quận Ninh Kiều"),
    ("H. Phong Điền", "Huyện Phong Điền"),
    ("UBND TP. Cần Thơ", "Ủy ban nhân dân thành phố Cần Thơ"),  # an abbreviation's dot goes with it
    ("Sở xây dựng", "Sở Xây dựng"),  # name_key as before: case
    ("Thuỷ", "Thủy"),  # … and tone-mark placement
])
def test_printings_of_one_name_have_one_key(one: str, other: str) -> None:
    assert unit_key(one) == unit_key(other)


@pytest.mark.parametrize(("one", "other"), [
    ("Sở KH", "Sở Khoa học"),  # "KH" is "khoa học" or "kế hoạch": never expanded
    ("Sở KH", "Sở Kế hoạch"),
    ("Xã Tân Thới", "Xã Tân Thời"),  # diacritics are kept
    ("Ban bql", "Ban ban quản lý"),  # a lowercase word is a word, whatever it spells
    ("Ấp Q", "Ấp quận"),  # a lone letter is a prefix only with its dot
    ("Sở KCX&CN", "Sở khu chế xuất và CN"),  # tokens are word runs: the separator stays
])
def test_different_names_keep_different_keys(one: str, other: str) -> None:
    assert unit_key(one) != unit_key(other)


def test_key_keeps_diacritics_spells_written_forms_and_is_stable() -> None:
    assert unit_key("Sở KCX&CN") == "sở khu chế xuất&cn"
    assert unit_key(VP_UBND) == "văn phòng ủy ban nhân dân thành phố"
    assert unit_key("Sở KH&CN") == name_key("Sở KH&CN")
    for name in (BQL, VP_UBND, "Q.Ninh Kiều", "Sở KH&CN", "Xã Tân Thới"):
        assert unit_key(unit_key(name)) == unit_key(name)


# --- the store, the preview's audience, validation -----------------------------------------------------------------

def _decision_2025(*names: str) -> ParsedDecision:
    rows = [ParsedRow(i, name, Decimal(95 - i), "tot", "Tốt", HERE) for i, name in enumerate(names, start=1)]
    return ParsedDecision("2025.txt", SEED_ISSUER, "900/QĐ-UBND", date(2026, 6, 1), 2025,
                          levels=[ParsedLevel("so", "Phụ lục I", HERE, rows)])


async def _units(db: Database) -> dict[int, str]:
    async with db.session() as session:
        return dict((await session.execute(select(Unit.id, Unit.name))).all())


async def test_a_later_decision_spelling_names_out_ranks_the_same_units(db: Database) -> None:
    await load_shipped_if_empty(db)
    before = await _units(db)
    seed_ids = {name: unit_id for unit_id, name in before.items()}
    later = _decision_2025(BAN_QUAN_LY, VP_UY_BAN, "Sở Y tế")
    async with db.session() as session, session.begin():
        chat = Chat(id=100, type="private", updated_at=datetime.now(UTC))
        session.add(chat)
        await session.flush()
        session.add(Subscription(chat_id=100, scope="unit", unit_id=seed_ids[BQL], created_at=datetime.now(UTC)))
    async with db.session() as session:
        assert await audience_of_parsed(session, later) == 1  # the preview counts the follower of "BQL …"
    async with db.session() as session, session.begin():
        await store_decision(session, later, actor="test")
    after = await _units(db)
    assert after.keys() == before.keys()  # no new unit
    assert after[seed_ids[BQL]] == BAN_QUAN_LY  # the newest printing is the display name
    assert after[seed_ids[VP_UBND]] == VP_UY_BAN
    async with db.session() as session:
        ranked = (await session.execute(select(Result.unit_id, func.count()).group_by(Result.unit_id))).all()
    assert dict(ranked)[seed_ids[BQL]] == 2 and dict(ranked)[seed_ids[VP_UBND]] == 2


def test_a_table_listing_both_printings_is_refused() -> None:
    decision = _decision_2025(BQL, "Sở Y tế", BAN_QUAN_LY)
    errors, _ = validate(decision)
    assert [str(e) for e in errors] == [f"2025.txt:1: '{BAN_QUAN_LY}' is listed twice in Cấp sở (also at 2025.txt:1)."]


# --- migration 0009 ----------------------------------------------------------------------------------------------

ROWS_AT_0008 = [
    "INSERT INTO decision (id, issuer, number, signed_date, evaluated_year, title, content_hash, source_name, "
    "loaded_at) VALUES (1, 'UBND X', '1/QĐ', :old, 2023, '', 'h1', 'a.txt', :now), "
    "(2, 'UBND X', '2/QĐ', :new, 2025, '', 'h2', 'b.txt', :now)",
    "INSERT INTO ranking (id, decision_id, level, position, appendix, stated_counts) "
    "VALUES (1, 1, 'so', 0, 'Phụ lục I', '[]'), (2, 2, 'so', 0, 'Phụ lục I', '[]'), "
    "(3, 1, 'huyen', 1, 'Phụ lục II', '[]')",
    # 1 and 3: one body printed two ways in two decisions; 4 and 5: two names ranked side by side, so two units
    "INSERT INTO unit (id, issuer, level, name_key, name) VALUES "
    "(1, 'UBND X', 'so', 'bql các khu a', 'BQL các khu A'), (2, 'UBND X', 'so', 'sở y tế', 'Sở Y tế'), "
    "(3, 'UBND X', 'so', 'ban quản lý các khu a', 'Ban Quản lý các khu A'), "
    "(4, 'UBND X', 'huyen', 'ubnd quận b', 'UBND quận B'), "
    "(5, 'UBND X', 'huyen', 'ủy ban nhân dân quận b', 'Ủy ban nhân dân quận B'), "
    "(6, 'UBND X', 'so', 'văn phòng ubnd thành phố', 'Văn phòng UBND thành phố')",
    "INSERT INTO result (id, ranking_id, unit_id, position, rank, score, tier, printed_name) VALUES "
    "(1, 1, 1, 0, 1, '90', 'tot', 'BQL các khu A'), (2, 1, 2, 1, 2, '80', 'kha', 'Sở Y tế'), "
    "(3, 2, 3, 0, 1, '91', 'tot', 'Ban Quản lý các khu A'), (4, 2, 2, 1, 2, '81', 'kha', 'Sở Y tế'), "
    "(5, 3, 4, 0, 1, '70', 'kha', 'UBND quận B'), (6, 3, 5, 1, 2, '60', 'trung_binh', 'Ủy ban nhân dân quận B'), "
    "(7, 1, 6, 2, 3, '75', 'kha', 'Văn phòng UBND thành phố')",
    "INSERT INTO alias (id, text_key, unit_id, source, chat_id, user_id, created_at) VALUES "
    "(1, 'bql', 1, 'learned', 100, 7, :now), (2, 'bql', 3, 'learned', 100, 7, :now), "
    "(3, 'ban quan ly', 3, 'learned', 101, 8, :now)",
    "INSERT INTO chat (id, type, active, updated_at) VALUES (100, 'private', :yes, :now), "
    "(101, 'group', :yes, :now)",
    "INSERT INTO subscription (id, chat_id, thread_id, scope, level, unit_id, silent, created_at) VALUES "
    "(1, 100, 0, 'unit', '', 1, :no, :now), (2, 100, 0, 'unit', '', 3, :no, :now), "
    "(3, 101, 0, 'unit', '', 3, :no, :now), (4, 101, 0, 'level', 'so', 0, :no, :now)",
]


async def _rows(conn, query: str) -> list[tuple]:
    return [tuple(row) for row in (await conn.execute(text(query))).all()]


async def test_migration_0009_merges_units_printed_two_ways(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(db_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0008"))
            values = {"old": date(2024, 7, 12), "new": date(2026, 6, 1), "now": datetime.now(UTC), "yes": True,
                      "no": False}
            for statement in ROWS_AT_0008:
                await conn.execute(text(statement), {k: v for k, v in values.items() if f":{k}" in statement})
        with caplog.at_level(logging.WARNING, logger="dxcore.store.migrations"):
            await database.prepare()
        async with database.engine.connect() as conn:
            units = await _rows(conn, "SELECT id, name_key, name FROM unit ORDER BY id")
            results = await _rows(conn, "SELECT id, unit_id FROM result ORDER BY id")
            aliases = await _rows(conn, "SELECT id, unit_id FROM alias ORDER BY id")
            subscriptions = await _rows(conn, "SELECT id, unit_id FROM subscription ORDER BY id")
        assert units == [
            (1, "ban quản lý các khu a", "Ban Quản lý các khu A"),  # the oldest id, printed as the newest decision
            (2, "sở y tế", "Sở Y tế"),
            (4, "ubnd quận b", "UBND quận B"),  # ranked beside 5: not merged, both keep their keys
            (5, "ủy ban nhân dân quận b", "Ủy ban nhân dân quận B"),
            (6, "văn phòng ủy ban nhân dân thành phố", "Văn phòng UBND thành phố"),  # re-keyed only
        ]
        assert results == [(1, 1), (2, 2), (3, 1), (4, 2), (5, 4), (6, 5), (7, 6)]  # every result kept
        assert aliases == [(2, 1), (3, 1)]  # user 7's pick once, the latest
        assert subscriptions == [(1, 1), (3, 1), (4, 0)]  # chat 100 follows it once
        assert any("not merged" in r.getMessage() for r in caplog.records)

        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0008"))
            keys = await _rows(conn, "SELECT id, name_key FROM unit ORDER BY id")
        assert keys == [(1, "ban quản lý các khu a"), (2, "sở y tế"), (4, "ubnd quận b"),
                        (5, "ủy ban nhân dân quận b"), (6, "văn phòng ubnd thành phố")]
    finally:
        await database.close()
