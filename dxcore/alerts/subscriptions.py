"""Chats and what they follow: every new decision, a level, or a unit; per forum topic; optionally silent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.store.models import Alias, Chat, Delivery, Subscription
from dxcore.understanding.intents import LEVEL_WORDS, command_level
from dxcore.understanding.resolver import AMBIGUOUS, FOUND, Candidate, Resolver
from dxcore.understanding.text import fold

ALL, LEVEL, UNIT = "all", "level", "unit"
LOCAL = "local"  # the kind of the CLI shell's chat: it may follow things, but alerts never go there


@dataclass(frozen=True)
class Target:
    scope: str
    level: str = ""
    unit_id: int = 0


async def ensure_chat(session: AsyncSession, chat_id: int, chat_type: str, title: str | None = None,
                      now: datetime | None = None, language: str | None = None) -> Chat:
    """The chat's row, created or brought up to date; a chat that talks to the bot is active again. ``language``
    (of whoever subscribes) is the language its alerts are written in."""
    now = now or datetime.now(UTC)
    chat = await session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(id=chat_id, type=chat_type, title=title, active=True, updated_at=now, language=language or "vi")
        session.add(chat)
    else:
        chat.type, chat.title, chat.active, chat.updated_at = chat_type, title or chat.title, True, now
        chat.language = language or chat.language
    await session.flush()
    return chat


async def subscribe(session: AsyncSession, chat_id: int, target: Target, *, thread_id: int = 0, silent: bool = False,
                    user_id: int | None = None, now: datetime | None = None) -> bool:
    """Add a subscription; False when the chat (topic) already had it (its silent flag is updated)."""
    existing = await session.scalar(select(Subscription).where(
        Subscription.chat_id == chat_id, Subscription.thread_id == thread_id, Subscription.scope == target.scope,
        Subscription.level == target.level, Subscription.unit_id == target.unit_id,
    ))
    if existing is not None:
        existing.silent = silent
        return False
    session.add(Subscription(chat_id=chat_id, thread_id=thread_id, scope=target.scope, level=target.level,
                             unit_id=target.unit_id, silent=silent, created_by=user_id,
                             created_at=now or datetime.now(UTC)))
    await session.flush()
    return True


async def unsubscribe(session: AsyncSession, chat_id: int, target: Target | None, *, thread_id: int = 0) -> int:
    """Remove one subscription, or all of the chat (topic) with ``target=None``; returns how many went."""
    query = delete(Subscription).where(Subscription.chat_id == chat_id, Subscription.thread_id == thread_id)
    if target is not None:
        query = query.where(Subscription.scope == target.scope, Subscription.level == target.level,
                            Subscription.unit_id == target.unit_id)
    return (await session.execute(query)).rowcount or 0


async def subscriptions_of(session: AsyncSession, chat_id: int, thread_id: int = 0) -> list[Subscription]:
    query = select(Subscription).where(Subscription.chat_id == chat_id, Subscription.thread_id == thread_id)
    return list(await session.scalars(query.order_by(Subscription.id)))


async def set_active(session: AsyncSession, chat_id: int, active: bool, now: datetime | None = None) -> None:
    """A chat that blocked or removed the bot gets nothing more until it talks to the bot again."""
    await session.execute(update(Chat).where(Chat.id == chat_id).values(active=active,
                                                                       updated_at=now or datetime.now(UTC)))


async def migrate_chat(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group upgraded to a supergroup gets a new id: its subscriptions, pending alerts and taught aliases move."""
    old = await session.get(Chat, old_chat_id)
    if old is not None and await session.get(Chat, new_chat_id) is None:
        session.add(Chat(id=new_chat_id, type="supergroup", title=old.title, active=True, updated_at=datetime.now(UTC),
                         language=old.language))
        await session.flush()
    # Merged, not just moved: the supergroup may already follow the same thing or await the same alert (someone
    # subscribed it too), and one alert per chat and decision is the rule.
    followed = {(s.thread_id, s.scope, s.level, s.unit_id) for s in await session.scalars(
        select(Subscription).where(Subscription.chat_id == new_chat_id))}
    for sub in list(await session.scalars(select(Subscription).where(Subscription.chat_id == old_chat_id))):
        if (sub.thread_id, sub.scope, sub.level, sub.unit_id) in followed:
            await session.delete(sub)
        else:
            sub.chat_id = new_chat_id
    awaited = {(d.decision_id, d.thread_id) for d in await session.scalars(
        select(Delivery).where(Delivery.chat_id == new_chat_id))}
    for alert in list(await session.scalars(select(Delivery).where(Delivery.chat_id == old_chat_id,
                                                                   Delivery.status == "pending"))):
        if (alert.decision_id, alert.thread_id) in awaited:
            await session.delete(alert)
        else:
            alert.chat_id = new_chat_id
    await session.flush()
    await session.execute(update(Alias).where(Alias.chat_id == old_chat_id).values(chat_id=new_chat_id))
    if old is not None:
        old.active, old.migrated_to = False, new_chat_id


@dataclass(frozen=True)
class TargetChoice:
    """What "/dangky …" names: a target, or units to choose from (ambiguous), or nothing (not found)."""

    target: Target | None
    candidates: tuple[Candidate, ...] = ()
    silent: bool = False


_SILENT_WORDS = ("im lang", "imlang", "silent", "khong chuong", "tat tieng")


def parse_target(text: str, resolver: Resolver, levels: set[str]) -> TargetChoice:
    """"tatca", "cap so", "cấp huyện", a unit's name; "im lặng" anywhere asks for silent alerts."""
    folded = " ".join(fold(text).replace("-", " ").split())
    silent = any(word in folded for word in _SILENT_WORDS)
    for word in _SILENT_WORDS:
        folded = folded.replace(word, " ").strip()
    if folded in {"tatca", "tat ca", "all", "toan bo", "het"}:
        return TargetChoice(Target(ALL), silent=silent)
    if folded.startswith("cap ") or folded in LEVEL_WORDS:  # "cấp sở", "huyen", "districts"
        level = command_level(folded)
        if level in levels or level in {"so", "huyen", "xa"}:
            return TargetChoice(Target(LEVEL, level=level), silent=silent)
    resolution = resolver.resolve(folded)
    if resolution.status == FOUND:
        return TargetChoice(Target(UNIT, unit_id=resolution.unit.id), silent=silent)
    if resolution.status == AMBIGUOUS:
        return TargetChoice(None, resolution.candidates, silent)
    return TargetChoice(None, (), silent)


async def remove_by_id(session: AsyncSession, chat_id: int, subscription_id: int) -> int:
    """A remove button: only a subscription of the chat where the button was tapped."""
    query = delete(Subscription).where(Subscription.id == subscription_id, Subscription.chat_id == chat_id)
    return (await session.execute(query)).rowcount or 0
