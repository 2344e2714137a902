"""The store's read model: the results snapshot and the resolver (units, curated aliases in data/aliases.toml,
learned picks), kept current as the store changes, without ever holding the event loop for long.

A pick counts for the chat that made it at once, and for everyone once three different users in at least two
different chats agree (one user, or one group, cannot teach everyone alone). The catalog checks a cheap signature
of the store at most every few seconds, so every process — several bot replicas included — sees what any of them
stored. The signature has two parts: aliases alone changed (someone picked) → the new rows are applied to the index
in place; decisions or units changed → a new snapshot and index are built in steps that give the loop a turn every
few milliseconds (10,000 units take about a second in all), the old view answering meanwhile, and swapped in at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
import tomllib
import zlib
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.answering.queries import Snapshot, load_snapshot
from dxcore.observability import metrics
from dxcore.observability.logs import FAILURES
from dxcore.paths import data_dir
from dxcore.steps import paced, run_all
from dxcore.store.db import Database
from dxcore.store.models import Alias, Decision, Unit
from dxcore.understanding.resolver import Resolver, UnitRef
from dxcore.understanding.vocabulary import Vocabulary, unit_key

log = logging.getLogger(__name__)

LEARNED_QUORUM = 3  # different users who must pick the same unit before a learned alias serves everyone
LEARNED_CHATS = 2  # … in at least this many different chats
_PARTITION = 500  # rows read per step


class _StoredUnit(NamedTuple):
    id: int
    name: str
    level: str
    issuer: str
    name_key: str


def _curated(units: Iterable[_StoredUnit], resolver_for_keys: Resolver) -> dict[str, int]:
    path = data_dir() / "aliases.toml"
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        entries = tomllib.load(fh).get("alias", [])
    by_name = {(u.issuer, u.level, u.name_key): u.id for u in units}
    aliases = {}
    for entry in entries:
        unit_id = by_name.get((entry["issuer"], entry["level"], unit_key(entry["unit"])))
        if unit_id is not None:  # an alias of a unit not stored (yet) waits for its decision
            aliases[resolver_for_keys.alias_key(entry["text"])] = unit_id
    return aliases


@dataclass(frozen=True)
class AliasRow:
    """One stored alias row, as the catalog applies it."""

    id: int
    text_key: str
    unit_id: int
    source: str
    chat_id: int | None
    user_id: int | None
    created_at: datetime

    @property
    def order(self) -> tuple[datetime, int]:
        """Where the row stands in (created_at, id) order, the order a full read applies rows in. SQLite gives
        back naive UTC, PostgreSQL aware times: compared as naive UTC."""
        at = self.created_at
        return (at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at), self.id

    @property
    def identity(self) -> object:
        """At most one row per (text, unit, user) is stored (a pick again replaces it); rows without a user are
        each their own."""
        return (self.unit_id, self.user_id) if self.user_id is not None else ("row", self.id)


_ALIAS_COLUMNS = (Alias.id, Alias.text_key, Alias.unit_id, Alias.source, Alias.chat_id, Alias.user_id,
                  Alias.created_at)


class _AliasBook:
    """Every stored alias row by text key, and what the rows make of each key: ``aliases`` (everyone's) and
    ``chat_aliases`` (one chat's), the very dicts the resolver reads, changed one key at a time.

    What a key resolves to depends only on its own rows (and on aliases.toml), so re-deriving the keys whose rows
    changed gives exactly what a full read of every row gives."""

    def __init__(self, curated: dict[str, int]) -> None:
        self.curated = curated
        self.rows: dict[str, dict[object, AliasRow]] = {}
        self.count = 0
        self.last_id = 0  # the highest id and time read from the store (a row picked again on SQLite may keep
        self.last_at: Any = None  # its id: its time is newer), as the store gives them back
        self.aliases: dict[str, int] = dict(curated)
        self.chat_aliases: dict[tuple[int, str], int] = {}
        self._chats: dict[str, tuple[int, ...]] = {}  # key → the chats with a chat alias for it

    def add(self, row: AliasRow, *, read: bool = True) -> bool:
        """Take a row (``read``: as read from the store; else as just written by this process). False when this
        user's newer pick of the same unit and text is already here (a read that began before it was written)."""
        if read:
            self.last_id = max(self.last_id, row.id)
            if self.last_at is None or row.created_at > self.last_at:
                self.last_at = row.created_at
        rows = self.rows.setdefault(row.text_key, {})
        held = rows.get(row.identity)
        if held is not None and held.order > row.order:
            return False
        self.count += held is None
        rows[row.identity] = row
        return True

    def derive(self, key: str) -> None:
        """The key's aliases from its rows in (created_at, id) order: curated rows (and aliases.toml) win; a chat's
        latest pick counts for that chat; a unit picked by LEARNED_QUORUM users in LEARNED_CHATS chats counts for
        everyone (the one whose first pick came first, when several qualify)."""
        alias = self.curated.get(key)
        by_chat: dict[int, int] = {}
        users: dict[int, set[int]] = {}
        chats: dict[int, set[int]] = {}
        for row in sorted(self.rows.get(key, {}).values(), key=lambda r: r.order):
            if row.source == "curated":
                alias = row.unit_id
                continue
            if row.chat_id is not None:
                by_chat[row.chat_id] = row.unit_id  # the chat's latest pick wins
                chats.setdefault(row.unit_id, set()).add(row.chat_id)
            if row.user_id is not None:
                users.setdefault(row.unit_id, set()).add(row.user_id)
        if alias is None:
            alias = next((unit for unit, voters in users.items()
                          if len(voters) >= LEARNED_QUORUM and len(chats.get(unit, ())) >= LEARNED_CHATS), None)
        for chat in self._chats.pop(key, ()):
            del self.chat_aliases[(chat, key)]
        for chat, unit in by_chat.items():
            self.chat_aliases[(chat, key)] = unit
        if by_chat:
            self._chats[key] = tuple(by_chat)
        if alias is None:
            self.aliases.pop(key, None)
        else:
            self.aliases[key] = alias

    def fill(self, rows: Iterable[AliasRow]) -> Generator[None, None, None]:
        """Take every row and derive every key, in steps."""
        for i, row in enumerate(rows):
            self.add(row)
            if i % _PARTITION == _PARTITION - 1:
                yield
        for i, key in enumerate(list(self.rows)):
            self.derive(key)
            if i % 100 == 99:
                yield

    def attach(self, resolver: Resolver) -> None:
        resolver.aliases, resolver.chat_aliases = self.aliases, self.chat_aliases


async def _units(session: AsyncSession) -> list[_StoredUnit]:
    units = []
    stored = await session.stream(select(Unit.id, Unit.name, Unit.level, Unit.issuer, Unit.name_key).order_by(Unit.id))
    async for part in stored.partitions(_PARTITION):
        units.extend(_StoredUnit(*row) for row in part)
    return units


async def _alias_rows(session: AsyncSession, after: _AliasBook | None = None) -> list[AliasRow]:
    """Every alias row, or those newer than the book has read."""
    query = select(*_ALIAS_COLUMNS)
    if after is not None and after.last_at is not None:
        query = query.where(or_(Alias.id > after.last_id, Alias.created_at > after.last_at))
    rows = []
    async for part in (await session.stream(query.order_by(Alias.id))).partitions(_PARTITION):
        rows.extend(AliasRow(*row) for row in part)
    return rows


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector away from a view being built, and from the one built.

    A full collection walks every tracked object: about 65 ms with a 10,000-unit view, and building one allocates
    enough to set off one or two. A view holds no reference cycles and lives until the next rebuild, so once built
    it is moved out of the collector's sight (gc.freeze: freed by reference counting when replaced, never walked
    again), and the collector waits while it is built. The price: cyclic garbage the process makes during a
    rebuild (about a second) is frozen with it and never freed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


async def load_resolver(session: AsyncSession, vocabulary: Vocabulary | None = None) -> Resolver:
    """The resolver with every alias, read and built at once (the catalog builds the same in steps)."""
    units = await _units(session)
    resolver = Resolver([UnitRef(u.id, u.name, u.level, u.issuer) for u in units], vocabulary)
    book = _AliasBook(_curated(units, resolver))
    run_all(book.fill(await _alias_rows(session)))
    book.attach(resolver)
    return resolver


async def record_pick(session: AsyncSession, alias_key: str, unit_id: int, *, chat_id: int,
                      user_id: int) -> AliasRow:
    """Remember that a user, asked to choose, meant this unit by this text (in the caller's transaction). One row
    per (text, unit, user): picking again, here or in another chat, moves the pick there and adds no weight. The
    row is written anew rather than updated, so every replica's catalog sees the change (its id or time is new).
    Returns the row, for ``Catalog.learned`` once the transaction is committed."""
    await session.execute(delete(Alias).where(Alias.text_key == alias_key, Alias.unit_id == unit_id,
                                              Alias.user_id == user_id))
    alias = Alias(text_key=alias_key, unit_id=unit_id, source="learned", chat_id=chat_id, user_id=user_id,
                  created_at=datetime.now(UTC))
    session.add(alias)
    await session.flush()
    return AliasRow(alias.id, alias_key, unit_id, "learned", chat_id, user_id, alias.created_at)


class _Signature(NamedTuple):
    store: tuple  # decisions and units: a change needs a new snapshot and index
    aliases: tuple  # alias rows only: applied in place


async def _signature(session: AsyncSession) -> _Signature:
    """Changes whenever a decision is stored or replaced, a unit is added, or an alias is added or picked again."""
    decisions = (await session.execute(
        select(func.count(Decision.id), func.max(Decision.id), func.max(Decision.loaded_at),
               func.max(Decision.published_at))
    )).one()
    units = (await session.execute(select(func.count(Unit.id), func.max(Unit.id)))).one()
    aliases = (await session.execute(
        select(func.count(Alias.id), func.max(Alias.id), func.max(Alias.created_at))
    )).one()
    return _Signature(tuple(decisions) + tuple(units), tuple(aliases))


@dataclass(frozen=True)
class CatalogView:
    snapshot: Snapshot
    resolver: Resolver

    @cached_property
    def unstored(self) -> tuple[list[tuple[str, str, str]], Resolver]:
        """Units the lineage files name of which no decision is stored (a merged unit, in a store holding only
        later decisions; a new unit before its first ranking): (issuer, level, name) each, and a resolver over
        them whose unit ids are -1, -2, … in that order. Built when first asked: most views never need it."""
        named = self.snapshot.lineage.unstored()
        units = [UnitRef(-i, name, level, issuer) for i, (issuer, level, name) in enumerate(named, start=1)]
        return named, Resolver(units, self.resolver.vocabulary)

    @cached_property
    def epoch(self) -> int:
        """16 bits that change when a decision is stored, replaced or removed: buttons offered from another
        catalog are outdated."""
        decisions = sorted({(r.decision.id, r.decision.loaded_at.isoformat()) for r in self.snapshot.rankings})
        return zlib.crc32(repr(decisions).encode()) & 0xFFFF


Opener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class Catalog:
    """One read model per process. Callers get the current view at once; a store change found by the periodic
    check is applied in the background (aliases in place, anything else as a new view built in steps and swapped
    in), while the old view keeps answering. Only one refresh runs at a time.

    ``check_every=0`` (tests, one-shot commands) means never stale: every call waits for a check of the store."""

    def __init__(self, vocabulary: Vocabulary | None = None, check_every: float = 3.0) -> None:
        self.vocabulary = vocabulary
        self.check_every = check_every
        self._view: CatalogView | None = None
        self._book: _AliasBook | None = None
        self._signature: _Signature | None = None
        self._checked = -math.inf
        self._task: asyncio.Task | None = None
        self._begun = 0  # refreshes begun, numbered from 1 …
        self._served = 0  # … the latest of them that finished …
        self._owed = 0  # … and the one every caller waits for (invalidate)
        self._full = False  # the next refresh rereads everything
        self._learned: list[AliasRow] = []  # picks taken while a refresh runs: taken again by what it builds
        self.generation = 0  # changes whenever what the view answers may change (anything remembering answers asks)

    async def current(self, db: Database) -> CatalogView:
        """The view; starts a background check when one is due. Waits only when there is no view yet, when a
        caller asked for the store's changes to be read (``invalidate``), or with ``check_every=0``."""
        if self.check_every <= 0:
            return await self._refreshed(db.session, self._begun + 1)
        if self._view is None or self._served < self._owed:
            return await self._refreshed(db.session, self._owed)
        if time.monotonic() - self._checked >= self.check_every and self._task is None:
            self._start(db.session)
        return self._view

    async def get(self, session: AsyncSession) -> CatalogView:
        """The view, read through the caller's session when it must be read now."""
        if self._view is not None and self._served >= self._owed and self.check_every > 0:
            return self._view

        @asynccontextmanager
        async def borrowed() -> AsyncIterator[AsyncSession]:
            yield session

        return await self._refreshed(borrowed, self._begun + 1 if self.check_every <= 0 else self._owed)

    def invalidate(self) -> None:
        """The store changed, possibly in a way the signature does not show (a chat's aliases moved to its new id):
        the next call reads everything again and waits for it (built in steps: the loop stays free). Prefer
        ``await changed(db)``, which waits in the caller that made the change."""
        self._owed = self._begun + 1
        self._full = True

    async def changed(self, db: Database) -> CatalogView:
        """The store changed (a decision stored or published, a chat migrated): read it all again now, built in
        steps while other callers keep getting the old view, and return the new view once it is swapped in."""
        self._full = True
        return await self._refreshed(db.session, self._begun + 1)

    def learned(self, row: AliasRow) -> None:
        """A pick this process committed (``record_pick``'s row): applied to the index at once, exactly as a
        full read of the store would apply it. Other processes get it from their next check."""
        if self._task is not None:
            self._learned.append(row)
        if self._book is not None and self._book.add(row, read=False):
            self._book.derive(row.text_key)
            self.generation += 1

    async def close(self) -> None:
        """At shutdown: a refresh in the background is stopped (the store it reads is about to close)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # --- refreshing ---------------------------------------------------------------------------------------------

    def _start(self, session: Opener) -> asyncio.Task:
        self._task = asyncio.create_task(self._refresh(session))
        self._task.add_done_callback(self._finished)
        return self._task

    def _finished(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:  # a waiting caller got it too, if any
            FAILURES.report(log, "refreshing the catalog", task.exception())

    async def _refreshed(self, session: Opener, wanted: int) -> CatalogView:
        """The view once refresh number ``wanted`` (or a later one) has finished."""
        while self._view is None or self._served < wanted:
            task = self._task or self._start(session)
            await asyncio.shield(task)  # a caller that gives up does not stop the refresh others wait for
        return self._view

    async def _refresh(self, session: Opener) -> None:
        self._begun += 1
        number, full = self._begun, self._full
        self._full = False
        self._checked = time.monotonic()
        try:
            async with session() as s:
                signature = await _signature(s)
            old = self._signature  # read before the store is: a change in between is found by the next check
            if full or self._view is None or old is None or signature.store != old.store:
                with _collector_paused():
                    async with session() as s:
                        snapshot, units, rows = await load_snapshot(s), await _units(s), await _alias_rows(s)
                    await self._rebuild(snapshot, units, rows)
            elif signature.aliases != old.aliases:
                async with session() as s:
                    new = await _alias_rows(s, after=self._book)
                book = self._book
                for row in new:
                    if book.add(row):
                        book.derive(row.text_key)
                        self.generation += 1
                if book.count != signature.aliases[0]:  # rows went (a unit's removal, a row written out of id order)
                    async with session() as s:
                        rows = await _alias_rows(s)
                    await self._reread_aliases(rows)
            self._signature = signature
            self._served = max(self._served, number)
        except BaseException:
            self._full = self._full or full  # still owed
            raise
        finally:
            self._task = None
            self._learned.clear()

    async def _rebuild(self, snapshot: Snapshot, units: list[_StoredUnit], rows: list[AliasRow]) -> None:
        resolver = await paced(Resolver.in_steps([UnitRef(u.id, u.name, u.level, u.issuer) for u in units],
                                                  self.vocabulary))
        book = _AliasBook(_curated(units, resolver))
        await paced(book.fill(rows))
        self._take_learned(book)
        book.attach(resolver)
        self._view, self._book = CatalogView(snapshot, resolver), book
        self.generation += 1
        metrics.CATALOG_UNITS.set(len(units))
        metrics.CATALOG_DECISIONS.set(len({ranking.decision.id for ranking in snapshot.rankings}))

    async def _reread_aliases(self, rows: list[AliasRow]) -> None:
        book = _AliasBook(self._book.curated)
        await paced(book.fill(rows))
        self._take_learned(book)
        book.attach(self._view.resolver)
        self._book = book
        self.generation += 1

    def _take_learned(self, book: _AliasBook) -> None:
        """Picks learned while the new book was read and built (already in it, or newer than what it read)."""
        for row in self._learned:
            if book.add(row, read=False):
                book.derive(row.text_key)
