"""Writing decisions: the one place that turns a validated ParsedDecision into rows (DESIGN.md, ingest semantics)."""

from __future__ import annotations

import asyncio
import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import delete, func, insert, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.parsing import ParsedDecision, parse_file
from dxcore.paths import shipped_decisions
from dxcore.store.db import Database
from dxcore.store.models import Audit, Decision, Ranking, Result, Unit
from dxcore.understanding.text import clean
from dxcore.understanding.vocabulary import unit_key


class IngestStatus(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"
    CONFLICT = "conflict"  # same issuer and number, different content, and no --replace


@dataclass(frozen=True)
class StoreOutcome:
    status: IngestStatus
    decision_id: int | None


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


BATCH_ROWS = 500  # rows per bulk statement: preparing 10,000 at once held the event loop for about 60 ms


async def _unit_ids(session: AsyncSession, decision: ParsedDecision, newest: bool) -> dict[tuple[str, str], int]:
    """Find or create the unit of every row (in bulk: levels may have thousands of rows); a newer decision's
    printing becomes the unit's display name. A row is its unit's by ``unit_key``: "BQL X" and "Ban Quản lý X"
    printed in two decisions are one unit; stored units are matched by the key stored with them."""
    existing = await session.execute(
        select(Unit.id, Unit.level, Unit.name_key, Unit.name).where(Unit.issuer == decision.issuer)
    )
    ids: dict[tuple[str, str], int] = {}
    names: dict[int, str] = {}
    for unit_id, level, key, name in existing:
        ids[(level, key)] = unit_id
        names[unit_id] = name
    new_units, renamed = {}, []
    for level in decision.levels:
        for i, row in enumerate(level.rows):
            if i % BATCH_ROWS == BATCH_ROWS - 1:
                await asyncio.sleep(0)  # a turn for the event loop: 10,000 names take tens of milliseconds
            key = (level.code, unit_key(row.name))
            printed = clean(row.name)
            if key not in ids:
                new_units[key] = {"issuer": decision.issuer, "level": key[0], "name_key": key[1], "name": printed}
            elif newest and names[ids[key]] != printed:
                renamed.append({"id": ids[key], "name": printed})
    for batch in _batches(list(new_units.values())):
        created = await session.execute(insert(Unit).returning(Unit.id, Unit.level, Unit.name_key), batch)
        ids.update({(level, key): unit_id for unit_id, level, key in created})
    for batch in _batches(renamed):
        await session.execute(update(Unit), batch)
    return ids


def _batches(rows: list[dict]) -> list[list[dict]]:
    """Bulk rows in statements of BATCH_ROWS, so that the event loop gets a turn while each one runs."""
    return [rows[i : i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]


async def _is_newest(session: AsyncSession, decision: ParsedDecision, exclude_id: int | None) -> bool:
    query = select(Decision.evaluated_year, Decision.signed_date).where(Decision.issuer == decision.issuer)
    if exclude_id is not None:
        query = query.where(Decision.id != exclude_id)
    others = (await session.execute(query)).all()
    return all((decision.evaluated_year, decision.signed_date) >= tuple(other) for other in others)


async def _insert_rankings(session: AsyncSession, decision_id: int, decision: ParsedDecision,
                           unit_ids: dict[tuple[str, str], int]) -> None:
    for position, level in enumerate(decision.levels):
        ranking = Ranking(
            decision_id=decision_id,
            level=level.code,
            position=position,
            appendix=level.appendix,
            stated_counts=[{"tier": c.tier, "label": c.label, "count": c.count} for c in level.stated_counts],
            group_name=level.group or "",
            # null(), not None: the column's server default ("percent", for rows stored before 0008) would fill None
            score_kind=level.score_kind if level.score_kind is not None else null(),
            score_max=level.score_max,
            subscore_names=list(level.subscore_names),
            subscore_maxima=[None if m is None else str(m) for m in level.subscore_maxima],
        )
        session.add(ranking)
        await session.flush()
        for start in range(0, len(level.rows), BATCH_ROWS):
            await session.execute(insert(Result), [
                {
                    "ranking_id": ranking.id,
                    "unit_id": unit_ids[(level.code, unit_key(row.name))],
                    "position": i,
                    "rank": row.rank,
                    "score": row.score,
                    "tier": row.tier,
                    "tier_printed": clean(row.tier_printed) or None,
                    "subscores": [{"value": None if x.value is None else format(x.value, "f"), "printed": x.printed}
                                  for x in row.subscores] or None,
                    "printed_name": clean(row.name),
                }
                for i, row in enumerate(level.rows[start : start + BATCH_ROWS], start=start)
            ])


async def store_decision(
    session: AsyncSession,
    decision: ParsedDecision,
    *,
    actor: str,
    file_hash: str | None = None,
    replace: bool = False,
    now: datetime | None = None,
) -> StoreOutcome:
    """Store a validated decision in the caller's transaction. Identity is (issuer, number); content decides
    whether it is the same decision again (nothing changes), or different (refused unless ``replace``)."""
    now = now or datetime.now(UTC)
    content_hash = decision.content_hash()
    stored = await session.scalar(
        select(Decision).where(Decision.issuer == decision.issuer, Decision.number == decision.number)
    )
    if stored is not None and stored.content_hash == content_hash:
        return StoreOutcome(IngestStatus.UNCHANGED, stored.id)
    if stored is not None and not replace:
        return StoreOutcome(IngestStatus.CONFLICT, stored.id)

    newest = await _is_newest(session, decision, stored.id if stored else None)
    unit_ids = await _unit_ids(session, decision, newest)
    if stored is None:
        stored = Decision(issuer=decision.issuer, number=decision.number, loaded_at=now)
        session.add(stored)
        status = IngestStatus.CREATED
    else:
        # Delete before inserting: the new rankings reuse the (decision, level, group) unique keys.
        await session.execute(delete(Ranking).where(Ranking.decision_id == stored.id))
        status = IngestStatus.REPLACED
    stored.signed_date = decision.signed_date
    stored.evaluated_year = decision.evaluated_year
    stored.title = decision.title or ""
    stored.content_hash = content_hash
    stored.source_name = decision.source
    stored.signer, stored.signer_title, stored.basis = decision.signer, decision.signer_title, list(decision.basis)
    stored.loaded_at = now
    await session.flush()
    await _insert_rankings(session, stored.id, decision, unit_ids)
    session.add(Audit(at=now, actor=actor, action=f"ingest:{status}", decision_id=stored.id,
                      file_name=decision.source, file_hash=file_hash))
    return StoreOutcome(status, stored.id)


async def decision_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Decision)) or 0


async def load_shipped_if_empty(db: Database) -> int:
    """First start: load the decisions shipped in data/decisions (loaded, never published). Returns how many."""
    async with db.session() as session, session.begin():
        if await decision_count(session):
            return 0
        loaded = 0
        for path in shipped_decisions():
            outcome = parse_file(path)
            if not outcome.ok:
                problems = "; ".join(map(str, outcome.errors[:3]))
                raise RuntimeError(f"shipped decision {path.name} does not validate: {problems}")
            await store_decision(session, outcome.decision, actor="system:seed")
            loaded += 1
        return loaded
