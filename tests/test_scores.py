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
