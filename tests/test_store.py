"""Migrations on SQLite and PostgreSQL, and the store's ingest semantics."""

from __future__ import annotations

from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from dxcore.parsing import parse_file
from dxcore.store.db import Database
from dxcore.store.decisions import IngestStatus, load_shipped_if_empty, store_decision
from dxcore.store.models import Audit, Base, Decision, Result, Unit
from tests.conftest import SEED


def _schema_diff(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_create_the_models_schema(db_url: str) -> None:
    database = Database(db_url)
    try:
        await database.prepare()
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            diff = await conn.run_sync(_schema_diff)
        assert {"decision", "ranking", "unit", "result", "alias", "audit", "alembic_version"} <= tables
        assert diff == [], f"models and migrations disagree: {diff}"
        await database.prepare()  # a second start is a no-op
    finally:
        await database.close()


async def test_telegram_ids_are_bigint(db: Database) -> None:
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"]: col["type"] for col in inspect(c).get_columns("alias")})
    assert "BIGINT" in str(columns["user_id"]).upper()


async def test_seed_is_loaded_once_with_exact_percentages(db: Database) -> None:
    assert await load_shipped_if_empty(db) == 1
    assert await load_shipped_if_empty(db) == 0
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Result)) == 29
        decision = await session.scalar(select(Decision))
        assert decision.published_at is None  # loaded, never published
        percentages = set(await session.scalars(select(Result.score)))
        assert Decimal("70.74") in percentages and Decimal("99.73") in percentages
        audit = await session.scalar(select(Audit))
        assert audit.actor == "system:seed" and audit.decision_id == decision.id


async def test_same_content_again_changes_nothing(db: Database) -> None:
    parsed = parse_file(SEED).decision
    async with db.session() as session, session.begin():
        first = await store_decision(session, parsed, actor="test")
    async with db.session() as session, session.begin():
        again = await store_decision(session, parse_file(SEED).decision, actor="test")
    assert first.status is IngestStatus.CREATED
    assert again.status is IngestStatus.UNCHANGED and again.decision_id == first.decision_id
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Decision)) == 1
        assert await session.scalar(select(func.count()).select_from(Audit)) == 1


async def test_different_content_is_refused_unless_replace(db: Database) -> None:
    parsed = parse_file(SEED).decision
    async with db.session() as session, session.begin():
        await store_decision(session, parsed, actor="test")
    async with db.session() as session:
        unit_ids = dict((await session.execute(select(Unit.name_key, Unit.id))).all())

    changed = parse_file(SEED).decision
    changed.levels[0].rows[16].name = "Sở Y Tế"  # same unit (case), printed differently
    changed.levels[0].rows[0].score = Decimal("99.740")
    async with db.session() as session, session.begin():
        refused = await store_decision(session, changed, actor="test")
    assert refused.status is IngestStatus.CONFLICT
    async with db.session() as session:
        kept = await session.scalar(select(Result.score).where(Result.position == 0).limit(1))
        assert kept == Decimal("99.73")

    async with db.session() as session, session.begin():
        replaced = await store_decision(session, changed, actor="test", replace=True)
    assert replaced.status is IngestStatus.REPLACED
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Result)) == 29
        now_ids = dict((await session.execute(select(Unit.name_key, Unit.id))).all())
        assert now_ids == unit_ids  # unit ids are stable across a replace
        renamed = await session.scalar(select(Unit).where(Unit.name_key == "sở y tế"))
        assert renamed.name == "Sở Y Tế"  # the newest printing is the display name

