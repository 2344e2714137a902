"""What an operator does to the store by hand, as CLI commands (issue 17): a consistent backup of a live SQLite
database, who follows what, the outbox, and retracting a decision published by mistake."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.answering.formatting import local_moment
from dxcore.store.db import Database
from dxcore.store.models import (
    Audit,
    Chat,
    Decision,
    Delivery,
    Ranking,
    Result,
    Subscription,
    Unit,
)


class MaintenanceError(Exception):
    """A request the store cannot serve as asked (the CLI says it and exits 2)."""


# --- backup -----------------------------------------------------------------------------------------------------

def sqlite_path(url: str) -> Path | None:
    """The SQLite file behind ``url``; None for PostgreSQL (or memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the live database ``source`` to ``target`` with SQLite's online backup API (a consistent snapshot,
    the WAL's committed transactions included, while other processes keep writing), then check the copy with
    integrity_check. Returns the copy's size in bytes. Never overwrites a file."""
    if target.exists():
        raise MaintenanceError(f"{target} exists already; give the backup a new name")
    if not target.parent.is_dir():
        raise MaintenanceError(f"{target.parent} is not a folder")
    if not source.is_file():
        raise MaintenanceError(f"there is no database at {source}")
    partial = target.with_name(target.name + ".partial")
    try:
        # One step (pages=-1): in WAL mode its read transaction never blocks the bot's writes, whereas copying in
        # steps starts over whenever another process commits in between, which a busy bot always does.
        with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as live, \
                sqlite3.connect(partial) as copy:
            live.execute("PRAGMA busy_timeout=30000")
            live.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise MaintenanceError(f"the copy failed its integrity check: {'; '.join(verdict[:5])}")
        with sqlite3.connect(partial) as copy:
            if not copy.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
                raise MaintenanceError(f"{source} holds no dxbot store: nothing worth a backup was copied")
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def pg_dump_advice(url: str) -> str:
    parsed = make_url(url)
    return (f"the database is PostgreSQL ({parsed.host or 'local socket'}:{parsed.port or 5432}/{parsed.database}): "
            f"back it up with PostgreSQL's own tool while the bot runs, e.g.\n"
            f"  pg_dump --format=custom --file=dxbot.dump -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
            f"-U {parsed.username or 'postgres'} {parsed.database}\n"
            "and restore it with pg_restore into an empty database (README: Operating dxbot)")


# --- subscribers and the outbox ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Follow:
    scope: str  # all | level | unit
    level: str
    unit: str | None  # the unit's name, for scope = unit
    thread_id: int
    silent: bool


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    type: str
    active: bool
    language: str
    follows: list[Follow]


async def subscribers(session: AsyncSession) -> list[Subscriber]:
    """Every chat that follows something, with what it follows (ids and names of units, no titles: chats' titles
    are people's names in private chats)."""
    names = dict((await session.execute(select(Unit.id, Unit.name))).all())
    rows = await session.execute(select(Chat, Subscription).join(Subscription, Subscription.chat_id == Chat.id)
                                 .order_by(Chat.id, Subscription.thread_id, Subscription.id))
    chats: dict[int, Subscriber] = {}
    for chat, sub in rows.all():
        entry = chats.setdefault(chat.id, Subscriber(chat.id, chat.type, chat.active, chat.language, []))
        entry.follows.append(Follow(sub.scope, sub.level, names.get(sub.unit_id) if sub.unit_id else None,
                                    sub.thread_id, sub.silent))
    return list(chats.values())


@dataclass(frozen=True)
class Alert:
    id: int
    decision: str  # number
    issuer: str
    chat_id: int
    thread_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


async def alerts(session: AsyncSession, *, failed_only: bool = False, decision_id: int | None = None) -> list[Alert]:
    """The outbox's alerts, oldest first (only the failed ones, or one decision's, if asked)."""
    query = (select(Delivery, Decision.number, Decision.issuer).join(Decision, Decision.id == Delivery.decision_id)
             .order_by(Delivery.id))
    if failed_only:
        query = query.where(Delivery.status == "failed")
    if decision_id is not None:
        query = query.where(Delivery.decision_id == decision_id)
    return [Alert(d.id, number, issuer, d.chat_id, d.thread_id, d.status, d.attempts, d.next_attempt_at,
                  d.last_error, d.sent_at) for d, number, issuer in (await session.execute(query)).all()]


def to_json(value: object) -> object:
    """Dataclasses to plain JSON values; times as ISO 8601 in Asia/Ho_Chi_Minh with their offset."""
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return {key: to_json(item) for key, item in asdict(value).items()}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return local_moment(value, iso=True)
    return value


# --- retract ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retraction:
    decision_id: int
    number: str
    issuer: str
    rankings: int
    results: int
    alerts: int
    sent: list[Alert]  # alerts delivered (or being sent when it was retracted): chats that saw, or may have seen, it
    last: bool  # no decision is left: the next command that loads the shipped decisions loads them again


async def retract(session: AsyncSession, issuer: str, number: str, *, actor: str, apply: bool,
                  now: datetime | None = None) -> Retraction:
    """In the caller's transaction: what retracting decision ``number`` of ``issuer`` removes and, with ``apply``,
    remove it: the decision, its rankings and results, and every alert of it. The alerts are deleted first, and
    the sent ones (and those being sent) are taken from what that delete returns, so that an alert recorded as
    sent a moment before is listed and audited too. Units stay: buttons already in chats name them by id."""
    decision = await session.scalar(select(Decision).where(Decision.issuer == issuer, Decision.number == number))
    if decision is None:
        known = (await session.scalars(select(Decision.number).where(Decision.issuer == issuer))).all()
        hint = f"; {issuer} has: {', '.join(sorted(known))}" if known else " (see `dxbot decisions`)"
        raise MaintenanceError(f"no decision {number} of {issuer}{hint}")
    rankings = select(Ranking.id).where(Ranking.decision_id == decision.id)
    ranking_count = await session.scalar(select(func.count()).select_from(rankings.subquery())) or 0
    results = await session.scalar(select(func.count()).select_from(Result).where(Result.ranking_id.in_(rankings)))
    others = await session.scalar(select(func.count()).select_from(Decision).where(Decision.id != decision.id))
    if apply:
        deleted = await session.execute(delete(Delivery).where(Delivery.decision_id == decision.id).returning(
            Delivery.id, Delivery.chat_id, Delivery.thread_id, Delivery.status, Delivery.attempts,
            Delivery.next_attempt_at, Delivery.last_error, Delivery.sent_at))
        outbox = [Alert(row.id, decision.number, decision.issuer, row.chat_id, row.thread_id, row.status,
                        row.attempts, row.next_attempt_at, row.last_error, row.sent_at) for row in deleted]
    else:
        outbox = await alerts(session, decision_id=decision.id)
    outcome = Retraction(decision.id, decision.number, decision.issuer, ranking_count, results or 0, len(outbox),
                         sorted((a for a in outbox if a.status in ("sent", "sending")), key=lambda a: a.id),
                         not others)
    if apply:
        sent = ", ".join(f"{a.chat_id}/{a.thread_id}" for a in outcome.sent) or "none"
        session.add(Audit(at=now or datetime.now(UTC), actor=actor, action="retract", decision_id=None,
                          detail=f"decision #{decision.id} {decision.number} of {decision.issuer} (content "
                                 f"{decision.content_hash[:16]}): {outcome.rankings} rankings, {outcome.results} "
                                 f"results, {outcome.alerts} alerts removed; alerts sent or being sent to "
                                 f"chat/topic: {sent}"))
        await session.execute(delete(Result).where(Result.ranking_id.in_(rankings)))
        await session.execute(delete(Ranking).where(Ranking.decision_id == decision.id))
        await session.execute(delete(Decision).where(Decision.id == decision.id))
    return outcome


# --- each in a transaction of its own, for the CLI (and any other front end) --------------------------------------

async def list_subscribers(db: Database) -> list[Subscriber]:
    async with db.session() as session:
        return await subscribers(session)


async def list_alerts(db: Database, *, failed_only: bool = False) -> list[Alert]:
    async with db.session() as session:
        return await alerts(session, failed_only=failed_only)


async def retract_decision(db: Database, issuer: str, number: str, *, actor: str, apply: bool) -> Retraction:
    """``retract`` in one transaction: all of it is removed, or nothing."""
    async with db.session() as session, session.begin():
        return await retract(session, issuer, number, actor=actor, apply=apply)


async def schema_missing(db: Database) -> bool:
    """Whether the database holds no dxbot schema yet (a new, or an emptied, database)."""
    async with db.engine.connect() as conn:
        return not await conn.run_sync(lambda sync: sync.dialect.has_table(sync, "alembic_version"))
