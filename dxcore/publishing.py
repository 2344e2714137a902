"""Publishing: a stored decision becomes public once, ever, and every chat that follows any of it gets one alert
enqueued in the same transaction (the outbox; dxcore.delivery sends them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.models import Audit, Chat, Decision, Delivery, Ranking, Result, Subscription
from dxcore.subscriptions import ALL, LEVEL, UNIT


@dataclass(frozen=True)
class PublishOutcome:
    decision_id: int
    published: bool  # False: it had been published before, and nothing was sent again
    alerts: int


async def audience(session: AsyncSession, decision_id: int) -> set[tuple[int, int]]:
    """(chat, topic) pairs that follow anything in the decision: every decision, one of its levels or units."""
    levels = set(await session.scalars(select(Ranking.level).where(Ranking.decision_id == decision_id)))
    units = set(await session.scalars(
        select(Result.unit_id).join(Ranking, Result.ranking_id == Ranking.id).where(Ranking.decision_id == decision_id)
    ))
    rows = await session.execute(
        select(Subscription.chat_id, Subscription.thread_id, Subscription.scope, Subscription.level,
               Subscription.unit_id)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(Chat.active.is_(True))
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
    return PublishOutcome(decision_id, True, len(targets))
