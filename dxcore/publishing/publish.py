"""Publishing: a stored decision becomes public once, ever, and every chat that follows any of it gets one alert
enqueued in the same transaction (the outbox; dxcore.alerts.delivery sends them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.alerts.subscriptions import ALL, LEVEL, LOCAL, UNIT
from dxcore.observability import metrics
from dxcore.parsing import ParsedDecision
from dxcore.steps import paced
from dxcore.store.decisions import IngestStatus, store_decision
from dxcore.store.models import (
    Audit,
    Chat,
    Decision,
    Delivery,
    PendingPublish,
    Ranking,
    Result,
    Subscription,
    Unit,
)
from dxcore.understanding.lineage import Lineage, shipped_lineage, year_end
from dxcore.understanding.text import name_key
from dxcore.understanding.vocabulary import unit_key

log = logging.getLogger("dxbot.publish")
HELD_FOR = timedelta(days=7)  # how long an admin's preview can still be published


@dataclass(frozen=True)
class PublishOutcome:
    decision_id: int
    published: bool  # False: it had been published before, and nothing was sent again
    alerts: int
    number: str = ""
    issuer: str = ""
    actor: str = ""

    def announce(self) -> None:
        """The operator's line, once the publishing transaction has committed."""
        if self.published:
            metrics.PUBLISHED.inc()
            log.info("published decision %s (%s) by %s: %d alerts queued", self.number, self.issuer, self.actor,
                     self.alerts)


async def audience(session: AsyncSession, decision_id: int) -> set[tuple[int, int]]:
    """(chat, topic) pairs that follow anything in the decision: every decision, one of its levels or units."""
    levels = set(await session.scalars(select(Ranking.level).where(Ranking.decision_id == decision_id)))
    units = set(await session.scalars(
        select(Result.unit_id).join(Ranking, Result.ranking_id == Ranking.id).where(Ranking.decision_id == decision_id)
    ))
    year = await session.scalar(select(Decision.evaluated_year).where(Decision.id == decision_id))
    return await _followers(session, levels, units | await _ceased_into(session, units, year))


async def audience_of_parsed(session: AsyncSession, decision: ParsedDecision) -> int:
    """How many chats a decision not stored yet would alert (for the admin's preview)."""
    keys = {(lv.code, unit_key(r.name)) for lv in decision.levels for r in lv.rows}  # as the store will match
    units = {unit_id for unit_id, level, key in await session.execute(
        select(Unit.id, Unit.level, Unit.name_key).where(Unit.issuer == decision.issuer)) if (level, key) in keys}
    units |= await _ceased_into(session, units, decision.evaluated_year)
    return len(await _followers(session, {lv.code for lv in decision.levels}, units))


async def _ceased_into(session: AsyncSession, units: set[int], year: int) -> set[int]:
    """Units that a lineage file says ceased into one of these by the end of the year: a chat following one is
    alerted through what it became."""
    events = shipped_lineage()
    if not events or not units:
        return set()
    named = {name_key(i) for e in events for i in (e.issuer, *e.merged_issuers)}
    issuers = [i for i in await session.scalars(select(Unit.issuer).distinct()) if name_key(i) in named]
    if not issuers:
        return set()
    stored = (await session.execute(select(Unit.id, Unit.name, Unit.level, Unit.issuer)
                                    .where(Unit.issuer.in_(issuers)))).all()
    lineage = await paced(Lineage.in_steps(events, stored))  # thousands of communes: the loop keeps its turns
    return lineage.ceased_into(units, year_end(year))


async def _followers(session: AsyncSession, levels: set[str], units: set[int]) -> set[tuple[int, int]]:
    rows = await session.execute(
        select(Subscription.chat_id, Subscription.thread_id, Subscription.scope, Subscription.level,
               Subscription.unit_id)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(Chat.active.is_(True), Chat.type != LOCAL)  # the CLI shell's chat follows for show: no messenger
    )
    return {
        (chat_id, thread_id)
        for chat_id, thread_id, scope, level, unit_id in rows
        if scope == ALL or (scope == LEVEL and level in levels) or (scope == UNIT and unit_id in units)
    }


async def publish(session: AsyncSession, decision_id: int, *, actor: str, now: datetime | None = None) -> PublishOutcome:
    """In the caller's transaction: mark the decision published and enqueue its alerts, or do nothing if it was."""
    now = now or datetime.now(UTC)
    decision = await session.get(Decision, decision_id, with_for_update=True)
    if decision is None:
        raise LookupError(f"no decision {decision_id}")
    if decision.published_at is not None:
        return PublishOutcome(decision_id, False, 0)
    targets = sorted(await audience(session, decision_id))
    session.add_all(
        Delivery(decision_id=decision_id, chat_id=chat_id, thread_id=thread_id, status="pending", attempts=0,
                 next_attempt_at=now, created_at=now)
        for chat_id, thread_id in targets
    )
    decision.published_at, decision.published_by = now, actor
    session.add(Audit(at=now, actor=actor, action="publish", decision_id=decision_id, detail=f"{len(targets)} alerts"))
    await session.flush()
    return PublishOutcome(decision_id, True, len(targets), decision.number, decision.issuer, actor)


async def preview_status(session: AsyncSession, decision: ParsedDecision) -> str | None:
    """"published" (nothing would be sent again), "conflict" (same number, other content), or None (new)."""
    stored = await session.scalar(select(Decision).where(Decision.issuer == decision.issuer,
                                                         Decision.number == decision.number))
    if stored is None:
        return None
    if stored.content_hash != decision.content_hash():
        return "conflict"
    return "published" if stored.published_at else None


async def hold_for_publish(session: AsyncSession, decision: ParsedDecision, *, user_id: int, chat_id: int,
                           file_name: str, file_hash: str, decision_json: str | None = None) -> int:
    """Keep what an admin previewed, as parsed (``decision_json``: its ``to_json()`` when already made), for the
    Publish button (any replica, after a restart too)."""
    now = datetime.now(UTC)
    # Previews nobody acted on are dropped after a while: each holds its whole decision.
    await session.execute(delete(PendingPublish).where(PendingPublish.created_at < now - HELD_FOR))
    pending = PendingPublish(user_id=user_id, chat_id=chat_id, file_name=file_name, file_hash=file_hash,
                             content_hash=decision.content_hash(), parsed=decision_json or decision.to_json(),
                             created_at=now)
    session.add(pending)
    await session.flush()
    return pending.id


async def take_held(session: AsyncSession, pending_id: int) -> PendingPublish | None:
    """The held preview, removed so that two taps cannot publish twice."""
    pending = await session.get(PendingPublish, pending_id, with_for_update=True)
    if pending is not None:
        await session.delete(pending)
    return pending


async def store_and_publish(session: AsyncSession, decision: ParsedDecision, *, actor: str,
                            file_hash: str | None = None) -> PublishOutcome | None:
    """Store and publish in the caller's transaction; None when another content holds the same number."""
    stored = await store_decision(session, decision, actor=actor, file_hash=file_hash)
    if stored.status is IngestStatus.CONFLICT:
        return None
    return await publish(session, stored.decision_id, actor=actor)
