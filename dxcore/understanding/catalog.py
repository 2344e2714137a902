"""The store's read model: the results snapshot and the resolver (units, curated aliases in data/aliases.toml,
learned picks), rebuilt when the store changes.

A pick counts for the chat that made it at once, and for everyone once three different users in at least two
different chats agree (one user, or one group, cannot teach everyone alone). The catalog
checks a cheap signature of the store at most every few seconds, so every process — several bot replicas included
— sees what any of them stored.
"""

from __future__ import annotations

import time
import tomllib
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.answering.queries import Snapshot, load_snapshot
from dxcore.paths import data_dir
from dxcore.store.db import Database
from dxcore.store.models import Alias, Decision, Unit
from dxcore.understanding.resolver import Resolver, UnitRef
from dxcore.understanding.text import name_key
from dxcore.understanding.vocabulary import Vocabulary

LEARNED_QUORUM = 3  # different users who must pick the same unit before a learned alias serves everyone
LEARNED_CHATS = 2  # … in at least this many different chats


def _curated(units: list[Unit], resolver_for_keys: Resolver) -> dict[str, int]:
    path = data_dir() / "aliases.toml"
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        entries = tomllib.load(fh).get("alias", [])
    by_name = {(u.issuer, u.level, u.name_key): u.id for u in units}
    aliases = {}
    for entry in entries:
        unit_id = by_name.get((entry["issuer"], entry["level"], name_key(entry["unit"])))
        if unit_id is not None:  # an alias of a unit not stored (yet) waits for its decision
            aliases[resolver_for_keys.alias_key(entry["text"])] = unit_id
    return aliases


async def load_resolver(session: AsyncSession, vocabulary: Vocabulary | None = None) -> Resolver:
    units = list(await session.scalars(select(Unit).order_by(Unit.id)))
    resolver = Resolver([UnitRef(u.id, u.name, u.level, u.issuer) for u in units], vocabulary)
    aliases = _curated(units, resolver)
    chat_aliases: dict[tuple[int, str], int] = {}
    users: dict[tuple[str, int], set[int]] = defaultdict(set)
    chats: dict[tuple[str, int], set[int]] = defaultdict(set)
    for key, unit_id, source, chat_id, user_id in await session.execute(
        select(Alias.text_key, Alias.unit_id, Alias.source, Alias.chat_id, Alias.user_id)
        .order_by(Alias.created_at, Alias.id)
    ):
        if source == "curated":
            aliases[key] = unit_id
            continue
        if chat_id is not None:
            chat_aliases[(chat_id, key)] = unit_id  # the chat's latest pick wins
            chats[(key, unit_id)].add(chat_id)
        if user_id is not None:
            users[(key, unit_id)].add(user_id)
    for (key, unit_id), voters in users.items():
        if len(voters) >= LEARNED_QUORUM and len(chats[(key, unit_id)]) >= LEARNED_CHATS:
            aliases.setdefault(key, unit_id)
    resolver.aliases.update(aliases)
    resolver.chat_aliases.update(chat_aliases)
    return resolver


async def record_pick(session: AsyncSession, alias_key: str, unit_id: int, *, chat_id: int, user_id: int) -> None:
    """Remember that a user, asked to choose, meant this unit by this text (in the caller's transaction). One row
    per (text, unit, user): picking again, here or in another chat, moves the pick there and adds no weight. The
    row is written anew rather than updated, so every replica's catalog sees the change (its id is new)."""
    await session.execute(delete(Alias).where(Alias.text_key == alias_key, Alias.unit_id == unit_id,
                                              Alias.user_id == user_id))
    session.add(Alias(text_key=alias_key, unit_id=unit_id, source="learned", chat_id=chat_id, user_id=user_id,
                      created_at=datetime.now(UTC)))
    await session.flush()


async def _signature(session: AsyncSession) -> tuple:
    """Changes whenever a decision is stored or replaced, a unit is added, or an alias is added or picked again."""
    decisions = (await session.execute(
        select(func.count(Decision.id), func.max(Decision.id), func.max(Decision.loaded_at),
               func.max(Decision.published_at))
    )).one()
    units = (await session.execute(select(func.count(Unit.id), func.max(Unit.id)))).one()
    aliases = (await session.execute(select(func.count(Alias.id), func.max(Alias.id)))).one()
    return tuple(decisions) + tuple(units) + tuple(aliases)


@dataclass(frozen=True)
class CatalogView:
    snapshot: Snapshot
    resolver: Resolver

    @cached_property
    def epoch(self) -> int:
        """16 bits that change when a decision is stored, replaced or removed: buttons offered from another
        catalog are outdated."""
        decisions = sorted({(r.decision.id, r.decision.loaded_at.isoformat()) for r in self.snapshot.rankings})
        return zlib.crc32(repr(decisions).encode()) & 0xFFFF


class Catalog:
    """One read model per process, rebuilt when the store's signature changes."""

    def __init__(self, vocabulary: Vocabulary | None = None, check_every: float = 3.0) -> None:
        self.vocabulary = vocabulary
        self.check_every = check_every
        self._view: CatalogView | None = None
        self._signature: tuple | None = None
        self._checked = 0.0

    async def current(self, db: Database) -> CatalogView:
        """The view, opening a session only when the store's signature is due for a check."""
        if self._view is not None and time.monotonic() - self._checked < self.check_every:
            return self._view
        async with db.session() as session:
            return await self.get(session)

    async def get(self, session: AsyncSession) -> CatalogView:
        now = time.monotonic()
        if self._view is None or now - self._checked >= self.check_every:
            self._checked = now
            signature = await _signature(session)
            if signature != self._signature or self._view is None:
                self._view = CatalogView(await load_snapshot(session), await load_resolver(session, self.vocabulary))
                self._signature = signature
        return self._view

    def invalidate(self) -> None:
        self._view = None

